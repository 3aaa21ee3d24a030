"""Validated settings. Every value is checked here before it can reach HCL, YAML or TOML."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

from .values import EXPR_PREFIX, is_reference, shorten

_FORBIDDEN = ('"', "'", "\\", "\n", "\r", "${", "%{", "`", "$(")
_NO_PROXY_ENTRY = re.compile(r"\.?[A-Za-z0-9]([A-Za-z0-9._:/-]*[A-Za-z0-9])?")


class SettingError(ValueError):
    """A setting value that cannot safely be written; the message names the setting."""


@dataclass(frozen=True)
class Settings:
    """Settings in their generated form: literal text, or ``${reference}`` for Terraform expressions."""

    proxy: str | None = None
    vpc_cidrs: tuple[str, ...] = ()
    no_proxy: tuple[str, ...] = ()
    service_cidr: str | None = None


def validate(proxy: str | None, vpc_cidrs: list[str], no_proxy: list[str],
             service_cidr: str | None, source: str) -> Settings:
    """Return Settings or raise SettingError; ``source`` names where the values came from."""
    return Settings(
        proxy=None if proxy is None else _proxy(proxy, source),
        vpc_cidrs=tuple(_cidr(c, f"{source}: vpc_cidrs") for c in vpc_cidrs),
        no_proxy=tuple(_no_proxy_entry(e, source) for e in no_proxy),
        service_cidr=None if service_cidr is None else _cidr(service_cidr, f"{source}: service_cidr"),
    )


def _expression(value: str, what: str) -> str | None:
    """``tf:EXPR`` -> ``${EXPR}`` after checking EXPR is a plain reference; None when not ``tf:``."""
    if not value.startswith(EXPR_PREFIX):
        return None
    expr = value[len(EXPR_PREFIX):].strip()
    if not is_reference(expr):
        raise SettingError(
            f"{what}: {shorten(value)} is not a plain Terraform reference "
            "(use e.g. tf:var.proxy_url or tf:module.vpc.vpc_cidr_block)")
    return "${" + expr + "}"


def _refuse_unsafe(value: str, what: str) -> None:
    for bad in _FORBIDDEN:
        if bad in value:
            shown = bad.encode("unicode_escape").decode()
            raise SettingError(f"{what}: contains {shown}, which could break out of the generated text")
    if not value:
        raise SettingError(f"{what}: must not be empty")
    for ch in value:
        if ch.isspace() or unicodedata.category(ch)[0] in "CZ":
            raise SettingError(f"{what}: contains U+{ord(ch):04X} ({unicodedata.name(ch, 'a control character')}); "
                               "spaces, line breaks and invisible characters are not allowed")


def _proxy(value: str, source: str) -> str:
    what = f"{source}: proxy"
    expr = _expression(value, what)
    if expr is not None:
        return expr
    _refuse_unsafe(value, what)
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise SettingError(f"{what}: not a valid URL ({str(exc).lower()})") from None
    if parts.scheme not in {"http", "https"}:
        raise SettingError(f"{what}: scheme must be http or https (got {parts.scheme or 'none'}); "
                           "write e.g. http://proxy.example.com:3128")
    if not parts.hostname:
        raise SettingError(f"{what}: no host in the URL")
    if port is not None and not 1 <= port <= 65535:
        raise SettingError(f"{what}: port {port} out of range")
    if parts.path not in {"", "/"} or parts.query or parts.fragment:
        raise SettingError(f"{what}: a proxy URL has no path, query or fragment")
    if "@" in parts.netloc.rpartition("@")[0]:
        raise SettingError(f"{what}: the user name or password contains '@'; percent-encode it as %40")
    return value.rstrip("/")


def _cidr(value: str, what: str) -> str:
    expr = _expression(value, what)
    if expr is not None:
        return expr
    _refuse_unsafe(value, what)
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError:
        pass
    try:
        loose = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise SettingError(f"{what}: {shorten(value)} is not a CIDR block") from None
    raise SettingError(f"{what}: {shorten(value)} has host bits set (did you mean {loose}?)")


def _no_proxy_entry(value: str, source: str) -> str:
    what = f"{source}: no_proxy entry {shorten(value)}"
    expr = _expression(value, what)
    if expr is not None:
        return expr
    _refuse_unsafe(value, what)
    if value.startswith("*"):
        raise SettingError(f"{what}: write domains as .example.com; curl ignores a leading '*.'")
    if "," in value:
        raise SettingError(f"{what}: one entry per value, no commas")
    if not _NO_PROXY_ENTRY.fullmatch(value.strip("[]")):
        raise SettingError(f"{what}: only letters, digits and . : / - _ are allowed")
    return value.strip("[]")
