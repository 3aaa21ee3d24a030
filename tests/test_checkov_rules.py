"""The checkov rules in rules/, run by the real, pinned checkov against Terraform fixtures.

checkov cannot share an environment with python-hcl2, so it runs as a
subprocess from its own virtual environment, ``.venv-checkov``, made by
tests/setup_checkov.sh. Each checkov run costs about two seconds, so one run
covers a whole fixture tree (module-scoped fixtures) and the tests read its
JSON report. The CLI runs in-process, as in the other tests.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from eksproxy_gen.policy.rules import RULES, RULES_BY_ID

REPO = Path(__file__).parent.parent
RULES_DIR = REPO / "rules"
CHECKOV = REPO / ".venv-checkov" / "bin" / "checkov"
FIXTURES = Path(__file__).parent / "fixtures"
CKV_FIXTURES = FIXTURES / "checkov"
GUIDELINE_BASE = "https://github.com/eksproxy-gen/eksproxy-gen/blob/main/rules/RULES.md"
RULE_OF = {rule.checkov_id: rule.id for rule in RULES}
DETAIL = re.compile(r"^(?P<group>.+?) \(line (?P<line>\d+)(?: in (?P<file>[^)]+))?\): (?P<message>.+)$", re.S)
TEST_CONFIG = 'proxy = "http://proxy.corp.example:3128"\nvpc_cidrs = ["10.0.0.0/16"]\n'

# Where each rule must fail: fixture folder, node group (or module.NAME for a module-wide finding).
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
    "EKSP010": ("dynamic", "module.eks_var"),
    "EKSP011": ("config_differs", "old_proxy"),
    "EKSP012": ("variables", "http_only"),
    "EKSP013": ("variables", "http_only"),
    "EKSP014": ("handwritten", "workers"),
    "EKSP015": ("families", "windows"),
    "EKSP016": ("variables", "http_only"),
    "EKSP017": ("families", "legacy"),
}


@dataclass(frozen=True)
class Record:
    check_id: str
    result: str
    file: Path
    resource: str
    details: tuple[str, ...]
    suppress_comment: str | None
    severity: str | None
    guideline: str | None
    name: str

    @property
    def rule(self) -> str:
        return RULE_OF[self.check_id]

    @property
    def module(self) -> str:
        """The module block's name: the address without ``module.`` prefixes and instance keys."""
        return self.resource.split(".")[-1].split("[")[0]


@dataclass(frozen=True)
class Report:
    records: tuple[Record, ...]
    parsing_errors: frozenset[Path]
    stderr: str

    def where(self, folder: Path, result: str | None = None) -> list[Record]:
        return [r for r in self.records if r.file.parent == folder and (result is None or r.result == result)]


def _require_checkov() -> None:
    if not CHECKOV.exists():
        why = f"checkov is not installed at {CHECKOV}; run `bash tests/setup_checkov.sh` first"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)


def run_checkov(root: Path, checks_dir: Path = RULES_DIR) -> Report:
    """One real checkov run over ``root`` with only the eksproxy-gen checks; the JSON report, parsed."""
    _require_checkov()
    env = {**os.environ, "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true"}
    proc = subprocess.run(
        [str(CHECKOV), "-d", str(root), "--framework", "terraform", "--external-checks-dir", str(checks_dir),
         "--check", "CKV_EKSPROXY_*", "--skip-download", "-o", "json"],
        env=env, cwd=root, capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    # A check that cannot be loaded, or that raises, silently vanishes from checkov's report.
    for sign in ("Cannot load external check", "Failed to run check", "Traceback"):
        assert sign not in proc.stderr, proc.stderr
    data = json.loads(proc.stdout)
    reports = data if isinstance(data, list) else [data]
    records: list[Record] = []
    errors: set[Path] = set()
    for report in reports:
        results = report.get("results", {})
        errors.update(Path(p) for p in results.get("parsing_errors", []))
        for kind, result in (("passed_checks", "PASSED"), ("failed_checks", "FAILED"),
                             ("skipped_checks", "SKIPPED")):
            for item in results.get(kind, []):
                records.append(Record(
                    check_id=item["check_id"], result=result, file=Path(item["file_abs_path"]),
                    resource=item["resource"], details=tuple(item.get("details") or ()),
                    suppress_comment=item["check_result"].get("suppress_comment"),
                    severity=item.get("severity"), guideline=item.get("guideline"), name=item["check_name"]))
    return Report(tuple(records), frozenset(errors), proc.stderr)


@pytest.fixture(scope="module")
def fixtures_report() -> Report:
    """checkov over every fixture of the test suite (the CLI's own fixtures included)."""
    return run_checkov(FIXTURES)


def findings_of(record: Record, module_file: Path) -> set[tuple[str, str, int, Path]]:
    """(rule, group, line, file) from a FAILED record's details."""
    out = set()
    for detail in record.details:
        match = DETAIL.match(detail)
        assert match, f"{record.check_id}: detail not in the form 'GROUP (line N): message': {detail!r}"
        file = module_file.parent / match["file"] if match["file"] else module_file
        out.add((record.rule, match["group"], int(match["line"]), file))
    return out


def key_line(path: Path, key: str, after: str | None = None) -> int:
    """Independent oracle: the first line where ``key =`` (or ``"key" =``) is written, after the line ``after``."""
    pattern = re.compile(r'^\s*"?' + re.escape(key) + r'"?\s*=')
    started = after is None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        started = started or line.startswith(after or "")
        if started and pattern.match(line):
            return number
    raise AssertionError(f"{key} is not written in {path}")


# --- the rules folder and its document -----------------------------------------------------------------------------

def test_one_check_file_per_rule() -> None:
    files = {p.name for p in RULES_DIR.glob("ckv_eksproxy_*.py")} - {"ckv_eksproxy_common.py"}
    assert files == {f"ckv_eksproxy_{int(rule.id[4:])}.py" for rule in RULES}
    for rule in RULES:
        text = (RULES_DIR / f"ckv_eksproxy_{int(rule.id[4:])}.py").read_text(encoding="utf-8")
        assert f'id="{rule.checkov_id}"' in text
        assert f'RULE = "{rule.id}"' in text
        assert text.count("class ") == 1


def test_rules_folder_holds_no_package_for_checkov_to_exec() -> None:
    """checkov execs every .py below --external-checks-dir by bare name: only flat, prefixed files."""
    assert (RULES_DIR / "__init__.py").read_text(encoding="utf-8") == ""
    assert not [p for p in RULES_DIR.iterdir() if p.is_dir() and p.name != "__pycache__"]
    assert {p.name for p in RULES_DIR.glob("*.py")} - {"__init__.py"} == \
        {p.name for p in RULES_DIR.glob("ckv_eksproxy_*.py")}


def github_anchor(heading: str) -> str:
    """The id GitHub gives a Markdown heading: lowercase, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_rules_document_has_a_section_and_a_mapping_per_rule() -> None:
    text = (RULES_DIR / "RULES.md").read_text(encoding="utf-8")
    anchors = [github_anchor(m.group(1)) for m in re.finditer(r"^#{1,6} (.+)$", text, re.M)]
    for rule in RULES:
        assert rule.doc_anchor in anchors, rule.id
        assert re.search(rf"^\| *{rule.id} *\| *`?{rule.checkov_id}`? *\|", text, re.M), rule.id
        section = text.split(f"## {rule.id} ", 1)[1].split("\n## ", 1)[0]
        for requirement in re.findall(r"P\d+", rule.requirement):
            assert requirement in section, (rule.id, requirement)


# --- what checkov reports ------------------------------------------------------------------------------------------

def test_every_check_runs_on_every_eks_module(fixtures_report: Report) -> None:
    records = fixtures_report.where(CKV_FIXTURES / "correct")
    assert sorted(r.check_id for r in records) == sorted(rule.checkov_id for rule in RULES)
    assert {r.result for r in records} == {"PASSED"}


def test_check_metadata(fixtures_report: Report) -> None:
    for record in fixtures_report.where(CKV_FIXTURES / "correct"):
        rule = RULES_BY_ID[record.rule]
        assert record.severity == ("HIGH" if rule.severity.value == "error" else "LOW")
        assert record.guideline == f"{GUIDELINE_BASE}#{rule.doc_anchor}"
        assert record.name.startswith(rule.title) and rule.id in record.name


@pytest.mark.parametrize("rule_id", sorted(EXPECTED_FAILURES))
def test_each_rule_fails_where_it_should(fixtures_report: Report, rule_id: str) -> None:
    folder, group = EXPECTED_FAILURES[rule_id]
    failed = [r for r in fixtures_report.where(CKV_FIXTURES / folder, "FAILED") if r.rule == rule_id]
    assert failed, f"{RULES_BY_ID[rule_id].checkov_id} did not fail in {folder}"
    found = {f for r in failed for f in findings_of(r, r.file)}
    module_file = CKV_FIXTURES / folder / "main.tf"
    if group.startswith("module."):  # a module-wide finding names the line of the node-group map
        line = key_line(module_file, "eks_managed_node_groups", after=f'module "{group[7:]}"')
    else:
        line = key_line(module_file, group)
    assert (rule_id, group, line, module_file) in found, found


def test_every_rule_has_a_failing_fixture() -> None:
    assert set(EXPECTED_FAILURES) == {rule.id for rule in RULES}


def test_findings_name_what_is_wrong(fixtures_report: Report) -> None:
    def details(folder: str, rule: str) -> list[str]:
        return [d for r in fixtures_report.where(CKV_FIXTURES / folder, "FAILED") if r.rule == rule
                for d in r.details]

    script = details("handwritten", "EKSP014")
    for harm in ("nodeadm.service", "/etc/environment", "/etc/yum.conf", "set -x", "module.eks"):
        assert sum(harm in d for d in script) == 1, (harm, script)
    assert any("nodeadm.service" in d for d in details("coverage", "EKSP002") if d.startswith("script_only"))
    missing = details("variables", "EKSP006")
    for entry in ("127.0.0.1", "169.254.169.254", ".internal"):
        assert sum(f"lacks {entry} " in d for d in missing) == 1, (entry, missing)
    assert any("use_custom_launch_template = false" in d for d in details("placement", "EKSP008"))
    assert any("cloudinit_pre_nodeadm is ignored" in d for d in details("placement", "EKSP008"))


def test_a_group_map_in_a_local_is_judged_where_it_is_written(fixtures_report: Report) -> None:
    folder = CKV_FIXTURES / "dynamic"
    failed = [r for r in fixtures_report.where(folder, "FAILED") if r.module == "eks_local"]
    assert [r.rule for r in failed] == ["EKSP001"]
    assert findings_of(failed[0], folder / "main.tf") == {
        ("EKSP001", "payments", key_line(folder / "locals.tf", "payments"), folder / "locals.tf")}
    parts = [r for r in fixtures_report.where(folder, "FAILED") if r.module == "eks_parts"]
    assert [(r.rule, findings_of(r, r.file)) for r in parts] == [
        ("EKSP010", {("EKSP010", "shared_parts", key_line(folder / "main.tf", "shared_parts"), folder / "main.tf")})]


def test_templates_are_judged_as_written(fixtures_report: Report, cli) -> None:
    """checkov would hand the checks this NodeConfig with var.proxy filled in and every newline removed."""
    folder = CKV_FIXTURES / "heredoc_templates"
    text = (folder / "main.tf").read_text(encoding="utf-8")
    assert 'default = "http://proxy.corp.example:3128"' in text and "${var.proxy}" in text and "%{~ if" in text
    records = fixtures_report.where(folder)
    assert len(records) == len(RULES)
    assert {r.result for r in records} == {"PASSED"}, [r.details for r in records if r.result != "PASSED"]
    result = cli("check", str(folder), "--format", "json")
    assert (result.code, json.loads(result.out)["findings"]) == (0, [])


def test_inline_skip_comment(fixtures_report: Report) -> None:
    records = fixtures_report.where(CKV_FIXTURES / "skip")
    skipped = [r for r in records if r.result == "SKIPPED"]
    assert [(r.check_id, r.suppress_comment) for r in skipped] == [
        ("CKV_EKSPROXY_1", "proxy is baked into our custom AMI")]
    assert [r for r in records if r.result == "FAILED"] == []


def test_eksproxy_gen_ignore_comments_silence_one_group(fixtures_report: Report) -> None:
    records = {r.rule: r for r in fixtures_report.where(CKV_FIXTURES / "ignore")}
    assert records["EKSP001"].result == "FAILED"
    assert [d.split(":")[0] for d in records["EKSP001"].details] == ["private (line 15)"]
    assert {rule for rule, r in records.items() if r.result != "PASSED"} == {"EKSP001"}


def test_modules_that_are_not_terraform_aws_eks_get_no_result(fixtures_report: Report) -> None:
    assert {r.module for r in fixtures_report.where(CKV_FIXTURES / "missing")} == {"eks"}
    assert fixtures_report.where(FIXTURES / "not_eks.tf") == []


def test_each_module_instance_is_reported(fixtures_report: Report) -> None:
    failed = fixtures_report.where(CKV_FIXTURES / "instances", "FAILED")
    assert sorted(r.resource for r in failed) == ["eks[0]", "eks[1]"]
    assert failed[0].details == failed[1].details


def test_configuration_problem_fails_every_check_and_says_why(fixtures_report: Report, cli) -> None:
    folder = CKV_FIXTURES / "config_broken"
    records = fixtures_report.where(folder)
    assert len(records) == len(RULES) and {r.result for r in records} == {"FAILED"}
    for record in records:
        assert len(record.details) == 1
        assert record.details[0].startswith("eksproxy-gen configuration problem: ")
        assert "unknown key(s) vpc_cidr" in record.details[0]
    result = cli("check", str(folder))
    assert result.code == 2 and "unknown key(s) vpc_cidr" in result.err


# --- the CLI and checkov agree -------------------------------------------------------------------------------------

FOLDERS = sorted({p.parent for p in FIXTURES.rglob("*.tf")} - {CKV_FIXTURES / "config_broken"})


def assert_agreement(cli, report: Report, folder: Path) -> None:
    """Same (rule, node group, line, file) from `eksproxy-gen check` and from checkov's details.

    A module-wide finding is ``module.NAME`` on both sides; checks skipped inline
    are left out of the CLI's side for that module.
    """
    files = sorted(p for p in folder.iterdir() if p.suffix == ".tf")
    result = cli("check", *map(str, files), "--format", "json")
    assert result.code in (0, 1), result.err
    data = json.loads(result.out)
    skipped = {(r.rule, r.module) for r in report.where(folder, "SKIPPED")}
    expected = {(f["rule"], f["node_group"] or f"module.{f['module']}", f["line"], Path(f["file"]).resolve())
                for f in data["findings"] if (f["rule"], f["module"]) not in skipped}
    actual = {f for r in report.where(folder, "FAILED") for f in findings_of(r, r.file)}
    assert actual == expected
    assert {Path(e["file"]).resolve() for e in data["errors"]} == {p for p in report.parsing_errors
                                                                  if p.parent == folder}


@pytest.mark.parametrize("folder", FOLDERS, ids=[str(f.relative_to(FIXTURES)) or "." for f in FOLDERS])
def test_cli_and_checkov_agree(fixtures_report: Report, cli, folder: Path) -> None:
    assert_agreement(cli, fixtures_report, folder)


# --- the output of `eksproxy-gen fix` ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Report]:
    """Every checkov fixture (but the broken configuration) after `eksproxy-gen fix`, and checkov's report on it."""
    _require_checkov()
    root = tmp_path_factory.mktemp("fixed")
    for folder in sorted(CKV_FIXTURES.iterdir()):
        if folder.name != "config_broken":
            shutil.copytree(folder, root / folder.name)
    (root / ".eksproxy-gen.toml").write_text(TEST_CONFIG, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "eksproxy_gen", "fix", str(root)], cwd=root,
                          capture_output=True, text=True, check=False)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    return root, run_checkov(root)


def test_fix_output_passes_every_fixable_rule(fixed: tuple[Path, Report]) -> None:
    """What checkov still flags after `fix` is only what `fix` leaves to people by design.

    Left: EKSP008 (launch template off, AL2 template), EKSP010 (maps and parts built by
    expressions), EKSP012 (old AMI release), EKSP015 (Windows, ami_type unknown) and
    EKSP017 (AL2): none of them is fixable (Rule.fixable is False).
    """
    root, report = fixed
    left = {(r.rule, r.file.parent.name) for r in report.records if r.result == "FAILED"}
    assert left, "the fixtures keep some findings that fix cannot address"
    assert {rule for rule, _ in left if RULES_BY_ID[rule].fixable} == set()
    for folder in ("missing", "coverage", "variables", "config_differs", "handwritten", "quirks", "vendored"):
        assert (root / folder / "main.tf").read_text() != (CKV_FIXTURES / folder / "main.tf").read_text(), folder
    for folder in ("coverage", "config_differs", "handwritten", "missing"):
        assert [r for r in report.where(root / folder) if r.result != "PASSED"] == [], folder


@pytest.mark.parametrize("name", sorted(p.name for p in CKV_FIXTURES.iterdir() if p.name != "config_broken"))
def test_cli_and_checkov_agree_after_fix(fixed: tuple[Path, Report], cli, name: str) -> None:
    root, report = fixed
    assert_agreement(cli, report, root / name)


# --- where the policy package is found -----------------------------------------------------------------------------

def test_rules_path_names_the_folder_with_every_check(cli) -> None:
    result = cli("rules-path")
    folder = Path(result.out.strip())
    assert result.code == 0 and folder.is_dir()
    assert {p.name for p in folder.glob("ckv_eksproxy_*.py")} == {p.name for p in RULES_DIR.glob("ckv_eksproxy_*.py")}
    assert (folder / "RULES.md").is_file() and (folder / "__init__.py").is_file()


def test_rules_find_the_policy_in_an_installed_layout(tmp_path: Path) -> None:
    """Installed, the checks are site-packages/eksproxy_gen/rules/*.py and the policy is their parent package."""
    package = tmp_path / "site-packages" / "eksproxy_gen"
    shutil.copytree(REPO / "generator", package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(RULES_DIR, package / "rules", ignore=shutil.ignore_patterns("__pycache__"))
    report = run_checkov(CKV_FIXTURES / "missing", checks_dir=package / "rules")
    failed = [r for r in report.records if r.result == "FAILED"]
    assert [(r.rule, r.details[0].split(":")[0]) for r in failed] == [("EKSP001", "general (line 15)")]


def test_rules_fail_closed_without_the_policy(tmp_path: Path) -> None:
    """Copied away from eksproxy_gen, every check fails and says why, instead of vanishing from the report."""
    shutil.copytree(RULES_DIR, tmp_path / "rules", ignore=shutil.ignore_patterns("__pycache__"))
    report = run_checkov(CKV_FIXTURES / "correct", checks_dir=tmp_path / "rules")
    assert sorted(r.check_id for r in report.records) == sorted(rule.checkov_id for rule in RULES)
    for record in report.records:
        assert record.result == "FAILED"
        assert record.details[0].startswith("eksproxy-gen rule crashed: RuntimeError: cannot load the eksproxy_gen")
