"""Never silent, never misleading: what was not judged is said in every format, advice fits the family, and a
value Terraform computes is named as such (issue: trust on shapes nobody here wrote, section 5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import fmt_clean

FLAGS = ("--proxy", "http://proxy.corp.example:3128", "--vpc-cidr", "10.0.0.0/16", "--no-cache")
HEAD = 'module "eks" {\n  source  = "terraform-aws-modules/eks/aws"\n  version = "~> 21.0"\n\n  name = "c"\n'

RAW = '''resource "aws_launch_template" "nodes" {
  name_prefix = "nodes-"
  user_data   = base64encode("#!/bin/bash\\necho hi\\n")
}

resource "aws_eks_node_group" "workers" {
  cluster_name  = "c"
  node_role_arn = "arn:aws:iam::123456789012:role/nodes"
  subnet_ids    = ["subnet-1"]
  launch_template {
    id      = aws_launch_template.nodes.id
    version = "$Latest"
  }
}

module "wrapper" {
  source = "./modules/platform"

  eks_managed_node_groups = {
    general = {}
  }
}
'''


@pytest.fixture
def unjudged(tmp_path: Path) -> Path:
    (tmp_path / "main.tf").write_text(RAW, encoding="utf-8")
    return tmp_path


def test_what_is_not_judged_is_said_in_text_and_never_passes_for_zero_findings(cli, unjudged: Path) -> None:
    result = cli("check", str(unjudged), "--no-cache")
    assert result.code == 0
    assert "main.tf:6: warning: aws_eks_node_group.workers is not judged" in result.err
    assert "main.tf:16: warning: module.wrapper (./modules/platform) is not judged: it takes eks_managed_node_groups" \
        in result.err
    assert result.err.rstrip().endswith("0 findings (0 errors, 0 warnings) in 1 file; 2 not judged (see the "
                                        "warnings).")


@pytest.mark.parametrize("fmt", ["json", "sarif", "github", "gitlab"])
def test_what_is_not_judged_is_in_every_report_format(cli, unjudged: Path, fmt: str) -> None:
    out = cli("check", str(unjudged), "--no-cache", "--format", fmt).out
    if fmt == "json":
        said = [(n["line"], n["kind"]) for n in json.loads(out)["notices"]]
        assert said == [(6, "not-judged"), (16, "not-judged")]
    elif fmt == "sarif":
        notes = json.loads(out)["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        assert [(n["level"], n["locations"][0]["physicalLocation"]["region"]["startLine"]) for n in notes] == \
            [("warning", 6), ("warning", 16)]
        assert all(n["message"]["text"].startswith("not judged: ") for n in notes)
    elif fmt == "github":
        lines = [line for line in out.splitlines() if line.startswith("::warning ")]
        assert [line.split(",")[1] for line in lines] == ["line=6", "line=16"]
        assert "not judged" in lines[0]
    else:
        issues = json.loads(out)
        assert [(i["severity"], i["location"]["lines"]["begin"]) for i in issues] == [("info", 6), ("info", 16)]


def test_an_ipv6_cluster_gets_its_ipv6_service_range_not_the_ipv4_defaults(cli, tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(HEAD + '  ip_family = "ipv6"\n\n  eks_managed_node_groups = {\n    g = {}\n'
                                             "  }\n}\n", encoding="utf-8")
    found = json.loads(cli("check", str(tmp_path), "--format", "json", "--no-cache").out)["findings"]
    assert [f["rule"] for f in found] == ["EKSP001"]
    assert cli("fix", str(tmp_path), *FLAGS).code == 0
    text = (tmp_path / "main.tf").read_text(encoding="utf-8")
    no_proxy = next(line for line in text.splitlines() if "NO_PROXY:" in line)
    assert "fc00::/7" in no_proxy and "fd00:ec2::254" in no_proxy
    assert "10.100.0.0/16" not in no_proxy and "172.20.0.0/16" not in no_proxy
    assert json.loads(cli("check", str(tmp_path), "--format", "json", "--no-cache").out)["findings"] == []


GROUPS_WITH_ONE_PROXY = HEAD + '''
  self_managed_node_groups = {
    br = {
      ami_type             = "BOTTLEROCKET_x86_64"
      bootstrap_extra_args = <<-EOT
        [settings.network]
        https-proxy = "http://corp-proxy.example:3128"
      EOT
    }
    al = {
      cloudinit_pre_nodeadm = [{
        content_type = "text/x-shellscript"
        content      = <<-EOT
          #!/bin/bash
          export HTTPS_PROXY=http://corp-proxy.example:3128
        EOT
      }]
    }
  }
}
'''


def test_without_a_configured_proxy_fix_takes_the_one_every_group_uses_and_says_so(cli, tmp_path: Path) -> None:
    path = tmp_path / "main.tf"
    path.write_text(GROUPS_WITH_ONE_PROXY, encoding="utf-8")
    result = cli("fix", str(tmp_path), "--no-cache", "--format", "json")
    data = json.loads(result.out)
    assert result.code == 0, result.err
    assert sorted(g["node_group"] for g in data["fixed"]) == ["al", "br"]
    assert any("no proxy is configured: http://corp-proxy.example:3128, the proxy every group of the folder already "
               "uses, is written" in n["note"] for n in data["notes"])
    assert "http://corp-proxy.example:3128" in path.read_text(encoding="utf-8")
    assert fmt_clean(path)


def test_without_a_configured_proxy_groups_that_disagree_are_a_usage_error(cli, tmp_path: Path) -> None:
    path = tmp_path / "main.tf"
    path.write_text(GROUPS_WITH_ONE_PROXY.replace("export HTTPS_PROXY=http://corp-proxy.example:3128",
                                                  "export HTTPS_PROXY=http://other-proxy.example:3128"),
                    encoding="utf-8")
    before = path.read_bytes()
    result = cli("fix", str(tmp_path), "--no-cache")
    assert result.code == 2
    assert "its groups use different ones (http://corp-proxy.example:3128, http://other-proxy.example:3128)" \
        in result.err
    assert path.read_bytes() == before


@pytest.mark.parametrize(("family", "fmt", "wanted"), [
    ("al2023", "hcl", "cloudinit_pre_nodeadm = ["),
    ("al2", "hcl", "pre_bootstrap_user_data = <<-EOT\n  #!/bin/bash\n  # >>> eksproxy-gen:generated"),
    ("al2", "mime", "Content-Type: text/x-shellscript\nMime-Version: 1.0\n\n#!/bin/bash\n# >>> eksproxy-gen:generated"),
    ("bottlerocket", "hcl", 'bootstrap_extra_args = <<-EOT\n  [settings.network]\n  # eksproxy-gen:generated'),
    ("bottlerocket", "mime", '[settings.network]\n# eksproxy-gen:generated'),
])
def test_render_prints_what_fix_writes_for_every_family(cli, family: str, fmt: str, wanted: str) -> None:
    result = cli("render", *FLAGS[:4], "--family", family, "--format", fmt)
    assert result.code == 0, result.err
    assert wanted in result.out
    assert ("cloudinit_pre_nodeadm" in result.out) is (family == "al2023")


def test_render_group_shows_each_family_s_own_user_data(cli, tmp_path: Path) -> None:
    path = tmp_path / "main.tf"
    path.write_text(GROUPS_WITH_ONE_PROXY, encoding="utf-8")
    br = cli("render", "--group", f"{path}:eks.br")
    assert br.code == 0 and br.out == '[settings.network]\nhttps-proxy = "http://corp-proxy.example:3128"\n\n'
    assert "application/node.eks.aws" not in br.out


def test_render_group_of_a_managed_al2_group_shows_the_bootstrap_script_eks_adds(cli, tmp_path: Path) -> None:
    """EKS adds a bootstrap.sh script to a managed AL2 group's user data, never a NodeConfig (which only AL2023's
    nodeadm reads); the MIME document showed a NodeConfig."""
    path = tmp_path / "main.tf"
    path.write_text(HEAD + '\n  eks_managed_node_groups = {\n    old = {\n      ami_type = "AL2_x86_64"\n'
                    '      pre_bootstrap_user_data = <<-EOT\n        #!/bin/bash\n        echo tuned\n      EOT\n'
                    "    }\n  }\n}\n", encoding="utf-8")
    result = cli("render", "--format", "mime", "--group", f"{path}:eks.old")
    assert result.code == 0, result.err
    assert "application/node.eks.aws" not in result.out and "kind: NodeConfig" not in result.out
    assert ("X-Eksproxy-Gen-Note: added by EKS when it launches the node, not written by Terraform\n"
            "Content-Transfer-Encoding: 7bit\nContent-Type: text/x-shellscript\nMime-Version: 1.0\n\n"
            "#!/bin/bash\nset -ex\n/etc/eks/bootstrap.sh CLUSTER_NAME") in result.out
    assert result.out.index("echo tuned") < result.out.index("/etc/eks/bootstrap.sh")
    generated = cli("render", *FLAGS[:4], "--family", "al2", "--format", "mime")
    assert "kind: NodeConfig" not in generated.out and "/etc/eks/bootstrap.sh CLUSTER_NAME" in generated.out


def test_advice_fits_the_family(cli, tmp_path: Path) -> None:
    """A Bottlerocket group whose TOML Terraform computes is told about its TOML, never cloudinit_pre_nodeadm."""
    (tmp_path / "main.tf").write_text(HEAD + '\n  eks_managed_node_groups = {\n    br = {\n'
                                             '      ami_type             = "BOTTLEROCKET_x86_64"\n'
                                             "      bootstrap_extra_args = var.toml\n    }\n  }\n}\n",
                                      encoding="utf-8")
    message = json.loads(cli("check", str(tmp_path), "--format", "json", "--no-cache").out)["findings"][0]["message"]
    assert "eksproxy-gen render --family bottlerocket" in message and "cloudinit_pre_nodeadm" not in message


def test_a_toml_value_terraform_computes_is_named_not_called_invalid_toml(cli, tmp_path: Path) -> None:
    toml = ('      bootstrap_extra_args = <<-EOT\n        [settings.network]\n'
            '        https-proxy = "${var.proxy_url}"\n        no-proxy = ${jsonencode(local.no_proxy)}\n      EOT\n')
    path = tmp_path / "main.tf"
    path.write_text(HEAD + '\n  eks_managed_node_groups = {\n    br = {\n      ami_type = "BOTTLEROCKET_x86_64"\n'
                    + toml + "    }\n  }\n}\n", encoding="utf-8")
    found = json.loads(cli("check", str(tmp_path), "--format", "json", "--no-cache").out)["findings"]
    assert [f["rule"] for f in found] == ["EKSP010"]
    assert "[settings.network] no-proxy is ${jsonencode(local.no_proxy)}, which only Terraform can compute" in \
        found[0]["message"]
    assert "not valid TOML" not in found[0]["message"]
    before = path.read_bytes()
    cli("fix", str(tmp_path), *FLAGS)
    assert path.read_bytes() == before


def test_a_helm_template_of_a_node_class_is_said_not_judged_at_its_first_braces(cli, tmp_path: Path) -> None:
    """A node class whose YAML holds ``{{`` (even inside a quoted annotation) is a Helm template only Helm can
    render: the run names it as not judged, in the JSON report and the summary, instead of warning that there
    are no Terraform files (which names the wrong reason) or passing it as clean."""
    (tmp_path / "nodeclass.yaml").write_text(
        "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata:\n  name: default\n  annotations:\n"
        '    runbook: "see {{ .Values.docs }} in the chart README"\nspec:\n  amiSelectorTerms:\n'
        "    - alias: al2023@latest\n  role: KarpenterNodeRole\n")
    result = cli("check", str(tmp_path), "--format", "json")
    assert result.code == 0
    notices = json.loads(result.out)["notices"]
    assert [(n["file"], n["line"], n["kind"]) for n in notices] == [("nodeclass.yaml", 6, "not-judged")]
    assert notices[0]["message"].startswith("not judged: a Helm template names EC2NodeClass here")
    assert "no Terraform files" not in result.err
    (tmp_path / "main.tf").write_text('locals {\n  a = 1\n}\n')
    err = cli("check", str(tmp_path)).err
    assert "1 not judged (see the warnings)" in err and "nodeclass.yaml:6: warning: not judged" in err
