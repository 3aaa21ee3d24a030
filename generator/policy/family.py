"""The AMI families a node can boot as, and every way they are spelt.

Every spelling of a family (an ``ami_type`` prefix, the v19/v20 ``platform``,
a Karpenter ``amiFamily`` or ``amiSelectorTerms`` alias) is mapped to
``Family`` here and nowhere else. Which family's template a node group of
terraform-aws-eks actually gets depends on the module release: ``delivery.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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
    """The template a node's user data is written in, and what reaches the node.

    ``family`` is None when unknown; ``why`` then says what to pin. ``note``
    qualifies a family taken from inferred module versions. ``delivered`` names
    the settings that reach the node (None when no module table says, as for a
    Karpenter node class); ``own_part`` says a script is a user-data part of its
    own (it needs its own ``#!``); ``mismatch`` says why the template does not fit
    the AMI the node runs, so nothing written there can take effect.
    """

    family: Family | None
    why: str = ""
    note: str = ""
    delivered: frozenset[str] | None = None
    own_part: bool = True
    mismatch: str = ""


def from_ami_type(ami_type: str) -> Family | None:
    literal = ami_type.split("${")[0]
    for prefix, family in BY_AMI_TYPE_PREFIX:
        if literal.startswith(prefix):
            return family
    return None
