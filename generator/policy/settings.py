"""Validated settings. Every value is checked here before it can reach HCL, YAML or TOML."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass

from .values import EXPR_PREFIX, is_reference, remember_credentials, shorten, userinfo

_FORBIDDEN = ('"', "'", "\\", "\n", "\r", "${", "%{", "`", "$(")
_NO_PROXY_ENTRY = re.compile(r"\.?[A-Za-z0-9]([A-Za-z0-9._:/-]*[A-Za-z0-9])?")
_OTHER_SCHEMES = ("socks", "socks4", "socks4a", "socks5", "socks5h", "ftp", "ssh", "tcp", "ws", "wss")
_HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")
# What a user-info may hold unencoded (RFC 3986, as Go's net/url accepts it); anything else is percent-encoded.
_USERINFO_CHAR = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:]|%[0-9A-Fa-f]{2}")
_GO_DEFAULT_PORTS = {"http": 80, "https": 443}


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
    """The proxy URL, parsed by hand: no message ever quotes any part of it but the scheme.

    A URL library's errors can quote what it failed on ("Port could not be cast
    to integer value as 'pa'" is part of a password), so nothing here calls one.
    The user-info is everything between ``://`` and the last ``@``; its secret is
    remembered before anything is checked, so even a refused URL's password is
    hidden in whatever else is printed.
    """
    what = f"{source}: proxy"
    expr = _expression(value, what)
    if expr is not None:
        return expr
    remember_credentials(value)
    info = userinfo(value)
    if info is not None:
        _check_userinfo(info, what)
    _refuse_unsafe(value, what)
    scheme, found, rest = value.partition("://")
    if not found or scheme.lower() not in {"http", "https"}:
        shown = scheme if scheme.lower() in _OTHER_SCHEMES else "another scheme" if found else "none"
        raise SettingError(f"{what}: scheme must be http or https (got {shown}); "
                           "write e.g. http://proxy.example.com:3128")
    hostport = rest.rpartition("@")[2]
    server, _sep, tail = hostport.partition("/")
    if tail or "?" in server or "#" in server:
        raise SettingError(f"{what}: a proxy URL has no path, query or fragment")
    host, port = _host_port(server, what)
    if not host:
        raise SettingError(f"{what}: no host in the URL")
    if not _valid_host(host):
        raise SettingError(f"{what}: the host is not a host name or an IP address")
    if port is None:
        raise SettingError(f"{what}: no port in the URL, and programs disagree on the default (nodeadm, "
                           f"containerd and kubelet dial {_GO_DEFAULT_PORTS[scheme.lower()]}, curl and dnf "
                           "dial 1080): write it, e.g. http://proxy.example.com:3128")
    if not port.isascii() or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise SettingError(f"{what}: port out of range or not a number (it must be 1 to 65535)")
    return value.rstrip("/")


def _check_userinfo(info: str, what: str) -> None:
    """Refuse a user-info that curl and Go would read differently from what was meant, without printing it."""
    position = 0
    while position < len(info):
        match = _USERINFO_CHAR.match(info, position)
        if match is None:
            char = info[position]
            if char == "%":
                named = "a '%' that does not start a %XX escape (write it as %25)"
            elif char.isascii() and char.isprintable():
                named = f"{'a space' if char == ' ' else repr(char)}, which must be written %{ord(char):02X}"
            else:
                named = f"U+{ord(char):04X}, which must be written as its UTF-8 bytes in %XX form"
            raise SettingError(f"{what}: the user name or password contains {named}; percent-encode the password")
        position = match.end()


def _host_port(server: str, what: str) -> tuple[str, str | None]:
    """Host and port (None when the URL names none); an IPv6 host is written in brackets."""
    if server.startswith("["):
        host, closed, after = server[1:].partition("]")
        if not closed or (after and not after.startswith(":")):
            raise SettingError(f"{what}: an IPv6 host is written in brackets, e.g. http://[fd00::1]:3128")
        return host, after[1:] if after else None
    host, colon, port = server.partition(":")
    return host, port if colon else None


def _valid_host(host: str) -> bool:
    if _HOST.fullmatch(host):
        return True
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        return False
    return True


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
