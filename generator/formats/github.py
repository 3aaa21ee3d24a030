"""GitHub Actions: workflow commands (one annotation per finding) and a Markdown job summary.

GitHub shows at most ten annotations of each kind per step, so the job summary
lists every finding as well.
"""

from __future__ import annotations

from ..report import Report
from .escape import markdown_cell, printable
from .text import rule_counts, summary


def _escape_data(value: str) -> str:
    """Workflow-command data: printable text (no line break can start a command of its own), ``%`` encoded."""
    return printable(value).replace("%", "%25")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(report: Report) -> str:
    lines = [f"::error file={_escape_property(e.file)},line={e.line},title=eksproxy-gen::{_escape_data(e.message)}"
             for e in report.errors]
    for f in report.findings:
        title = _escape_property(f"{f.rule} {f.location}")
        lines.append(f"::{f.severity.level} file={_escape_property(f.file)},line={f.line},title={title}::"
                     f"{_escape_data(f.message)}")
    for n in report.not_judged:
        lines.append(f"::warning file={_escape_property(n.file)},line={n.line},title=eksproxy-gen: not judged::"
                     f"{_escape_data(n.message)}")
    lines.append(f"::notice title=eksproxy-gen::{_escape_data(summary(report))}")
    return "\n".join(lines)


def _row(*cells: object) -> str:
    """A Markdown table row; every cell's text is taken literally (no line break, markup or HTML gets through)."""
    return "| " + " | ".join(markdown_cell(str(cell)) for cell in cells) + " |"


def step_summary(report: Report) -> str:
    """Markdown for $GITHUB_STEP_SUMMARY: the counts by rule and every finding."""
    lines = ["## eksproxy-gen", "", summary(report), ""]
    counts = rule_counts(report)
    if counts:
        lines += ["| rule | severity | count | what it means |", "| --- | --- | ---: | --- |"]
        lines += [_row(rule, severity, count, title) for rule, severity, count, title in counts]
        lines += ["", "| file | line | rule | node group | message |", "| --- | ---: | --- | --- | --- |"]
        lines += [_row(f.file, f.line, f.rule, f.location, f.message) for f in report.findings]
    if report.errors:
        lines += ["", "| file | line | error |", "| --- | ---: | --- |"]
        lines += [_row(e.file, e.line, e.message) for e in report.errors]
    if report.not_judged:
        lines += ["", "| file | line | not judged |", "| --- | ---: | --- |"]
        lines += [_row(n.file, n.line, n.message) for n in report.not_judged]
    return "\n".join(lines) + "\n"
