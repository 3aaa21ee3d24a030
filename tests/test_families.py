"""Every node-group shape real repositories use gets a fix or a precise finding (issue 3)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from eksproxy_gen.hcl import parse
from eksproxy_gen.policy.values import dedent_heredoc

from .conftest import FIXTURES, copy_fixture, fmt_clean, node_groups, sandbox_bash

FLAGS = ("--proxy", "http://proxy.corp.example:3128", "--vpc-cidr", "10.0.0.0/16")


def check_json(cli, path: Path) -> list[dict]:
    return json.loads(cli("check", str(path), "--format", "json").out)["findings"]


def by_group(findings: list[dict]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in findings:
        out.setdefault(f"{f['module']}.{f['node_group']}", []).append(f["rule"])
    return {k: sorted(v) for k, v in out.items()}


@pytest.mark.parametrize("folder", ["families", "dynamic"])
def test_golden_outputs_fmt_and_idempotence(cli, tmp_path: Path, folder: str) -> None:
    target = copy_fixture(folder, tmp_path)
    cli("fix", str(target), *FLAGS)
    for expected in sorted((FIXTURES / "expected" / folder).glob("*.tf")):
        assert (target / expected.name).read_text(encoding="utf-8") == expected.read_text(encoding="utf-8"), \
            expected.name
    snapshot = {p.name: p.read_bytes() for p in target.glob("*.tf")}
    second = cli("fix", str(target), *FLAGS)
    assert "nothing to fix" in second.err
    assert {p.name: p.read_bytes() for p in target.glob("*.tf")} == snapshot
    for path in target.glob("*.tf"):
        assert fmt_clean(FIXTURES / folder / path.name), f"the fixture {path.name} must be fmt-clean"
        assert fmt_clean(path), path.name


def test_v20_defaults_take_the_fix_when_every_group_inherits(cli, tmp_path: Path) -> None:
    target = copy_fixture("families/v20_defaults.tf", tmp_path)
    assert by_group(check_json(cli, target)) == {"eks.blue": ["EKSP001"], "eks.green": ["EKSP001"]}
    cli("fix", str(target), *FLAGS)
    module = parse(target.read_text(encoding="utf-8")).body.blocks[0]
    defaults = module.body.attribute("eks_managed_node_group_defaults")
    groups = module.body.attribute("eks_managed_node_groups")
    assert defaults is not None and groups is not None
    assert defaults.value.get("cloudinit_pre_nodeadm") is not None  # type: ignore[attr-defined]
    assert all(e.value.get("cloudinit_pre_nodeadm") is None for e in groups.value.elems)  # type: ignore[attr-defined]
    assert "10.96.0.0/16" in target.read_text(encoding="utf-8")
    assert check_json(cli, target) == []


def test_v20_mixed_defaults_own_lists_and_al2_by_default(cli, tmp_path: Path) -> None:
    target = copy_fixture("families/v20_mixed.tf", tmp_path)
    assert by_group(check_json(cli, target)) == {
        "eks_mixed.inherits": ["EKSP001"], "eks_mixed.own": ["EKSP001"],
        "eks_mixed.no_launch_template": ["EKSP008"],
        "eks_al2_default.legacy": ["EKSP001", "EKSP008", "EKSP017"],
    }
    result = cli("fix", str(target), *FLAGS)
    assert result.code == 1
    text = target.read_text(encoding="utf-8")
    assert text.count("maxPods: 110") == 1
    assert text.index("eksproxy-gen-proxy.yaml") < text.index("maxPods: 110")
    left = by_group(check_json(cli, target))
    assert left == {"eks_mixed.no_launch_template": ["EKSP008"], "eks_al2_default.legacy": ["EKSP008", "EKSP017"]}


def test_launch_template_off_gets_no_inert_block(cli, tmp_path: Path) -> None:
    target = copy_fixture("families/v20_mixed.tf", tmp_path)
    cli("fix", str(target), *FLAGS)
    module = parse(target.read_text(encoding="utf-8")).body.blocks[0]
    group = module.body.attribute("eks_managed_node_groups").value.get("no_launch_template")  # type: ignore[union-attr]
    assert [e.key for e in group.value.elems] == ["use_custom_launch_template"]  # type: ignore[union-attr]


def test_bottlerocket_toml_is_merged_keeping_every_other_setting(cli, tmp_path: Path) -> None:
    target = copy_fixture("families/bottlerocket.tf", tmp_path)
    assert by_group(check_json(cli, target)) == {
        "eks.with_toml": ["EKSP006"], "eks.without_toml": ["EKSP009"], "eks.templated": ["EKSP010"]}
    cli("fix", str(target), *FLAGS)
    groups = node_groups(target)
    toml = {g.facts.name: tomllib.loads(g.facts.bootstrap_extra_args or "") for g in groups
            if g.facts.name != "templated"}
    kept = toml["with_toml"]["settings"]
    assert kept["kernel"] == {"lockdown": "integrity"}
    assert kept["kubernetes"]["node-labels"] == {"team": "ml"}
    assert kept["network"]["hostname"] == "node"
    for settings in (kept, toml["without_toml"]["settings"]):
        assert settings["network"]["https-proxy"] == "http://proxy.corp.example:3128"
        assert ".internal" in settings["network"]["no-proxy"] and "172.20.0.0/16" in settings["network"]["no-proxy"]
    assert "# keep this comment" in target.read_text(encoding="utf-8")
    assert by_group(check_json(cli, target)) == {"eks.templated": ["EKSP010"]}


def test_windows_is_reported_and_never_touched(cli, tmp_path: Path) -> None:
    target = copy_fixture("families/windows.tf", tmp_path)
    before = target.read_bytes()
    assert by_group(check_json(cli, target)) == {"eks.win": ["EKSP015"]}
    cli("fix", str(target), *FLAGS)
    assert target.read_bytes() == before


def test_submodules_with_count_and_for_each(cli, tmp_path: Path) -> None:
    target = copy_fixture("families/submodules.tf", tmp_path)
    assert by_group(check_json(cli, target)) == {"managed.managed": ["EKSP001"], "self.self": ["EKSP001"]}
    cli("fix", str(target), *FLAGS)
    text = target.read_text(encoding="utf-8")
    assert text.count("eksproxy-gen-proxy.yaml") == 2 and "maxPods: 58" in text
    assert '${coalesce(module.eks.cluster_service_cidr, "10.100.0.0/16")}' in text
    assert check_json(cli, target) == []


def test_locals_map_is_followed_and_dynamic_maps_name_the_place(cli, tmp_path: Path) -> None:
    folder = copy_fixture("dynamic", tmp_path)
    found = check_json(cli, folder)
    dynamic = [f for f in found if f["rule"] == "EKSP010"]
    assert [(Path(f["file"]).name, f["line"]) for f in dynamic] == [("main.tf", 20)]
    assert "where var.self_managed_groups is set" in dynamic[0]["message"]
    # the for expression over local.group_shapes is evaluated: its group is judged where the for is written
    assert {(Path(f["file"]).name, f["node_group"]) for f in found if f["rule"] == "EKSP001"} == \
        {("locals.tf", "payments"), ("locals.tf", "search"), ("main.tf", "a")}
    result = cli("fix", str(folder), *FLAGS)
    assert result.code == 1
    assert (folder / "main.tf").read_text() == (FIXTURES / "dynamic" / "main.tf").read_text()
    assert (folder / "locals.tf").read_text().count("eksproxy-gen-proxy.yaml") == 3


def test_hook_style_single_file_still_resolves_locals_from_the_folder(cli, tmp_path: Path) -> None:
    folder = copy_fixture("dynamic", tmp_path)
    found = check_json(cli, folder / "main.tf")
    assert {f["node_group"] for f in found if f["rule"] == "EKSP001"} == {"payments", "search", "a"}


def test_al2_block_runs_writes_drop_ins_and_is_idempotent(cli, tmp_path: Path) -> None:
    target = copy_fixture("families/al2.tf", tmp_path)
    cli("fix", str(target), *FLAGS)
    scripted = next(g for g in node_groups(target) if g.facts.name == "scripted")
    script = dedent_heredoc(scripted.facts.pre_bootstrap_user_data or "")
    assert script.startswith("#!/bin/bash\n# >>> eksproxy-gen:generated")
    assert 'echo "tuning" > /tmp/tuned' in script
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "yum.conf").write_text("[main]\ncachedir=/var/cache/yum\n")
    snapshots = []
    for _ in range(2):
        proc = sandbox_bash(script, root)
        assert proc.returncode == 0, proc.stderr
        snapshots.append({str(p.relative_to(root)): p.read_text() for p in sorted((root / "etc").rglob("*"))
                          if p.is_file() and p.name != "systemctl.log"})
    assert snapshots[0] == snapshots[1]
    files = snapshots[1]
    assert files["etc/yum.conf"] == "[main]\nproxy=http://proxy.corp.example:3128\ncachedir=/var/cache/yum\n"
    assert "NO_PROXY='localhost,127.0.0.1,169.254.169.254,10.0.0.0/16,172.20.0.0/16" in \
        files["etc/eksproxy-gen/proxy.env"]
    for unit in ("containerd", "sandbox-image", "kubelet"):
        assert files[f"etc/systemd/system/{unit}.service.d/eksproxy-gen.conf"] == \
            "[Service]\nEnvironmentFile=/etc/eksproxy-gen/proxy.env\n"
    assert "daemon-reload" in (root / "etc" / "systemctl.log").read_text()


def _root_variables(release: str) -> str:
    from eksproxy_gen.policy.module_versions import accepting, every_input

    names = [n for n in sorted(every_input()) if accepting({n}, frozenset({release}))]
    return "".join(f'variable "{n}" {{}}\n' for n in names)


def test_vendored_local_copy_of_the_module_is_recognised(cli, tmp_path: Path) -> None:
    vendored = tmp_path / "vendor" / "eks"
    (vendored / "modules" / "eks-managed-node-group").mkdir(parents=True)
    (vendored / "node_groups.tf").write_text("# the root module's node groups\n")
    (vendored / "variables.tf").write_text(_root_variables("21.19.0"))  # a copy of v21.19.0 tells its release
    stack = tmp_path / "stacks" / "prod"
    stack.mkdir(parents=True)
    (stack / "main.tf").write_text(
        'module "eks" {\n  source = "../../vendor/eks"\n  name   = "vendored"\n\n'
        '  eks_managed_node_groups = {\n    a = {}\n  }\n}\n\n'
        'module "extra" {\n  source       = "../../vendor/eks/modules/eks-managed-node-group"\n'
        '  cluster_name = "vendored"\n  ami_type     = "AL2023_x86_64_STANDARD"\n}\n\n'
        'module "lookalike" {\n  source = "../../vendor/other"\n\n  eks_managed_node_groups = {\n    b = {}\n  }\n}\n')
    # the copy is read only when it lies under the path given: the repository holding both
    assert by_group(check_json(cli, tmp_path)) == {"eks.a": ["EKSP001"], "extra.extra": ["EKSP001"]}
    assert cli("fix", str(tmp_path), *FLAGS).code == 0
    assert check_json(cli, tmp_path) == []
