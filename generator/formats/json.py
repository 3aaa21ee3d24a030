"""The JSON report: findings, errors, suppressed findings, and the module calls and resources read."""

from __future__ import annotations

import json

from ..report import Report


def as_json(report: Report) -> str:
    return json.dumps({
        "findings": [f.as_dict() for f in report.findings],
        "errors": [e.as_dict() for e in report.errors],
        "suppressed": [s.as_dict() for s in report.suppressed],
        "modules": report.modules,
        "notices": [n.as_dict() for n in report.notices],
        "resources": report.resources,
    }, indent=2)


def fix_json(report: Report) -> str:
    """What fix did: files changed, groups fixed (with the rules resolved), what is left, and notes."""
    return json.dumps({
        "mode": report.mode,
        "files_changed": [o.display for o in report.changed],
        "fixed": [{"file": o.display, **g.as_dict()} for o in report.files for g in o.fixed],
        "findings": [f.as_dict() for f in report.findings],
        "errors": [e.as_dict() for e in report.errors],
        "suppressed": [s.as_dict() for s in report.suppressed],
        "notes": [{"file": o.display, "note": n} for o in report.files for n in dict.fromkeys(o.notes)],
        "diffs": {o.display: o.diff for o in report.changed if o.diff},
    }, indent=2)
