from pathlib import Path


class Storage:
    root = Path("/var/lib/orders")

    def load(self, name: str) -> str:
        with (self.root / name).open() as f:
            return f.read()
