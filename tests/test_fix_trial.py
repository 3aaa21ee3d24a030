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
        "not rewritten: the edit would also change eks.b, which is not being fixed (silenced, not selected, or not "
        "flagged); give that group its own settings first"]
    assert (tmp_path / "main.tf").read_text() == SHARED
