"""One folder's Terraform, read, modelled and judged: what check reports and fix starts from.

A folder is the unit because a module's node groups may be a ``local`` written
in another file of the same folder. ``texts`` replaces file contents, so a fix
can be judged before anything is written.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .discover import SUFFIXES
from .errors import ParseError
from .filters import RuleFilter, Suppressed, Suppression, suppression_for, suppressions
from .hcl import Document, parse
from .model import LocalValue, ModuleCall, NodeGroup, read_modules
from .policy.evaluate import evaluate_group
from .policy.rules import Finding
from .policy.settings import Settings
from .source import SourceError, SourceFile, read_source

ALL_RULES = RuleFilter()


@dataclass(frozen=True)
class FileError:
    file: str
    line: int
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "message": self.message}


def display_name(path: Path) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


@dataclass
class Loaded:
    path: Path
    display: str
    source: SourceFile
    doc: Document


@dataclass
class FolderAnalysis:
    """Targets' modules and findings.

    ``texts`` replaces file contents (to verify a fix before writing); ``reuse``
    hands over files already parsed by an earlier analysis, so only the
    rewritten files are parsed again.
    """

    targets: list[Path]
    settings: Settings
    rule_filter: RuleFilter = ALL_RULES
    texts: dict[Path, str] = field(default_factory=dict)
    reuse: dict[Path, Loaded] = field(default_factory=dict)
    loaded: dict[Path, Loaded] = field(default_factory=dict)
    errors: dict[Path, FileError] = field(default_factory=dict)
    modules: list[ModuleCall] = field(default_factory=list)
    group_findings: list[tuple[ModuleCall, NodeGroup, list[Finding]]] = field(default_factory=list)
    module_findings: list[Finding] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)
    _locals: dict[str, LocalValue] | None = None
    _directives: dict[Path, dict[int, Suppression]] = field(default_factory=dict)

    def run(self) -> FolderAnalysis:
        for path in self.targets:
            loaded = self.load(path)
            if loaded is None:
                continue
            self.modules += read_modules(loaded.doc, path, loaded.display, self.resolve_local)
        for module in self.modules:
            self.module_findings += self._visible(module.findings, module, None)
            for group in module.groups:
                found = evaluate_group(module.facts, group.facts, self.settings)
                self.group_findings.append((module, group, self._visible(found, module, group)))
        return self

    def _visible(self, found: Iterable[Finding], module: ModuleCall, group: NodeGroup | None) -> list[Finding]:
        """Selected findings that no ``eksproxy-gen:ignore`` comment silences."""
        own_path = group.home if group is not None else module.path
        kept: list[Finding] = []
        for finding in found:
            if not self.rule_filter.keeps(finding.rule):
                continue
            directive = suppression_for(finding, module.facts.line, self._directives_of(module.path),
                                        self._directives_of(own_path))
            if directive is None:
                kept.append(finding)
            else:
                self.suppressed.append(Suppressed(finding, directive.reason))
        return kept

    def _directives_of(self, path: Path) -> dict[int, Suppression]:
        if path not in self._directives:
            loaded = self.loaded.get(path)
            self._directives[path] = suppressions(loaded.doc.text) if loaded else {}
        return self._directives[path]

    def load(self, path: Path) -> Loaded | None:
        if path in self.loaded:
            return self.loaded[path]
        if path in self.reuse and path not in self.texts:
            self.loaded[path] = self.reuse[path]
            return self.loaded[path]
        display = display_name(path)
        try:
            source = read_source(path)
            doc = parse(self.texts.get(path, source.text))
        except (ParseError, SourceError) as exc:
            self.errors[path] = FileError(display, exc.line, exc.message)
            return None
        except OSError as exc:
            self.errors[path] = FileError(display, 1, f"cannot read: {exc.strerror or exc}")
            return None
        self.loaded[path] = Loaded(path, display, source, doc)
        return self.loaded[path]

    def resolve_local(self, name: str) -> LocalValue | None:
        """``local.NAME`` from any file of the folder (parsed on first need)."""
        if self._locals is None:
            self._locals = {}
            folder = self.targets[0].parent
            siblings = sorted(p for p in folder.iterdir() if p.name.endswith(SUFFIXES) and p.is_file())
            for path in siblings:
                loaded = self.load(path) if path in self.targets else self._quiet_load(path)
                if loaded is None:
                    continue
                for block in loaded.doc.body.blocks:
                    if block.type == "locals":
                        for attr in block.body.attributes:
                            self._locals[attr.name] = LocalValue(path, loaded.display, loaded.doc, attr)
        return self._locals.get(name)

    def _quiet_load(self, path: Path) -> Loaded | None:
        """Load a sibling that is not a target: its own errors are not this run's business."""
        had = path in self.errors
        loaded = self.load(path)
        if not had:
            self.errors.pop(path, None)
        return loaded

    def findings_by_file(self) -> dict[str, list[Finding]]:
        out: dict[str, list[Finding]] = {}
        for finding in self.module_findings:
            out.setdefault(finding.file, []).append(finding)
        for _, _, found in self.group_findings:
            for finding in found:
                out.setdefault(finding.file, []).append(finding)
        return {k: sorted(v, key=lambda f: (f.line, f.rule)) for k, v in out.items()}
