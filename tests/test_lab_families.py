"""The lab's scenario families: every variant expands into a valid scenario, the split holds out
whole stacks, the command line finds variants by FAMILY/VARIANT, and a stratified sample of
pairs (one variant of each family, a few families per commit) reproduces."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from test_lab import descendants, get, no_orphans, wait_gone

from tracehound import lab
from tracehound.errors import BadScenario
from tracehound.failure_modes import NONE
from tracehound.lab.family import FAMILY_FILE, load_family

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = lab.families()
VARIANTS = [v for f in FAMILIES for v in f.variants]
#: One variant of each family, train and held-out in turn: what CI reproduces (the rest is a
#: benchmark), :data:`PAIRS_PER_RUN` of them per commit.
SAMPLE = [
    "cache_failure/cards_capped3_json",
    "db_pool_exhaustion/ledger_p2_plain500",
    "keepalive_mismatch/kiosks_k2",
    "lock_contention/rewards_503_plain",
    "connection_leak/delivery_p8_500",
    "slow_query/parcels_st300_plain500",
    "upstream_timeout/loyalty_t1_504",
    "worker_crash/coursework_m200_502",
    "event_loop_blocking/geocode_uvicorn_timeout",
    "none/forecast_noisy_latency",
    "rate_limiting/notify_bucket_429_json",
    "stale_connection/permits_sync_plain500",
    "read_after_write/recipes_cookbook_nolog",
    "bad_instance/postage_3x_rr_oldtariff_200",
    "auth_token_expiry/quotes_skew2_502_plain",
    "n_plus_one/picking_deadline503_json",
    "race_condition/tickets_409_json",
]


def test_the_families_and_their_sizes() -> None:
    by = {f.name: f for f in FAMILIES}
    assert {"auth_token_expiry", "bad_instance", "cache_failure", "connection_leak", "db_pool_exhaustion",
            "event_loop_blocking", "keepalive_mismatch", "lock_contention", "n_plus_one", "race_condition",
            "rate_limiting", "read_after_write", "slow_query", "stale_connection", "upstream_timeout", "worker_crash",
            NONE} <= set(by)
    for f in FAMILIES:
        assert len(f.variants) >= (12 if f.failure_mode == NONE else 8), f.name


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.full_name for v in VARIANTS])
def test_every_variant_expands_into_a_valid_scenario(variant: lab.Variant) -> None:
    sc = variant.scenario
    family = lab.get_family(variant.family)
    assert sc.name == variant.full_name == f"{family.name}/{variant.name}"
    assert sc.failure_mode == family.failure_mode
    again = lab.resolve(variant.full_name)  # what `lab up` and `lab check` start
    assert (again.name, again.faulty, again.fixed, again.folder) == (sc.name, sc.faulty, sc.fixed, sc.folder)
    # The running code is the variant's own service folder: no family.yaml, no other service.
    assert sc.folder.parent == family.folder
    files = sc.code_files()
    assert files and all(sc.folder in p.parents for p in files)
    assert not any(p.name == FAMILY_FILE for p in files)
    if sc.healthy:
        assert sc.fixed is None and sc.expected_failure_rate == (0.0, 0.0)
    else:
        lo, hi = sc.expected_failure_rate
        assert sc.fixed is not None and sc.fixed != sc.faulty and 0 < lo < hi <= 1
        assert sc.fix


def test_variant_names_are_unique_and_apart_from_the_scenarios() -> None:
    names = [v.full_name for v in VARIANTS]
    assert len(names) == len(set(names))
    assert not {v.family for v in VARIANTS} & {s.name for s in lab.scenarios()}


@pytest.mark.parametrize("family", [f for f in FAMILIES if f.failure_mode != NONE], ids=lambda f: f.name)
def test_a_faulty_family_holds_out_whole_stacks(family: lab.Family) -> None:
    train, heldout = set(family.stacks("train")), set(family.stacks("heldout"))
    assert train and heldout and not train & heldout
    assert {v.split for v in family.variants} == {"train", "heldout"}
    assert lab.variants("heldout") and all(v.split == "heldout" for v in lab.variants("heldout"))


def test_no_faulty_app_names_its_cause_in_a_comment() -> None:
    for f in FAMILIES:
        for p in f.folder.rglob("*.py"):
            comments = " ".join(re.findall(r"#(.*)", p.read_text())).lower()
            assert not any(w in comments for w in ("pool", "exhaust", "rate limit", "throttl", "quota")), p


def _family(tmp_path: Path, variants: str) -> Path:
    folder = tmp_path / "toy"
    (folder / "svc").mkdir(parents=True)
    (folder / "svc" / "app.py").write_text("app = None\n")
    (folder / FAMILY_FILE).write_text(textwrap.dedent("""\
        family: toy
        failure_mode: slow_query
        base:
          needs: []
          app: {module: app:app}
          target: {path: /x}
          load: {concurrency: 2, duration: 1}
          expected_failure_rate: [0.1, 0.5]
          fixed: {env: {FAST: 1}, change: the index}
        variants:
        """) + textwrap.indent(textwrap.dedent(variants), "  "))
    return folder


def test_a_family_that_splits_one_stack_both_ways_is_refused(tmp_path: Path) -> None:
    folder = _family(tmp_path, """\
        - {name: a, split: train, stack: flask+gunicorn+psycopg, dir: svc, symptom: slow}
        - {name: b, split: heldout, stack: flask+gunicorn+psycopg, dir: svc, symptom: slow}
        """)
    with pytest.raises(BadScenario, match="holds out whole stacks"):
        load_family(folder)


@pytest.mark.parametrize(("variant", "message"), [
    ("{name: a, split: test, stack: a+b+c, dir: svc, symptom: s}", "split must be one of train, heldout"),
    ("{name: a, split: train, stack: flask, dir: svc, symptom: s}", "framework+server+driver"),
    ("{name: a, split: train, stack: a+b+c, dir: nope, symptom: s}", "dir must name a service folder"),
    ("{name: a, split: train, stack: a+b+c, dir: svc}", "missing 'symptom'"),
    ("{name: a, split: train, stack: a+b+c, dir: svc, symptom: s, fixed: {env: {FAST: null}}}", None),
    ("{name: a, split: train, stack: a+b+c, dir: svc, symptom: s, colour: red}", "unknown key 'colour'"),
])
def test_a_bad_variant_gets_one_clear_reason(tmp_path: Path, variant: str, message: str | None) -> None:
    folder = _family(tmp_path, f"- {variant}\n")
    if message is None:  # a valid variant, as a control of the cases around it
        (v,) = load_family(folder).variants
        assert v.scenario.name == "toy/a" and v.scenario.fixed is not None
        assert v.scenario.fixed.app.env == {"FAST": ""}
        return
    with pytest.raises(BadScenario, match=re.escape(message)):
        load_family(folder)


# -- the command line -------------------------------------------------------------------------


def test_cli_lab_list_shows_the_variants_with_their_split(cli) -> None:
    r = cli("lab", "list", timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    for v in VARIANTS:
        row = [ln for ln in lines if ln.startswith(v.full_name + " ")]
        assert len(row) == 1 and f" {v.split} " in row[0] and v.stack in row[0], row


@pytest.mark.parametrize(("args", "expected"), [
    (("up", "db_pool_exhaustion/no_such_variant"), "no variant 'no_such_variant' in the lab family"),
    (("check", "no_such_family/x"), "no lab family called 'no_such_family'"),
])
def test_cli_a_wrong_variant_gets_one_line_naming_what_exists(cli, args: tuple[str, ...], expected: str) -> None:
    r = cli("lab", *args, timeout=120, env={"COLUMNS": "400"})
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and "Traceback" not in r.stderr
    known = lab.get_family("db_pool_exhaustion").variants[0].name if args[0] == "up" else "db_pool_exhaustion"
    assert known in lines[0]


def test_cli_lab_up_a_variant_until_ctrl_c() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracehound", "lab", "up", "none/forecast_noisy_latency"], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, cwd=ROOT, env={**os.environ, "COLUMNS": "200"}, start_new_session=True,
    )
    children: set[int] = set()
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            if not line:
                break
            lines.append(line)
            if line.startswith("Up."):
                break
        assert "none/forecast_noisy_latency (healthy control)" in "".join(lines)
        url = next(ln.split()[1] for ln in lines if ln.startswith("URL"))
        status, body = get(url + "/tiles/3/4/5")
        assert status == 200 and b"temperature_c" in body
        children = descendants(proc.pid)
        assert children
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
        assert not wait_gone(children)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# -- the stratified sample, reproduced -----------------------------------------------------------


#: How many of the sampled pairs one run reproduces: the lab's pairs run one after another on one
#: worker, so every pair lengthens the whole suite. Which ones turns with the commit, so that every
#: family's pair runs within a few commits; TRACEHOUND_FAMILY_PAIRS=all runs every one.
PAIRS_PER_RUN = 4


def _this_runs_pairs() -> list[str]:
    if os.environ.get("TRACEHOUND_FAMILY_PAIRS") == "all":
        return SAMPLE
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False,
                              timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        head = ""
    return sorted(SAMPLE, key=lambda n: hashlib.sha256(f"{head}:{n}".encode()).hexdigest())[:PAIRS_PER_RUN]


@pytest.mark.lab
@pytest.mark.parametrize("name", _this_runs_pairs())
def test_sampled_variant_reproduces_and_its_twin_does_not(name: str, tmp_path: Path) -> None:
    with no_orphans():
        (result,) = lab.check([name], log_dir=tmp_path)
    if result.error and "not installed" in result.error:
        pytest.skip(result.error)
    if result.inconclusive:  # a machine too busy to tell a fixed twin from a starved one
        pytest.skip(f"{result.inconclusive}: {'; '.join(result.problems)}")
    assert result.ok, (result.problems, result.error, result.faulty, result.twin)
    assert result.faulty is not None and result.faulty.requests > 0
    if not result.healthy:
        assert result.faulty.failed > 0 and result.twin is not None and result.twin.failed == 0


def test_the_sample_has_one_variant_of_each_family_and_both_splits() -> None:
    chosen = [lab.get_variant(n) for n in SAMPLE]
    assert sorted(v.family for v in chosen) == sorted(f.name for f in FAMILIES)
    faulty = [v for v in chosen if v.family != NONE]
    assert {v.split for v in faulty} == {"train", "heldout"}
