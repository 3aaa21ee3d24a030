"""``eksproxy-gen render``: the generated parts for pasting by hand, or a group's whole user data."""

from __future__ import annotations

import sys
from pathlib import Path

from .. import templates
from ..config import ConfigResolver, Overrides
from ..errors import UsageError
from ..merge import SHEBANG
from ..policy import template_text
from ..policy.delivery import ami_family
from ..policy.facts import SCRIPT_TYPE, ModuleFacts, Opaque
from ..policy.family import Family
from ..policy.settings import Settings
from ..policy.values import dedent_heredoc, has_credentials, mask_credentials
from ..userdata import MimePart, cluster_part, multipart


def run(overrides: Overrides, config: Path | None, ipv6: bool, output_format: str = "hcl",
        group: str | None = None, family: str = "al2023") -> int:
    if group is not None:
        print(mask_credentials(_group_document(group, overrides, config)))
        return 0
    settings = ConfigResolver(overrides, config).for_path(Path.cwd() / "main.tf")
    if settings.proxy is None:
        raise UsageError("no proxy URL: pass --proxy http://proxy.example.com:3128 or set proxy in "
                         ".eksproxy-gen.toml")
    module = ModuleFacts(name="eks", file="-", line=0, ipv6=ipv6)
    print(mask_credentials(_generated(module, settings, family, output_format)))
    if has_credentials(settings.proxy):
        print("warning: the proxy URL holds credentials; they are shown as *** and would be readable by "
              "anything on the node: pass the proxy as a Terraform variable (--proxy tf:var.proxy_url)",
              file=sys.stderr)
    return 0


def _generated(module: ModuleFacts, settings: Settings, family: str, output_format: str) -> str:
    """What fix writes for a new group of ``family``, as the attribute to paste or as the node receives it."""
    if family == "al2":
        script = f"{SHEBANG}\n" + templates.al2_block(module, settings)
        if output_format == "mime":
            return multipart([MimePart(SCRIPT_TYPE, script)], managed=True, al2=True)
        return templates.heredoc_attribute("pre_bootstrap_user_data", script, "")
    if family == "bottlerocket":
        toml = "[settings.network]\n" + templates.bottlerocket_keys(module, settings)
        return toml if output_format == "mime" else templates.heredoc_attribute("bootstrap_extra_args", toml, "")
    parts = templates.al2023_parts(module, settings, writer="render")
    if output_format == "mime":
        return multipart([MimePart(p.content_type, p.content, p.filename) for p in parts], managed=True)
    return templates.attribute(parts, "")


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
    target = found[0]
    facts = target.group.facts
    family = target.family
    if family is Family.BOTTLEROCKET:
        return _text(spec, "bootstrap_extra_args", facts.bootstrap_extra_args)
    if family is Family.AL2:
        script = _text(spec, "pre_bootstrap_user_data", facts.pre_bootstrap_user_data)
        own = ami_family(target.module.facts, facts).own_part
        return multipart([MimePart(SCRIPT_TYPE, script)], managed=True, al2=True) if own else script
    if family is not Family.AL2023:
        raise UsageError(f"--group {spec}: the group's user-data template cannot be told "
                         f"({ami_family(target.module.facts, facts).why or family})")
    pieces: list[MimePart] = []
    for setting, parts in (("cloudinit_pre_nodeadm", facts.parts), ("cloudinit_post_nodeadm", facts.post_parts)):
        if not isinstance(parts, tuple):
            raise UsageError(f"--group {spec}: {setting} is {parts.expression}, which only Terraform can compute")
        for index, part in enumerate(parts):
            if part.text is None or not isinstance(part.content_type, str | None):
                raise UsageError(f"--group {spec}: {setting}[{index}] cannot be read without running Terraform")
            # hashicorp/cloudinit writes a part without content_type as text/plain (cloud-init then goes by its
            # first line: a #! script runs, anything else is no script)
            pieces.append(MimePart(part.content_type or "text/plain", part.text, part.filename))
        if setting == "cloudinit_pre_nodeadm" and facts.custom_ami:
            pieces.append(cluster_part("written by terraform-aws-eks from its template for a custom AMI"))
    return multipart(pieces, managed=facts.kind == "eks_managed" and not facts.custom_ami)


def _text(spec: str, setting: str, value: str | Opaque | None) -> str:
    """A group's script or TOML as the node gets it: template source, its escapes rendered when it has no
    interpolation (an interpolation stays as written: Terraform fills it in)."""
    if isinstance(value, Opaque):
        raise UsageError(f"--group {spec}: {setting} is {value.expression}, which only Terraform can compute")
    if not value:
        raise UsageError(f"--group {spec}: the group has no {setting}")
    text = dedent_heredoc(value) if value.startswith((" ", "\t")) else value
    rendered = template_text.literal(text)
    return rendered if rendered is not None else text
