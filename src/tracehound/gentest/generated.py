"""The regression test, generated and written: ``tracehound gen-test``'s entry points."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tracehound.errors import BadReport, OutputNotWritable, TracehoundError
from tracehound.gentest.choice import worst
from tracehound.gentest.replay import Replay, build_replay
from tracehound.gentest.source import function_name, render
from tracehound.pytest_plugin import DEFAULT_ENV_VAR
from tracehound.verify import DEFAULT_SLO, Slo, load_source

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TEST_FILE = re.compile(r"^(test_.*|.*_test)\.py$")


class BadGenTest(TracehoundError):
    """An output path or option of ``gen-test`` that cannot be used."""


@dataclass
class GeneratedTest:
    """A test written (or about to be): its source and what went into it."""

    path: Path
    source: str
    replay: Replay
    slo: Slo
    slo_from: str
    env_var: str
    function: str

    @property
    def needs(self) -> list[str]:
        """The environment variables the test reads: the target URL, then any secrets."""
        return [self.env_var, *self.replay.secrets]


def write_test(report: str | Path, out: str | Path, *, env_var: str = DEFAULT_ENV_VAR, slo: str | None = None,
               flow: str | Path | None = None, headers: list[str] | tuple[str, ...] = (), data: str | None = None,
               json_body: str | None = None, force: bool = False) -> GeneratedTest:
    """Generate the regression test for ``report`` (an investigation folder, its report.json, or
    a run folder) and write it to ``out``; see :func:`generate` for the options."""
    out = Path(out)
    if out.exists() and not force:
        raise BadGenTest(f"{str(out)!r} exists already", hint="pass --force to overwrite it")
    test = generate(report, out, env_var=env_var, slo=slo, flow=flow, headers=headers, data=data,
                    json_body=json_body)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(test.source)
    except OSError as e:
        raise OutputNotWritable(f"cannot write {str(out)!r}: {e.strerror or e}", hint="choose another -o") from None
    return test


def generate(report: str | Path, out: str | Path, *, env_var: str = DEFAULT_ENV_VAR, slo: str | None = None,
             flow: str | Path | None = None, headers: list[str] | tuple[str, ...] = (), data: str | None = None,
             json_body: str | None = None) -> GeneratedTest:
    """The regression test's source, without writing it.

    ``flow`` replaces a flow file the report names but that is gone; ``headers`` (``'Name:
    value'``), ``data`` and ``json_body`` give back a request's headers and body, which reports
    never keep.
    """
    out = Path(out)
    if not _TEST_FILE.match(out.name):
        raise BadGenTest(f"pytest would not collect {out.name!r}", hint="name it test_SOMETHING.py")
    if not _ENV_NAME.match(env_var):
        raise BadGenTest(f"--env-var {env_var!r} is not an environment variable name")
    src = load_source(report)
    if (src.report is not None and src.report.verdict == "not_reproduced") or not src.runs:
        raise BadReport(f"nothing to replay: {str(src.path)!r} did not reproduce the failure (no experiment failed)",
                        hint="generate the test from an investigation whose verdict is reproduced")
    if slo:
        the_slo, slo_from = Slo.parse(slo), "given with --slo"
    elif src.top_mode and src.top_mode != "none":
        the_slo, slo_from = Slo.from_catalog(src.top_mode), f"the catalog's verification criteria for {src.top_mode}"
    else:
        the_slo, slo_from = Slo.parse(DEFAULT_SLO), "tracehound's default"
    name, run, before = worst(src, the_slo)
    if not before.failures:  # a run folder given alone may not have failed at all
        raise BadReport(f"nothing to replay: no request of {str(src.path)!r} failed",
                        hint="generate the test from a run or an investigation that reproduced the failure")
    replay = build_replay(src, name, run, before, flow, headers, data, json_body)
    function = function_name(replay)
    source = render(src, replay, the_slo, slo_from, env_var, function, out)
    compile(source, str(out), "exec")  # what we write must at least be Python
    return GeneratedTest(out, source, replay, the_slo, slo_from, env_var, function)


__all__ = ["BadGenTest", "GeneratedTest", "generate", "write_test"]
