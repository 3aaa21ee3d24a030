"""``check`` over many folders: reuse what the cache knows, analyse the rest (on every core), one report.

Folders whose files cannot hold a terraform-aws-eks call are settled here from
their bytes alone; only the others pay for parsing, modelling and judging.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from .. import fsguard
from ..cache import ResultCache, context_key, tool_fingerprint
from ..discover import YAML_SUFFIXES, folder_names, might_call_eks, outside_dependencies
from ..filters import ALL_RULES, RuleFilter, parse_directives
from ..policy.settings import Settings
from ..report import FileError, Report
from ..source import encoding_error, source_from_bytes
from .inputs import FolderInput, display_name, folders
from .visible import notices

if TYPE_CHECKING:
    from ..model import ModuleCall
    from .analysis import FolderResult
    from .visible import Visible

Progress = Callable[[int], None]
T = TypeVar("T")


@dataclass(frozen=True)
class FolderCheck:
    """One folder's report, and the files outside it the report depends on."""

    report: Report
    outside: frozenset[Path]


def check(files: list[tuple[Path, Settings]], rule_filter: RuleFilter = ALL_RULES,
          progress: Progress | None = None, cache: ResultCache | None = None) -> Report:
    """One report for all folders, in the order the folders were found, however their results arrive."""
    inputs = folders(files)
    results: dict[int, Report] = {}
    pending: list[FolderInput] = []
    for inp in inputs:
        stored = cache.get(inp.folder, _context(inp, rule_filter), _files(inp)) if cache else None
        kept = Report.from_stored(stored) if stored is not None else None
        if kept is not None:
            results[id(inp)] = kept
            _advance(progress, inp)
            continue
        quiet = quiet_folder(inp, rule_filter)
        if quiet is None:
            pending.append(inp)
            continue
        _store(cache, inp, rule_filter, quiet)
        results[id(inp)] = quiet.report
        _advance(progress, inp)
    for inp, done in _analysed(pending, partial(check_folder, rule_filter=rule_filter)):
        _store(cache, inp, rule_filter, done)
        results[id(inp)] = done.report
        _advance(progress, inp)
    if cache is not None:
        cache.save()
    report = Report()
    for inp in inputs:
        report.merge(results[id(inp)])
    report.sort()
    return report


def _analysed(pending: list[FolderInput], work: Callable[[FolderInput], T]) -> Iterator[tuple[FolderInput, T]]:
    """Each pending folder with its result, on every core when there are enough; workers fork with the parser loaded."""
    if not pending:
        return iter(())
    from ..hcl import load_parser
    from . import analysis, parallel, visible  # noqa: F401  (imported once here, not in every worker)

    load_parser()
    return parallel.run(pending, work)


def _advance(progress: Progress | None, inp: FolderInput) -> None:
    if progress:
        progress(len(inp.targets))


def _files(inp: FolderInput) -> list[str]:
    """Every Terraform file of the folder (a folder's verdict depends on all of them), sorted."""
    folder = str(inp.folder)
    prefix = "" if folder == "." else folder.rstrip(os.sep) + os.sep
    return sorted({*(prefix + name for name in folder_names(folder)), *map(str, inp.targets)})


def _context(inp: FolderInput, rule_filter: RuleFilter) -> str:
    """What besides file contents a folder's report depends on."""
    return context_key(_run_context(inp.settings, rule_filter), sorted(p.name for p in inp.targets))


@lru_cache(maxsize=64)
def _run_context(settings: Settings, rule_filter: RuleFilter) -> str:
    return context_key(tool_fingerprint(), settings, rule_filter, os.getcwd(), fsguard.roots())


def _store(cache: ResultCache | None, inp: FolderInput, rule_filter: RuleFilter, done: FolderCheck) -> None:
    if cache is not None:
        cache.put(inp.folder, _context(inp, rule_filter), _files(inp), set(done.outside), done.report.to_data())


def quiet_folder(inp: FolderInput, rule_filter: RuleFilter = ALL_RULES) -> FolderCheck | None:
    """The report of a folder none of whose files can call terraform-aws-eks; None when one can."""
    report = Report()
    contents: list[bytes] = []
    targets = {str(p): p for p in inp.targets}
    for name in _files(inp):
        try:
            raw = fsguard.read_bytes(name)
        except OSError:  # refused too: the folder is analysed, which says why
            return None
        if might_call_eks(raw, inp.folder):
            return None
        contents.append(raw)
        if name in targets:
            outcome = report.outcome(display_name(targets[name]))
            error = None if name.endswith(YAML_SUFFIXES) else encoding_error(raw)
            if error is not None:
                outcome.errors.append(FileError(outcome.display, error.line, error.message))
            elif b"eksproxy-gen:ignore" in raw:
                text = source_from_bytes(targets[name], raw).text
                report.notices += notices(parse_directives(text, outcome.display), rule_filter)
    return FolderCheck(report, frozenset(outside_dependencies(inp.folder, contents)))


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
    owners: dict[tuple[str, str], tuple[int, str, list[str]]] = {}
    for judged in result.karpenter:
        if not any(result.reported(file) for file, _line in judged.places):
            continue
        for finding in seen.of(judged):
            report.outcome(finding.file).findings.append(finding)
        (file, line), (_file, owner, kind, name) = judged.places[0], judged.key
        if owner.startswith(TERRAFORM_OWNERS):
            names = owners.setdefault((file, owner), (line, kind, []))[2]
            names += [name] if name else []
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


def module_entry(module: ModuleCall) -> dict[str, object]:
    """A module call as JSON output lists it: where it is and its groups, so other tools can map findings."""
    return {
        "file": module.facts.file, "line": module.facts.line, "name": module.facts.name,
        "end_line": module.doc.line_of(module.block.span.end),
        "groups": [{"name": g.facts.name, "map": g.facts.map, "file": g.facts.file, "line": g.facts.line}
                   for g in module.groups],
    }

