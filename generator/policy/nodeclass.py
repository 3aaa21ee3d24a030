"""Findings for a Karpenter EC2NodeClass: its AMI family and the user data its nodes boot with.

A node Karpenter launches boots from the node class's ``userData``, merged by
Karpenter with its own part (for AL2023 its NodeConfig comes last and sets the
cluster's details, never ``instance.environment``), so the node's proxy is
judged by exactly the rules of a node group (``judge.judge_boot``): the user
data becomes the parts, script or TOML of that family. The family comes from
``amiFamily`` or, when that is absent, from the ``amiSelectorTerms`` alias
(``al2023@latest``); ``amiFamily: Custom`` passes the user data through
untouched, so nothing is merged and nothing can be judged.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .catalog import UNSUPPORTED, Finding, TargetRef
from .facts import GroupFacts, ModuleFacts, Opaque, Origin, Part
from .family import ALIAS_FAMILIES, BY_KARPENTER_NAME, Family, FamilyVerdict
from .judge import Sink, judge_boot
from .settings import Settings
from .values import shorten

NODECLASS_MAP = "EC2NodeClass"


@dataclass(frozen=True)
class NodeClassFacts:
    """An EC2NodeClass: who writes it (``owner``: a Terraform resource address, or the YAML file), and its settings.

    ``parts`` are the user data's parts for AL2023 (a MIME document's parts, or
    the one part a bare NodeConfig or script is taken as); ``user_data`` is the
    text as written, for the script and TOML families. ``service_cidr`` is the
    cluster's, when the folder's EKS module call gives it; ``refs`` the literal
    values the folder gives the references the settings use.
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
    refs: tuple[tuple[str, str], ...] = ()

    @property
    def ref(self) -> TargetRef:
        return TargetRef(self.owner, self.owner_file, self.owner_line, NODECLASS_MAP, self.name, self.file, self.line)

    @property
    def cluster(self) -> ModuleFacts:
        """The cluster as the NO_PROXY rules read it: only its service CIDR is known here."""
        return ModuleFacts(self.owner, self.owner_file, self.owner_line, service_cidr=self.service_cidr,
                           refs=self.refs)


def nodeclass_family(facts: NodeClassFacts) -> FamilyVerdict:
    """The family Karpenter bootstraps the node class as, or None and why it cannot be told."""
    if isinstance(facts.ami_family, Opaque):
        return FamilyVerdict(None, f"amiFamily is {shorten(facts.ami_family.expression)}, which only Terraform can "
                                   "compute")
    if isinstance(facts.ami_family, str):
        family = BY_KARPENTER_NAME.get(facts.ami_family.lower())
        return FamilyVerdict(family, "" if family else f"amiFamily {facts.ami_family} is not one Karpenter knows")
    if isinstance(facts.alias, Opaque):
        return FamilyVerdict(None, f"the amiSelectorTerms alias is {shorten(facts.alias.expression)}, which only "
                                   "Terraform can compute")
    if isinstance(facts.alias, str):
        found = BY_KARPENTER_NAME.get(facts.alias.split("@", 1)[0].lower())
        family = found if found in ALIAS_FAMILIES else None
        return FamilyVerdict(family, "" if family else f"the alias {facts.alias} names no family Karpenter knows")
    if facts.owner.startswith(("helm_release.", "module.")):
        return FamilyVerdict(None, "its chart values give neither amiFamily nor an amiSelectorTerms alias, so the "
                                   "chart's defaults decide")
    return FamilyVerdict(None, "it has neither amiFamily nor an amiSelectorTerms alias")


def boot_facts(facts: NodeClassFacts, family: Family) -> GroupFacts:
    """The node class's user data in the shape ``judge_boot`` reads for ``family``: parts, script or TOML."""
    group = GroupFacts(facts.name, facts.line, kind="karpenter", file=facts.file, map=NODECLASS_MAP,
                       user_data_setting="spec.userData")
    if family is Family.AL2023:
        return replace(group, parts=facts.parts)
    if family is Family.BOTTLEROCKET:
        return replace(group, bootstrap_extra_args=facts.user_data, bootstrap_origin=facts.user_data_origin)
    script: str | Opaque | None = facts.user_data
    origin = facts.user_data_origin
    if facts.mime and isinstance(facts.parts, tuple):
        shells = [p for p in facts.parts if p.is_shell and p.text]
        script = "".join(p.text or "" for p in shells)
        origin = shells[0].origin if len(shells) == 1 else None
    return replace(group, pre_bootstrap_user_data=script, pre_bootstrap_origin=origin)


def evaluate_nodeclass(facts: NodeClassFacts, settings: Settings) -> list[Finding]:
    verdict = nodeclass_family(facts)
    sink = Sink(facts.ref)
    family = verdict.family
    if family is None:
        sink(UNSUPPORTED, f"the node class's AMI family cannot be told, so it is neither judged nor rewritten: "
                          f"{verdict.why}; set amiFamily or an amiSelectorTerms alias such as al2023@latest")
    elif family is Family.CUSTOM:
        sink(UNSUPPORTED, "amiFamily Custom passes userData to the node untouched (Karpenter merges nothing); "
                          "eksproxy-gen cannot check a custom bootstrap")
    elif not family.supported:
        sink(UNSUPPORTED, f"{family.value.title()} node classes are not supported by eksproxy-gen; configure the "
                          "proxy for containerd and kubelet in userData by hand")
    else:
        # Karpenter passes a script on as a text/x-shellscript part of its own, and merges every NodeConfig
        judge_boot(replace(verdict, own_part=True), facts.cluster, boot_facts(facts, family), settings, sink)
    return sink.findings
