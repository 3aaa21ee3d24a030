"""Module arguments as plain values -> ModuleFacts and GroupFacts, resolved as terraform-aws-eks does.

Both front ends hand over the same plain form, so this logic exists once:
strings are literals or ``${...}`` expressions, maps are dicts, lists are
lists, heredocs are their (dedented) text. The CLI builds it from its own
syntax tree, the checkov rules from checkov's parser.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .facts import GroupFacts, ModuleFacts, Part
from .rules import Finding

Plain = Any
GROUP_MAPS = {"eks_managed_node_groups": "eks_managed", "self_managed_node_groups": "self_managed"}
DEFAULTS_MAPS = {"eks_managed": "eks_managed_node_group_defaults", "self_managed": "self_managed_node_group_defaults"}
_REGISTRY = re.compile(r"^(?:[\w.-]+/)?terraform-aws-modules/eks/aws(?://(?P<sub>[^?]*))?$")
_GIT = re.compile(r"terraform-aws-modules/terraform-aws-eks(?:\.git)?(?://(?P<sub>[^?]*))?(?:\?ref=(?P<ref>\S+))?$")
_LOCAL_REF = re.compile(r"^\$\{local\.([A-Za-z_][A-Za-z0-9_-]*)\}$")
SUBMODULES = {"modules/eks-managed-node-group": "eks_managed", "modules/self-managed-node-group": "self_managed"}
_V21_ARGS = {"name", "kubernetes_version", "addons", "service_ipv4_cidr", "ip_family", "endpoint_public_access",
             "endpoint_private_access"}
_V20_ARGS = {"cluster_name", "cluster_version", "cluster_addons", "cluster_service_ipv4_cidr", "cluster_ip_family",
             "eks_managed_node_group_defaults", "self_managed_node_group_defaults", "cluster_endpoint_public_access"}


def is_expression(value: Plain) -> bool:
    return isinstance(value, str) and value.startswith("${") and value.endswith("}")


def literal_str(value: Plain) -> str | None:
    return value if isinstance(value, str) and "${" not in value else None


def literal_bool(value: Plain) -> bool | None:
    if isinstance(value, bool):
        return value
    return {"true": True, "false": False}.get(value) if isinstance(value, str) else None


def classify_source(source: str, local_kind: Callable[[str], str | None]) -> tuple[str | None, int | None]:
    """('root' | 'eks_managed' | 'self_managed' | None, major from a git ref).

    ``local_kind`` answers for local paths, which need the file system.
    """
    match = _REGISTRY.match(source)
    if match:
        return sub_kind(match.group("sub")), None
    match = _GIT.search(source)
    if match:
        return sub_kind(match.group("sub")), major_of(match.group("ref") or "")
    if source.startswith(("./", "../", "/")):
        return local_kind(source), None
    return None, None


def local_kind(source: str, folder: Path) -> str | None:
    """The kind of a local-path source: a copy of terraform-aws-eks, or one of its node-group submodules.

    The one place in the policy that looks at the file system: a vendored copy
    is recognised by its ``node_groups.tf`` and ``modules/eks-managed-node-group``.
    """
    path, _, sub = source.partition("//")
    target = (folder / path).resolve() if not path.startswith("/") else Path(path)
    if sub:
        return sub_kind(sub) if _is_eks_root(target) or target.name == "terraform-aws-eks" else None
    for sub_path, kind in SUBMODULES.items():
        root = target.parent.parent
        if source.rstrip("/").endswith(sub_path) and (root.name == "terraform-aws-eks" or _is_eks_root(root)):
            return kind
    if target.name == "terraform-aws-eks" or _is_eks_root(target):
        return "root"
    return None


def _is_eks_root(target: Path) -> bool:
    try:
        return (target / "node_groups.tf").is_file() and (target / "modules" / "eks-managed-node-group").is_dir()
    except OSError:
        return False


def local_reference(value: Plain) -> str | None:
    """NAME when a node-group map is written ``local.NAME``: the map may then be followed into the folder."""
    match = _LOCAL_REF.match(value) if isinstance(value, str) else None
    return match.group(1) if match else None


def sub_kind(sub: str | None) -> str | None:
    if not sub:
        return "root"
    return SUBMODULES.get(sub.strip("/"))


def major_of(constraint: str) -> int | None:
    match = re.search(r"(\d+)(?:\.\d+)*", constraint)
    return int(match.group(1)) if match else None


def module_facts(name: str, file: str, line: int, args: Mapping[str, Plain], ref_major: int | None) -> ModuleFacts:
    return ModuleFacts(
        name=name, file=file, line=line,
        major=_module_major(args, ref_major),
        service_cidr=_service_cidr(args, name),
        ipv6=literal_str(args.get("ip_family", args.get("cluster_ip_family"))) == "ipv6",
        private_endpoint=literal_bool(args.get("endpoint_private_access",
                                               args.get("cluster_endpoint_private_access"))) is not False,
    )


def _module_major(args: Mapping[str, Plain], ref_major: int | None) -> int | None:
    if ref_major is not None:
        return ref_major
    version = literal_str(args.get("version"))
    if version:
        return major_of(version)
    if set(args) & _V20_ARGS:
        return 20
    if set(args) & _V21_ARGS:
        return 21
    return None


def _service_cidr(args: Mapping[str, Plain], module_name: str) -> str | None:
    for arg in ("service_ipv4_cidr", "cluster_service_ipv4_cidr", "cluster_service_cidr"):
        value = args.get(arg)
        if value is None:
            continue
        text = str(value)
        if re.search(r"\bmodule\." + re.escape(module_name) + r"\b", text) or text in {"", "${null}"}:
            return None
        return text
    return None


def disabled(args: Mapping[str, Plain]) -> bool:
    """``create = false`` on a module call or a group: nothing is built, so nothing to judge."""
    return literal_bool(args.get("create")) is False


def root_groups(module: ModuleFacts, args: Mapping[str, Plain], group_line: Callable[[str, str], int],
                attr_line: Callable[[str], int]) -> tuple[list[tuple[str, GroupFacts]], list[Finding]]:
    """Groups of the root module's maps as (map attribute, facts); a finding for each map that is not literal."""
    groups: list[tuple[str, GroupFacts]] = []
    findings: list[Finding] = []
    for attr, kind in GROUP_MAPS.items():
        value = args.get(attr)
        if value is None:
            continue
        if not isinstance(value, Mapping):
            findings.append(dynamic_map_finding(module, attr, str(value), attr_line(attr)))
            continue
        defaults = args.get(DEFAULTS_MAPS[kind])
        for name, own in value.items():
            if isinstance(own, Mapping) and disabled(own):
                continue
            line = group_line(attr, name)
            groups.append((attr, group_facts(name, line, kind, own, defaults, module.major)))
    return groups, findings


def dynamic_map_finding(module: ModuleFacts, attr: str, expression: str, line: int) -> Finding:
    """EKSP010 with the concrete place where a person can add the proxy parts."""
    text = " ".join(expression.split())
    if is_expression(text):
        text = text[2:-1].strip()
    shown = text if len(text) <= 70 else text[:67] + "..."
    merged = re.search(r"merge\(\s*(local\.[A-Za-z_][A-Za-z0-9_-]*)", text)
    variable = re.fullmatch(r"var\.[A-Za-z_][A-Za-z0-9_-]*", text)
    local = re.fullmatch(r"local\.[A-Za-z_][A-Za-z0-9_-]*", text)
    if merged:
        where = (f"add the parts printed by `eksproxy-gen render` as cloudinit_pre_nodeadm in {merged.group(1)}, "
                 "which every group merges")
    elif variable:
        where = (f"add the parts printed by `eksproxy-gen render` to each group where {text} is set "
                 "(a .tfvars file or the calling module)")
    elif local:
        where = f"{text} is not a literal map in this folder; add the parts printed by `eksproxy-gen render` there"
    else:
        where = "add the parts printed by `eksproxy-gen render` to cloudinit_pre_nodeadm where the groups are defined"
    return Finding("EKSP010", module.file, line, module.name, None,
                   f"{attr} is built dynamically ({shown}), so eksproxy-gen does not rewrite it: {where}")


def group_facts(name: str, line: int, kind: str, own: Plain, defaults: Plain, major: int | None) -> GroupFacts:
    """A group's effective settings: its own value, else the v20 defaults map's, else the module default."""
    if not isinstance(own, Mapping):
        return GroupFacts(name=name, line=line, kind=kind, parts=None, parts_expression=str(own))
    inherited = defaults if isinstance(defaults, Mapping) else {}

    def effective(key: str) -> Plain:
        return own[key] if key in own else inherited.get(key)

    ami_type = effective("ami_type")
    ami_text = None if ami_type is None else str(ami_type)
    if ami_text is None and kind == "self_managed" and major is not None and major < 21:
        ami_text = "AL2_x86_64"
    launch_template, reason = True, ""
    keys = ("create_launch_template",) if kind == "self_managed" else ("use_custom_launch_template",
                                                                        "create_launch_template")
    for key in keys:
        if literal_bool(effective(key)) is False:
            launch_template, reason = False, f"{key} = false"
            break
    if "cloudinit_pre_nodeadm" not in own and "cloudinit_pre_nodeadm" in inherited and \
            not isinstance(defaults, Mapping):
        parts, parts_text = None, str(defaults)
    else:
        parts, parts_text = parts_of(effective("cloudinit_pre_nodeadm"))
    return GroupFacts(
        name=name, line=line, kind=kind, ami_type=ami_text, platform=literal_str(effective("platform")),
        launch_template=launch_template, launch_template_reason=reason,
        parts=parts, parts_expression=parts_text,
        release_version=literal_str(effective("ami_release_version")),
        inherits_parts="cloudinit_pre_nodeadm" not in own and "cloudinit_pre_nodeadm" in inherited,
        bootstrap_extra_args=_text_or_none(effective("bootstrap_extra_args")),
        pre_bootstrap_user_data=_text_or_none(effective("pre_bootstrap_user_data")),
    )


def _text_or_none(value: Plain) -> str | None:
    return value if isinstance(value, str) else None


def parts_of(value: Plain) -> tuple[tuple[Part, ...] | None, str]:
    """``cloudinit_pre_nodeadm`` as parts; (None, text) when it is not a literal list of objects."""
    if value is None:
        return (), ""
    if isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        return None, str(value)
    return tuple(part_from_plain(item) for item in value), ""


def part_from_plain(item: Mapping[str, Plain]) -> Part:
    content = item.get("content")
    return Part(
        content_type=literal_str(item.get("content_type")) if item.get("content_type") is not None else None,
        content=content if isinstance(content, str) and not is_expression(content) else None,
        filename=literal_str(item.get("filename")) if item.get("filename") is not None else None,
        line=int(item.get("__line__", 0) or 0),
    )
