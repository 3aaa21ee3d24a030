"""NodeConfig parts checked against nodeadm's API: each rule has cases that must fire and cases that must not.

The unit cases call the lint on a part's text; the end-to-end cases go
through ``check`` so the rule ids, the line a finding points at and the
managed-group rule are the ones a user sees.
"""

from __future__ import annotations

import email
import json
from pathlib import Path

import pytest

from eksproxy_gen.policy.nodeconfig_lint import lint, schema

from .conftest import FIXTURES, node_groups

HEADER = "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\n"


def rules(text: str) -> list[str]:
    return [problem.rule.id for problem in lint(text)]


# --- must fire ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "rule", "line", "words"), [
    (HEADER + "spec:\n  instance: [unclosed\n", "EKSP018", 5, "not valid YAML"),
    ("", "EKSP019", 0, "holds no YAML document"),
    ("kind: NodeConfig\nspec: {}\n", "EKSP019", 1, "has no apiVersion"),
    ("apiVersion: node.eks.aws/v1alpha2\nkind: NodeConfig\n", "EKSP019", 1, "v1alpha2, not node.eks.aws/v1alpha1"),
    ("apiVersion: node.eks.aws/v1alpha1\nkind: Nodeconfig\n", "EKSP019", 2, "kind Nodeconfig"),
    (HEADER + "spec:\n  instance:\n    environmentt:\n      default: {}\n", "EKSP020", 5,
     "spec.instance.environmentt is not a field nodeadm knows (did you mean environment?)"),
    (HEADER + "spec:\n  instance:\n    Environment:\n      default: {}\n", "EKSP020", 5, "did you mean environment?"),
    (HEADER + "metadata: {}\nspecs: {}\n", "EKSP020", 4, "specs is not a field nodeadm knows (did you mean spec?)"),
    (HEADER + "spec:\n  kubelet:\n    flag:\n      - --v=2\n", "EKSP020", 5, "did you mean flags?"),
    (HEADER + "spec:\n  featureGates:\n    InstanceIdNodeNam: true\n", "EKSP020", 5,
     "not a feature gate nodeadm knows (did you mean InstanceIdNodeName?)"),
    (HEADER + "spec:\n  instance:\n    environment:\n      default:\n        NO_PROXY: 123\n", "EKSP021", 7,
     'spec.instance.environment.default.NO_PROXY is a number where nodeadm expects a string; decoding fails and '
     'the node never joins; quote it: "123"'),
    (HEADER + "spec:\n  instance:\n    environment:\n      default:\n        HTTP_PROXY: true\n", "EKSP021", 7,
     "is a boolean where nodeadm expects a string"),
    (HEADER + "spec:\n  instance:\n    environment:\n      default:\n        - HTTP_PROXY=http://p:3128\n",
     "EKSP021", 7, "spec.instance.environment.default is a list where nodeadm expects a mapping"),
    (HEADER + "spec:\n  kubelet:\n    flags: --node-labels=a=b\n", "EKSP021", 5,
     "spec.kubelet.flags is a string where nodeadm expects a list"),
    ("- a\n- b\n", "EKSP021", 1, "not a YAML mapping"),
    (HEADER + "spec:\n%{ if var.on }\n  instance: {}\n%{ endif }\n", "EKSP022", 0, "%{ } template directives"),
    (HEADER + "spec: {}\n---\n" + HEADER + "spec: {}\n", "EKSP024", 5, "holds 2 YAML documents"),
])
def test_rule_fires_with_its_line_and_why(text: str, rule: str, line: int, words: str) -> None:
    problems = [p for p in lint(text) if p.rule.id == rule]
    assert problems, lint(text)
    assert problems[0].line == line
    assert words in problems[0].message


# --- must not fire --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    HEADER + "spec:\n  instance:\n    environment:\n      default:\n        NO_PROXY: \"123\"\n",
    HEADER + "spec:\n  instance:\n    environment:\n      default:\n        HTTPS_PROXY: ${var.proxy}\n"
             "        NO_PROXY: \"${join(\",\", var.no_proxy)}\"\n      containerd:\n        GODEBUG: x509sha1=1\n",
    HEADER + "spec:\n  kubelet:\n    config:\n      maxPods: 110\n      shutdownGracePeriod: 30s\n"
             "    flags:\n      - --node-labels=${var.labels}\n",
    HEADER + "spec:\n  cluster:\n    name: ${module.eks.cluster_name}\n    apiServerEndpoint: https://x\n"
             "    certificateAuthority: Y2E=\n    cidr: 10.100.0.0/16\n",
    HEADER + "spec:\n  containerd:\n    config: |\n      [plugins.\"io.containerd.grpc.v1.cri\"]\n"
             "        enable_cdi = true\n",
    HEADER + "spec:\n  featureGates:\n    InstanceIdNodeName: true\n",
    HEADER + "spec:\n  instance:\n    localStorage:\n      strategy: RAID0\n",
    "---\n" + HEADER + "spec: {}\n",
    HEADER + "spec:\n  instance:\n    environment:\n      default:\n        EMPTY: \"\"\n        NULL_IS_FINE:\n",
    HEADER + "spec:\n  instance:\n    environment:\n      default:\n        PCT: \"%%{not a directive}\"\n",
])
def test_valid_parts_raise_nothing(text: str) -> None:
    assert lint(text) == []


def test_interpolation_in_a_non_string_place_is_taken_as_the_scalar_terraform_renders() -> None:
    text = HEADER + "spec:\n  kubelet:\n    config:\n      maxPods: ${var.max_pods}\n"
    assert lint(text) == []
    quoted_list = HEADER + "spec:\n  kubelet:\n    flags: \"${var.flags}\"\n"
    assert rules(quoted_list) == ["EKSP021"]


def test_the_schema_names_the_release_it_was_written_from() -> None:
    data = schema()
    assert data["source"].startswith("https://github.com/awslabs/amazon-eks-ami/tree/v20260724/")
    assert data["release"] == "v20260724"
    assert len(data["commit"]) == 40
    assert data["types"][data["root"]]["spec"]["type"] == "NodeConfigSpec"


# --- through check ---------------------------------------------------------------------------------------------------

def _module(parts: str, kind: str = "eks_managed_node_groups", extra: str = "") -> str:
    return f"""module "eks" {{
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 21.0"

  name               = "c"
  kubernetes_version = "1.33"

  {kind} = {{
    general = {{
      ami_type = "AL2023_x86_64_STANDARD"
{extra}
      cloudinit_pre_nodeadm = [
{parts}
      ]
    }}
  }}
}}
"""


def _part(body: str) -> str:
    lines = "\n".join(("            " + line) if line else "" for line in body.split("\n"))
    return ("        {\n          content_type = \"application/node.eks.aws\"\n          content      = <<-EOT\n"
            f"{lines}\n          EOT\n        }},")


FLAGS = ("--proxy", "http://proxy.corp.example:3128", "--vpc-cidr", "10.0.0.0/16")
LINT_RULES = {"EKSP018", "EKSP019", "EKSP020", "EKSP021", "EKSP022", "EKSP023", "EKSP024"}


def _check(cli, tmp_path: Path, text: str) -> list[dict]:
    """Write the module, let ``fix`` add the proxy parts in front of the user's, then check."""
    (tmp_path / "main.tf").write_text(text, encoding="utf-8")
    fixed = cli("fix", str(tmp_path), *FLAGS)
    assert "eksproxy-gen:generated" in (tmp_path / "main.tf").read_text(), fixed.err
    result = cli("check", str(tmp_path), "--format", "json")
    found = json.loads(result.out)["findings"]
    assert result.code == (1 if any(f["severity"] == "error" for f in found) else 0)
    return found


def test_a_misspelt_field_in_a_user_part_is_reported_at_its_line(cli, tmp_path: Path) -> None:
    user = _part(HEADER.rstrip("\n") + "\nspec:\n  kubelet:\n    flag:\n      - --node-labels=team=a")
    found = _check(cli, tmp_path, _module(user))
    assert [f["rule"] for f in found] == ["EKSP020"]
    assert "spec.kubelet.flag is not a field nodeadm knows (did you mean flags?)" in found[0]["message"]
    text = (tmp_path / "main.tf").read_text().split("\n")
    assert text[found[0]["line"] - 1].strip() == "flag:"


def test_a_number_in_the_environment_is_an_error_even_with_the_proxy_set(cli, tmp_path: Path) -> None:
    user = _part(HEADER.rstrip("\n") + "\nspec:\n  instance:\n    environment:\n      default:\n        RETRIES: 3")
    found = _check(cli, tmp_path, _module(user))
    assert [f["rule"] for f in found] == ["EKSP021"]
    assert found[0]["severity"] == "error"


def test_the_generated_part_itself_passes_the_lint(cli, tmp_path: Path) -> None:
    assert _check(cli, tmp_path, _module("")) == []


def test_spec_cluster_is_suspicious_only_in_a_managed_group_on_an_eks_ami(cli, tmp_path: Path) -> None:
    cluster = _part(HEADER.rstrip("\n") + "\nspec:\n  cluster:\n    name: c\n    apiServerEndpoint: https://x\n"
                    "    certificateAuthority: Y2E=\n    cidr: 10.100.0.0/16")
    managed = _check(cli, tmp_path, _module(cluster))
    assert [f["rule"] for f in managed] == ["EKSP023"]
    assert "EKS adds its own NodeConfig" in managed[0]["message"]
    custom = _check(cli, tmp_path, _module(cluster, extra='      ami_id = "ami-0123456789abcdef0"'))
    assert [f["rule"] for f in custom if f["rule"] == "EKSP023"] == []
    self_managed = _check(cli, tmp_path, _module(cluster, kind="self_managed_node_groups"))
    assert [f["rule"] for f in self_managed if f["rule"] == "EKSP023"] == []


def test_a_templated_part_is_said_to_be_unread(cli, tmp_path: Path) -> None:
    """Terraform decides which lines a part with %{ } directives has: the group cannot be judged (EKSP010)."""
    templated = _part(HEADER.rstrip("\n") + "\nspec:\n%{ if true }\n  kubelet: {}\n%{ endif }")
    path = tmp_path / "main.tf"
    path.write_text(_module(templated), encoding="utf-8")
    found = json.loads(cli("check", str(tmp_path), "--format", "json").out)["findings"]
    assert [(f["rule"], f["severity"]) for f in found] == [("EKSP010", "error")]
    assert "cloudinit_pre_nodeadm[0].content is a template with %{ if } or %{ for } directives" in found[0]["message"]
    cli("fix", str(tmp_path), *FLAGS)
    assert path.read_text(encoding="utf-8") == _module(templated)


def test_a_templated_part_after_the_nodes_boot_is_said_to_be_unvalidated(cli, tmp_path: Path) -> None:
    templated = _part(HEADER.rstrip("\n") + "\nspec:\n%{ if true }\n  kubelet: {}\n%{ endif }")
    post = "      cloudinit_post_nodeadm = [\n" + templated + "\n      ]\n"
    text = _module("").replace("      cloudinit_pre_nodeadm = [", post + "      cloudinit_pre_nodeadm = [")
    found = _check(cli, tmp_path, text)
    assert [(f["rule"], f["severity"]) for f in found] == [("EKSP022", "warning")]


# --- what eksproxy-gen writes is clean -----------------------------------------------------------------------------

def _generated_nodeconfig_parts(path: Path) -> list[str]:
    """The text of each generated NodeConfig part written in this file (groups may be elsewhere in the folder)."""
    texts: dict[tuple[str, int], str] = {}
    for group in node_groups(path):
        for parts in (group.facts.parts, group.facts.post_parts):
            assert isinstance(parts, tuple)
            for part in parts:
                origin = part.origin
                if part.is_nodeconfig and part.text and "eksproxy-gen:generated" in part.text and origin \
                        and Path(origin.file).name == path.name:
                    texts[(origin.file, origin.first_line)] = part.text
    return list(texts.values())


GENERATED_PARTS = {"dynamic/locals.tf": 3, "dynamic/main.tf": 0, "families/al2.tf": 0, "families/bottlerocket.tf": 0,
                   "families/submodules.tf": 2, "families/v20_defaults.tf": 1, "families/v20_mixed.tf": 2,
                   "families/windows.tf": 0, "handwritten.tf": 1, "shapes.tf": 5}


@pytest.mark.parametrize("expected", sorted(p.relative_to(FIXTURES / "expected").as_posix()
                                            for p in (FIXTURES / "expected").rglob("*.tf")))
def test_every_generated_nodeconfig_in_the_golden_outputs_passes_the_lint(expected: str) -> None:
    texts = _generated_nodeconfig_parts(FIXTURES / "expected" / expected)
    assert len(texts) == GENERATED_PARTS[expected]
    for text in texts:
        assert lint(text) == [], text


@pytest.mark.parametrize("extra", [
    (),
    ("--ipv6",),
    ("--no-proxy", ".corp.example", "--no-proxy", "10.20.0.0/16", "--service-cidr", "172.16.0.0/16"),
])
@pytest.mark.parametrize("proxy", ["http://proxy.corp.example:3128", "tf:var.proxy_url",
                                   "http://user:p%40ss@proxy.corp.example:8080"])
def test_rendered_nodeconfig_passes_the_lint_for_every_option(cli, proxy: str, extra: tuple[str, ...]) -> None:
    document = cli("render", "--format", "mime", "--proxy", proxy, "--vpc-cidr", "tf:module.vpc.vpc_cidr_block",
                   *extra).out
    message = email.message_from_string(document)
    parts = [p.get_payload() for p in message.walk() if p.get_content_type() == "application/node.eks.aws"]
    assert len(parts) == 2
    for text in parts:
        assert lint(text) == [], text
