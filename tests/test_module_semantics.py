"""Verdicts follow the terraform-aws-eks release that will run, as the module's own sources say (issue: judge by the
semantics of the module version). Each known difference between releases, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import replaced

FLAGS = ("--proxy", "http://proxy.corp.example:3128", "--vpc-cidr", "10.0.0.0/16", "--no-cache")


def _call(version: str, groups: str, args: str = '  cluster_name = "c"\n', kind: str = "eks_managed") -> str:
    return (f'module "eks" {{\n  source  = "terraform-aws-modules/eks/aws"\n  version = "{version}"\n\n{args}\n'
            f"  {kind}_node_groups = {{\n{groups}  }}\n}}\n")


def _check(cli, folder: Path, text: str) -> list[dict[str, object]]:
    (folder / "main.tf").write_text(text, encoding="utf-8")
    return json.loads(cli("check", str(folder), "--format", "json", "--no-cache").out)["findings"]


def _fix_changes_nothing(cli, folder: Path) -> None:
    before = (folder / "main.tf").read_bytes()
    cli("fix", str(folder), *FLAGS)
    assert (folder / "main.tf").read_bytes() == before


BOTTLEROCKET_TOML = ('      bootstrap_extra_args = <<-EOT\n        [settings.network]\n'
                     '        https-proxy = "http://proxy.corp.example:3128"\n      EOT\n')


def test_v19_takes_the_template_from_platform_only(cli, tmp_path: Path) -> None:
    """v19: a Bottlerocket ami_type without platform = "bottlerocket" gets the AL2 template (its TOML is ignored):
    said, and no AL2 block is written into a Bottlerocket group."""
    found = _check(cli, tmp_path, _call("19.21.0", '    br = {\n      ami_type = "BOTTLEROCKET_x86_64"\n'
                                        + BOTTLEROCKET_TOML + "    }\n"))
    assert [f["rule"] for f in found] == ["EKSP008"]
    assert "terraform-aws-eks v19.21.0 writes this group's user data in the AL2 (bootstrap.sh) format" in \
        str(found[0]["message"])
    assert 'set platform = "bottlerocket"' in str(found[0]["message"])
    _fix_changes_nothing(cli, tmp_path)
    with_platform = _call("19.21.0", '    br = {\n      ami_type = "BOTTLEROCKET_x86_64"\n      platform = '
                          '"bottlerocket"\n' + BOTTLEROCKET_TOML + "    }\n")
    assert {f["rule"] for f in _check(cli, tmp_path, with_platform)} == {"EKSP006"}


def test_an_al2023_group_before_v20_9_is_not_al2_and_gets_no_al2_block(cli, tmp_path: Path) -> None:
    """v19 and v20 before 20.9 choose the template by platform: an AL2023 ami_type gets the AL2 script, which
    cannot reach nodeadm. It is not an end-of-life AL2 group, and fix writes nothing."""
    for version in ("19.21.0", "20.8.5"):
        found = _check(cli, tmp_path, _call(version, '    g = {\n      ami_type = "AL2023_x86_64_STANDARD"\n    }\n'))
        assert [f["rule"] for f in found] == ["EKSP008"], version
        assert "upgrade the module to v20.9 or later" in str(found[0]["message"])
        _fix_changes_nothing(cli, tmp_path)
    assert [f["rule"] for f in _check(cli, tmp_path, _call(
        "20.9.0", '    g = {\n      ami_type = "AL2023_x86_64_STANDARD"\n    }\n'))] == ["EKSP001"]


def test_cloudinit_pre_nodeadm_reaches_node_groups_only_from_v20_8_4(cli, tmp_path: Path) -> None:
    """Up to 20.8.3 the root module did not pass cloudinit_pre_nodeadm to its node groups (20.8.4, PR #2981)."""
    group = ('    g = {\n      platform = "al2023"\n      ami_type = "AL2023_x86_64_STANDARD"\n'
             '      cloudinit_pre_nodeadm = []\n    }\n')
    old = _check(cli, tmp_path, _call("20.8.3", group, kind="self_managed"))
    assert [f["rule"] for f in old] == ["EKSP008"]
    assert "cloudinit_pre_nodeadm does not reach the node with terraform-aws-eks v20.8.3" in str(old[0]["message"])
    _fix_changes_nothing(cli, tmp_path)
    new = _check(cli, tmp_path, _call("20.8.4", group, kind="self_managed"))
    assert "EKSP001" in [f["rule"] for f in new]


def test_v21_has_no_defaults_map_and_nothing_is_inherited_from_one(cli, tmp_path: Path) -> None:
    text = _call("~> 21.0", '    g = {}\n', args='  name = "c"\n\n  eks_managed_node_group_defaults = {\n'
                 '    cloudinit_pre_nodeadm = [{\n      content_type = "application/node.eks.aws"\n'
                 '      content      = "apiVersion: node.eks.aws/v1alpha1"\n    }]\n  }\n')
    found = _check(cli, tmp_path, text)
    assert [(f["rule"], f["node_group"]) for f in found] == [("EKSP008", None), ("EKSP001", "g")]
    assert "eks_managed_node_group_defaults is not an input of terraform-aws-eks v21.19.0" in \
        str(found[0]["message"])


def test_a_proxy_in_cloudinit_post_nodeadm_counts_with_a_custom_ami(cli, tmp_path: Path) -> None:
    """With a custom AMI and enable_bootstrap_user_data, post parts are in the user data and nodeadm merges them:
    a proxy there counts, and fix adds no second NodeConfig (only the dnf part)."""
    env = ("HTTP_PROXY: http://proxy.corp.example:3128\n                  HTTPS_PROXY: http://proxy.corp.example:3128"
           "\n                  NO_PROXY: NP\n                  http_proxy: http://proxy.corp.example:3128\n"
           "                  https_proxy: http://proxy.corp.example:3128\n                  no_proxy: NP\n")
    env = env.replace("NP", "localhost,127.0.0.1,169.254.169.254,10.0.0.0/16,10.100.0.0/16,172.20.0.0/16,.internal,"
                            ".eks.amazonaws.com")
    group = ('    custom = {\n      ami_type                   = "AL2023_x86_64_STANDARD"\n'
             '      ami_id                     = "ami-0123456789abcdef0"\n      enable_bootstrap_user_data = true\n'
             '      cloudinit_post_nodeadm = [{\n        content_type = "application/node.eks.aws"\n'
             '        content      = <<-EOT\n          apiVersion: node.eks.aws/v1alpha1\n          kind: NodeConfig\n'
             '          spec:\n            instance:\n              environment:\n                default:\n'
             f'                  {env}        EOT\n      }}]\n    }}\n')
    found = _check(cli, tmp_path, _call("~> 21.0", group, args='  name = "c"\n'))
    assert [f["rule"] for f in found] == ["EKSP013"]
    cli("fix", str(tmp_path), *FLAGS)
    text = (tmp_path / "main.tf").read_text(encoding="utf-8")
    assert text.count("kind: NodeConfig") == 1 and "eksproxy-gen-dnf.sh" in text
    # without a custom AMI the module does not add cloudinit_post_nodeadm to the user data: the proxy there is inert
    on_eks_ami = replaced(replaced(group, '      ami_id                     = "ami-0123456789abcdef0"\n', ""),
                          "      enable_bootstrap_user_data = true\n", "")
    assert "EKSP001" in [f["rule"] for f in _check(cli, tmp_path, _call("~> 21.0", on_eks_ami, '  name = "c"\n'))]


def test_releases_before_v19_are_said_to_be_unsupported_never_zero_findings(cli, tmp_path: Path) -> None:
    text = ('module "eks" {\n  source  = "terraform-aws-modules/eks/aws"\n  version = "17.24.0"\n\n'
            '  cluster_name = "c"\n  worker_groups = [{ instance_type = "m5.large" }]\n'
            '  node_groups = {\n    a = { desired_capacity = 1 }\n  }\n}\n')
    (tmp_path / "main.tf").write_text(text, encoding="utf-8")
    result = cli("check", str(tmp_path), "--no-cache")
    assert "0 findings" not in result.err
    assert "EKSP015 warning eks: terraform-aws-eks v17.24.0 is not supported by eksproxy-gen" in result.out
