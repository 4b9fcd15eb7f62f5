"""Markdown pieces shared by a failure mode's page and the catalog's index pages."""

from __future__ import annotations


def num(v: float) -> str:
    """A number as short as it reads: ``1``, ``0.5``, ``500``."""
    return f"{v:g}"


def percent(p: float) -> str:
    """A share of failures: ``10 %``, ``0.5 %``."""
    return f"{100 * p:.0f} %" if p >= 0.01 else f"{100 * p:.1f} %"


def weight(v: float | None) -> str:
    """A signed log-likelihood weight with a true minus sign (empty when there is none)."""
    return "" if v is None else f"{v:+.1f}".replace("-", "−")


def cell(text: str) -> str:
    """Text for a Markdown table cell: one line, pipes kept."""
    return text.replace("|", "\\|").replace("\n", " ")


__all__ = ["cell", "num", "percent", "weight"]
