"""fix's trial of a rewrite: an edit of a value two groups share is refused when the other group is not being
fixed, even when that group's findings stay the same (its settings change all the same)."""

from __future__ import annotations

import json
from pathlib import Path

SHARED = """\
locals {
  parts = []
}

module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 21.0"

  eks_managed_node_groups = {
    a = {
      cloudinit_pre_nodeadm = local.parts
    }
    b = {
      ami_type              = "BOTTLEROCKET_x86_64"
      cloudinit_pre_nodeadm = local.parts
    }
  }
}
"""
SETTINGS = 'vpc_cidrs = ["10.0.0.0/16"]\nproxy = "http://proxy.corp.example:3128"\n'


def test_an_edit_that_changes_a_group_not_selected_is_refused_though_its_findings_stay(cli, tmp_path: Path) -> None:
    """b (Bottlerocket, flagged only for EKSP009) reads the list a's EKSP001 fix would fill; with --select EKSP001
    b is not being fixed, and b's findings would not change, yet its cloudinit_pre_nodeadm would: refused."""
    (tmp_path / "main.tf").write_text(SHARED)
    (tmp_path / ".eksproxy-gen.toml").write_text(SETTINGS)
    result = cli("fix", str(tmp_path), "--select", "EKSP001", "--format", "json")
    data = json.loads(result.out)
    assert (result.code, data["fixed"], data["files_changed"]) == (1, [], [])
    assert [f["message"] for f in data["findings"] if f["rule"] == "EKSP010"] == [
        "not rewritten: the edit would also change eks.b, whose findings are not selected (--select/--ignore); give "
        "that group its own settings first"]
    assert (tmp_path / "main.tf").read_text() == SHARED


NODECLASS_READS_THE_LIST = """\
locals {
  parts = []
}

module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 21.0"

  eks_managed_node_groups = {
    a = {
      cloudinit_pre_nodeadm = local.parts
    }
  }
}

resource "kubectl_manifest" "node_class" {
  yaml_body = yamlencode({
    apiVersion = "karpenter.k8s.aws/v1"
    kind       = "EC2NodeClass"
    metadata   = { name = "default" }
    spec = {
      amiSelectorTerms = [{ alias = "al2023@latest" }]
      role             = "KarpenterNodeRole"
      userData         = join("", [for part in local.parts : part.content])
    }
  })
}
"""


def test_an_edit_that_would_change_a_karpenter_node_class_too_is_refused(cli, tmp_path: Path) -> None:
    """The node class's userData is built from the list a's fix would fill: the node class (which fix cannot
    rewrite, being a Terraform object) would change behind the user's back, so a's edit is refused, naming it.
    One trial judges every target kind: turning the check off for Karpenter targets alone is caught here."""
    (tmp_path / "main.tf").write_text(NODECLASS_READS_THE_LIST)
    (tmp_path / ".eksproxy-gen.toml").write_text(SETTINGS)
    result = cli("fix", str(tmp_path), "--format", "json")
    data = json.loads(result.out)
    assert (data["fixed"], data["files_changed"]) == ([], [])
    refused = [f["message"] for f in data["findings"] if f["rule"] == "EKSP010" and f["module"] == "eks"]
    assert refused == ["not rewritten: the edit would also change kubectl_manifest.node_class.default, which reads "
                       "the same definition but needs other values written (its own cluster's NO_PROXY, family or "
                       "settings)"]
    assert (tmp_path / "main.tf").read_text() == NODECLASS_READS_THE_LIST
