"""``verify.json``, a verification's result, as listings read it back: one model, one loader.

``tracehound verify`` writes the whole result (:meth:`tracehound.verify.Verification.to_dict`);
``tracehound runs`` and ``sql`` read the few fields they list through :func:`load_verification`,
with the one schema check of :func:`tracehound.document.load_document`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from tracehound.document import load_document
from tracehound.errors import BadReport

VERIFY_SCHEMA = "tracehound.verify/1"
VERIFY_FILE = "verify.json"


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore")


class VerifiedStats(_Part):
    """The requests of one side of a verification (before or after the fix)."""

    requests: int | None = None
    failures: int | None = None
    error_rate: float | None = None


class VerificationDoc(_Part):
    """What a listing reads of ``verify.json``: how it verified, against what, and whether it passed."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    schema_: str = Field(alias="schema")
    mode: str = ""
    source: str = ""
    slo: str | None = None
    passed: bool | None = None
    before: VerifiedStats | None = None
    after: VerifiedStats | None = None
    finished_at: str | None = None


def load_verification(folder: Path) -> VerificationDoc:
    """``folder/verify.json``; :class:`BadReport` in one line when it is missing or not one."""
    return load_document(folder / VERIFY_FILE, VerificationDoc, VERIFY_SCHEMA, BadReport)


__all__ = ["VERIFY_FILE", "VERIFY_SCHEMA", "VerificationDoc", "VerifiedStats", "load_verification"]
