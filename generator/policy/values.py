"""Values as they appear in Terraform and in generated text: literals or ``${expr}`` interpolations."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

EXPR_PREFIX = "tf:"
_REFERENCE = re.compile(r"(?:var|local|module|data)(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[[0-9]+\])+")
_INTERP = re.compile(r"\$\{\s*(.*?)\s*\}", re.S)
_USERINFO = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://)([^\s/?#\"'<>]*)@(?=[^\s@/?#\"'<>]*(?:[/?#\s\"'<>]|$))")
MESSAGE_WIDTH = 60


def is_reference(text: str) -> bool:
    """A plain Terraform traversal such as ``module.vpc.vpc_cidr_block``: nothing that can run code."""
    return _REFERENCE.fullmatch(text) is not None


def is_interpolation(value: str) -> bool:
    """The whole value is one ``${...}``: a Terraform expression rather than a literal."""
    return value.startswith("${") and value.endswith("}") and value.count("${") == 1


def normalize(value: str) -> str:
    """Compare values as Terraform sees them: whitespace inside ``${ }`` does not matter."""
    return _INTERP.sub(lambda m: "${" + re.sub(r"\s+", "", m.group(1)) + "}", value.strip())


def resolve(value: str, refs: Mapping[str, str]) -> str:
    """A ``${reference}`` whose literal value the folder gives, as that literal; anything else as it is."""
    text = normalize(value)
    if is_interpolation(text):
        return refs.get(text[2:-1], text)
    return text


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
    """Replace the whole user-info of any ``scheme://user:pass@host`` in text with ``***``.

    The last ``@`` before the host ends the user-info, so an unencoded ``@`` in a
    password is masked too: no part of a password is ever printed.
    """
    return _USERINFO.sub(lambda m: m.group(1) + "***@", text)


def has_credentials(url: str) -> bool:
    if "${" in url:
        return False
    try:
        parts = urlsplit(url)
        return parts.password is not None or parts.username is not None
    except ValueError:
        return "@" in url


def one_line(text: str) -> str:
    """Collapse whitespace so a message or expression fits on one line."""
    return " ".join(text.split())


def shorten(text: str, width: int = MESSAGE_WIDTH) -> str:
    """An expression for a message: one line, cut with an ellipsis when long."""
    flat = one_line(text)
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


def dedent_heredoc(body: str) -> str:
    """Strip the common indentation, as Terraform does for ``<<-`` heredocs."""
    lines = body.split("\n")
    widths = [len(ln) - len(ln.lstrip(" \t")) for ln in lines if ln.strip()]
    cut = min(widths) if widths else 0
    return "\n".join(ln[cut:] for ln in lines)


def covers(entries: list[str], wanted: str, refs: Mapping[str, str] | None = None) -> bool:
    """True when a NO_PROXY list bypasses ``wanted``: same text, same resolved value, or a CIDR that contains it."""
    known = refs or {}
    target = resolve(wanted, known)
    resolved = [resolve(e, known) for e in entries]
    if target in resolved or normalize(wanted) in [normalize(e) for e in entries]:
        return True
    wanted_net = network(target)
    if wanted_net is None:
        return "${" not in target and any(_domain_covers(entry, target) for entry in resolved)
    for entry in resolved:
        net = network(entry)
        if isinstance(net, ipaddress.IPv4Network) and isinstance(wanted_net, ipaddress.IPv4Network) \
                and wanted_net.subnet_of(net):
            return True
        if isinstance(net, ipaddress.IPv6Network) and isinstance(wanted_net, ipaddress.IPv6Network) \
                and wanted_net.subnet_of(net):
            return True
    return False


def _domain_covers(entry: str, wanted: str) -> bool:
    """NO_PROXY domain matching as Go and curl do: ``a.com`` and ``.a.com`` cover a.com and its subdomains."""
    if "${" in entry or not entry or network(entry) is not None:
        return False
    bare_entry, bare_wanted = entry.lstrip(".").lower(), wanted.lstrip(".").lower()
    return bare_wanted == bare_entry or bare_wanted.endswith("." + bare_entry)


def network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """The IP network a NO_PROXY entry names (an address is a /32 or /128), or None for a name."""
    if "${" in text:
        return None
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
