"""The rule catalogue and the finding record, shared by the CLI and the checkov rules."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

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


class Piece(StrEnum):
    """A generated piece of configuration: what ``fix`` writes to resolve a rule.

    AL2023 groups get the NodeConfig part and the dnf part, each resolving its
    own rules; AL2 and Bottlerocket get one piece that carries the whole proxy
    set-up (the marked script block, the ``[settings.network]`` keys); the
    Karpenter controller gets its ``controller.env`` entries.
    """

    NODECONFIG = "nodeconfig"
    DNF = "dnf"
    AL2_BLOCK = "al2 block"
    NETWORK = "network"
    CONTROLLER_ENV = "controller env"


@dataclass(frozen=True)
class Rule:
    """A rule's identity. ``fixed_by`` names the generated piece that resolves it (None: fixed by hand)."""

    id: str
    slug: str
    severity: Severity
    title: str
    fixed_by: Piece | None = None

    @property
    def fixable(self) -> bool:
        return self.fixed_by is not None

    @property
    def checkov_id(self) -> str:
        return f"CKV_EKSPROXY_{int(self.id[4:])}"

    @property
    def doc_anchor(self) -> str:
        return f"{self.id.lower()}-{self.slug}"

    @property
    def help_uri(self) -> str:
        return f"{DOCS_URL}#{self.doc_anchor}"


E, W = Severity.ERROR, Severity.WARNING

PROXY_MISSING = Rule("EKSP001", "proxy-missing", E, "Node group has no proxy configuration", Piece.NODECONFIG)
NODEADM_NOT_COVERED = Rule("EKSP002", "nodeadm-not-covered", E, "nodeadm's own EC2 calls do not use the proxy",
                           Piece.NODECONFIG)
CONTAINERD_NOT_COVERED = Rule("EKSP003", "containerd-not-covered", E, "containerd does not use the proxy",
                              Piece.NODECONFIG)
KUBELET_NOT_COVERED = Rule("EKSP004", "kubelet-not-covered", E, "kubelet does not use the proxy", Piece.NODECONFIG)
VARIABLES_INCONSISTENT = Rule("EKSP005", "proxy-variables-inconsistent", E,
                              "HTTPS_PROXY missing, or upper- and lowercase variables differ", Piece.NODECONFIG)
NO_PROXY_INCOMPLETE = Rule("EKSP006", "no-proxy-incomplete", E, "NO_PROXY lacks an entry that must bypass the proxy",
                           Piece.NODECONFIG)
BLANKET_AMAZONAWS = Rule("EKSP007", "no-proxy-blanket-amazonaws", W,
                         "NO_PROXY sends every AWS call direct (.amazonaws.com)", Piece.NODECONFIG)
PROXY_INEFFECTIVE = Rule("EKSP008", "proxy-ineffective", E, "Proxy configuration is placed where it has no effect")
BOTTLEROCKET_PROXY_MISSING = Rule("EKSP009", "bottlerocket-proxy-missing", E,
                                  "Bottlerocket node group lacks settings.network proxy", Piece.NETWORK)
NOT_STATIC = Rule("EKSP010", "not-statically-fixable", E,
                  "A setting only Terraform can compute: the group is neither judged nor rewritten")
PROXY_DIFFERS = Rule("EKSP011", "proxy-differs-from-config", E, "Proxy URL differs from the configured one",
                     Piece.NODECONFIG)
AMI_TOO_OLD = Rule("EKSP012", "ami-too-old", W,
                   "AMI release older than v20251120 ignores or mis-orders instance.environment")
PACKAGE_MANAGER = Rule("EKSP013", "package-manager-not-covered", W, "dnf does not use the proxy", Piece.DNF)
HARMFUL_SCRIPT = Rule("EKSP014", "handwritten-script-defect", E, "Hand-written proxy script does something harmful",
                      Piece.NODECONFIG)
UNSUPPORTED = Rule("EKSP015", "node-group-unsupported", W, "AMI family unknown or not supported by eksproxy-gen")
VPC_CIDR_UNKNOWN = Rule("EKSP016", "vpc-cidr-unknown", W, "NO_PROXY has no VPC CIDR and none is configured")
AL2_END_OF_LIFE = Rule("EKSP017", "al2-end-of-life", W, "Amazon Linux 2 node group: end of life for EKS")
NODECONFIG_YAML = Rule("EKSP018", "nodeconfig-invalid-yaml", E,
                       "NodeConfig part is not valid YAML: the node never joins")
NODECONFIG_KIND = Rule("EKSP019", "nodeconfig-wrong-kind", E,
                       "NodeConfig part lacks apiVersion node.eks.aws/v1alpha1 and kind NodeConfig")
NODECONFIG_UNKNOWN_FIELD = Rule("EKSP020", "nodeconfig-unknown-field", E,
                                "NodeConfig field nodeadm does not know: dropped silently")
NODECONFIG_TYPE = Rule("EKSP021", "nodeconfig-wrong-type", E,
                       "NodeConfig value of the wrong type: the node never joins")
NODECONFIG_TEMPLATED = Rule("EKSP022", "nodeconfig-not-validated", W,
                            "NodeConfig part built with template directives was not validated")
NODECONFIG_CLUSTER = Rule("EKSP023", "nodeconfig-cluster-in-managed-group", W,
                          "NodeConfig sets spec.cluster in a managed node group that EKS configures itself")
NODECONFIG_DOCUMENTS = Rule("EKSP024", "nodeconfig-several-documents", W,
                            "NodeConfig part holds several YAML documents: only the first is read")
CONTROLLER_PROXY_MISSING = Rule("EKSP025", "karpenter-controller-proxy-missing", E,
                                "Karpenter controller gets no proxy: it cannot call EC2, SSM, Pricing or SQS",
                                Piece.CONTROLLER_ENV)
CONTROLLER_NO_PROXY = Rule("EKSP026", "karpenter-controller-no-proxy-incomplete", E,
                           "Karpenter controller's NO_PROXY lacks an entry that must bypass the proxy",
                           Piece.CONTROLLER_ENV)

SCRIPT_NOT_RUN = Rule("EKSP027", "shell-part-not-run", E,
                      "Shell part without a #! first line: cloud-init cannot run it, nothing in it happens")

RULES: tuple[Rule, ...] = (
    PROXY_MISSING, NODEADM_NOT_COVERED, CONTAINERD_NOT_COVERED, KUBELET_NOT_COVERED, VARIABLES_INCONSISTENT,
    NO_PROXY_INCOMPLETE, BLANKET_AMAZONAWS, PROXY_INEFFECTIVE, BOTTLEROCKET_PROXY_MISSING, NOT_STATIC, PROXY_DIFFERS,
    AMI_TOO_OLD, PACKAGE_MANAGER, HARMFUL_SCRIPT, UNSUPPORTED, VPC_CIDR_UNKNOWN, AL2_END_OF_LIFE, NODECONFIG_YAML,
    NODECONFIG_KIND, NODECONFIG_UNKNOWN_FIELD, NODECONFIG_TYPE, NODECONFIG_TEMPLATED, NODECONFIG_CLUSTER,
    NODECONFIG_DOCUMENTS, CONTROLLER_PROXY_MISSING, CONTROLLER_NO_PROXY, SCRIPT_NOT_RUN,
)

RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}


class TargetKey(NamedTuple):
    """Which boot target a finding is about: the module call (or resource) that owns it, its map and its name.

    Never the name alone: two modules, or a module's two maps, may hold groups of the same name.
    """

    owner_file: str
    owner: str
    map: str
    name: str | None


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
    def group_key(self) -> TargetKey:
        """Which group this is about: module call, map and key; never the key alone."""
        return TargetKey(self.module_file, self.module, self.map, self.node_group)

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


@dataclass(frozen=True)
class TargetRef:
    """Where a boot target is written and who owns it: everything a finding about it needs, and its key.

    A node group is owned by its module call; a Karpenter node class by the
    Terraform resource (or YAML file) that writes it; the controller by its
    ``helm_release``. ``file``/``line`` is where the target itself is written.
    """

    owner: str
    owner_file: str
    owner_line: int
    map: str
    name: str | None
    file: str
    line: int

    @property
    def key(self) -> TargetKey:
        return TargetKey(self.owner_file, self.owner, self.map, self.name)

    def finding(self, rule: Rule, message: str, line: int | None = None, file: str | None = None) -> Finding:
        """The one way a finding about a target is made: at the target, or at a line inside its data."""
        return Finding(rule.id, file or self.file, line or self.line, self.owner, self.name, message, map=self.map,
                       module_file=self.owner_file, module_line=self.owner_line, group_file=self.file,
                       group_line=self.line)
