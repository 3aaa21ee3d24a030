"""The package installed as users install it: every install path README.md shows, and the built wheel on every
Python it declares.

One wheel is built for the whole run; each supported interpreter gets one venv
with that wheel and its dependencies from the package index. The interpreters
are found where pyenv keeps them or on PATH; tests/run.sh runs on a machine that
has them, so under CI a missing one fails. GitHub cannot be reached from here:
a committed copy of this checkout stands in for the repository on GitHub (a
``git clone`` of it, and ``git+file://`` at its commit for ``git+https://``).
"""

from __future__ import annotations

import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from .conftest import FIXTURES, REPO, require

VERSION = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
GITHUB_URL = "https://github.com/eksproxy-gen/eksproxy-gen"
COPY_IGNORE = shutil.ignore_patterns(".git", ".venv*", "build", "dist", "*.egg-info", "__pycache__", ".hypothesis",
                                     ".*_cache", ".coverage*")
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


@dataclass(frozen=True)
class Committed:
    """A git repository holding this checkout's files in one commit: the repository as GitHub would serve it."""

    path: Path
    sha: str

    @property
    def url(self) -> str:
        return f"file://{self.path}"


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid",
                           "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
                          cwd=cwd, capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout.strip()


@pytest.fixture(scope="session")
def committed(tmp_path_factory: pytest.TempPathFactory) -> Committed:
    """This checkout as it is now (changes not yet committed included), committed in a repository of its own."""
    path = tmp_path_factory.mktemp("upstream") / "eksproxy-gen"
    shutil.copytree(REPO, path, symlinks=True, ignore=COPY_IGNORE)
    git(path, "init", "-q")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "the checkout under test")
    return Committed(path, git(path, "rev-parse", "HEAD"))


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel built from it, as a release would be."""
    out = tmp_path_factory.mktemp("dist")
    source = out / "source"
    shutil.copytree(REPO, source, symlinks=True, ignore=COPY_IGNORE)
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
    assert run(bin_dir / "eksproxy-gen", "--version", env=env).stdout.strip() == f"eksproxy-gen {VERSION}"
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
        metadata = built.read(f"eksproxy_gen-{VERSION}.dist-info/METADATA").decode()
    for needed in ("eksproxy_gen/rules/ckv_eksproxy.py", "eksproxy_gen/rules/RULES.md", "eksproxy_gen/py.typed",
                   "eksproxy_gen/module_templates/nodeconfig.yaml.j2",
                   "eksproxy_gen/policy/data/nodeconfig_v1alpha1.json",
                   f"eksproxy_gen-{VERSION}.dist-info/licenses/LICENSE"):
        assert needed in names
    assert f"Version: {VERSION}\n" in metadata
    assert "License-Expression: Apache-2.0" in metadata
    assert "Classifier: Programming Language :: Python :: 3.13" in metadata
    assert "Project-URL: Rules, https://github.com/eksproxy-gen/eksproxy-gen/blob/main/rules/RULES.md" in metadata
    assert "](rules/" not in metadata and "](./" not in metadata, "relative links break on PyPI"
    with tarfile.open(next(dist.glob("eksproxy_gen-*.tar.gz"))) as sdist:
        members = {m.name.split("/", 1)[1] for m in sdist.getmembers() if "/" in m.name}
    assert {"LICENSE", "README.md", "pyproject.toml", "generator/rules/RULES.md"} <= members
    assert not any(m.startswith("tests/") for m in members), "tests need the repository's fixtures and tools"


def test_twine_accepts_the_sdist_and_the_wheel(dist: Path) -> None:
    """What PyPI would refuse (a broken long description, missing metadata) fails here, before a release."""
    built = sorted(dist.glob("eksproxy_gen-*"))
    assert [p.name for p in built] == [f"eksproxy_gen-{VERSION}-py3-none-any.whl", f"eksproxy_gen-{VERSION}.tar.gz"]
    checked = run(sys.executable, "-m", "twine", "check", "--strict", *built)
    assert checked.stdout.count("PASSED") == 2, checked.stdout


# --- every install path README.md shows -------------------------------------------------------------------------------

def readme_section(heading: str) -> str:
    """One section of README.md: from ``heading`` to the next heading of the same or a higher level."""
    text = (REPO / "README.md").read_text()
    level = heading.split(" ", 1)[0]
    start = text.index(f"\n{heading}\n")
    following = re.compile(rf"^#{{1,{len(level)}}} ", re.M).search(text, start + len(heading) + 2)
    return text[start:following.start() if following else len(text)]


def console_commands(section: str) -> list[str]:
    """The commands (``$ ...`` lines) of a section's first console block."""
    block = re.search(r"```console\n(.*?)```", section, re.S)
    assert block is not None
    return [line[2:] for line in block.group(1).splitlines() if line.startswith("$ ")]


def pipx_install(spec: str, cwd: Path, home: Path) -> Path:
    """``pipx install SPEC`` with pipx's folders under ``home``; the folder its commands are linked into."""
    bin_dir = home / "bin"
    env = {**clean_env(Path(sys.executable).parent), "PIPX_HOME": str(home), "PIPX_BIN_DIR": str(bin_dir),
           "PIPX_MAN_DIR": str(home / "man")}
    run(sys.executable, "-m", "pipx", "install", spec, cwd=cwd, env=env)
    return bin_dir


def test_every_install_command_in_the_readme_runs_on_a_fresh_machine(committed: Committed, tmp_path: Path) -> None:
    """Each command of the README's install block, run as written, GitHub replaced by a committed copy of it.

    A command this test does not know fails it, so the README cannot show an
    install path that is not tried here.
    """
    section = readme_section("## Install")
    clone = tmp_path / "clone"
    python = interpreter("3.11") or sys.executable
    installed: list[tuple[str, Path]] = []
    steps: dict[str, Callable[[list[str]], None]] = {}

    def clone_it(words: list[str]) -> None:
        assert words == ["git", "clone", GITHUB_URL, "&&", "cd", "eksproxy-gen"]
        run("git", "clone", "-q", committed.url, clone)

    def pipx_checkout(words: list[str]) -> None:
        installed.append(("pipx install .", pipx_install(".", clone, tmp_path / "pipx-checkout")))

    def pip_checkout(words: list[str]) -> None:
        venv = tmp_path / "venv"
        run(python, "-m", "venv", venv)
        run(venv / "bin" / "python3", "-m", "pip", "install", "--quiet", ".", cwd=clone)
        installed.append(("python3 -m pip install .", venv / "bin"))

    def pipx_git(words: list[str]) -> None:
        assert words[2] == f"git+{GITHUB_URL}@<commit>", "the git URL names a commit"
        spec = f"git+{committed.url}@{committed.sha}"
        installed.append(("pipx install git+...@<commit>", pipx_install(spec, tmp_path, tmp_path / "pipx-git")))

    def version(words: list[str]) -> None:
        assert installed, "--version is shown after the installs"
        for how, bin_dir in installed:
            shown = run(bin_dir / "eksproxy-gen", "--version", env=clean_env(bin_dir))
            assert shown.stdout == f"eksproxy-gen {VERSION}\n", how

    steps.update({"git clone": clone_it, "pipx install .": pipx_checkout, "python3 -m pip install .": pip_checkout,
                  "pipx install git+": pipx_git, "eksproxy-gen --version": version})
    commands = console_commands(section)
    for command in commands:
        words = shlex.split(command, comments=True)
        key = next((k for k in steps if " ".join(words).startswith(k)), None)
        assert key is not None, f"README's install block shows a command no test runs: {command}"
        steps[key](words)
    assert [how for how, _ in installed] == ["pipx install .", "python3 -m pip install .",
                                             "pipx install git+...@<commit>"]

    # Each install runs the bundled example as the README shows it, with the figures it prints.
    example = re.search(r"\$ cd examples/basic && eksproxy-gen check\n.*?\n(\d+ findings .*?\.)\n", section, re.S)
    assert example is not None
    for how, bin_dir in installed:
        checked = run(bin_dir / "eksproxy-gen", "check", cwd=clone / "examples" / "basic", env=clean_env(bin_dir),
                      check=False)
        assert (checked.returncode, checked.stderr.strip().splitlines()[-1]) == (1, example.group(1)), how


def test_the_readme_names_pypi_only_as_once_released() -> None:
    """Nothing is on PyPI yet: an install or CI example that installs the bare name would fail today."""
    for heading in ("## Install", "## Use in CI"):
        for line in readme_section(heading).splitlines():
            if re.search(r"\b(pip|pipx) install (--user )?eksproxy-gen\b", line):
                assert "Once eksproxy-gen is released on PyPI" in line, line
    assert "@v0" not in readme_section("## Use in CI") and "rev: v" not in readme_section("## Use in CI")


def test_the_gitlab_job_writes_a_code_quality_report_gitlab_reads(tmp_path: Path) -> None:
    """The README's GitLab job, its check command run as written; the report checked field by field.

    The fields are GitLab's ("Implement a custom tool" in doc/ci/testing/code_quality.md): a JSON array
    of objects with ``description``, ``check_name``, ``fingerprint`` (unique), ``severity`` (info, minor,
    major, critical or blocker), ``location.path`` (relative) and ``location.lines.begin``; no byte order mark.
    """
    section = readme_section("### GitLab CI")
    job = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert job is not None
    script = yaml.safe_load(job.group(1))["eksproxy-gen"]["script"]
    assert script[0] == f'pip install "git+{GITHUB_URL}@<commit>"', "it installs as the install block does"
    assert f'pipx install "git+{GITHUB_URL}@<commit>"' in readme_section("## Install")
    report_name = yaml.safe_load(job.group(1))["eksproxy-gen"]["artifacts"]["reports"]["codequality"]
    words = shlex.split(script[1])
    assert words[:2] == ["eksproxy-gen", "check"] and words[-2:] == ["--", "infra/"]
    shutil.copytree(REPO / "examples" / "basic", tmp_path / "infra")
    bin_dir = Path(sys.executable).parent
    ran = run(bin_dir / words[0], *words[1:], cwd=tmp_path, env=clean_env(bin_dir), check=False)
    assert ran.returncode == 1, ran.stderr
    raw = (tmp_path / report_name).read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    issues = json.loads(raw)
    assert isinstance(issues, list) and len(issues) == 10
    for issue in issues:
        assert isinstance(issue["description"], str) and issue["description"]
        assert re.fullmatch(r"EKSP\d{3}", issue["check_name"])
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        path = issue["location"]["path"]
        assert not os.path.isabs(path) and (tmp_path / path).is_file()
        assert isinstance(issue["location"]["lines"]["begin"], int) and issue["location"]["lines"]["begin"] >= 1
    assert len({issue["fingerprint"] for issue in issues}) == len(issues)
