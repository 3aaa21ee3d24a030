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
from .edits import CannotEdit
from .evaluate import Definition, Entry, FileSite, Known, ListV, MapV, Scope, Site, Unknown, Value
from .hcl import Block, Document, HeredocExpr
from .policy import module_versions
from .policy.catalog import NOT_STATIC, PROXY_INEFFECTIVE, UNSUPPORTED, Finding, TargetRef
from .policy.facts import GroupFacts, ModuleFacts, Opaque, Origin, Part
from .policy.template_text import has_directives, interpolations
from .policy.values import normalize, one_line

GROUP_MAPS = {"eks_managed_node_groups": "eks_managed", "self_managed_node_groups": "self_managed"}
DEFAULTS_MAPS = {"eks_managed_node_groups": "eks_managed_node_group_defaults",
                 "self_managed_node_groups": "self_managed_node_group_defaults"}
SUBMODULE_MAP = "module"
PARTS = "cloudinit_pre_nodeadm"
POST_PARTS = "cloudinit_post_nodeadm"
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
        """A setting's static value and whether it comes from the defaults map, for a fix to edit.

        Raises CannotEdit when the value, or the object a missing one would be
        added to, is written in a ``.tf.json`` file: eksproxy-gen reads Terraform's
        JSON syntax but rewrites only the native one.
        """
        value, inherited = _effective(self.value, self.defaults, name)
        if value is not None:
            places = _written_in(value)
        else:
            places = [o.path for o in self.value.objects] if self.value is not None else []
            if isinstance(self.defaults, MapV):
                places += [o.path for o in self.defaults.objects]
            if self.block is not None:
                places.append(self.home)
        json_file = next((p for p in places if p.name.endswith(".json")), None)
        if json_file is not None:
            raise CannotEdit(f"{name} of this group is written in {json_file.name}, a file in Terraform's JSON "
                             "syntax, which eksproxy-gen reads but does not rewrite; add the parts printed by "
                             "`eksproxy-gen render` there by hand")
        return value, inherited


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


def _written_in(value: Value) -> list[Path]:
    """The files the syntax of a value is written in (a file read by ``file()`` is its own: it is not listed)."""
    found: list[Path] = []
    if isinstance(value, Known) and isinstance(value.site, Site):
        found.append(value.site.path)
    elif isinstance(value, ListV):
        found += [value.site.path] if value.site is not None else []
        for item in value.items:
            found += _written_in(item)
    elif isinstance(value, MapV):
        found += [o.path for o in value.objects]
        for entry in value.entries:
            found += _written_in(entry.value)
    return found


def read_modules(definitions: Iterable[Definition], scope: Scope, display: Display,
                 settings_refs: Iterable[str] = ()) -> list[ModuleCall]:
    """The terraform-aws-eks module calls among module blocks (each with the override blocks Terraform merges
    into it); none in a copy of the module's own source tree."""
    calls: list[ModuleCall] = []
    for definition in definitions:
        path, doc, block = definition.path, definition.doc, definition.block
        if block is None or not block.labels or module_source.is_inside_eks_copy(path.parent):
            continue
        source_arg = definition.argument("source")
        source = scope.value(source_arg.value, source_arg.path, source_arg.doc) if source_arg else None
        if not isinstance(source, Known) or not isinstance(source.value, str) or "${" in source.value:
            continue
        found = module_source.classify(source.value, path.parent)
        if found is None:
            continue
        args = _arguments(definition, scope)
        if found.needs_confirmation and not _looks_like_eks(args, found.kind):
            continue
        if _creates_nothing(args):
            # kept, with no node groups, so that the call is known as terraform-aws-eks: it boots no node, so
            # nothing of it is judged, and nothing is said to be left unjudged either
            calls.append(ModuleCall(ModuleFacts(block.labels[0], display(path), doc.line_of(block.span.start)),
                                    path, doc, block, found.kind, (), args=args))
            continue
        calls.append(_module_call(doc, path, block, found, args, scope, display, settings_refs))
    return calls


def _creates_nothing(args: MapV) -> bool:
    """``create = false``, ``count = 0`` or ``for_each`` over an empty collection: the call has no instance."""
    if _literal_bool(args.get("create")) is False or _zero(args.get("count")):
        return True
    each = args.get("for_each")
    if isinstance(each, MapV):
        return not each.entries and not each.maybe and each.open is None and each.condition is None
    return isinstance(each, ListV) and not each.items


def _arguments(definition: Definition, scope: Scope) -> MapV:
    """The call's arguments, each evaluated where it is written (an override file's replaces the original's)."""
    return MapV(tuple(Entry(a.name, scope.value(a.value, a.path, a.doc), None, a.path, a.doc, a.line)
                      for a in definition.arguments()))


def _looks_like_eks(args: MapV, kind: str) -> bool:
    """A private-registry module named eks/aws counts when its arguments are terraform-aws-eks's."""
    names = set(args.keys())
    if kind == "root":
        return bool(names & set(GROUP_MAPS)) and bool(names & (module_versions.every_input() - set(GROUP_MAPS)))
    return bool(names & {"cluster_name", "cluster_service_cidr", "cluster_endpoint", "cluster_auth_base64"})


def _versions(found: module_source.Source, args: MapV, folder: Path, source: str) -> tuple[frozenset[str], str]:
    """The release the call will run, and (when the source does not pin it) how it was inferred.

    A version constraint, a git tag or a local copy's declared inputs name the
    candidates, and ``terraform init`` installs the newest of them: that is the
    release judged. Without one, the candidates are the releases whose root
    module takes every argument the call gives (Terraform rejects an unknown
    one): a verdict then holds only where all of them agree, and says so.
    """
    every = frozenset(module_versions.released())
    candidates: frozenset[str] | None = None
    pool = every
    why = ""
    if found.ref is not None:
        candidates = module_versions.ref_versions(found.ref)
        why = (f"the git ref {found.ref[:12]} is not a version tag" if module_versions.parse(found.ref) is None
               else f"the git ref {found.ref[:12]} names no release eksproxy-gen knows{_known_releases()}")
    elif source.startswith((".", "/")):
        root = module_source.copy_root(source, folder)
        declared = module_source.copy_inputs(root)
        if declared is None:
            why = "the local copy's variables.tf was not read"
        else:
            return _copy_versions(declared, module_source.copy_group_keys(root), args, every)
    else:
        version = args.get("version")
        if isinstance(version, Known) and isinstance(version.value, str):
            candidates = module_versions.constraint_versions(version.value)
            why = (f'version "{version.value}" cannot be read' if candidates is None
                   else f'version "{version.value}" admits no release eksproxy-gen knows{_known_releases()}')
        else:
            why = "no version is given"
    if candidates:
        accepted = module_versions.accepting(set(args.keys()), candidates)
        return frozenset({module_versions.newest(accepted or candidates)}), ""
    inferred = module_versions.accepting(set(args.keys()), pool)
    if not inferred:
        return pool, f"{why}, and no release takes all of its arguments"
    clues = sorted(set(args.keys()) - module_versions.META_ARGUMENTS - set(GROUP_MAPS))
    named = f" ({', '.join(clues[:3])}{', ...' if len(clues) > 3 else ''})" if clues else ""
    return inferred, (f"module release taken as {module_versions.span(inferred)} from the inputs its "
                      f"arguments{named} name, because {why}")


def _copy_versions(declared: set[str], group_keys: dict[str, set[str]] | None, args: MapV,
                   every: frozenset[str]) -> tuple[frozenset[str], str]:
    """The releases a local copy may be: those whose root module declares exactly its inputs and reads exactly
    the group keys its node_groups.tf reads. Nothing is installed, so no release is "the newest": when several
    remain, each is judged and a verdict holds only where they agree, as for a call that pins no version."""
    exact = module_versions.declaring(declared)
    if not exact:
        pool = module_versions.declaring_at_least(declared) or every
        inferred = module_versions.accepting(set(args.keys()), pool)
        why = "the local copy's variables.tf matches no release exactly"
        if not inferred:
            return pool, f"{why}, and no release takes all of its arguments"
        return inferred, f"module release taken as {module_versions.span(inferred)} from the inputs its " \
                          f"arguments name, because {why}"
    told = module_versions.reading(group_keys, exact) if group_keys else frozenset()
    candidates = told or exact
    accepted = module_versions.accepting(set(args.keys()), candidates) or candidates
    if len(accepted) == 1:
        return accepted, ""
    sources = "variables.tf and node_groups.tf" if told else "variables.tf"
    return accepted, (f"the local copy's {sources} match every release from {module_versions.span(accepted)}, "
                      "so it is judged as each of them")


def _known_releases() -> str:
    released = module_versions.released()
    return f" (it knows v{released[0]} to v{released[-1]})"


def _version_findings(facts: ModuleFacts, args: MapV) -> tuple[list[Finding], set[str]]:
    """The call's releases are not supported, or a node-group map it gives is not an input of them (then the map
    is ignored, as Terraform would never pass it on)."""
    ref = TargetRef(facts.name, facts.file, facts.line, SUBMODULE_MAP, None, facts.file, facts.line)
    if module_versions.unsupported(facts.versions):
        return [ref.finding(UNSUPPORTED, f"terraform-aws-eks {module_versions.span(facts.versions)} is not "
                                         "supported by eksproxy-gen (it judges v19 to v21; worker_groups and "
                                         "node_groups are not read): this module's node groups were not judged")], set()
    found: list[Finding] = []
    ignored: set[str] = set()
    missing = module_versions.removed_inputs(set(args.keys()), facts.versions)
    for name in (*DEFAULTS_MAPS.values(), *GROUP_MAPS):
        lacking = missing.get(name)
        if lacking is not None and lacking == facts.versions:
            line = next((e.line for e in args.entries if e.key == name), facts.line)
            found.append(ref.finding(PROXY_INEFFECTIVE, f"{name} is not an input of terraform-aws-eks "
                                                        f"{module_versions.span(lacking)} (Terraform rejects the "
                                                        "call): nothing in it reaches a node group", line=line))
            ignored.add(name)
    return found, ignored


def _module_call(doc: Document, path: Path, block: Block, found: module_source.Source, args: MapV, scope: Scope,
                 display: Display, settings_refs: Iterable[str]) -> ModuleCall:
    name = block.labels[0]
    source = args.get("source")
    versions, basis = _versions(found, args, path.parent, source.value if isinstance(source, Known)
                                and isinstance(source.value, str) else "")
    line = doc.line_of(block.span.start)
    ipv6, family_unknown = _ip_family(args.get("ip_family") or args.get("cluster_ip_family"))
    facts = ModuleFacts(
        name=name, file=display(path), line=line, versions=versions, version_basis=basis,
        service_cidr=_service_cidr(args, name, ipv6), ipv6=ipv6, family_unknown=family_unknown,
        service_cidr_ipv6=_service_cidr(args, name, True) if family_unknown else None,
        private_endpoint=_literal_bool(args.get("endpoint_private_access")
                                       or args.get("cluster_endpoint_private_access")) is not False,
    )
    findings, ignored = _version_findings(facts, args)
    groups: tuple[NodeGroup, ...] = ()
    if module_versions.unsupported(facts.versions):
        pass  # worker_groups and node_groups are not read; the finding says so
    elif found.kind != "root":
        group = _group_facts(name, line, found.kind, SUBMODULE_MAP, display(path), args, None, display)
        groups = (NodeGroup(group, path, value=args, block=block),)
    else:
        groups, more = _root_groups(facts, args, display, ignored)
        findings += more
    refs = literal_references(scope, [*settings_refs, *_texts(groups), facts.service_cidr or ""])
    facts = replace(facts, refs=refs)
    return ModuleCall(facts, path, doc, block, found.kind, groups, tuple(findings), args)


def _root_groups(module: ModuleFacts, args: MapV, display: Display,
                 ignored: set[str]) -> tuple[tuple[NodeGroup, ...], list[Finding]]:
    """The groups of the node-group maps; ``ignored`` names maps the call's releases do not have as inputs."""
    groups: list[NodeGroup] = []
    findings: list[Finding] = []
    for map_name, kind in GROUP_MAPS.items():
        value = args.get(map_name)
        if value is None or (isinstance(value, Known) and value.value is None) or map_name in ignored:
            continue
        defaults_value = args.get(DEFAULTS_MAPS[map_name]) if DEFAULTS_MAPS[map_name] not in ignored else None
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
    render = ("`eksproxy-gen render --family al2023|al2|bottlerocket` prints what each family needs: "
              f"{PARTS}, pre_bootstrap_user_data or bootstrap_extra_args")
    if merged:
        where = f"add the proxy in {merged.group(1)}, which every group merges ({render})"
    elif text.startswith("var."):
        where = f"add the proxy to each group where {shown} is set ({render})"
    else:
        where = f"add the proxy where the groups are defined ({render})"
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
    bootstrap, bootstrap_origin = _text_setting("bootstrap_extra_args", setting("bootstrap_extra_args"), display,
                                                judged=False)  # the TOML reader says why a template is not read
    pre, pre_origin = _text_setting("pre_bootstrap_user_data", setting("pre_bootstrap_user_data"), display)
    return GroupFacts(
        name=name, line=line, kind=kind, file=file, map=map_name,
        ami_type=_str_setting("ami_type", setting("ami_type"), display),
        platform=_str_setting("platform", setting("platform"), display),
        launch_template=launch_template, launch_template_reason=reason,
        parts=_parts(setting(PARTS), display),
        post_parts=_parts(setting(POST_PARTS), display, POST_PARTS),
        custom_ami=_custom_ami(setting("ami_id"), setting("enable_bootstrap_user_data"), setting("ami_type")),
        ami_id=_gives_ami_id(setting("ami_id")),
        bootstrap_user_data=_bootstrap_user_data(setting("enable_bootstrap_user_data")),
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
    return Opaque(setting, text, _where(value, display) if value is not None else "",
                  refused=isinstance(value, Unknown) and value.refused)


def _str_setting(name: str, value: Value | None, display: Display) -> str | Opaque | None:
    if value is None or (isinstance(value, Known) and value.value is None):
        return None
    if isinstance(value, Known) and isinstance(value.value, str):
        return value.value
    return _opaque(name, value, display)


TEMPLATED = "a template with %{ if } or %{ for } directives"


def _text_setting(name: str, value: Value | None, display: Display,
                  judged: bool = True) -> tuple[str | Opaque | None, Origin | None]:
    """A text setting as written; Opaque when only Terraform can compute it.

    Text whose ``%{ if }`` / ``%{ for }`` directives decide which of its lines
    exist is such a value when it is ``judged`` (what a node runs): a proxy
    under ``%{ if }`` is neither there nor missing until Terraform decides.
    """
    if value is None or (isinstance(value, Known) and value.value is None):
        return None, None
    if isinstance(value, Known) and value.text is not None:
        if judged and has_directives(value.text):
            return Opaque(name, TEMPLATED, _where(value, display)), None
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
    return _gives_ami_id(ami_id) or _literal_bool(bootstrap) is True or (
        isinstance(ami_type, Known) and ami_type.value == "CUSTOM")


def _gives_ami_id(ami_id: Value | None) -> bool:
    return ami_id is not None and not (isinstance(ami_id, Known) and ami_id.value in (None, ""))


def _bootstrap_user_data(value: Value | None) -> bool | None:
    """``enable_bootstrap_user_data`` as the module reads it (unset and null are false); None when only Terraform
    can compute it, so a verdict must hold either way."""
    if value is None or (isinstance(value, Known) and value.value is None):
        return False
    return _literal_bool(value)


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
        content, origin = _text_setting(f"{setting}.content", item.get("content"), display, judged=name == PARTS)
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


def _service_cidr(args: MapV, module_name: str, ipv6: bool) -> str | None:
    """The service CIDR the call gives its cluster: the IPv6 one on an IPv6 cluster (whose Services get IPv6
    addresses only), else the IPv4 one."""
    names = ("service_ipv6_cidr", "cluster_service_ipv6_cidr") if ipv6 else \
        ("service_ipv4_cidr", "cluster_service_ipv4_cidr", "cluster_service_cidr")
    for arg in names:
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


def _ip_family(value: Value | None) -> tuple[bool, str]:
    """Whether the cluster is IPv6, and the ``ip_family`` expression when only Terraform knows it.

    An absent or null ``ip_family`` is the module's default, IPv4. A variable, a
    conditional or a function call is not guessed at: a variable's default may be
    overridden by any tfvars file, so the family is said to be unknown and NO_PROXY
    must cover both families' ranges.
    """
    if value is None or (isinstance(value, Known) and value.value is None):
        return False, ""
    if isinstance(value, Known) and isinstance(value.value, str) and "${" not in value.value:
        return value.value == "ipv6", ""
    if isinstance(value, Unknown):
        return False, value.text
    if isinstance(value, Known) and isinstance(value.value, str):
        return False, value.value
    return False, ""


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
