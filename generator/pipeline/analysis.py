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

from .. import fsguard, yaml_text
from ..discover import (
    JSON_SUFFIXES,
    SUFFIXES,
    YAML_SUFFIXES,
    folder_files,
    is_override,
    might_call_eks,
    outside_dependencies,
)
from ..errors import ParseError
from ..evaluate import Definition, Scope
from ..hcl import Document, parse
from ..hcl_json import parse_json
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
from ..policy.catalog import Finding, TargetKey
from ..policy.controller import evaluate_controller
from ..policy.judge import evaluate_group
from ..policy.nodeclass import evaluate_nodeclass
from ..policy.nodeconfig import templated
from ..report import FileError, Notice
from ..source import SourceError, SourceFile, encoding_error, read_source, source_from_bytes
from ..walk_filter import within_vendored_module
from .inputs import FolderInput, display_name
from .not_judged import not_judged
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
    notices: tuple[Notice, ...] = ()

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
                self.raw[path] = fsguard.read_bytes(path)
            except fsguard.Refused as exc:
                if path in self.inp.targets:
                    self.errors[path] = FileError(display_name(path), 1, f"{exc.message}; not read")
                return None
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
                text = self.inp.texts.get(path, source.text)
                doc = parse_json(text) if path.name.endswith(JSON_SUFFIXES) else parse(text)
                self._check_rewrite_whole(path, doc)
            except (ParseError, SourceError) as exc:
                if path in self.inp.targets or path in self.inp.texts:
                    self.errors[path] = FileError(display, exc.line, exc.message)
                return None
            loaded = Loaded(path, display, source, doc)
        self.loaded[path] = loaded
        self.scope.add_document(path, loaded.doc, override=is_override(path.name))
        return loaded

    def _check_rewrite_whole(self, path: Path, doc: Document) -> None:
        """A rewritten text (a fix under judgement) must be read whole: a value python-hcl2 cannot read is
        tolerated only where the file as written already had it."""
        if path not in self.inp.texts or not doc.unreadable:
            return
        before = self.reuse.get(path)
        known = {before.doc.source(s) for s in before.doc.unreadable} if before is not None else set()
        new = next((s for s in doc.unreadable if doc.source(s) not in known), None)
        if new is not None:
            raise ParseError(doc.line_of(new.start), "python-hcl2 cannot read this value")

    def yaml_source(self, path: Path) -> SourceFile | None:
        """A YAML file's text; an unreadable one is an error only when it was handed in."""
        raw = self.bytes_of(path)
        if raw is None or not might_call_eks(raw, self.inp.folder):
            return None
        try:
            source = source_from_bytes(path, raw)
        except SourceError as exc:
            self.errors[path] = FileError(display_name(path), exc.line, exc.message)
            return None
        if path not in self.inp.texts and b"{{" not in raw and not templated(source.text):
            try:
                yaml_text.documents(source.text)
            except yaml_text.YamlTextError as exc:  # a node class that cannot be read must not pass as none
                self.errors[path] = FileError(display_name(path), exc.line,
                                              f"names EC2NodeClass but cannot be read: {exc.message}")
                return None
        return source

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
        """A file read by ``file()``/``templatefile()``: text, or None when it cannot be read.

        fsguard.Refused propagates (``file()`` says why the value is unknown);
        a refused file is not a dependency either, so the cache never opens it.
        """
        if path in self.inp.texts:
            self.read.add(path)
            return self.inp.texts[path]
        try:
            source = read_source(path)
        except fsguard.Refused:
            raise
        except (OSError, SourceError):
            if fsguard.trackable(path):
                self.read.add(path)
            return None
        self.read.add(path)
        return source.text


def analyse(inp: FolderInput, reuse: Mapping[Path, Loaded] | None = None) -> FolderResult:
    """Read, model and judge one folder. ``reuse`` hands over files already parsed and not replaced."""
    reader = _Reader(inp, reuse or {})
    files = folder_files(inp.folder)
    for path in inp.targets:
        if path not in files:
            files.append(path)
    candidates: list[Loaded] = []
    yaml_files: list[Path] = []
    overrides: list[Path] = []
    for path in files:
        if path.name.endswith(YAML_SUFFIXES):
            yaml_files.append(path)
            continue
        if is_override(path.name):
            overrides.append(path)
            continue
        if _might_call_eks(reader, path) and (loaded := reader.load(path)) is not None:
            candidates.append(loaded)
    if overrides and (candidates or any(_might_call_eks(reader, p) for p in overrides)):
        for path in sorted(overrides, key=lambda p: p.name):  # Terraform merges them in the order of their names
            reader.load(path)
        candidates = _with_overridden(reader, candidates)
    blocks = [reader.scope.merged(c.path, c.doc, b) for c in candidates for b in c.doc.body.blocks]
    modules: list[ModuleCall] = read_modules([b for b in blocks if b.block and b.block.type == "module"],
                                             reader.scope, display_name, reader.settings_refs)
    targets: list[Target] = []
    module_findings: list[Finding] = []
    for module in modules:
        module_findings += module.findings
        for group in module.groups:
            findings = tuple(evaluate_group(module.facts, group.facts, inp.settings))
            targets.append(NodeGroupTarget(findings, module=module, group=group))
    karpenter, yaml_sources = _karpenter(reader, blocks, yaml_files, modules)
    _check_targets_parse(reader, inp)
    outside = set(reader.read) | outside_dependencies(inp.folder, list(reader.raw.values()))
    unjudged = [] if within_vendored_module(str(inp.folder)) else \
        not_judged(((loaded.display, loaded.doc) for loaded in candidates), modules)
    return FolderResult(inp, dict(reader.loaded), dict(reader.errors), tuple(modules), (*targets, *karpenter),
                        tuple(module_findings), frozenset(display_name(p) for p in inp.targets), frozenset(outside),
                        yaml_sources, tuple(unjudged))


def _might_call_eks(reader: _Reader, path: Path) -> bool:
    """The pre-filter, on the text under judgement when there is one; a target left out is still checked to be
    text."""
    raw = reader.bytes_of(path)
    if raw is None:
        return False
    replaced = reader.inp.texts.get(path)
    if might_call_eks(replaced.encode("utf-8") if replaced is not None else raw, reader.inp.folder):
        return True
    if path in reader.inp.targets and replaced is None:
        reader.check_encoding(path, raw)
    return False


def _with_overridden(reader: _Reader, candidates: list[Loaded]) -> list[Loaded]:
    """The candidates and the files that hold the blocks override files change, in the folder's order: an
    override can make a module call in a file that does not name the module's source a call of it."""
    for key in reader.scope.overridden():
        if key[0] == "module":
            reader.scope.module(key[1])
        else:
            reader.scope.resource(key[1], key[2])
    bases = {d.path for d in (*reader.scope.modules.values(), *reader.scope.resources.values())
             if d.block is not None and reader.scope.merged(d.path, d.doc, d.block).overrides}
    chosen = {c.path for c in candidates} | bases
    return sorted((loaded for path, loaded in reader.loaded.items() if path in chosen and not is_override(path.name)),
                  key=lambda loaded: loaded.path.name)


def _karpenter(reader: _Reader, blocks: list[Definition], yaml_files: list[Path], modules: list[ModuleCall]
               ) -> tuple[list[Target], dict[Path, SourceFile]]:
    """Node classes in Terraform and YAML files, and Karpenter controllers, each judged."""
    settings = reader.inp.settings
    resources = [b for b in blocks if b.block is not None and b.block.type == "resource"]
    found: list[NodeClass] = nodeclasses_in_terraform(
        [b for b in blocks if b.block is not None and b.block.type in ("resource", "data")], reader.scope, display_name)
    found += modules_nodeclasses([b for b in blocks if b.block is not None and b.block.type == "module"],
                                 display_name)
    controllers: list[Controller] = controllers_in_terraform(resources, reader.scope, display_name)
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
