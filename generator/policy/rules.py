"""The rule catalogue and the finding record, shared by the CLI and the checkov rules."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .facts import location
from .values import mask_credentials, one_line

# Where the rules document (rules/RULES.md) is published; findings, SARIF and checkov link into it.
DOCS_URL = "https://github.com/eksproxy-gen/eksproxy-gen/blob/main/rules/RULES.md"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"

    @property
    def level(self) -> str:
        """The SARIF / GitHub / checkov word for this severity."""
        return "error" if self is Severity.ERROR else "warning"


@dataclass(frozen=True)
class Rule:
    """A rule's identity. ``checkov_id`` is the id of the matching checkov check."""

    id: str
    slug: str
    severity: Severity
    title: str
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
         "Node group has no proxy configuration", True),
    Rule("EKSP002", "nodeadm-not-covered", Severity.ERROR,
         "nodeadm's own EC2 calls do not use the proxy", True),
    Rule("EKSP003", "containerd-not-covered", Severity.ERROR,
         "containerd does not use the proxy", True),
    Rule("EKSP004", "kubelet-not-covered", Severity.ERROR,
         "kubelet does not use the proxy", True),
    Rule("EKSP005", "proxy-variables-inconsistent", Severity.ERROR,
         "HTTPS_PROXY missing, or upper- and lowercase variables differ", True),
    Rule("EKSP006", "no-proxy-incomplete", Severity.ERROR,
         "NO_PROXY lacks an entry that must bypass the proxy", True),
    Rule("EKSP007", "no-proxy-blanket-amazonaws", Severity.WARNING,
         "NO_PROXY sends every AWS call direct (.amazonaws.com)", True),
    Rule("EKSP008", "proxy-ineffective", Severity.ERROR,
         "Proxy configuration is placed where it has no effect", False),
    Rule("EKSP009", "bottlerocket-proxy-missing", Severity.ERROR,
         "Bottlerocket node group lacks settings.network proxy", True),
    Rule("EKSP010", "not-statically-fixable", Severity.ERROR,
         "A setting only Terraform can compute: the group is neither judged nor rewritten", False),
    Rule("EKSP011", "proxy-differs-from-config", Severity.ERROR,
         "Proxy URL differs from the configured one", True),
    Rule("EKSP012", "ami-too-old", Severity.WARNING,
         "AMI release older than v20251120 ignores or mis-orders instance.environment", False),
    Rule("EKSP013", "package-manager-not-covered", Severity.WARNING,
         "dnf does not use the proxy", True),
    Rule("EKSP014", "handwritten-script-defect", Severity.ERROR,
         "Hand-written proxy script does something harmful", True),
    Rule("EKSP015", "node-group-unsupported", Severity.WARNING,
         "AMI family unknown or not supported by eksproxy-gen", False),
    Rule("EKSP016", "vpc-cidr-unknown", Severity.WARNING,
         "NO_PROXY has no VPC CIDR and none is configured", False),
    Rule("EKSP017", "al2-end-of-life", Severity.WARNING,
         "Amazon Linux 2 node group: end of life for EKS", False),
    Rule("EKSP018", "nodeconfig-invalid-yaml", Severity.ERROR,
         "NodeConfig part is not valid YAML: the node never joins", False),
    Rule("EKSP019", "nodeconfig-wrong-kind", Severity.ERROR,
         "NodeConfig part lacks apiVersion node.eks.aws/v1alpha1 and kind NodeConfig", False),
    Rule("EKSP020", "nodeconfig-unknown-field", Severity.ERROR,
         "NodeConfig field nodeadm does not know: dropped silently", False),
    Rule("EKSP021", "nodeconfig-wrong-type", Severity.ERROR,
         "NodeConfig value of the wrong type: the node never joins", False),
    Rule("EKSP022", "nodeconfig-not-validated", Severity.WARNING,
         "NodeConfig part built with template directives was not validated", False),
    Rule("EKSP023", "nodeconfig-cluster-in-managed-group", Severity.WARNING,
         "NodeConfig sets spec.cluster in a managed node group that EKS configures itself", False),
    Rule("EKSP024", "nodeconfig-several-documents", Severity.WARNING,
         "NodeConfig part holds several YAML documents: only the first is read", False),
    Rule("EKSP025", "karpenter-controller-proxy-missing", Severity.ERROR,
         "Karpenter controller gets no proxy: it cannot call EC2, SSM, Pricing or SQS", True),
    Rule("EKSP026", "karpenter-controller-no-proxy-incomplete", Severity.ERROR,
         "Karpenter controller's NO_PROXY lacks an entry that must bypass the proxy", False),
)

RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}


@dataclass(frozen=True)
class Finding:
    """One thing wrong with one node group (or module, when ``node_group`` is None).

    ``file``/``line`` is where the finding points (a group's key, or the offending
    line inside its user data); ``group_file``/``group_line`` is the group's key
    and ``module_file``/``module_line`` its module call, which with ``map`` (the
    node-group map, or "module" for a node-group submodule) identify the group.
    """

    rule: str
    file: str
    line: int
    module: str
    node_group: str | None
    message: str
    map: str = ""
    module_file: str = ""
    module_line: int = 0
    group_file: str = ""
    group_line: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", one_line(mask_credentials(self.message)))
        object.__setattr__(self, "module_file", self.module_file or self.file)
        object.__setattr__(self, "group_file", self.group_file or self.file)
        object.__setattr__(self, "group_line", self.group_line or self.line)

    @property
    def group_key(self) -> tuple[str, str, str, str | None]:
        """Which group this is about: module call, map and key; never the key alone."""
        return (self.module_file, self.module, self.map, self.node_group)

    @property
    def severity(self) -> Severity:
        return RULES_BY_ID[self.rule].severity

    @property
    def location(self) -> str:
        return location(self.module, self.node_group)

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
            "map": self.map or None,
            "module_file": self.module_file,
            "module_line": self.module_line,
        }
