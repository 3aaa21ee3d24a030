"""Which user-data template a node group of terraform-aws-eks gets, and which of its settings reach the node.

The answer is read, release by release, from the module's own sources
(``module_versions``) for every release the module call admits: a family is
named only when they all agree, and otherwise the finding names the releases
that differ and what to pin. The AMI a managed node group runs follows its
``ami_type`` whatever template the module picks, so where a release picks a
template of another family (v19, and v20 before 20.9, choose by ``platform``
alone) nothing written in the group can take effect, and the verdict says so.
"""

from __future__ import annotations

from collections.abc import Iterable

from . import module_versions
from .facts import GroupFacts, ModuleFacts, Opaque
from .family import BY_PLATFORM, Family, FamilyVerdict, from_ami_type
from .values import shorten

MAPS = {"eks_managed": "eks_managed_node_groups", "self_managed": "self_managed_node_groups"}
SUBMODULE = "module"  # GroupFacts.map of a node-group submodule called directly
# The setting that carries a family's proxy set-up to its nodes.
SETTING = {Family.AL2023: "cloudinit_pre_nodeadm", Family.AL2: "pre_bootstrap_user_data",
           Family.BOTTLEROCKET: "bootstrap_extra_args"}
_NAMES = {Family.AL2023: "AL2023", Family.AL2: "AL2 (bootstrap.sh)", Family.BOTTLEROCKET: "Bottlerocket",
          Family.WINDOWS: "Windows"}


def ami_family(module: ModuleFacts, group: GroupFacts) -> FamilyVerdict:
    """The template the group's nodes get, by every release the call admits; None with what to pin otherwise."""
    if isinstance(group.ami_type, Opaque):
        return FamilyVerdict(None, f"ami_type is {shorten(group.ami_type.expression)}, which only Terraform can "
                                   "compute; write it as a literal (e.g. AL2023_x86_64_STANDARD) so the AMI family is "
                                   "known")
    if isinstance(group.platform, Opaque):
        return FamilyVerdict(None, f"platform is {shorten(group.platform.expression)}, which only Terraform can "
                                   "compute")
    ami, platform = group.ami_type, group.platform
    if ami is not None and "${" in ami and from_ami_type(ami) is None:
        return FamilyVerdict(None, f"ami_type is {shorten(ami)}, which only Terraform can compute; write it as a "
                                   "literal (e.g. AL2023_x86_64_STANDARD) so the AMI family is known")
    if ami is not None and from_ami_type(ami) is None:
        return FamilyVerdict(None, f"ami_type {shorten(ami)} is not a type eksproxy-gen knows")
    if ami is not None and from_ami_type(ami) is Family.CUSTOM:
        return FamilyVerdict(Family.CUSTOM)
    map_name = MAPS.get(group.kind, "eks_managed_node_groups")
    versions = module.versions or frozenset(module_versions.released())
    deliveries = {v: deliver(v, map_name, ami, platform, group) for v in versions}
    templates = {d.template for d in deliveries.values()}
    if len(templates) == 1 and None not in templates:
        template = next(iter(templates))
        assert template is not None
        delivered = frozenset.intersection(*(d.inputs for d in deliveries.values()))
        return FamilyVerdict(template, note=_joined(_note(module, group, template, map_name),
                                                    _dropped(group, map_name, deliveries)),
                             delivered=delivered, own_part=any(d.own_part for d in deliveries.values()),
                             mismatch=_mismatch(module, group, template, versions, map_name)
                             or _unreached(group, template, deliveries, map_name, passed=delivered))
    if templates == {None}:
        if platform == "windows" or (ami is not None and from_ami_type(ami) is Family.WINDOWS):
            return FamilyVerdict(Family.WINDOWS)
        boots = _boots_as(group)
        if boots is not None and all(d.blocked for d in deliveries.values()):
            return FamilyVerdict(boots, note=_note(module, group, None, map_name), delivered=frozenset(),
                                 mismatch=_unreached(group, boots, deliveries, map_name, passed=frozenset()))
        by_error: dict[str, set[str]] = {}
        for version, found in deliveries.items():
            by_error.setdefault(found.error, set()).add(version)
        said = "; ".join(f"terraform-aws-eks {module_versions.span(frozenset(v))} {error}"
                         for error, v in sorted(by_error.items(), key=lambda kv: min(map(module_versions.key, kv[1]))))
        return FamilyVerdict(None, f"{said}; {_pin(module, group)}")
    return FamilyVerdict(None, f"the user-data template depends on the module release: {_by_template(deliveries)}; "
                               f"{_pin(module, group)}")


def _owns(group: GroupFacts) -> tuple[module_versions.OwnAmi, ...]:
    """The pairings of ami_id with enable_bootstrap_user_data the group can be: both values of an
    enable_bootstrap_user_data only Terraform can compute."""
    bootstraps = (False, True) if group.bootstrap_user_data is None else (group.bootstrap_user_data,)
    return tuple(module_versions.OwnAmi(group.ami_id, b) for b in bootstraps)


def deliver(version: str, map_name: str, ami: str | None, platform: str | None,
            group: GroupFacts) -> module_versions.Delivery:
    """What ``version`` makes of the group, as the module reads its ami_id and enable_bootstrap_user_data; when
    the latter is not a literal, only what holds either way (the settings both pass on)."""
    found = [module_versions.delivery(version, map_name, ami, platform, own) for own in _owns(group)]
    first = found[0]
    if all(f == first for f in found):
        return first
    if len({f.template for f in found}) == 1 and first.template is not None:
        return module_versions.Delivery(first.template, frozenset.intersection(*(f.inputs for f in found)),
                                        all(f.own_part for f in found))
    return module_versions.Delivery(None, error="gives this group a different user-data template with "
                                                "enable_bootstrap_user_data true and false, and only Terraform can "
                                                "compute its value")


def _joined(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def _dropped(group: GroupFacts, map_name: str, deliveries: dict[str, module_versions.Delivery]) -> str:
    """A setting the group gives that the judged releases no longer read from a group, where the last release
    that did would have made something else of the group; "" otherwise.

    The verdict itself already follows the judged releases (the setting is
    ignored, as Terraform drops it); this says why, so a group written for an
    older release is not just reported as lacking what it sets.
    """
    if group.map == SUBMODULE or not deliveries:
        return ""
    versions = frozenset(deliveries)
    oldest = min(versions, key=module_versions.key)
    ami = group.ami_type if isinstance(group.ami_type, str) else None
    platform = group.platform if isinstance(group.platform, str) else None
    said: list[str] = []
    for name, value in (("platform", platform), ("ami_type", ami)):
        if value is None or any(module_versions.group_takes(map_name, name, v) for v in versions):
            continue
        last, before = _last_taking(name, oldest, map_name, ami, platform, group)
        now = {(d.template, d.inputs) for d in deliveries.values()}
        if last is None or before is None or now == {(before.template, before.inputs)}:
            continue
        gets = {t for t, _ in now}
        shown = module_versions.shown(last)
        change = (f"this group gets {_template_name(next(iter(gets)))}; {shown}, the last release where it "
                  f"counts, gave it {_template_name(before.template)}" if len(gets) == 1 and gets != {before.template}
                  else f"{_settings(now)} reach the node; with {shown}, the last release where it counts, "
                       f"{_settings({(before.template, before.inputs)})} did")
        said.append(f"{name} = \"{value}\" is ignored: terraform-aws-eks {module_versions.span(versions)} does not "
                    f"read it from a node group, so {change}")
    return "; ".join(said)


def _last_taking(name: str, before: str, map_name: str, ami: str | None, platform: str | None,
                 group: GroupFacts) -> tuple[str | None, module_versions.Delivery | None]:
    """The newest release older than ``before`` where ``name`` changes what the group gets (self-managed releases
    from v20.9 default ami_type, which then wins over ``platform``; from v20.14 they read ``platform`` only to
    reject it), with what it makes of the group."""
    for release in reversed(module_versions.released()):
        if module_versions.key(release) >= module_versions.key(before) or \
                not module_versions.group_takes(map_name, name, release):
            continue
        found = deliver(release, map_name, ami, platform, group)
        unset = deliver(release, map_name, None if name == "ami_type" else ami, None if name == "platform" else
                        platform, group)
        if found.template is not None and found != unset:
            return release, found
    return None, None


def _template_name(template: Family | None) -> str:
    return f"the {_NAMES[template]} template" if template in _NAMES else "no user data it reads"


def _settings(found: set[tuple[Family | None, frozenset[str]]]) -> str:
    names = sorted(set().union(*(inputs for _, inputs in found)))
    return ", ".join(names) if names else "none of its user-data settings"


def _boots_as(group: GroupFacts) -> Family | None:
    """The supported family a group's nodes boot as, told by what the group says of itself: its ``ami_type``
    (the AMI a managed node group runs follows it), else its ``platform``; None when neither names one."""
    ami = group.ami_type if isinstance(group.ami_type, str) else None
    named = from_ami_type(ami) if ami is not None else None
    if named is None and isinstance(group.platform, str):
        named = BY_PLATFORM.get(group.platform)
    return named if named is not None and named.supported else None


def _unreached(group: GroupFacts, family: Family, deliveries: dict[str, module_versions.Delivery], map_name: str,
               passed: frozenset[str]) -> str:
    """Why the setting that carries a ``family`` group's proxy never reaches its nodes with these releases, or "".

    A release that knows the group but gives it no user data, rejects it, or
    does not pass the setting on is a verdict on the group (the proxy cannot
    take effect there), with the release that would take it; it is never "the
    family cannot be told", which would send the user to set what is set.
    """
    setting = SETTING.get(family)
    if setting is None or setting in passed:
        return ""
    versions = frozenset(deliveries)
    releases = module_versions.span(versions)
    ami = group.ami_type if isinstance(group.ami_type, str) else None
    platform = group.platform if isinstance(group.platform, str) else None
    if all(d.blocked == module_versions.REJECTED for d in deliveries.values()):
        errors = "; ".join(sorted({d.error for d in deliveries.values()}))
        without = platform is not None and not any(
            deliver(v, map_name, ami, None, group).blocked for v in versions)
        chooses = (f"ami_type {ami} chooses the template" if ami is not None
                   else "set ami_type (e.g. AL2023_x86_64_STANDARD) to choose the template")
        advice = (f"remove platform, which these releases no longer take ({chooses})" if without
                  else f"write the group as terraform-aws-eks {releases} takes it")
        return (f"terraform-aws-eks {releases} {errors}: Terraform stops before any node is launched, so no proxy "
                f"set in this group can take effect; {advice}")
    if group.map == SUBMODULE and _writes(group, setting) and not any(
            module_versions.group_takes(map_name, setting, v) for v in versions):
        why = f"the node-group submodule has no input {setting} there (Terraform rejects the call)"
    else:
        by_why: dict[str, set[str]] = {}
        for version, found in deliveries.items():
            if setting in found.inputs:
                continue  # releases that do pass it on are named as such below, never as not passing it
            said = found.error if found.blocked else "does not pass it on to this group's user data"
            by_why.setdefault(said, set()).add(version)
        why = f"the module {next(iter(by_why))}" if len(by_why) == 1 else "; ".join(
            f"terraform-aws-eks {module_versions.span(frozenset(v))} {said}"
            for said, v in sorted(by_why.items(), key=lambda kv: min(map(module_versions.key, kv[1]))))
    passing = frozenset(v for v, found in deliveries.items() if setting in found.inputs)
    if passing:
        why += f" (terraform-aws-eks {module_versions.span(passing)} passes it on, but the call may run the others)"
    first = module_versions.first_reaching(module_versions.newest(versions), map_name, ami, platform,
                                           _owns(group)[0], family, setting)
    later = (f"from {module_versions.shown(first)} on it does: upgrade the module to "
             f"{module_versions.shown(first)} or later" if first is not None
             else "no release eksproxy-gen knows passes it on for a group written this way")
    return (f"{setting} does not reach the node with terraform-aws-eks {releases}: {why}, so no proxy can be given to "
            f"this group's nodes; {later}")


def _writes(group: GroupFacts, setting: str) -> bool:
    """Whether the group gives ``setting`` a value (an expression counts: Terraform checks the name, not the value)."""
    value = {"cloudinit_pre_nodeadm": group.parts, "pre_bootstrap_user_data": group.pre_bootstrap_user_data,
             "bootstrap_extra_args": group.bootstrap_extra_args}[setting]
    return isinstance(value, Opaque) or bool(value)


def _note(module: ModuleFacts, group: GroupFacts, template: Family | None, map_name: str) -> str:
    """When the releases were inferred and every release would not agree: the inference, and to pin."""
    if not module.version_basis:
        return ""
    every = {deliver(v, map_name, group.ami_type if isinstance(group.ami_type, str) else None,
                     group.platform if isinstance(group.platform, str) else None, group).template
             for v in module_versions.released() if not module_versions.unsupported(frozenset({v}))}
    return f"{module.version_basis}; pin version to be sure" if every != {template} else ""


def _mismatch(module: ModuleFacts, group: GroupFacts, template: Family, versions: Iterable[str],
              map_name: str) -> str:
    """Why a managed node group's template does not fit the AMI its ``ami_type`` makes EKS launch, or ""."""
    ami = group.ami_type if isinstance(group.ami_type, str) else None
    if ami is None or group.kind != "eks_managed" or group.custom_ami:
        return ""
    runs = from_ami_type(ami)
    if runs is None or runs is template or not runs.supported:
        return ""
    releases = module_versions.span(frozenset(versions))
    advice = {
        Family.AL2023: "upgrade the module to v20.9 or later, where ami_type chooses the template (from v20.8.4 "
                       "platform = \"al2023\" does too)",
        Family.BOTTLEROCKET: "set platform = \"bottlerocket\" (this release chooses the template by platform), or "
                             "upgrade the module to v20.9 or later",
        Family.AL2: "set platform = \"linux\", or remove the platform that picks another template",
    }[runs]
    return (f"ami_type {ami} makes EKS launch an {_NAMES[runs]} AMI, but terraform-aws-eks {releases} writes this "
            f"group's user data in the {_NAMES[template]} format, which that AMI does not read: no proxy set in the "
            f"group can take effect, and eksproxy-gen writes none; {advice}")


def _by_template(deliveries: dict[str, module_versions.Delivery]) -> str:
    groups: dict[str, set[str]] = {}
    for version, found in deliveries.items():
        name = f"the {_NAMES[found.template]} template" if found.template in _NAMES else "no user data it reads"
        groups.setdefault(name, set()).add(version)
    return ", ".join(f"{module_versions.span(frozenset(v))} give {name}"
                     for name, v in sorted(groups.items(), key=lambda kv: min(map(module_versions.key, kv[1]))))


def _pin(module: ModuleFacts, group: GroupFacts) -> str:
    """What tells the releases apart: the version, and ``ami_type`` only when the group does not set it."""
    basis = f" ({module.version_basis})" if module.version_basis else ""
    if group.ami_type is not None:
        return f"pin the module's version{basis}"
    return f"set ami_type (e.g. AL2023_x86_64_STANDARD) or pin the module's version{basis}"
