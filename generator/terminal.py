"""Output on a terminal: colour, a summary table and a progress bar, only when a person is watching.

Piped output stays the plain text contract; NO_COLOR turns colour off.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from .formats import text as formats
from .policy.rules import Severity
from .report import Report

LARGE_TREE = 50


def is_terminal() -> bool:
    return sys.stdout.isatty()


def console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, no_color="NO_COLOR" in os.environ, highlight=False)


def print_report(report: Report, quiet: bool) -> None:
    """Findings, then (unless quiet) a table by rule and the summary line."""
    if not is_terminal():
        print(formats.text(report, quiet))
        return
    out = console()
    for error in report.errors:
        out.print(f"[bold]{escape(error.file)}:{error.line}[/]: [bold red]error[/]: {escape(error.message)}")
    for f in report.findings:
        colour = "red" if f.severity is Severity.ERROR else "yellow"
        out.print(f"[bold]{escape(f.file)}:{f.line}[/]: [{colour}]{f.rule} {f.severity.value}[/] "
                  f"[cyan]{escape(f.location)}[/]: {escape(f.message)}")
    if quiet:
        return
    counts = formats.rule_counts(report)
    if counts:
        table = Table(title="Findings by rule", title_justify="left")
        for column in ("rule", "severity", "count", "what it means"):
            table.add_column(column, justify="right" if column == "count" else "left")
        for rule, severity, count, title in counts:
            table.add_row(rule, severity, str(count), title)
        out.print(table)
    out.print(escape(formats.summary(report)))


@contextmanager
def progress_bar(total: int) -> Iterator[Callable[[int], None] | None]:
    """A progress callback for large trees on a terminal; None otherwise."""
    if total < LARGE_TREE or not sys.stderr.isatty():
        yield None
        return
    bar = Progress(TextColumn("eksproxy-gen"), BarColumn(), MofNCompleteColumn(), console=console(stderr=True),
                   transient=True)
    with bar:
        task = bar.add_task("files", total=total)
        yield lambda n: bar.advance(task, n)
