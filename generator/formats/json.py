"""The JSON report: findings, errors, suppressed findings, and the module calls read."""

from __future__ import annotations

import json

from ..report import Report


def as_json(report: Report) -> str:
    return json.dumps({
        "findings": [f.as_dict() for f in report.findings],
        "errors": [e.as_dict() for e in report.errors],
        "suppressed": [s.as_dict() for s in report.suppressed],
        "modules": report.modules,
    }, indent=2)
