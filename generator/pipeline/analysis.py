"""One folder's Terraform, read, modelled and judged: what check reports and fix starts from.

A folder is the unit because a module's node groups may be a ``local`` written
in another file of the same folder. ``FolderInput`` says what to read (and,
to judge a fix before anything is written, which texts replace files on
disk); ``analyse`` turns it into a ``FolderResult`` and nothing else.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..discover import SUFFIXES, folder_files, might_call_eks, outside_dependencies
from ..errors import ParseError
from ..evaluate import Scope
from ..hcl import Document, parse
from ..model import ModuleCall, NodeGroup, read_modules
from ..policy.judge import evaluate_group
from ..policy.rules import Finding
from ..report import FileError
from ..source import SourceError, SourceFile, encoding_error, read_source, source_from_bytes
from .inputs import FolderInput, display_name


@dataclass(frozen=True)
class Loaded:
    path: Path
    display: str
    source: SourceFile
    doc: Document


@dataclass(frozen=True)
class GroupResult:
    module: ModuleCall
    group: NodeGroup
    findings: tuple[Finding, ...]

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.module.facts.file, self.module.facts.name, self.group.facts.map, self.group.facts.name)


@dataclass(frozen=True)
class FolderResult:
    """The folder's modules and every finding the policy gives, before any rule selection or suppression."""

    input: FolderInput
    loaded: Mapping[Path, Loaded]
    errors: Mapping[Path, FileError]
    modules: tuple[ModuleCall, ...]
    groups: tuple[GroupResult, ...]
    module_findings: tuple[Finding, ...]
    target_names: frozenset[str] = frozenset()
    dependencies: frozenset[Path] = frozenset()

    def reported(self, path: Path | str) -> bool:
        """Whether findings in this file (by path or display name) belong to this run's targets."""
        return (display_name(path) if isinstance(path, Path) else path) in self.target_names

    def text(self, path: Path) -> str:
        """A file's current text (LF): the replacement under judgement, or what was read."""
        if path in self.input.texts:
            return self.input.texts[path]
        return self.loaded[path].doc.text


class _Reader:
    """Reads and parses files of one folder on demand, once, keeping errors of the targets only."""

    def __init__(self, inp: FolderInput, reuse: Mapping[Path, Loaded]) -> None:
        self.inp = inp
        self.reuse = reuse
        self.loaded: dict[Path, Loaded] = {}
        self.errors: dict[Path, FileError] = {}
        self.raw: dict[Path, bytes] = {}
        self.read: set[Path] = set()
        self.scope = Scope(inp.folder, read_text=self.read_text, complete=self.load_rest)
        self.settings_refs = [v for v in (inp.settings.proxy, inp.settings.service_cidr, *inp.settings.vpc_cidrs,
                                          *inp.settings.no_proxy) if v]

    def bytes_of(self, path: Path) -> bytes | None:
        if path not in self.raw:
            try:
                self.raw[path] = path.read_bytes()
            except OSError as exc:
                if path in self.inp.targets:
                    why = (f"is a symbolic link to {os.readlink(path)}, which does not exist" if path.is_symlink()
                           else f"cannot read: {exc.strerror or exc}")
                    self.errors[path] = FileError(display_name(path), 1, why)
                return None
        return self.raw[path]

    def load(self, path: Path) -> Loaded | None:
        if path in self.loaded:
            return self.loaded[path]
        if path in self.errors:
            return None
        if path in self.reuse and path not in self.inp.texts:
            loaded = self.reuse[path]
        else:
            raw = self.bytes_of(path)
            if raw is None:
                return None
            display = display_name(path)
            try:
                source = source_from_bytes(path, raw)
                doc = parse(self.inp.texts.get(path, source.text))
            except (ParseError, SourceError) as exc:
                if path in self.inp.targets or path in self.inp.texts:
                    self.errors[path] = FileError(display, exc.line, exc.message)
                return None
            loaded = Loaded(path, display, source, doc)
        self.loaded[path] = loaded
        self.scope.add_document(path, loaded.doc)
        return loaded

    def check_encoding(self, path: Path, raw: bytes) -> None:
        """A target that need not be parsed must still be text: say so when it is not UTF-8."""
        error = encoding_error(raw)
        if error is not None:
            self.errors[path] = FileError(display_name(path), error.line, error.message)

    def load_rest(self) -> None:
        for path in folder_files(self.inp.folder):
            self.load(path)

    def read_text(self, path: Path) -> str | None:
        """A file read by ``file()``/``templatefile()``: text, or None when it cannot be read."""
        self.read.add(path)
        if path in self.inp.texts:
            return self.inp.texts[path]
        try:
            return read_source(path).text
        except (OSError, SourceError):
            return None


def analyse(inp: FolderInput, reuse: Mapping[Path, Loaded] | None = None) -> FolderResult:
    """Read, model and judge one folder. ``reuse`` hands over files already parsed and not replaced."""
    reader = _Reader(inp, reuse or {})
    files = folder_files(inp.folder)
    for path in inp.targets:
        if path not in files:
            files.append(path)
    candidates: list[Loaded] = []
    for path in files:
        raw = reader.bytes_of(path)
        if raw is None:
            continue
        text_override = inp.texts.get(path)
        hint = text_override.encode("utf-8") if text_override is not None else raw
        if not might_call_eks(hint, inp.folder):
            if path in inp.targets and text_override is None:
                reader.check_encoding(path, raw)
            continue
        loaded = reader.load(path)
        if loaded is not None:
            candidates.append(loaded)
    modules: list[ModuleCall] = []
    for loaded in candidates:
        modules += read_modules(loaded.doc, loaded.path, reader.scope, display_name, reader.settings_refs)
    groups: list[GroupResult] = []
    module_findings: list[Finding] = []
    for module in modules:
        module_findings += module.findings
        for group in module.groups:
            groups.append(GroupResult(module, group, tuple(evaluate_group(module.facts, group.facts, inp.settings))))
    _check_targets_parse(reader, inp)
    outside = set(reader.read) | outside_dependencies(inp.folder, list(reader.raw.values()))
    return FolderResult(inp, dict(reader.loaded), dict(reader.errors), tuple(modules), tuple(groups),
                        tuple(module_findings), frozenset(display_name(p) for p in inp.targets), frozenset(outside))


def _check_targets_parse(reader: _Reader, inp: FolderInput) -> None:
    """Every Terraform file handed in as a replacement text must still parse, module call or not."""
    for path in inp.texts:
        if path.name.endswith(SUFFIXES):
            reader.load(path)
