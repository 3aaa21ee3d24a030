"""Bottlerocket's proxy settings in ``bootstrap_extra_args`` TOML, read with the standard library."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

from .template_text import has_directives


@dataclass(frozen=True)
class NetworkSettings:
    """``[settings.network]``; ``error`` says why the TOML could not be read (then nothing else is known)."""

    https_proxy: str | None = None
    no_proxy: tuple[str, ...] | None = None
    error: str | None = None


def read_network(toml_text: str | None) -> NetworkSettings:
    if not toml_text:
        return NetworkSettings()
    if has_directives(toml_text):
        return NetworkSettings(error="it is a Terraform template with %{ } directives")
    try:
        data = tomllib.loads(toml_text)
    except tomllib.TOMLDecodeError as exc:
        return NetworkSettings(error=f"it is not valid TOML ({exc})")
    network = data.get("settings", {}).get("network", {})
    if not isinstance(network, dict):
        return NetworkSettings(error="settings.network is not a table")
    https = network.get("https-proxy")
    no_proxy = network.get("no-proxy")
    return NetworkSettings(
        https_proxy=https if isinstance(https, str) else None,
        no_proxy=tuple(str(e) for e in no_proxy) if isinstance(no_proxy, list) else None,
    )
