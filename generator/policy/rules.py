"""The rule catalogue and the finding record, shared by the CLI and the checkov rules."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# Where the rules document (rules/RULES.md) is published; findings, SARIF and checkov link into it.
DOCS_URL = "https://github.com/eksproxy-gen/eksproxy-gen/blob/main/rules/RULES.md"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Rule:
    """A rule's identity. ``checkov_id`` is the id of the matching checkov check."""

    id: str
    slug: str
    severity: Severity
    title: str
    requirement: str
    fixable: bool

    @property
    def checkov_id(self) -> str:
        return f"CKV_EKSPROXY_{int(self.id[4:])}"

    @property
    def doc_anchor(self) -> str:
        return f"{self.id.lower()}-{self.slug}"

    @property
    def help_uri(self) -> str:
        return f"{DOCS_URL}#{self.doc_anchor}"


RULES: tuple[Rule, ...] = (
    Rule("EKSP001", "proxy-missing", Severity.ERROR,
         "Node group has no proxy configuration", "P1", True),
    Rule("EKSP002", "nodeadm-not-covered", Severity.ERROR,
         "nodeadm's own EC2 calls do not use the proxy", "P1, P4", True),
    Rule("EKSP003", "containerd-not-covered", Severity.ERROR,
         "containerd does not use the proxy", "P1", True),
    Rule("EKSP004", "kubelet-not-covered", Severity.ERROR,
         "kubelet does not use the proxy", "P1", True),
    Rule("EKSP005", "proxy-variables-inconsistent", Severity.ERROR,
         "HTTPS_PROXY missing, or upper- and lowercase variables differ", "P7", True),
    Rule("EKSP006", "no-proxy-incomplete", Severity.ERROR,
         "NO_PROXY lacks an entry that must bypass the proxy", "P10", True),
    Rule("EKSP007", "no-proxy-blanket-amazonaws", Severity.WARNING,
         "NO_PROXY sends every AWS call direct (.amazonaws.com)", "P11", True),
    Rule("EKSP008", "proxy-ineffective", Severity.ERROR,
         "Proxy configuration is placed where it has no effect", "§2", False),
    Rule("EKSP009", "bottlerocket-proxy-missing", Severity.ERROR,
         "Bottlerocket node group lacks settings.network proxy", "P14", True),
    Rule("EKSP010", "not-statically-fixable", Severity.ERROR,
         "Node groups are built dynamically; the proxy part must be added by hand", "P1", False),
    Rule("EKSP011", "proxy-differs-from-config", Severity.ERROR,
         "Proxy URL differs from the configured one", "P1", True),
    Rule("EKSP012", "ami-too-old", Severity.WARNING,
         "AMI release older than v20251120 ignores or mis-orders instance.environment", "P2", False),
    Rule("EKSP013", "package-manager-not-covered", Severity.WARNING,
         "dnf does not use the proxy", "P6", True),
    Rule("EKSP014", "handwritten-script-defect", Severity.ERROR,
         "Hand-written proxy script does something harmful", "P4, P5, P6, P8", True),
    Rule("EKSP015", "node-group-unsupported", Severity.WARNING,
         "Node group type not supported by eksproxy-gen", "-", False),
    Rule("EKSP016", "vpc-cidr-unknown", Severity.WARNING,
         "NO_PROXY has no VPC CIDR and none is configured", "P10", False),
    Rule("EKSP017", "al2-end-of-life", Severity.WARNING,
         "Amazon Linux 2 node group: end of life for EKS", "P15", False),
)

RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}


@dataclass(frozen=True)
class Finding:
    """One thing wrong with one node group (or module, when ``node_group`` is None)."""

    rule: str
    file: str
    line: int
    module: str
    node_group: str | None
    message: str

    @property
    def severity(self) -> Severity:
        return RULES_BY_ID[self.rule].severity

    @property
    def fixable(self) -> bool:
        return RULES_BY_ID[self.rule].fixable

    def as_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "file": self.file,
            "line": self.line,
            "module": self.module,
            "node_group": self.node_group,
            "message": self.message,
        }
