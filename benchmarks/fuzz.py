"""Fuzz every parser of user input with 100,000 Hypothesis examples or more, and give the figures.

A script, not a test: the targets and their inputs are those of ``tests/test_fuzz.py``
(``tests/parser_fuzz``). Each parser runs in a child process of its own, in chunks of fresh
Hypothesis runs (so that Hypothesis' own memory stays flat), every example under a hard limit of
CPU time (SIGPROF; on a busy machine wall time says more of the machine than of the parser) and
of six times as much wall time, for a wait that burns no CPU. A failure is any exception other
than the parser's TracehoundError, or an example past a limit; failures are counted, not stopped
at, and the first of each kind is
shown with its input. Per parser it prints: examples run, failures, the slowest example and the
child's peak RSS.

    nice -n 19 .venv/bin/python benchmarks/fuzz.py                  # 100,000 per parser
    nice -n 19 .venv/bin/python benchmarks/fuzz.py --only har,flow --examples 5000 --jobs 2

Exit status 0 when no parser failed.
"""

from __future__ import annotations

import argparse
import multiprocessing
import pickle
import resource
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))

#: Examples per Hypothesis run: each run keeps what it generated until it ends (about 0.2 MB an example).
CHUNK = 2_000


class Hang(BaseException):
    """An example ran past the time limit (a BaseException: a parser's ``except Exception`` must not eat it)."""


#: Whether a limit fired during the current example (DuckDB turns the signal into "Query interrupted").
_FIRED = [False]


def _on_alarm(signum: int, frame: Any) -> None:
    _FIRED[0] = True
    raise Hang()


def _where(e: BaseException) -> str:
    """The innermost frame of tracehound's code in the traceback: where the parser broke."""
    frames = [f for f in traceback.extract_tb(e.__traceback__) if "/tracehound/" in f.filename]
    f = frames[-1] if frames else traceback.extract_tb(e.__traceback__)[-1]
    return f"{Path(f.filename).name}:{f.lineno}"


def _short(value: Any, limit: int = 240) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} chars)"


def fuzz(name: str, examples: int, limit_s: float, seed: int, save: Path | None = None,
         budget_s: float | None = None) -> dict[str, Any]:
    """Run one target in this process; its figures."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as seed_with
    from parser_fuzz.targets import BY_NAME

    target = BY_NAME[name]
    stats: dict[str, Any] = {"name": name, "examples": 0, "failures": 0, "kinds": {}, "slowest_s": 0.0,
                             "slowest": None, "slowest_wall_s": 0.0}
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGPROF, _on_alarm)
    work = Path(tempfile.mkdtemp(prefix=f"tracehound-fuzz-{name}-"))
    t0 = time.monotonic()

    def one(value: Any) -> None:
        stats["examples"] += 1
        start, cpu = time.perf_counter(), time.process_time()
        error: BaseException | None = None
        _FIRED[0] = False
        signal.setitimer(signal.ITIMER_PROF, limit_s)
        signal.setitimer(signal.ITIMER_REAL, 6 * limit_s)
        try:
            target.run(value, work)
        except target.allowed:
            pass
        except (Exception, Hang) as e:  # noqa: BLE001 - every other exception is a finding
            error = e
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
            signal.setitimer(signal.ITIMER_REAL, 0)
        took = time.process_time() - cpu  # CPU time: on a busy machine wall time is mostly waiting for a core
        stats["slowest_wall_s"] = max(stats["slowest_wall_s"], time.perf_counter() - start)
        if took > stats["slowest_s"]:
            stats["slowest_s"], stats["slowest"] = took, _short(value)
        if error is not None:
            stats["failures"] += 1
            kind = "hang" if _FIRED[0] else f"{type(error).__name__} at {_where(error)}"
            if kind not in stats["kinds"]:
                stats["kinds"][kind] = {"count": 0, "message": str(error)[:200], "example": _short(value)}
                if save is not None:
                    save.mkdir(parents=True, exist_ok=True)
                    (save / f"{name}-{len(stats['kinds'])}.pickle").write_bytes(pickle.dumps(value))
            stats["kinds"][kind]["count"] += 1

    runs = [*range(0, examples, CHUNK)]
    for i, start in enumerate(runs):
        if budget_s is not None and time.monotonic() - t0 > budget_s:
            stats["stopped"] = f"time budget of {budget_s:.0f} s spent"
            break
        n = min(CHUNK, examples - start)
        test = settings(max_examples=n, database=None, deadline=None, phases=[Phase.explicit, Phase.generate],
                        suppress_health_check=list(HealthCheck))(given(target.inputs)(one))
        seed_with(seed * 1000 + i)(test)()
        for ex in target.examples if i == 0 else ():
            one(ex)
        print(f"    {name}: {stats['examples']:,} examples, {stats['failures']} failures, "
              f"{time.monotonic() - t0:.0f} s", flush=True)
    stats["seconds"] = time.monotonic() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    stats["peak_rss_mb"] = usage.ru_maxrss / 1024
    stats["cpu_s"] = usage.ru_utime + usage.ru_stime
    return stats


def _child(args: tuple[str, int, float, int, Path | None, float | None]) -> dict[str, Any]:
    return fuzz(*args)


def main() -> int:
    sys.path.insert(0, str(ROOT / "tests"))
    from parser_fuzz.targets import TARGETS

    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--examples", type=int, default=100_000, help="examples per parser (default 100,000)")
    ap.add_argument("--only", help="comma-separated parser names: " + ", ".join(t.name for t in TARGETS))
    ap.add_argument("--jobs", type=int, default=1, help="parsers fuzzed at once (default 1)")
    ap.add_argument("--limit", type=float, default=10.0, help="CPU seconds an example may take (default 10)")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--save", type=Path, help="write the first failing input of each kind here (pickles)")
    ap.add_argument("--minutes", type=float, help="stop each parser after this long, examples run or not")
    a = ap.parse_args()
    names = a.only.split(",") if a.only else [t.name for t in TARGETS]
    jobs = [(n, a.examples, a.limit, a.seed, a.save, a.minutes * 60 if a.minutes else None) for n in names]
    print(f"fuzzing {len(names)} parsers, {a.examples:,} examples each, {a.jobs} at a time", flush=True)
    ctx = multiprocessing.get_context("fork")
    results: list[dict[str, Any]] = []
    with ctx.Pool(a.jobs, maxtasksperchild=1) as pool:
        for r in pool.imap_unordered(_child, jobs):
            results.append(r)
            print(f"  {r['name']:<18} {r['examples']:>8,} examples  {r['failures']:>5} failures  "
                  f"slowest {r['slowest_s'] * 1000:8.1f} ms CPU ({r['slowest_wall_s'] * 1000:.0f} ms wall)  "
                  f"peak RSS {r['peak_rss_mb']:6.0f} MB  "
                  f"{r['seconds']:7.0f} s {r['cpu_s']:6.0f} CPU s" + (f"  ({r['stopped']})" if "stopped" in r else ""),
                  flush=True)
            for kind, k in r["kinds"].items():
                print(f"      {k['count']} × {kind}: {k['message']}\n        e.g. {k['example']}", flush=True)
    print("\n| parser | examples | failures | slowest example (CPU) | peak RSS | CPU |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    order = {n: i for i, n in enumerate(names)}
    for r in sorted(results, key=lambda r: order[r["name"]]):
        print(f"| {r['name']} | {r['examples']:,} | {r['failures']} | {r['slowest_s'] * 1000:.0f} ms "
              f"| {r['peak_rss_mb']:.0f} MB | {r['cpu_s']:.0f} s |")
    return 1 if any(r["failures"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
