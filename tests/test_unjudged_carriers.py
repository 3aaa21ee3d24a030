"""Every carrier of EKS nodes eksproxy-gen finds is judged or said to be not judged, in every format.

"0 findings" must mean judged and fine. The carriers enumerated here are the
ones no rule reads (EKS Auto Mode through the module or a NodeClass manifest,
a Karpenter controller a module installs, a JSON manifest) and must each get a
not-judged notice naming file, line and what it is; and the ones that are
judged however they are packed (a ``kind: List``, ``kubectl_file_documents``,
a text of several documents), which must each get their finding.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

V21 = 'module "eks" {\n  source  = "terraform-aws-modules/eks/aws"\n  version = "~> 21.0"\n\n  name = "x"\n%s}\n'
V20 = ('module "eks" {\n  source  = "terraform-aws-modules/eks/aws"\n  version = "~> 20.31"\n\n'
       '  cluster_name = "x"\n%s}\n')
AUTO_YAML = """\
apiVersion: eks.amazonaws.com/v1
kind: NodeClass
metadata:
  name: private
spec:
  role: MyNodeRole
"""
AUTO_JSON = '{\n  "apiVersion": "eks.amazonaws.com/v1",\n  "kind": "NodeClass",\n  "metadata": {"name": "p"}\n}\n'
EC2_JSON = ('{\n  "apiVersion": "karpenter.k8s.aws/v1",\n  "kind": "EC2NodeClass",\n  "metadata": {"name": "d"},\n'
            '  "spec": {"amiSelectorTerms": [{"alias": "al2023@latest"}], "role": "R"}\n}\n')
NODECLASS = """\
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: {name}
spec:
  amiSelectorTerms:
    - alias: al2023@latest
  role: KarpenterNodeRole
"""
ADDONS = ('module "addons" {\n  source  = "%s"\n  version = "~> 1.16"\n\n  cluster_name = "x"\n'
          '  enable_karpenter = %s\n  karpenter = {\n    chart_version = "1.0.6"\n  }\n}\n')
VERSIONS = 'terraform {\n  required_version = ">= 1.5"\n}\n'

# name -> (files, (file, line, what the notice says))
NOT_JUDGED = {
    "module compute_config (v21)": (
        {"main.tf": V21 % '  compute_config = {\n    enabled    = true\n    node_pools = ["general-purpose"]\n  }\n'},
        ("main.tf", 1, "module.eks's compute_config (EKS Auto Mode) is not judged")),
    "module cluster_compute_config (v20)": (
        {"main.tf": V20 % '  cluster_compute_config = {\n    enabled = true\n  }\n'},
        ("main.tf", 1, "module.eks's cluster_compute_config (EKS Auto Mode) is not judged")),
    "module compute_config from a variable": (
        {"main.tf": V21 % "  compute_config = {\n    enabled = var.auto_mode\n  }\n"},
        ("main.tf", 1, "compute_config (EKS Auto Mode) is not judged")),
    "NodeClass YAML": ({"nodeclass.yaml": AUTO_YAML, "versions.tf": VERSIONS},
                       ("nodeclass.yaml", 2, "an EKS Auto Mode NodeClass (eks.amazonaws.com) is written here")),
    "NodeClass YAML alone": ({"auto.yml": "---\n" + AUTO_YAML},
                             ("auto.yml", 3, "an EKS Auto Mode NodeClass (eks.amazonaws.com) is written here")),
    "NodeClass JSON": ({"nodeclass.json": AUTO_JSON, "versions.tf": VERSIONS},
                       ("nodeclass.json", 3, "an EKS Auto Mode NodeClass (eks.amazonaws.com) is written here")),
    "NodeClass in kubectl_manifest": (
        {"main.tf": 'resource "kubectl_manifest" "auto" {\n  yaml_body = <<-YAML\n'
                    + "".join("    " + line + "\n" for line in AUTO_YAML.splitlines()) + "  YAML\n}\n"},
        ("main.tf", 1, "kubectl_manifest.auto is not judged: it holds an EKS Auto Mode NodeClass")),
    "NodeClass in kubernetes_manifest object": (
        {"main.tf": 'resource "kubernetes_manifest" "auto" {\n  manifest = {\n'
                    '    apiVersion = "eks.amazonaws.com/v1"\n    kind       = "NodeClass"\n'
                    '    metadata   = { name = "p" }\n  }\n}\n'},
        ("main.tf", 1, "kubernetes_manifest.auto is not judged: it holds an EKS Auto Mode NodeClass")),
    "EC2NodeClass JSON": ({"nodeclass.json": EC2_JSON, "versions.tf": VERSIONS},
                          ("nodeclass.json", 3, "an EC2NodeClass is written here in a JSON manifest")),
    "eks-blueprints-addons enable_karpenter": (
        {"main.tf": ADDONS % ("aws-ia/eks-blueprints-addons/aws", "true")},
        ("main.tf", 1, "module.addons (aws-ia/eks-blueprints-addons/aws) installs the Karpenter controller "
                       "(enable_karpenter), which is not judged")),
    "another module's enable_karpenter from a variable": (
        {"main.tf": ADDONS % ("git::https://example.com/platform-addons.git", "var.karpenter")},
        ("main.tf", 1, "installs the Karpenter controller (enable_karpenter), which is not judged")),
}

# Off, so nothing is there to judge: no notice.
SWITCHED_OFF = {
    "compute_config disabled": {"main.tf": V21 % "  compute_config = {\n    enabled = false\n  }\n"},
    "enable_karpenter false": {"main.tf": ADDONS % ("aws-ia/eks-blueprints-addons/aws", "false")},
}

# Node classes however packed: each is judged (EKSP001, no proxy in its user data) at its file and line.
JUDGED = {
    "kind: List in a YAML file": (
        {"list.yaml": "apiVersion: v1\nkind: List\nitems:\n"
                      + "".join("  " + ("- " if i == 0 else "  ") + line + "\n" for doc in ("a", "b")
                                for i, line in enumerate(NODECLASS.format(name=doc).splitlines())),
         "versions.tf": VERSIONS},
        {("list.yaml", "EC2NodeClass.a"), ("list.yaml", "EC2NodeClass.b")}),
    "kind: List in kubectl_manifest": (
        {"main.tf": 'resource "kubectl_manifest" "nc" {\n  yaml_body = <<-YAML\n    apiVersion: v1\n    kind: List\n'
                    "    items:\n" + "".join("      " + ("- " if i == 0 else "  ") + line + "\n"
                                             for i, line in enumerate(NODECLASS.format(name="a").splitlines()))
                    + "  YAML\n}\n"},
        {("main.tf", "kubectl_manifest.nc.a")}),
    "data.kubectl_file_documents of file()": (
        {"main.tf": 'data "kubectl_file_documents" "nc" {\n  content = file("${path.module}/nc.yaml.tpl")\n}\n\n'
                    'resource "kubectl_manifest" "nc" {\n  for_each  = data.kubectl_file_documents.nc.manifests\n'
                    "  yaml_body = each.value\n}\n",
         "nc.yaml.tpl": NODECLASS.format(name="a") + "---\n" + NODECLASS.format(name="b")},
        {("main.tf", "data.kubectl_file_documents.nc.a"), ("main.tf", "data.kubectl_file_documents.nc.b")}),
    "local_file of several documents": (
        {"main.tf": 'resource "local_file" "nc" {\n  filename = "nc.out"\n'
                    '  content  = templatefile("${path.module}/nc.tftpl", {})\n}\n',
         "nc.tftpl": NODECLASS.format(name="a") + "---\n" + NODECLASS.format(name="b")},
        {("main.tf", "local_file.nc.a"), ("main.tf", "local_file.nc.b")}),
}


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def _notices(out: str, fmt: str) -> list[tuple[str, int, str]]:
    """(file, line, message) of each notice as the format writes it."""
    if fmt == "json":
        return [(Path(n["file"]).name, n["line"], n["message"]) for n in json.loads(out)["notices"]
                if n["kind"] == "not-judged"]
    if fmt == "sarif":
        notes = json.loads(out)["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        return [(Path(n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]).name,
                 n["locations"][0]["physicalLocation"]["region"]["startLine"], n["message"]["text"]) for n in notes]
    if fmt == "github":
        found = []
        for line in out.splitlines():
            if line.startswith("::warning "):
                head, _, message = line.partition("::")[2].partition("::")
                fields = dict(part.split("=", 1) for part in head.removeprefix("warning ").split(","))
                found.append((Path(fields["file"]).name, int(fields["line"]), message))
        return found
    issues = json.loads(out)
    return [(Path(i["location"]["path"]).name, i["location"]["lines"]["begin"], i["description"]) for i in issues
            if i["severity"] == "info"]


@pytest.mark.parametrize("name", sorted(NOT_JUDGED))
def test_every_unjudged_carrier_of_eks_nodes_is_said_in_text(cli, tmp_path: Path, name: str) -> None:
    files, (file, line, said) = NOT_JUDGED[name]
    result = cli("check", str(_tree(tmp_path, files)), "--no-cache")
    assert result.code == 0, result.err
    warnings = [w for w in result.err.splitlines() if ": warning: " in w]
    assert len(warnings) == 1, result.err
    assert warnings[0].startswith(f"{tmp_path / file}:{line}: warning: ") or \
        warnings[0].startswith(f"{file}:{line}: warning: "), warnings
    assert said in warnings[0]
    if any(name.endswith(".tf") for name in files):  # the summary line counts the Terraform files read
        assert result.err.rstrip().endswith("; 1 not judged (see the warnings).")


@pytest.mark.parametrize("fmt", ["json", "sarif", "github", "gitlab"])
@pytest.mark.parametrize("name", sorted(NOT_JUDGED))
def test_every_unjudged_carrier_of_eks_nodes_is_in_every_report_format(cli, tmp_path: Path, name: str,
                                                                      fmt: str) -> None:
    files, (file, line, said) = NOT_JUDGED[name]
    result = cli("check", str(_tree(tmp_path, files)), "--no-cache", "--format", fmt)
    assert result.code == 0, result.err
    notices = _notices(result.out, fmt)
    assert [(f, n) for f, n, _ in notices] == [(file, line)]
    assert said in notices[0][2]


@pytest.mark.parametrize("name", sorted(SWITCHED_OFF))
def test_a_carrier_switched_off_is_no_notice(cli, tmp_path: Path, name: str) -> None:
    result = cli("check", str(_tree(tmp_path, SWITCHED_OFF[name])), "--no-cache", "--format", "json")
    assert json.loads(result.out)["notices"] == []


@pytest.mark.parametrize("name", sorted(JUDGED))
def test_every_packing_of_node_classes_is_judged(cli, tmp_path: Path, name: str) -> None:
    files, wanted = JUDGED[name]
    result = cli("check", str(_tree(tmp_path, files)), "--no-cache", "--format", "json")
    found = json.loads(result.out)["findings"]
    assert {(Path(f["file"]).name, f"{f['module']}.{f['node_group']}") for f in found} == wanted, found
    assert {f["rule"] for f in found} == {"EKSP001"}
    assert result.code == 1
