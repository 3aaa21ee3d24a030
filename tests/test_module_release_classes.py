"""Classes of module-release semantics, enumerated from the table of terraform-aws-eks releases
(generator/policy/data/eks_module_versions.json, extracted from the module's sources), through the CLI:

* ``cloudinit_post_nodeadm`` counts only where the release puts it in the user data, which v20 decides by
  ``enable_bootstrap_user_data``, not by ``ami_id``;
* a local copy whose inputs several releases declare is judged by all of them, or by what its own
  ``node_groups.tf`` reads when that tells them apart, never as the newest;
* a group setting a release no longer reads (v21's ``platform``) is said to be ignored where it changed what
  the group got.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest

from eksproxy_gen.policy import module_versions

from .test_module_versions import committed

PROXY = "http://proxy.corp.example:3128"
NO_PROXY = "localhost,127.0.0.1,169.254.169.254,10.0.0.0/16,172.20.0.0/16,.internal,.eks.amazonaws.com"
NODECONFIG = (
    "[{\n        content_type = \"application/node.eks.aws\"\n        content      = <<-EOT\n"
    "          apiVersion: node.eks.aws/v1alpha1\n          kind: NodeConfig\n          spec:\n"
    "            instance:\n              environment:\n                default:\n"
    + "".join(f"                  {k}: {v}\n" for k, v in (
        ("HTTP_PROXY", PROXY), ("HTTPS_PROXY", PROXY), ("NO_PROXY", NO_PROXY), ("http_proxy", PROXY),
        ("https_proxy", PROXY), ("no_proxy", NO_PROXY)))
    + "        EOT\n      }]")


def _findings(cli, folder: Path) -> list[dict[str, object]]:
    return json.loads(cli("check", str(folder), "--format", "json", "--no-cache").out)["findings"]


def _runs(table_runs: list[list[str]], version: str) -> bool:
    return any(module_versions.key(a) <= module_versions.key(version) <= module_versions.key(b)
               for a, b in table_runs)


def _group_keys(map_name: str, version: str) -> set[str]:
    return {k for k, runs in committed()["group_keys"].get(map_name, {}).items() if _runs(runs, version)}


# -- cloudinit_post_nodeadm: release x enable_bootstrap_user_data x ami_id -------------------------------------------

POST_RELEASES = [v for v in committed()["versions"]
                 if module_versions.key(v) >= (20, 8, 4)]  # the releases with cloudinit_post_nodeadm
# one release per user-data era of managed groups, so every behaviour is met once
POST_ERAS = sorted({next(v for v in e["versions"] if v in POST_RELEASES)
                    for e in committed()["user_data"]["eks_managed_node_groups"]
                    if any(v in POST_RELEASES for v in e["versions"])}, key=module_versions.key)


def _post_reaches(version: str, ami_id: bool, bootstrap: bool, map_name: str = "eks_managed_node_groups") -> bool:
    """What the module's own _user_data does (read off the table, the extraction of its sources)."""
    selects = "platform=al2023" if module_versions.key(version) < (20, 9) else "ami_type=AL2023_x86_64_STANDARD"
    suffix = {(False, False): "", (True, True): "+custom_ami", (True, False): "+ami_id",
              (False, True): "+bootstrap_user_data"}[(ami_id, bootstrap)]
    era = next(e for e in committed()["user_data"][map_name] if version in e["versions"])
    found = next(o for o in era["outcomes"] if selects + suffix in o["when"])
    return "cloudinit_post_nodeadm" in found.get("inputs", [])


def test_v20_adds_cloudinit_post_nodeadm_by_enable_bootstrap_user_data_alone() -> None:
    """modules/_user_data/main.tf (v20.8.4 to v20.37.2): ``nodeadm_cloudinit = var.enable_bootstrap_user_data ?
    concat(pre, [tpl], post) : pre``; ami_id is not read there."""
    for version in POST_RELEASES:
        for ami_id in (False, True):
            assert _post_reaches(version, ami_id, True), version
            assert not _post_reaches(version, ami_id, False), version


@pytest.mark.parametrize("version", POST_ERAS)
@pytest.mark.parametrize("ami_id", [False, True], ids=["eks-ami", "ami_id"])
@pytest.mark.parametrize("bootstrap", [None, False, True, "var.bootstrap"], ids=["unset", "false", "true", "expr"])
@pytest.mark.parametrize("where", ["pre", "post"])
@pytest.mark.parametrize("kind", ["eks_managed", "self_managed"])
def test_a_proxy_counts_only_where_the_release_puts_its_part_in_the_user_data(
        cli, tmp_path: Path, version: str, ami_id: bool, bootstrap: bool | str | None, where: str, kind: str) -> None:
    """A value only Terraform can compute counts where both values put the part in the user data (self-managed
    groups always get it: their submodule passes enable_bootstrap_user_data = true on its own)."""
    platform = '      platform = "al2023"\n' if module_versions.key(version) < (20, 9) else ""
    lines = ('      ami_type = "AL2023_x86_64_STANDARD"\n' + platform
             + ('      ami_id = "ami-0123456789abcdef0"\n' if ami_id else "")
             + (f"      enable_bootstrap_user_data = {str(bootstrap).lower()}\n" if bootstrap is not None else "")
             + f"      cloudinit_{where}_nodeadm = {NODECONFIG}\n")
    (tmp_path / "main.tf").write_text(
        f'module "eks" {{\n  source  = "terraform-aws-modules/eks/aws"\n  version = "{version}"\n\n'
        + ('  name = "c"\n  service_ipv4_cidr = "172.20.0.0/16"\n\n' if module_versions.key(version) >= (21,)
           else '  cluster_name = "c"\n  cluster_service_ipv4_cidr = "172.20.0.0/16"\n\n')
        + f"  {kind}_node_groups = {{\n    g = {{\n{lines}    }}\n  }}\n}}\n", encoding="utf-8")
    rules = {str(f["rule"]) for f in _findings(cli, tmp_path)}
    either = (False, True) if isinstance(bootstrap, str) else (bool(bootstrap),)
    reaches = where == "pre" or all(_post_reaches(version, ami_id, b, f"{kind}_node_groups") for b in either)
    assert ("EKSP001" in rules) is not reaches, rules


# -- a local copy: judged by every release it may be ------------------------------------------------------------------

def _boundaries() -> list[tuple[str, str]]:
    """Adjacent supported releases whose root modules declare the same inputs but behave differently for a group
    (the keys they read from it, or the user data they give it)."""
    inputs = module_versions._variables_by_version()
    versions = [v for v in module_versions.released() if not module_versions.unsupported(frozenset({v}))]
    maps = ("eks_managed_node_groups", "self_managed_node_groups")
    found = []
    for older, newer in itertools.pairwise(versions):
        if inputs[older] != inputs[newer]:
            continue
        if any(_group_keys(m, older) != _group_keys(m, newer) or _era(m, older) != _era(m, newer) for m in maps):
            found.append((older, newer))
    return found


def _era(map_name: str, version: str) -> int:
    return next(i for i, e in enumerate(committed()["user_data"][map_name]) if version in e["versions"])


def _copy(folder: Path, version: str) -> None:
    """A local copy of ``version``'s root module: its variables.tf, and a node_groups.tf reading its group keys."""
    variables = sorted(module_versions._variables_by_version()[version])
    (folder / "modules" / "eks-managed-node-group").mkdir(parents=True)  # how a copy of the module is known
    (folder / "variables.tf").write_text("".join(f'variable "{n}" {{}}\n' for n in variables), encoding="utf-8")
    blocks = []
    for map_name in ("eks_managed_node_groups", "self_managed_node_groups"):
        keys = "".join(f"  {k} = try(each.value.{k}, null)\n" for k in sorted(_group_keys(map_name, version)))
        blocks.append(f'module "{map_name}" {{\n  source   = "./modules/x"\n  for_each = {{ for k, v in '
                      f"var.{map_name} : k => v if var.create }}\n\n{keys}}}\n")
    (folder / "node_groups.tf").write_text("\n".join(blocks), encoding="utf-8")


GROUP = ('    g = {\n      platform = "al2023"\n      ami_type = "AL2023_x86_64_STANDARD"\n'
         f"      cloudinit_pre_nodeadm = {NODECONFIG}\n    }}\n")


def _call(source: str, version: str | None, kind: str) -> str:
    pin = f'  version = "{version}"\n' if version else ""
    return (f'module "eks" {{\n  source  = "{source}"\n{pin}\n  cluster_name = "c"\n'
            f'  cluster_service_ipv4_cidr = "172.20.0.0/16"\n\n  {kind}_node_groups = {{\n{GROUP}  }}\n}}\n')


BOUNDARIES = _boundaries()


def test_the_boundaries_include_the_cloudinit_pre_nodeadm_pass_through() -> None:
    assert ("20.8.3", "20.8.4") in BOUNDARIES and len(BOUNDARIES) >= 10


def _alike(version: str) -> frozenset[str]:
    """The releases a copy of ``version`` may be: the same root inputs and the same keys read from each group."""
    inputs = module_versions._variables_by_version()
    maps = ("eks_managed_node_groups", "self_managed_node_groups")
    return frozenset(v for v in module_versions.released() if inputs[v] == inputs[version]
                     and all(_group_keys(m, v) == _group_keys(m, version) for m in maps))


def _unversioned(message: object) -> str:
    """A message with its release names left out, so releases that say the same thing compare equal."""
    return re.sub(r"v\d+\.\d+\.\d+( to v\d+\.\d+\.\d+)?", "vX", str(message))


@pytest.mark.parametrize(("older", "newer"), BOUNDARIES, ids=[f"{a}-{b}" for a, b in BOUNDARIES])
@pytest.mark.parametrize("kind", ["eks_managed", "self_managed"])
def test_a_local_copy_is_judged_as_the_releases_its_sources_can_be(cli, tmp_path: Path, older: str, newer: str,
                                                                    kind: str) -> None:
    """Each side of a boundary where the inputs stay the same: the copy is judged as every release with its inputs
    and group keys. Where they all give the verdict the pinned release gives, the copy gets it; where they do
    not (in what they say, release names aside), the copy's findings say that it is judged as each of them,
    naming exactly those releases."""
    for version in (older, newer):
        work = tmp_path / version
        _copy(work / "modules" / "eks", version)
        alike = _alike(version)
        pinned = set()
        for release in alike:
            (work / "main.tf").write_text(_call("terraform-aws-modules/eks/aws", release, kind), encoding="utf-8")
            pinned.add(tuple((str(f["rule"]), _unversioned(f["message"])) for f in _findings(cli, work)))
        (work / "main.tf").write_text(_call("./modules/eks", None, kind), encoding="utf-8")
        copy = _findings(cli, work)
        if len(pinned) == 1:
            said = tuple((str(f["rule"]), _unversioned(str(f["message"]).split(" (the local copy's ")[0]))
                         for f in copy)
            assert said == next(iter(pinned)), copy
        else:
            message = " ".join(str(f["message"]) for f in copy)
            assert f"match every release from {module_versions.span(alike)}, so it is judged as each of them" in \
                message, (sorted(alike), copy)


# -- a group setting a release no longer reads -----------------------------------------------------------------------

def _dropped_settings() -> set[tuple[str, str, str]]:
    """(map, setting, first release without it) for the settings that choose a group's template."""
    found = set()
    versions = [v for v in module_versions.released() if not module_versions.unsupported(frozenset({v}))]
    for map_name in ("eks_managed_node_groups", "self_managed_node_groups"):
        for name in ("platform", "ami_type"):
            for older, newer in itertools.pairwise(versions):
                if name in _group_keys(map_name, older) and name not in _group_keys(map_name, newer):
                    found.add((map_name, name, newer))
    return found


def test_v21_is_the_release_that_stopped_reading_platform_and_none_stopped_reading_ami_type() -> None:
    """So the cases below, written for v21's platform, cover every such setting the table knows."""
    assert _dropped_settings() == {("eks_managed_node_groups", "platform", "21.0.0"),
                                   ("self_managed_node_groups", "platform", "21.0.0")}


BOTTLEROCKET_TOML = ('      bootstrap_extra_args = <<-EOT\n        [settings.network]\n'
                     f'        https-proxy = "{PROXY}"\n      EOT\n')
# What v20 made of a group written with this platform and no ami_type, against v21's AL2023 default: only where
# the platform chose another template is there something to say.
PLATFORMS = {"bottlerocket": True, "windows": True, "al2023": False, "linux": False}


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
@pytest.mark.parametrize("kind", ["eks_managed", "self_managed"])
@pytest.mark.parametrize("version", ["21.0.0", "~> 21.0"])
def test_a_platform_v21_ignores_is_named_where_it_chose_another_template(cli, tmp_path: Path, platform: str,
                                                                         kind: str, version: str) -> None:
    (tmp_path / "main.tf").write_text(
        f'module "eks" {{\n  source  = "terraform-aws-modules/eks/aws"\n  version = "{version}"\n\n'
        f'  name = "c"\n  service_ipv4_cidr = "172.20.0.0/16"\n\n  {kind}_node_groups = {{\n'
        f'    g = {{\n      platform = "{platform}"\n{BOTTLEROCKET_TOML}    }}\n  }}\n}}\n', encoding="utf-8")
    found = _findings(cli, tmp_path)
    assert [f["rule"] for f in found] == ["EKSP001"]  # the node is AL2023 and gets no proxy
    said = f'platform = "{platform}" is ignored: terraform-aws-eks v21' in str(found[0]["message"])
    assert said is PLATFORMS[platform], found[0]["message"]


@pytest.mark.parametrize("version", POST_ERAS)
def test_fix_writes_the_proxy_where_it_reaches_the_node_when_post_parts_do_not(cli, tmp_path: Path,
                                                                               version: str) -> None:
    """ami_id without enable_bootstrap_user_data: the proxy in cloudinit_post_nodeadm never reaches the node, so
    fix is not refused for it ("merged after anything generated") but writes the NodeConfig in
    cloudinit_pre_nodeadm, and the group is then clean of EKSP001."""
    platform = '      platform = "al2023"\n' if module_versions.key(version) < (20, 9) else ""
    args = ('  name = "c"\n  service_ipv4_cidr = "172.20.0.0/16"\n' if module_versions.key(version) >= (21,)
            else '  cluster_name = "c"\n  cluster_service_ipv4_cidr = "172.20.0.0/16"\n')
    (tmp_path / "main.tf").write_text(
        f'module "eks" {{\n  source  = "terraform-aws-modules/eks/aws"\n  version = "{version}"\n\n{args}\n'
        f'  eks_managed_node_groups = {{\n    g = {{\n      ami_type = "AL2023_x86_64_STANDARD"\n{platform}'
        f'      ami_id = "ami-0123456789abcdef0"\n      cloudinit_post_nodeadm = {NODECONFIG}\n    }}\n  }}\n}}\n',
        encoding="utf-8")
    cli("fix", str(tmp_path), "--proxy", PROXY, "--vpc-cidr", "10.0.0.0/16", "--no-cache")
    text = (tmp_path / "main.tf").read_text(encoding="utf-8")
    assert "cloudinit_pre_nodeadm" in text and text.count("kind: NodeConfig") == 2
    assert "EKSP001" not in {f["rule"] for f in _findings(cli, tmp_path)}
