"""GitLab code quality report: a JSON list of issues, shown in merge requests."""

from __future__ import annotations

import hashlib
import json

from ..report import Report
from .escape import printable
from .fingerprint import fingerprint

_SEVERITY = {"error": "major", "warning": "minor"}


def gitlab(report: Report) -> str:
    issues = []
    for f in report.findings:
        issues.append({
            "type": "issue",
            "check_name": f.rule,
            "description": printable(f"{f.rule} {f.location}: {f.message}"),
            "categories": ["Security"],
            "severity": _SEVERITY[f.severity.level],
            "fingerprint": fingerprint(f),
            "location": {"path": f.file, "lines": {"begin": f.line}},
        })
    for e in report.errors:
        issues.append({
            "type": "issue", "check_name": "eksproxy-gen", "description": printable(e.message),
            "categories": ["Bug Risk"],
            "severity": "blocker" if e.internal else "critical",
            "fingerprint": hashlib.sha256(f"{e.file}\0{e.message}".encode()).hexdigest(),
            "location": {"path": e.file, "lines": {"begin": e.line}},
        })
    for n in report.not_judged:
        issues.append({
            "type": "issue", "check_name": "eksproxy-gen-not-judged", "description": printable(n.message),
            "categories": ["Bug Risk"], "severity": "info",
            "fingerprint": hashlib.sha256(f"{n.file}\0{n.line}\0{n.message}".encode()).hexdigest(),
            "location": {"path": n.file, "lines": {"begin": n.line}},
        })
    return json.dumps(issues, indent=2)
