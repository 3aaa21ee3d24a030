"""Output for a person at a terminal: colour, a table by rule, a progress bar. Loaded only then."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from .formats import text as formats
from .formats.escape import printable
from .policy.catalog import Severity
from .report import Report


def console(colour: bool, stderr: bool = False) -> Console:
    """A console that writes styles exactly when ``colour`` says (no colour system writes no escape codes)."""
    return Console(stderr=stderr, color_system="auto" if colour else None, force_terminal=True, highlight=False)


def _shown(text: str) -> str:
    """Text from the repository as rich must print it: control characters visible, markup taken literally."""
    return escape(printable(text))


def print_findings(report: Report) -> None:
    """One line per finding, never broken by rich: a terminal wraps long lines itself, and a log or a pipe
    (``--color always``, FORCE_COLOR) must get each finding whole, however wide rich guesses the screen is."""
    out = console(colour=True)
    out.soft_wrap = True
    for error in report.errors:
        out.print(f"[bold]{_shown(error.file)}:{error.line}[/]: [bold red]error[/]: {_shown(error.message)}")
    for f in report.findings:
        colour = "red" if f.severity is Severity.ERROR else "yellow"
        out.print(f"[bold]{_shown(f.file)}:{f.line}[/]: [{colour}]{f.rule} {f.severity.value}[/] "
                  f"[cyan]{_shown(f.location)}[/]: {_shown(f.message)}")


def print_table(report: Report, colour: bool) -> None:
    counts = formats.rule_counts(report)
    if not counts:
        return
    table = Table(title="Findings by rule", title_justify="left")
    for column in ("rule", "severity", "count", "what it means"):
        table.add_column(column, justify="right" if column == "count" else "left")
    for rule, severity, count, title in counts:
        table.add_row(rule, severity, str(count), title)
    console(colour, stderr=True).print(table)


@contextmanager
def progress(total: int, colour: bool) -> Iterator[Callable[[int], None]]:
    bar = Progress(TextColumn("eksproxy-gen"), BarColumn(), MofNCompleteColumn(), console=console(colour, stderr=True),
                   transient=True)
    with bar:
        task = bar.add_task("files", total=total)
        yield lambda n: bar.advance(task, n)
