"""The one ranking: the catalog scored from the evidence, once the failure is reproduced.

``investigate``, ``analyze`` and the MCP tools all rank through :func:`rank`, so a cause cannot
lead in one and be missing from another for the same evidence. Its confidences are calibrated
(``diagnosis/calibration.yaml``'s temperature); the plan's own, while it chooses experiments, are not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tracehound.diagnosis.entries import load_catalog, temperature
from tracehound.diagnosis.scoring import Entry, Hypothesis, score
from tracehound.diagnosis.signals import Signal
from tracehound.diagnosis.symptom import SymptomMatch
from tracehound.limits import reproduced


def rank(signals: Iterable[Signal], tested: Iterable[str], failures: int,
         catalog: Sequence[Entry] | None = None, symptom: SymptomMatch | None = None) -> list[Hypothesis]:
    """Every failure mode ranked best first, or none while fewer failures than a reproduction were seen.

    ``symptom`` (:func:`tracehound.diagnosis.symptom.match_symptom`) moves the causes the user's words point to.
    """
    if not reproduced(failures):
        return []
    if catalog is None:
        catalog = list(load_catalog().values())
    return score(catalog, signals, tested, symptom, temperature())


__all__ = ["rank"]
