"""Which user-data template a node group gets: AL2023, AL2, Bottlerocket, Windows or a custom AMI.

terraform-aws-eks picks the template from ``ami_type`` and, where it is unset,
from a default that changed between major versions (v21: AL2023; v20: the AL2
template, or ``platform``; v19: ``platform`` only). A family is only named when
every major the module call can be agrees on it; otherwise the group is not
judged, and the finding says what to pin.
"""

from __future__ import annotations

from dataclasses import dataclass

from .facts import GroupFacts, ModuleFacts, Opaque
from .values import shorten

_PLATFORMS = {"linux": "AL2", "al2023": "AL2023", "bottlerocket": "BOTTLEROCKET", "windows": "WINDOWS"}
_PREFIXES = (("AL2023_", "AL2023"), ("AL2_", "AL2"), ("BOTTLEROCKET_", "BOTTLEROCKET"), ("WINDOWS_", "WINDOWS"),
             ("CUSTOM", "CUSTOM"))


@dataclass(frozen=True)
class Family:
    """``name`` is None when unknown; ``why`` then says what to pin. ``note`` qualifies an inferred family."""

    name: str | None
    why: str = ""
    note: str = ""


def _from_ami_type(ami_type: str) -> str | None:
    literal = ami_type.split("${")[0]
    for prefix, family in _PREFIXES:
        if literal.startswith(prefix):
            return family
    return None


def _for_major(group: GroupFacts, major: int) -> str | None:
    """The family one major version of the module would give this group; None when it cannot be told.

    An ``ami_type`` names the family from v20 on; v19 and earlier went by ``platform`` alone.
    """
    platform = group.platform if isinstance(group.platform, str) else None
    if isinstance(group.platform, Opaque) and (major <= 19 or group.ami_type is None):
        return None
    if major <= 19:
        return _PLATFORMS.get(platform or "linux")
    if isinstance(group.ami_type, str):
        return _from_ami_type(group.ami_type)
    if isinstance(group.ami_type, Opaque):
        return None
    if major >= 21:
        return "AL2023"
    if group.kind == "self_managed":
        return "AL2"
    return _PLATFORMS.get(platform or "linux")


def ami_family(module: ModuleFacts, group: GroupFacts) -> Family:
    if isinstance(group.ami_type, Opaque):
        return Family(None, f"ami_type is {shorten(group.ami_type.expression)}, which only Terraform can compute; "
                            "write it as a literal (e.g. AL2023_x86_64_STANDARD) so the AMI family is known")
    if isinstance(group.ami_type, str) and _from_ami_type(group.ami_type) is None:
        return Family(None, f"ami_type {shorten(group.ami_type)} is not a type eksproxy-gen knows")
    if isinstance(group.ami_type, str) and module.majors and not all(m <= 19 for m in module.majors):
        return Family(_from_ami_type(group.ami_type))
    families = {_for_major(group, major) for major in module.majors}
    if len(families) == 1 and None not in families:
        name = next(iter(families))
        depends = group.ami_type is None and len({_for_major(group, m) for m in range(17, 23)}) > 1
        note = f"{module.major_basis}; pin version to be sure" if depends and module.major_basis else ""
        return Family(name, note=note)
    if isinstance(group.platform, Opaque):
        return Family(None, f"platform is {shorten(group.platform.expression)}, which only Terraform can compute")
    why = module.major_basis or "the module's major version is not pinned"
    return Family(None, f"ami_type is unset and the template it defaults to depends on the module's major version "
                        f"({why}); set ami_type (e.g. AL2023_x86_64_STANDARD) or pin the version to one major")
