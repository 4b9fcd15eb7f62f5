"""The two processes of the locust engine: ``master`` (see :mod:`.master`) and ``worker``, and their command line."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
from typing import Any

import gevent
from locust import events
from locust.env import Environment

from tracehound.probe.locust.channel import watch_parent
from tracehound.probe.locust.master import master_main
from tracehound.probe.locust.users import ArrivalUser, FlowUser, TargetUser, configure_users
from tracehound.probe.locust.worker import W


def _on_spec(environment: Any, msg: Any, **_: Any) -> None:
    W.configure(msg.data["spec"], int(msg.data["index"]))
    configure_users(W.spec)
    W.configured.set()


def worker_main(master: str, parent: int | None) -> int:
    """A worker process: joins the master at ``master`` (HOST:PORT) and carries its share of the run."""
    host, _, port = master.rpartition(":")
    if parent:  # before connecting: the connection to a master that is gone is retried for minutes
        gevent.spawn(watch_parent, parent, lambda: os._exit(1))
    events.request.add_listener(W.on_request)  # type: ignore[no-untyped-call]  # Locust leaves it unannotated
    W.conns.install()
    env = Environment(user_classes=[TargetUser, FlowUser, ArrivalUser], events=events)
    runner = env.create_worker_runner(host.strip("[]"), int(port))
    W.runner = runner
    runner.register_message("th_spec", _on_spec)
    runner.register_message("th_go", W.on_go)
    runner.register_message("th_stop", W.on_stop)

    def abort() -> None:
        # Stopped by a signal here (not by the master): keep what was recorded, then go.
        W.stop(interrupted=True)
        if W.configured.is_set():
            W.finish()
            gevent.sleep(0.3)
        os._exit(1)

    for sig in (signal.SIGINT, signal.SIGTERM):
        gevent.signal_handler(sig, lambda: gevent.spawn(abort))
    runner.send_message("th_hello", {"pid": os.getpid(), "host": socket.gethostname()})
    gevent.spawn(_after_config)
    runner.greenlet.join()
    return 0


def _after_config() -> None:
    W.configured.wait()
    W.watch()


def main(argv: list[str] | None = None) -> int:
    """``python -m tracehound.locustfile master|worker …``; returns the exit status."""
    p = argparse.ArgumentParser(prog="python -m tracehound.locustfile")
    sub = p.add_subparsers(dest="role", required=True)
    mp = sub.add_parser("master")
    mp.add_argument("--bind", required=True)
    mp.add_argument("--expect", type=int, required=True)
    mp.add_argument("--parts", required=True)
    mp.add_argument("--wait", type=float, default=30.0)
    mp.add_argument("--parent", type=int)
    wp = sub.add_parser("worker")
    wp.add_argument("--master", required=True)
    wp.add_argument("--parent", type=int)
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if a.role == "master":
        return master_main(a.bind, a.expect, a.parts, a.wait, a.parent)
    return worker_main(a.master, a.parent)
