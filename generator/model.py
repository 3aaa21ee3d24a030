"""Syntax tree -> terraform-aws-eks module calls and their node groups, with effective settings.

The model keeps a reference to the syntax nodes each fact came from, so the
planner can edit exactly those bytes later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .hcl import (
    Attribute,
    Block,
    Document,
    Expr,
    HeredocExpr,
    ObjectElem,
    ObjectExpr,
    StringExpr,
    TupleExpr,
)
from .policy.facts import GroupFacts, ModuleFacts, Part, dedent_heredoc
from .policy.rules import Finding

_REGISTRY = re.compile(r"^(?:[\w.-]+/)?terraform-aws-modules/eks/aws(?://(?P<sub>[^?]*))?$")
_GIT = re.compile(r"terraform-aws-modules/terraform-aws-eks(?:\.git)?(?://(?P<sub>[^?]*))?(?:\?ref=(?P<ref>\S+))?$")
_SUBMODULES = {"modules/eks-managed-node-group": "eks_managed", "modules/self-managed-node-group": "self_managed"}
_V21_ARGS = {"name", "kubernetes_version", "addons", "service_ipv4_cidr", "ip_family", "endpoint_public_access",
             "endpoint_private_access"}
_V20_ARGS = {"cluster_name", "cluster_version", "cluster_addons", "cluster_service_ipv4_cidr", "cluster_ip_family",
             "eks_managed_node_group_defaults", "self_managed_node_group_defaults", "cluster_endpoint_public_access"}
GROUP_MAPS = {"eks_managed_node_groups": "eks_managed", "self_managed_node_groups": "self_managed"}
DEFAULTS_MAPS = {"eks_managed": "eks_managed_node_group_defaults", "self_managed": "self_managed_node_group_defaults"}


@dataclass(frozen=True)
class NodeGroup:
    """A node group written as a literal object; ``obj`` is where its settings are written."""

    facts: GroupFacts
    obj: ObjectExpr | None
    key_elem: ObjectElem | None
    inherits_parts: bool = False


@dataclass(frozen=True)
class ModuleCall:
    facts: ModuleFacts
    block: Block
    kind: str
    groups: tuple[NodeGroup, ...]
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class SourceKind:
    kind: str | None
    major: int | None


def classify_source(source: str, folder: Path) -> SourceKind:
    """'root', 'eks_managed' or 'self_managed' for terraform-aws-eks sources; kind None otherwise."""
    match = _REGISTRY.match(source)
    if match:
        return SourceKind(_sub_kind(match.group("sub")), None)
    match = _GIT.search(source)
    if match:
        return SourceKind(_sub_kind(match.group("sub")), _major(match.group("ref") or ""))
    if source.startswith(("./", "../", "/")):
        return SourceKind(_local_kind(source, folder), None)
    return SourceKind(None, None)


def _sub_kind(sub: str | None) -> str | None:
    if not sub:
        return "root"
    return _SUBMODULES.get(sub.strip("/"))


def _local_kind(source: str, folder: Path) -> str | None:
    path, _, sub = source.partition("//")
    target = (folder / path).resolve() if not path.startswith("/") else Path(path)
    if sub:
        return _sub_kind(sub) if _is_eks_root(target) or target.name == "terraform-aws-eks" else None
    for sub_path, kind in _SUBMODULES.items():
        if source.rstrip("/").endswith(sub_path) and (
                target.parent.parent.name == "terraform-aws-eks" or _is_eks_root(target.parent.parent)):
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


def _major(constraint: str) -> int | None:
    match = re.search(r"(\d+)(?:\.\d+)*", constraint)
    return int(match.group(1)) if match else None


def expression_text(doc: Document, expr: Expr) -> str:
    """A value as it would appear interpolated into a template: literal text or ``${...}``."""
    if isinstance(expr, StringExpr):
        return expr.value if expr.value is not None else expr.raw
    return "${" + doc.source(expr.span) + "}"


def literal(expr: Expr | None) -> str | None:
    if isinstance(expr, StringExpr):
        return expr.value
    return None


def literal_bool(doc: Document, expr: Expr | None) -> bool | None:
    if expr is None:
        return None
    text = doc.source(expr.span).strip()
    return {"true": True, "false": False}.get(text)


def read_modules(doc: Document, path: Path, display: str) -> list[ModuleCall]:
    """Every terraform-aws-eks module call in a parsed file."""
    calls: list[ModuleCall] = []
    for block in doc.body.blocks:
        if block.type != "module" or not block.labels:
            continue
        source = literal(_attr_value(block, "source"))
        if source is None:
            continue
        kind = classify_source(source, path.parent)
        if kind.kind is None:
            continue
        calls.append(_module_call(doc, block, kind, display))
    return calls


def _attr_value(block: Block, name: str) -> Expr | None:
    attr = block.body.attribute(name)
    return attr.value if attr else None


def _module_call(doc: Document, block: Block, kind: SourceKind, display: str) -> ModuleCall:
    name = block.labels[0]
    facts = ModuleFacts(
        name=name,
        file=display,
        line=doc.line_of(block.span.start),
        major=_module_major(doc, block, kind),
        service_cidr=_service_cidr(doc, block, name),
        ipv6=literal(_attr_value(block, "ip_family") or _attr_value(block, "cluster_ip_family")) == "ipv6",
        private_endpoint=literal_bool(doc, _attr_value(block, "endpoint_private_access")
                                      or _attr_value(block, "cluster_endpoint_private_access")) is not False,
    )
    if kind.kind == "root":
        groups, findings = _root_groups(doc, block, facts)
    else:
        groups, findings = _submodule_group(doc, block, facts, kind.kind or "eks_managed"), []
    return ModuleCall(facts, block, kind.kind or "root", tuple(groups), tuple(findings))


def _module_major(doc: Document, block: Block, kind: SourceKind) -> int | None:
    if kind.major is not None:
        return kind.major
    version = literal(_attr_value(block, "version"))
    if version:
        return _major(version)
    names = {a.name for a in block.body.attributes}
    if names & _V20_ARGS:
        return 20
    if names & _V21_ARGS:
        return 21
    return None


def _service_cidr(doc: Document, block: Block, module_name: str) -> str | None:
    for arg in ("service_ipv4_cidr", "cluster_service_ipv4_cidr", "cluster_service_cidr"):
        value = _attr_value(block, arg)
        if value is None:
            continue
        text = expression_text(doc, value)
        if re.search(r"\bmodule\." + re.escape(module_name) + r"\b", text):
            return None
        if text in {"", "${null}"}:
            return None
        return text
    return None


def _root_groups(doc: Document, block: Block, module: ModuleFacts) -> tuple[list[NodeGroup], list[Finding]]:
    groups: list[NodeGroup] = []
    findings: list[Finding] = []
    for attr_name, kind in GROUP_MAPS.items():
        attr = block.body.attribute(attr_name)
        if attr is None:
            continue
        if not isinstance(attr.value, ObjectExpr):
            findings.append(_dynamic_map(doc, attr, module))
            continue
        defaults = _attr_value(block, DEFAULTS_MAPS[kind])
        defaults_obj = defaults if isinstance(defaults, ObjectExpr) else None
        for elem in attr.value.elems:
            groups.append(_map_group(doc, elem, kind, module, defaults_obj))
    return groups, findings


def _dynamic_map(doc: Document, attr: Attribute, module: ModuleFacts) -> Finding:
    expr = doc.source(attr.value.span)
    shown = expr if len(expr) <= 60 else expr[:57] + "..."
    return Finding("EKSP010", module.file, doc.line_of(attr.span.start), module.name, None,
                   f"{attr.name} is built dynamically ({shown}); eksproxy-gen cannot rewrite it. Add the "
                   "part printed by `eksproxy-gen render` to cloudinit_pre_nodeadm of every group "
                   "where the map is defined")


def _map_group(doc: Document, elem: ObjectElem, kind: str, module: ModuleFacts,
               defaults: ObjectExpr | None) -> NodeGroup:
    name = elem.key if elem.key is not None else doc.source(elem.key_span)
    line = doc.line_of(elem.span.start)
    if not isinstance(elem.value, ObjectExpr):
        facts = GroupFacts(name=name, line=line, kind=kind, parts=None,
                           parts_expression=doc.source(elem.value.span))
        return NodeGroup(facts, None, elem)
    obj = elem.value

    def effective(key: str) -> Expr | None:
        own = obj.get(key)
        if own is not None:
            return own.value
        inherited = defaults.get(key) if defaults is not None else None
        return inherited.value if inherited is not None else None

    inherits = obj.get("cloudinit_pre_nodeadm") is None and defaults is not None and \
        defaults.get("cloudinit_pre_nodeadm") is not None
    facts = _group_facts(doc, name, line, kind, module, effective)
    return NodeGroup(facts, obj, elem, inherits)


def _submodule_group(doc: Document, block: Block, module: ModuleFacts, kind: str) -> list[NodeGroup]:
    def effective(key: str) -> Expr | None:
        return _attr_value(block, key)

    facts = _group_facts(doc, module.name, module.line, kind, module, effective)
    return [NodeGroup(facts, None, None)]


def _group_facts(doc: Document, name: str, line: int, kind: str, module: ModuleFacts, effective) -> GroupFacts:
    ami_expr = effective("ami_type")
    ami_type = None if ami_expr is None else expression_text(doc, ami_expr)
    if ami_type is None and kind == "self_managed" and module.major is not None and module.major < 21:
        ami_type = "AL2_x86_64"
    launch_template, reason = True, ""
    for key in ("use_custom_launch_template", "create_launch_template"):
        if key == "use_custom_launch_template" and kind == "self_managed":
            continue
        if literal_bool(doc, effective(key)) is False:
            launch_template, reason = False, f"{key} = false"
            break
    parts_expr = effective("cloudinit_pre_nodeadm")
    parts, parts_text = _parts(doc, parts_expr)
    return GroupFacts(
        name=name, line=line, kind=kind, ami_type=ami_type,
        launch_template=launch_template, launch_template_reason=reason,
        parts=parts, parts_expression=parts_text,
        release_version=literal(effective("ami_release_version")),
        custom_ami=effective("ami_id") is not None,
    )


def _parts(doc: Document, expr: Expr | None) -> tuple[tuple[Part, ...] | None, str]:
    if expr is None:
        return (), ""
    if not isinstance(expr, TupleExpr) or not all(isinstance(i, ObjectExpr) for i in expr.items):
        return None, doc.source(expr.span)
    return tuple(part_of(doc, item) for item in expr.items if isinstance(item, ObjectExpr)), ""


def part_of(doc: Document, obj: ObjectExpr) -> Part:
    content_elem = obj.get("content")
    content: str | None = None
    if content_elem is not None:
        value = content_elem.value
        if isinstance(value, HeredocExpr):
            content = dedent_heredoc(value.body) if value.trim else value.body
        elif isinstance(value, StringExpr):
            content = value.value if value.value is not None else value.raw.replace("\\n", "\n")
    ctype = obj.get("content_type")
    fname = obj.get("filename")
    return Part(
        content_type=literal(ctype.value) if ctype else None,
        content=content,
        filename=literal(fname.value) if fname else None,
        line=doc.line_of(obj.span.start),
    )
