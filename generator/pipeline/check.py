"""``check`` over many folders: analyse each, keep what the user selected, collect one report."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from ..filters import ALL_RULES, RuleFilter
from ..model import ModuleCall
from ..policy.settings import Settings
from ..report import Report
from .analysis import FolderInput, FolderResult, analyse, display_name
from .visible import Visible, visible

Progress = Callable[[int], None]


def folders(files: Iterable[tuple[Path, Settings]]) -> list[FolderInput]:
    """One input per folder and settings, in the order the files came."""
    grouped: dict[tuple[Path, Settings], list[Path]] = {}
    for path, settings in files:
        grouped.setdefault((path.parent, settings), []).append(path)
    return [FolderInput(folder, tuple(paths), settings) for (folder, settings), paths in grouped.items()]


def check(files: list[tuple[Path, Settings]], rule_filter: RuleFilter = ALL_RULES,
          progress: Progress | None = None) -> Report:
    report = Report()
    for inp in folders(files):
        result = analyse(inp)
        add_folder(report, result, visible(result, rule_filter))
        if progress:
            progress(len(inp.targets))
    return report


def add_folder(report: Report, result: FolderResult, seen: Visible) -> None:
    """Outcomes for the folder's targets, its errors, and the findings of the groups the targets hold."""
    for path in result.input.targets:
        report.outcome(display_name(path))
    for error in result.errors.values():
        report.outcome(error.file).errors.append(error)
    for group in result.groups:
        if not (result.reported(group.module.path) or result.reported(group.group.home)):
            continue
        for finding in seen.of(group):
            report.outcome(finding.file).findings.append(finding)
    for finding in seen.modules:
        if result.reported(finding.module_file):
            report.outcome(finding.file).findings.append(finding)
    report.suppressed += [s for s in seen.suppressed if result.reported(s.finding.module_file)
                          or result.reported(s.finding.group_file)]
    for module in result.modules:
        if result.reported(module.path):
            report.modules.append(module_entry(result, module))
    for outcome in report.files:
        outcome.findings.sort(key=lambda f: (f.line, f.rule, f.location))


def module_entry(result: FolderResult, module: ModuleCall) -> dict[str, object]:
    """A module call as JSON output lists it: where it is and its groups, so other tools can map findings."""
    return {
        "file": module.facts.file, "line": module.facts.line, "name": module.facts.name,
        "end_line": module.doc.line_of(module.block.span.end),
        "groups": [{"name": g.facts.name, "map": g.facts.map, "file": g.facts.file, "line": g.facts.line}
                   for g in module.groups],
    }
