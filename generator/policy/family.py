"""Which user-data template a node gets: AL2023, AL2, Bottlerocket, Windows or a custom AMI.

Every spelling of a family (an ``ami_type`` prefix, the v19/v20 ``platform``,
a Karpenter ``amiFamily`` or ``amiSelectorTerms`` alias) is mapped to
``Family`` here and nowhere else.

terraform-aws-eks picks the template from ``ami_type`` and, where it is unset,
from a default that changed between major versions (v21: AL2023; v20: the AL2
template, or ``platform``; v19: ``platform`` only). A family is only named when
every major the module call can be agrees on it; otherwise the group is not
judged, and the finding says what to pin.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .facts import GroupFacts, ModuleFacts, Opaque
from .values import shorten


class Family(StrEnum):
    """The AMI families a node can boot as; only the first three are judged and fixed."""

    AL2023 = "AL2023"
    AL2 = "AL2"
    BOTTLEROCKET = "BOTTLEROCKET"
    WINDOWS = "WINDOWS"
    CUSTOM = "CUSTOM"
    UBUNTU = "UBUNTU"

    @property
    def supported(self) -> bool:
        return self in SUPPORTED


SUPPORTED = frozenset({Family.AL2023, Family.AL2, Family.BOTTLEROCKET})

BY_PLATFORM = {"linux": Family.AL2, "al2023": Family.AL2023, "bottlerocket": Family.BOTTLEROCKET,
               "windows": Family.WINDOWS}
BY_AMI_TYPE_PREFIX = (("AL2023_", Family.AL2023), ("AL2_", Family.AL2), ("BOTTLEROCKET_", Family.BOTTLEROCKET),
                      ("WINDOWS_", Family.WINDOWS), ("CUSTOM", Family.CUSTOM))
# Karpenter: amiFamily values, and the family part of an amiSelectorTerms alias (al2023@latest)
BY_KARPENTER_NAME = {"al2023": Family.AL2023, "al2": Family.AL2, "bottlerocket": Family.BOTTLEROCKET,
                     "windows2019": Family.WINDOWS, "windows2022": Family.WINDOWS, "windows2025": Family.WINDOWS,
                     "custom": Family.CUSTOM, "ubuntu": Family.UBUNTU}
ALIAS_FAMILIES = frozenset({Family.AL2023, Family.AL2, Family.BOTTLEROCKET, Family.WINDOWS})


@dataclass(frozen=True)
class FamilyVerdict:
    """``family`` is None when unknown; ``why`` then says what to pin. ``note`` qualifies an inferred family."""

    family: Family | None
    why: str = ""
    note: str = ""


def from_ami_type(ami_type: str) -> Family | None:
    literal = ami_type.split("${")[0]
    for prefix, family in BY_AMI_TYPE_PREFIX:
        if literal.startswith(prefix):
            return family
    return None


def _for_major(group: GroupFacts, major: int) -> Family | None:
    """The family one major version of the module would give this group; None when it cannot be told.

    An ``ami_type`` names the family from v20 on; v19 and earlier went by ``platform`` alone.
    """
    platform = group.platform if isinstance(group.platform, str) else None
    if isinstance(group.platform, Opaque) and (major <= 19 or group.ami_type is None):
        return None
    if major <= 19:
        return BY_PLATFORM.get(platform or "linux")
    if isinstance(group.ami_type, str):
        return from_ami_type(group.ami_type)
    if isinstance(group.ami_type, Opaque):
        return None
    if major >= 21:
        return Family.AL2023
    if group.kind == "self_managed":
        return Family.AL2
    return BY_PLATFORM.get(platform or "linux")


def ami_family(module: ModuleFacts, group: GroupFacts) -> FamilyVerdict:
    if isinstance(group.ami_type, Opaque):
        return FamilyVerdict(None, f"ami_type is {shorten(group.ami_type.expression)}, which only Terraform can "
                                   "compute; write it as a literal (e.g. AL2023_x86_64_STANDARD) so the AMI family is "
                                   "known")
    if isinstance(group.ami_type, str) and from_ami_type(group.ami_type) is None:
        return FamilyVerdict(None, f"ami_type {shorten(group.ami_type)} is not a type eksproxy-gen knows")
    if isinstance(group.ami_type, str) and module.majors and not all(m <= 19 for m in module.majors):
        return FamilyVerdict(from_ami_type(group.ami_type))
    families = {_for_major(group, major) for major in module.majors}
    if len(families) == 1 and None not in families:
        name = next(iter(families))
        depends = group.ami_type is None and len({_for_major(group, m) for m in range(17, 23)}) > 1
        note = f"{module.major_basis}; pin version to be sure" if depends and module.major_basis else ""
        return FamilyVerdict(name, note=note)
    if isinstance(group.platform, Opaque):
        return FamilyVerdict(None, f"platform is {shorten(group.platform.expression)}, which only Terraform can "
                                   "compute")
    why = module.major_basis or "the module's major version is not pinned"
    return FamilyVerdict(None, f"ami_type is unset and the template it defaults to depends on the module's major "
                               f"version ({why}); set ami_type (e.g. AL2023_x86_64_STANDARD) or pin the version to "
                               "one major")
