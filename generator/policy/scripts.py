"""What a shell part of user data does about the proxy, judged from its text.

These are patterns, not a shell parser: they recognise the hand-written script
that people copy (spec §6) and its usual variants.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")
_ASSIGN = re.compile(
    r"""(?:^|[\s;"'])(?:export\s+)?(HTTPS?_PROXY|https?_proxy|NO_PROXY|no_proxy)=("[^"\n]*"|'[^'\n]*'|[^\s;"']*)""",
    re.M)
_SHELL_ASSIGN = re.compile(r"""^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=("[^"\n]*"|'[^'\n]*'|[^\s;]*)""", re.M)
_SHELL_REF = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
_DROPIN = re.compile(r"/etc/systemd/system/([A-Za-z0-9@_.-]+?)\.service\.d\b")
_OVERWRITE_ENV = re.compile(r"(?:(?<!>)>\s*/etc/environment\b|\btee\s+(?!-a)(?:--?\w+\s+)*/etc/environment\b)")
_SET_X = re.compile(r"^\s*set\s+-[A-Za-z]*x|^#!\S*\s+-[A-Za-z]*x|^\s*set\s+-o\s+xtrace", re.M)
_CREDENTIALS = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@\"']+:[^\s/@\"']+@")


@dataclass(frozen=True)
class ScriptFacts:
    env: dict[str, str] = field(default_factory=dict)
    dropin_units: frozenset[str] = frozenset()
    overwrites_etc_environment: bool = False
    writes_yum_conf: bool = False
    writes_dnf_conf: bool = False
    set_x: bool = False
    has_credentials: bool = False

    @property
    def sets_proxy(self) -> bool:
        return any(var in self.env for var in PROXY_VARS if var.lower() != "no_proxy")


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _expand(value: str, shell_vars: dict[str, str]) -> str:
    """Expand ``$NAME`` / ``${NAME}`` from plain assignments; command substitutions stay as written."""
    def one(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        known = shell_vars.get(name)
        return known if known is not None and "$(" not in known and "`" not in known else match.group(0)

    for _ in range(3):
        value = _SHELL_REF.sub(one, value)
    return value


def read_script(text: str) -> ScriptFacts:
    shell_vars = {m.group(1): _unquote(m.group(2)) for m in _SHELL_ASSIGN.finditer(text)}
    env: dict[str, str] = {}
    for match in _ASSIGN.finditer(text):
        env[match.group(1)] = _expand(_unquote(match.group(2)), shell_vars)
    return ScriptFacts(
        env=env,
        dropin_units=frozenset(_DROPIN.findall(text)),
        overwrites_etc_environment=_OVERWRITE_ENV.search(text) is not None,
        writes_yum_conf="/etc/yum.conf" in text,
        writes_dnf_conf="/etc/dnf/dnf.conf" in text and "proxy" in text,
        set_x=_SET_X.search(text) is not None,
        has_credentials=_CREDENTIALS.search(text) is not None,
    )
