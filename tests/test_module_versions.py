"""The table of terraform-aws-eks behaviour per release (generator/policy/data/eks_module_versions.json).

The table is extracted from the module's own sources by tests/tools/extract_module_versions.py. The
first tests pin, on the committed table, the differences between releases that eksproxy-gen's verdicts
depend on (each is checked against the module's sources at the tags named); the last ones build a small
git repository of a made-up module and check that the extractor turns it into exactly the expected
table, so the extractor itself is tested offline.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from .conftest import REPO

EXTRACTOR = REPO / "tests" / "tools" / "extract_module_versions.py"
AL2023 = "AL2023_x86_64_STANDARD"


@functools.cache
def committed() -> dict[str, Any]:
    """The table as the installed package carries it."""
    text = resources.files("eksproxy_gen.policy.data").joinpath("eks_module_versions.json").read_text("utf-8")
    table: dict[str, Any] = json.loads(text)
    return table


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version.split("-")[0]))


def releases(low: str, high: str) -> list[str]:
    """The releases from low to high, both included."""
    return [v for v in committed()["versions"] if _key(low) <= _key(v) <= _key(high)]


def era(version: str) -> dict[str, Any]:
    return next(e for e in committed()["eras"] if version in e["versions"])


def behaviour(map_name: str, version: str) -> dict[str, Any]:
    return next(e for e in committed()["user_data"][map_name] if version in e["versions"])


def outcome(map_name: str, version: str, scenario: str) -> dict[str, Any]:
    return next(o for o in behaviour(map_name, version)["outcomes"] if scenario in o["when"])


def exists(table: dict[str, list[list[str]]], name: str, version: str) -> bool:
    """Whether ``name`` exists at ``version`` in a name -> [[first, last], ...] table."""
    order = committed()["versions"]
    at = order.index(version)
    return any(order.index(first) <= at <= order.index(last) for first, last in table.get(name, []))


# -- the committed table --------------------------------------------------------------------------


def test_the_table_lists_every_release_from_v17_once_in_order_and_each_in_one_era() -> None:
    versions = committed()["versions"]
    assert versions == sorted(versions, key=_key) and len(set(versions)) == len(versions)
    assert versions[0] == "17.0.0" and {"18.0.0", "19.21.0", "20.8.3", "20.8.4", "20.37.2", "21.0.0"} <= set(versions)
    for eras in (committed()["eras"], *committed()["user_data"].values()):
        covered = [v for e in eras for v in e["versions"]]
        assert covered == [v for v in versions if v in covered], "eras are consecutive runs in release order"
    assert [v for e in committed()["eras"] for v in e["versions"]] == versions


def test_v19_chooses_the_template_by_platform_only_and_has_no_cloudinit_pre_nodeadm() -> None:
    """modules/_user_data/main.tf at v19.x: ``local.platform[var.platform]``; ami_type is never read."""
    for version in releases("19.0.0", "19.21.0"):
        for map_name in ("eks_managed_node_groups", "self_managed_node_groups"):
            selection = behaviour(map_name, version)["selection"]
            assert selection == {"by_ami_type": False, "by_platform": True, "when_both_set": None}, version
            assert not exists(committed()["group_keys"][map_name], "cloudinit_pre_nodeadm", version)
        assert "cloudinit_pre_nodeadm" not in era(version)["submodules"]["eks-managed-node-group"]["variables"]
    managed = outcome("eks_managed_node_groups", "19.21.0", f"ami_type={AL2023}")
    assert managed["from"] == "data.cloudinit_config.linux_eks_managed_node_group"


def test_v20_root_passes_cloudinit_pre_nodeadm_to_eks_managed_groups_only_from_20_8_4() -> None:
    """node_groups.tf gained ``cloudinit_pre_nodeadm = try(each.value.cloudinit_pre_nodeadm, ...)`` in v20.8.4
    (PR #2981); before, the key was silently ignored even with platform = "al2023"."""
    for version in releases("20.0.0", "20.8.3"):
        assert not exists(committed()["group_keys"]["eks_managed_node_groups"], "cloudinit_pre_nodeadm", version)
        assert "cloudinit_pre_nodeadm" not in era(version)["node_groups"]["eks_managed_node_groups"]["key_facts"]
    assert "cloudinit_pre_nodeadm" not in outcome("eks_managed_node_groups", "20.8.3", "platform=al2023").get(
        "inputs", [])
    fact = era("20.8.4")["node_groups"]["eks_managed_node_groups"]["key_facts"]["cloudinit_pre_nodeadm"]
    assert fact == {"defaults": "eks_managed_node_group_defaults", "fallback": [], "unset": []}
    assert outcome("eks_managed_node_groups", "20.8.4", "platform=al2023")["inputs"] == ["cloudinit_pre_nodeadm"]


def test_v21_has_no_defaults_maps_no_platform_typed_groups_and_defaults_ami_type_to_al2023() -> None:
    for version in releases("21.0.0", "99.0.0"):
        facts = era(version)
        assert facts["defaults_maps"] == []
        assert not exists(committed()["root_variables"], "eks_managed_node_group_defaults", version)
        for map_name in ("eks_managed_node_groups", "self_managed_node_groups"):
            group = facts["node_groups"][map_name]
            assert group["type"] == "map(object)" and "dropped" in group["unknown_keys"]
            assert "platform" not in group["key_facts"]
            assert not exists(committed()["group_attributes"][map_name], "platform", version)
            assert group["key_facts"]["ami_type"]["unset"] == AL2023
            assert behaviour(map_name, version)["selection"]["by_platform"] is False
        assert "platform" not in facts["submodules"]["eks-managed-node-group"]["variables"]
    assert era("20.37.2")["node_groups"]["eks_managed_node_groups"]["key_facts"]["ami_type"]["unset"] is None


def test_a_custom_ami_with_bootstrap_user_data_puts_cloudinit_post_nodeadm_after_the_module_nodeconfig() -> None:
    """modules/_user_data/main.tf ``nodeadm_cloudinit``: pre parts, the module's NodeConfig, post parts. Until
    v20.9.0 only ``platform = "al2023"`` selects the AL2023 user data (``ami_type`` does from v20.9.0)."""
    for version in releases("20.8.4", "99.0.0"):
        selects = "platform=al2023" if _key(version) < (20, 9) else f"ami_type={AL2023}"
        for map_name in ("eks_managed_node_groups", "self_managed_node_groups"):
            parts = outcome(map_name, version, f"{selects}+custom_ami")["parts"]
            assert [p["content"] for p in parts][::2] == ["{{cloudinit_pre_nodeadm}}", "{{cloudinit_post_nodeadm}}"]
            assert parts[1]["content_type"] == "application/node.eks.aws"
            assert parts[1]["from"] == ["template al2023_user_data.tpl"] and "kind: NodeConfig" in parts[1]["content"]
        without = outcome("eks_managed_node_groups", version, selects)
        assert without["inputs"] == ["cloudinit_pre_nodeadm"] and "cloudinit_post_nodeadm" in without["ignored"]


def test_worker_groups_and_node_groups_exist_before_v18_only() -> None:
    """v18.0.0 replaced them with eks_managed_node_groups / self_managed_node_groups (UPGRADE-18.0.md)."""
    for version in committed()["versions"]:
        maps = set(era(version)["node_group_maps"])
        old = {"node_groups", "worker_groups", "worker_groups_launch_template"}
        new = {"eks_managed_node_groups", "self_managed_node_groups"}
        assert (old <= maps and not new & maps) if _key(version) < (18,) else (new <= maps and not old & maps)


def test_a_managed_al2_groups_pre_bootstrap_user_data_is_a_verbatim_shell_part_but_custom_amis_get_a_script() -> None:
    """Without a custom AMI the module adds no ``#!`` line: cloud-init cannot run a part that lacks one."""
    for version in releases("18.0.0", "99.0.0"):
        scenario = "unset" if _key(version) < (21,) else "ami_type=AL2_x86_64"
        part = outcome("eks_managed_node_groups", version, scenario)["parts"]
        assert part == [{"content_type": "text/x-shellscript", "content": "{{pre_bootstrap_user_data}}",
                         "verbatim": True}]
        script = outcome("eks_managed_node_groups", version, scenario + "+custom_ami")
        assert script["shebang"] == "#!/bin/bash" and script["text"].startswith("#!/bin/bash\nset -e\n")


# -- the extractor, on a repository built here ----------------------------------------------------

V19 = {
    "variables.tf": """
variable "create" {
  type    = bool
  default = true
}

variable "cluster_name" {
  type = string
}

variable "eks_managed_node_groups" {
  type    = any
  default = {}
}

variable "eks_managed_node_group_defaults" {
  type    = any
  default = {}
}
""",
    "node_groups.tf": """
module "eks_managed_node_group" {
  source   = "./modules/eks-managed-node-group"
  for_each = { for k, v in var.eks_managed_node_groups : k => v if var.create }

  cluster_name            = var.cluster_name
  platform                = try(each.value.platform, var.eks_managed_node_group_defaults.platform, "linux")
  pre_bootstrap_user_data = try(
    each.value.pre_bootstrap_user_data, var.eks_managed_node_group_defaults.pre_bootstrap_user_data, ""
  )
  create_launch_template  = try(each.value.create_launch_template, true)
}
""",
    "modules/eks-managed-node-group/variables.tf": """
variable "cluster_name" {
  type = string
}

variable "platform" {
  type    = string
  default = "linux"
}

variable "pre_bootstrap_user_data" {
  type    = string
  default = ""
}

variable "create_launch_template" {
  type    = bool
  default = true
}
""",
    "modules/eks-managed-node-group/main.tf": """
module "user_data" {
  source = "../_user_data"

  platform                = var.platform
  cluster_name            = var.cluster_name
  pre_bootstrap_user_data = var.pre_bootstrap_user_data
}

resource "aws_launch_template" "this" {
  count = var.create_launch_template ? 1 : 0

  user_data = module.user_data.user_data
}
""",
    "modules/_user_data/variables.tf": """
variable "platform" {
  type    = string
  default = "linux"
}

variable "cluster_name" {
  type    = string
  default = ""
}

variable "pre_bootstrap_user_data" {
  type    = string
  default = ""
}
""",
    "modules/_user_data/main.tf": """
locals {
  platform = {
    bottlerocket = {
      user_data = base64encode(templatefile("${path.module}/../../templates/bottlerocket_user_data.tpl", {
        cluster_name = var.cluster_name
      }))
    }
    linux = {
      user_data = try(data.cloudinit_config.linux_eks_managed_node_group[0].rendered, "")
    }
  }
}

data "cloudinit_config" "linux_eks_managed_node_group" {
  count = var.platform == "linux" && var.pre_bootstrap_user_data != "" ? 1 : 0

  part {
    content_type = "text/x-shellscript"
    content      = var.pre_bootstrap_user_data
  }
}
""",
    "modules/_user_data/outputs.tf": """
output "user_data" {
  value = try(local.platform[var.platform].user_data, null)
}
""",
    "templates/bottlerocket_user_data.tpl": '[settings.kubernetes]\n"cluster-name" = "${cluster_name}"\n',
}

V21 = {
    "variables.tf": """
variable "create" {
  type    = bool
  default = true
}

variable "name" {
  type = string
}

variable "eks_managed_node_groups" {
  type = map(object({
    create                  = optional(bool, true)
    ami_type                = optional(string)
    pre_bootstrap_user_data = optional(string)
    cloudinit_pre_nodeadm = optional(list(object({
      content      = string
      content_type = optional(string)
    })))
  }))
  default = {}
}
""",
    "node_groups.tf": """
module "eks_managed_node_group" {
  source   = "./modules/eks-managed-node-group"
  for_each = var.create ? var.eks_managed_node_groups : {}

  create                  = each.value.create
  cluster_name            = var.name
  ami_type                = each.value.ami_type
  pre_bootstrap_user_data = each.value.pre_bootstrap_user_data
  cloudinit_pre_nodeadm   = each.value.cloudinit_pre_nodeadm
}
""",
    "modules/eks-managed-node-group/variables.tf": """
variable "create" {
  type     = bool
  default  = true
  nullable = false
}

variable "cluster_name" {
  type = string
}

variable "ami_type" {
  type     = string
  default  = "AL2023_x86_64_STANDARD"
  nullable = false
}

variable "pre_bootstrap_user_data" {
  type    = string
  default = null
}

variable "cloudinit_pre_nodeadm" {
  type = list(object({
    content      = string
    content_type = optional(string)
  }))
  default = null
}
""",
    "modules/eks-managed-node-group/main.tf": """
module "user_data" {
  source = "../_user_data"

  ami_type                = var.ami_type
  cluster_name            = var.cluster_name
  pre_bootstrap_user_data = var.pre_bootstrap_user_data
  cloudinit_pre_nodeadm   = var.cloudinit_pre_nodeadm
}

resource "aws_launch_template" "this" {
  count = var.create ? 1 : 0

  user_data = module.user_data.user_data
}
""",
    "modules/_user_data/variables.tf": """
variable "ami_type" {
  type    = string
  default = "AL2023_x86_64_STANDARD"
}

variable "cluster_name" {
  type    = string
  default = ""
}

variable "pre_bootstrap_user_data" {
  type     = string
  default  = ""
  nullable = false
}

variable "cloudinit_pre_nodeadm" {
  type     = any
  default  = []
  nullable = false
}
""",
    "modules/_user_data/main.tf": """
locals {
  ami_type_to_user_data_type = {
    AL2_x86_64             = "linux"
    AL2023_x86_64_STANDARD = "al2023"
  }
  user_data_type = local.ami_type_to_user_data_type[var.ami_type]

  nodeadm_parts = concat(var.cloudinit_pre_nodeadm, [{
    content_type = "application/node.eks.aws"
    content = templatefile("${path.module}/../../templates/al2023_user_data.tpl", {
      cluster_name = var.cluster_name
    })
  }])
}

data "cloudinit_config" "al2023" {
  count = local.user_data_type == "al2023" ? 1 : 0

  dynamic "part" {
    for_each = local.nodeadm_parts
    content {
      content      = part.value.content
      content_type = part.value.content_type
    }
  }
}

data "cloudinit_config" "linux" {
  count = local.user_data_type == "linux" && var.pre_bootstrap_user_data != "" ? 1 : 0

  part {
    content_type = "text/x-shellscript"
    content      = "#!/bin/bash\\nset -e\\n${var.pre_bootstrap_user_data}"
  }
}
""",
    "modules/_user_data/outputs.tf": """
output "user_data" {
  value = (local.user_data_type == "al2023"
    ? data.cloudinit_config.al2023[0].rendered
    : try(data.cloudinit_config.linux[0].rendered, null))
}
""",
    "templates/al2023_user_data.tpl": (
        "---\napiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  cluster:\n    name: ${cluster_name}\n"),
}

HANDLED_BY = "module.eks_managed_node_group (modules/eks-managed-node-group), one instance per group"
CUSTOM = "+custom_ami"
AMIS = ["AL2_x86_64", AL2023, "BOTTLEROCKET_x86_64", "WINDOWS_CORE_2019_x86_64"]
PLATFORMS = ["linux", "al2023", "bottlerocket", "windows"]
BOTH = f"ami_type={AL2023},platform=bottlerocket"


def both_ways(*scenarios: str) -> list[str]:
    """Each scenario as given, with a custom AMI (ami_id and enable_bootstrap_user_data), with ami_id alone and
    with enable_bootstrap_user_data alone, in that order."""
    return [s + suffix for s in scenarios for suffix in ("", CUSTOM, "+ami_id", "+bootstrap_user_data")]


V19_FACTS = {
    "node_group_maps": ["eks_managed_node_groups"],
    "defaults_maps": ["eks_managed_node_group_defaults"],
    "node_groups": {
        "eks_managed_node_groups": {
            "handled_by": HANDLED_BY,
            "type": "any",
            "defaults_map": "eks_managed_node_group_defaults",
            "key_facts": {
                "pre_bootstrap_user_data": {"defaults": "eks_managed_node_group_defaults", "fallback": "",
                                            "unset": ""},
                "platform": {"defaults": "eks_managed_node_group_defaults", "fallback": "linux", "unset": "linux"},
                "create_launch_template": {"fallback": True, "unset": True},
            },
        },
    },
    "submodules": {
        "eks-managed-node-group": {
            "variables": {"pre_bootstrap_user_data": {"default": ""}, "platform": {"default": "linux"},
                          "create_launch_template": {"default": True}},
            "user_data_module_gets": {"platform": "var.platform"},
        },
    },
    "ami_type_maps": {},
    "templates": ["templates/bottlerocket_user_data.tpl"],
}

V19_BOTTLEROCKET = {
    "format": "text", "from": ["template bottlerocket_user_data.tpl"],
    "text": '[settings.kubernetes]\n"cluster-name" = "{{computed}}"\n', "shebang": None, "inputs": [],
    "ignored": ["pre_bootstrap_user_data"],
}

V19_USER_DATA = {
    "launch_template": {"default": True, "create_launch_template=false": False,
                        "use_custom_launch_template=false": True, "create=false": True},
    "outcomes": [
        {"when": both_ways("unset", *(f"ami_type={a}" for a in AMIS), "platform=linux"),
         "format": "mime", "from": "data.cloudinit_config.linux_eks_managed_node_group",
         "parts": [{"content_type": "text/x-shellscript", "content": "{{pre_bootstrap_user_data}}",
                    "verbatim": True}],
         "inputs": ["pre_bootstrap_user_data"], "ignored": []},
        {"when": both_ways("platform=al2023", "platform=windows"), "user_data": None},
        {"when": both_ways("platform=bottlerocket", BOTH), **V19_BOTTLEROCKET},
    ],
    "selection": {"by_ami_type": False, "by_platform": True, "when_both_set": None},
}

V21_FACTS = {
    "node_group_maps": ["eks_managed_node_groups"],
    "defaults_maps": [],
    "node_groups": {
        "eks_managed_node_groups": {
            "handled_by": HANDLED_BY,
            "type": "map(object)",
            "defaults_map": None,
            "attribute_defaults": {"create": True},
            "unknown_keys": "dropped: the map is typed, Terraform keeps only the declared attributes",
            "key_facts": {
                "cloudinit_pre_nodeadm": {"attribute": True, "unset": None},
                "pre_bootstrap_user_data": {"attribute": True, "unset": None},
                "ami_type": {"attribute": True, "unset": AL2023},
                "create": {"attribute": True, "unset": True},
            },
        },
    },
    "submodules": {
        "eks-managed-node-group": {
            "variables": {"cloudinit_pre_nodeadm": {"default": None}, "pre_bootstrap_user_data": {"default": None},
                          "ami_type": {"default": AL2023, "nullable": False},
                          "create": {"default": True, "nullable": False}},
            "user_data_module_gets": {"ami_type": "var.ami_type"},
        },
    },
    "ami_type_maps": {
        "modules/_user_data: local.ami_type_to_user_data_type": {
            "map": {"AL2_x86_64": "linux", AL2023: "al2023"},
            "read_by": ["user_data_type = local.ami_type_to_user_data_type[var.ami_type]"],
        },
    },
    "templates": ["templates/al2023_user_data.tpl"],
}

NODECONFIG = "---\napiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  cluster:\n    name: {{computed}}\n"
V21_USER_DATA = {
    "launch_template": {"default": True, "create_launch_template=false": True,
                        "use_custom_launch_template=false": True, "create=false": False},
    "outcomes": [
        {"when": both_ways("unset", f"ami_type={AL2023}", *(f"platform={p}" for p in PLATFORMS), BOTH),
         "format": "mime", "from": "data.cloudinit_config.al2023",
         "parts": [{"content_type": "application/node.eks.aws", "content": "{{cloudinit_pre_nodeadm}}",
                    "verbatim": True},
                   {"content_type": "application/node.eks.aws", "content": NODECONFIG,
                    "from": ["template al2023_user_data.tpl"]}],
         "inputs": ["cloudinit_pre_nodeadm"], "ignored": ["pre_bootstrap_user_data"]},
        {"when": both_ways("ami_type=AL2_x86_64"),
         "format": "mime", "from": "data.cloudinit_config.linux",
         "parts": [{"content_type": "text/x-shellscript",
                    "content": "#!/bin/bash\nset -e\n{{pre_bootstrap_user_data}}"}],
         "inputs": ["pre_bootstrap_user_data"], "ignored": ["cloudinit_pre_nodeadm"]},
        *({"when": both_ways(f"ami_type={ami}"),
           "error": f"root.module.eks_managed_node_group.module.user_data: local.user_data_type: no key '{ami}'"}
          for ami in ("BOTTLEROCKET_x86_64", "WINDOWS_CORE_2019_x86_64")),
    ],
    "selection": {"by_ami_type": True, "by_platform": False, "when_both_set": None},
}


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com"}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def commit(repo: Path, files: dict[str, str], message: str, *tags: str) -> None:
    for path in repo.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            path.unlink()
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text.lstrip("\n"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    for tag in tags:
        git(repo, "tag", tag)


@pytest.fixture(scope="module")
def module_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A made-up terraform-aws-eks: a v19-like release (platform picks the template, defaults map), the same
    files again in a later release, then a v21-like one (typed groups, ami_type picks the template). Tags the
    extractor must skip: below v17, not a version, a pre-release whose final exists."""
    repo = tmp_path_factory.mktemp("terraform-aws-eks")
    git(repo, "init", "-q")
    commit(repo, V19, "v19-like", "v16.0.0", "v19.0.0", "docs-1")
    commit(repo, {**V19, "README.md": "same module files\n"}, "readme only", "v19.1.0")
    commit(repo, V21, "v21-like", "v21.0.0-rc.1", "v21.0.0", "v21.1.0-beta.1")
    return repo


def extract(repo: Path, output: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(EXTRACTOR), "--repo", str(repo), "--output", str(output)],
                          check=True, capture_output=True, text=True)


def test_the_extractor_turns_a_module_repository_into_exactly_the_expected_table(module_repo: Path,
                                                                                  tmp_path: Path) -> None:
    output = tmp_path / "table.json"
    done = extract(module_repo, output)
    table = json.loads(output.read_text())
    sys.path.insert(0, str(EXTRACTOR.parent))
    import extract_module_versions as extractor

    v19, v21 = ["19.0.0", "19.1.0"], ["21.0.0", "21.1.0-beta.1"]
    assert table == {
        "about": extractor.ABOUT,
        "source": "https://github.com/terraform-aws-modules/terraform-aws-eks",
        "scenarios": extractor.SCENARIOS,
        "versions": [*v19, *v21],
        "eras": [{"versions": v19, **V19_FACTS}, {"versions": v21, **V21_FACTS}],
        "user_data": {"eks_managed_node_groups": [{"versions": v19, **V19_USER_DATA},
                                                  {"versions": v21, **V21_USER_DATA}]},
        "root_variables": {
            "cluster_name": [["19.0.0", "19.1.0"]], "create": [["19.0.0", "21.1.0-beta.1"]],
            "eks_managed_node_group_defaults": [["19.0.0", "19.1.0"]],
            "eks_managed_node_groups": [["19.0.0", "21.1.0-beta.1"]], "name": [["21.0.0", "21.1.0-beta.1"]],
        },
        "group_keys": {"eks_managed_node_groups": {
            "ami_type": [v21], "cloudinit_pre_nodeadm": [v21], "create": [v21],
            "create_launch_template": [v19], "platform": [v19], "pre_bootstrap_user_data": [["19.0.0", v21[-1]]],
        }},
        "group_attributes": {"eks_managed_node_groups": {
            "ami_type": [v21], "cloudinit_pre_nodeadm": [v21], "create": [v21], "pre_bootstrap_user_data": [v21],
        }},
    }
    assert "4 releases in 2 eras" in done.stdout


def test_the_extractor_writes_the_same_bytes_every_run(module_repo: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    extract(module_repo, first)
    extract(module_repo, second)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_text().endswith("}\n")


def test_the_extractor_stops_with_the_release_it_cannot_read(module_repo: Path, tmp_path: Path) -> None:
    """A construct it does not model (here a function it does not know) stops it: it never guesses."""
    broken = tmp_path / "broken"
    subprocess.run(["git", "clone", "-q", str(module_repo), str(broken)], check=True)
    main_tf = V21["modules/_user_data/main.tf"].replace("local.ami_type_to_user_data_type[var.ami_type]",
                                                        "sha1(var.ami_type)")
    commit(broken, {**V21, "modules/_user_data/main.tf": main_tf}, "unknown function", "v21.2.0")
    failed = subprocess.run([sys.executable, str(EXTRACTOR), "--repo", str(broken), "--output",
                             str(tmp_path / "out.json")], capture_output=True, text=True)
    assert failed.returncode != 0 and not (tmp_path / "out.json").exists()
    assert "v21.2.0" in failed.stderr and "sha1" in failed.stderr and "Traceback" not in failed.stderr
