"""The failure-mode catalog: one YAML entry per failure mode, validated on load.

Each file ``catalog/<id>.yaml`` describes one cause of intermittent failure as data: what it is,
which signals support or refute it and by how much, the experiments that tell it apart from its
look-alikes, fixes, verification, prevention and references. The diagnoser
(:mod:`tracehound.diagnosis.scoring`) reads ``prior``, ``signals``, ``absent`` and ``why``;
``tracehound explain ID`` and the pages in ``docs/failure-modes/`` render the rest.

The format (every key required unless marked optional)::

    id: db_pool_exhaustion            # = the file's name; a stable id (tracehound.failure_modes)
    title: Database connection pool exhausted
    summary: what it is and why it is intermittent (2-4 sentences)
    symptoms: [as users report them]
    symptom_phrases:                  # optional. generic user wording -> log-odds points when the
      when it is busy: 0.5            # --symptom says it (within ±1; a denied phrase counts half, against)
    prior: 0.10                       # base rate among intermittent web-API failures; all sum to ~1
    signals:                          # registered signal -> natural-log likelihood ratio at full
      failures_rise_with_concurrency: 1.5     # strength: positive supports, negative refutes
    absent:                           # optional. Signals this mode makes likely: when the data could
      failures_rise_with_concurrency: -1.5    # have shown one (tested) and did not, add this (< 0)
    why:                              # one sentence per signal named above, for the explanation
      failures_rise_with_concurrency: requests queue for a fixed number of connections ...
    experiments: [{name, why, expect}]        # the experiments that tell it apart
    fixes:
      immediate: [...]
      short_term: [...]
      long_term: [...]
      code: [{title, language, before, after}]    # optional (may be empty)
    verification:
      steps: [...]
      slo: {error_rate: 0.01, p95_ms: 500}    # error_rate required; p95_ms, p99_ms optional
      rollback: ...                           # optional
    prevention:
      alerts: [{name, expr, threshold, why}]
      ci: [...]
    references: [{title, url}]

Regenerate the docs after editing an entry (``python -m tracehound.diagnosis.catalog`` alone
validates the entries)::

    python -m tracehound.docs
"""

from __future__ import annotations

import argparse
import sys

from tracehound.diagnosis.docs import (
    DOCS_COMMAND,
    index_markdown,
    render_docs,
    signals_markdown,
    stale_docs,
    write_docs,
)
from tracehound.diagnosis.entries import (
    CATALOG_DIR,
    MAX_WEIGHT,
    NAMESPACES,
    expected_ids,
    get,
    load_catalog,
    load_entry,
    unregistered_signals,
)
from tracehound.diagnosis.failure_mode import (
    SLO_KEYS,
    Alert,
    CodeFix,
    DiscriminatingExperiment,
    FailureMode,
    Fixes,
    Prevention,
    Reference,
    Verification,
)
from tracehound.errors import BadCatalog


def main(argv: list[str] | None = None) -> int:
    """``python -m tracehound.diagnosis.catalog``: validate the entries (the docs: ``python -m tracehound.docs``)."""
    ap = argparse.ArgumentParser(prog="python -m tracehound.diagnosis.catalog",
                                 description=f"Validate the failure-mode catalog (its docs: {DOCS_COMMAND}).")
    ap.parse_args(argv)
    try:
        catalog = load_catalog()
    except BadCatalog as e:
        print(f"catalog: error: {e}", file=sys.stderr)
        return 2
    missing = [i for i in expected_ids() if i not in catalog]
    if missing:
        print(f"catalog: error: no entry for {', '.join(missing)}", file=sys.stderr)
        return 2
    print(f"catalog: {len(catalog)} entries valid, priors sum to {sum(m.prior for m in catalog.values()):.3f}")
    return 0


__all__ = ["CATALOG_DIR", "DOCS_COMMAND", "MAX_WEIGHT", "NAMESPACES", "SLO_KEYS", "Alert", "CodeFix",
           "DiscriminatingExperiment", "FailureMode", "Fixes", "Prevention", "Reference", "Verification",
           "expected_ids", "get", "index_markdown", "load_catalog", "load_entry", "main", "render_docs",
           "signals_markdown", "stale_docs", "unregistered_signals", "write_docs"]


if __name__ == "__main__":
    sys.exit(main())
