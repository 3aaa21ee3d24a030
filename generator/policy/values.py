"""Values as they appear in Terraform and in generated text: literals or ``${expr}`` interpolations."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote, unquote

EXPR_PREFIX = "tf:"
_REFERENCE = re.compile(r"(?:var|local|module|data)(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[[0-9]+\])+")
_INTERP = re.compile(r"\$\{\s*(.*?)\s*\}", re.S)
_USERINFO = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^\s\"'`]*@")
# ``user:pass@host`` written without a scheme (Bottlerocket, curl and Go take it) or with a broken one
# (``http:/user:pass@host``): a word, a colon not followed by ``//``, anything up to the last ``@`` of the
# word. An image digest (``name:tag@sha256:...``) is no user-info.
_BARE_USERINFO = re.compile(r"[^\s\"'`=/@:,;(){}\[\]<>|\\]+:(?!//)[^\s\"'`]*@(?!sha\d+:)")
MASK = "***"
MIN_SECRET = 3
_USERINFO_SAFE = "!$&'()*+,;=:"
MESSAGE_WIDTH = 60
# ``${coalesce(expr,"range")}`` as normalize() writes it: a service CIDR expression made null-safe.
COALESCED = re.compile(r'\$\{coalesce\((.+),"([^"]*)"\)\}')


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
    """Text with every credential hidden: the user-info of any ``scheme://user:pass@host``, of a ``user:pass@host``
    written without a scheme, and known secrets.

    The user-info runs from ``://`` to the last ``@`` before the next space or
    quote, so a password with an unencoded ``@``, ``/``, ``#`` or ``<`` is hidden
    whole (a path holding an ``@`` is hidden too: too much, never too little).
    Without a scheme it runs from the start of the word (after a space, quote,
    ``=``, ``,`` or bracket) and needs a ``:``, so ``user@host`` (no password)
    and ``name:tag@sha256:...`` stay as written; ``http:/user:pass@host`` is
    hidden whole. Secrets remembered from the settings (``remember_credentials``)
    are hidden wherever they appear, in every spelling the tool may print.
    """
    text = _USERINFO.sub(lambda m: m.group(1) + MASK + "@", text)
    return SECRETS.mask(_BARE_USERINFO.sub(MASK + "@", text))


def bare_credentials(text: str) -> bool:
    """Whether the text holds a ``user:pass@host`` written without a ``scheme://`` (see ``mask_credentials``)."""
    return _BARE_USERINFO.search(text) is not None


def userinfo(url: str) -> str | None:
    """The user-info of a URL: everything between ``://`` and the last ``@``; None without one.

    Found by hand, so no URL library's error message can ever quote it.
    """
    _scheme, found, rest = url.partition("://")
    if not found or "@" not in rest:
        return None
    return rest.rpartition("@")[0]


def has_credentials(url: str) -> bool:
    if "${" in url:
        return False
    return userinfo(url) is not None


def remember_credentials(url: str) -> None:
    """Hide this URL's password (or its whole user-info, a token, when it has no ``:``) in everything printed."""
    info = userinfo(url)
    if info is not None:
        user, colon, password = info.partition(":")
        SECRETS.add(password if colon else user)


class Secrets:
    """The secrets this process was configured with, hidden literally in every text it prints.

    A password is hidden as written, percent-decoded and percent-encoded (upper
    and lower case hex, with and without the characters a user-info may hold
    unencoded), so no spelling of it leaks. Shorter secrets than ``MIN_SECRET``
    are left to the URL pattern: hiding every "a" would garble the output and
    hide nothing. A process runs one command, so the set only grows.
    """

    def __init__(self) -> None:
        self._known: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, secret: str) -> None:
        forms = set(spellings(secret)) - self._known
        if forms:
            self._known |= forms
            ordered = sorted(self._known, key=len, reverse=True)
            self._pattern = re.compile("|".join(map(re.escape, ordered)))

    def mask(self, text: str) -> str:
        return text if self._pattern is None else self._pattern.sub(MASK, text)

    def forget(self) -> None:
        """Forget every secret: for a process that runs several commands, between them (as the tests do)."""
        self._known.clear()
        self._pattern = None


def spellings(secret: str) -> Iterable[str]:
    """A secret as written, decoded and encoded: every form of it the tool could print."""
    decoded = unquote(secret)
    forms = {secret, decoded}
    for safe in ("", _USERINFO_SAFE):
        encoded = quote(decoded, safe=safe)
        forms |= {encoded, re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), encoded)}
    return sorted(form for form in forms if len(form) >= MIN_SECRET)


SECRETS = Secrets()


def masked_data(value: Any) -> Any:
    """Plain data (JSON-like: dicts, lists, strings) with credentials hidden in every string it holds."""
    if isinstance(value, str):
        return mask_credentials(value)
    if isinstance(value, dict):
        return {key: masked_data(item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked_data(item) for item in value]
    return value


def one_line(text: str) -> str:
    """Collapse whitespace so a message or expression fits on one line."""
    return " ".join(text.split())


def shorten(text: str, width: int = MESSAGE_WIDTH) -> str:
    """An expression for a message: one line, cut with an ellipsis when long."""
    flat = one_line(text)
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


def line_runs(indexes: Iterable[int], number: Callable[[int], int] = lambda index: index + 1) -> str:
    """Line indexes (ascending) as the numbers a person reads, runs joined: ``3, 5-7``; ``number`` turns an
    index into the line number shown (by default the 1-based line of a text)."""
    runs: list[tuple[int, int]] = []
    for index in indexes:
        if runs and runs[-1][1] == index - 1:
            runs[-1] = (runs[-1][0], index)
        else:
            runs.append((index, index))
    return ", ".join(f"{number(a)}" if a == b else f"{number(a)}-{number(b)}" for a, b in runs)


def dedent_heredoc(body: str) -> str:
    """Strip the common indentation, as Terraform does for ``<<-`` heredocs."""
    lines = body.split("\n")
    widths = [len(ln) - len(ln.lstrip(" \t")) for ln in lines if ln.strip()]
    cut = min(widths) if widths else 0
    return "\n".join(ln[cut:] for ln in lines)


def covers(entries: list[str], wanted: str, refs: Mapping[str, str] | None = None) -> bool:
    """True when a NO_PROXY list bypasses ``wanted``: same text, same resolved value, or a CIDR that contains it.

    A null-safe ``${coalesce(expr, "range")}`` is also covered by ``${expr}`` itself: where the expression is
    null, Terraform rejects the bare reference before any node boots, so it is no NO_PROXY gap.
    """
    known = refs or {}
    coalesced = COALESCED.fullmatch(normalize(wanted))
    if coalesced and covers(entries, "${" + coalesced.group(1) + "}", known):
        return True
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
