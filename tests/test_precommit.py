"""The hooks, run by the real pre-commit against throw-away git repositories.

``try-repo`` runs the hooks of this checkout as it is. The tests of a commit
install the hooks as users do: a ``.pre-commit-config.yaml`` naming a
repository and a commit SHA, here a committed copy of this checkout (GitHub
cannot be reached), then ``git commit``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import FIXTURES, REPO, in_ci
from .test_install import Committed, committed, git, readme_section  # noqa: F401  (committed: a fixture)

SCRIPT = Path(sys.executable).parent / "eksproxy-gen"
PROXY = "http://proxy.corp.example:3128"
NEW_PROXY = "http://proxy2.corp.example:8080"


def _pre_commit() -> list[str]:
    found = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")
    if not Path(found).exists():
        if in_ci():
            pytest.fail("pre-commit is required in CI (tests/run.sh installs it)")
        pytest.skip("pre-commit is not installed here")
    return [found]


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One pre-commit cache for the run: each repository and commit is installed once."""
    return tmp_path_factory.mktemp("pre-commit-home")


def _env(home: Path) -> dict[str, str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1", "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    env.pop("VIRTUAL_ENV", None)
    return env


def _run(cwd: Path, home: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=_env(home), capture_output=True, text=True,
                          check=False, timeout=900)


def _config(committed: Committed, *hooks: dict[str, object]) -> str:  # noqa: F811
    return yaml.safe_dump({"repos": [{"repo": str(committed.path), "rev": committed.sha, "hooks": list(hooks)}]},
                          sort_keys=False)


def _repository(path: Path, home: Path, config: str) -> Path:
    """A git repository with the config committed and the hooks installed, as ``pre-commit install`` leaves it."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q")
    (path / ".pre-commit-config.yaml").write_text(config)
    installed = _run(path, home, *_pre_commit(), "install")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return path


def test_check_fails_fix_rewrites_then_check_passes(committed: Committed, pre_commit_home: Path,  # noqa: F811
                                                    tmp_path: Path) -> None:
    """The hooks as a user gets them (this repository at a commit, installed once per run by pre-commit)."""
    project = _repository(tmp_path / "infra", pre_commit_home,
                          _config(committed, {"id": "eksproxy-gen-check"}, {"id": "eksproxy-gen-fix"}))
    (project / "envs" / "prod").mkdir(parents=True)
    shutil.copy(FIXTURES / "shapes.tf", project / "envs" / "prod" / "eks.tf")
    (project / ".eksproxy-gen.toml").write_text(f'proxy = "{PROXY}"\nvpc_cidrs = ["10.0.0.0/16"]\n')
    (project / "README.md").write_text("not terraform\n")
    git(project, "add", ".")
    git(project, "commit", "-q", "--no-verify", "-m", "init")

    def hook(hook_id: str) -> subprocess.CompletedProcess[str]:
        return _run(project, pre_commit_home, *_pre_commit(), "run", hook_id, "--all-files", "--color", "never")

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


def test_a_commit_that_changes_only_the_proxy_has_the_fix_hook_rewrite_the_groups(
        committed: Committed, pre_commit_home: Path, tmp_path: Path) -> None:  # noqa: F811
    """The settings file is the only file staged; the groups it governs, in a folder below it, get the new proxy."""
    repo = _repository(tmp_path / "repo", pre_commit_home,
                       _config(committed, {"id": "eksproxy-gen-fix"}, {"id": "eksproxy-gen-check"}))
    settings = repo / ".eksproxy-gen.toml"
    settings.write_text(f'proxy = "{PROXY}"\nvpc_cidrs = ["10.0.0.0/16"]\n')
    shutil.copytree(REPO / "examples" / "basic", repo / "infra" / "eks", ignore=shutil.ignore_patterns(".eksproxy*"))
    fixed = _run(repo, pre_commit_home, SCRIPT, "fix", "infra")
    assert fixed.returncode == 0, fixed.stderr
    git(repo, "add", "-A")
    first = _run(repo, pre_commit_home, "git", "commit", "-q", "-m", "node groups behind the proxy")
    assert first.returncode == 0, first.stdout + first.stderr
    main_tf = repo / "infra" / "eks" / "main.tf"
    before = main_tf.read_text()
    assert PROXY in before and NEW_PROXY not in before

    settings.write_text(settings.read_text().replace(PROXY, NEW_PROXY))
    git(repo, "add", ".eksproxy-gen.toml")
    head = git(repo, "rev-parse", "HEAD")
    refused = _run(repo, pre_commit_home, "git", "commit", "-m", "the new proxy")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    shown = refused.stdout + refused.stderr  # git shows the hooks' output on stderr
    assert re.search(r"eksproxy-gen fix .*Failed", shown), shown
    assert "files were modified by this hook" in shown
    assert git(repo, "rev-parse", "HEAD") == head, "the commit did not happen"
    after = main_tf.read_text()
    assert NEW_PROXY in after and PROXY not in after

    git(repo, "add", "-A")
    accepted = _run(repo, pre_commit_home, "git", "commit", "-q", "-m", "the new proxy")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr


def test_a_file_named_like_an_option_does_not_make_the_check_hook_overwrite_another_file(
        committed: Committed, pre_commit_home: Path, tmp_path: Path) -> None:  # noqa: F811
    """``-o.gitlab-ci.yml`` read as an option would write the report over the repository's .gitlab-ci.yml."""
    repo = _repository(tmp_path / "repo", pre_commit_home, _config(committed, {"id": "eksproxy-gen-check"}))
    pipeline = "stages: [test]\n"
    (repo / ".gitlab-ci.yml").write_text(pipeline)
    git(repo, "add", ".gitlab-ci.yml", ".pre-commit-config.yaml")
    git(repo, "commit", "-q", "--no-verify", "-m", "pipeline")
    shutil.copy(FIXTURES / "partial.tf", repo / "main.tf")
    (repo / "-o.gitlab-ci.yml").write_text("kind: ConfigMap\n")
    git(repo, "add", "--", "main.tf", "-o.gitlab-ci.yml")
    refused = _run(repo, pre_commit_home, "git", "commit", "-m", "a node group")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "main.tf:28: EKSP006 error eks.http_only" in refused.stdout + refused.stderr
    assert (repo / ".gitlab-ci.yml").read_text() == pipeline
    assert git(repo, "status", "--porcelain", "--", ".gitlab-ci.yml") == ""


def test_the_readme_configuration_at_a_commit_fixes_then_passes(committed: Committed,  # noqa: F811
                                                                pre_commit_home: Path, tmp_path: Path) -> None:
    section = readme_section("### pre-commit")
    config = re.search(r"```yaml\n(repos:.*?)```", section, re.S)
    assert config is not None
    text = config.group(1)
    assert "repo: https://github.com/eksproxy-gen/eksproxy-gen\n    rev: <commit>\n" in text
    repo = _repository(tmp_path / "repo", pre_commit_home,
                       text.replace("https://github.com/eksproxy-gen/eksproxy-gen", str(committed.path))
                       .replace("<commit>", committed.sha))
    shutil.copytree(REPO / "examples" / "basic", repo / "infra")
    git(repo, "add", "-A")
    fixed = _run(repo, pre_commit_home, *_pre_commit(), "run", "--all-files")
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr
    assert "files were modified by this hook" in fixed.stdout
    clean = _run(repo, pre_commit_home, *_pre_commit(), "run", "--all-files")
    assert clean.returncode == 0, clean.stdout + clean.stderr


def test_autoupdate_writes_the_newest_commit_while_there_are_no_tags(committed: Committed,  # noqa: F811
                                                                     pre_commit_home: Path, tmp_path: Path) -> None:
    """The README's advice for filling in ``<commit>``."""
    assert "`pre-commit autoupdate` replaces `<commit>` with the newest commit's SHA" in readme_section(
        "### pre-commit").replace("\n", " ")
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    config = repo / ".pre-commit-config.yaml"
    config.write_text(f"repos:\n  - repo: {committed.path}\n    rev: <commit>\n    hooks:\n"
                      "      - id: eksproxy-gen-check\n")
    updated = _run(repo, pre_commit_home, *_pre_commit(), "autoupdate")
    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert f"rev: {committed.sha}\n" in config.read_text()


def test_options_on_the_command_line_go_before_the_separator_as_the_readme_shows(
        committed: Committed, pre_commit_home: Path, tmp_path: Path) -> None:  # noqa: F811
    """The README's override (``entry`` without ``--``, ``args`` ending with it) turns a warning into a failure."""
    snippet = re.search(r"```yaml\n(\s+- id: eksproxy-gen-check\n\s+entry: .*?)```", readme_section("### pre-commit"),
                        re.S)
    assert snippet is not None
    hook = yaml.safe_load(snippet.group(1))[0]
    assert hook["args"][-1] == "--"
    plain = _repository(tmp_path / "plain", pre_commit_home, _config(committed, {"id": "eksproxy-gen-check"}))
    strict = _repository(tmp_path / "strict", pre_commit_home, _config(committed, hook))
    for repo in (plain, strict):
        (repo / ".eksproxy-gen.toml").write_text(f'proxy = "{PROXY}"\n')  # no VPC CIDR: EKSP016, a warning
        shutil.copy(REPO / "examples" / "basic" / "main.tf", repo / "main.tf")
        assert _run(repo, pre_commit_home, SCRIPT, "fix", ".").returncode == 0
        git(repo, "add", "-A")
    passed = _run(plain, pre_commit_home, *_pre_commit(), "run", "--all-files")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    failed = _run(strict, pre_commit_home, *_pre_commit(), "run", "--all-files")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "EKSP016 warning eks.general" in failed.stdout


def test_options_in_args_after_the_separator_stop_the_hook_instead_of_passing(
        committed: Committed, pre_commit_home: Path, tmp_path: Path) -> None:  # noqa: F811
    """``args:`` without the README's ``entry`` land after ``--``: a loud usage error, never a silent pass."""
    repo = _repository(tmp_path / "repo", pre_commit_home,
                       _config(committed, {"id": "eksproxy-gen-check", "args": ["--fail-on", "warning"]}))
    shutil.copy(FIXTURES / "partial.tf", repo / "main.tf")
    git(repo, "add", "-A")
    ran = _run(repo, pre_commit_home, *_pre_commit(), "run", "--all-files")
    assert ran.returncode == 1
    assert "no such file or folder: --fail-on" in ran.stdout


def test_a_settings_file_given_as_a_path_stands_for_every_folder_below_it(cli, tmp_path: Path) -> None:
    """pre-commit passes a changed ``.eksproxy-gen.toml`` as a file name; it is never read as Terraform."""
    root = tmp_path / "live"
    for folder in ("eu", "eu/prod"):
        (root / folder).mkdir(parents=True)
        shutil.copy(FIXTURES / "partial.tf", root / folder / "main.tf")
    (root / ".eksproxy-gen.toml").write_text(f'proxy = "{PROXY}"\nvpc_cidrs = ["10.0.0.0/16"]\n')
    checked = cli("check", "--format", "json", root / ".eksproxy-gen.toml")
    assert checked.code == 1
    files = {finding["file"] for finding in json.loads(checked.out)["findings"]}
    assert files == {"live/eu/main.tf", "live/eu/prod/main.tf"}
    fixed = cli("fix", root / ".eksproxy-gen.toml")
    assert fixed.code == 0, fixed.err
    assert all(PROXY in (root / f / "main.tf").read_text() for f in ("eu", "eu/prod"))
    assert cli("check", root / ".eksproxy-gen.toml").code == 0
