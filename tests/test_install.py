"""The built package, installed as users install it, on every Python it declares, and the GitHub Action's steps.

One wheel is built for the whole module; each supported interpreter gets one
venv with that wheel and its dependencies from the package index. The
interpreters are found where pyenv keeps them or on PATH; tests/run.sh runs on
a machine that has them, so under CI a missing one fails.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from .conftest import FIXTURES, REPO, require

SUPPORTED = ("3.11", "3.12", "3.13")


def interpreter(version: str) -> str | None:
    """A real python<version> (not a pyenv shim that refuses to run it)."""
    candidates = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}")))
    candidates += [p for p in (shutil.which(f"python{version}"),) if p and ".pyenv/shims" not in p]
    if sys.version.startswith(version + "."):
        candidates.append(sys.executable)
    for candidate in candidates:
        probe = subprocess.run([candidate, "-c", "import sys; print(sys.version)"], capture_output=True, text=True,
                               check=False)
        if probe.returncode == 0 and probe.stdout.startswith(version + "."):
            return candidate
    return None


def run(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False,
                          timeout=900)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel built from it, as a release would be."""
    out = tmp_path_factory.mktemp("dist")
    source = out / "source"
    shutil.copytree(REPO, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv*", "build", "dist", "*.egg-info", "__pycache__", ".hypothesis", ".*_cache"))
    run(sys.executable, "-m", "build", "--outdir", out, source)
    return out


def wheel(dist: Path) -> Path:
    return next(dist.glob("eksproxy_gen-*.whl"))


@pytest.fixture(scope="module")
def venvs(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """version -> the bin folder of a venv with the wheel installed; made on first use, shared by the tests."""
    made: dict[str, Path] = {}

    class Lazy(dict[str, Path]):
        def __missing__(self, version: str) -> Path:
            python = interpreter(version)
            require(python, f"Python {version} is not installed here; it is a supported version")
            assert python is not None
            venv = tmp_path_factory.mktemp(f"venv{version}")
            run(python, "-m", "venv", venv)
            run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", wheel(dist))
            made[version] = venv / "bin"
            self[version] = venv / "bin"
            return venv / "bin"

    yield Lazy()


def clean_env(bin_dir: Path, **extra: str) -> dict[str, str]:
    """No inherited Python or colour settings: the console script alone, as a new user has it."""
    keep = {k: v for k, v in os.environ.items() if k in {"HOME", "LANG", "TMPDIR", "EKSPROXY_GEN_CACHE_DIR"}}
    return {**keep, "PATH": f"{bin_dir}:/usr/bin:/bin", "NO_COLOR": "1", **extra}


@pytest.mark.parametrize("version", SUPPORTED)
def test_the_wheel_installs_and_runs_on_each_supported_python(venvs: dict[str, Path], version: str,
                                                              cli) -> None:
    bin_dir = venvs[version]
    env = clean_env(bin_dir)
    assert run(bin_dir / "eksproxy-gen", "--version", env=env).stdout.strip() == "eksproxy-gen 0.1.0"
    installed = run(bin_dir / "eksproxy-gen", "check", FIXTURES / "partial.tf", "--format", "json", env=env,
                    check=False)
    assert installed.returncode == 1, installed.stderr
    here = cli("check", str(FIXTURES / "partial.tf"), "--format", "json")
    assert json.loads(installed.stdout)["findings"] == json.loads(here.out)["findings"]
    rules_path = Path(run(bin_dir / "eksproxy-gen", "rules-path", env=env).stdout.strip())
    assert (rules_path / "ckv_eksproxy.py").is_file() and (rules_path / "RULES.md").is_file()


def test_python_3_10_is_refused_at_install_with_the_reason(dist: Path, tmp_path: Path) -> None:
    python = interpreter("3.10")
    require(python, "Python 3.10 is not installed here")
    assert python is not None
    proc = run(python, "-m", "pip", "install", "--no-deps", "--target", tmp_path / "t", wheel(dist), check=False)
    assert proc.returncode != 0
    assert "requires a different Python" in proc.stderr and ">=3.11" in proc.stderr


@pytest.mark.parametrize("typer", ["0.20.1", "0.28.0"])
def test_the_typer_range_in_pyproject_works_at_both_ends(venvs: dict[str, Path], typer: str, tmp_path: Path) -> None:
    declared = re.search(r'"typer>=([\d.]+),<([\d.]+)"', (REPO / "pyproject.toml").read_text())
    assert declared is not None and declared.group(1) == "0.20.1" and declared.group(2) == "0.29"
    bin_dir = venvs["3.11"]
    run(bin_dir / "python", "-m", "pip", "install", "--quiet", f"typer=={typer}")
    env = clean_env(bin_dir)
    for command in ([], ["check"], ["fix"], ["render"], ["rule"]):
        helped = run(bin_dir / "eksproxy-gen", *command, "-h", env=env)
        assert "Usage: eksproxy-gen" in helped.stdout
    (tmp_path / "main.tf").write_text((FIXTURES / "partial.tf").read_text())
    checked = run(bin_dir / "eksproxy-gen", "check", env=env, cwd=tmp_path, check=False)
    assert checked.returncode == 1 and "EKSP006 error eks.http_only" in checked.stdout
    bad = run(bin_dir / "eksproxy-gen", "check", "--format", "xml", env=env, check=False)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "xml" in bad.stderr


def test_wheel_and_sdist_carry_the_license_metadata_and_what_they_need(dist: Path) -> None:
    with zipfile.ZipFile(wheel(dist)) as built:
        names = set(built.namelist())
        metadata = built.read("eksproxy_gen-0.1.0.dist-info/METADATA").decode()
    for needed in ("eksproxy_gen/rules/ckv_eksproxy.py", "eksproxy_gen/rules/RULES.md", "eksproxy_gen/py.typed",
                   "eksproxy_gen/module_templates/nodeconfig.yaml.j2",
                   "eksproxy_gen/policy/data/nodeconfig_v1alpha1.json",
                   "eksproxy_gen-0.1.0.dist-info/licenses/LICENSE"):
        assert needed in names
    assert "License-Expression: Apache-2.0" in metadata
    assert "Classifier: Programming Language :: Python :: 3.13" in metadata
    assert "Project-URL: Rules, https://github.com/eksproxy-gen/eksproxy-gen/blob/main/rules/RULES.md" in metadata
    assert "](rules/" not in metadata and "](./" not in metadata, "relative links break on PyPI"
    with tarfile.open(next(dist.glob("eksproxy_gen-*.tar.gz"))) as sdist:
        members = {m.name.split("/", 1)[1] for m in sdist.getmembers() if "/" in m.name}
    assert {"LICENSE", "README.md", "pyproject.toml", "generator/rules/RULES.md"} <= members
    assert not any(m.startswith("tests/") for m in members), "tests need the repository's fixtures and tools"


ACTION = REPO / "action.yml"


def _expand(value: str, inputs: dict[str, str], action_path: Path) -> str:
    def one(match: re.Match[str]) -> str:
        expression = match.group(1).strip()
        if expression == "github.action_path":
            return str(action_path)
        assert expression.startswith("inputs."), expression
        return inputs[expression.removeprefix("inputs.")]
    return re.sub(r"\$\{\{(.*?)\}\}", one, value)


def test_the_github_action_steps_run_locally(dist: Path, tmp_path: Path) -> None:
    """The composite action's shell steps run as a runner runs them; the upload step is GitHub's own action."""
    action = yaml.safe_load(ACTION.read_text())
    assert action["runs"]["using"] == "composite"
    inputs = {name: spec.get("default", "") for name, spec in action["inputs"].items()}
    inputs.update({"path": "infra", "package": str(wheel(dist)), "python": interpreter("3.11") or sys.executable})
    work = tmp_path / "repo"
    (work / "infra").mkdir(parents=True)
    shutil.copy(FIXTURES / "partial.tf", work / "infra" / "main.tf")
    github_path, summary = tmp_path / "github_path", tmp_path / "summary.md"
    github_path.write_text("")
    path = "/usr/bin:/bin"
    results = []
    for step in action["runs"]["steps"]:
        if "uses" in step:
            assert step["uses"] == "github/codeql-action/upload-sarif@v3"
            assert _expand(step["with"]["sarif_file"], inputs, REPO) == "eksproxy-gen.sarif"
            continue
        assert "${{" not in step["run"], "expressions go through env, never into the script"
        env = {"PATH": path, "HOME": str(tmp_path), "RUNNER_TEMP": str(tmp_path), "GITHUB_PATH": str(github_path),
               "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_ACTIONS": "true", "CI": "true",
               "EKSPROXY_GEN_CACHE_DIR": str(tmp_path / "cache"),
               **{k: _expand(v, inputs, REPO) for k, v in step.get("env", {}).items()}}
        proc = run(step["shell"], "-c", step["run"], cwd=work, env=env, check=False)
        results.append(proc)
        path = ":".join([*github_path.read_text().split(), path])
    install, check = results
    assert install.returncode == 0, install.stderr
    assert check.returncode == 1, check.stderr
    assert "::error file=infra/main.tf,line=28," in check.stdout
    sarif = json.loads((work / "eksproxy-gen.sarif").read_text())
    assert len(sarif["runs"][0]["results"]) == 13
    assert "| EKSP006 |" in summary.read_text()
