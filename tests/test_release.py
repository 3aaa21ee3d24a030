"""The release procedure: one version source, the changelog, and .github/workflows/release.yml run as far as it
can run without GitHub and PyPI.

The workflow's shell steps run as a runner runs them (``bash --noprofile
--norc -eo pipefail``) in a temporary clone of a committed copy of this
checkout, with a fresh venv's Python first on PATH as actions/setup-python
would put it; the build step installs its pinned build and twine from the
package index and builds for real. The publish job cannot run here: its
trigger, permissions, environment and pins are checked instead.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from .conftest import REPO
from .test_action import PIN, uses_lines, zizmor
from .test_install import VERSION, Committed, committed, git, interpreter  # noqa: F401  (committed: a fixture)

WORKFLOW = REPO / ".github" / "workflows" / "release.yml"
TAG_STEP = "The tag is v and the package's version, and CHANGELOG.md has its section"
BUILD_STEP = "Build the sdist and the wheel, and check them"


def workflow() -> dict:
    loaded = yaml.safe_load(WORKFLOW.read_text())
    loaded["on"] = loaded.pop(True)  # YAML 1.1 reads the key `on` as true
    return loaded


def step(job: str, name: str) -> dict:
    return next(s for s in workflow()["jobs"][job]["steps"] if s.get("name") == name)


@pytest.fixture(scope="module")
def runner_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv's bin folder: the Python setup-python would give the job, with nothing installed yet."""
    venv = tmp_path_factory.mktemp("setup-python") / "venv"
    subprocess.run([interpreter("3.12") or sys.executable, "-m", "venv", str(venv)], check=True)
    return venv / "bin"


def clone(committed: Committed, where: Path, released: bool) -> Path:  # noqa: F811
    """A clone as actions/checkout leaves it; ``released`` applies the README's step 1 to CHANGELOG.md."""
    target = where / "checkout"
    git(where, "clone", "-q", committed.url, str(target))
    if released:
        changelog = target / "CHANGELOG.md"
        text = changelog.read_text()
        assert "\n## [Unreleased]\n" in text
        changelog.write_text(text.replace("\n## [Unreleased]\n", f"\n## [Unreleased]\n\n## [{VERSION}] - 2026-12-05\n"))
    return target


def run_step(spec: dict, cwd: Path, bin_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    for name, value in spec.get("env", {}).items():
        assert value == "${{ github.ref_name }}" and name == "TAG", "the only expression a step reads"
    script = cwd.parent / "step.sh"
    script.write_text(spec["run"])
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=cwd,
                          env={"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(cwd.parent), **env},
                          capture_output=True, text=True, check=False, timeout=900)


def test_a_tag_that_names_the_packages_version_passes(committed: Committed, runner_python: Path,  # noqa: F811
                                                      tmp_path: Path) -> None:
    checkout = clone(committed, tmp_path, released=True)
    proc = run_step(step("build", TAG_STEP), checkout, runner_python, TAG=f"v{VERSION}")
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("tag", ["v9.9.9", VERSION, f"v{VERSION}.post1"])
def test_a_tag_that_differs_from_the_version_stops_the_release(committed: Committed,  # noqa: F811
                                                               runner_python: Path, tmp_path: Path,
                                                               tag: str) -> None:
    checkout = clone(committed, tmp_path, released=True)
    proc = run_step(step("build", TAG_STEP), checkout, runner_python, TAG=tag)
    assert proc.returncode == 1
    assert f"::error title=release::the tag {tag} does not match the version in pyproject.toml (v{VERSION})" \
        in proc.stdout


def test_a_version_without_its_changelog_section_stops_the_release(committed: Committed,  # noqa: F811
                                                                   runner_python: Path, tmp_path: Path) -> None:
    checkout = clone(committed, tmp_path, released=False)
    proc = run_step(step("build", TAG_STEP), checkout, runner_python, TAG=f"v{VERSION}")
    assert proc.returncode == 1
    assert f"CHANGELOG.md has no section '## [{VERSION}] - DATE'" in proc.stdout


def test_the_build_step_makes_one_sdist_and_one_wheel_that_twine_accepts(committed: Committed,  # noqa: F811
                                                                         runner_python: Path,
                                                                         tmp_path: Path) -> None:
    checkout = clone(committed, tmp_path, released=True)
    proc = run_step(step("build", BUILD_STEP), checkout, runner_python)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    built = sorted(p.name for p in (checkout / "dist").iterdir())
    assert built == [f"eksproxy_gen-{VERSION}-py3-none-any.whl", f"eksproxy_gen-{VERSION}.tar.gz"]
    assert proc.stdout.count("PASSED") == 2, proc.stdout
    with tarfile.open(checkout / "dist" / f"eksproxy_gen-{VERSION}.tar.gz") as sdist:
        top = {name.split("/", 1)[1] for name in sdist.getnames() if name.count("/") == 1}
    assert {"README.md", "LICENSE", "CHANGELOG.md", "SECURITY.md", "pyproject.toml"} <= top, sorted(top)
    upload = workflow()["jobs"]["build"]["steps"][-1]
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["with"] == {"name": "dist", "path": "dist/", "if-no-files-found": "error"}


def test_the_workflow_runs_on_version_tags_and_publishes_with_trusted_publishing_only() -> None:
    flow = workflow()
    assert flow["on"] == {"push": {"tags": ["v*"]}}
    assert flow["permissions"] == {}, "nothing by default; each job asks for what it needs"
    build, publish = flow["jobs"]["build"], flow["jobs"]["publish"]
    assert build["permissions"] == {"contents": "read"}
    assert [s.get("name") for s in build["steps"][2:4]] == [TAG_STEP, BUILD_STEP], "the tag is checked first"
    assert publish["needs"] == "build"
    assert publish["environment"]["name"] == "pypi"
    assert publish["permissions"] == {"id-token": "write"}
    download, upload = publish["steps"]
    assert download["uses"].startswith("actions/download-artifact@") and download["with"] == {"name": "dist",
                                                                                              "path": "dist/"}
    assert upload["uses"].startswith("pypa/gh-action-pypi-publish@") and "with" not in upload
    text = WORKFLOW.read_text()
    assert "secrets." not in text and not re.search(r"(?<![\w-])(password|token|user)\s*:", text)
    checkout = build["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@") and checkout["with"] == {"persist-credentials": False}


def test_every_uses_of_the_workflow_is_pinned_by_commit_sha_with_its_version() -> None:
    lines = uses_lines(WORKFLOW.read_text())
    assert len(lines) == 5 and all(PIN.match(line) for line in lines), lines


def test_zizmor_finds_nothing_in_the_release_workflow() -> None:
    assert "No findings" in zizmor(WORKFLOW).stdout


def test_the_version_is_written_only_in_pyproject() -> None:
    """``--version``, SARIF and the metadata read it from the installed package; nothing else may spell it."""
    spelled = re.compile(rf"(?<![\w.]){re.escape(VERSION)}(?![\w.])")
    files = [REPO / "README.md", REPO / "action.yml", REPO / ".pre-commit-hooks.yaml", REPO / "CHANGELOG.md",
             *REPO.glob(".github/workflows/*.yml"), *REPO.glob("tests/*.py"), *REPO.glob("tests/*.sh"),
             *REPO.glob("generator/**/*.py"), *REPO.glob("rules/*.py")]
    found = []
    for path in files:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            released = path.name == "CHANGELOG.md" and line.startswith("## [")  # a released version's heading
            if spelled.search(line) and not released:
                found.append(f"{path.relative_to(REPO)}:{number}: {line}")
    assert found == []
    pyproject = (REPO / "pyproject.toml").read_text()
    assert len(spelled.findall(pyproject)) == 1


def test_the_changelog_keeps_a_changelog_with_an_unreleased_section() -> None:
    text = (REPO / "CHANGELOG.md").read_text()
    assert text.startswith("# Changelog\n")
    assert "https://keepachangelog.com/en/1.1.0/" in text
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert headings[0] == "[Unreleased]"
    assert all(re.fullmatch(r"\[\d+\.\d+\.\d+\] - \d{4}-\d{2}-\d{2}", h) for h in headings[1:]), headings
    unreleased = text.split("## [Unreleased]", 1)[1].split("\n## ", 1)[0]
    kinds = re.findall(r"^### (.+)$", unreleased, re.M)
    assert kinds and set(kinds) <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}
    assert not re.search(r"\bP\d{1,2}\b", text), "no spec codes in user-facing text"


def test_the_readme_releasing_steps_name_what_the_workflow_checks() -> None:
    from .test_install import readme_section

    section = readme_section("### Releasing")
    assert "git tag -a vX.Y.Z" in section and "release.yml" in section and "trusted publishing" in section
    assert "`## [X.Y.Z] - YYYY-MM-DD`" in section, "the heading the tag step looks for"
    assert "environment `pypi`" in section
