"""The pipeline: discover -> parse -> model -> policy (check stops here) -> plan -> render -> splice -> write.

Files are handled folder by folder, because a module's node groups may be a
``local`` written in another file of the same folder. A failure in one file is
recorded in the report and never stops the others or touches that file.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from .analysis import ALL_RULES, FileError, FolderAnalysis, display_name
from .config import ConfigResolver
from .discover import terraform_files
from .edits import CannotEdit, Edit, splice
from .errors import UsageError
from .filters import RuleFilter, Suppressed
from .model import ModuleCall, NodeGroup
from .plan import plan_fix
from .policy.evaluate import current_no_proxy
from .policy.expected import dropped_entries
from .policy.rules import RULES, Finding, Severity
from .policy.settings import Settings
from .policy.values import mask_credentials
from .write import WriteError, atomic_write

# What a rewritten group must be free of. EKSP014 is about the user's own script lines, which an AL2
# fix keeps; EKSP010 catches a rewrite that made a setting unreadable.
VERIFIED_RULES = frozenset(r.id for r in RULES if r.fixable and r.id != "EKSP014") | {"EKSP010"}


class WriteBack(Enum):
    """What ``fix`` does with a result: write it, show it, or only say whether it would change."""

    YES = "write"
    DIFF = "diff"
    CHECK = "check"


@dataclass
class FileOutcome:
    display: str
    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    fixed: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    changed: bool = False
    diff: str = ""


@dataclass
class Report:
    files: list[FileOutcome] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return [f for outcome in self.files for f in outcome.findings]

    @property
    def errors(self) -> list[FileError]:
        return [e for outcome in self.files for e in outcome.errors]

    @property
    def changed(self) -> list[FileOutcome]:
        return [o for o in self.files if o.changed]

    def failed(self, fail_on: Severity = Severity.ERROR) -> bool:
        """Exit-code decision: unreadable files, or findings at or above ``fail_on``."""
        if self.errors:
            return True
        levels = {Severity.ERROR} if fail_on is Severity.ERROR else {Severity.ERROR, Severity.WARNING}
        return any(f.severity in levels for f in self.findings)


def collect(paths: list[Path], resolver: ConfigResolver) -> list[tuple[Path, Settings]]:
    """All files with their settings, resolved before any file is read, so bad settings stop early."""
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise UsageError(f"no such file or folder: {missing[0]}")
    return [(path, resolver.for_path(path)) for path in terraform_files(paths)]


def _folders(files: list[tuple[Path, Settings]]) -> Iterable[tuple[list[Path], Settings]]:
    groups: dict[tuple[Path, Settings], list[Path]] = {}
    for path, settings in files:
        groups.setdefault((path.parent, settings), []).append(path)
    for (_, settings), paths in groups.items():
        yield paths, settings


def _outcomes(analysis: FolderAnalysis) -> dict[str, FileOutcome]:
    """One outcome per target, plus one per other file that holds findings (a locals file)."""
    outcomes = {display_name(p): FileOutcome(display_name(p)) for p in analysis.targets}
    for error in analysis.errors.values():
        outcomes.setdefault(error.file, FileOutcome(error.file)).errors.append(error)
    for file, found in analysis.findings_by_file().items():
        outcomes.setdefault(file, FileOutcome(file)).findings.extend(found)
    return outcomes


Progress = Callable[[int], None]


def check(files: list[tuple[Path, Settings]], rule_filter: RuleFilter = ALL_RULES,
          progress: Progress | None = None) -> Report:
    report = Report()
    for paths, settings in _folders(files):
        analysis = FolderAnalysis(paths, settings, rule_filter).run()
        report.files += list(_outcomes(analysis).values())
        report.suppressed += analysis.suppressed
        if progress:
            progress(len(paths))
    return report


def require_proxy(files: list[tuple[Path, Settings]]) -> None:
    for path, settings in files:
        if settings.proxy is None:
            raise UsageError(
                f"no proxy URL for {display_name(path)}: pass --proxy http://proxy.example.com:3128, "
                "or put proxy = \"...\" in .eksproxy-gen.toml (a Terraform value: --proxy tf:var.proxy_url)")


@dataclass
class _GroupPlan:
    module: ModuleCall
    group: NodeGroup
    edits: list[Edit]
    fixes: list[Finding]


def fix(files: list[tuple[Path, Settings]], write_back: WriteBack, rule_filter: RuleFilter = ALL_RULES,
        progress: Progress | None = None) -> Report:
    report = Report()
    for paths, settings in _folders(files):
        outcomes, suppressed = _fix_folder(paths, settings, write_back, rule_filter)
        report.files += outcomes
        report.suppressed += suppressed
        if progress:
            progress(len(paths))
    return report


def _fix_folder(paths: list[Path], settings: Settings, write_back: WriteBack,
                rule_filter: RuleFilter) -> tuple[list[FileOutcome], list[Suppressed]]:
    before = FolderAnalysis(paths, settings, rule_filter).run()
    refused: list[Finding] = []
    plans: list[_GroupPlan] = []
    for module, group, found in before.group_findings:
        if not any(f.fixable for f in found):
            continue
        loaded = before.loaded[group.home]
        try:
            if loaded.source.mixed_newlines:
                raise CannotEdit("the file mixes CRLF and LF line endings; not rewritten (normalise it first)")
            plans.append(_GroupPlan(module, group, plan_fix(loaded.doc, module, group, settings),
                                    [f for f in found if f.fixable]))
        except CannotEdit as exc:
            refused.append(_refusal(module, group, str(exc)))
    texts, after = _apply_verified(before, plans, refused)
    outcomes = _outcomes(after)
    for finding in refused:
        outcomes.setdefault(finding.file, FileOutcome(finding.file)).findings.append(finding)
    for path, text in texts.items():
        loaded = before.loaded[path]
        if text == loaded.doc.text:
            continue
        outcome = outcomes.setdefault(loaded.display, FileOutcome(loaded.display))
        outcome.changed = True
        outcome.fixed = [f for plan in plans if plan.group.home == path for f in plan.fixes]
        outcome.notes = [_dropped_note(plan, settings) for plan in plans if plan.group.home == path]
        outcome.notes = [note for note in outcome.notes if note]
        if write_back is WriteBack.DIFF:
            outcome.diff = _diff(loaded.doc.text, text, loaded.display)
        elif write_back is WriteBack.YES:
            try:
                atomic_write(path, loaded.source.encode(text), loaded.source.raw)
            except WriteError as exc:
                outcome.changed = False
                outcome.errors.append(FileError(loaded.display, 1, str(exc)))
    for outcome in outcomes.values():
        outcome.findings.sort(key=lambda f: (f.line, f.rule))
    return list(outcomes.values()), after.suppressed


def _dropped_note(plan: _GroupPlan, settings: Settings) -> str:
    """Say which NO_PROXY entries a replaced part had that the generated one does not: no silent loss."""
    dropped = dropped_entries(current_no_proxy(plan.group.facts), plan.module.facts, settings)
    if not dropped:
        return ""
    return (f"{plan.module.facts.name}.{plan.group.facts.name}: NO_PROXY entries no longer written: "
            f"{', '.join(dropped)} (add them to no_proxy in .eksproxy-gen.toml to keep them)")


def _refusal(module: ModuleCall, group: NodeGroup, why: str) -> Finding:
    return Finding("EKSP010", group.facts.file or module.facts.file, group.facts.line, module.facts.name,
                   group.facts.name, f"not rewritten: {why}")


def _apply_verified(before: FolderAnalysis, plans: list[_GroupPlan],
                    refused: list[Finding]) -> tuple[dict[Path, str], FolderAnalysis]:
    """Black's safety net: every rewritten file parses and every rewritten group comes out clean.

    A group whose rewrite would still be flagged (or breaks its file) is dropped
    from the plan and reported instead, so a second run has nothing left to change.
    """
    while True:
        texts = _spliced(before, plans, refused)
        if not plans:
            return texts, before
        after = FolderAnalysis(before.targets, before.settings, before.rule_filter, texts=texts,
                               reuse=before.loaded).run()
        broken = {p for p in texts if p in after.errors}
        still = {(f.module, f.node_group): f for _, _, found in after.group_findings for f in found
                 if f.rule in VERIFIED_RULES}
        failed = [p for p in plans if p.group.home in broken or (p.module.facts.name, p.group.facts.name) in still]
        if not failed:
            return texts, after
        for plan in failed:
            if plan.group.home in broken:
                why = (f"internal error: the rewritten file would not parse ({after.errors[plan.group.home].message}); "
                       "please report this")
            else:
                left = still[(plan.module.facts.name, plan.group.facts.name)]
                why = (f"after the rewrite it would still be flagged ({left.rule}: {left.message}); another part "
                       "sets the proxy: edit or remove it by hand")
            refused.append(_refusal(plan.module, plan.group, why))
            plans.remove(plan)


def _spliced(before: FolderAnalysis, plans: list[_GroupPlan], refused: list[Finding]) -> dict[Path, str]:
    by_file: dict[Path, list[Edit]] = {}
    for plan in plans:
        by_file.setdefault(plan.group.home, []).extend(plan.edits)
    texts: dict[Path, str] = {}
    for path, edits in by_file.items():
        try:
            texts[path] = splice(before.loaded[path].doc.text, list(dict.fromkeys(edits)))
        except CannotEdit as exc:
            for plan in [p for p in plans if p.group.home == path]:
                refused.append(_refusal(plan.module, plan.group, str(exc)))
                plans.remove(plan)
            return _spliced(before, plans, refused)
    return texts


def _diff(old: str, new: str, display: str) -> str:
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 fromfile=f"a/{display}", tofile=f"b/{display}")
    return mask_credentials("".join(lines))
