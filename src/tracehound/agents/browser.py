"""The browser agent: the page a person opens (``--browser PAGE``), loaded again and again in Chromium.

It sees what the prober cannot: which calls the page's code makes and how each one ended, what
the page then shows, whether its code says anything on the console, and the token the page keeps
and sends. Its observations become ``browser:`` signals; the loads' requests become a run folder
(``source=browser``) beside the investigation's runs. It never names a cause.

Strength, throughout: a share of what could have shown it (failing calls, failing loads), so one
odd call among many is weak and a pattern in every failing load is strong.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from tracehound.agents.base import AgentResult, Finding, RecordedRun
from tracehound.browser.page_load import BrowseResult, NetworkCall, PageLoad
from tracehound.case import Case
from tracehound.diagnosis.signals import Signal, register, signal
from tracehound.errors import TracehoundError

NAME = "browser"
#: Loads, the failing loads after which to stop, per-load timeout, pause between loads and the
#: whole session's time, all inside the orchestrator's agent timeout. A page that fails one load in
#: three shows no failure in 8 loads one time in 26, in 16 loads one time in 650; a failing page
#: stops at its second failed load, so only a healthy one spends all 16.
AGENT_TIMES, AGENT_STOP_AFTER, AGENT_TIMEOUT_S, AGENT_INTERVAL_S, AGENT_BUDGET_S = 16, 2, 8.0, 0.5, 40.0
SLOW_CALL_MS = 1000.0

#: Failing calls behind the page, by what answered them.
STATUS_GROUPS: dict[str, tuple[tuple[int, ...], str]] = {
    "browser:api_unauthorized": ((401, 403), "calls behind the page were refused as unauthorized (401/403)"),
    "browser:api_rate_limited": ((429,), "calls behind the page were rate-limited (429)"),
    "browser:api_server_error": ((500,), "calls behind the page failed with 500 Internal Server Error"),
    "browser:api_unavailable": ((502, 503), "calls behind the page got 502 Bad Gateway or 503 Service Unavailable"),
    "browser:api_gateway_timeout": ((504,), "calls behind the page got 504 Gateway Timeout"),
    "browser:api_network_error": ((0,), "calls behind the page got no HTTP answer (reset, refused, or still pending)"),
}
SIGNALS: dict[str, str] = {
    "browser:page_load_failed": "some loads of the page failed: an API call behind it failed, or it showed an error",
    **{name: desc for name, (_, desc) in STATUS_GROUPS.items()},
    "browser:token_expired":
        "a failing call carried a JWT (or the page kept one) whose exp had passed when it was used",
    "browser:token_near_expiry": "a failing call carried a JWT with only seconds of its lifetime left",
    "browser:token_short_lifetime": "the page's JWTs live less than two minutes from iat to exp",
    "browser:fresh_session_recovers":
        "loads with empty storage (a new session) work while loads with the page's stored state keep failing",
    "browser:ui_error_console_silent":
        "the page showed an error while its code wrote nothing to the console and threw nothing",
    "browser:page_errors": "the page's JavaScript threw uncaught errors",
    "browser:cors_blocked": "the browser blocked a call behind the page by its CORS policy",
    "browser:slow_api_calls": "calls behind the page took a second or more",
}
for _name, _desc in SIGNALS.items():
    register(_name, _desc, "browser")


async def browser_agent(case: Case | None, runs: Sequence[RecordedRun], out: str | Path | None = None) -> AgentResult:
    """Browse ``case.sources.browser`` in a worker thread and read the loads (see :func:`browser_findings`).

    The run folder goes to ``out``, else beside the investigation's runs (``…/runs/browser``),
    else to ``.tracehound/runs``. A page that cannot be loaded or is not HTML fails this agent
    alone, in one line; a missing Chromium skips it, naming the Debian package.
    """
    page = case.sources.browser if case is not None else None
    if not page:
        return AgentResult(NAME, "skipped", "no page given (--browser PAGE_URL)")
    from tracehound.browser import BrowserMissing, browse

    started = time.perf_counter()
    folder = Path(out) if out is not None else _beside(runs)
    try:
        result = await asyncio.to_thread(browse, page, AGENT_TIMES, None, folder, AGENT_TIMEOUT_S, AGENT_INTERVAL_S,
                                         False, AGENT_STOP_AFTER, None, AGENT_BUDGET_S)
    except BrowserMissing as e:
        return AgentResult(NAME, "skipped", e.line(), seconds=time.perf_counter() - started)
    except TracehoundError as e:
        return AgentResult(NAME, "failed", e.line(), seconds=time.perf_counter() - started)
    findings, tested, detail = browser_findings(result)
    return AgentResult(NAME, "ok", detail, findings, time.perf_counter() - started, tested)


def _beside(runs: Sequence[RecordedRun]) -> Path | None:
    for run in runs:
        path = run.path
        if Path(path).parent.is_dir():
            base = Path(path).parent / "browser"
            candidate, n = base, 1
            while candidate.exists():
                n += 1
                candidate = base.with_name(f"browser-{n}")
            return candidate
    return None


def browser_findings(result: BrowseResult) -> tuple[list[Finding], list[str], str]:
    """Findings, tested signal names and a one-line detail from a :class:`tracehound.browser.BrowseResult`."""
    loads = result.loads
    failed_loads = [ld for ld in loads if ld.failed]
    calls = [c for ld in loads for c in ld.calls if c.api or c.resource_type == "document"]
    failing = [c for c in calls if c.failed]
    api = [c for c in calls if c.api]
    findings: list[Finding] = []
    tested: list[str] = []
    if not loads:
        return findings, tested, "no load of the page completed"

    # The loads.
    tested.append("browser:page_load_failed")
    sigs: list[Signal] = []
    if failed_loads:
        share = len(failed_loads) / len(loads)
        sigs.append(signal("browser:page_load_failed", 0.6 + 0.4 * share,
                           f"{len(failed_loads)} of {len(loads)} loads failed", _load_lines(failed_loads), value=share))
    title = (f"{len(failed_loads)} of {len(loads)} loads of the page failed" if failed_loads
             else f"all {len(loads)} loads of the page went well")
    storage = "each with empty storage" if result.fresh else "storage kept from one load to the next"
    detail = (f"{result.url}: {len(loads)} loads ({storage}), "
              f"{len(api)} API calls, {sum(c.failed for c in api)} failed.")
    findings.append(Finding(title, detail, _load_lines(failed_loads or loads), sigs))

    # What answered the failing calls.
    if failing:
        tested.extend(STATUS_GROUPS)
        statuses = Counter(c.status for c in failing)
        sigs = []
        for name, (codes, _) in STATUS_GROUPS.items():
            hit = [c for c in failing if c.status in codes]
            if hit:
                share = len(hit) / len(failing)
                sigs.append(signal(name, share, f"{len(hit)} of {len(failing)} failing calls",
                                   [c.describe() for c in hit[:5]], value=share))
        by_endpoint = Counter(f"{c.method} {(c.path or c.url).split('?', 1)[0]}" for c in failing)
        listed = ", ".join(f"{s or 'no answer'}×{n}" for s, n in statuses.most_common())
        plural = "s" if len(failing) > 1 else ""
        findings.append(Finding(f"{len(failing)} failing call{plural} behind the page: {listed}",
                                "Endpoints: " + ", ".join(f"{e} ({n})" for e, n in by_endpoint.most_common(5)) + ".",
                                [c.describe() for c in failing[:5]], sigs))

    # Slow calls.
    timed = [c for c in api if c.total_ms is not None]
    if timed:
        tested.append("browser:slow_api_calls")
        slow = [c for c in timed if (c.total_ms or 0.0) >= SLOW_CALL_MS]
        if slow:
            share = len(slow) / len(timed)
            findings.append(Finding(f"{len(slow)} of {len(timed)} API calls took a second or more",
                                    "Slow calls, with their phases: " + "; ".join(_phases(c) for c in slow[:3]) + ".",
                                    [c.describe() for c in slow[:5]],
                                    [signal("browser:slow_api_calls", 0.4 + 0.6 * share,
                                            f"{len(slow)} of {len(timed)} API calls ≥ 1 s",
                                            [c.describe() for c in slow[:5]], value=share)]))

    findings.extend(_token_findings(loads, failed_loads, failing, tested))
    findings.extend(_front_end_findings(result, failed_loads, failing, tested))

    kept = [ld for ld in failed_loads + result.rechecks if ld.screenshot or ld.har]
    if kept:
        files = [str(p) for ld in kept for p in (ld.screenshot, ld.har) if p]
        findings.append(Finding(f"screenshots and HARs of {len(kept)} failing load{'s' if len(kept) > 1 else ''} kept",
                                "Inspect a HAR with `tracehound har FILE`.", files[:6]))
    line = (f"{len(loads)} loads of {result.url}, {len(failed_loads)} failed; {len(api)} API calls, "
            f"{sum(c.failed for c in api)} failed" + (f"; run {result.folder}" if result.folder else ""))
    return findings, sorted(set(tested)), line


def _token_findings(loads: list[PageLoad], failed_loads: list[PageLoad], failing: list[NetworkCall],
                    tested: list[str]) -> list[Finding]:
    sent = [(c, c.token) for c in failing if c.token is not None]
    stored = [t for ld in failed_loads for t in ld.tokens]
    everything = ([c.token for ld in loads for c in ld.calls if c.token is not None]
                  + [t for ld in loads for t in ld.tokens])
    out: list[Finding] = []
    if sent or stored:
        tested.extend(["browser:token_expired", "browser:token_near_expiry"])
    sigs: list[Signal] = []
    expired = [f"{c.describe()}: {t.describe()}" for c, t in sent if t.expired]
    if expired:
        share = len(expired) / len(sent)
        sigs.append(signal("browser:token_expired", 0.5 + 0.5 * share,
                           f"{len(expired)} of {len(sent)} failing calls that carried a JWT sent an expired one",
                           expired[:5], value=share))
    elif [t for t in stored if t.expired]:
        late = [t for t in stored if t.expired]
        sigs.append(signal("browser:token_expired", 0.6,
                           f"{len(late)} expired JWT(s) kept by the page at failing loads",
                           [t.describe() for t in late[:5]]))
    near = [f"{c.describe()}: {t.describe()}" for c, t in sent if t.near_expiry]
    if near:
        sigs.append(signal("browser:token_near_expiry", 0.6 * len(near) / len(sent) + 0.2,
                           f"{len(near)} failing call(s) carried a JWT about to expire", near[:5]))
    lives = [(t, t.lifetime_s) for t in everything if t.lifetime_s is not None]
    if lives:
        tested.append("browser:token_short_lifetime")
        short = [(t, life) for t, life in lives if t.short_lived]
        if short:
            shortest = min(life for _, life in short)
            sigs.append(signal("browser:token_short_lifetime", 0.8 if shortest < 60 else 0.5,
                               f"JWT lifetime (exp - iat) as short as {shortest:.0f} s", [short[0][0].describe()],
                               value=shortest))
    if sent or stored or lives:
        seen = sent[0][1].describe() if sent else (stored or everything)[0].describe()
        title = ("the page used an expired token when its calls failed" if expired
                 else "tokens the page keeps and sends")
        out.append(Finding(title, f"JWT time claims only (values redacted). For example: {seen}.",
                           [f"{c.describe()}: {t.describe()}" for c, t in sent[:5]]
                           or [t.describe() for t in stored[:5]], sigs))
    return out


def _front_end_findings(result: BrowseResult, failed_loads: list[PageLoad], failing: list[NetworkCall],
                        tested: list[str]) -> list[Finding]:
    out: list[Finding] = []
    loads = result.loads
    if result.rechecks:
        tested.append("browser:fresh_session_recovers")
        clean = [ld for ld in result.rechecks if ld.fresh]
        kept = [ld for ld in result.rechecks if not ld.fresh]
        lines = [f"load {ld.index + 1} ({'empty' if ld.fresh else 'kept'} storage): " + ("; ".join(ld.reasons) or "ok")
                 for ld in result.rechecks]
        if clean and kept and not any(ld.failed for ld in clean) and all(ld.failed for ld in kept):
            strength = min(0.9, 0.5 + 0.2 * min(len(clean), len(kept)))
            out.append(Finding("a new session fixes it: loads with empty storage work, loads with the stored state "
                               "fail",
                               f"After the kept-storage loads failed, {len(clean)} load(s) with empty storage went "
                               f"well and {len(kept)} with the stored state failed again.", lines,
                               [signal("browser:fresh_session_recovers", strength,
                                       f"{len(clean)} clean load(s) ok, {len(kept)} kept-storage load(s) failed",
                                       lines)]))
        else:
            out.append(Finding("the stored state does not decide it: empty and kept storage fare alike",
                               "Loads alternating empty and kept storage after the failures.", lines))
    if failed_loads:
        tested.append("browser:ui_error_console_silent")
        shown = [ld for ld in failed_loads if ld.ui_errors]
        silent = [ld for ld in shown if ld.console_silent]
        if silent:
            share = len(silent) / len(failed_loads)
            texts = list(dict.fromkeys(t for ld in silent for t in ld.ui_errors))
            browser_notes = sum(1 for ld in silent for e in ld.console if e.origin == "browser")
            out.append(Finding(f"the page shows {texts[0]!r} while its console stays silent",
                               f"In {len(silent)} of {len(failed_loads)} failing loads the page's code logged no error "
                               f"and threw nothing; only Chromium's own {browser_notes} network note(s) mention the "
                               "failure. The message says nothing of the status behind it.",
                               [f"load {ld.index + 1}: {ld.ui_errors[0]!r}; calls: "
                                + ", ".join(c.describe() for c in ld.failed_calls[:2]) for ld in silent[:5]],
                               [signal("browser:ui_error_console_silent", share,
                                       f"{len(silent)} of {len(failed_loads)} failing loads", value=share)]))
        elif shown:
            out.append(Finding(f"the page shows {shown[0].ui_errors[0]!r}", "Its console: " + "; ".join(
                e.text for ld in shown for e in ld.console if e.origin == "page")[:300]))
    tested.append("browser:page_errors")
    errs = [(ld, e) for ld in loads for e in ld.page_errors]
    if errs:
        out.append(Finding(f"{len(errs)} uncaught error(s) in the page's JavaScript", "",
                           [f"load {ld.index + 1}: {e}" for ld, e in errs[:5]],
                           [signal("browser:page_errors", 0.5 + 0.5 * len({ld.index for ld, _ in errs}) / len(loads))]))
    if failing:
        tested.append("browser:cors_blocked")
        cors = [(ld, e) for ld in loads for e in ld.console if e.cors]
        if cors:
            out.append(Finding("the browser blocked calls by CORS policy", "",
                               [f"load {ld.index + 1}: {e.text[:200]}" for ld, e in cors[:5]],
                               [signal("browser:cors_blocked", 0.9, f"{len(cors)} CORS message(s)")]))
    return out


def _load_lines(loads: list[PageLoad]) -> list[str]:
    return [f"load {ld.index + 1}: " + ("; ".join(ld.reasons) or f"ok in {ld.seconds:.1f} s") for ld in loads[:5]]


def _phases(c: NetworkCall) -> str:
    parts = ", ".join(f"{k} {v:.0f} ms" for k, v in c.phases.items() if v >= 1)
    return f"{c.method} {c.path} {c.total_ms:.0f} ms ({parts or 'no phase figures'})"


__all__ = ["NAME", "SIGNALS", "browser_agent", "browser_findings"]
