"""Findings for the Karpenter controller: the proxy in its own environment.

The controller calls EC2, SSM, Pricing, SQS and the Kubernetes API from its
pod; its Helm chart takes environment variables in ``controller.env``.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import expected
from .catalog import (
    CONTROLLER_NO_PROXY,
    CONTROLLER_PROXY_MISSING,
    NOT_STATIC,
    VARIABLES_INCONSISTENT,
    Finding,
    TargetRef,
)
from .facts import ModuleFacts, Opaque
from .judge import port_problems
from .settings import Settings
from .values import covers, shorten, split_no_proxy

CONTROLLER_MAP = "controller"


@dataclass(frozen=True)
class ControllerFacts:
    """A ``helm_release`` of the Karpenter chart and the environment its values give the controller."""

    owner: str
    file: str
    line: int
    env: dict[str, str] | Opaque
    env_from: bool = False  # variables also come from envFrom or a valueFrom, which only the cluster can read
    service_cidr: str | None = None
    refs: tuple[tuple[str, str], ...] = ()  # references (local.vpc_cidr) and the literal the folder gives them

    @property
    def module(self) -> ModuleFacts:
        """The release as the NO_PROXY rules read a module call: its service CIDR, and what references mean."""
        return ModuleFacts(self.owner, self.file, self.line, service_cidr=self.service_cidr, refs=self.refs)

    @property
    def ref(self) -> TargetRef:
        return TargetRef(self.owner, self.file, self.line, CONTROLLER_MAP, None, self.file, self.line)


def evaluate_controller(facts: ControllerFacts, settings: Settings) -> list[Finding]:
    """EKSP025 when the controller gets no proxy, EKSP026 for each entry its NO_PROXY lacks."""
    ref = facts.ref
    if isinstance(facts.env, Opaque):
        where = f" (at {facts.env.where})" if facts.env.where else ""
        return [ref.finding(NOT_STATIC, f"the chart values are {shorten(facts.env.expression)}{where}, which only "
                                        "Terraform can compute; the controller's proxy cannot be checked")]
    env = facts.env
    proxy = env.get("HTTPS_PROXY") or env.get("https_proxy")
    if not proxy:
        if facts.env_from:
            return []
        return [ref.finding(CONTROLLER_PROXY_MISSING, "the Karpenter controller gets no HTTPS_PROXY in controller.env: "
                                                      "its EC2, SSM, Pricing and SQS calls go direct, and it cannot "
                                                      "launch or price nodes")]
    # a proxy URL without a port: the controller's Go SDK dials :80 for it while other readers differ, and fix
    # refuses to write such a URL, so check says it here as it does for node groups
    ports = [ref.finding(VARIABLES_INCONSISTENT, f"the Karpenter controller's {problem}")
             for problem in port_problems(env)]
    no_proxy = env.get("NO_PROXY", env.get("no_proxy"))
    if no_proxy is None:
        if facts.env_from:
            return ports
        return [*ports, ref.finding(CONTROLLER_NO_PROXY, "the Karpenter controller has HTTPS_PROXY but no NO_PROXY: "
                                                         "its calls to the Kubernetes API service and instance "
                                                         "metadata would go to the proxy")]
    entries = split_no_proxy(no_proxy)
    refs = dict(facts.refs)  # the chart's values are evaluated: ${local.vpc_cidr} reads as its literal there
    lacking = [entry for entry in expected.required_no_proxy(facts.module, settings)
               if not covers(entries, entry.value, refs)]
    return [*ports, *(ref.finding(CONTROLLER_NO_PROXY, f"the Karpenter controller's NO_PROXY lacks {entry.value} "
                                                       f"({entry.reason})") for entry in lacking)]
