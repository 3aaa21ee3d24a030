"""The report as it may be shown: every credential hidden in every string it holds, before any format sees it.

Findings hide credentials when they are made; file errors, notes, diffs,
module and group names are hidden here, once, so every format (and each
output file) prints the same hidden text. Hiding strings rather than the
formatted output keeps JSON keys and structure intact whatever the secret is.
"""

from __future__ import annotations

from dataclasses import replace

from ..filters import Suppressed
from ..policy.catalog import Finding
from ..policy.values import mask_credentials as hide
from ..policy.values import masked_data
from ..report import FileOutcome, Report


def redacted(report: Report) -> Report:
    shown = Report(mode=report.mode)
    for outcome in report.files:
        _copy(outcome, shown.outcome(hide(outcome.display)))
    shown.suppressed = [Suppressed(_finding(s.finding), hide(s.reason)) for s in report.suppressed]
    shown.modules = [_hidden_object(m) for m in report.modules]
    shown.notices = [replace(n, file=hide(n.file), message=hide(n.message)) for n in report.notices]
    shown.resources = [_hidden_object(r) for r in report.resources]
    return shown


def _copy(outcome: FileOutcome, into: FileOutcome) -> None:
    into.findings += [_finding(f) for f in outcome.findings]
    into.errors += [replace(e, file=hide(e.file), message=hide(e.message)) for e in outcome.errors]
    into.fixed += [replace(g, module=hide(g.module), map=hide(g.map),
                           node_group=None if g.node_group is None else hide(g.node_group)) for g in outcome.fixed]
    into.notes += [hide(note) for note in outcome.notes]
    into.changed = into.changed or outcome.changed
    into.diff = into.diff or hide(outcome.diff)


def _finding(f: Finding) -> Finding:
    return replace(f, file=hide(f.file), module=hide(f.module), map=hide(f.map), module_file=hide(f.module_file),
                   group_file=hide(f.group_file), node_group=None if f.node_group is None else hide(f.node_group))


def _hidden_object(value: dict[str, object]) -> dict[str, object]:
    """A module or resource as JSON lists it, with every string hidden."""
    return {key: masked_data(item) for key, item in value.items()}
