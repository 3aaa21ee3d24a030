"""Syntax tree -> terraform-aws-eks module calls and their node groups, with effective settings.

The decisions (which sources count, v20 defaults, AMI family inputs) live in
policy.groups and work on plain values; this module turns syntax into those
values and keeps, for each node group, the syntax nodes a fix would edit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from .hcl import Attribute, Block, Document, Expr, HeredocExpr, ObjectElem, ObjectExpr, StringExpr, TupleExpr
from .policy import groups as policy_groups
from .policy.facts import GroupFacts, ModuleFacts, dedent_heredoc
from .policy.rules import Finding


@dataclass(frozen=True)
class NodeGroup:
    """A node group and where its settings are written.

    ``obj`` is the group's literal object in a map, ``block`` the module block of
    a node-group submodule, ``defaults`` the v20 defaults map of its module.
    ``home`` is the file holding that syntax: another file of the folder when the
    map is a ``local``.
    """

    facts: GroupFacts
    home: Path
    obj: ObjectExpr | None = None
    key_elem: ObjectElem | None = None
    block: Block | None = None
    defaults: Attribute | None = None
    siblings_own_parts: bool = False


@dataclass(frozen=True)
class ModuleCall:
    facts: ModuleFacts
    path: Path
    block: Block
    kind: str
    groups: tuple[NodeGroup, ...]
    findings: tuple[Finding, ...] = ()


def plain(doc: Document, expr: Expr) -> object:
    """The plain form policy.groups reads: literals, ``${...}`` for expressions, dicts and lists."""
    if isinstance(expr, ObjectExpr):
        return {(e.key if e.key is not None else doc.source(e.key_span)): plain(doc, e.value) for e in expr.elems}
    if isinstance(expr, TupleExpr):
        return [plain(doc, item) for item in expr.items]
    if isinstance(expr, StringExpr):
        return expr.value if expr.value is not None else expr.raw
    if isinstance(expr, HeredocExpr):
        return dedent_heredoc(expr.body) if expr.trim else expr.body
    text = doc.source(expr.span)
    if expr.kind == "literal_value":
        return {"true": True, "false": False, "null": None}.get(text, text)
    if expr.kind in {"int_lit", "float_lit"}:
        return text
    return "${" + text + "}"


@dataclass(frozen=True)
class LocalValue:
    """A ``locals`` entry found somewhere in the folder."""

    path: Path
    display: str
    doc: Document
    attr: Attribute


LocalResolver = Callable[[str], "LocalValue | None"]


def read_modules(doc: Document, path: Path, display: str,
                 resolve_local: LocalResolver | None = None) -> list[ModuleCall]:
    """Every terraform-aws-eks module call in a parsed file."""
    calls: list[ModuleCall] = []
    for block in doc.body.blocks:
        if block.type != "module" or not block.labels:
            continue
        source_attr = block.body.attribute("source")
        source = plain(doc, source_attr.value) if source_attr else None
        if not isinstance(source, str) or "${" in source:
            continue
        kind, ref_major = policy_groups.classify_source(source, lambda s: policy_groups.local_kind(s, path.parent))
        if kind is not None:
            calls.append(_module_call(doc, path, block, kind, ref_major, display, resolve_local))
    return calls


@dataclass(frozen=True)
class _GroupMap:
    """Where a node-group map is written: in the module block, or in a local of the folder."""

    attr: Attribute
    doc: Document
    path: Path
    display: str


def _group_maps(doc: Document, path: Path, display: str, block: Block,
                resolve_local: LocalResolver | None) -> dict[str, _GroupMap]:
    maps: dict[str, _GroupMap] = {}
    for name in policy_groups.GROUP_MAPS:
        attr = block.body.attribute(name)
        if attr is None:
            continue
        maps[name] = _GroupMap(attr, doc, path, display)
        name_of_local = policy_groups.local_reference(plain(doc, attr.value))
        if name_of_local and resolve_local is not None:
            local = resolve_local(name_of_local)
            if local is not None and isinstance(local.attr.value, ObjectExpr):
                maps[name] = _GroupMap(local.attr, local.doc, local.path, local.display)
    return maps


def _module_call(doc: Document, path: Path, block: Block, kind: str, ref_major: int | None, display: str,
                 resolve_local: LocalResolver | None) -> ModuleCall:
    args = {a.name: plain(doc, a.value) for a in block.body.attributes}
    facts = policy_groups.module_facts(block.labels[0], display, doc.line_of(block.span.start), args, ref_major)
    if policy_groups.disabled(args):
        return ModuleCall(facts, path, block, kind, ())
    if kind != "root":
        group = policy_groups.group_facts(facts.name, facts.line, kind, args, None, facts.major)
        return ModuleCall(facts, path, block, kind, (NodeGroup(group, path, block=block),))
    maps = _group_maps(doc, path, display, block, resolve_local)
    for name, where in maps.items():
        args[name] = plain(where.doc, where.attr.value)

    def elem_of(attr_name: str, group: str) -> ObjectElem | None:
        where = maps.get(attr_name)
        if where is None or not isinstance(where.attr.value, ObjectExpr):
            return None
        return next((e for e in where.attr.value.elems if (e.key or where.doc.source(e.key_span)) == group), None)

    def group_line(attr_name: str, group: str) -> int:
        elem = elem_of(attr_name, group)
        return maps[attr_name].doc.line_of(elem.span.start) if elem else facts.line

    def attr_line(attr_name: str) -> int:
        where = maps.get(attr_name)
        return where.doc.line_of(where.attr.span.start) if where else facts.line

    pairs, findings = policy_groups.root_groups(facts, args, group_line, attr_line)
    groups = []
    for attr_name, group in pairs:
        where = maps[attr_name]
        elem = elem_of(attr_name, group.name)
        defaults = block.body.attribute(policy_groups.DEFAULTS_MAPS[policy_groups.GROUP_MAPS[attr_name]])
        owned = where.attr.value
        siblings = isinstance(owned, ObjectExpr) and any(
            isinstance(e.value, ObjectExpr) and e.value.get("cloudinit_pre_nodeadm") is not None
            for e in owned.elems)
        if where.path != path:
            group = replace(group, file=where.display)
        groups.append(NodeGroup(
            group, where.path, obj=elem.value if elem and isinstance(elem.value, ObjectExpr) else None,
            key_elem=elem,
            defaults=defaults if defaults is not None and isinstance(defaults.value, ObjectExpr)
            and where.path == path else None,
            siblings_own_parts=siblings))
    return ModuleCall(facts, path, block, kind, tuple(groups), tuple(findings))
