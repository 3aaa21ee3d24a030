"""One folder's Terraform, read, modelled and judged: what check reports and fix starts from.

A folder is the unit because a module's node groups may be a ``local`` written
in another file of the same folder. ``FolderInput`` says what to read (and,
to judge a fix before anything is written, which texts replace files on
disk); ``analyse`` turns it into a ``FolderResult`` and nothing else.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..discover import SUFFIXES, YAML_SUFFIXES, folder_files, might_call_eks, outside_dependencies
from ..errors import ParseError
from ..evaluate import Scope
from ..hcl import Document, parse
from ..karpenter import (
    Controller,
    NodeClass,
    YamlPlace,
    controllers_in_terraform,
    modules_nodeclasses,
    nodeclasses_in_terraform,
    nodeclasses_in_yaml,
)
from ..model import ModuleCall, literal_references, read_modules
from ..policy.controller import evaluate_controller
from ..policy.judge import evaluate_group
from ..policy.nodeclass import evaluate_nodeclass
from ..policy.rules import Finding, TargetKey
from ..report import FileError
from ..source import SourceError, SourceFile, encoding_error, read_source, source_from_bytes
from .inputs import FolderInput, display_name
from .targets import ControllerTarget, NodeClassTarget, NodeGroupTarget, Target


@dataclass(frozen=True)
class Loaded:
    path: Path
    display: str
    source: SourceFile
    doc: Document


@dataclass(frozen=True)
class FolderResult:
    """The folder's modules and every finding the policy gives, before any rule selection or suppression."""

    input: FolderInput
    loaded: Mapping[Path, Loaded]
    errors: Mapping[Path, FileError]
    modules: tuple[ModuleCall, ...]
    targets: tuple[Target, ...]
    module_findings: tuple[Finding, ...]
    target_names: frozenset[str] = frozenset()
    dependencies: frozenset[Path] = frozenset()
    yaml_sources: Mapping[Path, SourceFile] = field(default_factory=dict)

    @property
    def groups(self) -> tuple[NodeGroupTarget, ...]:
        """The node groups of terraform-aws-eks module calls, among the targets."""
        return tuple(t for t in self.targets if isinstance(t, NodeGroupTarget))

    def target(self, key: TargetKey) -> Target | None:
        return next((t for t in self.targets if t.key == key), None)

    def reported(self, path: Path | str) -> bool:
        """Whether findings in this file (by path or display name) belong to this run's targets."""
        return (display_name(path) if isinstance(path, Path) else path) in self.target_names

    def text(self, path: Path) -> str:
        """A file's current text (LF): the replacement under judgement, or what was read."""
        if path in self.input.texts:
            return self.input.texts[path]
        if path in self.loaded:
            return self.loaded[path].doc.text
        return self.yaml_sources[path].text



class _Reader:
    """Reads and parses files of one folder on demand, once, keeping errors of the targets only."""

    def __init__(self, inp: FolderInput, reuse: Mapping[Path, Loaded]) -> None:
        self.inp = inp
        self.reuse = reuse
        self.loaded: dict[Path, Loaded] = {}
        self.errors: dict[Path, FileError] = {}
        self.raw: dict[Path, bytes] = {}
        self.read: set[Path] = set()
        self.scope = Scope(inp.folder, read_text=self.read_text, complete=self.load_defining)
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

    def yaml_source(self, path: Path) -> SourceFile | None:
        """A YAML file's text; an unreadable one is an error only when it was handed in."""
        raw = self.bytes_of(path)
        if raw is None or not might_call_eks(raw, self.inp.folder):
            return None
        try:
            return source_from_bytes(path, raw)
        except SourceError as exc:
            self.errors[path] = FileError(display_name(path), exc.line, exc.message)
            return None

    def check_encoding(self, path: Path, raw: bytes) -> None:
        """A target that need not be parsed must still be text: say so when it is not UTF-8."""
        error = encoding_error(raw)
        if error is not None:
            self.errors[path] = FileError(display_name(path), error.line, error.message)

    def load_defining(self, words: tuple[str, ...]) -> None:
        """Parse the folder's other files that can define a name: their bytes must spell every one of ``words``.

        A block's type and labels, and a local's name, are always written out;
        a file that lacks one of them cannot hold the definition.
        """
        wanted = [word.encode("utf-8") for word in words]
        for path in folder_files(self.inp.folder):
            if path in self.loaded:
                continue
            replaced = self.inp.texts.get(path)
            raw = replaced.encode("utf-8") if replaced is not None else self.bytes_of(path)
            if raw is not None and all(word in raw for word in wanted):
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
    yaml_files: list[Path] = []
    for path in files:
        if path.name.endswith(YAML_SUFFIXES):
            yaml_files.append(path)
            continue
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
    targets: list[Target] = []
    module_findings: list[Finding] = []
    for module in modules:
        module_findings += module.findings
        for group in module.groups:
            findings = tuple(evaluate_group(module.facts, group.facts, inp.settings))
            targets.append(NodeGroupTarget(findings, module=module, group=group))
    karpenter, yaml_sources = _karpenter(reader, candidates, yaml_files, modules)
    _check_targets_parse(reader, inp)
    outside = set(reader.read) | outside_dependencies(inp.folder, list(reader.raw.values()))
    return FolderResult(inp, dict(reader.loaded), dict(reader.errors), tuple(modules), (*targets, *karpenter),
                        tuple(module_findings), frozenset(display_name(p) for p in inp.targets), frozenset(outside),
                        yaml_sources)


def _karpenter(reader: _Reader, candidates: list[Loaded], yaml_files: list[Path], modules: list[ModuleCall]
               ) -> tuple[list[Target], dict[Path, SourceFile]]:
    """Node classes in Terraform and YAML files, and Karpenter controllers, each judged."""
    settings = reader.inp.settings
    found: list[NodeClass] = []
    controllers: list[Controller] = []
    for loaded in candidates:
        found += nodeclasses_in_terraform(loaded.doc, loaded.path, reader.scope, display_name)
        found += modules_nodeclasses(loaded.doc, loaded.path, display_name)
        controllers += controllers_in_terraform(loaded.doc, loaded.path, reader.scope, display_name)
    sources: dict[Path, SourceFile] = {}
    for path in yaml_files:
        source = reader.yaml_source(path)
        if source is None:
            continue
        sources[path] = source
        text = reader.inp.texts.get(path, source.text)
        found += nodeclasses_in_yaml(YamlPlace(path, 0, text, 1), display_name)
    cidrs = {m.facts.service_cidr for m in modules if m.facts.service_cidr}
    service_cidr = next(iter(cidrs)) if len(cidrs) == 1 else None
    refs = literal_references(reader.scope, [*reader.settings_refs, service_cidr or ""])
    found = [replace(nc, facts=replace(nc.facts, service_cidr=service_cidr, refs=refs)) for nc in found]
    controllers = [replace(c, facts=replace(c.facts, service_cidr=service_cidr, refs=refs)) for c in controllers]
    targets: list[Target] = [NodeClassTarget(tuple(evaluate_nodeclass(nc.facts, settings)), nodeclass=nc)
                             for nc in found]
    targets += [ControllerTarget(tuple(evaluate_controller(c.facts, settings)), controller=c) for c in controllers]
    return targets, sources


def _check_targets_parse(reader: _Reader, inp: FolderInput) -> None:
    """Every Terraform file handed in as a replacement text must still parse, module call or not."""
    for path in inp.texts:
        if path.name.endswith(SUFFIXES):
            reader.load(path)
