"""Worker settings as on the production hosts, where each worker runs in a container with a memory
limit (cgroup memory.max). The limit is enforced here the way the kernel does it there."""

from __future__ import annotations

import os
import signal
import threading
import time

LIMIT_MB = float(os.environ.get("WORKER_MEMORY_MB", "0"))


def _enforce(limit: float) -> None:
    page = os.sysconf("SC_PAGE_SIZE")
    while True:
        with open("/proc/self/statm") as f:
            resident = int(f.read().split()[1]) * page
        if resident > limit:
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(0.01)


def post_fork(server, worker):
    if LIMIT_MB > 0:
        threading.Thread(target=_enforce, args=(LIMIT_MB * 2**20,), daemon=True, name="cgroup").start()
