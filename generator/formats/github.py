"""GitHub Actions workflow commands: one annotation per finding and per file that could not be read."""

from __future__ import annotations

from ..report import Report


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
    return "\n".join(lines)
