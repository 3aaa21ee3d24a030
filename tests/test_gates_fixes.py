"""Fixes that work with the README's own advice: every ``tf:`` setting, on every kind of target, and AL2 messages
in AL2's own terms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import FIXTURES, replaced
from .test_karpenter import HELM, KUBECTL

PROXY = "http://proxy.corp.example:3128"
NETWORK = """\
locals {
  proxy_url    = "http://proxy.corp.example:3128"
  vpc_cidr     = "10.0.0.0/16"
  service_cidr = "172.20.0.0/16"
  endpoint     = "sts.eu-west-1.amazonaws.com"
}

variable "vpc_cidr" {
  default = "10.1.0.0/16"
}

module "vpc" {
  source = "terraform-aws-modules/vpc/aws"
  cidr   = "10.2.0.0/16"
}
"""
TARGETS = {
    "node groups (AL2023)": (FIXTURES / "shapes.tf").read_text(),
    "node groups (AL2)": (FIXTURES / "families" / "al2.tf").read_text(),
    "Karpenter node class": KUBECTL,
    "Karpenter controller": HELM % "",
}
SETTINGS = {
    "vpc_cidrs from a module output": f'proxy = "{PROXY}"\nvpc_cidrs = ["tf:module.vpc.vpc_cidr_block"]\n',
    "vpc_cidrs from a local": f'proxy = "{PROXY}"\nvpc_cidrs = ["tf:local.vpc_cidr"]\n',
    "vpc_cidrs from a variable": f'proxy = "{PROXY}"\nvpc_cidrs = ["tf:var.vpc_cidr"]\n',
    "no_proxy from a local": f'proxy = "{PROXY}"\nvpc_cidrs = ["10.0.0.0/16"]\nno_proxy = ["tf:local.endpoint"]\n',
    "service_cidr from a local":
        f'proxy = "{PROXY}"\nvpc_cidrs = ["10.0.0.0/16"]\nservice_cidr = "tf:local.service_cidr"\n',
    "proxy from a local": 'proxy = "tf:local.proxy_url"\nvpc_cidrs = ["10.0.0.0/16"]\n',
}


@pytest.mark.parametrize("settings", SETTINGS.values(), ids=list(SETTINGS))
@pytest.mark.parametrize("target", TARGETS.values(), ids=list(TARGETS))
def test_what_fix_writes_from_a_terraform_setting_check_accepts(cli, tmp_path: Path, target: str,
                                                                settings: str) -> None:
    (tmp_path / "main.tf").write_text(target)
    (tmp_path / "network.tf").write_text(NETWORK)
    (tmp_path / ".eksproxy-gen.toml").write_text(settings)
    fixed = cli("fix", str(tmp_path), "--format", "json")
    data = json.loads(fixed.out)
    assert [f["message"] for f in data["findings"] if f["message"].startswith("not rewritten")] == []
    assert fixed.code == 0 and data["files_changed"] == ["main.tf"], fixed.out
    checked = cli("check", str(tmp_path), "--format", "json")
    assert [f for f in json.loads(checked.out)["findings"] if f["severity"] == "error"] == []
    assert checked.code == 0


AL2_EXPORTS = replaced((FIXTURES / "families" / "al2.tf").read_text(), '        echo "tuning" > /tmp/tuned\n', """\
        export HTTP_PROXY=http://proxy.corp.example:3128 HTTPS_PROXY=http://proxy.corp.example:3128
        export http_proxy=http://proxy.corp.example:3128 https_proxy=http://proxy.corp.example:3128
        export NO_PROXY=localhost,127.0.0.1,169.254.169.254,10.0.0.0/16,172.20.0.0/16,.internal,.eks.amazonaws.com
        export no_proxy=$NO_PROXY
        echo proxy=http://proxy.corp.example:3128 >> /etc/yum.conf
""")


def test_an_al2_group_is_told_about_al2_s_mechanisms_not_nodeconfig(cli, tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(AL2_EXPORTS)
    found = json.loads(cli("check", str(tmp_path), "--format", "json", "--select", "EKSP003,EKSP004").out)["findings"]
    assert [f["rule"] for f in found] == ["EKSP003", "EKSP004"]
    for finding, unit in zip(found, ("containerd", "kubelet"), strict=True):
        message = finding["message"]
        assert "environment.default" not in message and "NodeConfig" not in message
        assert f"/etc/systemd/system/{unit}.service.d/ drop-in" in message
        assert message.startswith(f"{unit} does not get the proxy: pre_bootstrap_user_data writes no ")
    al2023 = json.loads(cli("check", str(FIXTURES / "partial.tf"), "--format", "json", "--select", "EKSP004").out)
    assert "environment.default" in al2023["findings"][0]["message"], "AL2023 keeps NodeConfig's words"
