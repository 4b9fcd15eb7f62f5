"""The report's two renderings, from Jinja2 templates shipped with the package.

The HTML is self-contained: its CSS is inlined from ``templates/report.css``, its charts are
inline SVG, and it refers to nothing outside itself (links to references are plain anchors, not
resources). The Markdown refers to its charts as SVG files written beside it.

Both templates escape what they print: HTML autoescaping in one; in the other, angle brackets
are escaped and table cells keep their pipes, so text captured from a service (a body sample,
an error message) cannot turn into markup in a Markdown viewer. Text meant to be printed as
code passes through the ``code``/``fence`` filters instead.
"""

from __future__ import annotations

import functools
import html
import re
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from tracehound.report.content import Content, percent

_BACKTICKS = re.compile(r"`([^`\n]+)`")


def _pct(v: Any) -> str:
    return "–" if v is None else percent(float(v))


def _slo_pct(v: Any) -> str:
    """An SLO fraction as written: 0.01 is ``1 %``, 0.001 is ``0.1 %``."""
    return f"{100 * float(v):g} %"


def _ms(v: Any) -> str:
    if v is None:
        return "–"
    v = float(v)
    return f"{v:.0f} ms" if v < 1000 else f"{v / 1000:.2f} s"


def _pts(v: Any) -> str:
    return f"{float(v):+.2f}".replace("-", "−")


def _seconds(v: Any) -> str:
    v = float(v or 0)
    return f"{v:.0f} s" if v >= 10 else f"{v:.1f} s"


# -- Markdown ---------------------------------------------------------------------------------


_MD_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
# What a Markdown viewer would take for markup: an HTML tag or comment, an entity, an image.
_MD_ACTIVE = re.compile(r"<(?=[A-Za-z/!?])|&(?=#?\w+;)|!\[")


def _md_escape(v: Any) -> str:
    """Text with tags, entities and images defused, outside code spans (inside them nothing is active)."""
    text, out, at = str(v), [], 0
    for m in _MD_CODE_SPAN.finditer(text):
        out.append(_md_defuse(text[at:m.start()]))
        out.append(m.group(0))
        at = m.end()
    out.append(_md_defuse(text[at:]))
    return "".join(out)


def _md_defuse(text: str) -> str:
    return _MD_ACTIVE.sub(lambda m: {"<": "&lt;", "&": "&amp;"}.get(m.group(0), "!\\["), text)


def _md_finalize(v: Any) -> Any:
    if v is None:
        return ""
    return v if isinstance(v, Markup) else _md_escape(v)


def _md_cell(v: Any) -> Markup:
    """Text for a Markdown table cell: escaped, one line, pipes kept."""
    return Markup(" ".join(_md_escape(v).split()).replace("|", "\\|"))


def _md_code(v: Any) -> Markup:
    """An inline code span that holds any text (backticks in it included)."""
    text = " ".join(str(v).split())
    ticks = "`" * (max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Markup(f"{ticks}{pad}{text}{pad}{ticks}")


def _md_fence(v: Any, language: str = "") -> Markup:
    """A fenced code block that holds any text."""
    text = str(v).rstrip("\n")
    fence = "`" * max(3, max((len(m) for m in re.findall(r"`{3,}", text)), default=0) + 1)
    return Markup(f"{fence}{language}\n{text}\n{fence}")


# -- HTML -------------------------------------------------------------------------------------


def _prose(v: Any) -> Markup:
    """Escaped text, with `backticked` words set as code."""
    return Markup(_BACKTICKS.sub(lambda m: f"<code>{m.group(1)}</code>", html.escape(str(v), quote=False)))


@functools.cache
def _environment(kind: str) -> Environment:
    common = {"pct": _pct, "slo_pct": _slo_pct, "ms": _ms, "pts": _pts, "seconds": _seconds}
    if kind == "html":
        env = Environment(loader=PackageLoader("tracehound.report", "templates"), autoescape=True,
                          undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        env.filters.update(common, prose=_prose)
    else:
        env = Environment(loader=PackageLoader("tracehound.report", "templates"), autoescape=False,
                          undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                          finalize=_md_finalize, keep_trailing_newline=True)
        env.filters.update(common, cell=_md_cell, code=_md_code, fence=_md_fence)
    return env


def render_markdown(content: Content, chart_dir: str = "charts") -> str:
    """``report.md``: charts referred to as ``chart_dir/<name>.svg``."""
    text = _environment("md").get_template("report.md.j2").render(c=content, chart_dir=chart_dir)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def render_html(content: Content) -> str:
    """``report.html``: one file, nothing fetched."""
    return _environment("html").get_template("report.html.j2").render(c=content)


__all__ = ["render_html", "render_markdown"]
