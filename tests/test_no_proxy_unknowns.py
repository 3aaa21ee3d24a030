"""NO_PROXY entries that depend on values only Terraform knows are never guessed.

Two classes: a service CIDR argument that is an expression (it may be null, and a
null in a string template fails the plan), and an ``ip_family`` that is not a
literal (a variable's default can be overridden by any tfvars file). Terraform
itself (``terraform console``) is the oracle of what the written user data
renders to.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import tool

SETTINGS = 'proxy = "http://proxy.corp:3128"\nvpc_cidrs = ["10.0.0.0/16"]\n'
CALL = """\
module "eks" {{
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 21.0"

  name = "x"
{arguments}

  eks_managed_node_groups = {{
    a  = {{}}
    br = {{ ami_type = "BOTTLEROCKET_x86_64" }}
    al = {{ ami_type = "AL2_x86_64" }}
  }}
}}
"""
# where each family's NO_PROXY ends up once fix has written it
USER_DATA = {"a": "local.eks_managed_node_groups.a.cloudinit_pre_nodeadm[0].content",
             "br": "local.eks_managed_node_groups.br.bootstrap_extra_args",
             "al": "local.eks_managed_node_groups.al.pre_bootstrap_user_data"}

# service CIDR arguments that Terraform may give as null: (declarations, the module's argument, a tfvars file
# that gives it the value 10.96.0.0/16)
SVC = 'variable "svc" {\n  type    = string\n  default = null\n}\n'
MAY_BE_NULL = {
    "variable default null": (SVC, "var.svc", 'svc = "10.96.0.0/16"\n'),
    "local of a variable": (SVC + "locals {\n  svc = var.svc\n}\n", "local.svc", 'svc = "10.96.0.0/16"\n'),
    "conditional with a null arm": (SVC + 'variable "custom" {\n  type    = bool\n  default = false\n}\n',
                                    "var.custom ? var.svc : null", 'svc = "10.96.0.0/16"\ncustom = true\n'),
    "try falling back to null": ('variable "cfg" {\n  type    = any\n  default = {}\n}\n',
                                 "try(var.cfg.svc, null)", 'cfg = { svc = "10.96.0.0/16" }\n'),
}


def console(folder: Path, expression: str, tfvars: str = "") -> str:
    """What Terraform renders ``expression`` to, the module call read as a ``locals`` block (no providers)."""
    terraform = tool("terraform")
    work = folder.parent / f"console-{len(list(folder.parent.glob('console-*')))}"
    work.mkdir()
    text = (folder / "main.tf").read_text(encoding="utf-8")
    text = re.sub(r'^module "[^"]+" \{', "locals {", text, flags=re.MULTILINE)
    text = re.sub(r"^\s*(source|version)\s*=.*\n", "", text, flags=re.MULTILINE)
    (work / "main.tf").write_text(text, encoding="utf-8")
    if tfvars:
        (work / "terraform.tfvars").write_text(tfvars, encoding="utf-8")
    env = {"NO_COLOR": "1", "TF_CLI_CONFIG_FILE": "/dev/null", "CHECKPOINT_DISABLE": "1", "PATH": "/usr/bin:/bin",
           "HOME": str(work)}
    proc = subprocess.run([terraform, "console"], input=f"jsonencode({expression})\n", cwd=work, env=env,
                          capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rendered: str = json.loads(json.loads(proc.stdout))
    return rendered


def no_proxy_of(rendered: str) -> list[str]:
    """The NO_PROXY entries of rendered user data (NodeConfig YAML, AL2 shell or Bottlerocket TOML)."""
    found = re.search(r'NO_PROXY: "([^"]*)"|NO_PROXY=\'([^\']*)\'|no-proxy = \[([^\]]*)\]', rendered)
    assert found, rendered
    if found.group(3) is not None:
        return json.loads("[" + found.group(3) + "]")  # type: ignore[no-any-return]
    return (found.group(1) or found.group(2)).split(",")


def folder(tmp_path: Path, declarations: str, arguments: str) -> Path:
    work = tmp_path / "stack"
    work.mkdir()
    (work / "main.tf").write_text(declarations + "\n" + CALL.format(arguments=arguments), encoding="utf-8")
    (work / ".eksproxy-gen.toml").write_text(SETTINGS, encoding="utf-8")
    return work


def proxied_group(no_proxy: str) -> str:
    """Group ``a`` with a NodeConfig proxy whose NO_PROXY is ``no_proxy``."""
    keys = "".join(f"                  {k}: http://proxy.corp:3128\n"
                   for k in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"))
    keys += "".join(f"                  {k}: {no_proxy}\n" for k in ("NO_PROXY", "no_proxy"))
    return ('    a = {\n      cloudinit_pre_nodeadm = [{\n        content_type = "application/node.eks.aws"\n'
            "        content      = <<-EOT\n          apiVersion: node.eks.aws/v1alpha1\n          kind: NodeConfig\n"
            "          spec:\n            instance:\n              environment:\n                default:\n"
            + keys + "        EOT\n      }]\n    }")


def rule_findings(cli: Callable[..., object], work: Path) -> list[dict]:
    result = cli("check", str(work), "--format", "json", "--no-cache", "--ignore", "EKSP017")
    found: list[dict] = json.loads(result.out)["findings"]  # type: ignore[attr-defined]
    return found


@pytest.mark.parametrize("shape", sorted(MAY_BE_NULL))
def test_a_service_cidr_expression_renders_for_null_and_for_a_value(cli, tmp_path: Path, shape: str) -> None:
    """Written user data renders in every family whether the expression is null (EKS picks one of its two
    ranges, both bypassed) or a value (that value bypassed), and check then finds nothing."""
    declarations, argument, given = MAY_BE_NULL[shape]
    work = folder(tmp_path, declarations, f"  service_ipv4_cidr = {argument}")
    cli("fix", str(work), "--no-cache")
    assert rule_findings(cli, work) == []
    for group, expression in USER_DATA.items():
        when_null = no_proxy_of(console(work, expression))
        assert {"10.100.0.0/16", "172.20.0.0/16"} <= set(when_null), (group, when_null)
        when_given = no_proxy_of(console(work, expression, given))
        assert "10.96.0.0/16" in when_given, (group, when_given)


def test_an_ipv6_service_cidr_expression_falls_back_to_the_ipv6_range(cli, tmp_path: Path) -> None:
    declarations = 'variable "svc6" {\n  type    = string\n  default = null\n}\n'
    work = folder(tmp_path, declarations, '  ip_family         = "ipv6"\n  service_ipv6_cidr = var.svc6')
    cli("fix", str(work), "--no-cache")
    assert rule_findings(cli, work) == []
    assert "fc00::/7" in no_proxy_of(console(work, USER_DATA["a"]))


def test_a_service_cidr_reference_the_user_wrote_still_covers_it(cli, tmp_path: Path) -> None:
    """A NO_PROXY that names ``${var.svc}`` itself is not told it lacks the null-safe form."""
    declarations = 'variable "svc" {\n  type    = string\n  default = "10.96.0.0/16"\n}\n'
    work = folder(tmp_path, declarations, "  service_ipv4_cidr = var.svc")
    no_proxy = "localhost,127.0.0.1,169.254.169.254,10.0.0.0/16,${var.svc},.internal,.eks.amazonaws.com"
    (work / "main.tf").write_text((work / "main.tf").read_text().replace("    a  = {}", proxied_group(no_proxy)))
    lacking = [f for f in rule_findings(cli, work) if f["node_group"] == "a" and f["rule"] == "EKSP006"]
    assert lacking == []


# ip_family shapes: (declarations, argument) -> whether the family is known to be IPv6 (True), IPv4 (False), or
# only Terraform knows it (None)
FAMILIES: dict[str, tuple[str, str, bool | None]] = {
    "literal ipv6": ("", '"ipv6"', True),
    "literal ipv4": ("", '"ipv4"', False),
    "null is the module default": ("", "null", False),
    "local literal": ('locals {\n  family = "ipv6"\n}\n', "local.family", True),
    "variable default ipv6": ('variable "ip_family" {\n  type    = string\n  default = "ipv6"\n}\n',
                              "var.ip_family", None),
    "variable default ipv4": ('variable "ip_family" {\n  type    = string\n  default = "ipv4"\n}\n',
                              "var.ip_family", None),
    "conditional": ('variable "v6" {\n  type    = bool\n  default = true\n}\n', 'var.v6 ? "ipv6" : "ipv4"', None),
    "function": ("", 'lower("IPV6")', None),
    "local of a variable": ('variable "ip_family" {\n  type    = string\n  default = "ipv6"\n}\n'
                            "locals {\n  family = var.ip_family\n}\n", "local.family", None),
}
IPV4_ONLY = "localhost,127.0.0.1,169.254.169.254,10.0.0.0/16,172.20.0.0/16,10.100.0.0/16,.internal,.eks.amazonaws.com"


@pytest.mark.parametrize("shape", sorted(FAMILIES))
def test_an_ip_family_only_terraform_knows_needs_both_families(cli, tmp_path: Path, shape: str) -> None:
    """An IPv4-complete NO_PROXY passes only where the family is surely IPv4; where only Terraform knows the
    family, the IPv6 entries are asked for, naming the expression; fix then covers both families."""
    declarations, argument, ipv6 = FAMILIES[shape]
    work = folder(tmp_path, declarations, f"  ip_family = {argument}")
    text = (work / "main.tf").read_text().replace("    a  = {}", proxied_group(IPV4_ONLY))
    (work / "main.tf").write_text(text, encoding="utf-8")
    lacking = {f["message"] for f in rule_findings(cli, work) if f["node_group"] == "a" and f["rule"] == "EKSP006"}
    if ipv6 is False:
        assert lacking == set()
        return
    assert any("fd00:ec2::254" in m for m in lacking) and any("fc00::/7" in m for m in lacking), lacking
    if ipv6 is None:
        assert all("which only Terraform knows" in m and argument.split(" ")[0] in m for m in lacking), lacking
    cli("fix", str(work), "--no-cache")
    assert rule_findings(cli, work) == []
    written = no_proxy_of(console(work, USER_DATA["a"]))
    assert {"fd00:ec2::254", "fc00::/7"} <= set(written), written
    if ipv6 is None:
        assert {"172.20.0.0/16", "10.100.0.0/16"} <= set(written), written
