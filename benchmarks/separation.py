"""Do `tracehound verify` and the generated regression tests tell every lab pair apart?

A script, not a test (it takes 15-30 minutes): for each faulty lab scenario it starts from a real
investigation of it, writes the regression test with ``gen-test``, then brings up the faulty
version and its fixed twin in turn and, against each, runs the generated test with pytest and
``verify`` in rerun mode (the experiments that reproduced the failure, sent again to the
instance's URL, held to the catalog's criteria for the top cause). A pair is separated when both
fail on the faulty version and both pass on the twin. Exit 0 when every pair is, 1 otherwise.
``--truth-slo`` holds both to the criteria of the planted cause instead, which separates what
verify and gen-test do from whether the diagnosis ranked the right cause first.

    .venv/bin/python benchmarks/diagnosis.py --no-twins --keep /tmp/diag   # investigations to start from
    .venv/bin/python benchmarks/separation.py --from /tmp/diag
    .venv/bin/python benchmarks/separation.py demo search_rate_limited     # investigates them first
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from tracehound import lab
from tracehound.errors import TracehoundError
from tracehound.gentest import write_test
from tracehound.lab import servers
from tracehound.report.model import REPORT_FILE
from tracehound.verify import Slo, TargetOverride, verify

sys.path.insert(0, str(Path(__file__).parent))
import diagnosis  # noqa: E402 - the same investigation the diagnosis benchmark runs


def request_parts(sc: lab.Scenario) -> tuple[list[str], str | None, str | None]:
    """What reports never keep and gen-test takes back: headers, and a body."""
    t = sc.target
    if t is None:
        return [], None, None
    headers = [f"{k}: {v}" for k, v in t.headers]
    body = json.dumps(t.json) if t.json is not None else None
    return headers, t.data, body


def _values(doc: object, found: dict[str, str]) -> None:
    """Every string value under ``doc``'s keys, by the name gen-test gives its variable."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            if isinstance(v, (str, int, float)) and not isinstance(v, bool):
                found.setdefault("TRACEHOUND_" + str(k).upper().replace("-", "_"), str(v))
            else:
                _values(v, found)
    elif isinstance(doc, list):
        for v in doc:
            _values(v, found)


def secret_env(needs: list[str], sc: lab.Scenario) -> dict[str, str]:
    """The generated test reads redacted values (headers, body fields, flow variables) from
    TRACEHOUND_<NAME>; give them back from the scenario's request or flow."""
    found: dict[str, str] = {}
    _values(sc.target.to_dict() if sc.target is not None else {}, found)
    _values(sc.flow.to_dict() if sc.flow is not None else {}, found)
    return {n: found[n] for n in needs[1:] if n in found}


def one(sc: lab.Scenario, report: Path, work: Path, slo: str | None = None) -> dict:
    row: dict = {"scenario": sc.name, "truth": sc.failure_mode}
    flow_file = None
    if sc.flow is not None:
        flow_file = work / "flow.yaml"
        flow_file.write_text(yaml.safe_dump(sc.flow.to_dict(), sort_keys=False))
    headers, data, body = request_parts(sc)
    test_file = work / f"test_regression_{sc.name}.py"
    t = write_test(report, test_file, flow=flow_file, headers=headers, data=data, json_body=body, force=True, slo=slo)
    row.update(slo=t.slo.text(), replay=t.replay.experiment)
    env = {**os.environ, **secret_env(t.needs, sc)}
    for fixed in (False, True):
        side = "twin" if fixed else "faulty"
        with lab.up(sc, fixed=fixed) as inst:
            try:
                t0 = time.monotonic()
                r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
                                   env={**env, t.env_var: inst.url}, capture_output=True, text=True, timeout=300,
                                   cwd=work, check=False)
                # A test skipped (a variable it needs is unset) separates nothing: it counts as an error.
                row[f"test_{side}"] = 3 if " skipped" in r.stdout and " passed" not in r.stdout else r.returncode
                row[f"test_{side}_s"] = time.monotonic() - t0
                config = sc.probe_config(inst.url)
                override = (TargetOverride(flow=config.flow, url=inst.url) if config.flow is not None
                            else TargetOverride(target=config.target))
                t0 = time.monotonic()
                v = verify(report, slo=slo, override=override, out=work / f"verify-{side}")
                row[f"verify_{side}"] = v.passed
                row[f"verify_{side}_s"] = time.monotonic() - t0
            finally:
                servers.guard()
    row["test_ok"] = row["test_faulty"] == 1 and row["test_twin"] == 0
    row["verify_ok"] = row["verify_faulty"] is False and row["verify_twin"] is True
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("names", nargs="*", help="faulty scenarios (default: every one with a twin)")
    ap.add_argument("--from", dest="kept", type=Path,
                    help="folder of kept investigations (benchmarks/diagnosis.py --keep): NAME-faulty/investigation")
    ap.add_argument("--keep", type=Path, help="keep the generated tests and verify runs here")
    ap.add_argument("--json", type=Path, help="write the rows here")
    ap.add_argument("--truth-slo", action="store_true",
                    help="hold both to the catalog's criteria for the planted cause, not the investigation's top cause")
    args = ap.parse_args()
    chosen = [lab.get_scenario(n) for n in args.names] if args.names else [s for s in lab.scenarios() if not s.healthy]
    root = args.keep or Path(tempfile.mkdtemp(prefix="tracehound-separation-"))
    rows = []
    print(f"{'scenario':34} {'truth':20} {'test: bug/twin':>15} {'verify: bug/twin':>17}  slo", flush=True)
    for sc in chosen:
        work = root / sc.name
        work.mkdir(parents=True, exist_ok=True)
        try:
            report = args.kept / f"{sc.name}-faulty" / "investigation" if args.kept else work / "investigation"
            if not (report / REPORT_FILE).is_file():
                inv = diagnosis.one(sc, False, work, 120.0)
                if "error" in inv:
                    raise RuntimeError(inv["error"])
                report = work / "investigation"
            row = one(sc, report, work, Slo.from_catalog(sc.failure_mode).text() if args.truth_slo else None)
        except (TracehoundError, RuntimeError, subprocess.TimeoutExpired) as e:
            row = {"scenario": sc.name, "truth": sc.failure_mode, "error": str(e), "test_ok": False, "verify_ok": False}
            print(f"{sc.name:34} {sc.failure_mode:20} ERROR: {e}", flush=True)
            rows.append(row)
            continue
        rows.append(row)
        words = {0: "pass", 1: "FAIL", 3: "SKIP"}
        test = f"{words.get(row['test_faulty'], row['test_faulty'])}/{words.get(row['test_twin'], row['test_twin'])}"
        ver = f"{'pass' if row['verify_faulty'] else 'FAIL'}/{'pass' if row['verify_twin'] else 'FAIL'}"
        test_mark = "" if row["test_ok"] else " ✗"
        ver_mark = "" if row["verify_ok"] else " ✗"
        print(f"{sc.name:34} {sc.failure_mode:20} {test + test_mark:>15} {ver + ver_mark:>17}  "
              f"{row['slo']}", flush=True)
    n = len(rows)
    tests = sum(r["test_ok"] for r in rows)
    verifies = sum(r["verify_ok"] for r in rows)
    print(f"\ngenerated tests separate {tests}/{n} pairs (fail on the bug, pass on the twin); "
          f"verify separates {verifies}/{n}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, default=str))
    return 0 if tests == verifies == n else 1


if __name__ == "__main__":
    raise SystemExit(main())
