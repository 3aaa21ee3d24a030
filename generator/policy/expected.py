"""What NO_PROXY must contain (P10). The checker demands this list and the fixer writes it."""

from __future__ import annotations

from dataclasses import dataclass

from .facts import ModuleFacts
from .settings import Settings
from .values import covers

EKS_DEFAULT_SERVICE_CIDRS = ("10.100.0.0/16", "172.20.0.0/16")
IMDS_IPV6 = "fd00:ec2::254"
EKS_ENDPOINTS = ".eks.amazonaws.com"
BLANKET_AWS = (".amazonaws.com", "amazonaws.com")


@dataclass(frozen=True)
class Entry:
    value: str
    reason: str


def service_cidrs(module: ModuleFacts, settings: Settings) -> tuple[str, ...]:
    """The module's own service CIDR argument, else the configured one, else both EKS defaults."""
    if module.service_cidr:
        return (module.service_cidr,)
    if settings.service_cidr:
        return (settings.service_cidr,)
    return EKS_DEFAULT_SERVICE_CIDRS


def required_no_proxy(module: ModuleFacts, settings: Settings) -> tuple[Entry, ...]:
    """Entries in the order they are written; duplicates dropped."""
    entries = [Entry("localhost", "loopback"), Entry("127.0.0.1", "loopback"),
               Entry("169.254.169.254", "instance metadata (IMDS)")]
    if module.ipv6:
        entries.append(Entry(IMDS_IPV6, "instance metadata over IPv6"))
    entries += [Entry(cidr, "VPC CIDR") for cidr in settings.vpc_cidrs]
    entries += [Entry(cidr, "cluster service CIDR") for cidr in service_cidrs(module, settings)]
    entries.append(Entry(".internal", "EC2 private DNS names"))
    if module.private_endpoint:
        entries.append(Entry(EKS_ENDPOINTS, "private EKS API endpoint"))
    entries += [Entry(extra, "configured no_proxy entry") for extra in settings.no_proxy]
    seen: set[str] = set()
    unique: list[Entry] = []
    for entry in entries:
        if entry.value not in seen:
            seen.add(entry.value)
            unique.append(entry)
    return tuple(unique)


def blanket_allowed(settings: Settings) -> bool:
    """P11: a blanket .amazonaws.com is fine only when the user asked for it."""
    return any(e in BLANKET_AWS for e in settings.no_proxy)


def dropped_entries(current: list[str], module: ModuleFacts, settings: Settings) -> list[str]:
    """Entries of a NO_PROXY being replaced that the generated one will not cover, so fix can say so.

    Shell variables and interpolations are left out: they cannot be carried over as written.
    """
    wanted = [entry.value for entry in required_no_proxy(module, settings)]
    return [entry for entry in current
            if entry not in BLANKET_AWS and "$" not in entry and not covers(wanted, entry)]
