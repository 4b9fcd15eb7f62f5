"""The files tracehound writes and reads back (``report.json``, ``run.json``): one loader, one version check.

Each document is a pydantic model at the file boundary with a ``schema`` field such as
``tracehound.report/1``. Every reader goes through :func:`load_document`, so an unknown major
version, a file that is not JSON or a document of another kind gets the same one-line error
wherever it is read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from tracehound.errors import TracehoundError

D = TypeVar("D", bound=BaseModel)


def schema_kind(schema: str) -> str:
    """``tracehound.report/1`` → ``tracehound.report``."""
    return schema.rsplit("/", 1)[0]


def check_schema(found: object, expected: str, what: str, error: type[TracehoundError]) -> None:
    """Raise ``error`` unless ``found`` is ``expected``: same kind, same major version."""
    if not isinstance(found, str) or schema_kind(found) != schema_kind(expected):
        raise error(f"{what} is not a {schema_kind(expected)} document (schema {found!r})")
    if found != expected:
        raise error(f"{what} has schema {found!r}; this tracehound reads {expected!r}",
                    hint="read it with the tracehound version that wrote it")


def load_document(path: Path, model: type[D], expected: str, error: type[TracehoundError]) -> D:
    """Read ``path`` as ``model``; every failure is one ``error`` line naming the file."""
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise error(f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError) as e:
        raise error(f"{path} cannot be read: {e}") from None
    except json.JSONDecodeError as e:
        raise error(f"{path} is not JSON: {e.msg} at line {e.lineno}") from None
    except (ValueError, RecursionError) as e:  # a 5,000-digit number; arrays nested thousands deep
        raise error(f"{path} is not a {schema_kind(expected)} document: {str(e).split(';')[0]}") from None
    if not isinstance(raw, dict):
        raise error(f"{path} is not a {schema_kind(expected)} document (a JSON {type(raw).__name__})")
    check_schema(raw.get("schema"), expected, str(path), error)
    try:
        return model.model_validate(raw)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top)"
        raise error(f"{path}: {where}: {first['msg']} ({e.error_count()} problem(s) in all)") from None


__all__ = ["check_schema", "load_document", "schema_kind"]
