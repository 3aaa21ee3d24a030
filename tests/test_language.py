"""Terraform's language as Terraform reads it, with Terraform itself as the oracle where it can run offline.

Each class of shape is generated or enumerated, not taken one example at a time:
override files merged into the configuration (``terraform console`` evaluates
the merged module arguments through a local pass-through module); what
python-hcl2's grammar rejects and Terraform accepts (``terraform fmt`` says
what Terraform accepts); comments only outside strings and heredocs
(``terraform console`` says what is text); parts Terraform writes with
``%{ }`` directives; and ``for`` expressions (``terraform console`` evaluates
them).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import fmt_clean, in_ci, replaced, tool

EXAMPLES = max(10, int(os.environ.get("EKSPROXY_GEN_PROPERTY_EXAMPLES", "60")) // 2)
PROXY = "http://proxy.corp.example:3128"
FLAGS = ("--proxy", PROXY, "--vpc-cidr", "10.0.0.0/16")
SETTINGS = f'proxy = "{PROXY}"\nvpc_cidrs = ["10.0.0.0/16"]\n'
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, derandomize=in_ci(),
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
MODULE = """\
module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 21.0"

  name              = "c1"
  service_ipv4_cidr = "172.20.0.0/16"
%s
}
"""
# a module with the arguments above that hands them back: Terraform evaluates a configuration through it offline
PASS_THROUGH = "".join(f'variable "{name}" {{\n  type    = any\n  default = null\n}}\n\n'
                       f'output "{name}" {{\n  value = var.{name}\n}}\n\n'
                       for name in ("name", "service_ipv4_cidr", "eks_managed_node_groups", "tags"))


def console(folder: Path, expression: str) -> object:
    """What Terraform makes of ``expression`` in ``folder`` (plain data), with no network and no providers."""
    terraform = tool("terraform")
    env = {"TF_CLI_CONFIG_FILE": "/dev/null", "CHECKPOINT_DISABLE": "1", "PATH": "/usr/bin:/bin",
           "HOME": str(folder)}
    if (folder / "m").is_dir():
        init = subprocess.run([terraform, "init", "-backend=false", "-input=false", "-no-color"], cwd=folder,
                              env=env, capture_output=True, text=True, check=False, timeout=120)
        assert init.returncode == 0, init.stdout + init.stderr
    proc = subprocess.run([terraform, "console"], input=f"jsonencode({expression})\n", cwd=folder, env=env,
                          capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(json.loads(proc.stdout))


def through_pass_through(folder: Path, dest: Path) -> Path:
    """A copy of ``folder`` whose module "eks" is the pass-through module, for Terraform to evaluate."""
    shutil.copytree(folder, dest, ignore=shutil.ignore_patterns(".eksproxy-gen.toml"))
    main = dest / "main.tf"
    main.write_text(replaced(main.read_text(), 'source  = "terraform-aws-modules/eks/aws"\n  version = "~> 21.0"',
                             'source = "./m"'))
    (dest / "m").mkdir()
    (dest / "m" / "main.tf").write_text(PASS_THROUGH)
    return dest


def findings(cli: Callable[..., object], folder: Path, *extra: str) -> list[dict]:
    result = cli("check", str(folder), "--format", "json", "--no-cache", *extra)
    return json.loads(result.out)["findings"]  # type: ignore[attr-defined, no-any-return]


def missing_proxy(found: list[dict]) -> set[str]:
    return {f["node_group"] for f in found if f["rule"] == "EKSP001"}


def proxy_parts(cli: Callable[..., object]) -> str:
    """The generated parts, as a ``local.proxy_parts`` list: a group that has them is proxied."""
    result = cli("render", *FLAGS, "--service-cidr", "172.20.0.0/16")
    text: str = result.out  # type: ignore[attr-defined]
    return "locals {\n  " + text.replace("cloudinit_pre_nodeadm = ", "proxy_parts = ", 1).replace("\n", "\n  ") \
        .rstrip() + "\n}\n"


def with_settings(folder: Path) -> Path:
    """The folder, with the proxy settings ``check`` reads (it takes no --proxy)."""
    (folder / ".eksproxy-gen.toml").write_text(SETTINGS)
    return folder


def folder_of(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    folder = tmp_path_factory.mktemp(name)
    (folder / ".eksproxy-gen.toml").write_text(SETTINGS)
    return folder


# --- override files ---------------------------------------------------------------------------------------------------

GROUPS = ("alpha", "beta", "gamma")
OVERRIDE_NAMES = ("override.tf", "a_override.tf", "z_override.tf", "override.tf.json", "b_override.tf.json",
                  "zz_override.tf.json")
group_maps = st.dictionaries(st.sampled_from(GROUPS), st.booleans(), max_size=3)  # name -> proxied


def hcl_groups(groups: dict[str, bool]) -> str:
    return "{\n" + "".join(f"    {name} = {{ cloudinit_pre_nodeadm = local.proxy_parts }}\n" if proxied
                           else f'    {name} = {{ instance_types = ["m6i.large"] }}\n'
                           for name, proxied in groups.items()) + "  }"


def json_groups(groups: dict[str, bool]) -> dict[str, object]:
    return {name: {"cloudinit_pre_nodeadm": "${local.proxy_parts}"} if proxied else {"instance_types": ["m6i.large"]}
            for name, proxied in groups.items()}


@st.composite
def override_layers(draw: st.DrawFn) -> list[tuple[str, str, dict[str, bool]]]:
    """Override files: (file name, what it overrides, the groups it writes)."""
    names = draw(st.lists(st.sampled_from(OVERRIDE_NAMES), unique=True, max_size=3))
    kinds = ("groups", "groups_from_local", "local", "unrelated")
    return [(name, draw(st.sampled_from(kinds)), draw(group_maps)) for name in names]


def write_override(folder: Path, name: str, kind: str, groups: dict[str, bool], as_array: bool) -> None:
    if name.endswith(".json"):
        body: dict[str, object] = {
            "groups": {"module": {"eks": {"eks_managed_node_groups": json_groups(groups)}}},
            "groups_from_local": {"module": {"eks": {"eks_managed_node_groups": "${local.groups}"}}},
            "local": {"locals": {"groups": json_groups(groups)}},
            "unrelated": {"//": "tags only", "module": {"eks": {"tags": {"team": "platform"}}}},
        }[kind]
        if as_array:  # Terraform's JSON takes an array of objects wherever a block type or label is expected
            body = {key: value if key == "//" else [value] for key, value in body.items()}
        (folder / name).write_text(json.dumps(body, indent=2))
        return
    (folder / name).write_text({
        "groups": f'module "eks" {{\n  eks_managed_node_groups = {hcl_groups(groups)}\n}}\n',
        "groups_from_local": 'module "eks" {\n  eks_managed_node_groups = local.groups\n}\n',
        "local": f"locals {{\n  groups = {hcl_groups(groups)}\n}}\n",
        "unrelated": 'module "eks" {\n  tags = { team = "platform" }\n}\n',
    }[kind])


@PROPERTY
@given(base=group_maps, through_local=st.booleans(), layers=override_layers(), as_array=st.booleans())
def test_override_files_are_merged_as_terraform_merges_them(cli, tmp_path_factory: pytest.TempPathFactory,
                                                            base: dict[str, bool], through_local: bool,
                                                            layers: list[tuple[str, str, dict[str, bool]]],
                                                            as_array: bool) -> None:
    """The groups judged, and which lack the proxy, are those of the merged configuration Terraform evaluates."""
    folder = folder_of(tmp_path_factory, "overrides")
    (folder / "locals.tf").write_text(proxy_parts(cli) + f"locals {{\n  groups = {hcl_groups(base)}\n}}\n")
    argument = "local.groups" if through_local else hcl_groups(base)
    (folder / "main.tf").write_text(MODULE % f"\n  eks_managed_node_groups = {argument}")
    for name, kind, groups in layers:
        write_override(folder, name, kind, groups, as_array)
    effective = console(through_pass_through(folder, folder.parent / (folder.name + "-tf")),
                        "{for k, v in module.eks.eks_managed_node_groups : k => can(v.cloudinit_pre_nodeadm)}")
    assert isinstance(effective, dict)
    found = findings(cli, folder)
    assert {f["node_group"] for f in found} <= set(effective)
    assert missing_proxy(found) == {name for name, proxied in effective.items() if not proxied}
    assert [f for f in found if f["rule"] not in {"EKSP001", "EKSP013"}] == []
    os.environ["EKSPROXY_GEN_NO_PREFILTER"] = "1"
    try:  # the pre-filter never changes a verdict: a folder with an override file is read whole when it must be
        assert findings(cli, folder) == found
    finally:
        del os.environ["EKSPROXY_GEN_NO_PREFILTER"]


@pytest.mark.parametrize("override", [
    ("eks_override.tf", 'module "eks" {\n  eks_managed_node_groups = {\n    ng = {\n'
                        '      instance_types = ["m6i.large"]\n    }\n  }\n}\n'),
    ("override.tf", 'locals {\n  groups = {\n    ng = {\n      instance_types = ["m6i.large"]\n    }\n  }\n}\n'),
])
def test_fix_edits_the_override_file_that_gives_the_effective_value(cli, tmp_path: Path,
                                                                    override: tuple[str, str]) -> None:
    name, text = override
    (tmp_path / ".eksproxy-gen.toml").write_text(SETTINGS)
    (tmp_path / "locals.tf").write_text(proxy_parts(cli) + "locals {\n  groups = {\n    ng = {\n"
                                        "      cloudinit_pre_nodeadm = local.proxy_parts\n    }\n  }\n}\n")
    (tmp_path / "main.tf").write_text(MODULE % "\n  eks_managed_node_groups = local.groups")
    (tmp_path / name).write_text(text)
    before = {p.name: p.read_bytes() for p in tmp_path.glob("*.tf") if p.name != name}
    found = findings(cli, tmp_path)
    assert missing_proxy(found) == {"ng"} and {Path(f["file"]).name for f in found} == {name}
    cli("fix", str(tmp_path))
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.tf") if p.name != name} == before
    assert fmt_clean(tmp_path / name)
    assert findings(cli, tmp_path) == []
    merged = console(through_pass_through(tmp_path, tmp_path.parent / (tmp_path.name + "-tf")),
                     "[for part in module.eks.eks_managed_node_groups.ng.cloudinit_pre_nodeadm : part.filename]")
    assert merged == ["eksproxy-gen-proxy.yaml", "eksproxy-gen-dnf.sh"]


def test_a_value_an_override_json_file_gives_is_judged_but_not_rewritten(cli, tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(MODULE % '\n  eks_managed_node_groups = {\n    ng = {}\n  }')
    (tmp_path / "override.tf.json").write_text(json.dumps(
        {"module": [{"eks": {"eks_managed_node_groups": {"ng": {"instance_types": ["m6i.large"]},
                                                          "old": {"ami_type": "AL2_x86_64"}}}}]}))
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    found = findings(cli, tmp_path)
    assert missing_proxy(found) == {"ng", "old"}
    assert {Path(f["file"]).name for f in found} == {"override.tf.json"}
    result = cli("fix", str(tmp_path), *FLAGS)
    assert result.code == 1  # type: ignore[attr-defined]
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    said = result.out + result.err  # type: ignore[attr-defined]
    refusals = [line for line in said.splitlines() if "not rewritten" in line]
    assert len(refusals) == 2 and all("override.tf.json, a file in Terraform's JSON syntax" in r for r in refusals)


def test_an_override_that_makes_a_call_one_of_the_module_is_read(cli, tmp_path: Path) -> None:
    """main.tf names no terraform-aws-eks source; the override file's source makes the call one."""
    (tmp_path / "main.tf").write_text(replaced(MODULE % '\n  eks_managed_node_groups = {\n    ng = {}\n  }',
                                               'source  = "terraform-aws-modules/eks/aws"',
                                               'source  = "app.terraform.io/corp/cluster/aws"'))
    (tmp_path / "cluster_override.tf").write_text('module "eks" {\n  source  = "terraform-aws-modules/eks/aws"\n'
                                                  '  version = "~> 21.0"\n}\n')
    assert missing_proxy(findings(cli, tmp_path)) == {"ng"}
    (tmp_path / "cluster_override.tf").write_text('module "eks" {\n  source = "app.terraform.io/corp/other/aws"\n}\n')
    (tmp_path / "main.tf").write_text(MODULE % '\n  eks_managed_node_groups = {\n    ng = {}\n  }')
    assert findings(cli, tmp_path) == []


HELM = """\
resource "helm_release" "karpenter" {
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
}
"""


@pytest.mark.parametrize(("override", "rules"), [
    ("", ["EKSP026"]),
    # nested blocks of a type the override writes replace all the original's of that type
    ('resource "helm_release" "karpenter" {\n  set {\n    name  = "controller.env[0].name"\n'
     '    value = "AWS_REGION"\n  }\n}\n', ["EKSP025"]),
    # blocks of another type leave them alone
    ('resource "helm_release" "karpenter" {\n  set_sensitive {\n    name  = "x"\n    value = "y"\n  }\n}\n',
     ["EKSP026"]),
    ('resource "helm_release" "karpenter" {\n  chart = "oci://public.ecr.aws/other/chart"\n}\n', []),
])
def test_override_blocks_replace_nested_blocks_of_their_type(cli, tmp_path: Path, override: str,
                                                             rules: list[str]) -> None:
    (tmp_path / "karpenter.tf").write_text(HELM)
    if override:
        (tmp_path / "karpenter_override.tf").write_text(override)
    assert [f["rule"] for f in findings(cli, with_settings(tmp_path))] == rules


def test_a_karpenter_release_an_override_json_file_changes_is_judged_but_not_rewritten(cli, tmp_path: Path) -> None:
    (tmp_path / "karpenter.tf").write_text(
        'resource "helm_release" "karpenter" {\n  name  = "karpenter"\n  chart = "oci://public.ecr.aws/karpenter/'
        'karpenter"\n\n  values = [\n    <<-EOT\n    controller:\n      env:\n        - name: HTTPS_PROXY\n'
        f'          value: {PROXY}\n    EOT\n  ]\n}}\n')
    (tmp_path / "override.tf.json").write_text(json.dumps({"resource": {"helm_release": {"karpenter": {
        "//": "the proxy comes from the platform team's values",
        "values": ["controller:\n  env:\n    - name: AWS_REGION\n      value: eu-west-1\n"]}}}}))
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert [f["rule"] for f in findings(cli, with_settings(tmp_path))] == ["EKSP025"]
    result = cli("fix", str(tmp_path))
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name != ".eksproxy-gen.toml"} == before
    said = result.out + result.err  # type: ignore[attr-defined]
    assert "values is written in override.tf.json, in Terraform's JSON syntax" in said


def test_a_cached_verdict_follows_a_change_of_an_override_json_file(cli, tmp_path: Path) -> None:
    (tmp_path / ".eksproxy-gen.toml").write_text(SETTINGS)
    (tmp_path / "locals.tf").write_text(proxy_parts(cli))
    (tmp_path / "main.tf").write_text(MODULE % "\n  eks_managed_node_groups = {\n"
                                               "    ng = { cloudinit_pre_nodeadm = local.proxy_parts }\n  }")
    override = tmp_path / "override.tf.json"
    override.write_text(json.dumps({"module": {"eks": {"tags": {"team": "a"}}}}))
    old = os.stat(override).st_mtime_ns - 10_000_000_000  # older than the racy window: the result is stored
    for path in tmp_path.iterdir():
        os.utime(path, ns=(old, old))

    def check() -> set[str]:
        return missing_proxy(json.loads(cli("check", str(tmp_path), "--format", "json").out)["findings"])

    assert check() == set() and check() == set()
    override.write_text(json.dumps({"module": {"eks": {"eks_managed_node_groups": {"ng": {}}}}}))
    assert check() == missing_proxy(findings(cli, tmp_path)) == {"ng"}


# --- what python-hcl2's grammar rejects and Terraform accepts ---------------------------------------------------------

BARE_GROUP = '\n  eks_managed_node_groups = {\n    bare = {}\n    shaped = {\n%s\n    }\n  }'
ACCEPTED = {
    "blanks after a closing marker": '      description = <<-EOT\n        a\n        EOT   \n',
    "a tab after a closing marker": '      description = <<EOT\na\nEOT\t\n',
    "a marker starting with _": '      description = <<-_EOT\n        a\n        _EOT\n',
    "a marker with a letter outside ASCII": '      description = <<-FIN_É\n        a\n        FIN_É\n',
    "a name with a letter outside ASCII": '      labels = { équipe = "a" }\n',
    "an unclosed $${ escape": '      description = "cost: $${ amount"\n',
    "an unclosed %%{ escape": '      description = "100%%{"\n',
    "a newline before a for's =>": '      labels = {\n        for k in ["a"] :\n        k\n        => k\n      }\n',
    "a comment before a for's =>": '      labels = {for k in ["a"] : k # key\n        => k}\n',
    "two comments before a for's =>": '      labels = {for k in ["a"] : k # key\n        /* and */ => k}\n',
}


@pytest.mark.parametrize("shape", sorted(ACCEPTED))
def test_what_terraform_accepts_never_hides_the_module(cli, tmp_path: Path, shape: str) -> None:
    """Terraform accepts each shape (terraform fmt says so); the module around it is read whole, whether
    python-hcl2 reads the value or it is taken as one eksproxy-gen cannot compute."""
    path = tmp_path / "main.tf"
    path.write_text(MODULE % (BARE_GROUP % ACCEPTED[shape]))
    terraform = tool("terraform")
    assert subprocess.run([terraform, "fmt", "-write=false", str(path)], capture_output=True, check=False,
                          env={"TF_CLI_CONFIG_FILE": "/dev/null", "CHECKPOINT_DISABLE": "1", "PATH": "/usr/bin:/bin",
                               "HOME": str(tmp_path)}).returncode == 0
    result = cli("check", str(with_settings(tmp_path)), "--format", "json")
    data = json.loads(result.out)  # type: ignore[attr-defined]
    assert data["errors"] == []
    assert missing_proxy(data["findings"]) == {"bare", "shaped"}


@PROPERTY
@given(blanks=st.text(st.sampled_from(" \t"), min_size=1, max_size=4), trim=st.booleans(),
       indent=st.sampled_from(["", "  ", "      "]))
def test_blanks_after_a_closing_marker_change_nothing(cli, tmp_path_factory: pytest.TempPathFactory, blanks: str,
                                                     trim: bool, indent: str) -> None:
    """A closing marker followed by blanks ends the heredoc, as Terraform reads it: the verdict, the value
    (terraform console) and the fix are those of the same file without the blanks."""
    script = ["#!/bin/bash", "echo hello > /tmp/hello"]
    opener = "<<-EOT" if trim else "<<EOT"
    body = "".join((indent + line if trim else line) + "\n" for line in script)
    results = []
    for tail in ("", blanks):
        folder = folder_of(tmp_path_factory, "blanks")
        heredoc = f"{opener}\n{body}{indent if trim else ''}EOT{tail}"
        part = f'{{\n        content_type = "text/x-shellscript"\n        content = {heredoc}\n      }}'
        (folder / "main.tf").write_text(
            MODULE % f"\n  eks_managed_node_groups = {{\n    ng = {{\n      cloudinit_pre_nodeadm = [{part}]\n"
                     "    }\n  }")
        (folder / "locals.tf").write_text(f"locals {{\n  part = {heredoc}\n}}\n")
        rendered = console(folder_with(folder, "locals.tf"), "local.part")
        found = [(f["rule"], f["line"]) for f in findings(cli, folder)]
        cli("fix", str(folder))
        results.append((rendered, found, [(f["rule"], f["line"]) for f in findings(cli, folder)]))
        assert f"EOT{tail}\n" in (folder / "main.tf").read_text()  # the user's part is kept byte for byte
    assert results[0] == results[1]
    assert results[0][0] == "\n".join(script) + "\n"
    assert [rule for rule, _line in results[0][1]] == ["EKSP001"] and results[0][2] == []


def folder_with(folder: Path, *names: str) -> Path:
    """A folder holding only some files of ``folder`` (for terraform console, which needs no provider then)."""
    dest = folder.parent / (folder.name + "-only")
    dest.mkdir()
    for name in names:
        shutil.copy(folder / name, dest / name)
    return dest


# --- comments ---------------------------------------------------------------------------------------------------------

# how the marker is written on a group's line: in a comment, or in a string or heredoc
MARKERS = [
    'ops = { description = "team ops" } # eksproxy-gen:ignore ALL',
    'ops = { description = "team ops" } // eksproxy-gen:ignore ALL',
    'ops = { description = "team ops" } /* eksproxy-gen:ignore ALL */',
    'ops = { # eksproxy-gen:ignore ALL\n      description = "team ops"\n    }',
    'ops = { description = "team ops // eksproxy-gen:ignore ALL" }',
    'ops = { description = "see https://wiki.corp.example/#eksproxy-gen:ignore ALL" }',
    'ops = { description = "/* eksproxy-gen:ignore ALL */" }',
    'ops = { description = "${"#"} eksproxy-gen:ignore ALL" }',
    'ops = { description = <<-EOT\n      # eksproxy-gen:ignore ALL\n    EOT\n    }',
]


@PROPERTY
@given(chosen=st.lists(st.sampled_from(MARKERS), min_size=1, max_size=3, unique=True))
def test_only_comments_silence(cli, tmp_path_factory: pytest.TempPathFactory, chosen: list[str]) -> None:
    """A group is silenced exactly when the marker on its line is a comment: Terraform's value of the group
    (terraform console) holds the text when it is not."""
    folder = folder_of(tmp_path_factory, "comments")
    lines = [written.replace("ops =", f"g{k} =", 1) for k, written in enumerate(chosen)]
    (folder / "locals.tf").write_text("locals {\n  groups = {\n    " + "\n    ".join(lines) + "\n  }\n}\n")
    (folder / "main.tf").write_text(MODULE % "\n  eks_managed_node_groups = local.groups")
    value = console(folder_with(folder, "locals.tf"), "local.groups")
    assert isinstance(value, dict)
    text_in_value = {name for name, group in value.items() if "eksproxy-gen:ignore" in json.dumps(group)}
    data = json.loads(cli("check", str(folder), "--format", "json", "--no-cache").out)
    assert missing_proxy(data["findings"]) == text_in_value
    assert {s["node_group"] for s in data["suppressed"]} == set(value) - text_in_value


NODE_CLASS = """\
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  annotations:
    note: %s
  name: %s
spec:
  amiSelectorTerms:
    - alias: al2023@latest
"""


@pytest.mark.parametrize(("note", "name"), [
    ("plain", "default  # eksproxy-gen:ignore EKSP001 egress"),
    ("plain\n  # eksproxy-gen:ignore EKSP001 egress", "default"),
    ("plain", '"default # eksproxy-gen:ignore EKSP001 egress"'),
    ("plain", "'default # eksproxy-gen:ignore EKSP001 egress'"),
    ("plain", "default#eksproxy-gen:ignore EKSP001"),
    ("|\n      # eksproxy-gen:ignore EKSP001 egress", "default"),
    ('"a\n      # eksproxy-gen:ignore EKSP001 egress"', "default"),
])
def test_only_yaml_comments_silence_a_node_class(cli, tmp_path: Path, note: str, name: str) -> None:
    """YAML's own parser says what is a comment: a marker it keeps in a value (a quoted or block scalar right
    above the name, a name holding it) silences nothing."""
    text = NODE_CLASS % (note, name)
    (tmp_path / "karpenter.yaml").write_text(text)
    kept = "eksproxy-gen:ignore" in json.dumps(yaml.safe_load(text))
    data = json.loads(cli("check", str(tmp_path), "--format", "json").out)
    assert [s["rule"] for s in data["suppressed"]] == ([] if kept else ["EKSP001"])
    assert [f["rule"] for f in data["findings"]] == (["EKSP001"] if kept else [])


# --- parts Terraform writes with %{ } directives ----------------------------------------------------------------------

NODECONFIG_ENV = ("apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  instance:\n    environment:\n"
                  "      default:\n" + "".join(f'        {k}: "{PROXY}"\n' for k in ("HTTP_PROXY", "HTTPS_PROXY",
                                                                                    "http_proxy", "https_proxy")))
DIRECTIVES = [("%{ if var.on }", "%{ endif }"), ("%{~ if var.on ~}", "%{~ endif ~}"),
              ("%{ for x in [1] }", "%{ endfor }"), ("%{if var.on}", "%{else}\n%{endif}")]


@pytest.mark.parametrize("kind", ["application/node.eks.aws", "text/x-shellscript"])
@pytest.mark.parametrize(("opening", "closing"), DIRECTIVES)
@pytest.mark.parametrize("position", [0, 1])
def test_a_part_terraform_writes_with_directives_is_unknown(cli, tmp_path: Path, kind: str, opening: str,
                                                            closing: str, position: int) -> None:
    content = NODECONFIG_ENV if kind == "application/node.eks.aws" else "#!/bin/bash\necho hi\n"
    lines = content.split("\n")
    body = "\n".join([*lines[:3], opening, *lines[3:-1], closing]) + "\n"
    heredoc = "".join(f"          {line}\n" if line else "\n" for line in body.split("\n")[:-1])
    part = f'      {{\n        content_type = "{kind}"\n        content      = <<-EOT\n{heredoc}        EOT\n      }}'
    other = '      {\n        content_type = "text/x-shellscript"\n        content      = "#!/bin/bash"\n      }'
    parts = [other, part] if position else [part, other]
    text = MODULE % ("\n  eks_managed_node_groups = {\n    ng = {\n      cloudinit_pre_nodeadm = [\n"
                     + ",\n".join(parts) + "\n      ]\n    }\n  }")
    (tmp_path / "main.tf").write_text(text)
    found = findings(cli, with_settings(tmp_path))
    assert [f["rule"] for f in found] == ["EKSP010"]
    assert f"cloudinit_pre_nodeadm[{position}].content is a template with %{{ if }} or %{{ for }} directives" \
        in found[0]["message"]
    cli("fix", str(tmp_path), *FLAGS)
    assert (tmp_path / "main.tf").read_text() == text


def test_an_escaped_directive_is_text_and_judged(cli, tmp_path: Path) -> None:
    """``%%{`` renders as a literal ``%{`` (terraform console): the part is read, and lacks the proxy."""
    (tmp_path / "main.tf").write_text(MODULE % (
        '\n  eks_managed_node_groups = {\n    ng = {\n      cloudinit_pre_nodeadm = [{\n'
        '        content_type = "text/x-shellscript"\n        content      = <<-EOT\n          #!/bin/bash\n'
        '          printf \'%%%%{ if }\'\n        EOT\n      }]\n    }\n  }'))
    (tmp_path / "locals.tf").write_text('locals {\n  text = "printf \'%%{ if }\'"\n}\n')
    assert console(folder_with(tmp_path, "locals.tf"), "local.text") == "printf '%{ if }'"
    assert missing_proxy(findings(cli, with_settings(tmp_path))) == {"ng"}


def test_an_al2_script_with_directives_is_unknown(cli, tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(MODULE % (
        '\n  eks_managed_node_groups = {\n    ng = {\n      ami_type = "AL2_x86_64"\n'
        '      pre_bootstrap_user_data = <<-EOT\n        %{ if var.proxy }\n        export HTTPS_PROXY=x\n'
        '        %{ endif }\n      EOT\n    }\n  }'))
    assert sorted(f["rule"] for f in findings(cli, with_settings(tmp_path))) == ["EKSP010", "EKSP017"]


# --- for expressions ----------------------------------------------------------------------------------------------

FORS = [  # (the node-group map, as a for over local.shapes; shapes map a name to {proxied, enabled})
    "{ for name, shape in local.shapes : name => shape.group }",
    "{ for name, shape in local.shapes : name => shape.group if shape.enabled }",
    "{ for name, shape in local.shapes : \"${name}-pool\" => shape.group if name != \"beta\" }",
    "{ for name, shape in local.shapes : upper(name) => shape.group }",
    "{ for shape in values(local.shapes) : shape.name => shape.group }",
    "{ for name in keys(local.shapes) : name => local.shapes[name].group if !local.shapes[name].enabled }",
    "{ for name, shape in local.shapes : name => merge(shape.group, { min_size = 1 }) }",
    "{ for pair in [for n, s in local.shapes : { n = n, s = s }] : pair.n => pair.s.group }",
    "{ for name, shape in local.shapes : name => shape.group if shape.enabled && length(name) > 4 }",
    "{ for name, shape in local.shapes : shape.enabled ? name : \"off-${name}\" => shape.group }",
]


@PROPERTY
@given(shapes=st.dictionaries(st.sampled_from(GROUPS), st.tuples(st.booleans(), st.booleans()), max_size=3),
       written=st.sampled_from(FORS))
def test_for_expressions_over_literals_are_evaluated(cli, tmp_path_factory: pytest.TempPathFactory,
                                                     shapes: dict[str, tuple[bool, bool]], written: str) -> None:
    """The groups a for expression builds are judged as Terraform builds them (terraform console); a body
    using what eksproxy-gen cannot compute (a function it does not evaluate) leaves the map unknown (EKSP010)."""
    folder = folder_of(tmp_path_factory, "fors")
    entries = "".join(
        f"    {name} = {{\n      name    = \"{name}\"\n      enabled = {str(enabled).lower()}\n      group   = "
        + ("{ cloudinit_pre_nodeadm = local.proxy_parts }" if proxied else '{ instance_types = ["m6i.large"] }')
        + "\n    }\n" for name, (proxied, enabled) in shapes.items())
    (folder / "locals.tf").write_text(proxy_parts(cli) + f"locals {{\n  shapes = {{\n{entries}  }}\n"
                                      f"  groups = {written}\n}}\n")
    (folder / "main.tf").write_text(MODULE % "\n  eks_managed_node_groups = local.groups")
    built = console(folder_with(folder, "locals.tf"), "{for k, v in local.groups : k => can(v.cloudinit_pre_nodeadm)}")
    assert isinstance(built, dict)
    found = findings(cli, folder)
    unknown_collection = "keys(" in written or "values(" in written
    if unknown_collection or (shapes and ("upper(" in written or "length(" in written)):
        assert [f["rule"] for f in found] == ["EKSP010"]
        return
    assert missing_proxy(found) == {k for k, proxied in built.items() if not proxied}
    assert {f["node_group"] for f in found} <= set(built)


@PROPERTY
@given(names=st.lists(st.sampled_from(["HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy",
                                       "no_proxy", "AWS_REGION"]), unique=True),
       shape=st.sampled_from(["list", "map", "set"]), condition=st.booleans())
def test_a_controller_env_built_by_a_for_expression_is_evaluated(cli, tmp_path_factory: pytest.TempPathFactory,
                                                                 names: list[str], shape: str,
                                                                 condition: bool) -> None:
    folder = folder_of(tmp_path_factory, "controller")
    no_proxy = "localhost,127.0.0.1,169.254.169.254,10.0.0.0/16,.internal,.eks.amazonaws.com,10.100.0.0/16," \
               "172.20.0.0/16"
    value = {n: no_proxy if n.lower() == "no_proxy" else PROXY for n in names}
    keep = ' if v.name != "AWS_REGION"' if condition else ""
    if shape == "list":
        items = ", ".join(f'{{ name = "{n}", value = "{v}" }}' for n, v in value.items())
        env = f"[for v in local.proxy_env : v{keep}]"
    elif shape == "map":
        items = ", ".join(f'{n} = "{v}"' for n, v in value.items())
        env = "[for k, v in local.proxy_env : { name = k, value = v }" + (' if k != "AWS_REGION"' if condition
                                                                           else "") + "]"
    else:
        items = ", ".join(f'"{n}={v}"' for n, v in value.items())
        env = "[for s in toset(local.proxy_env) : { name = split(\"=\", s)[0], value = s }]"
    locals_tf = f"locals {{\n  proxy_env = {'{' if shape == 'map' else '['}{items}{'}' if shape == 'map' else ']'}\n" \
                f"  env = {env}\n}}\n"
    (folder / "locals.tf").write_text(locals_tf)
    (folder / "karpenter.tf").write_text(
        'resource "helm_release" "karpenter" {\n  name  = "karpenter"\n  chart = "oci://public.ecr.aws/karpenter/'
        'karpenter"\n\n  values = [\n    yamlencode({\n      controller = {\n        env = local.env\n      }\n'
        "    })\n  ]\n}\n")
    env_value = console(folder_with(folder, "locals.tf"), "local.env")
    rules = [f["rule"] for f in findings(cli, folder)]
    if shape == "set" and names:  # split() is not evaluated: the controller's env is unknown, and said to be
        assert rules == ["EKSP010"]
        return
    assert isinstance(env_value, list)
    given_names = {e["name"] for e in env_value}
    assert ("EKSP025" in rules) == ("HTTPS_PROXY" not in given_names and "https_proxy" not in given_names)


def test_a_for_over_what_only_terraform_knows_names_the_expression(cli, tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(MODULE % (
        "\n  eks_managed_node_groups = {\n    for name, group in var.shapes : name => merge(local.common_group, group)"
        "\n  }"))
    found = findings(cli, with_settings(tmp_path))
    assert [f["rule"] for f in found] == ["EKSP010"]
    assert "is { for name, group in var.shapes" in found[0]["message"]
    assert "local.common_group, which every group merges" in found[0]["message"]


# --- functions the README says are followed ---------------------------------------------------------------------------

# how a group's cloudinit_pre_nodeadm is written: {a} and {b} are local.proxy_parts or local.plain_parts
CALLS = [
    "var.on ? {a} : {b}",
    "!var.on ? {a} : {b}",
    "try({a}, [])",
    'lookup(local.by_team, "ops", {b})',
    'lookup(local.by_team, "dev", {b})',
    'lookup(local.by_team, "qa", {b})',
    "coalesce(local.nothing, {a})",
    "try(local.by_team.qa, {a})",
    'var.on ? lookup(local.by_team, "ops", {a}) : try({b}, null)',
]
PARTS = ("local.proxy_parts", "local.plain_parts")


@PROPERTY
@given(written=st.sampled_from(CALLS), a=st.sampled_from(PARTS), b=st.sampled_from(PARTS), ops=st.sampled_from(PARTS))
def test_functions_and_agreeing_conditionals_are_followed_as_terraform_evaluates_them(
        cli, tmp_path_factory: pytest.TempPathFactory, written: str, a: str, b: str, ops: str) -> None:
    """try(), lookup(), coalesce() of literals and conditionals whose branches agree are judged as the value
    terraform console computes (proxied or not); where the value depends on what only Terraform knows (a
    variable's value decides between branches that differ, a try() of an unknown) the group is EKSP010, never
    "no proxy"."""
    folder = folder_of(tmp_path_factory, "calls")
    expression = written.format(a=a, b=b)
    plain = ('  plain_parts = [{\n    content_type = "text/x-shellscript"\n'
             '    content      = "#!/bin/bash\\necho hi\\n"\n  }]\n')
    (folder / "locals.tf").write_text(
        proxy_parts(cli) + f"locals {{\n{plain}  nothing = null\n  by_team = {{\n    ops = {ops}\n"
        "    dev = local.plain_parts\n  }\n}\n\nvariable \"on\" {\n  type    = bool\n  default = true\n}\n")
    (folder / "main.tf").write_text(MODULE % f"\n  eks_managed_node_groups = {{\n    g = {{\n"
                                             f"      cloudinit_pre_nodeadm = {expression}\n    }}\n  }}")
    oracle = folder_with(folder, "locals.tf")
    proxied = [console(oracle, f"anytrue([for p in {expression.replace('var.on', str(on).lower())} : "
                                f"strcontains(p.content, \"HTTPS_PROXY\")])") for on in (True, False)]
    found = findings(cli, folder)
    if proxied[0] != proxied[1]:  # the variable's value decides: only Terraform can say
        assert [f["rule"] for f in found] == ["EKSP010"]
        return
    assert "EKSP010" not in {f["rule"] for f in found}
    assert missing_proxy(found) == (set() if proxied[0] else {"g"})


# --- computed keys ----------------------------------------------------------------------------------------------------

KEYS = ['"${local.env}-general"', "(local.name)", '"${"a"}b"', '"pool-${local.size}"', '"${local.env}"',
        '"${upper(local.env)}"', '"${var.env}-x"', "(var.env)"]


@pytest.mark.parametrize("key", KEYS)
def test_a_group_key_computed_from_known_values_names_the_group_terraform_names(cli, tmp_path_factory:
                                                                                pytest.TempPathFactory,
                                                                                key: str) -> None:
    """A node-group key written as an expression of known locals is the key terraform console computes: the group
    is judged under that name (and fixed); a key only Terraform can compute leaves the map unknown (EKSP010)."""
    folder = folder_of(tmp_path_factory, "keys")
    (folder / "locals.tf").write_text('locals {\n  env  = "prod"\n  name = "ops"\n  size = 3\n}\n\n'
                                      'variable "env" {\n  type = string\n}\n')
    (folder / "main.tf").write_text(MODULE % f'\n  eks_managed_node_groups = {{\n    {key} = {{\n'
                                              '      instance_types = ["m6i.large"]\n    }\n  }')
    found = findings(cli, folder)
    if "var." in key or "upper(" in key:  # var.env has no value offline; upper() is not evaluated
        assert [f["rule"] for f in found] == ["EKSP010"]
        return
    oracle = folder_with(folder, "locals.tf")
    (oracle / "locals.tf").write_text((oracle / "locals.tf").read_text().replace(
        'variable "env" {\n  type = string\n}\n', ""))
    name = console(oracle, key.strip("()") if key.startswith("(") else key)
    assert missing_proxy(found) == {name}
    fixed = json.loads(cli("fix", str(folder), "--format", "json", "--no-cache").out)
    assert [g["node_group"] for g in fixed["fixed"]] == [name]
    assert findings(cli, folder) == []
