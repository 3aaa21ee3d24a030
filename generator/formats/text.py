"""The plain text lines: ``file:line: RULE severity module.group: message``, and the summary."""

from __future__ import annotations

from collections import Counter

from ..policy.rules import RULES_BY_ID, Finding, Severity
from ..report import FileError, Report


def finding_line(f: Finding) -> str:
    return f"{f.file}:{f.line}: {f.rule} {f.severity.value} {f.location}: {f.message}"


def error_line(e: FileError) -> str:
    return f"{e.file}:{e.line}: error: {e.message}"


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(report: Report) -> str:
    findings = report.findings
    errors = sum(1 for f in findings if f.severity is Severity.ERROR)
    warnings = len(findings) - errors
    text = (f"{plural(len(findings), 'finding')} ({plural(errors, 'error')}, {plural(warnings, 'warning')}) "
            f"in {plural(len(report.files), 'file')}")
    if report.suppressed:
        text += f", {len(report.suppressed)} suppressed"
    if report.errors:
        text += f"; {plural(len({e.file for e in report.errors}), 'file')} could not be processed"
    return text + "."


def text(report: Report, quiet: bool = False) -> str:
    lines = [error_line(e) for e in report.errors]
    lines += [finding_line(f) for f in report.findings]
    if not quiet:
        lines.append(summary(report))
    return "\n".join(lines)


def rule_counts(report: Report) -> list[tuple[str, str, int, str]]:
    """(rule, severity, count, title) for the terminal's summary table."""
    counts = Counter(f.rule for f in report.findings)
    return [(rule, RULES_BY_ID[rule].severity.value, n, RULES_BY_ID[rule].title) for rule, n in sorted(counts.items())]
