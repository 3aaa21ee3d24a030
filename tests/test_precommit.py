"""The hooks, run by the real pre-commit against a throw-away git repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import FIXTURES, REPO


def _pre_commit() -> list[str]:
    found = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")
    if not Path(found).exists():
        if os.environ.get("CI"):
            pytest.fail("pre-commit is required in CI (tests/run.sh installs it)")
        pytest.skip("pre-commit is not installed here")
    return [found]


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args], cwd=cwd, check=True,
                   capture_output=True)


def test_check_fails_fix_rewrites_then_check_passes(tmp_path: Path) -> None:
    project = tmp_path / "infra"
    (project / "envs" / "prod").mkdir(parents=True)
    shutil.copy(FIXTURES / "shapes.tf", project / "envs" / "prod" / "eks.tf")
    (project / ".eksproxy-gen.toml").write_text('proxy = "http://proxy.corp.example:3128"\n'
                                                'vpc_cidrs = ["10.0.0.0/16"]\n')
    (project / "README.md").write_text("not terraform\n")
    _git(project, "init", "-q")
    _git(project, "add", ".")
    _git(project, "commit", "-q", "-m", "init")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "NO_COLOR": "1"}
    env.pop("VIRTUAL_ENV", None)

    def hook(hook_id: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*_pre_commit(), "try-repo", str(REPO), hook_id, "--all-files", "--color", "never"],
                              cwd=project, env=env, capture_output=True, text=True, check=False, timeout=900)

    first = hook("eksproxy-gen-check")
    assert first.returncode == 1, first.stdout + first.stderr
    assert "EKSP001 error eks.general" in first.stdout

    fixed = hook("eksproxy-gen-fix")
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr
    assert "files were modified by this hook" in fixed.stdout
    assert "eksproxy-gen-proxy.yaml" in (project / "envs" / "prod" / "eks.tf").read_text()

    again = hook("eksproxy-gen-check")
    assert again.returncode == 0, again.stdout + again.stderr
    assert hook("eksproxy-gen-fix").returncode == 0
