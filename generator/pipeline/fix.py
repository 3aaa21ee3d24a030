"""``fix`` over many folders: plan each flagged group, verify the folder, then write (or show) the result.

Everything is planned and verified before the first byte is written, so a
usage error found in one folder (a setting that refers to the module being
edited, a missing proxy URL) stops the run with nothing changed anywhere.
Folders the check cache knows to hold nothing to fix are not read again;
the others are planned on every core when there are enough of them.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from enum import Enum
from functools import partial
from pathlib import Path

from .. import fsguard
from ..cache import ResultCache
from ..edits import CannotEdit
from ..errors import UsageError
from ..filters import ALL_RULES, RuleFilter
from ..model import NodeGroup
from ..plan import Context, Plan, components, plan_group
from ..policy.facts import location
from ..policy.family import ami_family
from ..policy.rules import RULES_BY_ID, Finding, Severity
from ..policy.settings import Settings
from ..policy.values import mask_credentials, shorten
from ..report import FileError, GroupFix, Report
from ..source import SourceError, SourceFile, read_source
from ..write import FolderNotWritten, replace_all, uninterrupted
from .analysis import ControllerResult, FolderResult, GroupResult, NodeClassResult, analyse
from .check import Progress, _analysed, _context, _files, _store, add_folder, quiet_folder
from .fix_karpenter import KarpenterFix, fix_karpenter
from .inputs import FolderInput, display_name, folders
from .verify import Candidate, Refusal, Verified, verify
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
        progress: Progress | None = None, roots: tuple[Path, ...] = (), cache: ResultCache | None = None) -> Report:
    """Fix every folder; the report lists them in the order they were found, however their results arrive.

    ``roots`` is no longer used: what may be written is fsguard's to say, from the paths the run was given.
    """
    inputs = folders(files)
    results: dict[int, Report] = {}
    pending: list[FolderInput] = []
    for inp in inputs:
        stored = cache.get(inp.folder, _context(inp, rule_filter), _files(inp)) if cache else None
        kept = Report.from_stored(stored) if stored is not None else None
        if kept is not None and not any(f.fixable for f in kept.findings):
            results[id(inp)] = kept
        elif kept is None and (quiet := quiet_folder(inp, rule_filter)) is not None:
            _store(cache, inp, rule_filter, quiet)
            results[id(inp)] = quiet.report
        else:
            pending.append(inp)
            continue
        if progress:
            progress(len(inp.targets))
    if cache is not None:
        cache.save()
    done = list(_analysed(pending, partial(fix_folder, rule_filter=rule_filter, write_back=write_back)))
    for inp, folder in done:
        results[id(inp)] = _write(folder) if write_back is WriteBack.YES else folder.report
        if progress:
            progress(len(inp.targets))
    report = Report(mode=write_back.value)
    for inp in inputs:
        report.merge(results[id(inp)])
    report.sort()
    return report


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
    """Plan, verify and report one folder; the bytes to write come back, nothing is written here."""
    planned = _plan_folder(inp, rule_filter)
    report = Report(mode=write_back.value)
    writes = _report_folder(report, planned, write_back)
    on_disk = None
    if writes:
        on_disk = Report(mode=write_back.value)
        add_folder(on_disk, planned.before, planned.seen)
    return FolderFix(report, tuple(writes), on_disk)


@dataclass
class _Planned:
    inp: FolderInput
    before: FolderResult
    seen: Visible
    verified: Verified
    sources: dict[Path, SourceFile]
    karpenter: tuple[KarpenterFix, ...] = ()


def _plan_folder(inp: FolderInput, rule_filter: RuleFilter) -> _Planned:
    before = analyse(inp)
    seen = visible(before, rule_filter)
    sources: dict[Path, SourceFile] = {}

    def text_of(path: Path) -> str:
        if path in before.loaded:
            return before.loaded[path].doc.text
        if path not in sources:
            try:
                sources[path] = read_source(path)
            except (OSError, SourceError) as exc:
                raise CannotEdit(f"cannot read {display_name(path)}: {exc}") from None
        return sources[path].text

    targets = [g for g in before.groups if _reported(before, g) and any(f.fixable for f in seen.of(g))]
    karpenter = [k for k in before.karpenter if _karpenter_reported(before, k) and any(f.fixable for f in seen.of(k))]
    if (targets or karpenter) and inp.settings.proxy is None:
        first = display_name(targets[0].group.home) if targets else karpenter[0].places[0][0]
        raise UsageError(
            f"no proxy URL for {first}, which has node groups to fix: pass --proxy http://proxy.example.com:3128, "
            "or put proxy = \"...\" in .eksproxy-gen.toml (a Terraform value: --proxy tf:var.proxy_url)")
    _refuse_cycles(inp, targets)
    wanted = {g.key: _wanted(g, seen, rule_filter) for g in targets}
    candidates: list[Candidate] = []
    refused: list[Refusal] = []
    for group in targets:
        if before.loaded.get(group.group.home) is not None and before.loaded[group.group.home].source.mixed_newlines:
            refused.append(Refusal(group, "the file mixes CRLF and LF line endings; normalise it first"))
            continue
        ctx = Context(group.module, inp.settings, wanted[group.key], display_name, text_of,
                      shared_ok=lambda other, setting: _shared_ok(before, seen, wanted, other, setting))
        try:
            candidates.append(Candidate(group, plan_group(ctx, group.group)))
        except CannotEdit as exc:
            refused.append(Refusal(group, str(exc)))
    result = verify(before, seen, candidates, rule_filter, text_of)
    nodes = fix_karpenter(dict(result.texts), result.after, result.seen, rule_filter,
                          partial(_karpenter_reported, before))
    verified = Verified(result.accepted, (*refused, *result.refused), nodes.texts, nodes.after, nodes.seen)
    return _Planned(inp, before, seen, verified, sources, nodes.fixes)


def _karpenter_reported(result: FolderResult, target: NodeClassResult | ControllerResult) -> bool:
    return any(result.reported(file) for file, _line in target.places)


def _reported(result: FolderResult, group: GroupResult) -> bool:
    return result.reported(group.module.path) or result.reported(group.group.home)


def _wanted(group: GroupResult, seen: Visible, rule_filter: RuleFilter) -> frozenset[str]:
    """The generated pieces a group gets: those its visible, fixable findings call for."""
    family = ami_family(group.module.facts, group.group.facts).name or ""
    rules = {f.rule for f in seen.of(group) if f.fixable}

    def wants(rule: str) -> bool:
        return rule_filter.keeps(rule) and not seen.silenced(group, rule)

    return components(family, rules, wants)


def _shared_ok(before: FolderResult, seen: Visible, wanted: dict[tuple[str, str, str, str], frozenset[str]],
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
        if inert(other) and not any(seen.silenced(other, rule) for rule in RULES_BY_ID):
            continue
        return False
    return True


def inert(group: GroupResult) -> bool:
    """A group whose user data never reaches a node: no launch template."""
    return group.group.facts.launch_template is False


def _refuse_cycles(inp: FolderInput, targets: list[GroupResult]) -> None:
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


def _report_folder(report: Report, folder: _Planned, write_back: WriteBack) -> list[Write]:
    verified = folder.verified
    add_folder(report, verified.after, verified.seen)
    refused_keys = {r.group.key for r in verified.refused}
    for refusal in verified.refused:
        _add_refusal(report, refusal, verified.after)
    writes: list[Write] = []
    for path, text in verified.texts.items():
        source = _source(folder, path)
        original = folder.before.text(path) if path in folder.before.loaded else source.text
        display = display_name(path)
        outcome = report.outcome(display)
        outcome.changed = True
        if write_back is WriteBack.DIFF:
            outcome.diff = _diff(original, text, display)
        elif write_back is WriteBack.YES:
            writes.append(Write(path, source.encode(text), source.raw))
    after_groups = {g.key: g for g in verified.after.groups}
    for key, candidate in {c.group.key: c for c in verified.accepted}.items():
        if key in refused_keys:
            continue
        group = candidate.group
        now = after_groups.get(key)
        left = [f for f in verified.seen.of(now) if f.severity is Severity.ERROR] if now else []
        resolved = _fixed_rules(folder.seen.of(group), now, verified)
        rules = tuple(sorted({f.rule for f in resolved}))
        outcome = report.outcome(display_name(group.group.home))
        outcome.fixed.append(GroupFix(group.module.facts.name, group.group.facts.name, rules, not left,
                                      group.group.facts.map, len(resolved)))
        outcome.notes += _notes(location(group.module.facts.name, group.group.facts.name), candidate.plan)
    for fixed in folder.karpenter:
        _report_karpenter(report, folder, fixed)
    return writes


def _source(folder: _Planned, path: Path) -> SourceFile:
    if path in folder.before.loaded:
        return folder.before.loaded[path].source
    if path in folder.before.yaml_sources:
        return folder.before.yaml_sources[path]
    return folder.sources[path]


def _report_karpenter(report: Report, folder: _Planned, fixed: KarpenterFix) -> None:
    """A fixed node class or controller as a GroupFix, or its refusal as an EKSP010 finding."""
    target = fixed.target
    file, line = target.places[-1]
    module, name, map_name = target.key[1], (target.key[3] or None), target.key[2]
    if fixed.plan is None:
        module_file, module_line = target.places[0]
        report.outcome(file).findings.append(Finding("EKSP010", file, line, module, name,
                                                     f"not rewritten: {fixed.why}", map=map_name,
                                                     module_file=module_file, module_line=module_line))
        return
    verified = folder.verified
    now = next((k for k in verified.after.karpenter if k.key == target.key), None)
    still = {f.rule for f in verified.seen.of(now)}
    resolved = [f for f in folder.seen.of(target) if f.fixable and f.rule not in still]
    left = [f for f in verified.seen.of(now) if f.severity is Severity.ERROR]
    outcome = report.outcome(file)
    outcome.fixed.append(GroupFix(module, name, tuple(sorted({f.rule for f in resolved})), not left, map_name,
                                  len(resolved)))
    outcome.notes += _notes(location(module, name), fixed.plan)


def _notes(where: str, plan: Plan) -> list[str]:
    """What a fix tells about one group or Karpenter object: the plan's notes, then what it left."""
    left = [f"not fully fixed: {plan.left_message}"] if plan.left_message else []
    return [f"{where}: {note}" for note in (*plan.notes, *left)]


def _fixed_rules(before: list[Finding], now: GroupResult | None, verified: Verified) -> list[Finding]:
    """The visible findings the group had before that it no longer has."""
    still = {f.rule for f in verified.seen.of(now)}
    return [f for f in before if f.fixable and f.rule not in still]


def _add_refusal(report: Report, refusal: Refusal, after: FolderResult) -> None:
    now = next((g for g in after.groups if g.key == refusal.group.key), refusal.group)
    facts = now.group.facts
    module = refusal.group.module.facts
    file = facts.file or module.file
    if refusal.internal:
        report.outcome(file).errors.append(FileError(file, facts.line, f"internal error: {refusal.why}",
                                                     internal=True))
        return
    finding = Finding("EKSP010", file, facts.line, module.name, facts.name, f"not rewritten: {refusal.why}",
                      map=facts.map, module_file=module.file, module_line=module.line)
    report.outcome(file).findings.append(finding)


MASKED_NOTE = "(proxy credentials shown as ***; the file gets the real value)"


def _diff(old: str, new: str, display: str) -> str:
    """The unified diff, credentials masked; the header says so, since ``git apply`` of it would not match."""
    text = "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        fromfile=f"a/{display}", tofile=f"b/{display}"))
    masked = mask_credentials(text)
    if masked == text:
        return text
    head, _, rest = masked.partition("\n")
    return f"{head}\t{MASKED_NOTE}\n{rest}"
