"""What the policy needs to know about a module call and its node groups.

Both front ends fill these records: the CLI from python-hcl2's tree, the
checkov rules from checkov's module configuration plus the file's own text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GENERATED_MARKER = "eksproxy-gen:generated"
GENERATED_FILENAMES = ("eksproxy-gen-proxy.yaml", "eksproxy-gen-dnf.sh")

NODECONFIG = "application/node.eks.aws"
SHELL_TYPES = ("text/x-shellscript", "text/cloud-boothook")


@dataclass(frozen=True)
class Part:
    """One element of ``cloudinit_pre_nodeadm``; ``content`` is the text as written, dedented."""

    content_type: str | None
    content: str | None
    filename: str | None = None
    line: int = 0

    @property
    def generated(self) -> bool:
        return self.filename in GENERATED_FILENAMES or (
            self.content is not None and GENERATED_MARKER in self.content)

    @property
    def is_nodeconfig(self) -> bool:
        return self.content_type == NODECONFIG

    @property
    def is_shell(self) -> bool:
        if (self.content_type or "").split(";")[0].strip() in SHELL_TYPES:
            return True
        return self.content_type is None and (self.content or "").lstrip().startswith("#!")


@dataclass(frozen=True)
class ModuleFacts:
    """A terraform-aws-eks module call. ``service_cidr`` is literal text or ``${expr}``."""

    name: str
    file: str
    line: int
    major: int | None
    service_cidr: str | None = None
    ipv6: bool = False
    private_endpoint: bool = True


@dataclass(frozen=True)
class GroupFacts:
    """One node group, with the settings it effectively gets.

    ``parts`` is None when ``cloudinit_pre_nodeadm`` is not written as a literal
    list (an expression); ``ami_type`` keeps ``${...}`` when it is an expression.
    """

    name: str
    line: int
    kind: str = "eks_managed"
    file: str | None = None
    ami_type: str | None = None
    platform: str | None = None
    launch_template: bool = True
    launch_template_reason: str = ""
    parts: tuple[Part, ...] | None = ()
    parts_expression: str = ""
    release_version: str | None = None
    inherits_parts: bool = False
    bootstrap_extra_args: str | None = None
    pre_bootstrap_user_data: str | None = None


def dedent_heredoc(body: str) -> str:
    """Strip the common indentation, as Terraform does for ``<<-`` heredocs."""
    lines = body.split("\n")
    widths = [len(ln) - len(ln.lstrip(" \t")) for ln in lines if ln.strip()]
    cut = min(widths) if widths else 0
    return "\n".join(ln[cut:] for ln in lines)


def release_date(version: str | None) -> int | None:
    """The YYYYMMDD date in an AMI release version such as ``1.31.3-20251120``."""
    if not version:
        return None
    match = re.search(r"(20\d{6})", version)
    return int(match.group(1)) if match else None
