"""A flow's virtual user on Locust: its variables, its iterations, whether setup still has to succeed."""

from __future__ import annotations

import time
from typing import Any

import gevent

from tracehound.flow import Flow, MissingVariable, Step
from tracehound.probe.locust.request import Sender, send
from tracehound.probe.locust.worker import W
from tracehound.probe.target import split_url


class FlowVU:
    """A virtual user's flow state: variables, iteration, whether setup still has to succeed."""

    def __init__(self, flow: Flow, vu: int) -> None:
        self.flow = flow
        self.id = vu
        self.env: dict[str, Any] = dict(flow.vars)
        self.env["vu"] = vu
        self.iteration = 0
        self.need_setup = True

    def iterate(self, user: Sender, seq: int | None, intended: int) -> bool:
        """One iteration (setup first if needed); False once a bound stopped it."""
        user.env = self.env
        self.env["iter"] = self.iteration
        if self.need_setup and self.flow.setup:
            ok = True
            for step in self.flow.setup:
                res = self.step(user, step, seq, intended)
                seq, intended = None, 0
                if res is None:
                    return False
                ok = ok and res
            self.need_setup = not ok
        for i, step in enumerate(self.flow.steps):
            pause = step.pause_for(self.id, self.iteration, i)
            if pause > 0:
                gevent.sleep(pause)
            res = self.step(user, step, seq, intended)
            seq, intended = None, 0
            if res is None:
                return False
        self.iteration += 1
        return True

    def step(self, user: Sender, step: Step, seq: int | None, intended: int) -> bool | None:
        """Run one step; True if it succeeded, False if it failed, None if a bound stopped it."""
        if seq is None:
            seq = W.admit()
            if seq is None:
                return None
        intended = intended or time.time_ns()
        self.env["seq"] = seq
        for cap in step.captures:
            self.env.pop(cap.var, None)
        base = W.spec["origin"] + W.spec["base_path"].rstrip("/")
        try:
            target, headers, body = step.render(self.env)
            url = target if step.absolute else base + target
            split_url(url)
        except MissingVariable as mv:
            now = time.time_ns()
            W.add(seq=seq, vu=self.id, step=step.name, method=step.method, url=base + step.target.text,
                  intended_ns=intended, start_ns=now, end_ns=now, status=0, kind="capture",
                  error=f"variable {{{mv.name}}} has no value: the step that captures it failed", conn=None)
            return False
        except Exception as exc:  # noqa: BLE001 - a URL or header that renders into something unusable
            now = time.time_ns()
            W.add(seq=seq, vu=self.id, step=step.name, method=step.method, url=base + "/", intended_ns=intended,
                  start_ns=now, end_ns=now, status=0, kind="other", error=f"step {step.name!r} cannot be sent: {exc}",
                  conn=None)
            return False
        status, _, _ = send(user, seq, self.id, intended, step, step.method, url, headers, body)
        return 0 < status < 400
