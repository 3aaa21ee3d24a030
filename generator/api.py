"""The pipeline: discover -> parse -> model -> policy (check stops here) -> plan -> render -> splice -> write.

Every file is handled on its own: a failure in one is recorded in the report
and never stops the others or touches that file.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from . import render
from .config import ConfigResolver
from .discover import terraform_files
from .errors import ParseError, UsageError
from .hcl import Document, parse
from .model import ModuleCall, NodeGroup, read_modules
from .plan import CannotEdit, Edit, plan_group, splice
from .policy.evaluate import ami_family, evaluate_group
from .policy.rules import Finding, Severity
from .policy.settings import Settings
from .policy.values import mask_credentials
from .source import SourceError, SourceFile, read_source
from .write import WriteError, atomic_write


class WriteBack(Enum):
    """What ``fix`` does with a result: write it, show it, or only say whether it would change."""

    YES = "write"
    DIFF = "diff"
    CHECK = "check"


@dataclass(frozen=True)
class FileError:
    file: str
    line: int
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "message": self.message}


@dataclass
class FileOutcome:
    display: str
    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    fixed: list[Finding] = field(default_factory=list)
    changed: bool = False
    diff: str = ""


@dataclass
class Report:
    files: list[FileOutcome] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return [f for outcome in self.files for f in outcome.findings]

    @property
    def errors(self) -> list[FileError]:
        return [e for outcome in self.files for e in outcome.errors]

    @property
    def changed(self) -> list[FileOutcome]:
        return [o for o in self.files if o.changed]

    def has_errors(self) -> bool:
        return bool(self.errors) or any(f.severity is Severity.ERROR for f in self.findings)


@dataclass
class Analysis:
    source: SourceFile
    doc: Document
    modules: list[ModuleCall]
    group_findings: list[tuple[ModuleCall, NodeGroup, list[Finding]]]
    module_findings: list[Finding]

    @property
    def findings(self) -> list[Finding]:
        out = list(self.module_findings)
        for _, _, found in self.group_findings:
            out.extend(found)
        return sorted(out, key=lambda f: (f.line, f.rule))


def display_name(path: Path) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def _analyse_text(source: SourceFile, text: str, display: str, settings: Settings) -> Analysis:
    doc = parse(text)
    modules = read_modules(doc, source.path, display)
    group_findings = [(m, g, evaluate_group(m.facts, g.facts, settings)) for m in modules for g in m.groups]
    module_findings = [f for m in modules for f in m.findings]
    return Analysis(source, doc, modules, group_findings, module_findings)


def _load(path: Path, display: str, settings: Settings) -> Analysis:
    source = read_source(path)
    return _analyse_text(source, source.text, display, settings)


def _guarded(path: Path, run: Callable[[FileOutcome], None]) -> FileOutcome:
    """Run one file's work; any failure becomes a reported error for that file only."""
    outcome = FileOutcome(display_name(path))
    try:
        run(outcome)
    except (ParseError, SourceError) as exc:
        outcome.errors.append(FileError(outcome.display, exc.line, exc.message))
    except (WriteError, CannotEdit) as exc:
        outcome.errors.append(FileError(outcome.display, 1, str(exc)))
    except OSError as exc:
        outcome.errors.append(FileError(outcome.display, 1, f"cannot read: {exc.strerror or exc}"))
    return outcome


def collect(paths: list[Path], resolver: ConfigResolver) -> list[tuple[Path, Settings]]:
    """All files with their settings, resolved before any file is read, so bad settings stop early."""
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise UsageError(f"no such file or folder: {missing[0]}")
    return [(path, resolver.for_path(path)) for path in terraform_files(paths)]


def check(files: list[tuple[Path, Settings]]) -> Report:
    def run_one(path: Path, settings: Settings) -> FileOutcome:
        def work(outcome: FileOutcome) -> None:
            outcome.findings = _load(path, outcome.display, settings).findings
        return _guarded(path, work)

    return Report([run_one(path, settings) for path, settings in files])


def require_proxy(files: list[tuple[Path, Settings]], resolver: ConfigResolver) -> None:
    for path, settings in files:
        if settings.proxy is None:
            raise UsageError(
                f"no proxy URL for {display_name(path)}: pass --proxy http://proxy.example.com:3128, "
                "or put proxy = \"...\" in .eksproxy-gen.toml (a Terraform value: --proxy tf:var.proxy_url)")


def fix(files: list[tuple[Path, Settings]], write_back: WriteBack) -> Report:
    def run_one(path: Path, settings: Settings) -> FileOutcome:
        return _guarded(path, lambda outcome: _fix_file(path, settings, write_back, outcome))

    return Report([run_one(path, settings) for path, settings in files])


@dataclass
class _GroupPlan:
    module: ModuleCall
    group: NodeGroup
    edits: list[Edit]
    fixes: list[Finding]


def _fix_file(path: Path, settings: Settings, write_back: WriteBack, outcome: FileOutcome) -> None:
    before = _load(path, outcome.display, settings)
    plans: list[_GroupPlan] = []
    refused: list[Finding] = []
    for module, group, found in before.group_findings:
        if not any(f.fixable for f in found) or ami_family(group.facts, module.facts.major) != "AL2023":
            continue
        try:
            edits = plan_group(before.doc, group, render.al2023_parts(module.facts, settings))
            plans.append(_GroupPlan(module, group, edits, [f for f in found if f.fixable]))
        except CannotEdit as exc:
            refused.append(_refusal(outcome.display, module, group, str(exc)))
    if plans and before.source.mixed_newlines:
        raise CannotEdit("the file mixes CRLF and LF line endings; not rewritten (normalise it first)")
    new_text, after = _apply_verified(before, plans, refused, outcome.display, settings)
    outcome.findings = sorted(after.findings + refused, key=lambda f: (f.line, f.rule))
    if new_text == before.doc.text:
        return
    outcome.changed = True
    outcome.fixed = [f for plan in plans for f in plan.fixes]
    if write_back is WriteBack.DIFF:
        outcome.diff = _diff(before.doc.text, new_text, outcome.display)
    elif write_back is WriteBack.YES:
        atomic_write(path, before.source.encode(new_text), before.source.raw)


def _refusal(display: str, module: ModuleCall, group: NodeGroup, why: str) -> Finding:
    return Finding("EKSP010", display, group.facts.line, module.facts.name, group.facts.name,
                   f"not rewritten: {why}")


def _apply_verified(before: Analysis, plans: list[_GroupPlan], refused: list[Finding], display: str,
                    settings: Settings) -> tuple[str, Analysis]:
    """Black's safety net: the result parses and every rewritten group comes out clean.

    A group whose rewrite would still be flagged is dropped from the plan and
    reported instead, so a second run has nothing left to change.
    """
    while True:
        new_text = splice(before.doc.text, list(dict.fromkeys(e for plan in plans for e in plan.edits)))
        if not plans:
            return new_text, before
        try:
            after = _analyse_text(before.source, new_text, display, settings)
        except ParseError as exc:
            raise CannotEdit(f"internal error: the rewritten file does not parse (line {exc.line}); "
                             "not rewritten, please report this") from None
        still = {(f.module, f.node_group): f for _, _, found in after.group_findings for f in found if f.fixable}
        failed = [p for p in plans if (p.module.facts.name, p.group.facts.name) in still]
        if not failed:
            return new_text, after
        for plan in failed:
            left = still[(plan.module.facts.name, plan.group.facts.name)]
            refused.append(_refusal(display, plan.module, plan.group,
                                    f"after the rewrite it would still be flagged ({left.rule}: {left.message}); "
                                    "another part sets the proxy: edit or remove it by hand"))
            plans.remove(plan)


def _diff(old: str, new: str, display: str) -> str:
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 fromfile=f"a/{display}", tofile=f"b/{display}")
    return mask_credentials("".join(lines))
