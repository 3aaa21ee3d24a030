"""A group whose AMI family is known gets a verdict on what its release really does, never "the family cannot be
told" (adversarial cases D-v20-platform-al2023/*).

A release that gives a group no user data, rejects it, or does not pass the
setting that carries the proxy on to the node makes every proxy set in the
group ineffective: that is EKSP008 (an error), naming the release and the first
release that would take it. The enumeration runs the CLI once over a folder with
one module call per release in the table and, in both maps, one group per way an
AL2023, AL2 or Bottlerocket group is written (with and without ``platform``), and
checks each verdict against the table's own record of that release.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

SETTINGS = 'proxy = "http://proxy.corp.example:3128"\nvpc_cidrs = ["10.0.0.0/16"]\n'

MAPS = ("eks_managed_node_groups", "self_managed_node_groups")
CUSTOM = {"ami_id": "ami-0123456789abcdef0", "enable_bootstrap_user_data": True}
# group name -> (the group's settings, the family its ami_type names or None)
SHAPES: dict[str, tuple[dict[str, Any], str | None]] = {
    "al2023": ({"ami_type": "AL2023_x86_64_STANDARD"}, "AL2023"),
    "al2023_p": ({"ami_type": "AL2023_x86_64_STANDARD", "platform": "al2023"}, "AL2023"),
    "al2023_pc": ({"ami_type": "AL2023_x86_64_STANDARD", "platform": "al2023", **CUSTOM}, "AL2023"),
    "al2": ({"ami_type": "AL2_x86_64"}, "AL2"),
    "al2_p": ({"ami_type": "AL2_x86_64", "platform": "linux"}, "AL2"),
    "br": ({"ami_type": "BOTTLEROCKET_x86_64"}, "BOTTLEROCKET"),
    "br_p": ({"ami_type": "BOTTLEROCKET_x86_64", "platform": "bottlerocket"}, "BOTTLEROCKET"),
    "p_al2023": ({"platform": "al2023"}, None),
    "p_linux": ({"platform": "linux"}, None),
    "p_bottlerocket": ({"platform": "bottlerocket"}, None),
}
SETTING = {"AL2023": "cloudinit_pre_nodeadm", "AL2": "pre_bootstrap_user_data",
           "BOTTLEROCKET": "bootstrap_extra_args"}
# The rules a judged group without any user data gets, by the family it is judged as: how the CLI shows which
# template it read.
JUDGED = {"AL2023": {"EKSP001"}, "AL2": {"EKSP001", "EKSP017"}, "BOTTLEROCKET": {"EKSP009"}}


def _table() -> dict[str, Any]:
    text = resources.files("eksproxy_gen.policy").joinpath("data/eks_module_versions.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def _releases(table: dict[str, Any]) -> list[str]:
    return sorted((v for v in table["versions"] if _key(v) >= (19, 0, 0)), key=_key)


def _hcl(value: object) -> str:
    return "true" if value is True else json.dumps(value)


def _call(version: str) -> str:
    name = "r_" + version.replace(".", "_")
    lines = [f'module "{name}" {{', '  source  = "terraform-aws-modules/eks/aws"', f'  version = "{version}"', ""]
    for map_name in MAPS:
        lines.append(f"  {map_name} = {{")
        for group, (settings, _family) in SHAPES.items():
            lines.append(f"    {group} = {{")
            lines += [f"      {k} = {_hcl(v)}" for k, v in settings.items()]
            lines.append("    }")
        lines.append("  }")
    return "\n".join([*lines, "}", ""])


def _verdicts(cli, folder: Path, releases: list[str]) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    """(release, map, group) -> its findings, from one `check --format json` over every release."""
    folder.mkdir()
    for version in releases:
        (folder / f"v{version}.tf").write_text(_call(version), encoding="utf-8")
    (folder / ".eksproxy-gen.toml").write_text(SETTINGS, encoding="utf-8")
    result = cli("check", str(folder), "--format", "json", "--no-cache")
    report = json.loads(result.out)
    assert report["errors"] == []
    found: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for finding in report["findings"]:
        release = finding["module"].removeprefix("r_").replace("_", ".")
        found.setdefault((release, finding["map"], finding["node_group"]), []).append(finding)
    return found


def _family_of_template(source: object) -> str:
    text = json.dumps(source)
    for marker, family in (("al2023", "AL2023"), ("bottlerocket", "BOTTLEROCKET"), ("windows", "WINDOWS")):
        if marker in text:
            return family
    return "AL2"


def _recorded(table: dict[str, Any], version: str, map_name: str, label: str) -> dict[str, Any] | None:
    """The table's outcome for a scenario label in one release, as the extraction recorded it."""
    for era in table["user_data"][map_name]:
        if version in era["versions"]:
            return next((o for o in era["outcomes"] if label in o["when"]), None)
    return None


def _expected(table: dict[str, Any], version: str, map_name: str, group: str) -> str | None:
    """What the table says of a group written with one setting alone: "ineffective", or the family judged;
    None for a group written with both (the release's precedence decides, checked by its consequences)."""
    settings, family = SHAPES[group]
    if set(settings) == {"ami_type"}:
        label = f"ami_type={settings['ami_type']}"
    elif set(settings) == {"platform"}:
        label = f"platform={settings['platform']}"
    else:
        return None
    outcome = _recorded(table, version, map_name, label)
    assert outcome is not None, (version, map_name, label)
    if outcome.get("error") or outcome.get("user_data", "") is None:
        return "ineffective"
    template = _family_of_template(outcome.get("from"))
    if family is not None and map_name == "eks_managed_node_groups" and template != family:
        return "ineffective"  # EKS launches the ami_type's AMI, which does not read this template
    if SETTING[template] not in (outcome.get("inputs") or []):
        return "ineffective"
    return template


def _kind(findings: list[dict[str, Any]]) -> str:
    rules = {f["rule"] for f in findings}
    if "EKSP015" in rules:
        return "cannot be told"
    if rules == {"EKSP008"}:
        return "ineffective"
    return next((family for family, judged in JUDGED.items() if rules == judged), f"other: {sorted(rules)}")


def test_every_release_and_map_gives_a_known_family_a_verdict_never_cannot_be_told(cli, tmp_path: Path) -> None:
    table = _table()
    releases = _releases(table)
    found = _verdicts(cli, tmp_path / "all", releases)
    wrong: list[str] = []
    for version in releases:
        for map_name in MAPS:
            for group in SHAPES:
                findings = found.get((version, map_name, group), [])
                kind = _kind(findings)
                where = f"v{version} {map_name}.{group}: {kind}"
                expected = _expected(table, version, map_name, group)
                if kind == "cannot be told" or kind.startswith("other"):
                    wrong.append(f"{where}: {[f['message'] for f in findings]}")
                elif expected is not None and kind != expected:
                    wrong.append(f"{where}, the table says {expected}")
                if kind != "ineffective":
                    continue
                message = findings[0]["message"]
                if f"v{version}" not in message or ("set ami_type" in message and "ami_type" in SHAPES[group][0]):
                    wrong.append(f"{where}: the message does not name the release or sends the user to set "
                                 f"ami_type: {message}")
                upgrade = re.search(r"upgrade the module to v(\d+\.\d+\.\d+) or later", message)
                if upgrade and _kind(found.get((upgrade.group(1), map_name, group), [])) in \
                        ("ineffective", "cannot be told"):
                    wrong.append(f"{where}: advises v{upgrade.group(1)}, where the same group is not judged either")
                if "remove platform" in message:
                    alone = {"AL2023": "al2023", "AL2": "al2", "BOTTLEROCKET": "br"}.get(SHAPES[group][1] or "")
                    if alone is not None and _kind(found.get((version, map_name, alone), [])) == "ineffective":
                        wrong.append(f"{where}: advises removing platform, but {alone} is not judged either")
    assert wrong == [], "\n".join(wrong[:40]) + f"\n({len(wrong)} in all)"


def _write(folder: Path, text: str) -> None:
    (folder / "main.tf").write_text(text, encoding="utf-8")
    (folder / ".eksproxy-gen.toml").write_text(SETTINGS, encoding="utf-8")


NODECONFIG = ("[{\n    content_type = \"application/node.eks.aws\"\n    content      = <<-EOT\n"
              "      apiVersion: node.eks.aws/v1alpha1\n      kind: NodeConfig\n      spec:\n        instance:\n"
              "          environment:\n            default:\n              HTTPS_PROXY: http://proxy.corp.example:3128\n"
              "    EOT\n  }]")


def test_root_v20_8_3_al2023_platform_group_is_an_error_naming_the_release_that_takes_it(cli, tmp_path: Path) -> None:
    """v20.8.3 gives a managed group with platform = "al2023" no user data: its NodeConfig never reaches the
    node, and the check fails (it used to be a warning telling to set ami_type, which was set)."""
    _write(tmp_path, 'module "eks" {\n  source  = "terraform-aws-modules/eks/aws"\n  version = "20.8.3"\n\n'
                     '  cluster_name = "x"\n  eks_managed_node_groups = {\n    a = {\n'
                     '      ami_type = "AL2023_x86_64_STANDARD"\n      platform = "al2023"\n'
                     f'      cloudinit_pre_nodeadm = {NODECONFIG}\n    }}\n  }}\n}}\n')
    result = cli("check", str(tmp_path), "--no-cache")
    assert result.code == 1
    assert result.out.splitlines() == [
        "main.tf:7: EKSP008 error eks.a: cloudinit_pre_nodeadm does not reach the node with "
        "terraform-aws-eks v20.8.3: the module gives this group no user data at all, so no proxy can be given to "
        "this group's nodes; from v20.8.4 on it does: upgrade the module to v20.8.4 or later"]
    before = (tmp_path / "main.tf").read_bytes()
    cli("fix", str(tmp_path), "--no-cache")
    assert (tmp_path / "main.tf").read_bytes() == before


def test_submodule_before_v20_8_4_has_no_cloudinit_pre_nodeadm_and_says_terraform_rejects_it(cli,
                                                                                             tmp_path: Path) -> None:
    _write(tmp_path, 'module "ng" {\n  source = "git::https://github.com/terraform-aws-modules/terraform-aws-eks.git'
                     '//modules/eks-managed-node-group?ref=v20.5.0"\n\n  name         = "a"\n  cluster_name = "x"\n'
                     '  ami_type     = "AL2023_x86_64_STANDARD"\n  platform     = "al2023"\n'
                     f'  cloudinit_pre_nodeadm = {NODECONFIG}\n}}\n')
    result = cli("check", str(tmp_path), "--no-cache")
    assert result.code == 1
    assert result.out.splitlines() == [
        "main.tf:1: EKSP008 error ng.ng: cloudinit_pre_nodeadm does not reach the node with "
        "terraform-aws-eks v20.5.0: the node-group submodule has no input cloudinit_pre_nodeadm there (Terraform "
        "rejects the call), so no proxy can be given to this group's nodes; from v20.8.4 on it does: upgrade the "
        "module to v20.8.4 or later"]


def test_a_platform_self_managed_groups_no_longer_take_is_said_with_what_to_remove(cli, tmp_path: Path) -> None:
    """From 20.14 a self-managed group's platform fails the module's validation: the call is rejected, which is
    said as such (not "the AMI family cannot be told ... set ami_type", when ami_type is set)."""
    _write(tmp_path, 'module "eks" {\n  source  = "terraform-aws-modules/eks/aws"\n  version = "20.37.2"\n\n'
                     '  cluster_name = "x"\n  self_managed_node_groups = {\n    a = {\n'
                     '      ami_type = "AL2023_x86_64_STANDARD"\n      platform = "al2023"\n    }\n  }\n}\n')
    result = cli("check", str(tmp_path), "--no-cache")
    assert result.code == 1
    [line] = result.out.splitlines()
    assert line.startswith("main.tf:7: EKSP008 error eks.a: terraform-aws-eks v20.37.2 rejects it "
                           "(var.platform: `platform` is no longer valid")
    assert line.endswith("Terraform stops before any node is launched, so no proxy set in this group can take "
                         "effect; remove platform, which these releases no longer take (ami_type "
                         "AL2023_x86_64_STANDARD chooses the template)")


def test_releases_that_disagree_are_named_without_sending_the_user_to_set_a_set_ami_type(cli, tmp_path: Path) -> None:
    """A call pinned to a commit is judged by every release that takes its arguments; where they disagree the
    finding says how, and asks to pin the version, not to set the ami_type the group already sets."""
    _write(tmp_path, 'module "eks" {\n  source = "git::https://github.com/terraform-aws-modules/terraform-aws-eks.git'
                     '?ref=0123456789abcdef0123456789abcdef01234567"\n\n  cluster_name = "x"\n'
                     '  eks_managed_node_groups = {\n    a = {\n      ami_type = "AL2023_x86_64_STANDARD"\n'
                     '      platform = "al2023"\n    }\n  }\n}\n')
    [finding] = json.loads(cli("check", str(tmp_path), "--format", "json", "--no-cache").out)["findings"]
    assert finding["rule"] == "EKSP015"
    assert "the user-data template depends on the module release: v18.0.0 to v20.8.3 give no user data it reads, " \
           "v20.8.4 to v20.37.2 give the AL2023 template; pin the module's version (module release taken as " \
           in finding["message"]
    assert "set ami_type" not in finding["message"]
