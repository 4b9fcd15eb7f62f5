"""``run.json`` as :class:`RunMeta`: what every writer writes loads back and is written again unchanged;
anything else is one :class:`BadRun` line."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from tracehound.access import import_access_log
from tracehound.browser.page_load import BrowseResult, NetworkCall, PageLoad
from tracehound.browser.records import save
from tracehound.errors import BadRun, TargetUnreachable
from tracehound.experiments import Experiment
from tracehound.flow import Flow
from tracehound.probe import LoadShape, ProbeConfig, Run, Target, probe
from tracehound.probe.importers import import_file
from tracehound.probe.meta import RUN_SCHEMA, RunMeta, read_meta, write_meta
from tracehound.verify import verify

DATA = Path(__file__).parent / "data"
ACCESS_SCHEMA = "tracehound.access/1"


def written_again(folder: Path, tmp_path: Path, schema: str = RUN_SCHEMA) -> RunMeta:
    """The folder's run.json read as RunMeta; written back, it must be the same bytes."""
    meta = read_meta(folder, schema)
    again = tmp_path / "again"
    shutil.rmtree(again, ignore_errors=True)
    again.mkdir()
    write_meta(again, meta)
    assert (again / "run.json").read_text() == (folder / "run.json").read_text()
    return meta


# -- every writer --------------------------------------------------------------------------------


def test_a_probe_with_annotations_and_its_canary_rewrite(demo_url, tmp_path: Path):
    run = probe(ProbeConfig(LoadShape(concurrency=2, requests=10), Target(demo_url), out=tmp_path / "p",
                            annotations={"ticket": "OPS-1", "experiment": {"kind": "sweep", "concurrency": 2}}))
    meta = written_again(run.path, tmp_path)
    assert meta.dump() == json.loads((run.path / "run.json").read_text())
    assert meta.model_extra == {"ticket": "OPS-1"} and meta.experiment and meta.experiment.kind == "sweep"
    assert (meta.kind, meta.status, meta.complete, meta.engine, meta.counts.requests) == (
        "probe", "complete", True, "native", 10)
    assert meta.target.url == demo_url and meta.shape.concurrency == 2 and meta.options.timeout_s == 10.0
    keys = list(json.loads((run.path / "run.json").read_text()))
    assert keys.index("options") < keys.index("ticket") < keys.index("engine")  # where the annotations went

    # The investigation marks a canary after it ran (in its own process): the block goes last.
    run = Run.load(run.path)
    run.meta.experiment = Experiment("sweep", "load", LoadShape(concurrency=2)).annotation("canary", during="load")
    write_meta(run.path, run.meta)
    meta = written_again(run.path, tmp_path)
    assert meta.is_canary and meta.experiment and meta.experiment.during == "load"


def test_a_flow_run(demo_url, tmp_path: Path):
    flow = Flow.from_dict({"steps": [{"name": "list", "path": "/orders"}, {"name": "again", "path": "/orders"}]})
    run = probe(ProbeConfig(LoadShape(concurrency=1, requests=4), flow=flow, base_url=demo_url.rsplit("/", 1)[0],
                            out=tmp_path / "f"))
    meta = written_again(run.path, tmp_path)
    assert meta.target.flow is not None and meta.target.flow.steps == ["list", "again"]


def test_an_unreachable_target_still_writes_its_run(tmp_path: Path):
    from tracehound.demo import free_port

    with pytest.raises(TargetUnreachable):
        probe(ProbeConfig(LoadShape(concurrency=1, requests=2), Target(f"http://127.0.0.1:{free_port()}/"),
                          out=tmp_path / "u"))
    assert written_again(tmp_path / "u", tmp_path).status == "complete"


@pytest.mark.parametrize("name", ["session.har", "k6.json", "vegeta.json", "curl_loop.csv"])
def test_an_imported_file(name: str, tmp_path: Path):
    run = import_file(DATA / "importers" / name, out=tmp_path / "i")
    meta = written_again(run.path, tmp_path)
    assert meta.kind == "import" and meta.shape.model == "imported" and meta.import_ is not None
    assert meta.import_.rows == meta.counts.requests == run.table.num_rows


def test_an_access_log_import(tmp_path: Path):
    imp = import_access_log(DATA / "access_logs" / "nginx_combined.log", out=tmp_path / "a")
    meta = written_again(imp.path, tmp_path, ACCESS_SCHEMA)
    assert meta.schema_ == ACCESS_SCHEMA and imp.imported.rows == 8 and meta.files.access == "access/"
    with pytest.raises(BadRun, match="not a tracehound.run document"):
        Run.load(imp.path)


def test_a_browser_session(tmp_path: Path):
    t0 = time.time()
    calls = [NetworkCall(seq=i, load=0, method="GET", url="http://127.0.0.1:8000/api", host="127.0.0.1",
                         path="/api", resource_type="fetch", start=t0 + i / 10, status=status, total_ms=10.0)
             for i, status in enumerate((200, 503))]
    load = PageLoad(index=0, url="http://127.0.0.1:8000/", started=t0, fresh=True, calls=calls)
    (tmp_path / "b").mkdir()
    run = save(BrowseResult(url="http://127.0.0.1:8000/", loads=[load], browser_version="1"), tmp_path / "b")
    meta = written_again(run.path, tmp_path)
    assert meta.target.page and meta.browser is not None and meta.browser.loads == 1


def test_a_verification_folder_is_not_a_run(demo_url, tmp_path: Path):
    run = probe(ProbeConfig(LoadShape(concurrency=1, requests=5), Target(demo_url), out=tmp_path / "p"))
    verify(run.path, slo="error_rate<100%", out=tmp_path / "v")
    stamp = json.loads((tmp_path / "v" / "run.json").read_text())
    assert stamp == {"schema": "tracehound.verify/1", "kind": "verify", "source": str(run.path),
                     "slo": "error_rate<100%"}
    with pytest.raises(BadRun, match="not a tracehound.run document"):
        read_meta(tmp_path / "v")
    written_again(next((tmp_path / "v" / "runs").iterdir()), tmp_path)


@pytest.mark.parametrize("name", ["locust", "canary", "access", "import-har", "flow", "browser"])
def test_run_folders_written_by_0_1_load_and_are_written_back_unchanged(name: str, tmp_path: Path):
    folder = tmp_path / name
    folder.mkdir()
    shutil.copy(DATA / "runs" / f"{name}.json", folder / "run.json")
    meta = written_again(folder, tmp_path, ACCESS_SCHEMA if name == "access" else RUN_SCHEMA)
    assert meta.started_at and meta.kind in ("probe", "import", "browser")


def test_a_run_read_as_attributes():
    folder = DATA / "runs"
    locust = RunMeta.model_validate_json((folder / "locust.json").read_text())
    assert locust.locust is not None and locust.locust.per_worker[0].requests == 20 and locust.engine == "locust"
    canary = RunMeta.model_validate_json((folder / "canary.json").read_text())
    assert canary.is_canary and canary.shape.model == "open" and canary.shape.rate == 5.0
    assert RunMeta().dump() == {}  # nothing given, nothing written


# -- everything else is one line -----------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ('{"schema": "tracehound.report/1"}', "is not a tracehound.run document (schema 'tracehound.report/1')"),
    ('{"schema": "tracehound.run/2", "kind": "probe"}', "has schema 'tracehound.run/2'; this tracehound reads"),
    ('{"kind": "probe"}', "is not a tracehound.run document (schema None)"),
    ("not json {", "is not JSON"),
    ("[1, 2]", "is not a tracehound.run document (a JSON list)"),
    ('{"schema": "tracehound.run/1", "counts": {"requests": "many"}}', "counts.requests"),
])
def test_what_is_not_a_run_is_one_line(text: str, expected: str, tmp_path: Path):
    (tmp_path / "run.json").write_text(text)
    with pytest.raises(BadRun) as e:
        Run.load(tmp_path)
    assert expected in e.value.line() and "\n" not in e.value.line()


def test_a_folder_without_run_json_is_one_line(tmp_path: Path):
    with pytest.raises(BadRun) as e:
        read_meta(tmp_path / "nothing-here")
    assert e.value.line() == f"{str(tmp_path / 'nothing-here')!r} is not a run folder (no run.json)"
