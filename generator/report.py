"""Turning a Report into text or JSON; the exit code is decided in the commands from the Report."""

from __future__ import annotations

import json

from .api import FileError, Report
from .policy.rules import Finding, Severity


def finding_line(f: Finding) -> str:
    where = f.module if f.node_group is None else f"{f.module}.{f.node_group}"
    return f"{f.file}:{f.line}: {f.rule} {f.severity.value} {where}: {f.message}"


def error_line(e: FileError) -> str:
    return f"{e.file}:{e.line}: error: {e.message}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(report: Report) -> str:
    findings = report.findings
    errors = sum(1 for f in findings if f.severity is Severity.ERROR)
    warnings = len(findings) - errors
    text = (f"{_plural(len(findings), 'finding')} ({_plural(errors, 'error')}, {_plural(warnings, 'warning')}) "
            f"in {_plural(len(report.files), 'file')}")
    if report.errors:
        text += f"; {_plural(len({e.file for e in report.errors}), 'file')} could not be processed"
    return text + "."


def text(report: Report) -> str:
    lines = [error_line(e) for e in report.errors]
    lines += [finding_line(f) for f in report.findings]
    lines.append(summary(report))
    return "\n".join(lines)


def as_json(report: Report) -> str:
    return json.dumps({
        "findings": [f.as_dict() for f in report.findings],
        "errors": [e.as_dict() for e in report.errors],
    }, indent=2)
