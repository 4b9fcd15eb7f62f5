"""Shared fixtures: real servers on 127.0.0.1, torn down after use."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from tracehound.demo import _wait_ready, free_port


@pytest.fixture(scope="module")
def demo_url():
    """The built-in demo service (uvicorn, a 4-slot pool that answers 503 when it runs dry)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tracehound.demo_service", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_ready(port, proc)
        yield f"http://127.0.0.1:{port}/orders"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
