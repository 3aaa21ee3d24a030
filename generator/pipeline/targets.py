"""Boot targets: everything of a folder whose nodes (or pods) need the proxy, judged and fixed one way.

A node group of terraform-aws-eks, a Karpenter node class and the Karpenter
controller are all targets: a key, the places that hold their boot data, the
findings on them, and how to plan their fix. The trial of a fix
(``trial.py``), the report of fixes and refusals (``fix_report.py``) and what
the user sees (``visible.py``) work on targets and never ask which kind they
hold. A new kind of target is a reader (which finds it, with positions, in
Terraform or YAML) and a planner (which edits it); this module wires the two.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..policy.catalog import Finding, Piece, TargetKey, TargetRef
from ..policy.delivery import ami_family
from ..policy.family import Family
from ..policy.judge import current_proxy, group_ref
from ..policy.nodeclass import boot_facts, nodeclass_family
from ..policy.pieces import pieces_for
from ..policy.settings import Settings

if TYPE_CHECKING:  # planners (and Jinja2 behind them) are loaded by fix only
    from ..karpenter import Controller, NodeClass
    from ..model import ModuleCall, NodeGroup
    from ..plan import Plan

_POSITION = re.compile(r"(?<=\w):\d+")


@dataclass(frozen=True)
class PlanContext:
    """What planning a target needs besides the target: settings, the pieces wanted, and the folder's texts."""

    settings: Settings
    wanted: frozenset[Piece]
    display: Callable[[Path], str]
    text_of: Callable[[Path], str]
    shared_ok: Callable[[NodeGroup, str], bool] = lambda _group, _setting: False


@dataclass(frozen=True)
class Target:
    """A judged boot target; subclasses say what it is and how it is planned."""

    findings: tuple[Finding, ...]

    @property
    def ref(self) -> TargetRef:
        raise NotImplementedError

    @property
    def key(self) -> TargetKey:
        return self.ref.key

    @property
    def location(self) -> str:
        """How messages name it: ``module.group``, ``kubectl_manifest.x.name``, ``helm_release.karpenter``."""
        ref = self.ref
        return ref.owner if ref.name is None else f"{ref.owner}.{ref.name}"

    @property
    def places(self) -> list[tuple[str, int]]:
        """Where an ignore comment silences its findings (display name, line): its owner's line and its own."""
        ref = self.ref
        return [(ref.owner_file, ref.owner_line), (ref.file, ref.line)]

    @property
    def family(self) -> Family | None:
        return None

    @property
    def inert(self) -> bool:
        """Whether its boot data never reaches a node, so a change of it changes nothing that runs."""
        return False

    def semantic(self) -> str:
        """Its settings without positions (which any edit above them shifts): equal means nothing changed."""
        raise NotImplementedError

    def pieces(self, rules: set[str], wants: Callable[[str], bool]) -> frozenset[Piece]:
        """The generated pieces its flagged ``rules`` call for; ``wants`` says which rules may be fixed."""
        return pieces_for(self.family, rules, wants)

    def plan(self, ctx: PlanContext) -> Plan:
        raise NotImplementedError

    def current_proxy(self) -> str | None:
        """The proxy URL its nodes (or pod) use now, when that can be read."""
        return None


@dataclass(frozen=True)
class NodeGroupTarget(Target):
    module: ModuleCall = field(kw_only=True)
    group: NodeGroup = field(kw_only=True)

    @property
    def ref(self) -> TargetRef:
        return group_ref(self.module.facts, self.group.facts)

    @property
    def family(self) -> Family | None:
        return ami_family(self.module.facts, self.group.facts).family

    @property
    def inert(self) -> bool:
        return self.group.facts.launch_template is False

    def semantic(self) -> str:
        facts = self.group.facts
        parts = facts.parts
        if isinstance(parts, tuple):
            parts = tuple(replace(p, line=0, origin=None) for p in parts)
        plain = replace(facts, line=0, parts=parts, bootstrap_origin=None, pre_bootstrap_origin=None)
        return _POSITION.sub("", repr(plain))

    def current_proxy(self) -> str | None:
        return current_proxy(self.family, self.group.facts)

    def plan(self, ctx: PlanContext) -> Plan:
        from ..plan import Context, plan_group

        context = Context(self.module, ctx.settings, ctx.wanted, ctx.display, ctx.text_of, shared_ok=ctx.shared_ok)
        return plan_group(context, self.group)


@dataclass(frozen=True)
class NodeClassTarget(Target):
    nodeclass: NodeClass = field(kw_only=True)

    @property
    def ref(self) -> TargetRef:
        return self.nodeclass.facts.ref

    @property
    def family(self) -> Family | None:
        return nodeclass_family(self.nodeclass.facts).family

    def semantic(self) -> str:
        facts = self.nodeclass.facts
        parts = facts.parts
        if isinstance(parts, tuple):
            parts = tuple(replace(p, line=0, origin=None) for p in parts)
        plain = replace(facts, line=0, owner_line=0, user_data_origin=None, parts=parts)
        return _POSITION.sub("", repr(plain))

    def current_proxy(self) -> str | None:
        family = self.family
        return current_proxy(family, boot_facts(self.nodeclass.facts, family)) if family is not None else None

    def plan(self, ctx: PlanContext) -> Plan:
        from ..plan_karpenter import plan_nodeclass

        return plan_nodeclass(self.nodeclass, ctx.settings, ctx.wanted)


@dataclass(frozen=True)
class ControllerTarget(Target):
    controller: Controller = field(kw_only=True)

    @property
    def places(self) -> list[tuple[str, int]]:
        return [(self.ref.file, self.ref.line)]

    def semantic(self) -> str:
        facts = self.controller.facts
        return repr((facts.env, facts.env_from, facts.service_cidr))

    def pieces(self, rules: set[str], wants: Callable[[str], bool]) -> frozenset[Piece]:
        return frozenset({Piece.CONTROLLER_ENV})

    @property
    def ref(self) -> TargetRef:
        return self.controller.facts.ref

    def current_proxy(self) -> str | None:
        env = self.controller.facts.env
        return (env.get("HTTPS_PROXY") or env.get("https_proxy")) if isinstance(env, dict) else None

    def plan(self, ctx: PlanContext) -> Plan:
        from ..plan_karpenter import plan_controller

        return plan_controller(self.controller, ctx.settings)
