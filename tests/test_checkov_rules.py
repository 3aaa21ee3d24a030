"""The checkov checks in rules/, run by real checkov (3.3.30 and 3.2.500) against the same trees as the CLI.

checkov cannot share an environment with python-hcl2, so each version runs
as a subprocess from its own virtual environment (tests/setup_checkov.sh).
A checkov run costs a few seconds, so one run per version covers the whole
fixture tree (module-scoped fixtures) and the tests read its JSON report.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from eksproxy_gen.policy.catalog import RULES

from .conftest import FIXTURES, REPO, require

RULES_DIR = REPO / "rules"
VERSIONS = ("3.3.30", "3.2.500")
CLI = Path(sys.executable).parent / "eksproxy-gen"
RULE_OF = {rule.checkov_id: rule.id for rule in RULES}
TEST_CONFIG = 'proxy = "http://proxy.corp.example:3128"\nvpc_cidrs = ["10.0.0.0/16"]\n'

# Where each rule must fail: fixture folder and node group (None for a module-wide finding).
EXPECTED_FAILURES = {
    "EKSP001": ("missing", "general"),
    "EKSP002": ("coverage", "script_only"),
    "EKSP003": ("coverage", "kubelet_only"),
    "EKSP004": ("coverage", "script_only"),
    "EKSP005": ("variables", "http_only"),
    "EKSP006": ("variables", "http_only"),
    "EKSP007": ("variables", "http_only"),
    "EKSP008": ("placement", "no_template"),
    "EKSP009": ("families", "rocket"),
    "EKSP010": ("dynamic", None),
    "EKSP011": ("config_differs", "old_proxy"),
    "EKSP012": ("variables", "http_only"),
    "EKSP013": ("variables", "http_only"),
    "EKSP014": ("handwritten", "workers"),
    "EKSP015": ("families", "windows"),
    "EKSP016": ("variables", "http_only"),
    "EKSP017": ("families", "legacy"),
    "EKSP025": ("karpenter", None),
}
KARPENTER = ("helm_release.", "kubectl_manifest.", "kubernetes_manifest.")


@dataclass(frozen=True)
class Record:
    check_id: str
    result: str
    file: Path
    module: str
    start_line: int
    details: tuple[str, ...]
    name: str

    @property
    def rule(self) -> str:
        return RULE_OF.get(self.check_id, self.check_id)


def checkov(version: str) -> Path:
    return REPO / f".venv-checkov-{version}" / "bin" / "checkov"


def run_checkov(version: str, root: Path, env: dict[str, str] | None = None) -> list[Record]:
    """One real checkov run over ``root`` with only the eksproxy-gen checks; its records.

    Every tree here has failing checks, so checkov must exit 1.
    """
    binary = checkov(version)
    require(binary.exists(), f"checkov {version} is not installed at {binary}; run `bash tests/setup_checkov.sh`")
    environment = {**os.environ, "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "EKSPROXY_GEN": str(CLI), **(env or {})}
    proc = subprocess.run(
        [str(binary), "-d", ".", "--framework", "terraform", "--external-checks-dir", str(RULES_DIR),
         "--check", "CKV_EKSPROXY_*", "--skip-download", "-o", "json"],
        env=environment, cwd=root, capture_output=True, text=True, check=False, timeout=600)
    assert proc.returncode == 1, proc.stderr
    # A check that cannot be loaded, or that raises, silently vanishes from checkov's report.
    for sign in ("Cannot load external check", "Failed to run check", "Traceback"):
        assert sign not in proc.stderr, proc.stderr
    data = json.loads(proc.stdout) if proc.stdout.strip().startswith(("{", "[")) else {}
    records: list[Record] = []
    for report in data if isinstance(data, list) else [data]:
        results = report.get("results", {})
        for kind, result in (("passed_checks", "PASSED"), ("failed_checks", "FAILED"),
                             ("skipped_checks", "SKIPPED")):
            for item in results.get(kind, []):
                resource = item["resource"]
                owner = resource if resource.startswith(KARPENTER) else resource.split(".")[-1].split("[")[0]
                records.append(Record(item["check_id"], result, Path(item["file_abs_path"]).resolve(),
                                      owner, item["file_line_range"][0],
                                      tuple(item.get("details") or ()), item.get("check_name", "")))
    return records


def cli_report(root: Path) -> dict:
    proc = subprocess.run([str(CLI), "check", "--format", "json", "."], cwd=root, capture_output=True, text=True,
                          check=False, timeout=300)
    assert proc.returncode == 1, proc.stderr
    return json.loads(proc.stdout)


# A broken settings file is a settings error that stops the whole run (exit 2): it has a tree of its own.
WITHOUT_BROKEN = shutil.ignore_patterns("config_broken")


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("checkov") / "tree"
    shutil.copytree(FIXTURES / "checkov", root, ignore=WITHOUT_BROKEN)
    (root / ".eksproxy-gen.toml").write_text(TEST_CONFIG, encoding="utf-8")
    return root


@pytest.fixture(scope="module", params=VERSIONS)
def records(request: pytest.FixtureRequest, tree: Path) -> list[Record]:
    return run_checkov(request.param, tree)


@pytest.fixture(scope="module")
def broken_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("checkov-broken") / "tree"
    for folder in ("config_broken", "missing"):
        shutil.copytree(FIXTURES / "checkov" / folder, root / folder)
    (root / ".eksproxy-gen.toml").write_text(TEST_CONFIG, encoding="utf-8")
    return root


@pytest.fixture(scope="module", params=VERSIONS)
def broken_records(request: pytest.FixtureRequest, broken_tree: Path) -> list[Record]:
    return run_checkov(request.param, broken_tree)


def verdicts_of_cli(root: Path) -> dict[tuple[Path, str, str], str]:
    """(module file, module, rule) -> FAILED or PASSED, from the CLI's JSON report."""
    data = cli_report(root)
    def owner(name: str) -> str:  # checkov names a module call by its label, as eksproxy-gen names EKS calls
        return name.removeprefix("module.")

    verdicts = {((root / m["file"]).resolve(), owner(m["name"]), rule.id): "PASSED"
                for m in (*data["modules"], *data["resources"]) for rule in RULES}
    for finding in data["findings"]:
        verdicts[((root / finding["module_file"]).resolve(), owner(finding["module"]), finding["rule"])] = "FAILED"
    return verdicts


def assert_agreement(records: list[Record], root: Path) -> dict[tuple[Path, str, str], str]:
    """checkov's verdict is the CLI's for every (module, rule), but where checkov was told to skip a check."""
    skipped = {(r.file, r.module, r.rule) for r in records if r.result == "SKIPPED"}
    got = {(r.file, r.module, r.rule): r.result for r in records
           if r.result != "SKIPPED" and r.file.parent != root / "config_broken"}
    expected = {key: verdict for key, verdict in verdicts_of_cli(root).items() if key not in skipped}
    assert got == expected
    return got


def test_checkov_gives_the_cli_verdict_for_every_module_and_rule(records: list[Record], tree: Path) -> None:
    got = assert_agreement(records, tree)
    assert len({(file, module) for file, module, _ in got}) >= 15


def test_a_broken_configuration_fails_every_check_of_the_run(broken_records: list[Record], broken_tree: Path) -> None:
    """eksproxy-gen stops on a settings error (exit 2, no report): every check of the scan fails and says why."""
    broken = [r for r in broken_records if r.file.parent == broken_tree / "config_broken"]
    assert {r.rule for r in broken} == {rule.id for rule in RULES}
    assert {r.result for r in broken_records} == {"FAILED"}
    assert {r.file.parent for r in broken_records} == {broken_tree / "config_broken", broken_tree / "missing"}
    assert all(".eksproxy-gen.toml:2:" in r.details[0] and "vpc_cidr" in r.details[0] for r in broken_records)


def test_every_rule_fails_where_expected(records: list[Record], tree: Path) -> None:
    for rule, (folder, group) in EXPECTED_FAILURES.items():
        failed = [r for r in records if r.rule == rule and r.result == "FAILED" and r.file.parent == tree / folder]
        assert failed, f"{rule} did not fail in {folder}"
        if group is not None:
            assert any(f".{group} (" in d for r in failed for d in r.details), (rule, failed)


def test_a_failed_check_names_rule_groups_and_lines(records: list[Record], tree: Path) -> None:
    failed = next(r for r in records if r.rule == "EKSP001" and r.result == "FAILED"
                  and r.file.parent == tree / "missing")
    assert "EKSP001" in failed.name and "eks.general" in failed.name
    assert all(d.startswith("eks.") and "main.tf:" in d for d in failed.details)


def test_checkov_skip_comment_is_honoured(records: list[Record], tree: Path) -> None:
    skipped = [r for r in records if r.file.parent == tree / "skip" and r.result == "SKIPPED"]
    assert {r.rule for r in skipped} == {"EKSP001"}


def test_non_eks_modules_get_no_record(records: list[Record], tree: Path) -> None:
    assert not [r for r in records if r.module == "vpc"]
    assert not [r for r in records if r.module == "kubectl_manifest.node_pool"]


def test_karpenter_in_terraform_gets_resource_checks_with_the_cli_verdicts(records: list[Record], tree: Path) -> None:
    failed = {(r.module, r.rule) for r in records if r.file.parent == tree / "karpenter" and r.result == "FAILED"}
    assert failed == {("helm_release.karpenter", "EKSP025"), ("kubectl_manifest.default_node_class", "EKSP001"),
                      ("kubectl_manifest.rocket_node_class", "EKSP009"), ("eks_data_addons", "EKSP001")}
    named = next(r for r in records if r.rule == "EKSP001" and r.module == "kubectl_manifest.default_node_class"
                 and r.result == "FAILED")
    assert "kubectl_manifest.default_node_class.default" in named.name
    assert named.details[0].startswith("kubectl_manifest.default_node_class.default (karpenter/main.tf:")


def test_after_fix_checkov_and_cli_agree_again(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    shutil.copytree(FIXTURES / "checkov", root, ignore=WITHOUT_BROKEN)
    (root / ".eksproxy-gen.toml").write_text(TEST_CONFIG, encoding="utf-8")
    subprocess.run([str(CLI), "fix", "."], cwd=root, capture_output=True, text=True, check=False, timeout=300)
    records = run_checkov(VERSIONS[0], root)
    assert_agreement(records, root)
    assert not [r for r in records if r.rule == "EKSP001" and r.result == "FAILED"
                and r.file.parent != root / "config_broken"]


def test_a_missing_eksproxy_gen_fails_loudly(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "checkov" / "missing", tmp_path / "missing")
    records = run_checkov(VERSIONS[0], tmp_path / "missing",
                          env={"EKSPROXY_GEN": str(tmp_path / "no-such-command"), "PATH": "/usr/bin:/bin"})
    assert [(r.check_id, r.result) for r in records] == [("CKV_EKSPROXY_SETUP", "FAILED")]
    assert "no-such-command" in records[0].details[0]


def test_the_checks_never_run_an_eksproxy_gen_found_relative_to_the_scanned_folder(tmp_path: Path) -> None:
    """A pull request commits bin/eksproxy-gen; checkov scans it with a relative PATH entry, or with a relative
    $EKSPROXY_GEN. The checks run the installed eksproxy-gen, or say they cannot, never the committed one."""
    root = tmp_path / "missing"
    shutil.copytree(FIXTURES / "checkov" / "missing", root)
    marker = tmp_path / "the-pull-request-ran-code"
    hostile = root / "bin" / "eksproxy-gen"
    hostile.parent.mkdir()
    hostile.write_text(f"#!/bin/sh\ntouch '{marker}'\nexit 1\n")
    hostile.chmod(0o755)
    on_path = run_checkov(VERSIONS[0], root, env={"EKSPROXY_GEN": "", "PATH": f"bin::{CLI.parent}:/usr/bin:/bin"})
    assert not marker.exists()
    assert ("CKV_EKSPROXY_1", "FAILED") in {(r.check_id, r.result) for r in on_path}
    relative = run_checkov(VERSIONS[0], root, env={"EKSPROXY_GEN": "bin/eksproxy-gen"})
    assert not marker.exists()
    assert [(r.check_id, r.result) for r in relative] == [("CKV_EKSPROXY_SETUP", "FAILED")]
    assert "EKSPROXY_GEN=bin/eksproxy-gen is a relative path" in relative[0].details[0]
