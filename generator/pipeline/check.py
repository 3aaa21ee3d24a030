"""``check`` over many folders: settle what can be settled without parsing, analyse the rest, one report."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from ..cache import ResultCache
from ..filters import ALL_RULES, RuleFilter
from ..policy.settings import Settings
from ..report import Report
from .inputs import FolderInput, display_name, folders
from .settle import FolderCheck, Settler, analysed, failure_report
from .targets import NodeGroupTarget
from .visible import notices

if TYPE_CHECKING:
    from ..model import ModuleCall
    from .analysis import FolderResult
    from .visible import Visible

Progress = Callable[[int], None]


def check(files: list[tuple[Path, Settings]], rule_filter: RuleFilter = ALL_RULES,
          progress: Progress | None = None, cache: ResultCache | None = None) -> Report:
    """One report for all folders, in the order the folders were found, however their results arrive."""
    inputs = folders(files)
    settler = Settler(rule_filter, cache)
    results: dict[int, Report] = {}
    pending: list[FolderInput] = []
    for inp in inputs:
        settled = settler.settle(inp)
        if settled is None:
            pending.append(inp)
            continue
        results[id(inp)] = settled
        _advance(progress, inp)
    for inp, done in analysed(pending, partial(check_folder, rule_filter=rule_filter), _failed):
        if not any(e.internal for e in done.report.errors):  # a failure is not a verdict to keep
            settler.store(inp, done)
        results[id(inp)] = done.report
        _advance(progress, inp)
    settler.save()
    report = Report()
    for inp in inputs:
        report.merge(results[id(inp)])
    report.sort()
    return report


def _failed(inp: FolderInput, why: str) -> FolderCheck:
    return FolderCheck(failure_report(inp, why), frozenset())


def _advance(progress: Progress | None, inp: FolderInput) -> None:
    if progress:
        progress(len(inp.targets))


def check_folder(inp: FolderInput, rule_filter: RuleFilter) -> FolderCheck:
    """Read, model and judge one folder, and keep what the user selected."""
    from .analysis import analyse
    from .visible import visible

    result = analyse(inp)
    report = Report()
    add_folder(report, result, visible(result, rule_filter))
    return FolderCheck(report, result.dependencies)


TERRAFORM_OWNERS = ("kubectl_manifest.", "kubernetes_manifest.", "helm_release.", "module.")


def add_folder(report: Report, result: FolderResult, seen: Visible) -> None:
    """Outcomes for the folder's targets, its errors, and the findings of the targets the named files hold."""
    for path in result.input.targets:
        report.outcome(display_name(path))
    for error in result.errors.values():
        report.outcome(error.file).errors.append(error)
    owners: dict[tuple[str, str], tuple[int, str, list[str]]] = {}
    for target in result.targets:
        if not any(result.reported(file) for file, _line in target.places):
            continue
        for finding in seen.of(target):
            report.outcome(finding.file).findings.append(finding)
        if isinstance(target, NodeGroupTarget):
            continue
        (file, line), key = target.places[0], target.key
        if key.owner.startswith(TERRAFORM_OWNERS):
            names = owners.setdefault((file, key.owner), (line, key.map, []))[2]
            names += [key.name] if key.name else []
    for finding in seen.modules:
        if result.reported(finding.module_file):
            report.outcome(finding.file).findings.append(finding)
    report.resources += [{"file": file, "line": line, "name": owner, "kind": kind, "node_classes": names}
                         for (file, owner), (line, kind, names) in owners.items()]
    report.suppressed += [s for s in seen.suppressed if result.reported(s.finding.module_file)
                          or result.reported(s.finding.group_file)]
    for module in result.modules:
        if result.reported(module.path):
            report.modules.append(module_entry(module))
    for display, directives in seen.directives.items():
        if result.reported(display):
            report.notices += notices(directives, seen.rule_filter)
    report.notices += [n for n in result.notices if result.reported(n.file)]


def module_entry(module: ModuleCall) -> dict[str, object]:
    """A module call as JSON output lists it: where it is and its groups, so other tools can map findings."""
    return {
        "file": module.facts.file, "line": module.facts.line, "name": module.facts.name,
        "end_line": module.doc.line_of(module.block.span.end),
        "groups": [{"name": g.facts.name, "map": g.facts.map, "file": g.facts.file, "line": g.facts.line}
                   for g in module.groups],
    }

