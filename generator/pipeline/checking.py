"""``check`` over many folders: settle what can be settled without parsing, analyse the rest, one report."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

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
T = TypeVar("T")


def check(files: list[tuple[Path, Settings]], rule_filter: RuleFilter = ALL_RULES,
          progress: Progress | None = None, cache: ResultCache | None = None,
          filters: Mapping[Path, RuleFilter] | None = None) -> Report:
    """One report for all folders, in the order the folders were found, however their results arrive.

    ``filters`` gives the folders whose settings file chose other rules their own
    selection; the others get ``rule_filter``.
    """
    inputs = folders(files)
    by_folder = dict(filters or {})
    settlers = Settlers(rule_filter, cache, by_folder)
    results, pending = settlers.settle_all(inputs, progress)
    for inp, done in analysed(pending, PerFolder(check_folder, rule_filter, by_folder), _failed):
        if not any(e.internal for e in done.report.errors):  # a failure is not a verdict to keep
            settlers.of(inp).store(inp, done)
        results[id(inp)] = done.report
        advance(progress, inp)
    settlers.save()
    return in_order(inputs, results, Report())


class Settlers:
    """One Settler per rule selection: a folder's cached verdict holds for the selection it was made with."""

    def __init__(self, rule_filter: RuleFilter, cache: ResultCache | None, by_folder: Mapping[Path, RuleFilter]
                 ) -> None:
        self.rule_filter, self.cache, self.by_folder = rule_filter, cache, by_folder
        self._settlers: dict[RuleFilter, Settler] = {}

    def of(self, inp: FolderInput) -> Settler:
        chosen = self.by_folder.get(inp.folder, self.rule_filter)
        if chosen not in self._settlers:
            self._settlers[chosen] = Settler(chosen, self.cache)
        return self._settlers[chosen]

    def settle_all(self, inputs: list[FolderInput], progress: Progress | None,
                   usable: Callable[[Report], bool] = lambda _report: True
                   ) -> tuple[dict[int, Report], list[FolderInput]]:
        """The reports of the folders settled without parsing (by ``id`` of their input), and those to analyse."""
        results: dict[int, Report] = {}
        pending: list[FolderInput] = []
        for inp in inputs:
            settled = self.of(inp).settle(inp, usable)
            if settled is None:
                pending.append(inp)
                continue
            results[id(inp)] = settled
            advance(progress, inp)
        return results, pending

    def save(self) -> None:
        if self.cache is not None:
            self.cache.save()


def in_order(inputs: list[FolderInput], results: dict[int, Report], report: Report) -> Report:
    """``report`` with every folder's result merged in, in the order the folders were found, and sorted."""
    for inp in inputs:
        report.merge(results[id(inp)])
    report.sort()
    return report


class PerFolder(Generic[T]):
    """``work(inp, rule_filter=...)`` with each folder's own selection (a picklable callable for workers)."""

    def __init__(self, work: Callable[..., T], rule_filter: RuleFilter, by_folder: Mapping[Path, RuleFilter],
                 **extra: object) -> None:
        self.work, self.rule_filter, self.by_folder, self.extra = work, rule_filter, dict(by_folder), extra

    def __call__(self, inp: FolderInput) -> T:
        return self.work(inp, rule_filter=self.by_folder.get(inp.folder, self.rule_filter), **self.extra)


def _failed(inp: FolderInput, why: str) -> FolderCheck:
    return FolderCheck(failure_report(inp, why), frozenset())


def advance(progress: Progress | None, inp: FolderInput) -> None:
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


TERRAFORM_OWNERS = ("kubectl_manifest.", "kubernetes_manifest.", "local_file.", "helm_release.", "module.")


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

