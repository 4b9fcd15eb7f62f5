"""Child processes in their own process group, registered so that none outlives this one."""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import ctypes.util
import functools
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from tracehound.errors import MissingBinary, ServerFailed

#: An argument of a command line: text, a number or a path, each passed as ``str()``.
Arg = str | int | os.PathLike[str]

_PR_SET_PDEATHSIG = 1
_BIND_FAILURES = ("address already in use", "could not bind", "bind() to", "errno 98")

_live: dict[int, Process] = {}
_lock = threading.RLock()  # a signal handler may need it while the main thread holds it


def _libc_prctl() -> Callable[..., int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        prctl: Callable[..., int] = libc.prctl
        return prctl
    except (OSError, AttributeError):
        return None


_prctl = _libc_prctl() if sys.platform.startswith("linux") else None


def stop_all() -> None:
    """Kill every child this process started and has not stopped yet."""
    with _lock:
        procs = list(_live.values())
    for p in procs:
        p.stop(grace=1.0)


def _on_signal(signum: int, frame: object) -> None:
    # Children first, at once; then unwind like Ctrl-C so every `with` block cleans up and the
    # program stops (a SystemExit would only fail the current test under pytest). A second
    # signal gets the default action.
    stop_all()
    signal.signal(signum, signal.SIG_DFL)
    raise KeyboardInterrupt(f"signal {signum}")


@functools.cache  # once per process
def _stop_all_at_exit() -> None:
    atexit.register(stop_all)


def guard() -> None:
    """Make sure children die with us: at exit, and on SIGTERM/SIGHUP when nothing else handles them.

    Idempotent; call it again after code that may have reset the signal handlers (an asyncio
    loop's ``remove_signal_handler`` restores the default).
    """
    _stop_all_at_exit()
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            if signal.getsignal(sig) in (signal.SIG_DFL, None):
                signal.signal(sig, _on_signal)
        except (ValueError, OSError):  # pragma: no cover - not in the main thread of the main interpreter
            pass


class Process:
    """A child process in its own process group, its output appended to a log file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[Arg],
        log: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        ids: tuple[int, int] | None = None,
        stop_signal: int = signal.SIGTERM,
        grace: float = 5.0,
    ) -> None:
        self.name = name
        self.grace = grace
        self.argv = [str(a) for a in argv]
        self.log = Path(log)
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.ids = ids
        self.stop_signal = stop_signal
        self.popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def start(self) -> Process:
        guard()
        self.log.parent.mkdir(parents=True, exist_ok=True)
        parent = os.getpid()
        ids = self.ids
        # The kernel's parent-death signal: for children of the main thread only.
        prctl = _prctl if threading.current_thread() is threading.main_thread() else None

        def child() -> None:
            if ids is not None:
                os.setgroups([])
                os.setgid(ids[1])
                os.setuid(ids[0])
            if prctl is not None:
                prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
                if os.getppid() != parent:
                    os._exit(1)

        with open(self.log, "ab") as out:
            try:
                self.popen = subprocess.Popen(
                    self.argv,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=self.env,
                    cwd=self.cwd,
                    process_group=0,
                    preexec_fn=child,  # noqa: PLW1509 - the parent-death signal is set in the child only
                    close_fds=True,
                )
            except FileNotFoundError:
                raise MissingBinary(f"{self.argv[0]} is not installed") from None
        with _lock:
            _live[self.popen.pid] = self
        return self

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, grace: float | None = None) -> None:
        """Signal the group, wait up to ``grace`` seconds, then kill whatever is left of it."""
        p = self.popen
        if p is None:
            return
        grace = self.grace if grace is None else grace
        try:
            if p.poll() is None:
                _killpg(p.pid, self.stop_signal)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    p.wait(grace)
            _killpg(p.pid, signal.SIGKILL)  # the leader may be gone while its workers are not
            p.wait(5)
        finally:
            with _lock:
                _live.pop(p.pid, None)

    def tail(self, lines: int = 25) -> str:
        try:
            with open(self.log, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 16384))
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def failed(self, what: str) -> ServerFailed:
        code = self.popen.returncode if self.popen is not None else None
        why = f"exited with status {code}" if code is not None else "still not ready"
        last = last_line(self.tail())
        detail = f"; see {self.log}, which ends: {last}" if last else f"; log: {self.log}"
        return ServerFailed(f"{self.name} {why} {what}{detail}")

    def bind_failed(self) -> bool:
        return not self.alive() and any(s in self.tail().lower() for s in _BIND_FAILURES)


def last_line(text: str) -> str:
    """The last line of a log tail that says something (one line, for a one-line error)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def first_line(text: str) -> str:
    """The first line of a text that says something."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[0] if lines else ""


def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
