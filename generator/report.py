"""A Report as text, JSON, SARIF 2.1.0 or GitHub workflow commands. Formatting only: no decisions."""

from __future__ import annotations

import json
from collections import Counter
from importlib.metadata import PackageNotFoundError, version
from pathlib import PurePath

from .analysis import FileError
from .api import Report
from .filters import Suppressed
from .policy.rules import RULES, RULES_BY_ID, Finding, Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def tool_version() -> str:
    try:
        return version("eksproxy-gen")
    except PackageNotFoundError:
        return "0+unknown"


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
    if report.suppressed:
        text += f", {len(report.suppressed)} suppressed"
    if report.errors:
        text += f"; {_plural(len({e.file for e in report.errors}), 'file')} could not be processed"
    return text + "."


def text(report: Report, quiet: bool = False) -> str:
    lines = [error_line(e) for e in report.errors]
    lines += [finding_line(f) for f in report.findings]
    if not quiet:
        lines.append(summary(report))
    return "\n".join(lines)


def as_json(report: Report) -> str:
    return json.dumps({
        "findings": [f.as_dict() for f in report.findings],
        "errors": [e.as_dict() for e in report.errors],
        "suppressed": [s.as_dict() for s in report.suppressed],
    }, indent=2)


def rule_counts(report: Report) -> list[tuple[str, str, int, str]]:
    """(rule, severity, count, title) for the terminal's summary table."""
    counts = Counter(f.rule for f in report.findings)
    return [(rule, RULES_BY_ID[rule].severity.value, n, RULES_BY_ID[rule].title) for rule, n in sorted(counts.items())]


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(report: Report) -> str:
    """GitHub Actions workflow commands: one annotation per finding and per unreadable file."""
    lines = [f"::error file={_escape_property(e.file)},line={e.line},title=eksproxy-gen::{_escape_data(e.message)}"
             for e in report.errors]
    for f in report.findings:
        level = "error" if f.severity is Severity.ERROR else "warning"
        where = f.module if f.node_group is None else f"{f.module}.{f.node_group}"
        title = _escape_property(f"{f.rule} {where}")
        lines.append(f"::{level} file={_escape_property(f.file)},line={f.line},title={title}::"
                     f"{_escape_data(f.message)}")
    return "\n".join(lines)


def _uri(file: str) -> str:
    return PurePath(file).as_posix()


def _sarif_result(f: Finding, suppression: Suppressed | None = None) -> dict[str, object]:
    index = next(i for i, rule in enumerate(RULES) if rule.id == f.rule)
    where = f.module if f.node_group is None else f"{f.module}.{f.node_group}"
    result: dict[str, object] = {
        "ruleId": f.rule,
        "ruleIndex": index,
        "level": "error" if f.severity is Severity.ERROR else "warning",
        "message": {"text": f"{where}: {f.message}"},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": _uri(f.file)},
            "region": {"startLine": f.line},
        }}],
        "partialFingerprints": {"eksproxyGroup/v1": f"{f.rule}:{_uri(f.file)}:{where}"},
    }
    if suppression is not None:
        result["suppressions"] = [{"kind": "inSource", "justification": suppression.reason or "no reason given"}]
    return result


def sarif(report: Report) -> str:
    rules = [{
        "id": rule.id,
        "name": rule.slug,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": f"{rule.title} (requirement {rule.requirement})."},
        "help": {"text": f"{rule.title}. See {rule.help_uri}",
                 "markdown": f"**{rule.title}** ({rule.requirement}). [How to fix]({rule.help_uri})"},
        "helpUri": rule.help_uri,
        "defaultConfiguration": {"level": "error" if rule.severity is Severity.ERROR else "warning"},
        "properties": {"tags": ["eks", "proxy", "terraform"], "checkov_id": rule.checkov_id},
    } for rule in RULES]
    results = [_sarif_result(f) for f in report.findings]
    results += [_sarif_result(s.finding, s) for s in report.suppressed]
    notifications = [{
        "level": "error",
        "message": {"text": e.message},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(e.file)},
                                            "region": {"startLine": e.line}}}],
    } for e in report.errors]
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "eksproxy-gen", "version": tool_version(),
                                "informationUri": RULES[0].help_uri.split("/blob/")[0], "rules": rules}},
            "results": results,
            "invocations": [{"executionSuccessful": not report.errors,
                             "toolExecutionNotifications": notifications}],
        }],
    }
    return json.dumps(document, indent=2)
