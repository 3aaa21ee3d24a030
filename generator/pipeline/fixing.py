"""``fix`` over many folders: plan each flagged group, verify the folder, then write (or show) the result.

Everything is planned and verified before the first byte is written, so a
usage error found in one folder (a setting that refers to the module being
edited, a missing proxy URL) stops the run with nothing changed anywhere.
Folders the check cache knows to hold nothing to fix are not read again;
the others are planned on every core when there are enough of them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import Enum
from functools import partial
from pathlib import Path

from .. import fsguard
from ..cache import ResultCache
from ..edits import CannotEdit
from ..errors import UsageError
from ..filters import ALL_RULES, RuleFilter
from ..model import NodeGroup
from ..policy.catalog import Piece, TargetKey
from ..policy.settings import Settings
from ..policy.values import normalize, shorten
from ..report import FileError, Report
from ..source import SourceError, SourceFile, read_source
from ..write import FolderNotWritten, replace_all, uninterrupted
from .analysis import FolderResult, analyse
from .checking import PerFolder, Progress, Settlers, add_folder, advance, in_order
from .fix_report import Outcome, report_fixes
from .inputs import FolderInput, display_name, folders
from .lines import LineMap, on_disk
from .settle import analysed, failure_report
from .targets import NodeGroupTarget, PlanContext, Target
from .trial import Candidate, Refusal, try_plans
from .visible import Visible, visible


class WriteBack(Enum):
    """What ``fix`` does with a result: write it, show it as a diff, or only say whether it would change."""

    YES = "write"
    DIFF = "diff"
    CHECK = "check"


@dataclass(frozen=True)
class Write:
    """New bytes for a file, to be written only if the file still holds ``expected``."""

    path: Path
    data: bytes
    expected: bytes


@dataclass(frozen=True)
class FolderFix:
    """A folder's fix report, its writes, and its check report: what stands when the writes cannot all be made."""

    report: Report
    writes: tuple[Write, ...] = ()
    on_disk: Report | None = None


def fix(files: list[tuple[Path, Settings]], write_back: WriteBack, rule_filter: RuleFilter = ALL_RULES,
        progress: Progress | None = None, cache: ResultCache | None = None,
        filters: Mapping[Path, RuleFilter] | None = None) -> Report:
    """Fix every folder; the report lists them in the order they were found, however their results arrive.

    ``filters`` gives the folders whose settings file chose other rules their own selection. What may be
    written is fsguard's to say, from the paths the run was given.
    """
    inputs = folders(files)
    by_folder = dict(filters or {})
    settlers = Settlers(rule_filter, cache, by_folder)
    results, pending = settlers.settle_all(inputs, progress, lambda kept: not any(f.fixable for f in kept.findings))
    settlers.save()
    done = list(analysed(pending, PerFolder(fix_folder, rule_filter, by_folder, write_back=write_back), _failed))
    for inp, folder in done:
        results[id(inp)] = _write(folder) if write_back is WriteBack.YES else folder.report
        advance(progress, inp)
    return in_order(inputs, results, Report(mode=write_back.value))


def _failed(inp: FolderInput, why: str) -> FolderFix:
    return FolderFix(failure_report(inp, why))


def _write(folder: FolderFix) -> Report:
    """Write a folder's files, all or none; the report of what stands afterwards.

    When one file cannot be written, the others are put back and the folder
    is reported as it is on disk: its findings, not fixed, and why.
    Ctrl-C and SIGTERM wait until the folder is written or put back.
    """
    if not folder.writes:
        return folder.report
    with uninterrupted():
        try:
            replace_all([(w.path, w.data, w.expected) for w in folder.writes])
        except FolderNotWritten as exc:
            report = folder.on_disk or Report(mode=folder.report.mode)
            others = [display_name(w.path) for w in folder.writes if w.path != exc.path]
            why = exc.why + (f"; so {', '.join(others)} of the same folder kept their bytes too" if others else "")
            report.outcome(display_name(exc.path)).errors.append(FileError(display_name(exc.path), 1, why))
            for path, problem in exc.not_restored:
                report.outcome(display_name(path)).errors.append(
                    FileError(display_name(path), 1, f"rewritten, and could not be put back: {problem}"))
            return report
        for write in folder.writes:
            fsguard.note_rewritten(display_name(write.path))
    return folder.report


def fix_folder(inp: FolderInput, rule_filter: RuleFilter, write_back: WriteBack) -> FolderFix:
    """Plan, try and report one folder; the bytes to write come back, nothing is written here."""
    outcome = _plan_folder(inp, rule_filter)
    report = Report(mode=write_back.value)
    report_fixes(report, outcome, diffs=write_back is WriteBack.DIFF)
    if write_back is not WriteBack.YES:  # nothing is written: point at the files as they are
        on_disk(report, {display_name(path): LineMap(outcome.sources[path].text, text)
                         for path, text in outcome.verdict.trial.texts.items()})
    writes: list[Write] = []
    if write_back is WriteBack.YES:
        for path, text in outcome.verdict.trial.texts.items():
            source = outcome.sources[path]
            writes.append(Write(path, source.encode(text), source.raw))
    standing = None
    if writes:
        standing = Report(mode=write_back.value)
        add_folder(standing, outcome.before, outcome.seen)
    return FolderFix(report, tuple(writes), standing)


def _plan_folder(inp: FolderInput, rule_filter: RuleFilter) -> Outcome:
    before = analyse(inp)
    seen = visible(before, rule_filter)
    sources: dict[Path, SourceFile] = {path: loaded.source for path, loaded in before.loaded.items()}
    sources.update(before.yaml_sources)

    def text_of(path: Path) -> str:
        if path in before.loaded:
            return before.loaded[path].doc.text
        if path not in sources:
            try:
                sources[path] = read_source(path)
            except (OSError, SourceError) as exc:
                raise CannotEdit(f"cannot read {display_name(path)}: {exc}") from None
        return sources[path].text

    targets = [t for t in before.targets if _reported(before, t) and any(f.fixable for f in seen.of(t))]
    settings: Settings = inp.settings
    notes: tuple[str, ...] = ()
    if targets and settings.proxy is None:
        settings, notes = _proxy_in_use(before, targets)
    _refuse_cycles(inp, [t for t in targets if isinstance(t, NodeGroupTarget)])
    wanted = {t.key: _wanted(t, seen, rule_filter) for t in targets}
    ctx_of = partial(PlanContext, settings, display=display_name, text_of=text_of,
                     shared_ok=lambda group, setting: _shared_ok(before, seen, wanted, group, setting))
    candidates: list[Candidate] = []
    refused: list[Refusal] = []
    for target in targets:
        try:
            plan = target.plan(ctx_of(wanted[target.key]))
        except CannotEdit as exc:
            refused.append(Refusal(target, str(exc)))
            continue
        mixed = next((p for p in {e.path for e in plan.edits} if p in sources and sources[p].mixed_newlines), None)
        if mixed is not None:
            refused.append(Refusal(target, f"{display_name(mixed)} mixes CRLF and LF line endings; normalise it "
                                           "first"))
            continue
        candidates.append(Candidate(target, plan))
    verdict = try_plans(before, seen, candidates, rule_filter, text_of)
    return Outcome(before, seen, verdict, (*refused, *verdict.refused), sources, notes)


def _proxy_in_use(before: FolderResult, targets: list[Target]) -> tuple[Settings, tuple[str, ...]]:
    """No proxy is configured: the one URL every group of the folder already uses, or a usage error.

    A folder whose groups all use one proxy says which proxy is meant; fix
    takes it and says so. Groups that disagree, or none that has one, leave
    fix nothing to go by.
    """
    from ..policy.settings import SettingError, validate

    used = {normalize(url) for t in before.targets if (url := t.current_proxy())}
    first = targets[0].ref.file
    if len(used) == 1:
        url = next(iter(used))
        try:
            settings = replace(validate(url, [], [], None, "the proxy the groups use"),
                               vpc_cidrs=before.input.settings.vpc_cidrs, no_proxy=before.input.settings.no_proxy,
                               service_cidr=before.input.settings.service_cidr)
        except SettingError as exc:
            raise UsageError(f"no proxy URL is configured for {first}, and the one its groups use cannot be "
                             f"written ({exc}); pass --proxy http://proxy.example.com:3128") from None
        return settings, (f"no proxy is configured: {url}, the proxy every group of the folder already uses, is "
                          "written (set proxy in .eksproxy-gen.toml to choose another)",)
    if len(used) > 1:
        shown = ", ".join(sorted(used))
        raise UsageError(f"no proxy URL is configured for {first}, and its groups use different ones ({shown}): "
                         "pass --proxy, or put proxy = \"...\" in .eksproxy-gen.toml")
    raise UsageError(
        f"no proxy URL for {first}, which has node groups to fix: pass --proxy http://proxy.example.com:3128, or "
        "put proxy = \"...\" in .eksproxy-gen.toml (a Terraform value: --proxy tf:var.proxy_url)")


def _reported(result: FolderResult, target: Target) -> bool:
    return any(result.reported(file) for file, _line in target.places)


def _wanted(target: Target, seen: Visible, rule_filter: RuleFilter) -> frozenset[Piece]:
    """The generated pieces a target gets: those its visible, fixable findings call for."""
    rules = {f.rule for f in seen.of(target) if f.fixable}

    def wants(rule: str) -> bool:
        return rule_filter.keeps(rule) and not seen.silenced(target, rule)

    return target.pieces(rules, wants)


def _shared_ok(before: FolderResult, seen: Visible, wanted: dict[TargetKey, frozenset[Piece]],
               group: NodeGroup, setting: str) -> bool:
    """Whether a setting may be written in the defaults map, which every group without its own value shares.

    Only when each of those groups is being fixed with the same pieces, or gets
    no user data at all (its launch template is off) and is not silenced.
    """
    mine = next((g for g in before.groups if g.group is group), None)
    if mine is None:
        return False
    for other in before.groups:
        if other.module is not mine.module or other.group.facts.map != mine.group.facts.map:
            continue
        if other.group.value is not None and other.group.value.get(setting) is not None:
            continue
        if wanted.get(other.key) == wanted.get(mine.key):
            continue
        if other.inert and not seen.silences_any(other):
            continue
        return False
    return True


def _refuse_cycles(inp: FolderInput, targets: list[NodeGroupTarget]) -> None:
    """A setting that refers to the module being edited would make Terraform report a cycle."""
    settings = inp.settings
    values = [("proxy", settings.proxy), ("service_cidr", settings.service_cidr),
              *[("vpc_cidrs", v) for v in settings.vpc_cidrs], *[("no_proxy", v) for v in settings.no_proxy]]
    for group in targets:
        name = group.module.facts.name
        for setting, value in values:
            if value and re.search(r"\bmodule\." + re.escape(name) + r"\b", value):
                raise UsageError(f"{setting} = {shorten(value)} refers to module \"{name}\", which fix edits "
                                 f"({group.module.facts.file}:{group.module.facts.line}): Terraform would report a "
                                 "cycle; use a value that does not come from that module (a variable, a local, "
                                 "another module's output)")
