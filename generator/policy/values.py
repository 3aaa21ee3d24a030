"""Setting values as they appear in generated text: literals or ``${expr}`` interpolations."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

EXPR_PREFIX = "tf:"
_REFERENCE = re.compile(r"(?:var|local|module|data)(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[[0-9]+\])+")
_INTERP = re.compile(r"\$\{\s*(.*?)\s*\}", re.S)


def is_reference(text: str) -> bool:
    """A plain Terraform traversal such as ``module.vpc.vpc_cidr_block``: nothing that can run code."""
    return _REFERENCE.fullmatch(text) is not None


def is_interpolation(value: str) -> bool:
    return value.startswith("${") and value.endswith("}")


def normalize(value: str) -> str:
    """Compare values as Terraform sees them: whitespace inside ``${ }`` does not matter."""
    return _INTERP.sub(lambda m: "${" + re.sub(r"\s+", "", m.group(1)) + "}", value.strip())


def split_no_proxy(value: str) -> list[str]:
    """Split a NO_PROXY value on commas that are not inside ``${...}``."""
    entries: list[str] = []
    depth = 0
    current: list[str] = []
    i = 0
    while i < len(value):
        if value.startswith("${", i):
            depth += 1
            current.append("${")
            i += 2
            continue
        ch = value[i]
        if ch == "}" and depth:
            depth -= 1
        if ch == "," and not depth:
            entries.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
        i += 1
    entries.append("".join(current).strip())
    return [e for e in entries if e]


def mask_credentials(text: str) -> str:
    """Replace the password of any ``scheme://user:pass@host`` in text with ``***``."""
    return re.sub(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@\"']+):[^\s@/\"']*@", r"\1:***@", text)


def has_credentials(url: str) -> bool:
    if is_interpolation(url):
        return False
    try:
        return urlsplit(url).password is not None or urlsplit(url).username is not None
    except ValueError:
        return False


def covers(entries: list[str], wanted: str) -> bool:
    """True when a NO_PROXY list bypasses ``wanted``: same text, or a CIDR that contains it."""
    target = normalize(wanted)
    normalized = [normalize(e) for e in entries]
    if target in normalized:
        return True
    wanted_net = _network(target)
    if wanted_net is None:
        return "${" not in target and any(_domain_covers(entry, target) for entry in normalized)
    for entry in normalized:
        net = _network(entry)
        if net is not None and net.version == wanted_net.version and wanted_net.subnet_of(net):  # type: ignore[arg-type]
            return True
    return False


def _domain_covers(entry: str, wanted: str) -> bool:
    """NO_PROXY domain matching as Go and curl do: ``a.com`` and ``.a.com`` cover a.com and its subdomains."""
    if "${" in entry or not entry or _network(entry) is not None:
        return False
    bare_entry, bare_wanted = entry.lstrip(".").lower(), wanted.lstrip(".").lower()
    return bare_wanted == bare_entry or bare_wanted.endswith("." + bare_entry)


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    if "${" in text:
        return None
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
