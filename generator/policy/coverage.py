"""Which programs on an AL2023 node end up with the proxy, given the user-data parts.

nodeadm merges every NodeConfig document in order, key by key, the later one
winning; ``default`` becomes systemd's DefaultEnvironment (and nodeadm's own
environment) and any other key a drop-in for that unit, which systemd lets
override the default.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import nodeconfig
from .facts import Part
from .scripts import PROXY_VARS, ScriptFacts, read_script

_PROXY_ONLY = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")


def has_proxy(env: dict[str, str]) -> bool:
    return any(env.get(var) for var in _PROXY_ONLY)


@dataclass(frozen=True)
class Coverage:
    """``nodeconfig`` is the merged ``spec.instance.environment``; ``scripts`` one record per shell part."""

    nodeconfig: nodeconfig.Environment = field(default_factory=dict)
    scripts: tuple[ScriptFacts, ...] = ()

    def effective(self, unit: str) -> dict[str, str]:
        """The environment a unit gets from NodeConfig: ``default``, overridden by the unit's own key."""
        return {**self.nodeconfig.get("default", {}), **(self.nodeconfig.get(unit, {}) if unit != "default" else {})}

    @property
    def any_proxy(self) -> bool:
        return any(has_proxy(env) for env in self.nodeconfig.values()) or any(s.sets_proxy for s in self.scripts)

    def reaches(self, unit: str) -> bool:
        """nodeadm needs ``default``; containerd and kubelet also take their own key or a drop-in of a script."""
        if unit == "nodeadm":
            return has_proxy(self.effective("default"))
        if has_proxy(self.effective(unit)):
            return True
        return any(unit in s.dropin_units and s.sets_proxy for s in self.scripts)

    def primary_env(self) -> dict[str, str]:
        """The environment the variable and NO_PROXY rules judge: NodeConfig's first, then the scripts'."""
        for unit in ("default", "containerd", "kubelet"):
            env = self.effective(unit)
            if has_proxy(env):
                return {k: v for k, v in env.items() if k in PROXY_VARS}
        merged: dict[str, str] = {}
        for script in self.scripts:
            merged.update(script.env)
        return merged

    def unit_overrides(self) -> list[tuple[str, str]]:
        """(unit, variable) where a unit's own environment gives a proxy variable another value than ``default``."""
        base = self.nodeconfig.get("default", {})
        found: list[tuple[str, str]] = []
        for unit, env in self.nodeconfig.items():
            if unit == "default":
                continue
            for var in PROXY_VARS:
                if var in env and var in base and base[var] != env[var]:
                    found.append((unit, var))
        return found


def analyse(parts: tuple[Part, ...]) -> Coverage:
    documents: list[object] = []
    scripts: list[ScriptFacts] = []
    for part in parts:
        text = part.text
        if text is None:
            continue
        if part.is_nodeconfig:
            documents += [doc for doc in nodeconfig.read(text).items[:1] if nodeconfig.is_nodeconfig(doc)]
        elif (part.is_shell or part.content_type is None) and part.runs:  # a part that cannot run sets nothing
            scripts.append(read_script(text))
    env = nodeconfig.environment(nodeconfig.Documents((nodeconfig.merged(documents),))) if documents else {}
    return Coverage(env, tuple(scripts))
