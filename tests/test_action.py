"""The GitHub Action (action.yml), its shell steps run as a runner runs them, with a runner's environment faked.

GitHub itself cannot be reached: the steps run locally with RUNNER_TEMP,
GITHUB_WORKSPACE, GITHUB_OUTPUT, GITHUB_PATH and GITHUB_STEP_SUMMARY pointing at
temporary files, under ``bash --noprofile --norc -eo pipefail`` as a runner
starts a ``shell: bash`` step. The upload step is CodeQL's own action: its pin,
its inputs and when it runs are checked. zizmor audits the file offline.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from .conftest import FIXTURES, REPO, require, tool
from .test_install import Committed, committed, interpreter, readme_section  # noqa: F401  (committed: a fixture)

ACTION = REPO / "action.yml"
PIN = re.compile(r"^(?P<action>[\w.-]+/[\w.-]+(?:/[\w./-]+)?)@(?P<sha>[0-9a-f]{40}) # v(?P<version>\d+(?:\.\d+)*)$")


def action() -> dict:
    return yaml.safe_load(ACTION.read_text())


def steps_by_id() -> dict[str, dict]:
    return {step.get("id", step["name"]): step for step in action()["runs"]["steps"]}


def uses_lines(text: str) -> list[str]:
    """Each ``uses:`` value with its trailing comment, as written."""
    return [m.group(1).strip() for m in re.finditer(r"^\s*(?:- )?uses: (.+)$", text, re.M)]


@dataclass
class Runner:
    """One fake runner: its temporary folder, the workspace (the repository checkout) and the files it reads."""

    root: Path

    def __post_init__(self) -> None:
        self.temp = self.root / "runner-temp"
        self.workspace = self.root / "workspace"
        for folder in (self.temp, self.workspace):
            folder.mkdir(parents=True, exist_ok=True)
        self.github_path = self.root / "github_path"
        self.summary = self.root / "step_summary.md"

    def run(self, step: dict, inputs: dict[str, str], outputs: dict[str, dict[str, str]], action_path: Path,
            cwd: Path | None = None) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
        """Run one ``run`` step; its outputs (GITHUB_OUTPUT) come back as a dict."""
        assert step["shell"] == "bash"
        assert "${{" not in step["run"], "expressions reach the script through env, never inside it"
        github_output = self.root / f"output-{step['id']}"
        github_output.write_text("")
        env = {"PATH": "/usr/bin:/bin", "HOME": str(self.root), "RUNNER_TEMP": str(self.temp),
               "GITHUB_WORKSPACE": str(self.workspace), "GITHUB_OUTPUT": str(github_output),
               "GITHUB_PATH": str(self.github_path), "GITHUB_STEP_SUMMARY": str(self.summary),
               "GITHUB_ACTIONS": "true", "CI": "true", "EKSPROXY_GEN_CACHE_DIR": str(self.root / "cache"),
               **{k: expand(v, inputs, outputs, action_path) for k, v in step.get("env", {}).items()}}
        script = self.root / f"{step['id']}.sh"
        script.write_text(step["run"])
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                              cwd=cwd or self.workspace, env=env, capture_output=True, text=True, check=False,
                              timeout=900)
        written = dict(line.split("=", 1) for line in github_output.read_text().splitlines() if line)
        return proc, written


def expand(value: str, inputs: dict[str, str], outputs: dict[str, dict[str, str]], action_path: Path) -> str:
    """The ``${{ }}`` expressions action.yml uses in ``env``: inputs, step outputs and the action's own path."""
    def one(match: re.Match[str]) -> str:
        expression = match.group(1).strip()
        if expression == "github.action_path":
            return str(action_path)
        if expression.startswith("inputs."):
            return inputs[expression.removeprefix("inputs.")]
        step, _, name = expression.removeprefix("steps.").partition(".outputs.")
        assert expression.startswith("steps.") and name, expression
        return outputs.get(step, {}).get(name, "")
    return re.sub(r"\$\{\{(.*?)\}\}", one, value)


def defaults(**given: str) -> dict[str, str]:
    inputs = {name: str(spec.get("default", "")) for name, spec in action()["inputs"].items()}
    assert not set(given) - set(inputs), f"no such input: {set(given) - set(inputs)}"
    return {**inputs, **given}


@dataclass
class Installed:
    runner: Runner
    outputs: dict[str, dict[str, str]]
    action_path: Path


@pytest.fixture(scope="module")
def installed(committed: Committed, tmp_path_factory: pytest.TempPathFactory) -> Installed:  # noqa: F811
    """The install step, run once with its defaults: eksproxy-gen from the action's own checkout."""
    runner = Runner(tmp_path_factory.mktemp("runner"))
    action_path = committed.path
    inputs = defaults(python=interpreter("3.11") or sys.executable)
    proc, written = runner.run(steps_by_id()["install"], inputs, {}, action_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return Installed(runner, {"install": written}, action_path)


def check(installed: Installed, tmp_path: Path, cwd: Path | None = None,
          **given: str) -> tuple[subprocess.CompletedProcess[str], dict[str, str], Runner]:
    """The check step in a fresh workspace holding infra/main.tf (13 findings), with the given inputs."""
    runner = Runner(tmp_path)
    (runner.workspace / "infra").mkdir()
    shutil.copy(FIXTURES / "partial.tf", runner.workspace / "infra" / "main.tf")
    inputs = defaults(**{k.replace("_", "-"): v.replace("{workspace}", str(runner.workspace))
                         for k, v in given.items()})
    proc, written = runner.run(steps_by_id()["check"], inputs, installed.outputs, installed.action_path,
                               cwd=cwd(runner) if callable(cwd) else None)
    return proc, written, runner


def uploads(written: dict[str, str], runner: Runner, sarif_file: str) -> bool:
    """Whether the upload step runs, by its ``if:`` (always(), the check's upload output, hashFiles)."""
    condition = steps_by_id()["Upload SARIF"]["if"]
    assert condition == ("${{ always() && steps.check.outputs.upload == 'true' && hashFiles(inputs.sarif-file) "
                         "!= '' }}")
    return written.get("upload") == "true" and (runner.workspace / sarif_file).is_file()


def test_the_install_step_leaves_the_jobs_path_alone_and_says_where_the_command_is(installed: Installed) -> None:
    """Later steps of the user's job must not find this action's venv (and its Python packages) on PATH."""
    assert not installed.runner.github_path.exists()
    command = Path(installed.outputs["install"]["command"])
    assert command.name == "eksproxy-gen" and command.is_absolute()
    assert command.parent.parent.parent == installed.runner.temp, "the venv lives in RUNNER_TEMP"
    shown = subprocess.run([command, "--version"], capture_output=True, text=True, check=True)
    assert shown.stdout.startswith("eksproxy-gen ")


@pytest.mark.parametrize(("path", "category"), [
    ("infra", "eksproxy-gen/infra"),
    ("./infra/", "eksproxy-gen/infra"),
    ("{workspace}/infra", "eksproxy-gen/infra"),
    ("{workspace}", "eksproxy-gen"),
    (".", "eksproxy-gen"),
])
def test_sarif_paths_are_relative_to_the_repository_root_whatever_path_is(installed: Installed, tmp_path: Path,
                                                                          path: str, category: str) -> None:
    proc, written, runner = check(installed, tmp_path, path=path)
    assert proc.returncode == 1, proc.stderr
    sarif = json.loads((runner.workspace / "eksproxy-gen.sarif").read_text())
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"]
            for result in sarif["runs"][0]["results"] for loc in result["locations"]}
    assert uris == {"infra/main.tf"}
    assert len(sarif["runs"][0]["results"]) == 13
    assert written["category"] == category
    assert uploads(written, runner, "eksproxy-gen.sarif")


def test_the_step_runs_from_the_repository_root_even_from_another_working_folder(installed: Installed,
                                                                                 tmp_path: Path) -> None:
    proc, _, runner = check(installed, tmp_path, cwd=lambda r: r.workspace / "infra", path="infra")
    assert proc.returncode == 1, proc.stderr
    sarif = json.loads((runner.workspace / "eksproxy-gen.sarif").read_text())
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in sarif["runs"][0]["results"]} == {"infra/main.tf"}


def test_by_default_findings_become_code_scanning_alerts_and_no_annotations(installed: Installed,
                                                                             tmp_path: Path) -> None:
    proc, written, runner = check(installed, tmp_path, path="infra")
    assert proc.returncode == 1
    assert "::error" not in proc.stdout and "::warning" not in proc.stdout, "shown once: as alerts only"
    assert "infra/main.tf:28: EKSP006 error eks.http_only" in proc.stdout, "the log still lists them"
    assert written["upload"] == "true" and uploads(written, runner, "eksproxy-gen.sarif")
    assert "| EKSP006 |" in runner.summary.read_text(), "the job summary lists every finding"


@pytest.mark.parametrize("given", [{"report": "annotations"}, {"upload_sarif": "false"}])
def test_annotations_instead_of_an_upload(installed: Installed, tmp_path: Path, given: dict[str, str]) -> None:
    proc, written, runner = check(installed, tmp_path, path="infra", **given)
    assert proc.returncode == 1
    assert proc.stdout.count("::error file=infra/main.tf,") == 8
    assert proc.stdout.count("::warning file=infra/main.tf,") == 5
    assert written["upload"] == "false" and not uploads(written, runner, "eksproxy-gen.sarif")
    assert (runner.workspace / "eksproxy-gen.sarif").is_file(), "the sarif-file output still names a report"
    assert "| EKSP006 |" in runner.summary.read_text()


def test_an_unknown_report_kind_stops_the_step(installed: Installed, tmp_path: Path) -> None:
    proc, written, _ = check(installed, tmp_path, path="infra", report="alerts")
    assert proc.returncode == 2
    assert "report must be code-scanning or annotations, not 'alerts'" in proc.stdout
    assert "upload" not in written


def test_a_path_named_like_an_option_is_a_path(installed: Installed, tmp_path: Path) -> None:
    """``-o.gitlab-ci.yml`` read as an option would overwrite the repository's .gitlab-ci.yml with the report."""
    runner = Runner(tmp_path)
    (runner.workspace / ".gitlab-ci.yml").write_text("stages: [test]\n")
    (runner.workspace / "-o.gitlab-ci.yml").write_text("kind: ConfigMap\n")
    proc, written, runner = check(installed, tmp_path, path="-o.gitlab-ci.yml infra", args="--select EKSP006")
    assert (runner.workspace / ".gitlab-ci.yml").read_text() == "stages: [test]\n"
    assert proc.returncode == 1, proc.stderr
    results = json.loads((runner.workspace / "eksproxy-gen.sarif").read_text())["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"EKSP006"}, "args come before the paths and still apply"
    assert written["category"] == "eksproxy-gen/-o.gitlab-ci.yml,infra"


def test_paths_are_not_expanded_as_patterns(installed: Installed, tmp_path: Path) -> None:
    proc, _, _ = check(installed, tmp_path, path="inf*")
    assert proc.returncode == 2 and "no such file or folder: inf*" in proc.stderr


def test_an_explicit_category_is_passed_to_the_upload(installed: Installed, tmp_path: Path) -> None:
    _, written, _ = check(installed, tmp_path, path="infra", category="eksproxy-gen/prod-eu")
    assert written["category"] == "eksproxy-gen/prod-eu"
    upload = steps_by_id()["Upload SARIF"]
    assert upload["with"] == {"sarif_file": "${{ inputs.sarif-file }}",
                              "category": "${{ steps.check.outputs.category }}"}
    assert action()["outputs"]["category"]["value"] == "${{ steps.check.outputs.category }}"


def test_a_report_left_by_an_earlier_run_is_never_uploaded(installed: Installed, tmp_path: Path) -> None:
    runner = Runner(tmp_path)
    (runner.workspace / "eksproxy-gen.sarif").write_text('{"stale": true}')
    proc, written, runner = check(installed, tmp_path, path="missing-folder")
    assert proc.returncode == 2
    assert not uploads(written, runner, "eksproxy-gen.sarif")


def test_every_uses_is_pinned_by_commit_sha_and_sarif_goes_through_codeql_v4() -> None:
    pins = [PIN.match(line) for line in uses_lines(ACTION.read_text())]
    assert pins and all(pins), uses_lines(ACTION.read_text())
    upload = next(p for p in pins if p is not None and p["action"] == "github/codeql-action/upload-sarif")
    assert upload["version"].split(".")[0] == "4"


def test_every_input_is_documented_with_its_default_in_action_yml_and_in_the_readme() -> None:
    inputs = action()["inputs"]
    section = readme_section("### GitHub Actions")
    rows = dict(re.findall(r"^\| `([\w-]+)` \| ([^|]+) \|", section, re.M))
    assert set(rows) == set(inputs)
    for name, spec in inputs.items():
        assert spec["description"].strip(), name
        assert "default" in spec, name
        written = rows[name].strip()
        assert written == (f"`{spec['default']}`" if spec["default"] else "(empty)"), name


def test_the_readme_example_has_the_permissions_of_a_private_repository_and_pinned_uses(tmp_path: Path) -> None:
    section = readme_section("### GitHub Actions")
    example = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert example is not None
    job = yaml.safe_load(example.group(1))["jobs"]["eksproxy-gen"]
    assert job["permissions"] == {"contents": "read", "security-events": "write", "actions": "read"}
    lines = uses_lines(example.group(1))
    assert lines[-1] == "eksproxy-gen/eksproxy-gen@<commit> # a full commit SHA of eksproxy-gen"
    assert all(PIN.match(line) for line in lines[:-1]), lines
    # The example as a workflow file, the placeholder filled in, passes the same audit as action.yml.
    workflow = tmp_path / ".github" / "workflows" / "eksproxy-gen.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text("name: eksproxy-gen\non: [pull_request]\npermissions: {}\n"
                        + example.group(1).replace("@<commit> # a full commit SHA of eksproxy-gen",
                                                   "@" + "0" * 40 + " # main"))
    assert zizmor(workflow).returncode == 0


def zizmor(*paths: Path) -> subprocess.CompletedProcess[str]:
    found = Path(sys.executable).parent / "zizmor"
    require(found.exists(), "zizmor is not installed here (it is in the test extra: pip install -e '.[test]')")
    proc = subprocess.run([found, "--offline", "--no-progress", *map(str, paths)], capture_output=True, text=True,
                          check=False, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_zizmor_finds_nothing_in_the_action() -> None:
    assert "No findings" in zizmor(ACTION).stdout


def test_the_shell_steps_pass_shellcheck(tmp_path: Path) -> None:
    for step in action()["runs"]["steps"]:
        if "run" not in step:
            continue
        script = tmp_path / f"{step['id']}.sh"
        script.write_text("#!/bin/bash\n" + step["run"])
        proc = subprocess.run([tool("shellcheck"), "--severity=style", str(script)], capture_output=True, text=True,
                              check=False)
        assert proc.returncode == 0, proc.stdout
