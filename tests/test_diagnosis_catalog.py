"""The failure-mode catalog: complete, valid, wired to the signal registry, explained, documented."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import yaml
from rich.console import Console

import tracehound.agents
from tracehound import docs as generated_docs
from tracehound.cli import console, main
from tracehound.diagnosis import catalog as cat
from tracehound.diagnosis.catalog import CATALOG_DIR, expected_ids, get, load_catalog, load_entry
from tracehound.diagnosis.scoring import score
from tracehound.diagnosis.signals import REGISTRY, signal
from tracehound.errors import BadCatalog, UnknownFailureMode
from tracehound.failure_modes import FAILURE_MODES, NONE

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "failure-modes"


def _import_agents() -> None:
    """Agents register their namespaced signals when imported."""
    tracehound.agents.import_all()


# -- completeness and validity --------------------------------------------------------------


def test_every_id_has_exactly_one_entry():
    files = sorted(p.name for p in CATALOG_DIR.iterdir() if p.is_file())
    assert files == sorted(f"{i}.yaml" for i in expected_ids())
    assert tuple(load_catalog()) == (*FAILURE_MODES, NONE)


def test_all_entries_validate():
    entries = load_catalog()
    assert load_catalog() is entries  # cached
    for m in entries.values():
        assert m.path == CATALOG_DIR / f"{m.id}.yaml"
        assert m.experiments and m.fixes.immediate and m.verification.steps and m.prevention.alerts and m.references
        assert 0 <= m.verification.slo["error_rate"] < 0.05
        if m.id == NONE:
            assert all(w < 0 for w in m.signals.values()), "none is supported by nothing; it only has evidence against"
        else:
            assert any(w > 0 for w in m.signals.values()), f"{m.id}: no signal supports it"
            assert m.absent, f"{m.id}: no expected signal counts against it when missing"
            assert m.fixes.code, f"{m.id}: no code fix"


def test_every_signal_named_is_registered():
    _import_agents()
    assert cat.unregistered_signals() == {}
    for m in load_catalog().values():
        assert m.signal_names() <= set(REGISTRY), m.id


def test_an_unregistered_namespaced_signal_is_reported(tmp_path):
    entry = _entry()
    entry["signals"]["log:no_such_signature"] = 1.0
    entry["why"]["log:no_such_signature"] = "a log line nobody emits"
    c = load_catalog(_write(tmp_path, entry))
    assert cat.unregistered_signals(c) == {"db_pool_exhaustion": ["log:no_such_signature"]}


def test_why_covers_every_signal_named():
    for m in load_catalog().values():
        assert set(m.why) == m.signal_names(), m.id
        assert all(len(w) < 200 and "\n" not in w for w in m.why.values()), f"{m.id}: one short sentence each"


def test_priors_sum_to_one():
    priors = [m.prior for m in load_catalog().values()]
    assert sum(priors) == pytest.approx(1.0, abs=0.02)
    assert all(0 < p < 0.5 for p in priors)


def test_get_and_unknown_id():
    assert get("stale_connection").title == "Stale pooled database connection"
    with pytest.raises(UnknownFailureMode) as e:
        get("stale_conection")
    assert e.value.line().startswith("unknown failure mode 'stale_conection' (known: db_pool_exhaustion, ")


# -- invalid entries --------------------------------------------------------------------------


def _entry() -> dict:
    return yaml.safe_load((CATALOG_DIR / "db_pool_exhaustion.yaml").read_text())


def _write(tmp_path: Path, entry: dict | str, name: str = "db_pool_exhaustion") -> Path:
    folder = tmp_path / "catalog"
    folder.mkdir(exist_ok=True)
    text = entry if isinstance(entry, str) else yaml.safe_dump(entry, sort_keys=False)
    (folder / f"{name}.yaml").write_text(text)
    return folder


def _set(path: str, value: object):
    def edit(e: dict) -> None:
        *parents, last = path.split(".")
        for p in parents:
            e = e[int(p)] if isinstance(e, list) else e[p]
        if value is KeyError:
            del e[last]
        elif isinstance(e, list):
            e[int(last)] = value
        else:
            e[last] = value
    return edit


BAD = {
    "unregistered signal": (_set("signals.failures_rise_with_concurency", 1.0),
                            "signals.failures_rise_with_concurency: not a registered signal "
                            "(did you mean 'failures_rise_with_concurrency'?)"),
    "signal without why": (_set("why.status_500", KeyError),
                           "why.status_500: missing: every signal in signals and absent needs one sentence"),
    "why without signal": (_set("why.status_418", "a teapot"),
                           "why.status_418: explains a signal the entry does not weigh"),
    "positive absent weight": (_set("absent.failures_rise_with_concurrency", 1.5),
                               "absent.failures_rise_with_concurrency: weight 1.5 must be negative"),
    "zero weight": (_set("signals.status_500", 0), "signals.status_500: weight 0 is out of range"),
    "weight not a number": (_set("signals.status_500", "high"),
                            "signals.status_500: expected a number, got text 'high'"),
    "unknown namespace": (_set("signals.foo:bar", 1.0), "signals.foo:bar: unknown signal namespace 'foo'"),
    "id not the file name": (_set("id", "db_pool"), "id: 'db_pool' does not match the file name"),
    "prior out of range": (_set("prior", 1.5), "prior: 1.5 is not a probability"),
    "missing title": (_set("title", KeyError), "title: missing"),
    "misspelt field": (_set("sumary", "x"), "sumary: unknown field (did you mean 'summary'?)"),
    "empty symptoms": (_set("symptoms", []), "symptoms: expected at least 1 item"),
    "unquoted colon in a list": (_set("symptoms.0", {"Logs say": "pool exhausted"}),
                                 "symptoms[0]: expected text, got a mapping (quote text that contains ': ')"),
    "experiment without expect": (_set("experiments.0.expect", KeyError), "experiments[0].expect: missing"),
    "fixes misspelt": (_set("fixes.short-term", ["x"]), "fixes.short-term: unknown field"),
    "error rate as percent": (_set("verification.slo.error_rate", 5),
                              "verification.slo.error_rate: 5 is not a fraction"),
    "unknown slo": (_set("verification.slo.p50_ms", 100), "verification.slo.p50_ms: unknown field"),
    "http reference": (_set("references.0.url", "http://example.com/x"),
                       "references[0].url: 'http://example.com/x' is not an https:// URL"),
    "alert without expr": (_set("prevention.alerts.0.expr", KeyError), "prevention.alerts[0].expr: missing"),
    "symptom phrase too heavy": (_set("symptom_phrases.when it is busy", 2.5),
                                 "symptom_phrases.when it is busy: weight 2.5 is out of range"),
    "symptom phrase of filler": (_set("symptom_phrases.it is not", 0.5),
                                 "symptom_phrases.it is not: has no word a symptom could match"),
    "symptom phrases as a list": (_set("symptom_phrases", ["when it is busy"]),
                                  "symptom_phrases: expected a mapping, got a list"),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_invalid_entry_names_file_and_field(tmp_path, case):
    edit, message = BAD[case]
    entry = _entry()
    edit(entry)
    folder = _write(tmp_path, entry)
    with pytest.raises(BadCatalog) as e:
        load_catalog(folder)
    line = e.value.line()
    assert "\n" not in line
    assert line.startswith(f"{folder / 'db_pool_exhaustion.yaml'}: ")
    assert message in line


def test_invalid_yaml_names_the_line(tmp_path):
    folder = _write(tmp_path, "id: db_pool_exhaustion\ntitle: [unclosed\nprior: 0.1\n")
    with pytest.raises(BadCatalog, match=r"db_pool_exhaustion\.yaml: line \d+: not valid YAML"):
        load_catalog(folder)


def test_duplicate_key_is_refused(tmp_path):
    text = (CATALOG_DIR / "db_pool_exhaustion.yaml").read_text()
    text = text.replace("  status_500: 0.7\n", "  status_500: 0.7\n  status_500: -0.7\n", 1)
    with pytest.raises(BadCatalog,
                       match=r"db_pool_exhaustion\.yaml: line \d+: not valid YAML: duplicate key 'status_500'"):
        load_catalog(_write(tmp_path, text))


def test_empty_file_and_missing_folder(tmp_path):
    with pytest.raises(BadCatalog, match="empty file"):
        load_entry(_write(tmp_path, "") / "db_pool_exhaustion.yaml")
    with pytest.raises(BadCatalog, match="no such file or folder"):
        load_catalog(tmp_path / "nowhere")


def test_a_valid_copy_loads(tmp_path):
    m = load_catalog(_write(tmp_path, _entry()))["db_pool_exhaustion"]
    assert m == get("db_pool_exhaustion")


# -- the weights tell look-alikes apart --------------------------------------------------------

#: For each failure mode, the hallmark traffic signals of the brief (strength 1); every traffic
#: signal counts as tested. The mode must rank first. Tuning may change weights, not this intent.
HALLMARKS: dict[str, list[str]] = {
    "db_pool_exhaustion": ["failures_rise_with_concurrency", "failures_absent_when_sequential",
                           "failure_latency_plateau", "status_500", "latency_rises_with_concurrency"],
    "connection_leak": ["failures_grow_over_time", "failures_persist_after_load", "failures_start_after_elapsed_time",
                        "failure_latency_plateau", "status_500"],
    "stale_connection": ["failures_after_idle_gap", "status_500", "failures_present_when_sequential"],
    "slow_query": ["slow_when_sequential", "latency_varies_by_request", "failure_latency_plateau", "status_504",
                   "failures_concentrated_on_attribute"],
    "n_plus_one": ["latency_scales_with_body_size", "slow_when_sequential", "latency_varies_by_request"],
    "lock_contention": ["failures_rise_with_concurrency", "failures_absent_when_sequential", "status_409",
                        "failure_latency_plateau", "failures_concentrated_on_attribute"],
    "event_loop_blocking": ["latency_rises_with_concurrency", "unrelated_endpoint_slows_under_load",
                            "throughput_flat_under_concurrency", "failures_rise_with_concurrency", "status_504"],
    "auth_token_expiry": ["status_401", "failures_start_after_elapsed_time", "failures_vanish_with_fresh_login"],
    "rate_limiting": ["status_429", "retry_after_header", "failures_fast"],
    "race_condition": ["ok_status_body_anomaly", "failures_rise_with_concurrency", "failures_absent_when_sequential"],
    "read_after_write": ["read_after_write_miss", "failures_vanish_with_delay", "status_404"],
    "cache_failure": ["failures_fast", "status_500", "failures_rise_with_concurrency", "failures_bursty"],
    "upstream_timeout": ["status_504", "failure_latency_plateau", "failures_present_when_sequential",
                         "failures_uniform"],
    "keepalive_mismatch": ["reset_on_reused_connection", "status_502", "failures_after_idle_gap"],
    "bad_instance": ["failures_periodic", "failures_on_one_server", "failures_present_when_sequential",
                     "failures_uniform"],
    "worker_crash": ["status_502", "connection_errors", "failures_bursty"],
    NONE: [],
}


@pytest.mark.parametrize("mode_id", list(HALLMARKS))
def test_hallmark_signals_rank_their_mode_first(mode_id):
    tested = [n for n, d in REGISTRY.items() if d.source == "traffic"]
    ranked = score(list(load_catalog().values()), [signal(n, 1.0) for n in HALLMARKS[mode_id]], tested)
    assert ranked[0].id == mode_id, [(h.id, round(h.confidence, 2)) for h in ranked[:3]]


def test_hallmarks_cover_every_mode():
    assert set(HALLMARKS) == set(expected_ids())


# -- tracehound explain -----------------------------------------------------------------------


def test_explain_prints_the_entry_as_markdown(cli):
    r = cli("explain", "db_pool_exhaustion")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.startswith("# Database connection pool exhausted (`db_pool_exhaustion`)\n")
    for section in ("## Symptoms", "## Evidence", "## Experiments that tell it apart", "## Fixes", "### Immediate",
                    "## Verification", "## Prevention", "## References"):
        assert f"\n{section}\n" in out, section
    e = load_catalog()["db_pool_exhaustion"]  # the weights as fitted, seen and absent
    seen, gone = e.signals["failures_rise_with_concurrency"], e.absent["failures_rise_with_concurrency"]
    assert f"| `failures_rise_with_concurrency` | {seen:+.1f} | {gone:+.1f} |".replace("-", "−") in out
    assert "\n## Symptom phrases\n" in out and "| when it is busy | +0.3 |" in out
    assert 'tracehound verify report.json --slo "error_rate<1%,p95<500ms"' in out
    assert "```python" in out and "pool_timeout" in out


def test_explain_json_and_list(cli):
    r = cli("explain", "rate_limiting", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["id"] == "rate_limiting" and d["signals"]["status_429"] > 0 and d["verification"]["slo_arg"]
    assert d["symptom_phrases"]["too many requests"] > 0
    assert set(d["why"]) == set(d["signals"]) | set(d["absent"])
    r = cli("explain", "--list")
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    for mode_id in expected_ids():
        assert any(line.split()[:1] == [mode_id] for line in lines), mode_id
    assert [m["id"] for m in json.loads(cli("explain", "--list", "--json").stdout)] == list(expected_ids())


def test_explain_unknown_id_is_one_line_and_exit_2(cli):
    r = cli("explain", "pool_leak")
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert r.stderr.startswith("tracehound: error: unknown failure mode 'pool_leak' (known: db_pool_exhaustion, ")
    assert r.stderr.rstrip().endswith("worker_crash, none)")


def test_explain_renders_rich_markdown_on_a_terminal(monkeypatch):
    buf = io.StringIO()
    monkeypatch.setattr(console, "out", Console(file=buf, force_terminal=True, width=100, highlight=False))
    with pytest.raises(SystemExit) as e:
        main(["explain", "stale_connection"])
    assert e.value.code == 0
    text = buf.getvalue()
    assert "\x1b[" in text and "Stale pooled database connection" in text and "pool_pre_ping" in text
    assert "```" not in text and "| --- |" not in text  # rendered, not raw Markdown


# -- generated docs ---------------------------------------------------------------------------


def test_docs_are_up_to_date_with_the_catalog():
    stale = generated_docs.stale(DOCS.parent)
    assert not stale, f"docs out of date ({', '.join(stale)}); run: {generated_docs.COMMAND}"


def test_docs_check_catches_edits_and_strays(tmp_path):
    out = tmp_path / "docs"
    assert generated_docs.main(["--out", str(out), "--check"]) == 1  # nothing written yet
    assert generated_docs.main(["--out", str(out)]) == 0
    assert generated_docs.main(["--out", str(out), "--check"]) == 0
    pages = out / "failure-modes"
    assert {p.name for p in pages.iterdir()} == {"README.md", "signals.md", *(f"{i}.md" for i in expected_ids())}
    page = pages / "slow_query.md"
    page.write_text(page.read_text().replace("statement_timeout", "statement timeout"))
    (pages / "old_mode.md").write_text("# gone\n")
    (out / "architecture.md").write_text("# edited by hand\n")
    assert generated_docs.stale(out) == ["architecture.md", "failure-modes/old_mode.md", "failure-modes/slow_query.md"]
    assert generated_docs.main(["--out", str(out)]) == 0
    assert generated_docs.stale(out) == [] and not (pages / "old_mode.md").exists()


def test_the_catalog_command_validates_every_entry(capsys):
    assert cat.main([]) == 0
    assert f"{len(load_catalog())} entries valid" in capsys.readouterr().out


def test_docs_pages_link_every_entry():
    index = (DOCS / "README.md").read_text()
    for mode_id in expected_ids():
        assert f"]({mode_id}.md)" in index


# The lab is a sample, never the score: the catalog's words must not name what only its services are about.
#: Words of the lab scenarios' names that say how a service fails, not what it is about.
_TECHNICAL = {"stale", "connection", "token", "expiry", "upstream", "timeout", "demo", "instrumented", "healthy",
              "fast", "slow", "lock", "gateway", "blocking", "idle", "session", "replica", "lag", "bad", "instance",
              "cache", "outage", "worker", "crash", "rate", "limited", "sync", "client", "race", "leak", "page"}


def test_no_symptom_phrase_names_a_lab_services_domain_word():
    from tracehound.lab.family import FAMILIES_DIR
    from tracehound.lab.scenario import SCENARIOS_DIR

    domain = {w for d in SCENARIOS_DIR.iterdir() if d.is_dir() for w in d.name.split("_")} - _TECHNICAL
    # The families' services, by their folders' names (ledger, clinic, fleet …).
    domain |= {d.name for d in FAMILIES_DIR.glob("*/*") if d.is_dir() and not d.name.startswith(("_", "."))}
    assert {"billing", "parcel", "invoices", "login", "ledger", "kiosks"} <= domain  # the words do come from the lab
    named = {(e.id, phrase) for e in load_catalog().values() for phrase in e.symptom_phrases
             if domain & set(phrase.lower().replace('"', " ").split())}
    assert not named, named
