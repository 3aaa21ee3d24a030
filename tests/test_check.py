"""`eksproxy-gen check`: each rule fires where it should, with file, line, module and group."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import copy_fixture, replaced

PROXY_OK = """\
          apiVersion: node.eks.aws/v1alpha1
          kind: NodeConfig
          spec:
            instance:
              environment:
                default:
                  HTTP_PROXY: http://proxy:3128
                  HTTPS_PROXY: http://proxy:3128
                  NO_PROXY: {no_proxy}
                  http_proxy: http://proxy:3128
                  https_proxy: http://proxy:3128
                  no_proxy: {no_proxy}
"""
GOOD_NO_PROXY = ("localhost,127.0.0.1,169.254.169.254,10.0.0.0/16,10.100.0.0/16,172.20.0.0/16,.internal,"
                 ".eks.amazonaws.com")
DNF = """\
      {
        content_type = "text/x-shellscript"
        content      = <<-EOT
          #!/bin/bash
          echo proxy=http://proxy:3128 >> /etc/dnf/dnf.conf
        EOT
      },
"""


def module(groups: str, version: str = "~> 21.0", extra: str = "") -> str:
    return (f'module "eks" {{\n  source  = "terraform-aws-modules/eks/aws"\n  version = "{version}"\n{extra}\n'
            f"  eks_managed_node_groups = {{\n{groups}\n  }}\n}}\n")


def group(name: str, body: str = "", parts: str | None = None) -> str:
    text = f"    {name} = {{\n{body}"
    if parts is not None:
        text += f"      cloudinit_pre_nodeadm = [\n{parts}      ]\n"
    return text + "    }\n"


def nodeconfig(no_proxy: str = GOOD_NO_PROXY, env: str | None = None) -> str:
    body = env if env is not None else PROXY_OK.format(no_proxy=no_proxy)
    return ('      {\n        content_type = "application/node.eks.aws"\n        content      = <<-EOT\n'
            f"{body}        EOT\n      }},\n")


def run_check(cli, tmp_path: Path, text: str, *extra: str) -> tuple[int, list[dict]]:
    target = tmp_path / "main.tf"
    target.write_text(text, encoding="utf-8")
    result = cli("check", str(target), "--format", "json", *extra)
    data = json.loads(result.out)
    return result.code, data["findings"]


def rules(findings: list[dict]) -> list[str]:
    return sorted(f["rule"] for f in findings)


def test_correct_configuration_passes(cli, tmp_path: Path) -> None:
    code, found = run_check(cli, tmp_path, module(group("ok", parts=nodeconfig() + DNF)))
    assert (code, found) == (0, [])


def test_missing_proxy_is_one_finding_at_the_group_line(cli, tmp_path: Path) -> None:
    code, found = run_check(cli, tmp_path, module(group("nothing", '      min_size = 1\n')))
    assert code == 1
    assert found == [{
        "rule": "EKSP001", "severity": "error", "file": "main.tf", "line": 6, "module": "eks",
        "node_group": "nothing", "message": "no proxy configuration in cloudinit_pre_nodeadm; nodeadm, containerd "
                                            "and kubelet will try to reach AWS and registries directly",
        "map": "eks_managed_node_groups", "module_file": "main.tf", "module_line": 1,
    }]
    assert "nodeadm" in found[0]["message"]


def test_proxy_only_in_a_shell_part_leaves_nodeadm_and_kubelet_uncovered(cli, tmp_path: Path) -> None:
    script = ('      {\n        content_type = "text/x-shellscript"\n        content      = <<-EOT\n'
              "          #!/bin/bash\n"
              "          mkdir -p /etc/systemd/system/containerd.service.d\n"
              "          cat > /etc/systemd/system/containerd.service.d/proxy.conf <<EOF\n"
              "          [Service]\n"
              f'          Environment="HTTP_PROXY=http://proxy:3128" "HTTPS_PROXY=http://proxy:3128" '
              f'"NO_PROXY={GOOD_NO_PROXY}"\n'
              f'          Environment="http_proxy=http://proxy:3128" "https_proxy=http://proxy:3128" '
              f'"no_proxy={GOOD_NO_PROXY}"\n'
              "          EOF\n        EOT\n      },\n")
    _, found = run_check(cli, tmp_path, module(group("script", parts=script + DNF)))
    assert rules(found) == ["EKSP002", "EKSP004"]


def test_environment_for_one_unit_only(cli, tmp_path: Path) -> None:
    _, found = run_check(cli, tmp_path, str(copy_fixture("partial.tf", tmp_path).read_text()))
    units_only = [f for f in found if f["node_group"] == "units_only" and f["file"] == "main.tf"]
    assert rules(units_only) == ["EKSP002", "EKSP004", "EKSP013"]


def test_variables_missing_or_differing_in_case(cli, tmp_path: Path) -> None:
    env = ("          apiVersion: node.eks.aws/v1alpha1\n          kind: NodeConfig\n          spec:\n"
           "            instance:\n              environment:\n                default:\n"
           "                  HTTP_PROXY: http://proxy:3128\n                  http_proxy: http://other:3128\n"
           f"                  NO_PROXY: {GOOD_NO_PROXY}\n                  no_proxy: {GOOD_NO_PROXY}\n")
    _, found = run_check(cli, tmp_path, module(group("vars", parts=nodeconfig(env=env) + DNF)))
    assert rules(found) == ["EKSP005"]
    message = found[0]["message"]
    assert "HTTPS_PROXY is not set" in message and "HTTP_PROXY and http_proxy differ" in message


@pytest.mark.parametrize(("missing", "reason"), [
    ("localhost", "loopback"), ("127.0.0.1", "loopback"), ("169.254.169.254", "IMDS"),
    (".internal", "EC2 private DNS"), ("10.100.0.0/16", "service CIDR"), ("172.20.0.0/16", "service CIDR"),
])
def test_each_missing_no_proxy_entry_is_its_own_finding(cli, tmp_path: Path, missing: str, reason: str) -> None:
    no_proxy = ",".join(e for e in GOOD_NO_PROXY.split(",") if e != missing)
    _, found = run_check(cli, tmp_path, module(group("np", parts=nodeconfig(no_proxy) + DNF)))
    assert rules(found) == ["EKSP006"]
    assert missing in found[0]["message"] and reason in found[0]["message"]


def test_configured_vpc_cidrs_are_required(cli, tmp_path: Path) -> None:
    (tmp_path / ".eksproxy-gen.toml").write_text('vpc_cidrs = ["10.0.0.0/16", "100.64.0.0/16"]\n')
    _, found = run_check(cli, tmp_path, module(group("np", parts=nodeconfig() + DNF)))
    assert [(f["rule"], "100.64.0.0/16" in f["message"]) for f in found] == [("EKSP006", True)]


def test_a_wider_cidr_covers_a_narrower_one(cli, tmp_path: Path) -> None:
    (tmp_path / ".eksproxy-gen.toml").write_text('vpc_cidrs = ["10.0.5.0/24"]\n')
    code, found = run_check(cli, tmp_path, module(group("np", parts=nodeconfig() + DNF)))
    assert (code, found) == (0, [])


def test_no_vpc_cidr_and_none_configured_is_a_warning(cli, tmp_path: Path) -> None:
    no_proxy = "localhost,127.0.0.1,169.254.169.254,10.100.0.0/16,172.20.0.0/16,.internal,.eks.amazonaws.com"
    code, found = run_check(cli, tmp_path, module(group("np", parts=nodeconfig(no_proxy) + DNF)))
    assert code == 0
    assert rules(found) == ["EKSP016"]


def test_service_cidr_comes_from_the_module_argument(cli, tmp_path: Path) -> None:
    text = module(group("np", parts=nodeconfig() + DNF), extra='  service_ipv4_cidr = "192.168.128.0/20"')
    _, found = run_check(cli, tmp_path, text)
    assert [f["message"] for f in found] == ["NO_PROXY lacks 192.168.128.0/20 (cluster service CIDR)"]


def test_v20_argument_name_and_expressions(cli, tmp_path: Path) -> None:
    no_proxy = "localhost,127.0.0.1,169.254.169.254,10.0.0.0/16,${var.svc},.internal,.eks.amazonaws.com"
    text = module(group("np", '      ami_type = "AL2023_x86_64_STANDARD"\n', parts=nodeconfig(no_proxy) + DNF),
                  version="~> 20.0", extra="  cluster_service_ipv4_cidr = var.svc")
    code, found = run_check(cli, tmp_path, text)
    assert (code, found) == (0, [])


def test_blanket_amazonaws_is_a_warning_unless_asked_for(cli, tmp_path: Path) -> None:
    text = module(group("np", parts=nodeconfig(GOOD_NO_PROXY + ",.amazonaws.com") + DNF))
    code, found = run_check(cli, tmp_path, text)
    assert (code, rules(found)) == (0, ["EKSP007"])
    (tmp_path / ".eksproxy-gen.toml").write_text('no_proxy = [".amazonaws.com"]\n')
    assert run_check(cli, tmp_path, text) == (0, [])


def test_configured_proxy_differs(cli, tmp_path: Path) -> None:
    (tmp_path / ".eksproxy-gen.toml").write_text('proxy = "http://new-proxy:3128"\n')
    _, found = run_check(cli, tmp_path, module(group("np", parts=nodeconfig() + DNF)))
    assert rules(found) == ["EKSP011"]


def test_old_ami_release_is_a_warning(cli, tmp_path: Path) -> None:
    body = '      ami_release_version = "1.31.3-20251023"\n'
    code, found = run_check(cli, tmp_path, module(group("old", body, parts=nodeconfig() + DNF)))
    assert (code, rules(found)) == (0, ["EKSP012"])


def test_handwritten_script_defects_are_named_one_by_one(cli, tmp_path: Path) -> None:
    target = copy_fixture("handwritten.tf", tmp_path)
    result = cli("check", str(target), "--format", "json")
    found = json.loads(result.out)["findings"]
    messages = " | ".join(f["message"] for f in found)
    assert rules(found) == ["EKSP002", "EKSP004", "EKSP006", "EKSP006", "EKSP007", "EKSP013",
                            "EKSP014", "EKSP014", "EKSP014", "EKSP014", "EKSP014"]
    lines = {f["line"] for f in found if f["rule"] == "EKSP014"}
    assert lines == {17, 22, 23, 31, 34}, "each defect points at its own line inside the heredoc"
    for needle in ("nodeadm.service", "/etc/environment", "/etc/yum.conf", "set -x", "Cycle", ".internal",
                   "172.20.0.0/16", ".amazonaws.com"):
        assert needle in messages
    assert "Winter2025" not in result.out


def test_only_terraform_aws_eks_modules_are_read(cli, tmp_path: Path) -> None:
    """Other modules are not judged; those that take node groups are said to be not judged (never "0 findings"
    as if all were well), in the JSON notices and on stderr."""
    target = copy_fixture("not_eks.tf", tmp_path)
    result = cli("check", str(target), "--format", "json")
    data = json.loads(result.out)
    assert (result.code, data["findings"], data["modules"], data["errors"]) == (0, [], [], [])
    assert [(n["line"], n["kind"], n["message"].split(" is not judged")[0]) for n in data["notices"]] == [
        (6, "not-judged", "module.pod_identity (terraform-aws-modules/eks-pod-identity/aws)"),
        (13, "not-judged", "module.other_fork (git::https://example.com/acme/terraform-aws-eks-wrapper.git?ref=v1)")]
    assert "0 findings (0 errors, 0 warnings) in 1 file; 2 not judged (see the warnings)." in result.err


@pytest.mark.parametrize("source", [
    "terraform-aws-modules/eks/aws",
    "registry.terraform.io/terraform-aws-modules/eks/aws",
    "git::https://github.com/terraform-aws-modules/terraform-aws-eks.git?ref=v21.3.0",
    "github.com/terraform-aws-modules/terraform-aws-eks?ref=v21.1.0",
    "git::https://github.com/terraform-aws-modules/terraform-aws-eks.git?depth=1&ref=v21.1.0",
    "git::ssh://git@github.com/terraform-aws-modules/terraform-aws-eks.git?ref=v21.1.0",
    "git@github.com:terraform-aws-modules/terraform-aws-eks.git?ref=v21.1.0",
    "app.terraform.io/acme/eks/aws",
    "../modules/terraform-aws-eks",
])
def test_module_sources_that_are_recognised(cli, tmp_path: Path, source: str) -> None:
    copy = tmp_path.parent / "modules" / "terraform-aws-eks"
    copy.mkdir(parents=True, exist_ok=True)
    (copy / "variables.tf").write_text('variable "kubernetes_version" {}\n', encoding="utf-8")
    text = replaced(module(group("g", "      min_size = 1\n"), extra='  name = "c"'),
                    "terraform-aws-modules/eks/aws", source)
    _, found = run_check(cli, tmp_path, text)
    assert rules(found) == ["EKSP001"]


def test_ami_type_unset_on_v20_is_not_al2023(cli, tmp_path: Path) -> None:
    _, found = run_check(cli, tmp_path, module(group("g", "      min_size = 1\n"), version="~> 20.0"))
    assert rules(found) == ["EKSP001", "EKSP017"]
    assert "pre_bootstrap_user_data" in found[0]["message"]


def test_text_output_and_exit_codes(cli, tmp_path: Path) -> None:
    copy_fixture("shapes.tf", tmp_path)
    copy_fixture("broken.tf", tmp_path)
    result = cli("check", str(tmp_path))
    assert result.code == 1
    lines = result.out.splitlines()
    assert any(line.endswith('broken.tf:5: error: "min_size =" has no value') for line in lines)
    assert any("shapes.tf:22: EKSP001 error eks.gpu-pool: " in line for line in lines)
    assert len(lines) == 6
    assert result.err == "5 findings (5 errors, 0 warnings) in 2 files; 1 file could not be processed.\n"


def test_unparseable_file_is_reported_and_others_still_checked(cli, tmp_path: Path) -> None:
    copy_fixture("broken.tf", tmp_path)
    copy_fixture("shapes.tf", tmp_path)
    result = cli("check", str(tmp_path), "--format", "json")
    data = json.loads(result.out)
    assert [e["line"] for e in data["errors"]] == [5]
    assert data["errors"][0]["file"].endswith("broken.tf")
    assert len(data["findings"]) == 5


def test_terraform_folders_are_skipped(cli, tmp_path: Path) -> None:
    hidden = tmp_path / ".terraform" / "modules" / "eks"
    hidden.mkdir(parents=True)
    copy_fixture("shapes.tf", hidden)
    (tmp_path / "main.tf.json").write_text("{}", encoding="utf-8")
    result = cli("check", str(tmp_path))
    assert (result.code, result.out) == (0, "")
    assert result.err == (f"eksproxy-gen: warning: no Terraform files (*.tf, *.tofu) in {tmp_path}; 1 *.tf.json "
                          "file(s) found, which eksproxy-gen does not read\n")


def test_missing_path_is_a_usage_error(cli, tmp_path: Path) -> None:
    result = cli("check", str(tmp_path / "nope"))
    assert result.code == 2
    assert "no such file or folder" in result.err
