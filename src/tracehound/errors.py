"""Errors a user can cause. The CLI catches :class:`TracehoundError` once and prints one line."""

from __future__ import annotations


class TracehoundError(Exception):
    """Base of every error caused by the user's input or environment; ``str()`` is the message."""

    exit_code = 2
    hint = ""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    def line(self) -> str:
        msg = str(self)
        return f"{msg} ({self.hint})" if self.hint else msg


class BadTarget(TracehoundError):
    """The target URL, method, header or body cannot be used."""


class TargetUnreachable(TracehoundError):
    """The target's host does not resolve, or no connection to it ever succeeded."""

    exit_code = 3


class BadFlow(TracehoundError):
    """A flow file is unreadable or has a bad step or an unknown variable."""


class BadData(TracehoundError):
    """Parameter data cannot be used: a data file missing, empty or not CSV, a column the flow does not
    use, an empty list or a backwards range."""


class BadShape(TracehoundError):
    """The load shape or its bounds are missing or inconsistent."""


class OutputNotWritable(TracehoundError):
    """The output folder cannot be created or written."""


class EngineUnavailable(TracehoundError):
    """A load engine cannot run: Locust is not installed, or its master or workers did not start or connect."""


class BadImport(TracehoundError):
    """A file to import is unreadable, corrupt, truncated or of an unknown format."""


class BadRun(TracehoundError):
    """A run folder is missing or unreadable."""


class BadScenario(TracehoundError):
    """A lab scenario is unknown, or its ``scenario.yaml`` is unreadable or invalid."""


class MissingBinary(TracehoundError):
    """A server the lab needs (PostgreSQL, Redis, nginx) is not installed."""


class ServerFailed(TracehoundError):
    """A lab server did not start, or did not become ready in time."""

    exit_code = 3


class BadCatalog(TracehoundError):
    """A failure-mode catalog entry is unreadable or invalid (the message names file and field)."""


class UnknownFailureMode(TracehoundError):
    """A failure-mode id that the catalog has no entry for."""


class BadSource(TracehoundError):
    """A --db or --redis source is malformed, or the server rejects its credentials or database."""


class SourceUnreachable(TracehoundError):
    """A --db or --redis server refuses the connection, does not answer, or its host does not resolve."""

    exit_code = 3


class BadReport(TracehoundError):
    """An investigation folder has no readable ``report.json``, or one of an unknown schema."""


class BadLogOption(TracehoundError):
    """A ``--since``, ``--until`` or ``--tz`` value of the log analyst cannot be read."""


class BadSymptom(TracehoundError):
    """A ``--symptom`` that is empty, or too long to be a user's report."""


class BadExpectation(TracehoundError):
    """An ``--expect`` (or a flow step's ``expect:``) that cannot be read: a bad status, JSON path or regex."""
