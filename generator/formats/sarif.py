"""SARIF 2.1.0 for code-scanning dashboards."""

from __future__ import annotations

import json
from pathlib import PurePath
from urllib.parse import quote

from ..filters import Suppressed
from ..policy.catalog import RULES, Finding
from ..report import Report
from .fingerprint import fingerprint

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def tool_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("eksproxy-gen")
    except PackageNotFoundError:
        return "0+unknown"


def _uri(file: str) -> str:
    """A relative file name as a URI reference: spaces and other reserved characters percent-encoded."""
    return quote(PurePath(file).as_posix(), safe="/")


SECURITY_SEVERITY = {"error": "7.0", "warning": "4.0"}


def _result(f: Finding, suppression: Suppressed | None = None) -> dict[str, object]:
    index = next(i for i, rule in enumerate(RULES) if rule.id == f.rule)
    result: dict[str, object] = {
        "ruleId": f.rule,
        "ruleIndex": index,
        "level": f.severity.level,
        "message": {"text": f"{f.location}: {f.message}"},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": _uri(f.file)},
            "region": {"startLine": f.line},
        }}],
        "partialFingerprints": {"eksproxyFinding/v1": fingerprint(f)[:32]},
    }
    if suppression is not None:
        result["suppressions"] = [{"kind": "inSource", "justification": suppression.reason or "no reason given"}]
    return result


def sarif(report: Report) -> str:
    rules = [{
        "id": rule.id,
        "name": rule.slug,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": f"{rule.title}."},
        "help": {"text": f"{rule.title}. See {rule.help_uri}",
                 "markdown": f"**{rule.title}**. [How to fix]({rule.help_uri})"},
        "helpUri": rule.help_uri,
        "defaultConfiguration": {"level": rule.severity.level},
        "properties": {"tags": ["eks", "proxy", "terraform"], "checkov_id": rule.checkov_id,
                       "security-severity": SECURITY_SEVERITY[rule.severity.level],
                       "precision": "high" if rule.severity.level == "error" else "medium"},
    } for rule in RULES]
    results = [_result(f) for f in report.findings]
    results += [_result(s.finding, s) for s in report.suppressed]
    notifications = [{
        "level": "error",
        "message": {"text": e.message},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(e.file)},
                                            "region": {"startLine": e.line}}}],
    } for e in report.errors]
    notifications += [{
        "level": "warning",
        "message": {"text": f"not judged: {n.message}"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(n.file)},
                                            "region": {"startLine": n.line}}}],
    } for n in report.not_judged]
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
