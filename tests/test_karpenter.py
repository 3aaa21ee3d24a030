"""Karpenter: node classes wherever they are written, and the controller's environment, checked and fixed.

Each shape real repositories use (terraform-aws-eks's examples/karpenter, the
EKS blueprints' patterns, data-on-eks) has a test: what check says, what fix
writes, that a second fix changes nothing, and that nothing but the node
class's userData (or the chart's controller.env) changes. Karpenter itself
cannot run here; its merge rule (the user's parts in order, its own NodeConfig
last) is the one its source and golden files show, applied by cloud-init's
parser in test_userdata.py for the same MIME documents.
"""

from __future__ import annotations

import difflib
import json
import os
import tomllib
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eksproxy_gen.policy import nodeconfig
from eksproxy_gen.policy.nodeconfig_lint import lint
from eksproxy_gen.userdata import split

from .conftest import fmt_clean, in_ci, sandbox_bash

FLAGS = ("--proxy", "http://proxy.corp.example:3128", "--vpc-cidr", "10.0.0.0/16")
NODE_POOL = """\
---
apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: default
spec:
  template:
    spec:
      nodeClassRef:
        group: karpenter.k8s.aws
        kind: EC2NodeClass
        name: default
"""


def nodeclass(alias: str, user_data: str | None = None, extra: str = "") -> str:
    text = ("apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata:\n  name: default\nspec:\n"
            "  role: KarpenterNodeRole  # the node role\n  amiSelectorTerms:\n"
            f"    - alias: {alias}\n  subnetSelectorTerms:\n    - tags:\n        karpenter.sh/discovery: demo\n{extra}")
    if user_data is not None:
        text += "  userData: |\n" + "".join(f"    {line}\n" if line else "\n" for line in user_data.split("\n")[:-1])
    return text + NODE_POOL


def check(cli, path: Path) -> list[dict]:
    result = cli("check", str(path), "--format", "json")
    return json.loads(result.out)["findings"]


def fix(cli, path: Path, *extra: str) -> dict:
    return json.loads(cli("fix", str(path), "--format", "json", *FLAGS, *extra).out)


def only_insertions(before: str, after: str) -> list[str]:
    """The lines fix added; fails when it removed or changed any line of the user's."""
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    assert not [line for line in diff if line.startswith("- ")], "fix removed or changed a line"
    return [line[2:] for line in diff if line.startswith("+ ")]


def user_data_of(path: Path, name: str = "default") -> str:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d and d.get("kind") == "EC2NodeClass"]
    return next(d for d in docs if d["metadata"]["name"] == name)["spec"]["userData"]


# --- YAML files ------------------------------------------------------------------------------------------------------

def test_an_al2023_node_class_without_user_data_gets_a_mime_document(cli, tmp_path: Path) -> None:
    path = tmp_path / "karpenter.yaml"
    before = nodeclass("al2023@latest")
    path.write_text(before)
    found = check(cli, tmp_path)
    assert [(f["rule"], f["line"], f["module"], f["node_group"]) for f in found] == \
        [("EKSP001", 4, "EC2NodeClass", "default")]
    assert "no proxy configuration in spec.userData" in found[0]["message"]
    result = fix(cli, tmp_path)
    assert result["files_changed"] == [str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd())
                                       else str(path)]
    after = path.read_text()
    added = only_insertions(before, after)
    assert added[0] == "  userData: |"
    document = split(user_data_of(path))
    assert document is not None
    assert [p.content_type for p in document.parts] == ["application/node.eks.aws", "text/x-shellscript"]
    assert lint(document.parts[0].content) == []
    environment = nodeconfig.environment(nodeconfig.read(document.parts[0].content))
    assert environment["default"]["HTTPS_PROXY"] == "http://proxy.corp.example:3128"
    assert check(cli, tmp_path) == []
    assert cli("fix", str(tmp_path), *FLAGS).err.strip() == "nothing to fix; 0 left."
    assert path.read_text() == after


@pytest.mark.parametrize("written", ["  userData: >\n    echo hello\n", "  userData: >-  # folded\n    echo hello\n\n",
                                     "  userData:\n"])
def test_a_folded_or_empty_user_data_becomes_a_literal_block_and_the_next_key_stays(cli, tmp_path: Path,
                                                                                    written: str) -> None:
    """A folded block would join the script's lines, and an empty value needs a space before ``|``."""
    path = tmp_path / "karpenter.yaml"
    before = nodeclass("al2023@latest", extra=written + "  tags:\n    team: payments\n")
    path.write_text(before)
    # "echo hello" without #! becomes a shell part Karpenter passes on, which cloud-init cannot run (EKSP027)
    assert [f["rule"] for f in check(cli, tmp_path)] == (["EKSP001", "EKSP027"] if "echo" in written else ["EKSP001"])
    assert fix(cli, tmp_path)["files_changed"]
    old, new = (next(d for d in yaml.safe_load_all(text) if d["kind"] == "EC2NodeClass")["spec"]
                for text in (before, path.read_text()))
    user_data = new.pop("userData")
    old.pop("userData")
    assert new == old
    assert ("echo hello" in user_data) is ("echo" in written)
    # the user's script is kept byte for byte, so it still cannot run: fix never adds a #! on the user's behalf
    assert [f["rule"] for f in check(cli, tmp_path)] == (["EKSP027"] if "echo" in written else [])


def test_a_mime_user_data_keeps_the_users_parts_byte_for_byte(cli, tmp_path: Path) -> None:
    user = ('MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="//"\n\n--//\n'
            'Content-Type: text/x-shellscript; charset="us-ascii"\n\n#!/bin/bash\necho "custom step"\n\n--//--\n')
    path = tmp_path / "nodeclass.yml"
    before = nodeclass("al2023@v20251120", user)
    path.write_text(before)
    fix(cli, tmp_path)
    only_insertions(before, path.read_text())
    document = split(user_data_of(path))
    assert document is not None and document.boundary == "//"
    assert [p.content_type for p in document.parts] == ["application/node.eks.aws", "text/x-shellscript",
                                                        'text/x-shellscript; charset="us-ascii"']
    assert document.parts[2].content == '#!/bin/bash\necho "custom step"\n'
    assert check(cli, tmp_path) == []


def test_a_bare_nodeconfig_becomes_a_part_after_the_proxy(cli, tmp_path: Path) -> None:
    user = ("apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n    config:\n"
            "      maxPods: 110\n")
    path = tmp_path / "karpenter.yaml"
    path.write_text(nodeclass("al2023@latest", user))
    fix(cli, tmp_path)
    document = split(user_data_of(path))
    assert document is not None
    assert [p.content for p in document.parts][-1] == user
    assert [p.content_type for p in document.parts][-1] == "application/node.eks.aws"
    assert check(cli, tmp_path) == []


def test_a_user_nodeconfig_with_a_misspelt_field_is_linted(cli, tmp_path: Path) -> None:
    user = "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n    flag:\n      - --v=2\n"
    path = tmp_path / "karpenter.yaml"
    path.write_text(nodeclass("al2023@latest", user))
    found = {f["rule"]: f for f in check(cli, tmp_path)}
    assert "EKSP020" in found
    assert path.read_text().split("\n")[found["EKSP020"]["line"] - 1].strip() == "flag:"


def test_bottlerocket_settings_are_merged_into_the_toml(cli, tmp_path: Path) -> None:
    user = "[settings.kubernetes]\nmax-pods = 110\n\n[settings.network]\nhostname = \"node\"\n"
    path = tmp_path / "karpenter.yaml"
    before = nodeclass("bottlerocket@latest", user)
    path.write_text(before)
    assert [f["rule"] for f in check(cli, tmp_path)] == ["EKSP009"]
    fix(cli, tmp_path)
    only_insertions(before, path.read_text())
    settings = tomllib.loads(user_data_of(path))["settings"]
    assert settings["kubernetes"] == {"max-pods": 110}
    assert settings["network"]["hostname"] == "node"
    assert settings["network"]["https-proxy"] == "http://proxy.corp.example:3128"
    assert "10.0.0.0/16" in settings["network"]["no-proxy"]
    assert check(cli, tmp_path) == []


def test_an_al2_node_class_gets_the_drop_in_block_which_runs(cli, tmp_path: Path) -> None:
    path = tmp_path / "karpenter.yaml"
    path.write_text(nodeclass("al2@latest", "#!/bin/bash\necho tuning > /tmp/tuned\n"))
    assert {f["rule"] for f in check(cli, tmp_path)} == {"EKSP001", "EKSP017"}
    fix(cli, tmp_path)
    script = user_data_of(path)
    assert script.startswith("#!/bin/bash\n# >>> eksproxy-gen:generated")
    assert script.endswith("echo tuning > /tmp/tuned\n")
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "yum.conf").write_text("[main]\n")
    assert sandbox_bash(script.replace("echo tuning > /tmp/tuned\n", ""), root).returncode == 0
    assert (root / "etc" / "systemd" / "system" / "containerd.service.d" / "eksproxy-gen.conf").exists()
    assert [f["rule"] for f in check(cli, tmp_path)] == ["EKSP017"]


@pytest.mark.parametrize(("spec", "words"), [
    ("  amiFamily: Custom\n", "amiFamily Custom passes userData to the node untouched"),
    ("", "Windows2022"),
    (None, "it has neither amiFamily nor an amiSelectorTerms alias"),
])
def test_families_eksproxy_gen_cannot_judge_are_said_and_left_alone(cli, tmp_path: Path, spec: str | None,
                                                                    words: str) -> None:
    if spec is None:
        text = nodeclass("x").replace("  amiSelectorTerms:\n    - alias: x\n", "  amiSelectorTerms:\n    - id: ami-1\n")
    elif words == "Windows2022":
        text = nodeclass("windows2022@latest")
        words = "Windows node classes are not supported"
    else:
        text = nodeclass("al2023@latest", extra=spec)
    path = tmp_path / "karpenter.yaml"
    path.write_text(text)
    found = check(cli, tmp_path)
    assert [f["rule"] for f in found] == ["EKSP015"] and words in found[0]["message"]
    fix(cli, tmp_path)
    assert path.read_text() == text


def test_helm_templates_and_other_yaml_are_not_read(cli, tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(nodeclass("al2023@latest").replace("name: default", "name: {{ .name }}"))
    (tmp_path / "values.yaml").write_text("replicas: 2\n")
    result = cli("check", str(tmp_path))
    # the Helm template is said to be not judged, where its first {{ is; values.yaml names no node class
    line = nodeclass("al2023@latest").splitlines().index("  name: default") + 1
    assert result.code == 0 and "no Terraform files" not in result.err
    assert f"template.yaml:{line}: warning: not judged: a Helm template names EC2NodeClass here" in result.err
    assert "values.yaml" not in result.err


def test_an_ignore_comment_silences_a_node_class(cli, tmp_path: Path) -> None:
    path = tmp_path / "karpenter.yaml"
    path.write_text(nodeclass("al2023@latest").replace("  name: default\n",
                                                       "  name: default  # eksproxy-gen:ignore EKSP001 egress\n", 1))
    data = json.loads(cli("check", str(tmp_path), "--format", "json").out)
    assert data["findings"] == [] and [s["rule"] for s in data["suppressed"]] == ["EKSP001"]


def test_select_limits_the_node_class_edit_to_dnf(cli, tmp_path: Path) -> None:
    user = ("apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  instance:\n    environment:\n"
            "      default:\n" + "".join(f'        {k}: "{v}"\n' for k, v in [
                ("HTTP_PROXY", "http://proxy.corp.example:3128"), ("HTTPS_PROXY", "http://proxy.corp.example:3128"),
                ("http_proxy", "http://proxy.corp.example:3128"), ("https_proxy", "http://proxy.corp.example:3128"),
                ("NO_PROXY", "localhost,127.0.0.1,169.254.169.254,10.0.0.0/16,10.100.0.0/16,172.20.0.0/16,"
                             ".internal,.eks.amazonaws.com"),
                ("no_proxy", "localhost,127.0.0.1,169.254.169.254,10.0.0.0/16,10.100.0.0/16,172.20.0.0/16,"
                             ".internal,.eks.amazonaws.com")]))
    path = tmp_path / "karpenter.yaml"
    path.write_text(nodeclass("al2023@latest", user))
    assert [f["rule"] for f in check(cli, tmp_path)] == ["EKSP013"]
    fix(cli, tmp_path, "--select", "EKSP013")
    document = split(user_data_of(path))
    assert document is not None
    assert [p.content_type for p in document.parts] == ["text/x-shellscript", "application/node.eks.aws"]
    assert document.parts[1].content == user
    assert check(cli, tmp_path) == []


def test_terraform_references_cannot_go_into_a_plain_yaml_file(cli, tmp_path: Path) -> None:
    path = tmp_path / "karpenter.yaml"
    path.write_text(nodeclass("al2023@latest"))
    result = json.loads(cli("fix", str(tmp_path), "--format", "json", "--proxy", "tf:var.proxy_url",
                            "--vpc-cidr", "10.0.0.0/16").out)
    assert result["files_changed"] == []
    assert [f["rule"] for f in result["findings"]] == ["EKSP001", "EKSP010"]
    assert "Terraform references" in result["findings"][1]["message"]


# --- Terraform -------------------------------------------------------------------------------------------------------

KUBECTL = """\
resource "kubectl_manifest" "node_class" {
  yaml_body = <<-YAML
    apiVersion: karpenter.k8s.aws/v1
    kind: EC2NodeClass
    metadata:
      name: default
    spec:
      role: ${module.karpenter.node_iam_role_name}
      amiSelectorTerms:
        - alias: al2023@latest
      tags:
        karpenter.sh/discovery: ${module.eks.cluster_name}
  YAML

  depends_on = [helm_release.karpenter]
}
"""
HELM = """\
resource "helm_release" "karpenter" {
  name       = "karpenter"
  repository = "oci://public.ecr.aws/karpenter"
  chart      = "karpenter"
  version    = "1.6.0"
  wait       = false

  values = [
    <<-EOT
    nodeSelector:
      karpenter.sh/controller: 'true'
    settings:
      clusterName: ${module.eks.cluster_name}
    %s
    EOT
  ]
}
"""


def test_a_kubectl_manifest_heredoc_is_edited_in_place_and_stays_fmt_clean(cli, tmp_path: Path) -> None:
    path = tmp_path / "karpenter.tf"
    path.write_text(KUBECTL)
    found = check(cli, tmp_path)
    assert [(f["rule"], f["module"], f["line"]) for f in found] == [("EKSP001", "kubectl_manifest.node_class", 6)]
    fix(cli, tmp_path, "--proxy", "tf:var.proxy_url")
    after = path.read_text()
    added = only_insertions(KUBECTL, after)
    assert added[0] == "      userData: |"
    assert 'HTTPS_PROXY: "${var.proxy_url}"' in after
    assert fmt_clean(path)
    assert check(cli, tmp_path) == []
    fix(cli, tmp_path, "--proxy", "tf:var.proxy_url")
    assert path.read_text() == after


def test_a_node_class_in_yamlencode_is_judged_but_not_rewritten(cli, tmp_path: Path) -> None:
    text = """\
resource "kubectl_manifest" "node_class" {
  yaml_body = yamlencode({
    apiVersion = "karpenter.k8s.aws/v1"
    kind       = "EC2NodeClass"
    metadata   = { name = "default" }
    spec = {
      amiSelectorTerms = [{ alias = "bottlerocket@latest" }]
    }
  })
}
"""
    path = tmp_path / "main.tf"
    path.write_text(text)
    assert [f["rule"] for f in check(cli, tmp_path)] == ["EKSP009"]
    result = fix(cli, tmp_path)
    assert path.read_text() == text
    assert [f["rule"] for f in result["findings"]] == ["EKSP009", "EKSP010"]
    assert "written as a Terraform object" in result["findings"][1]["message"]


def test_a_kubernetes_manifest_with_yamldecode_is_edited(cli, tmp_path: Path) -> None:
    text = KUBECTL.replace('resource "kubectl_manifest"', 'resource "kubernetes_manifest"').replace(
        "  yaml_body = <<-YAML", "  manifest = yamldecode(<<-YAML").replace("  YAML\n\n", "  YAML\n  )\n\n")
    path = tmp_path / "main.tf"
    path.write_text(text)
    assert [f["module"] for f in check(cli, tmp_path)] == ["kubernetes_manifest.node_class"]
    fix(cli, tmp_path)
    only_insertions(text, path.read_text())
    assert fmt_clean(path)
    assert check(cli, tmp_path) == []


@pytest.mark.parametrize("existing", [
    "", "controller:\n      resources:\n        requests:\n          cpu: 1",
    "controller:\n      env:\n        - name: AWS_REGION\n          value: eu-west-1"])
def test_the_controller_gets_the_proxy_in_controller_env(cli, tmp_path: Path, existing: str) -> None:
    path = tmp_path / "karpenter.tf"
    text = HELM % existing
    path.write_text(text)
    found = check(cli, tmp_path)
    assert [(f["rule"], f["module"], f["line"]) for f in found] == [("EKSP025", "helm_release.karpenter", 1)]
    fix(cli, tmp_path)
    after = path.read_text()
    only_insertions(text, after)
    assert fmt_clean(path)
    assert check(cli, tmp_path) == []
    values = after.split("<<-EOT\n")[1].split("    EOT")[0]
    controller = yaml.safe_load(nodeconfig.swap_interpolations(values))["controller"]
    env = {e["name"]: e["value"] for e in controller["env"]}
    assert env["HTTPS_PROXY"] == env["https_proxy"] == "http://proxy.corp.example:3128"
    assert env["NO_PROXY"].startswith("localhost,127.0.0.1,169.254.169.254,10.0.0.0/16")
    if "AWS_REGION" in existing:
        assert env["AWS_REGION"] == "eu-west-1"
    if "resources" in existing:
        assert controller["resources"] == {"requests": {"cpu": 1}}


PROXY_ENTRY = "- name: HTTPS_PROXY\n          value: http://proxy.corp.example:3128"
FROM_CONFIG_MAP = ("\n          valueFrom:\n            configMapKeyRef:\n              name: proxy\n"
                   "              key: %s")


@pytest.mark.parametrize(("env", "rules"), [
    ("- name: HTTPS_PROXY" + FROM_CONFIG_MAP % "https", []),
    (PROXY_ENTRY + "\n        - name: NO_PROXY" + FROM_CONFIG_MAP % "no", []),
    (PROXY_ENTRY + "\n      envFrom:\n        - configMapRef:\n            name: proxy", []),
    (PROXY_ENTRY, ["EKSP026"]),
])
def test_a_controller_variable_the_cluster_supplies_is_not_reported_missing(cli, tmp_path: Path, env: str,
                                                                             rules: list[str]) -> None:
    """valueFrom and envFrom are read from a ConfigMap or Secret at run time: their values cannot be judged here."""
    (tmp_path / "karpenter.tf").write_text(HELM % f"controller:\n      env:\n        {env}")
    assert [f["rule"] for f in check(cli, tmp_path)] == rules


def test_the_controller_no_proxy_is_checked_entry_by_entry(cli, tmp_path: Path) -> None:
    text = HELM % "" + """
resource "helm_release" "karpenter_set" {
  name  = "karpenter"
  chart = "oci://public.ecr.aws/karpenter/karpenter"

  set {
    name  = "controller.env[0].name"
    value = "HTTPS_PROXY"
  }
  set {
    name  = "controller.env[0].value"
    value = "http://proxy.corp.example:3128"
  }
  set {
    name  = "controller.env[1].name"
    value = "NO_PROXY"
  }
  set {
    name  = "controller.env[1].value"
    value = "localhost\\\\,127.0.0.1\\\\,169.254.169.254"
  }
}
"""
    (tmp_path / "karpenter.tf").write_text(text)
    found = [f for f in check(cli, tmp_path) if f["module"] == "helm_release.karpenter_set"]
    assert [(f["rule"], f["message"].split(" lacks ")[1]) for f in found] == [
        ("EKSP026", "10.100.0.0/16 (cluster service CIDR)"), ("EKSP026", "172.20.0.0/16 (cluster service CIDR)"),
        ("EKSP026", ".internal (EC2 private DNS names)"), ("EKSP026", ".eks.amazonaws.com (private EKS API endpoint)")]
    left = [f for f in fix(cli, tmp_path)["findings"] if f["module"] == "helm_release.karpenter_set"]
    # set blocks are not rewritten: the findings stay (fix's flags add the VPC CIDR to what is lacked) and an
    # EKSP010 says why fix left them, so a fixable rule never ends as a silent 'nothing to fix'
    assert [f["rule"] for f in left] == ["EKSP010"] + ["EKSP026"] * 5
    assert "not rewritten: its values are not one heredoc" in left[0]["message"]
    assert "10.0.0.0/16 (VPC CIDR)" in left[1]["message"]


def test_a_controller_no_proxy_holding_a_terraform_reference_is_read_as_written(cli, tmp_path: Path) -> None:
    """``${var.vpc_cidr}`` in the values heredoc is the configured VPC CIDR, not a placeholder that lacks it."""
    (tmp_path / ".eksproxy-gen.toml").write_text(
        'proxy = "http://proxy.corp.example:3128"\nvpc_cidrs = ["tf:var.vpc_cidr"]\n')
    path = tmp_path / "karpenter.tf"
    path.write_text(HELM % "")
    cli("fix", str(tmp_path))
    assert ",${var.vpc_cidr}," in path.read_text()
    assert check(cli, tmp_path) == []


def test_a_node_class_family_from_a_terraform_value_is_left_to_terraform(cli, tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text("""\
resource "kubectl_manifest" "node_class" {
  yaml_body = yamlencode({
    apiVersion = "karpenter.k8s.aws/v1"
    kind       = "EC2NodeClass"
    metadata   = { name = "default" }
    spec       = { amiFamily = var.family }
  })
}
""")
    assert [(f["rule"], f["message"].split(": ")[1].split(";")[0]) for f in check(cli, tmp_path)] == [
        ("EKSP015", "amiFamily is ${var.family}, which only Terraform can compute")]


# --- by property ------------------------------------------------------------------------------------------------------

EXAMPLES = int(os.environ.get("EKSPROXY_GEN_PROPERTY_EXAMPLES", "60"))


@st.composite
def node_class_files(draw: st.DrawFn) -> str:
    """YAML files as people write them: comments, quoting, list indentation, other documents, user data shapes."""
    indent = draw(st.sampled_from(["  ", "    "]))
    dash = draw(st.sampled_from(["", indent]))
    alias = draw(st.sampled_from(["al2023@latest", "'al2023@v20251120'", '"bottlerocket@latest"', "al2@latest"]))
    lines = ["# node class for the apps pool" if draw(st.booleans()) else "",
             "apiVersion: karpenter.k8s.aws/v1", "kind: EC2NodeClass", "metadata:", f"{indent}name: apps",
             "spec:", f"{indent}amiSelectorTerms:", f"{indent}{dash}- alias: {alias}  # pinned by renovate"]
    if draw(st.booleans()):
        lines += [f"{indent}tags:", f"{indent * 2}team: \"m7x\""]
    family = alias.strip("'\"").split("@")[0]
    shape = draw(st.sampled_from(["none", "script", "nodeconfig", "mime"]))
    if family == "bottlerocket":
        shape = draw(st.sampled_from(["none", "toml"]))
    body = {"none": None, "script": ["#!/bin/bash", "   ", "echo m8x > /tmp/m8x"],
            "nodeconfig": ["apiVersion: node.eks.aws/v1alpha1", "kind: NodeConfig", "spec:", "  kubelet:",
                           "    config:", "      maxPods: 58"],
            "mime": ["MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="//"', "", "--//",
                     "Content-Type: text/x-shellscript", "", "#!/bin/bash", "echo m9x", "", "--//--"],
            "toml": ["[settings.kubernetes]", "max-pods = 58"]}[shape]
    if family == "al2" and shape in {"nodeconfig", "mime"}:
        body = ["#!/bin/bash", "echo m8x > /tmp/m8x"]
    if body is not None:
        lines += [f"{indent}userData: |"] + [f"{indent * 2}{line}" if line else "" for line in body]
    if draw(st.booleans()):
        lines += [f"{indent}role: KarpenterNodeRole"]
    text = "\n".join(line for line in lines if line is not None).lstrip("\n") + "\n"
    return text + (NODE_POOL if draw(st.booleans()) else "")


@settings(max_examples=EXAMPLES, deadline=None, derandomize=in_ci(),
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=node_class_files())
def test_fix_and_check_agree_on_node_classes_and_keep_every_other_line(cli, tmp_path_factory: pytest.TempPathFactory,
                                                                       text: str) -> None:
    folder = tmp_path_factory.mktemp("nodeclass")
    path = folder / "karpenter.yaml"
    path.write_text(text)
    cli("fix", str(folder), *FLAGS)
    after = path.read_text()
    before_docs = [d for d in yaml.safe_load_all(text) if d]
    after_docs = [d for d in yaml.safe_load_all(after) if d]
    assert len(before_docs) == len(after_docs)
    for old, new in zip(before_docs, after_docs, strict=True):
        old.get("spec", {}).pop("userData", None)
        new.get("spec", {}).pop("userData", None)
        assert old == new
    only_insertions(text, after)
    for marker in ("m7x", "m8x", "m9x"):
        assert text.count(marker) <= after.count(marker)
    assert [f["rule"] for f in check(cli, folder) if f["severity"] == "error"] == []
    cli("fix", str(folder), *FLAGS)
    assert path.read_text() == after


DATA_ADDONS = """\
module "eks_data_addons" {
  source  = "aws-ia/eks-data-addons/aws"
  version = "1.33.0"

  oidc_provider_arn = module.eks.oidc_provider_arn

  enable_karpenter_resources = true
  karpenter_resources_helm_config = {
    spark-compute-optimized = {
      values = [
        <<-EOT
      name: spark-compute-optimized
      clusterName: ${module.eks.cluster_name}
      ec2NodeClass:
        amiFamily: AL2023
        amiSelectorTerms:
          - alias: al2023@latest
        karpenterRole: ${split("/", module.eks_blueprints_addons.karpenter.node_iam_role_arn)[1]}
        instanceStorePolicy: RAID0
      nodePool:
        labels:
          - type: karpenter
        EOT
      ]
    }
  }
}

resource "helm_release" "karpenter_resources" {
  name  = "karpenter-resources-bottlerocket"
  chart = "${path.module}/helm-charts/karpenter-resources"

  values = [
    <<-EOT
    ec2NodeClass:
      amiSelectorTerms:
        - alias: bottlerocket@latest
      userData: |
        [settings.kubernetes]
        max-pods = 58
    EOT
  ]
}
"""


def test_node_classes_templated_by_a_chart_from_its_values_are_checked_and_fixed(cli, tmp_path: Path) -> None:
    path = tmp_path / "addons.tf"
    path.write_text(DATA_ADDONS)
    found = check(cli, tmp_path)
    assert [(f["rule"], f["module"], f["node_group"]) for f in found] == [
        ("EKSP001", "module.eks_data_addons", "spark-compute-optimized"),
        ("EKSP009", "helm_release.karpenter_resources", "karpenter_resources")]
    fix(cli, tmp_path)
    after = path.read_text()
    only_insertions(DATA_ADDONS, after)
    assert fmt_clean(path)
    assert check(cli, tmp_path) == []
    values = after.split("<<-EOT\n")[1].split("        EOT")[0]
    spec = yaml.safe_load(nodeconfig.swap_interpolations(values))["ec2NodeClass"]
    document = split(spec["userData"])
    assert document is not None
    assert [p.content_type for p in document.parts] == ["application/node.eks.aws", "text/x-shellscript"]


def test_a_chart_node_class_without_a_family_in_its_values_says_the_chart_decides(cli, tmp_path: Path) -> None:
    family = "        amiFamily: AL2023\n        amiSelectorTerms:\n          - alias: al2023@latest\n"
    assert family in DATA_ADDONS
    text = DATA_ADDONS.replace(family, "")
    (tmp_path / "addons.tf").write_text(text)
    found = [f for f in check(cli, tmp_path) if f["module"] == "module.eks_data_addons"]
    assert [f["rule"] for f in found] == ["EKSP015"]
    assert "its chart values give neither amiFamily nor an amiSelectorTerms alias" in found[0]["message"]


MIXED = "#!/bin/bash\nexport HTTPS_PROXY=http://old:3128\nexport HTTP_PROXY=http://old:3128\nyum install -y htop\n"


@pytest.mark.parametrize("mime", [False, True])
def test_proxy_lines_are_cut_from_a_script_that_also_does_other_work(cli, tmp_path: Path, mime: bool) -> None:
    user = MIXED if not mime else ('MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="//"\n\n--//\n'
                                   f"Content-Type: text/x-shellscript\n\n{MIXED}\n--//--\n")
    path = tmp_path / "karpenter.yaml"
    path.write_text(nodeclass("al2023@latest", user))
    result = fix(cli, tmp_path)
    assert result["notes"][0]["note"].startswith("EC2NodeClass.default: proxy lines cut from a shell part")
    document = split(user_data_of(path))
    assert document is not None
    assert document.parts[-1].content == "#!/bin/bash\nyum install -y htop\n"
    assert "old:3128" not in path.read_text()
    assert check(cli, tmp_path) == []


def test_a_controller_proxy_without_a_port_is_reported_and_fix_leaves_it_saying_why(cli, tmp_path: Path) -> None:
    env = """controller:
      env:
        - name: HTTPS_PROXY
          value: "http://proxy.corp.example"
        - name: HTTP_PROXY
          value: "http://proxy.corp.example"
        - name: NO_PROXY
          value: "localhost,127.0.0.1,169.254.169.254,10.0.0.0/16,10.100.0.0/16,172.20.0.0/16,.internal,{}"
""".format(".eks.amazonaws.com")
    (tmp_path / "karpenter.tf").write_text(HELM % env.replace("\n", "\n    ").rstrip())
    found = check(cli, tmp_path)
    assert [f["rule"] for f in found] == ["EKSP005"]
    assert found[0]["message"].startswith("the Karpenter controller's HTTP_PROXY and HTTPS_PROXY are "
                                          "http://proxy.corp.example: no port in the URL")
    before = (tmp_path / "karpenter.tf").read_text()
    left = fix(cli, tmp_path, "--proxy", "http://proxy.corp.example:3128")["findings"]
    assert (tmp_path / "karpenter.tf").read_text() == before
    assert [f["rule"] for f in left] == ["EKSP005", "EKSP010"]
    assert "no port in the URL" in left[1]["message"] and "edit that by hand" in left[1]["message"]
