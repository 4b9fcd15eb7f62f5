"""The entry point of ``probe --engine locust``'s processes: ``python -m tracehound.locustfile master|worker …``.

Started by :mod:`tracehound.probe.distributed` or by ``tracehound locust-worker``; the work is done
in :mod:`tracehound.probe.locust`. Importing Locust monkey-patches the standard library with
gevent, so this module never enters a process that runs asyncio, and it imports Locust first,
before anything that imports ``ssl`` (``tracehound.probe`` does): that is why it lives outside
:mod:`tracehound.probe`.
"""

from __future__ import annotations

import sys

try:
    # isort: off
    import locust  # noqa: F401 - imported first: it monkey-patches the standard library with gevent

    # The other modules tracehound.probe.locust needs: any of them missing is the same one error line.
    import gevent.event  # noqa: F401 - see above
    import gevent.pool  # noqa: F401 - see above
    import locust.env  # noqa: F401 - see above
    import locust.exception  # noqa: F401 - see above
    import locust.runners  # noqa: F401 - see above
    # isort: on
except ImportError as _e:  # pragma: no cover - exercised through a subprocess
    import json as _json

    print(_json.dumps({"event": "error", "kind": "missing",
                       "line": f"the locust engine needs Locust, which cannot be imported ({_e})"}), flush=True)
    raise SystemExit(3) from None

from tracehound.probe.locust.main import main, worker_main  # noqa: E402 - Locust must patch the standard library first
from tracehound.probe.locust.master import master_main  # noqa: E402 - see above

__all__ = ["main", "master_main", "worker_main"]

if __name__ == "__main__":
    sys.exit(main())
