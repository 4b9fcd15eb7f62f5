"""Every parser of user input, fuzzed: each input ends in a result or one TracehoundError, in time.

The inputs and parsers are in ``tests/parser_fuzz``; the Hypothesis profile (few derandomized
examples when ``CI=true``) in ``conftest.py``. ``benchmarks/fuzz.py`` runs the same targets with
100,000 examples each. An input that once broke a parser is kept in its target's ``examples``.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from parser_fuzz.targets import BY_NAME, TARGETS, Target, import_access_log


def _property(target: Target, work: Path) -> Any:
    @given(target.inputs)
    def check(value: Any) -> None:
        with contextlib.suppress(target.allowed):
            target.run(value, work)

    for ex in target.examples:
        check = example(ex)(check)
    return check


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_every_input_ends_in_a_result_or_one_tracehound_error(target: Target, tmp_path: Path) -> None:
    _property(target, tmp_path)()


@pytest.mark.parametrize("fmt", ["nginx", "apache", "alb", "cloudfront", "jsonl"])
def test_the_whole_access_log_import_too(fmt: str, tmp_path: Path) -> None:
    """The targets run the importer's SQL as a query; here a few examples go all the way to Parquet."""
    target = BY_NAME[f"access-{fmt}"]

    @settings(max_examples=8)
    @given(target.inputs)
    def check(value: Any) -> None:
        with contextlib.suppress(target.allowed):
            import_access_log(value, tmp_path, fmt)

    check()
