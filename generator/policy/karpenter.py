"""Findings for Karpenter: each EC2NodeClass's user data, and the Karpenter controller's own environment.

A node Karpenter launches boots from the node class's ``userData``, merged by
Karpenter with its own part (for AL2023 its NodeConfig comes last and sets the
cluster's details, never ``instance.environment``), so the node's proxy is
judged by exactly the rules of a node group: the user data becomes the group's
parts, script or TOML, and the same judge decides. The family comes from
``amiFamily`` or, when that is absent, from the ``amiSelectorTerms`` alias
(``al2023@latest``); ``amiFamily: Custom`` passes the user data through
untouched, so nothing is merged and nothing can be judged.

The controller calls EC2, SSM, Pricing, SQS and the Kubernetes API from its
pod; its Helm chart takes environment variables in ``controller.env``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from . import expected
from .facts import GroupFacts, ModuleFacts, Opaque, Origin, Part
from .judge import evaluate_group
from .rules import Finding
from .settings import Settings
from .values import covers, shorten, split_no_proxy

NODECLASS_MAP = "EC2NodeClass"
_ALIAS_FAMILIES = {"al2023": "AL2023", "al2": "AL2", "bottlerocket": "BOTTLEROCKET", "windows2019": "WINDOWS",
                   "windows2022": "WINDOWS", "windows2025": "WINDOWS"}
_AMI_FAMILIES = {"al2023": "AL2023", "al2": "AL2", "bottlerocket": "BOTTLEROCKET", "windows2019": "WINDOWS",
                 "windows2022": "WINDOWS", "windows2025": "WINDOWS", "custom": "CUSTOM", "ubuntu": "UBUNTU"}


@dataclass(frozen=True)
class NodeClassFacts:
    """An EC2NodeClass: who writes it (``owner``: a Terraform resource address, or the YAML file), and its settings.

    ``parts`` are the user data's parts for AL2023 (a MIME document's parts, or
    the one part a bare NodeConfig or script is taken as); ``user_data`` is the
    text as written, for the script and TOML families. ``service_cidr`` is the
    cluster's, when the folder's EKS module call gives it.
    """

    owner: str
    owner_file: str
    owner_line: int
    name: str
    file: str
    line: int
    api_version: str
    ami_family: str | Opaque | None = None
    alias: str | Opaque | None = None
    user_data: str | Opaque | None = None
    user_data_origin: Origin | None = None
    parts: tuple[Part, ...] | Opaque = ()
    mime: bool = False
    service_cidr: str | None = None


@dataclass(frozen=True)
class ControllerFacts:
    """A ``helm_release`` of the Karpenter chart and the environment its values give the controller."""

    owner: str
    file: str
    line: int
    env: dict[str, str] | Opaque
    env_from: bool = False  # variables also come from envFrom or a valueFrom, which only the cluster can read
    service_cidr: str | None = None

    @property
    def module(self) -> ModuleFacts:
        """The release as the NO_PROXY rules read a module call: only its service CIDR matters."""
        return ModuleFacts(self.owner, self.file, self.line, service_cidr=self.service_cidr)


def nodeclass_family(facts: NodeClassFacts) -> tuple[str | None, str]:
    """The family Karpenter bootstraps the node class as, or None and why it cannot be told."""
    if isinstance(facts.ami_family, Opaque):
        return None, f"amiFamily is {shorten(facts.ami_family.expression)}, which only Terraform can compute"
    if isinstance(facts.ami_family, str):
        family = _AMI_FAMILIES.get(facts.ami_family.lower())
        return (family, "") if family else (None, f"amiFamily {facts.ami_family} is not one Karpenter knows")
    if isinstance(facts.alias, Opaque):
        return None, f"the amiSelectorTerms alias is {shorten(facts.alias.expression)}, which only Terraform can " \
                     "compute"
    if isinstance(facts.alias, str):
        family = _ALIAS_FAMILIES.get(facts.alias.split("@", 1)[0].lower())
        return (family, "") if family else (None, f"the alias {facts.alias} names no family Karpenter knows")
    if facts.owner.startswith(("helm_release.", "module.")):
        return None, ("its chart values give neither amiFamily nor an amiSelectorTerms alias, so the chart's "
                      "defaults decide")
    return None, "it has neither amiFamily nor an amiSelectorTerms alias"


def as_group(facts: NodeClassFacts, family: str) -> tuple[ModuleFacts, GroupFacts]:
    """The node class in the shape the node-group judge reads: a v21-style group whose user data is ``userData``."""
    module = ModuleFacts(facts.owner, facts.owner_file, facts.owner_line, majors=frozenset({21}),
                         service_cidr=facts.service_cidr)
    group = GroupFacts(facts.name, facts.line, kind="karpenter", file=facts.file, map=NODECLASS_MAP,
                       ami_type=f"{family}_KARPENTER", user_data_setting="spec.userData")
    if family == "AL2023":
        return module, replace(group, parts=facts.parts)
    if family == "BOTTLEROCKET":
        return module, replace(group, bootstrap_extra_args=facts.user_data, bootstrap_origin=facts.user_data_origin)
    script: str | Opaque | None = facts.user_data
    origin = facts.user_data_origin
    if facts.mime and isinstance(facts.parts, tuple):
        shells = [p for p in facts.parts if p.is_shell and p.text]
        script = "".join(p.text or "" for p in shells)
        origin = shells[0].origin if len(shells) == 1 else None
    return module, replace(group, pre_bootstrap_user_data=script, pre_bootstrap_origin=origin)


def evaluate_nodeclass(facts: NodeClassFacts, settings: Settings) -> list[Finding]:
    family, why = nodeclass_family(facts)
    module = ModuleFacts(facts.owner, facts.owner_file, facts.owner_line)
    group = GroupFacts(facts.name, facts.line, kind="karpenter", file=facts.file, map=NODECLASS_MAP)

    def finding(message: str) -> Finding:
        return Finding("EKSP015", facts.file, facts.line, module.name, group.name, message, map=NODECLASS_MAP,
                       module_file=facts.owner_file, module_line=facts.owner_line, group_file=facts.file,
                       group_line=facts.line)

    if family is None:
        return [finding(f"the node class's AMI family cannot be told, so it is neither judged nor rewritten: {why}; "
                        "set amiFamily or an amiSelectorTerms alias such as al2023@latest")]
    if family == "CUSTOM":
        return [finding("amiFamily Custom passes userData to the node untouched (Karpenter merges nothing); "
                        "eksproxy-gen cannot check a custom bootstrap")]
    if family in {"WINDOWS", "UBUNTU"}:
        return [finding(f"{family.title()} node classes are not supported by eksproxy-gen; configure the proxy "
                        "for containerd and kubelet in userData by hand")]
    module, group = as_group(facts, family)
    return evaluate_group(module, group, settings)


def evaluate_controller(facts: ControllerFacts, settings: Settings) -> list[Finding]:
    """EKSP025 when the controller gets no proxy, EKSP026 for each entry its NO_PROXY lacks."""
    def finding(rule: str, message: str) -> Finding:
        return Finding(rule, facts.file, facts.line, facts.owner, None, message, map="controller",
                       module_file=facts.file, module_line=facts.line)

    if isinstance(facts.env, Opaque):
        where = f" (at {facts.env.where})" if facts.env.where else ""
        return [finding("EKSP010", f"the chart values are {shorten(facts.env.expression)}{where}, which only "
                                   "Terraform can compute; the controller's proxy cannot be checked")]
    env = facts.env
    proxy = env.get("HTTPS_PROXY") or env.get("https_proxy")
    if not proxy:
        if facts.env_from:
            return []
        return [finding("EKSP025", "the Karpenter controller gets no HTTPS_PROXY in controller.env: its EC2, SSM, "
                                   "Pricing and SQS calls go direct, and it cannot launch or price nodes")]
    no_proxy = env.get("NO_PROXY", env.get("no_proxy"))
    if no_proxy is None:
        if facts.env_from:
            return []
        return [finding("EKSP026", "the Karpenter controller has HTTPS_PROXY but no NO_PROXY: its calls to the "
                                   "Kubernetes API service and instance metadata would go to the proxy")]
    entries = split_no_proxy(no_proxy)
    return [finding("EKSP026", f"the Karpenter controller's NO_PROXY lacks {entry.value} ({entry.reason})")
            for entry in expected.required_no_proxy(facts.module, settings) if not covers(entries, entry.value, {})]
