"""What the policy knows about a module call and its node groups: plain, immutable records.

The model fills these from the Terraform it could read. A setting that only
Terraform can compute is an ``Opaque`` naming the expression, never a guess:
the policy then says it cannot judge instead of judging what it cannot see.
"""

from __future__ import annotations

from dataclasses import dataclass

GENERATED_MARKER = "eksproxy-gen:generated"
GENERATED_FILENAMES = ("eksproxy-gen-proxy.yaml", "eksproxy-gen-dnf.sh")

NODECONFIG = "application/node.eks.aws"
SHELL_TYPES = ("text/x-shellscript", "text/cloud-boothook")


@dataclass(frozen=True)
class Opaque:
    """A setting whose value only Terraform can compute: ``expression`` is what hides it, as written.

    ``refused``: a value eksproxy-gen may not read (``expression`` says what was refused and why), which is
    said as such, never as one only Terraform can compute.
    """

    setting: str
    expression: str
    where: str = ""
    refused: bool = False


@dataclass(frozen=True)
class Origin:
    """Where a text value is written: ``file:line`` of its first line, for pointing at a line inside it."""

    file: str
    first_line: int

    def line(self, index: int) -> int:
        """The file line of the ``index``-th (0-based) line of the text."""
        return self.first_line + index


@dataclass(frozen=True)
class Part:
    """One element of ``cloudinit_pre_nodeadm``: content as written (escapes resolved, references kept)."""

    content_type: str | Opaque | None
    content: str | Opaque | None
    filename: str | None = None
    line: int = 0
    origin: Origin | None = None

    @property
    def opaque(self) -> Opaque | None:
        for value in (self.content_type, self.content):
            if isinstance(value, Opaque):
                return value
        return None

    @property
    def text(self) -> str | None:
        return self.content if isinstance(self.content, str) else None

    @property
    def generated(self) -> bool:
        return self.filename in GENERATED_FILENAMES or (self.text is not None and GENERATED_MARKER in self.text)

    @property
    def is_nodeconfig(self) -> bool:
        return isinstance(self.content_type, str) and self.content_type.split(";")[0].strip() == NODECONFIG

    @property
    def is_shell(self) -> bool:
        if isinstance(self.content_type, str) and self.content_type.split(";")[0].strip() in SHELL_TYPES:
            return True
        return self.content_type is None and (self.text or "").lstrip().startswith("#!")

    @property
    def cloud_init_type(self) -> str | None:
        """The type cloud-init handles this part as (None when Terraform computes it).

        A MIME type is case-insensitive; no type is text/plain (hashicorp/cloudinit's default); and for
        text/plain and text/x-shellscript cloud-init goes by the first line instead when it knows it
        (cloudinit/user_data.py, ``find_ctype``): ``#cloud-boothook`` makes a boothook, ``#!`` a script.
        """
        if isinstance(self.content_type, Opaque):
            return None
        kind = (self.content_type or "text/plain").split(";")[0].strip().lower()
        if kind in _TYPE_FROM_FIRST_LINE and self.text is not None:
            for prefix, found in _PREFIXES:
                if self.text.startswith(prefix):
                    return found
        return kind

    @property
    def executed(self) -> bool:
        """Whether cloud-init executes this part as a program (see ``EXECUTED_TYPES``)."""
        return self.cloud_init_type in EXECUTED_TYPES

    @property
    def runs(self) -> bool:
        """Whether cloud-init can run this part: it executes a script or a boothook as a program, so without a
        ``#!`` first line it fails with "Exec format error" and nothing in it happens. A boothook's
        ``#cloud-boothook`` line, and blank space after it, are taken off first (cloudinit/handlers/boot_hook.py,
        after turning CRLF into LF); a script is written as it is (shell_script.py)."""
        kind = self.cloud_init_type
        if kind not in EXECUTED_TYPES:
            return True
        text = self.text or ""
        if kind == BOOTHOOK_TYPE:
            text = text.replace("\r\n", "\n").removeprefix(BOOTHOOK_PREFIX).lstrip()
        return starts_with_shebang(text)


SCRIPT_TYPE = "text/x-shellscript"
BOOTHOOK_TYPE = "text/cloud-boothook"
BOOTHOOK_PREFIX = "#cloud-boothook"
# The part types cloud-init writes to a file and executes (cloudinit/handlers: shell_script.py, boot_hook.py,
# shell_script_by_frequency.py, whose scripts the scripts_per_* modules run).
EXECUTED_TYPES = (SCRIPT_TYPE, BOOTHOOK_TYPE, "text/x-shellscript-per-boot", "text/x-shellscript-per-instance",
                  "text/x-shellscript-per-once")
_TYPE_FROM_FIRST_LINE = ("text/plain", "text/x-not-multipart", SCRIPT_TYPE)
# cloud-init's first lines (cloudinit/handlers/__init__.py, INCLUSION_TYPES_MAP), longest first as it tries them.
_PREFIXES = tuple(sorted({
    "#include": "text/x-include-url", "#include-once": "text/x-include-once-url", "#!": SCRIPT_TYPE,
    "#cloud-config": "text/cloud-config", "#part-handler": "text/part-handler", BOOTHOOK_PREFIX: BOOTHOOK_TYPE,
    "#cloud-config-archive": "text/cloud-config-archive", "#cloud-config-jsonp": "text/cloud-config-jsonp",
    "## template: jinja": "text/jinja2"}.items(), key=lambda item: -len(item[0])))


def starts_with_shebang(text: str) -> bool:
    """Whether a script's first line is a ``#!`` line, as the kernel needs to execute it."""
    return text.startswith("#!")


@dataclass(frozen=True)
class ModuleFacts:
    """A terraform-aws-eks module call.

    ``versions`` are the releases of terraform-aws-eks the call can be (empty:
    any); ``version_basis`` says, when they were inferred rather than pinned,
    from what. ``service_cidr`` is literal
    text or ``${expr}``. ``family_unknown`` names the ``ip_family`` expression
    when only Terraform knows it (then ``ipv6`` is False and ``service_cidr_ipv6``
    holds the IPv6 service CIDR argument, so that NO_PROXY can cover both
    families rather than assume one). ``refs`` maps references (``module.vpc.vpc_cidr_block``)
    to the literal values the folder gives them, so NO_PROXY entries written
    either way compare equal.
    """

    name: str
    file: str
    line: int
    versions: frozenset[str] = frozenset()
    version_basis: str = ""
    service_cidr: str | None = None
    ipv6: bool = False
    family_unknown: str = ""
    service_cidr_ipv6: str | None = None
    private_endpoint: bool = True
    refs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class GroupFacts:
    """One node group, with the settings it effectively gets.

    ``kind`` is eks_managed, self_managed or karpenter; ``map`` the node-group map
    it is a key of ("module" for a node-group submodule, "EC2NodeClass" for a
    Karpenter node class); ``unreadable`` is set when the group itself is an
    expression only Terraform can compute. ``user_data_setting`` names the
    setting that holds the user data when it is not the module's own
    (a node class's ``spec.userData``), so messages point at what the user wrote.
    """

    name: str
    line: int
    kind: str = "eks_managed"
    file: str | None = None
    map: str = "eks_managed_node_groups"
    ami_type: str | Opaque | None = None
    platform: str | Opaque | None = None
    launch_template: bool | Opaque = True
    launch_template_reason: str = ""
    parts: tuple[Part, ...] | Opaque = ()
    post_parts: tuple[Part, ...] | Opaque = ()
    custom_ami: bool = False
    ami_id: bool = False
    bootstrap_user_data: bool | None = False
    release_version: str | None = None
    bootstrap_extra_args: str | Opaque | None = None
    bootstrap_origin: Origin | None = None
    pre_bootstrap_user_data: str | Opaque | None = None
    pre_bootstrap_origin: Origin | None = None
    unreadable: Opaque | None = None
    user_data_setting: str = ""


def location(module: str, group: str | None) -> str:
    """How a finding names where it is: ``module.group``, or the module alone for a module-wide finding."""
    return module if group is None else f"{module}.{group}"
