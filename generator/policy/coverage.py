"""Which programs on an AL2023 node end up with the proxy, given the user-data parts."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import nodeconfig
from .facts import Part, dedent_heredoc
from .scripts import PROXY_VARS, ScriptFacts, read_script

_PROXY_ONLY = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")


@dataclass(frozen=True)
class Coverage:
    """``nodeconfig`` is the merged ``spec.instance.environment``; ``scripts`` one record per shell part."""

    nodeconfig: nodeconfig.Environment = field(default_factory=dict)
    scripts: tuple[ScriptFacts, ...] = ()

    def unit_env(self, unit: str) -> dict[str, str]:
        return self.nodeconfig.get(unit, {})

    def has_proxy(self, env: dict[str, str]) -> bool:
        return any(var in env for var in _PROXY_ONLY)

    @property
    def any_proxy(self) -> bool:
        return any(self.has_proxy(env) for env in self.nodeconfig.values()) or any(
            s.sets_proxy for s in self.scripts)

    def covers(self, unit: str) -> bool:
        """nodeadm needs ``default``; containerd and kubelet take ``default``, their own key or a drop-in."""
        if self.has_proxy(self.unit_env("default")):
            return True
        if unit == "nodeadm":
            return False
        if self.has_proxy(self.unit_env(unit)):
            return True
        return any(unit in s.dropin_units and s.sets_proxy for s in self.scripts)

    def primary_env(self) -> dict[str, str]:
        """The environment the variable and NO_PROXY rules judge: NodeConfig first, then scripts."""
        for unit in ("default", "containerd", "kubelet"):
            env = self.unit_env(unit)
            if self.has_proxy(env):
                return {k: v for k, v in env.items() if k in PROXY_VARS}
        merged: dict[str, str] = {}
        for script in self.scripts:
            merged.update(script.env)
        return merged


def analyse(parts: tuple[Part, ...]) -> Coverage:
    env: nodeconfig.Environment = {}
    scripts: list[ScriptFacts] = []
    for part in parts:
        if part.content is None:
            continue
        text = part.content
        if part.is_nodeconfig:
            for unit, values in nodeconfig.environment(text).items():
                env.setdefault(unit, {}).update(values)
        elif part.is_shell or part.content_type is None:
            scripts.append(read_script(dedent_heredoc(text)))
    return Coverage(env, tuple(scripts))
