"""GitHub Actions: workflow commands (one annotation per finding) and a Markdown job summary.

GitHub shows at most ten annotations of each kind per step, so the job summary
lists every finding as well.
"""

from __future__ import annotations

from ..report import Report
from .text import rule_counts, summary


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(report: Report) -> str:
    lines = [f"::error file={_escape_property(e.file)},line={e.line},title=eksproxy-gen::{_escape_data(e.message)}"
             for e in report.errors]
    for f in report.findings:
        title = _escape_property(f"{f.rule} {f.location}")
        lines.append(f"::{f.severity.level} file={_escape_property(f.file)},line={f.line},title={title}::"
                     f"{_escape_data(f.message)}")
    lines.append(f"::notice title=eksproxy-gen::{_escape_data(summary(report))}")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def step_summary(report: Report) -> str:
    """Markdown for $GITHUB_STEP_SUMMARY: the counts by rule and every finding."""
    lines = ["## eksproxy-gen", "", summary(report), ""]
    counts = rule_counts(report)
    if counts:
        lines += ["| rule | severity | count | what it means |", "| --- | --- | ---: | --- |"]
        lines += [f"| {rule} | {severity} | {count} | {_cell(title)} |" for rule, severity, count, title in counts]
        lines += ["", "| file | line | rule | node group | message |", "| --- | ---: | --- | --- | --- |"]
        lines += [f"| {_cell(f.file)} | {f.line} | {f.rule} | {_cell(f.location)} | {_cell(f.message)} |"
                  for f in report.findings]
    if report.errors:
        lines += ["", "| file | line | error |", "| --- | ---: | --- |"]
        lines += [f"| {_cell(e.file)} | {e.line} | {_cell(e.message)} |" for e in report.errors]
    return "\n".join(lines) + "\n"
