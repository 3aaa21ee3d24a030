"""The user data a node group's instances receive: the MIME multipart document the module builds.

terraform-aws-eks passes an AL2023 group's ``cloudinit_pre_nodeadm`` parts (then,
for a custom AMI, its bootstrap part and ``cloudinit_post_nodeadm``) to the
cloudinit provider's ``cloudinit_config``, which joins them as a multipart
document with the boundary ``MIMEBOUNDARY``. For a managed node group on an
EKS AMI, EKS then adds its own NodeConfig with the cluster's details after
those parts; it is shown here, marked, with placeholders for the values only
EKS knows.
"""

from __future__ import annotations

from dataclasses import dataclass

from .policy.facts import NODECONFIG

BOUNDARY = "MIMEBOUNDARY"
EKS_PART = """\
---
apiVersion: node.eks.aws/v1alpha1
kind: NodeConfig
spec:
  cluster:
    name: CLUSTER_NAME
    apiServerEndpoint: https://CLUSTER_ENDPOINT
    certificateAuthority: CLUSTER_CERTIFICATE_AUTHORITY
    cidr: SERVICE_CIDR
"""


@dataclass(frozen=True)
class MimePart:
    """A part; ``note`` marks one that is not written in the group's own settings."""

    content_type: str
    content: str
    filename: str | None = None
    note: str = ""


def cluster_part(note: str) -> MimePart:
    """The NodeConfig with the cluster's details that EKS (or the module, for a custom AMI) adds."""
    return MimePart(NODECONFIG, EKS_PART, None, note)


def multipart(parts: list[MimePart], managed: bool) -> str:
    """The document as terraform's cloudinit_config writes it (before base64), with EKS's part when managed."""
    shown = list(parts)
    if managed:
        shown.append(cluster_part("added by EKS when it launches the node, not written by Terraform"))
    lines = [f'Content-Type: multipart/mixed; boundary="{BOUNDARY}"', "MIME-Version: 1.0", ""]
    for part in shown:
        lines.append(f"--{BOUNDARY}")
        if part.note:
            lines.append(f"X-Eksproxy-Gen-Note: {part.note}")
        lines.append("Content-Transfer-Encoding: 7bit")
        if part.filename:
            lines.append(f'Content-Disposition: attachment; filename="{part.filename}"')
        lines.append(f"Content-Type: {part.content_type}")
        lines.append("Mime-Version: 1.0")
        lines.append("")
        lines.append(part.content.rstrip("\n"))
    lines.append(f"--{BOUNDARY}--")
    return "\n".join(lines) + "\n"
