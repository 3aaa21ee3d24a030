"""The user data a node group's instances receive: the MIME multipart document the module builds.

terraform-aws-eks passes an AL2023 group's ``cloudinit_pre_nodeadm`` parts (then,
for a custom AMI, its bootstrap part and ``cloudinit_post_nodeadm``) to the
cloudinit provider's ``cloudinit_config``, which joins them as a multipart
document with the boundary ``MIMEBOUNDARY``. For a managed node group on an
EKS AMI, EKS then adds its own part after those: a NodeConfig with the
cluster's details on AL2023, a script that runs ``/etc/eks/bootstrap.sh`` on
Amazon Linux 2; it is shown here, marked, with placeholders for the values
only EKS knows.
"""

from __future__ import annotations

import re
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
EKS_AL2_PART = """\
#!/bin/bash
set -ex
/etc/eks/bootstrap.sh CLUSTER_NAME --b64-cluster-ca CLUSTER_CERTIFICATE_AUTHORITY \\
  --apiserver-endpoint https://CLUSTER_ENDPOINT
"""
_ADDED_BY_EKS = "added by EKS when it launches the node, not written by Terraform"


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


def multipart(parts: list[MimePart], managed: bool, al2: bool = False) -> str:
    """The document as terraform's cloudinit_config writes it (before base64), with EKS's part when managed:
    its NodeConfig, or (``al2``) its bootstrap.sh script."""
    shown = list(parts)
    if managed:
        shown.append(MimePart("text/x-shellscript", EKS_AL2_PART, None, _ADDED_BY_EKS) if al2
                     else cluster_part(_ADDED_BY_EKS))
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


@dataclass(frozen=True)
class ReadPart:
    """A part of a user-data document as written: its headers, content, and the 0-based line its content starts on."""

    headers: dict[str, str]
    content: str
    first_line: int

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


@dataclass(frozen=True)
class ReadDocument:
    """A MIME multipart document split into parts, with what is needed to add parts in its own style."""

    boundary: str
    parts: tuple[ReadPart, ...]
    part_starts: tuple[int, ...]
    end: int


def is_mime(text: str) -> bool:
    """Whether user data is a MIME document, as Karpenter and cloud-init decide: by its first header."""
    head = text.lstrip().lower()
    return head.startswith(("mime-version:", "content-type:"))


def split(text: str) -> ReadDocument | None:
    """The parts of a multipart document (None when it is not one, or its boundary cannot be found).

    ``part_starts`` are the line indexes of each part's ``--boundary`` line and
    ``end`` that of the closing ``--boundary--`` (or the line count), so a part
    can be inserted before another without touching any other line.
    """
    lines = text.split("\n")
    headers, at = _headers(lines, 0)
    match = re.search(r'boundary\s*=\s*"([^"]+)"|boundary\s*=\s*([^;\s]+)', headers.get("content-type", ""), re.I)
    if match is None:
        return None
    boundary = match.group(1) or match.group(2)
    opening, closing = f"--{boundary}", f"--{boundary}--"
    starts = [i for i in range(at, len(lines)) if lines[i].rstrip() == opening]
    end = next((i for i in range(at, len(lines)) if lines[i].rstrip() == closing), len(lines))
    starts = [i for i in starts if i < end]
    parts: list[ReadPart] = []
    for index, start in enumerate(starts):
        stop = starts[index + 1] if index + 1 < len(starts) else end
        part_headers, body = _headers(lines, start + 1)
        content = lines[body:stop]
        while content and content[-1].strip() == "":
            content.pop()
        parts.append(ReadPart(part_headers, "".join(line + "\n" for line in content), body))
    return ReadDocument(boundary, tuple(parts), tuple(starts), end)


def _headers(lines: list[str], at: int) -> tuple[dict[str, str], int]:
    """Headers from line ``at`` up to the blank line (folded lines joined), and the index after that line."""
    headers: dict[str, str] = {}
    last = ""
    while at < len(lines) and lines[at].strip():
        line = lines[at]
        if line[:1] in " \t" and last:
            headers[last] += " " + line.strip()
        elif ":" in line:
            name, _, value = line.partition(":")
            last = name.strip().lower()
            headers[last] = value.strip()
        at += 1
    return headers, min(at + 1, len(lines))


def part_text(boundary: str, content_type: str, content: str, filename: str | None = None) -> str:
    """One part, from its ``--boundary`` line to the end of its content, in the style Karpenter documents."""
    disposition = f'Content-Disposition: attachment; filename="{filename}"\n' if filename else ""
    return f"--{boundary}\n{disposition}Content-Type: {content_type}\n\n{content.rstrip(chr(10))}\n\n"


def document(boundary: str, parts: list[str]) -> str:
    """A whole multipart document from part texts made by ``part_text``."""
    head = f'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="{boundary}"\n\n'
    return head + "".join(parts) + f"--{boundary}--\n"
