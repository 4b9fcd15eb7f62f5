"""The typer app: every command, declared in one list, and :func:`main`, where user errors become one line."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Annotated, Any, Protocol, cast

import typer

from tracehound import __version__
from tracehound.cli import analysis, console, explain, imports, investigate, lab, mcp, probe, reports, runs, sources
from tracehound.cli import demo as demo_command
from tracehound.errors import TracehoundError
from tracehound.redact import redact_text

#: ``tracehound COMMAND``, in the order ``--help`` lists them.
COMMANDS: list[tuple[str, Callable[..., Any]]] = [
    ("probe", probe.probe),
    ("locust-worker", probe.locust_worker),
    ("investigate", investigate.investigate),
    ("verify", reports.verify),
    ("gen-test", reports.gen_test),
    ("import", imports.import_),
    ("analyze", analysis.analyze),
    ("show", probe.show),
    ("report", reports.report),
    ("demo", demo_command.demo),
    ("db", sources.db),
    ("metrics", sources.metrics),
    ("explain", explain.explain),
    ("review", analysis.review),
    ("logs", analysis.logs),
    ("mcp", mcp.mcp),
    ("runs", runs.runs),
    ("sql", runs.sql),
    ("browse", sources.browse),
    ("har", sources.har),
]

#: ``tracehound lab COMMAND``.
LAB_COMMANDS: list[tuple[str, Callable[..., Any]]] = [
    ("list", lab.lab_list),
    ("up", lab.lab_up),
    ("check", lab.lab_check),
]

app = typer.Typer(
    name="tracehound",
    help="Reproduce, diagnose and verify intermittent failures of web APIs.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
lab_app = typer.Typer(
    help="The lab: real services with one known cause of intermittent failure, and their fixed twins.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        print(f"tracehound {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    pass


def _register(typer_app: typer.Typer, commands: list[tuple[str, Callable[..., Any]]]) -> None:
    for name, command in commands:
        typer_app.command(name)(command)


_register(app, COMMANDS)
app.add_typer(lab_app, name="lab")
_register(lab_app, LAB_COMMANDS)


class _ClickError(Protocol):
    """What main reads of a click usage error."""

    exit_code: int

    def format_message(self) -> str: ...


def _click_exceptions(attr: str) -> tuple[type[BaseException], ...]:
    """The exception class ``attr`` from typer's vendored click and from click: typer raises one or the other."""
    found: list[type[BaseException]] = []
    for name in ("typer._click.exceptions", "click.exceptions"):
        try:
            cls = getattr(importlib.import_module(name), attr, None)
        except ImportError:
            continue
        if isinstance(cls, type) and issubclass(cls, BaseException):
            found.append(cls)
    return tuple(found)


_CLICK_ERRORS = _click_exceptions("ClickException")
_ABORTS = _click_exceptions("Abort")
_NO_ARGS = _click_exceptions("NoArgsIsHelpError")


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one line and a non-zero exit for every error a user can cause."""
    try:
        rc = app(args=argv, standalone_mode=False)
    except TracehoundError as e:  # a message may quote what the user typed: a header, a URL, a DSN
        console.err.print(f"tracehound: error: {redact_text(e.line())}", markup=False, soft_wrap=True)
        sys.exit(e.exit_code)
    except _NO_ARGS:
        app(args=["--help"], standalone_mode=False)
        sys.exit(2)
    except _CLICK_ERRORS as e:
        usage = cast(_ClickError, e)
        console.err.print(f"tracehound: error: {redact_text(usage.format_message())}", markup=False,
                          soft_wrap=True)
        sys.exit(usage.exit_code)
    except _ABORTS:
        console.err.print("tracehound: interrupted", markup=False)
        sys.exit(130)
    except typer.Exit as e:
        rc = e.exit_code
    except KeyboardInterrupt:
        console.err.print("tracehound: interrupted", markup=False)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(1)
    if rc == 130:  # typer's answer to a Ctrl-C it caught, or a run stopped by one: say so
        console.err.print("tracehound: interrupted", markup=False)
    sys.exit(rc if isinstance(rc, int) else 0)
