"""What NO_PROXY must contain. The checker demands this list and the fixer writes it."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from .facts import ModuleFacts
from .settings import Settings
from .values import COALESCED, covers, is_interpolation, network, normalize

EKS_DEFAULT_SERVICE_CIDRS = ("10.100.0.0/16", "172.20.0.0/16")
# An IPv6 cluster's Services get addresses from a unique-local range EKS picks (inside fc00::/7), never IPv4 ones.
EKS_IPV6_SERVICE_RANGE = "fc00::/7"
IMDS_IPV6 = "fd00:ec2::254"
EKS_ENDPOINTS = ".eks.amazonaws.com"
BLANKET_AWS = (".amazonaws.com", "amazonaws.com")


@dataclass(frozen=True)
class Entry:
    value: str
    reason: str


def service_cidrs(module: ModuleFacts, settings: Settings) -> tuple[str, ...]:
    """The module's own service CIDR argument, else the configured one, else what EKS may pick: both IPv4
    defaults, or on an IPv6 cluster the unique-local range its IPv6 service range is taken from. When the
    cluster's IP family is unknown, the ranges of both families."""
    if settings.service_cidr and not module.service_cidr:
        if not module.family_unknown:
            return (settings.service_cidr,)
        net = network(settings.service_cidr)
        if isinstance(net, ipaddress.IPv6Network):
            return (*_family_cidrs(module.service_cidr, EKS_DEFAULT_SERVICE_CIDRS), settings.service_cidr)
        return (settings.service_cidr, *_family_cidrs(module.service_cidr_ipv6, (EKS_IPV6_SERVICE_RANGE,)))
    if module.family_unknown:
        return (*_family_cidrs(module.service_cidr, EKS_DEFAULT_SERVICE_CIDRS),
                *_family_cidrs(module.service_cidr_ipv6, (EKS_IPV6_SERVICE_RANGE,)))
    return _family_cidrs(module.service_cidr,
                         (EKS_IPV6_SERVICE_RANGE,) if module.ipv6 else EKS_DEFAULT_SERVICE_CIDRS)


def _family_cidrs(given: str | None, eks_picks: tuple[str, ...]) -> tuple[str, ...]:
    """The module's service CIDR argument of one family, else the ranges EKS picks from.

    An argument that is an expression may be null in Terraform (a variable whose
    default is null, a tfvars value, a conditional's null arm): the module then
    lets EKS pick, and a bare ``${expr}`` in a string template would fail the plan
    ("Invalid template interpolation value"). So it is written null-safe, once per
    range EKS may pick: ``${coalesce(expr, "10.100.0.0/16")}``.
    """
    if not given:
        return eks_picks
    text = normalize(given)
    if not is_interpolation(text) or COALESCED.fullmatch(text):
        return (given,)
    expression = given.strip()[2:-1].strip()
    return tuple(f'${{coalesce({expression}, "{cidr}")}}' for cidr in eks_picks)


def required_no_proxy(module: ModuleFacts, settings: Settings) -> tuple[Entry, ...]:
    """Entries in the order they are written; duplicates dropped."""
    entries = [Entry("localhost", "loopback"), Entry("127.0.0.1", "loopback"),
               Entry("169.254.169.254", "instance metadata (IMDS)")]
    unknown = (f"; ip_family is {module.family_unknown}, which only Terraform knows, so both families' "
               "entries are needed") if module.family_unknown else ""
    if module.ipv6 or module.family_unknown:
        entries.append(Entry(IMDS_IPV6, "instance metadata over IPv6" + unknown))
    entries += [Entry(cidr, "VPC CIDR") for cidr in settings.vpc_cidrs]
    for cidr in service_cidrs(module, settings):
        six = cidr == EKS_IPV6_SERVICE_RANGE and cidr not in (module.service_cidr_ipv6, module.service_cidr,
                                                              settings.service_cidr)
        why = "the IPv6 range EKS takes the cluster's service CIDR from" if six else "cluster service CIDR"
        entries.append(Entry(cidr, why + unknown))
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
    """A blanket .amazonaws.com is fine only when the user asked for it."""
    return any(e in BLANKET_AWS for e in settings.no_proxy)


def self_reference(entry: str, module: ModuleFacts) -> bool:
    """An entry that refers to the module being configured: Terraform rejects that as a cycle."""
    return re.search(r"\bmodule\." + re.escape(module.name) + r"\b", entry) is not None


def _filled_at_boot(entry: str) -> bool:
    """A shell variable (``$VPC_CIDR``, ``${VPC_CIDR}``) or anything else that is not a plain entry or reference."""
    if "$" in entry.replace("${", "") or re.search(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}", entry):
        return True
    return re.fullmatch(r"[A-Za-z0-9._:/\[\]-]+|\$\{[^}]+\}", entry) is None


@dataclass(frozen=True)
class Carry:
    """NO_PROXY entries of a part being replaced: those the generated part keeps, those it cannot, those it drops."""

    kept: tuple[str, ...] = ()
    unknowable: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()


def carry_over(current: list[str], module: ModuleFacts, settings: Settings) -> Carry:
    """What happens to the entries of a NO_PROXY being replaced, so that no entry is lost silently.

    Literal entries and Terraform references are carried into the generated list;
    a shell variable filled in at boot (the VPC CIDR read from instance metadata)
    cannot be; a blanket .amazonaws.com and a reference to the module itself are
    dropped on purpose.
    """
    wanted = [entry.value for entry in required_no_proxy(module, settings)]
    refs = dict(module.refs)
    kept: list[str] = []
    unknowable: list[str] = []
    dropped: list[str] = []
    for raw in current:
        entry = normalize(raw)
        if covers(wanted + kept, entry, refs):
            continue
        if entry in BLANKET_AWS or self_reference(entry, module):
            dropped.append(entry)
        elif _filled_at_boot(entry):
            unknowable.append(entry)
        else:
            kept.append(entry)
    return Carry(tuple(kept), tuple(unknowable), tuple(dropped))
