"""``eksproxy-gen render``: the generated parts for pasting by hand, or a group's whole user data."""

from __future__ import annotations

import sys
from pathlib import Path

from .. import templates
from ..config import ConfigResolver, Overrides
from ..errors import UsageError
from ..policy.facts import ModuleFacts
from ..policy.values import has_credentials, mask_credentials
from ..userdata import MimePart, cluster_part, multipart


def run(overrides: Overrides, config: Path | None, ipv6: bool, output_format: str = "hcl",
        group: str | None = None) -> int:
    if group is not None:
        print(mask_credentials(_group_document(group, overrides, config)))
        return 0
    settings = ConfigResolver(overrides, config).for_path(Path.cwd() / "main.tf")
    if settings.proxy is None:
        raise UsageError("no proxy URL: pass --proxy http://proxy.example.com:3128 or set proxy in "
                         ".eksproxy-gen.toml")
    module = ModuleFacts(name="eks", file="-", line=0, ipv6=ipv6)
    parts = templates.al2023_parts(module, settings, writer="render")
    if output_format == "mime":
        text = multipart([MimePart(p.content_type, p.content, p.filename) for p in parts], managed=True)
    else:
        text = templates.attribute(parts, "")
    print(mask_credentials(text))
    if has_credentials(settings.proxy):
        print("warning: the proxy URL holds credentials; they are shown as *** and would be readable by "
              "anything on the node: pass the proxy as a Terraform variable (--proxy tf:var.proxy_url)",
              file=sys.stderr)
    return 0


def _group_document(spec: str, overrides: Overrides, config: Path | None) -> str:
    """The multipart user data of an existing group, named FILE:MODULE.GROUP, from its parts as written."""
    file, _, name = spec.rpartition(":")
    module_name, _, group_name = name.partition(".")
    path = Path(file)
    if not file or not module_name or not group_name:
        raise UsageError(f"--group {spec}: write it as FILE:MODULE.GROUP, e.g. infra/eks.tf:eks.general")
    if not path.is_file():
        raise UsageError(f"--group {spec}: no such file: {file}")
    from ..pipeline.analysis import analyse
    from ..pipeline.inputs import FolderInput

    settings = ConfigResolver(overrides, config).for_path(path)
    result = analyse(FolderInput(path.parent, (path,), settings))
    found = [g for g in result.groups if g.module.facts.name == module_name and g.group.facts.name == group_name]
    if not found:
        known = ", ".join(sorted({f"{g.module.facts.name}.{g.group.facts.name}" for g in result.groups})) or "none"
        raise UsageError(f"--group {spec}: no node group {name} in {file}'s folder (groups there: {known})")
    facts = found[0].group.facts
    pieces: list[MimePart] = []
    for setting, parts in (("cloudinit_pre_nodeadm", facts.parts), ("cloudinit_post_nodeadm", facts.post_parts)):
        if not isinstance(parts, tuple):
            raise UsageError(f"--group {spec}: {setting} is {parts.expression}, which only Terraform can compute")
        for index, part in enumerate(parts):
            if part.text is None or not isinstance(part.content_type, str | None):
                raise UsageError(f"--group {spec}: {setting}[{index}] cannot be read without running Terraform")
            pieces.append(MimePart(part.content_type or "text/x-shellscript", part.text, part.filename))
        if setting == "cloudinit_pre_nodeadm" and facts.custom_ami:
            pieces.append(cluster_part("written by terraform-aws-eks from its template for a custom AMI"))
    return multipart(pieces, managed=facts.kind == "eks_managed" and not facts.custom_ami)
