"""Shapes met in public repositories that set a proxy on their nodes, each generalised to its class.

A Karpenter release whose ``yamlencode`` values hold an annotation only
Terraform can compute lost its whole ``controller.env`` (the encoded text did
not parse once a leaf's quotes were escaped), so a proxied controller was
reported as having none; a node class written to a ``local_file`` for
``kubectl`` was never read; a node class whose YAML only parses once Terraform
fills in an ``indent(yamlencode(...))`` passed as no node class at all; and a
vendored copy of terraform-aws-eks had its own internals reported as node
groups nobody judges. Each class is enumerated below with an oracle that does
not depend on the code under test: the same configuration with the unknown
leaf replaced by a literal, or the verdict a plain heredoc gets.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

PROXY = "http://proxy.corp.example:3128"
FLAGS = ("--proxy", PROXY, "--vpc-cidr", "10.0.0.0/16")
NO_PROXY = "localhost,127.0.0.1,169.254.169.254,10.0.0.0/16,10.100.0.0/16,172.20.0.0/16,.internal,.eks.amazonaws.com"

# leaves only Terraform can compute, as written in real configurations: quotes, escapes, braces, nesting
LEAVES = [
    'var.karpenter != "disabled" ? aws_iam_role.karpenter_controller[0].arn : ""',
    'lookup(var.roles, "karpenter", "")',
    'format("%s-%s", var.prefix, "karpenter")',
    'var.name == "a\\"b" ? "x" : "y"',
    'jsonencode({ a = "}" })',
    '"${var.prefix}-karpenter"',
    'try(var.roles["karpenter"], null)',
]
LITERAL = '"arn:aws:iam::111122223333:role/karpenter"'


def findings(cli, folder: Path) -> list[tuple[str, str, str]]:
    """(rule, target, message) of each finding: ``kubectl_manifest.nc.services``, ``eks.general``."""
    found = json.loads(cli("check", str(folder), "--format", "json", "--no-cache").out)["findings"]
    return [(f["rule"], ".".join(filter(None, (f["module"], f["node_group"]))), f["message"]) for f in found]


def controller(leaf: str) -> str:
    return f"""\
variable "karpenter" {{
  default = "enabled"
}}

resource "helm_release" "karpenter" {{
  name       = "karpenter"
  repository = "oci://public.ecr.aws/karpenter"
  chart      = "karpenter"
  version    = "1.6.0"

  values = [yamlencode({{
    serviceAccount = {{
      annotations = {{
        "eks.amazonaws.com/role-arn" = {leaf}
      }}
    }}
    controller = {{
      env = [for k, v in local.proxy_env : v]
    }}
  }})]
}}

locals {{
  proxy_env = [{{
    "name"  = "HTTPS_PROXY"
    "value" = "{PROXY}"
    }}, {{
    "name"  = "HTTP_PROXY"
    "value" = "{PROXY}"
    }}, {{
    "name"  = "NO_PROXY"
    "value" = "{NO_PROXY.replace(",.eks.amazonaws.com", "")}"
  }}]
}}
"""


def nodeconfig_group(leaf: str) -> str:
    return f"""\
module "eks" {{
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 21.0"

  name               = "c1"
  kubernetes_version = "1.33"
  service_ipv4_cidr  = "172.20.0.0/16"

  eks_managed_node_groups = {{
    general = {{
      ami_type = "AL2023_x86_64_STANDARD"
      cloudinit_pre_nodeadm = [{{
        content_type = "application/node.eks.aws"
        content = yamlencode({{
          apiVersion = "node.eks.aws/v1alpha1"
          kind       = "NodeConfig"
          spec = {{
            kubelet = {{
              config = {{ maxPods = 110 }}
              flags  = ["--node-labels=role=${{{leaf}}}"]
            }}
            instance = {{
              environment = {{
                default = {{
                  HTTPS_PROXY = "{PROXY}"
                }}
              }}
            }}
          }}
        }})
      }}]
    }}
  }}
}}
"""


def manifest_nodeclass(leaf: str) -> str:
    return f"""\
resource "kubectl_manifest" "node_class" {{
  yaml_body = yamlencode({{
    apiVersion = "karpenter.k8s.aws/v1"
    kind       = "EC2NodeClass"
    metadata   = {{ name = "default" }}
    spec = {{
      amiSelectorTerms = [{{ alias = "al2023@latest" }}]
      role             = {leaf}
      tags             = {{ team = "platform" }}
    }}
  }})
}}
"""


@pytest.mark.parametrize("leaf", LEAVES)
@pytest.mark.parametrize("carrier", [controller, nodeconfig_group, manifest_nodeclass])
def test_an_unknown_leaf_in_an_encoded_value_hides_nothing_else(cli, tmp_path: Path, carrier, leaf: str) -> None:
    """yamlencode()/jsonencode() of an object with one leaf only Terraform knows is judged as the same object
    with a literal there: the leaf's quotes, escapes and braces never make the rest unreadable."""
    (tmp_path / "known").mkdir()
    (tmp_path / "known" / "main.tf").write_text(carrier(LITERAL))
    (tmp_path / "leaf").mkdir()
    (tmp_path / "leaf" / "main.tf").write_text(carrier(leaf))
    expected = findings(cli, tmp_path / "known")
    assert expected, "the literal variant is not proxied completely, so it has findings to compare"
    assert findings(cli, tmp_path / "leaf") == expected


NODECLASS_YAML = """\
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: services
spec:
  amiFamily: AL2023
  role: KarpenterNodeRole
  tags:
    Name: karpenter
%s
"""

CARRIERS = {  # resource type, argument, how the heredoc is written
    "kubectl_manifest": 'resource "kubectl_manifest" "nc" {\n  yaml_body = <<-EOT\n%s  EOT\n}\n',
    "kubernetes_manifest": 'resource "kubernetes_manifest" "nc" {\n  manifest = yamldecode(<<-EOT\n%s  EOT\n  )\n}\n',
    "local_file": 'resource "local_file" "nc" {\n  filename = "${path.module}/nc.yaml"\n'
                  '  content  = <<-EOT\n%s  EOT\n}\n',
}


def carried(kind: str, yaml_text: str) -> str:
    return CARRIERS[kind] % "".join(f"    {line}\n" if line else "\n" for line in yaml_text.splitlines())


@pytest.mark.parametrize("kind", sorted(CARRIERS))
@pytest.mark.parametrize("breaking", ["    ${indent(4, yamlencode(local.tags))}", "${local.extra_spec}",
                                      "  ${var.on ? \"userData: x\" : \"\"}"])
def test_a_node_class_whose_yaml_terraform_completes_is_never_passed_over(cli, tmp_path: Path, kind: str,
                                                                         breaking: str) -> None:
    """A node class whose YAML parses only once Terraform fills in an interpolation where keys belong is an
    EKSP010 naming that interpolation and its line, in every resource that carries a manifest; never 0
    findings as if the resource held no node class."""
    (tmp_path / "main.tf").write_text(carried(kind, NODECLASS_YAML % breaking))
    found = findings(cli, tmp_path)
    assert [(rule, owner) for rule, owner, _ in found] == [("EKSP010", f"{kind}.nc.services")]
    text = (tmp_path / "main.tf").read_text()
    line = text[: text.index(breaking.strip())].count("\n") + 1
    assert found[0][2].startswith(f"its YAML is broken up by {breaking.strip()} (at main.tf:{line}), which only "
                                  "Terraform can compute")


@pytest.mark.parametrize("kind", sorted(CARRIERS))
def test_every_manifest_carrier_is_read_judged_and_fixed_alike(cli, tmp_path: Path, kind: str) -> None:
    """A node class in a local_file written for kubectl is judged and fixed like one in a kubectl_manifest."""
    (tmp_path / "main.tf").write_text(carried(kind, NODECLASS_YAML % ""))
    assert [(rule, owner) for rule, owner, _ in findings(cli, tmp_path)] == [("EKSP001", f"{kind}.nc.services")]
    result = json.loads(cli("fix", str(tmp_path), "--format", "json", "--no-cache", *FLAGS).out)
    assert [g["module"] for g in result["fixed"]] == [f"{kind}.nc"]
    assert findings(cli, tmp_path) == []


MODULE_COPY = {  # the files of a vendored terraform-aws-eks that declare node groups of their own
    "node_groups.tf": 'module "eks_managed_node_group" {\n  source   = "./modules/eks-managed-node-group"\n'
                      "  for_each = var.eks_managed_node_groups\n}\n",
    "variables.tf": 'variable "eks_managed_node_groups" {\n  default = {}\n}\n',
    "modules/eks-managed-node-group/main.tf": 'resource "aws_eks_node_group" "this" {\n  node_group_name = "x"\n}\n',
}


@pytest.mark.parametrize("copy_name", ["terraform-aws-eks", "terraform-aws-eks-19.15.3", "eks"])
def test_a_vendored_module_copy_is_not_reported_as_node_groups_nobody_judges(cli, tmp_path: Path,
                                                                             copy_name: str) -> None:
    """The module's own submodule calls and raw node groups implement the groups the user's call declares;
    they are judged there. A raw node group of the user's own, beside the copy, is still said to be unjudged."""
    for name, text in MODULE_COPY.items():
        path = tmp_path / "modules" / copy_name / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (tmp_path / "main.tf").write_text(f'module "eks" {{\n  source = "./modules/{copy_name}"\n}}\n\n'
                                      'resource "aws_eks_node_group" "mine" {\n  node_group_name = "mine"\n}\n')
    notices = json.loads(cli("check", str(tmp_path), "--format", "json", "--no-cache").out)["notices"]
    assert [(n["file"], n["kind"]) for n in notices] == [("main.tf", "not-judged")]
    assert notices[0]["message"].startswith("aws_eks_node_group.mine is not judged")
