"""The generated parts, taken out of a fixed .tf file as Terraform would pass them, do what they claim.

The NodeConfig part is read by a real YAML parser; the dnf script is checked
by shellcheck and executed under bubblewrap against a throw-away /etc, twice.
Nothing here mocks anything: only AWS itself (IMDS, nodeadm) is absent.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from eksproxy_gen.policy.facts import Part

from .conftest import copy_fixture, node_groups, sandbox_bash, tool

PROXY = "http://proxy.corp.example:3128"


@pytest.fixture
def parts(cli, tmp_path: Path) -> list[Part]:
    target = copy_fixture("shapes.tf", tmp_path)
    assert cli("fix", str(target), "--proxy", PROXY, "--vpc-cidr", "10.0.0.0/16").code == 0
    groups = node_groups(target)
    general = next(g for g in groups if g.facts.name == "general")
    assert general.facts.parts
    return list(general.facts.parts)


def test_nodeconfig_is_valid_yaml_with_all_six_variables(parts: list[Part]) -> None:
    docs = list(yaml.safe_load_all(parts[0].content or ""))
    assert len(docs) == 1 and docs[0]["apiVersion"] == "node.eks.aws/v1alpha1" and docs[0]["kind"] == "NodeConfig"
    env = docs[0]["spec"]["instance"]["environment"]["default"]
    assert set(env) == {"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"}
    assert env["HTTP_PROXY"] == env["https_proxy"] == PROXY
    assert env["NO_PROXY"] == env["no_proxy"] == \
        "localhost,127.0.0.1,169.254.169.254,10.0.0.0/16,172.20.0.0/16,.internal,.eks.amazonaws.com"
    assert parts[0].content_type == "application/node.eks.aws"


def test_dnf_script_passes_shellcheck_and_never_traces(parts: list[Part], tmp_path: Path) -> None:
    script = tmp_path / "dnf.sh"
    script.write_text(parts[1].content or "", encoding="utf-8")
    assert "set -x" not in script.read_text() and "xtrace" not in script.read_text()
    proc = subprocess.run([tool("shellcheck"), "--severity=style", str(script)], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stdout


@pytest.mark.parametrize(("before", "after"), [
    ("[main]\ngpgcheck=1\nproxy=http://old:1\n\n[other]\nx=1\n",
     f"[main]\nproxy={PROXY}\ngpgcheck=1\n\n[other]\nx=1\n"),
    ("[main]\ngpgcheck=1\n", f"[main]\nproxy={PROXY}\ngpgcheck=1\n"),
    ("[other]\nx=1\n", f"[other]\nx=1\n[main]\nproxy={PROXY}\n"),
    (None, f"[main]\nproxy={PROXY}\n"),
])
def test_dnf_script_sets_the_proxy_once_and_is_idempotent(parts: list[Part], tmp_path: Path,
                                                         before: str | None, after: str) -> None:
    etc = tmp_path / "etc"
    (etc / "dnf").mkdir(parents=True)
    conf = etc / "dnf" / "dnf.conf"
    if before is not None:
        conf.write_text(before)
        conf.chmod(0o644)
    for _ in range(2):
        proc = sandbox_bash(parts[1].content or "", tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert conf.read_text() == after
    assert sorted(p.name for p in (etc / "dnf").iterdir()) == ["dnf.conf"]
    assert not (etc / "systemctl.log").exists()
    assert PROXY not in proc.stdout + proc.stderr
