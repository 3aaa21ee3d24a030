"""Bottlerocket's proxy settings in ``bootstrap_extra_args`` TOML, read with the standard library.

The TOML is a Terraform template: an interpolation inside a TOML string is
part of that string (``https-proxy = "${var.proxy_url}"``), and one standing
alone is a value Terraform renders, such as a list from ``jsonencode()``
(``no-proxy = ${jsonencode(local.no_proxy)}``). Each is swapped for a
placeholder string before parsing and put back after, so such TOML is read,
and a value only Terraform can compute is named as such, never called
invalid TOML.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass

from .template_text import has_directives, interpolations

_PLACEHOLDER = "eksproxygen0toml{}0"
_RESTORE = re.compile(r"eksproxygen0toml(\d+)0")


@dataclass(frozen=True)
class NetworkSettings:
    """``[settings.network]``; ``error`` says why the TOML could not be read (then nothing else is known).

    ``computed`` maps a key whose whole value is a Terraform expression to that expression.
    """

    https_proxy: str | None = None
    no_proxy: tuple[str, ...] | None = None
    error: str | None = None
    computed: tuple[tuple[str, str], ...] = ()


def read_network(toml_text: str | None) -> NetworkSettings:
    if not toml_text:
        return NetworkSettings()
    if has_directives(toml_text):
        return NetworkSettings(error="it is a Terraform template with %{ } directives")
    swapped, originals, bare_ones = _swap(toml_text)
    try:
        data = tomllib.loads(swapped)
    except tomllib.TOMLDecodeError as exc:
        return NetworkSettings(error=f"it is not valid TOML ({exc})")
    settings = data.get("settings", {})
    network = settings.get("network", {}) if isinstance(settings, dict) else {}
    if not isinstance(network, dict):
        return NetworkSettings(error="settings.network is not a table")
    computed = tuple((key, originals[int(m.group(1))]) for key, value in network.items()
                     if isinstance(value, str) and (m := _RESTORE.fullmatch(value)) is not None
                     and int(m.group(1)) in bare_ones)
    https = network.get("https-proxy")
    no_proxy = network.get("no-proxy")
    bare = dict(computed)
    return NetworkSettings(
        https_proxy=_restore(https, originals) if isinstance(https, str) and "https-proxy" not in bare else None,
        no_proxy=tuple(_restore(str(e), originals) for e in no_proxy) if isinstance(no_proxy, list) else None,
        computed=computed,
    )


def _swap(text: str) -> tuple[str, list[str], set[int]]:
    """The text with each ``${...}`` swapped for a placeholder; one outside a TOML string becomes a quoted one
    (its number is in the set returned: a value Terraform renders, such as a list)."""
    pieces: list[str] = []
    originals: list[str] = []
    bare: set[int] = set()
    last = 0
    for start, end in interpolations(text):
        pieces.append(text[last:start])
        placeholder = _PLACEHOLDER.format(len(originals))
        if _in_string(text, start):
            pieces.append(placeholder)
        else:
            bare.add(len(originals))
            pieces.append(f'"{placeholder}"')
        originals.append(text[start:end])
        last = end
    pieces.append(text[last:])
    return "".join(pieces), originals, bare


def _in_string(text: str, at: int) -> bool:
    """Whether ``at`` lies inside a TOML basic or literal string on its line."""
    line_start = text.rfind("\n", 0, at) + 1
    quote = ""
    i = line_start
    while i < at:
        ch = text[i]
        if quote == '"' and ch == "\\":
            i += 2
            continue
        if quote and ch == quote:
            quote = ""
        elif not quote and ch in "\"'":
            quote = ch
        elif not quote and ch == "#":
            return False
        i += 1
    return bool(quote)


def _restore(value: str, originals: list[str]) -> str:
    return _RESTORE.sub(lambda m: originals[int(m.group(1))], value)
