"""Syntax and static values -> terraform-aws-eks module calls and their node groups, with effective settings.

A node group's settings are what terraform-aws-eks computes for it: its own
value, else (v20) the defaults map's, else the module's default. Each setting
becomes a plain value for the policy, or an ``Opaque`` naming the expression
that only Terraform can compute. The model also keeps, for each group, the
static values (with their sites) that a fix edits.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import module_source
from .evaluate import Entry, FileSite, Known, ListV, MapV, Scope, Site, Unknown, Value
from .hcl import Block, Document, HeredocExpr
from .policy.facts import GroupFacts, ModuleFacts, Opaque, Origin, Part
from .policy.rules import NOT_STATIC, Finding, TargetRef
from .policy.template_text import interpolations
from .policy.values import normalize, one_line

GROUP_MAPS = {"eks_managed_node_groups": "eks_managed", "self_managed_node_groups": "self_managed"}
DEFAULTS_MAPS = {"eks_managed_node_groups": "eks_managed_node_group_defaults",
                 "self_managed_node_groups": "self_managed_node_group_defaults"}
SUBMODULE_MAP = "module"
PARTS = "cloudinit_pre_nodeadm"
POST_PARTS = "cloudinit_post_nodeadm"
_V21_ARGS = {"name", "kubernetes_version", "addons", "service_ipv4_cidr", "ip_family", "endpoint_public_access",
             "endpoint_private_access", "enabled_log_types", "compute_config"}
_V20_ARGS = {"cluster_name", "cluster_version", "cluster_addons", "cluster_service_ipv4_cidr", "cluster_ip_family",
             "eks_managed_node_group_defaults", "self_managed_node_group_defaults", "cluster_endpoint_public_access",
             "cluster_endpoint_private_access", "cluster_enabled_log_types"}
_V19_ONLY = {"manage_aws_auth_configmap", "create_aws_auth_configmap", "aws_auth_roles", "aws_auth_users",
             "aws_auth_accounts"}
_V20_ONLY = {"access_entries", "authentication_mode", "enable_cluster_creator_admin_permissions"}
_INTERPOLATION = re.compile(r"\$\{\s*([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\[\d+\])+)\s*\}")

Display = Callable[[Path], str]


@dataclass(frozen=True)
class NodeGroup:
    """A node group, the file that holds its key, and the static values a fix edits.

    ``value`` is the group's own settings (a map of the module's node-group map,
    or a node-group submodule's arguments), ``defaults`` the v20 defaults map its
    module gives it, ``block`` the submodule's block.
    """

    facts: GroupFacts
    home: Path
    value: MapV | None = None
    defaults: MapV | Unknown | None = None
    block: Block | None = None

    def setting(self, name: str) -> tuple[Value | None, bool]:
        """A setting's static value and whether it comes from the defaults map."""
        return _effective(self.value, self.defaults, name)


@dataclass(frozen=True)
class ModuleCall:
    facts: ModuleFacts
    path: Path
    doc: Document
    block: Block
    kind: str
    groups: tuple[NodeGroup, ...]
    findings: tuple[Finding, ...] = ()
    args: MapV = field(default_factory=lambda: MapV(()))


def read_modules(doc: Document, path: Path, scope: Scope, display: Display,
                 settings_refs: Iterable[str] = ()) -> list[ModuleCall]:
    """Every terraform-aws-eks module call in a parsed file; none in a copy of the module's own source tree."""
    if module_source.is_inside_eks_copy(path.parent):
        return []
    calls: list[ModuleCall] = []
    for block in doc.body.blocks:
        if block.type != "module" or not block.labels:
            continue
        source_attr = block.body.attribute("source")
        source = scope.value(source_attr.value, path, doc) if source_attr else None
        if not isinstance(source, Known) or not isinstance(source.value, str) or "${" in source.value:
            continue
        found = module_source.classify(source.value, path.parent)
        if found is None:
            continue
        args = _arguments(block, path, doc, scope)
        if found.needs_confirmation and not _looks_like_eks(args, found.kind):
            continue
        if _literal_bool(args.get("create")) is False or _zero(args.get("count")):
            continue
        calls.append(_module_call(doc, path, block, found, args, scope, display, settings_refs))
    return calls


def _arguments(block: Block, path: Path, doc: Document, scope: Scope) -> MapV:
    entries = tuple(Entry(a.name, scope.value(a.value, path, doc), None, path, doc, doc.line_of(a.span.start))
                    for a in block.body.attributes)
    return MapV(entries)


def _looks_like_eks(args: MapV, kind: str) -> bool:
    """A private-registry module named eks/aws counts when its arguments are terraform-aws-eks's."""
    names = set(args.keys())
    if kind == "root":
        return bool(names & set(GROUP_MAPS)) and bool(names & (_V21_ARGS | _V20_ARGS))
    return bool(names & {"cluster_name", "cluster_service_cidr", "cluster_endpoint", "cluster_auth_base64"})


def _majors(found: module_source.Source, args: MapV, folder: Path, source: str) -> tuple[frozenset[int], str]:
    """The majors the call can be, and (when not pinned) how they were inferred from its arguments."""
    candidates: frozenset[int] | None = None
    why = ""
    if found.ref_major is not None:
        candidates = frozenset({found.ref_major})
    elif source.startswith((".", "/")):
        candidates = module_source.copy_majors((folder / source.partition("//")[0]).resolve())
        why = "the local copy's inputs do not tell its version"
    else:
        version = args.get("version")
        if isinstance(version, Known) and isinstance(version.value, str):
            candidates = module_source.constraint_majors(version.value)
            why = f'version "{version.value}" admits more than one major'
        elif found.ref:
            why = f"the git ref {found.ref[:12]} is not a version tag"
        else:
            why = "no version is given"
    every = frozenset(range(0, module_source.MAX_MAJOR + 1))
    candidates = candidates if candidates else every
    if len(candidates) == 1:
        return candidates, ""
    names = set(args.keys())
    inferred = set(candidates)
    clues: set[str] = set()
    if names & _V21_ARGS and not names & _V20_ARGS:
        inferred &= set(range(21, module_source.MAX_MAJOR + 1))
        clues = names & _V21_ARGS
    elif names & _V20_ARGS and not names & _V21_ARGS:
        inferred &= set(range(0, 21))
        clues = names & _V20_ARGS
        if names & _V19_ONLY:
            inferred &= set(range(0, 20))
            clues |= names & _V19_ONLY
        elif names & _V20_ONLY:
            inferred &= {20}
            clues |= names & _V20_ONLY
    if not inferred or inferred == set(candidates):
        return candidates, f"{why}, and its arguments do not tell"
    low, high = min(inferred), max(inferred)
    shown = f"v{low}" if low == high else f"v{low} or later" if high >= 21 else f"v{high} or earlier"
    return frozenset(inferred), (f"module version taken as {shown} from its arguments "
                                 f"({', '.join(sorted(clues)[:3])}) because {why}")


def _module_call(doc: Document, path: Path, block: Block, found: module_source.Source, args: MapV, scope: Scope,
                 display: Display, settings_refs: Iterable[str]) -> ModuleCall:
    name = block.labels[0]
    source = args.get("source")
    majors, basis = _majors(found, args, path.parent, source.value if isinstance(source, Known)
                            and isinstance(source.value, str) else "")
    line = doc.line_of(block.span.start)
    facts = ModuleFacts(
        name=name, file=display(path), line=line, majors=majors, major_basis=basis,
        service_cidr=_service_cidr(args, name),
        ipv6=_literal_str(args.get("ip_family") or args.get("cluster_ip_family")) == "ipv6",
        private_endpoint=_literal_bool(args.get("endpoint_private_access")
                                       or args.get("cluster_endpoint_private_access")) is not False,
    )
    if found.kind != "root":
        group = _group_facts(name, line, found.kind, SUBMODULE_MAP, display(path), args, None, display)
        groups: tuple[NodeGroup, ...] = (NodeGroup(group, path, value=args, block=block),)
        findings: list[Finding] = []
    else:
        groups, findings = _root_groups(facts, args, display)
    refs = literal_references(scope, [*settings_refs, *_texts(groups), facts.service_cidr or ""])
    facts = replace(facts, refs=refs)
    return ModuleCall(facts, path, doc, block, found.kind, groups, tuple(findings), args)


def _root_groups(module: ModuleFacts, args: MapV, display: Display) -> tuple[tuple[NodeGroup, ...], list[Finding]]:
    groups: list[NodeGroup] = []
    findings: list[Finding] = []
    for map_name, kind in GROUP_MAPS.items():
        value = args.get(map_name)
        if value is None or (isinstance(value, Known) and value.value is None):
            continue
        defaults_value = args.get(DEFAULTS_MAPS[map_name])
        defaults = defaults_value if isinstance(defaults_value, (MapV, Unknown)) else None
        at = next((e.line for e in args.entries if e.key == map_name), module.line)
        if not isinstance(value, MapV):
            findings.append(_dynamic_map(module, map_name, value, at))
            continue
        if value.open is not None:
            findings.append(_dynamic_map(module, map_name, value.open, at, more=True))
        seen: set[str] = set()
        for entry in reversed((*value.maybe, *value.entries)):
            if entry.key in seen or entry.path is None:
                continue
            seen.add(entry.key)
            group = entry.value
            line = entry.line or module.line
            if isinstance(group, MapV) and _literal_bool(_effective(group, defaults, "create")[0]) is False:
                continue
            file = display(entry.path)
            if not isinstance(group, MapV):
                facts = GroupFacts(name=entry.key, line=line, kind=kind, file=file, map=map_name,
                                   unreadable=_opaque("the node group", group, display))
                groups.append(NodeGroup(facts, entry.path))
                continue
            facts = _group_facts(entry.key, line, kind, map_name, file, group, defaults, display)
            groups.append(NodeGroup(facts, entry.path, value=group, defaults=defaults))
    groups.sort(key=lambda g: (g.facts.file or "", g.facts.line))
    return tuple(groups), findings


def _dynamic_map(module: ModuleFacts, map_name: str, value: Value, line: int, more: bool = False) -> Finding:
    """EKSP010 for a node-group map only Terraform can compute, naming it and where to add the parts."""
    text = value.text if isinstance(value, Unknown) else "a value that is not a map"
    shown = text if len(text) <= 60 else text[:59] + "…"
    merged = re.search(r"merge\(\s*(local\.[A-Za-z_][\w-]*)", text)
    if more:
        what = (f"{map_name} merges in {shown}, which only Terraform can compute, so it may hold more node "
                "groups than eksproxy-gen can see")
    else:
        what = f"{map_name} is {shown}, which only Terraform can compute, so eksproxy-gen does not judge or rewrite it"
    if merged:
        where = (f"add the parts printed by `eksproxy-gen render` as {PARTS} in {merged.group(1)}, "
                 "which every group merges")
    elif text.startswith("var."):
        where = f"add the parts printed by `eksproxy-gen render` to each group where {shown} is set"
    else:
        where = f"add the parts printed by `eksproxy-gen render` to {PARTS} where the groups are defined"
    ref = TargetRef(module.name, module.file, module.line, map_name, None, module.file, line)
    return ref.finding(NOT_STATIC, f"{what}: {where}")


def _effective(own: MapV | None, defaults: MapV | Unknown | None, name: str) -> tuple[Value | None, bool]:
    """``try(group.name, defaults.name, default)``, as terraform-aws-eks v20 resolves every group setting."""
    if own is not None:
        value = own.get(name)
        if value is not None:
            return value, False
    if isinstance(defaults, Unknown):
        return defaults, True
    if defaults is not None:
        value = defaults.get(name)
        if value is not None:
            return value, True
    return None, False


def _group_facts(name: str, line: int, kind: str, map_name: str, file: str, own: MapV,
                 defaults: MapV | Unknown | None, display: Display) -> GroupFacts:
    def setting(key: str) -> Value | None:
        return _effective(own, defaults, key)[0]

    launch_template: bool | Opaque = True
    reason = ""
    keys = ("create_launch_template",) if kind == "self_managed" else ("use_custom_launch_template",
                                                                        "create_launch_template")
    for key in keys:
        value = setting(key)
        if isinstance(value, Unknown):
            launch_template = _opaque(key, value, display)
            break
        if _literal_bool(value) is False:
            launch_template, reason = False, f"{key} = false"
            break
    bootstrap, bootstrap_origin = _text_setting("bootstrap_extra_args", setting("bootstrap_extra_args"), display)
    pre, pre_origin = _text_setting("pre_bootstrap_user_data", setting("pre_bootstrap_user_data"), display)
    return GroupFacts(
        name=name, line=line, kind=kind, file=file, map=map_name,
        ami_type=_str_setting("ami_type", setting("ami_type"), display),
        platform=_str_setting("platform", setting("platform"), display),
        launch_template=launch_template, launch_template_reason=reason,
        parts=_parts(setting(PARTS), display),
        post_parts=_parts(setting(POST_PARTS), display, POST_PARTS),
        custom_ami=_custom_ami(setting("ami_id"), setting("enable_bootstrap_user_data"), setting("ami_type")),
        release_version=_literal_str(setting("ami_release_version")),
        bootstrap_extra_args=bootstrap, bootstrap_origin=bootstrap_origin,
        pre_bootstrap_user_data=pre, pre_bootstrap_origin=pre_origin,
    )


def _where(value: Value, display: Display) -> str:
    site = value.site
    if isinstance(site, Site):
        return f"{display(site.path)}:{site.line}"
    if isinstance(site, FileSite):
        return display(site.path)
    return ""


def _opaque(setting: str, value: Value | None, display: Display) -> Opaque:
    site = value.written if isinstance(value, MapV) else value.site if value is not None else None
    if isinstance(value, Unknown):
        text = value.text
    elif isinstance(site, Site):
        text = one_line(site.doc.source(site.expr.span))
    else:
        text = "not a value of the expected type"
    return Opaque(setting, text, _where(value, display) if value is not None else "")


def _str_setting(name: str, value: Value | None, display: Display) -> str | Opaque | None:
    if value is None or (isinstance(value, Known) and value.value is None):
        return None
    if isinstance(value, Known) and isinstance(value.value, str):
        return value.value
    return _opaque(name, value, display)


def _text_setting(name: str, value: Value | None, display: Display) -> tuple[str | Opaque | None, Origin | None]:
    if value is None or (isinstance(value, Known) and value.value is None):
        return None, None
    if isinstance(value, Known) and value.text is not None:
        return value.text, _origin(value, display)
    return _opaque(name, value, display), None


def _origin(value: Known, display: Display) -> Origin | None:
    """Where the first line of a text value is written, when its lines map one to one onto a file's."""
    site = value.site
    if isinstance(site, FileSite):
        return Origin(display(site.path), 1)
    if isinstance(site, Site) and isinstance(site.expr, HeredocExpr):
        return Origin(display(site.path), site.line + 1)
    if isinstance(site, Site):
        return Origin(display(site.path), site.line)
    return None


def _custom_ami(ami_id: Value | None, bootstrap: Value | None, ami_type: Value | None) -> bool:
    """A group that brings its own AMI: EKS does not add its cluster NodeConfig to its user data."""
    own_id = ami_id is not None and not (isinstance(ami_id, Known) and ami_id.value in (None, ""))
    return own_id or _literal_bool(bootstrap) is True or (isinstance(ami_type, Known) and ami_type.value == "CUSTOM")


def _parts(value: Value | None, display: Display, name: str = PARTS) -> tuple[Part, ...] | Opaque:
    if value is None or (isinstance(value, Known) and value.value is None):
        return ()
    if not isinstance(value, ListV):
        return _opaque(name, value, display)
    parts: list[Part] = []
    for index, item in enumerate(value.items):
        setting = f"{name}[{index}]"
        if not isinstance(item, MapV) or item.open is not None:
            parts.append(Part(content_type=None, content=_opaque(setting, item, display)))
            continue
        content_type = _str_setting(f"{setting}.content_type", item.get("content_type"), display)
        content, origin = _text_setting(f"{setting}.content", item.get("content"), display)
        filename = _literal_str(item.get("filename"))
        line = item.objects[0].line if item.objects else 0
        parts.append(Part(content_type, content, filename, line, origin))
    return tuple(parts)


def _texts(groups: Iterable[NodeGroup]) -> list[str]:
    texts: list[str] = []
    for group in groups:
        facts = group.facts
        if isinstance(facts.parts, tuple):
            texts += [p.text for p in facts.parts if p.text]
        for value in (facts.pre_bootstrap_user_data, facts.bootstrap_extra_args):
            if isinstance(value, str):
                texts.append(value)
    return texts


def literal_references(scope: Scope, texts: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """Literal values of the references written in ``texts``, as far as the folder defines them.

    A value eksproxy-gen writes as ``${local.vpc_cidr}`` is compared, wherever
    the folder's own text holds its literal (a chart's values, evaluated), by
    that literal: so what ``fix`` writes from a ``tf:`` setting is what ``check``
    then accepts, for every kind of target.
    """
    found: dict[str, str] = {}
    for text in texts:
        for start, end in interpolations(text):
            match = _INTERPOLATION.fullmatch(text[start:end])
            if match is None:
                continue
            reference = normalize("${" + match.group(1) + "}")[2:-1]
            if reference in found:
                continue
            root, *steps = re.split(r"\.|\[(\d+)\]", reference)
            path_steps = tuple(int(s) if s.isdigit() else s for s in steps if s)
            value = scope.traverse(root, path_steps)
            if isinstance(value, Known) and isinstance(value.value, str) and "${" not in value.value:
                found[reference] = value.value
    return tuple(sorted(found.items()))


def _service_cidr(args: MapV, module_name: str) -> str | None:
    for arg in ("service_ipv4_cidr", "cluster_service_ipv4_cidr", "cluster_service_cidr"):
        value = args.get(arg)
        if value is None:
            continue
        if isinstance(value, Known):
            if value.value is None or value.value == "":
                return None
            text = str(value.value)
        elif isinstance(value, Unknown):
            text = "${" + value.text + "}"
        else:
            return None
        if re.search(r"\bmodule\." + re.escape(module_name) + r"\b", text):
            return None
        return text
    return None


def _zero(value: Value | None) -> bool:
    """``count = 0``: the module call creates nothing."""
    return isinstance(value, Known) and not isinstance(value.value, bool) and value.value in (0, "0")


def _literal_str(value: Value | None) -> str | None:
    return value.value if isinstance(value, Known) and isinstance(value.value, str) and "${" not in value.value \
        else None


def _literal_bool(value: Value | None) -> bool | None:
    if isinstance(value, Known):
        if isinstance(value.value, bool):
            return value.value
        if isinstance(value.value, str):
            return {"true": True, "false": False}.get(value.value)
    return None
