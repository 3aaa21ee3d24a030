"""Syntax tree -> terraform-aws-eks module calls and their node groups, with effective settings.

The decisions (which sources count, v20 defaults, AMI family inputs) live in
policy.groups and work on plain values; this module turns syntax into those
values and keeps, for each node group, the syntax nodes a fix would edit.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    """

    facts: GroupFacts
    obj: ObjectExpr | None = None
    key_elem: ObjectElem | None = None
    block: Block | None = None
    defaults: Attribute | None = None
    siblings_own_parts: bool = False


@dataclass(frozen=True)
class ModuleCall:
    facts: ModuleFacts
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


def _local_kind(source: str, folder: Path) -> str | None:
    path, _, sub = source.partition("//")
    target = (folder / path).resolve() if not path.startswith("/") else Path(path)
    if sub:
        return policy_groups.sub_kind(sub) if _is_eks_root(target) or target.name == "terraform-aws-eks" else None
    for sub_path, kind in policy_groups.SUBMODULES.items():
        root = target.parent.parent
        if source.rstrip("/").endswith(sub_path) and (root.name == "terraform-aws-eks" or _is_eks_root(root)):
            return kind
    if target.name == "terraform-aws-eks" or _is_eks_root(target):
        return "root"
    return None


def _is_eks_root(target: Path) -> bool:
    """A vendored copy of terraform-aws-eks: the root module's node_groups.tf and its submodule."""
    try:
        return (target / "node_groups.tf").is_file() and (target / "modules" / "eks-managed-node-group").is_dir()
    except OSError:
        return False


def read_modules(doc: Document, path: Path, display: str) -> list[ModuleCall]:
    """Every terraform-aws-eks module call in a parsed file."""
    calls: list[ModuleCall] = []
    for block in doc.body.blocks:
        if block.type != "module" or not block.labels:
            continue
        source_attr = block.body.attribute("source")
        source = plain(doc, source_attr.value) if source_attr else None
        if not isinstance(source, str) or "${" in source:
            continue
        kind, ref_major = policy_groups.classify_source(source, lambda s: _local_kind(s, path.parent))
        if kind is not None:
            calls.append(_module_call(doc, block, kind, ref_major, display))
    return calls


def _module_call(doc: Document, block: Block, kind: str, ref_major: int | None, display: str) -> ModuleCall:
    args = {a.name: plain(doc, a.value) for a in block.body.attributes}
    facts = policy_groups.module_facts(block.labels[0], display, doc.line_of(block.span.start), args, ref_major)
    if kind != "root":
        group = policy_groups.group_facts(facts.name, facts.line, kind, args, None, facts.major)
        return ModuleCall(facts, block, kind, (NodeGroup(group, block=block),))
    maps = {name: block.body.attribute(name) for name in policy_groups.GROUP_MAPS}

    def elem_of(attr_name: str, group: str) -> ObjectElem | None:
        attr = maps[attr_name]
        if attr is None or not isinstance(attr.value, ObjectExpr):
            return None
        return next((e for e in attr.value.elems if (e.key or doc.source(e.key_span)) == group), None)

    def group_line(attr_name: str, group: str) -> int:
        elem = elem_of(attr_name, group)
        return doc.line_of(elem.span.start) if elem else facts.line

    def attr_line(attr_name: str) -> int:
        attr = maps[attr_name]
        return doc.line_of(attr.span.start) if attr else facts.line

    pairs, findings = policy_groups.root_groups(facts, args, group_line, attr_line)
    groups = []
    for attr_name, group in pairs:
        elem = elem_of(attr_name, group.name)
        defaults = block.body.attribute(policy_groups.DEFAULTS_MAPS[policy_groups.GROUP_MAPS[attr_name]])
        owned = maps[attr_name]
        siblings = isinstance(owned.value, ObjectExpr) and any(
            isinstance(e.value, ObjectExpr) and e.value.get("cloudinit_pre_nodeadm") is not None
            for e in owned.value.elems) if owned else False
        groups.append(NodeGroup(
            group, obj=elem.value if elem and isinstance(elem.value, ObjectExpr) else None, key_elem=elem,
            defaults=defaults if defaults is not None and isinstance(defaults.value, ObjectExpr) else None,
            siblings_own_parts=siblings))
    return ModuleCall(facts, block, kind, tuple(groups), tuple(findings))


def part_items(doc: Document, tup: TupleExpr) -> list[tuple[ObjectExpr, object]]:
    """The object elements of a parts list with their plain form."""
    return [(item, plain(doc, item)) for item in tup.items if isinstance(item, ObjectExpr)]
