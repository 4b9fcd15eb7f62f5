import httpx


class UpstreamClient:
    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=5)

    def fetch(self, path: str) -> dict:
        return self.http.get(path).json()
