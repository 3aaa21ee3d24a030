"""Gates that never lie, at the command line: exit codes, report files, pipes, logs and line numbers.

Every test runs the installed ``eksproxy-gen`` console script in a subprocess,
as CI jobs and pre-commit do; each one states a contract a CI job relies on.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from .conftest import FIXTURES, replaced
from .test_cli import ANSI, FLAGS, SCRIPT, clean_env, console

PROXY_TOML = 'proxy = "http://proxy.corp.example:3128"\nvpc_cidrs = ["10.0.0.0/16"]\n'


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "main.tf").write_text((FIXTURES / "partial.tf").read_text())
    return tmp_path


# --- exit codes ------------------------------------------------------------------------------------------------------

def test_fix_diff_check_prints_the_diff_and_exits_1_while_changes_are_pending(project: Path) -> None:
    both = console("fix", "--diff", "--check", *FLAGS, cwd=project)
    assert both.returncode == 1, both.stderr
    assert both.stdout.startswith("--- a/main.tf\n+++ b/main.tf\n")
    alone = console("fix", "--diff", *FLAGS, cwd=project)  # as before: only warnings are left, nothing written
    assert (alone.returncode, alone.stdout) == (0, both.stdout)
    assert console("fix", *FLAGS, cwd=project).returncode == 0
    clean = console("fix", "--diff", "--check", *FLAGS, cwd=project)
    assert (clean.returncode, clean.stdout) == (0, "")


@pytest.mark.parametrize("content", ['proxy = "http://p:3128"\nvpc_cidr = ["10.0.0.0/16"]\n', "vpc_cidrs = [\n"])
@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "gitlab"])
def test_a_settings_error_exits_2_with_no_report_anywhere(project: Path, content: str, fmt: str) -> None:
    """An empty SARIF uploaded by a CI job would close every open code-scanning alert: nothing is written."""
    nested = project / "envs" / "prod"
    nested.mkdir(parents=True)
    (nested / "main.tf").write_text((FIXTURES / "shapes.tf").read_text())
    (nested / ".eksproxy-gen.toml").write_text(content)
    proc = console("check", "--format", fmt, "-o", "sarif:results.sarif", "-o", "json:results.json", cwd=project)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert re.fullmatch(r"eksproxy-gen: error: envs/prod/\.eksproxy-gen\.toml:\d+: [^\n]+\n", proc.stderr), \
        proc.stderr
    assert not (project / "results.sarif").exists() and not (project / "results.json").exists()
    fixed = console("fix", *FLAGS, "--format", "json" if fmt == "json" else "text", cwd=project)
    assert (fixed.returncode, fixed.stdout) == (2, "")
    assert (project / "main.tf").read_text() == (FIXTURES / "partial.tf").read_text(), "nothing was fixed"
    rendered = console("render", *FLAGS, cwd=nested)
    assert (rendered.returncode, rendered.stdout) == (2, "")


SETTINGS_LINES = [
    # a multi-line string holding a line that looks like the key
    ('vpc_cidrs = ["10.0.0.0/16"]\nnote = """\nproxy = "inside a string"\n"""\n', 2, "unknown key note"),
    ('service_cidr = """\nproxy = "inside a string"\n"""\nproxy = 3128\n', 4, "proxy must be a string"),
    # a table: its name is the key, on the header's line; the same name inside it is not
    ('proxy = "http://p:3128"\n\n[defaults]\nproxy = "http://q:3128"\n', 3, "unknown key defaults"),
    ('proxy = "http://p:3128"\n[[groups]]\nvpc_cidrs = 1\n', 2, "unknown key groups"),
    # an array over several lines, with a comment that looks like a key
    ('no_proxy = [\n  ".corp.example",  # service_cidr = 1\n]\nservice_cidr = 17\n', 4,
     "service_cidr must be a string"),
    # a value the validation refuses: the line of its key, not line 1
    ('# settings\nproxy = "http://p:3128"\nvpc_cidrs = ["10.0.0.1/16"]\n', 3, "vpc_cidrs: 10.0.0.1/16 has host bits"),
    ('proxy = "http://p:3128"\nselect = ["EKSP999"]\n', 2, "select: EKSP999 matches no rule"),
    ('proxy = "http://p:3128"\n\nfail_on = "warnings"\n', 3, "fail_on must be one of"),
]


@pytest.mark.parametrize(("content", "line", "message"), SETTINGS_LINES)
def test_a_settings_error_names_the_line_of_its_key(project: Path, content: str, line: int, message: str) -> None:
    (project / ".eksproxy-gen.toml").write_text(content)
    proc = console("check", cwd=project)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.startswith(f"eksproxy-gen: error: .eksproxy-gen.toml:{line}: {message}"), proc.stderr


# --- report files ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("command", "spec", "says"), [
    ("check", "xml:x.xml", "xml is not a format"),
    ("check", "report.xml", "writes no xml report"),
    ("check", "json:out.sarif", "a .sarif file cannot hold the json format"),
    ("check", "text:out.json", "a .json file cannot hold the text format"),
    ("fix", "sarif:out.sarif", "fix does not write sarif"),
    ("fix", "out.sarif", "fix does not write sarif"),
    ("fix", "gitlab:gl.json", "fix does not write gitlab"),
])
def test_an_output_file_that_would_lie_is_a_usage_error(project: Path, command: str, spec: str, says: str) -> None:
    before = sorted(p.name for p in project.iterdir())
    proc = console(command, *(FLAGS if command == "fix" else ()), "-o", spec, cwd=project)
    assert proc.returncode == 2 and says in proc.stderr, proc.stderr
    assert proc.stdout == "" and sorted(p.name for p in project.iterdir()) == before
    assert (project / "main.tf").read_text() == (FIXTURES / "partial.tf").read_text()


def test_an_output_file_takes_its_format_from_its_extension(project: Path) -> None:
    proc = console("check", "-o", "results.sarif", "-o", "findings.json", cwd=project)
    assert proc.returncode == 1
    assert proc.stdout.startswith("main.tf:8: EKSP002"), "a file in another format leaves the text on stdout"
    sarif = json.loads((project / "results.sarif").read_text())
    assert sarif["version"] == "2.1.0" and len(sarif["runs"][0]["results"]) == 13
    assert len(json.loads((project / "findings.json").read_text())["findings"]) == 13
    gitlab = console("check", "--format", "gitlab", "-o", "gl-code-quality-report.json", cwd=project)
    assert gitlab.stdout == "" and isinstance(json.loads((project / "gl-code-quality-report.json").read_text()), list)
    named = console("check", "-o", "./odd:name.txt", cwd=project)
    assert named.stdout == "" and (project / "odd:name.txt").read_text().startswith("main.tf:8: EKSP002")


def test_fix_diff_writes_the_diff_into_the_output_file(project: Path) -> None:
    shown = console("fix", "--diff", *FLAGS, cwd=project)
    filed = console("fix", "--diff", *FLAGS, "-o", "changes.diff", cwd=project)
    assert filed.returncode == shown.returncode == 0
    assert filed.stdout == "" and filed.stderr == shown.stderr, "what fix would do and leave is still shown"
    assert (project / "changes.diff").read_text() == shown.stdout
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    applied = subprocess.run(["git", "apply", "--check", "changes.diff"], cwd=project, capture_output=True, text=True,
                             check=False)
    assert applied.returncode == 0, applied.stderr


def test_fix_help_offers_only_what_fix_writes() -> None:
    text = console("fix", "-h").stdout
    assert "sarif" not in text and "gitlab" not in text and "--statistics" not in text
    assert "--leave-findings-to-check" in text and "--show-settings" in text
    assert "sarif:results.sarif" in console("check", "-h").stdout


# --- pipes, logs, terminals ------------------------------------------------------------------------------------------

def closed_pipe(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The command with its stdout a pipe nobody reads any more, as ``| head -1`` leaves it once head is done."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run([str(SCRIPT), *args], cwd=cwd, env=clean_env(), stdout=write, stderr=subprocess.PIPE,
                              text=True, check=False, timeout=300)
    finally:
        os.close(write)


@pytest.mark.parametrize("args", [("rules", "--format", "json"), ("rules",), ("rule", "EKSP006"), ("--help",),
                                  ("--version",), ("render", *FLAGS)])
def test_a_closed_pipe_ends_a_printing_command_quietly_with_exit_0(args: tuple[str, ...]) -> None:
    proc = closed_pipe(*args)
    assert (proc.returncode, proc.stderr) == (0, "")


def test_a_closed_pipe_keeps_the_verdict_of_check(project: Path) -> None:
    """``check | head`` under ``set -o pipefail`` must still fail on findings: the reader stopping is no pass."""
    proc = closed_pipe("check", cwd=project)
    assert (proc.returncode, proc.stderr) == (1, "13 findings (8 errors, 5 warnings) in 1 file.\n")
    for fmt in ("json", "sarif"):
        assert closed_pipe("check", "--format", fmt, cwd=project).returncode == 1


def buffered_env() -> dict[str, str]:
    """As a CI runner starts a job: Python buffers stdout written to a file or pipe (no PYTHONUNBUFFERED)."""
    return {k: v for k, v in clean_env().items() if k != "PYTHONUNBUFFERED"}


def test_in_a_log_of_stdout_and_stderr_the_summary_comes_after_the_findings(project: Path) -> None:
    with open(project / "job.log", "w") as log:
        proc = subprocess.run([str(SCRIPT), "check"], cwd=project, env=buffered_env(), stdout=log,
                              stderr=subprocess.STDOUT, check=False, timeout=300)
    assert proc.returncode == 1
    lines = (project / "job.log").read_text().splitlines()
    assert len(lines) == 14 and all(line.startswith("main.tf:") for line in lines[:13])
    assert lines[-1] == "13 findings (8 errors, 5 warnings) in 1 file."
    fix_log = project / "fix.log"
    with open(fix_log, "w") as log:
        subprocess.run([str(SCRIPT), "fix", "--diff", *FLAGS], cwd=project, env=buffered_env(), stdout=log,
                       stderr=subprocess.STDOUT, check=False, timeout=300)
    text = fix_log.read_text()
    assert text.startswith("--- a/main.tf") and text.rstrip().endswith("left.")
    assert text.index("main.tf: would fix") > text.rindex("\n+")


@pytest.mark.parametrize("how", [{"args": ("--color", "always")}, {"env": {"FORCE_COLOR": "1"}},
                                 {"env": {"FORCE_COLOR": "1", "COLUMNS": "40"}}])
def test_findings_are_never_wrapped_when_stdout_is_not_a_terminal(project: Path, how: dict) -> None:
    plain = console("check", "--color", "never", cwd=project).stdout.splitlines()
    long_lines = [line for line in plain if len(line) > 100]
    assert long_lines, "the fixture has findings longer than a screen line"
    coloured = console("check", *how.get("args", ()), cwd=project, **how.get("env", {}))
    assert "\x1b[" in coloured.stdout, "colour was forced"
    assert ANSI.sub("", coloured.stdout).splitlines() == plain


# --- line numbers of what fix --diff leaves ------------------------------------------------------------------------

def test_fix_diff_and_check_report_what_is_left_at_the_lines_on_disk(project: Path) -> None:
    on_disk = json.loads(console("check", "--format", "json", cwd=project).stdout)["findings"]
    expected = sorted((f["rule"], f["line"], f["node_group"]) for f in on_disk if f["rule"] in {"EKSP012", "EKSP016"})
    assert expected == [("EKSP012", 28, "http_only"), ("EKSP016", 28, "http_only")]
    for mode in ("--diff", "--check"):
        data = json.loads(console("fix", mode, "--proxy", "http://proxy.corp.example:3128", "--format", "json",
                                  cwd=project).stdout)
        left = sorted((f["rule"], f["line"], f["node_group"]) for f in data["findings"])
        assert left == expected, mode
        assert [f["module_line"] for f in data["findings"]] == [1, 1]
    written = json.loads(console("fix", "--proxy", "http://proxy.corp.example:3128", "--format", "json",
                                 cwd=project).stdout)
    after = json.loads(console("check", "--format", "json", cwd=project).stdout)["findings"]
    assert sorted((f["rule"], f["line"]) for f in written["findings"]) == sorted((f["rule"], f["line"]) for f in after)
    assert all(f["line"] > 28 for f in after), "written: the lines of the rewritten file"


def test_fix_diff_moves_a_position_inside_a_message_too(tmp_path: Path) -> None:
    """A finding names where a value comes from (``main.tf:N``): that line is the file's on disk as well."""
    text = (FIXTURES / "partial.tf").read_text()
    opaque = replaced(text, "  }\n}\n", '    later = {\n      cloudinit_pre_nodeadm = var.parts\n    }\n  }\n}\n')
    (tmp_path / "main.tf").write_text(opaque)
    line = opaque.splitlines().index("    later = {") + 1
    checked = json.loads(console("check", "--format", "json", cwd=tmp_path).stdout)["findings"]
    expected = [(f["line"], f["message"]) for f in checked if f["node_group"] == "later"]
    assert expected and expected[0][0] == line and f"(at main.tf:{line + 1})" in expected[0][1]
    for mode in ("--diff", "--check"):
        data = json.loads(console("fix", mode, *FLAGS, "--format", "json", cwd=tmp_path).stdout)
        assert [(f["line"], f["message"]) for f in data["findings"] if f["node_group"] == "later"] == expected


# --- statistics ------------------------------------------------------------------------------------------------------

def test_statistics_mark_only_the_findings_fix_resolves(tmp_path: Path) -> None:
    (tmp_path / ".eksproxy-gen.toml").write_text(PROXY_TOML)
    head = 'module "eks" {\n  source  = "terraform-aws-modules/eks/aws"\n  version = "~> 21.0"\n\n  name = "c"\n\n'
    (tmp_path / "main.tf").write_text(
        head + "  eks_managed_node_groups = {\n    built = {\n      cloudinit_pre_nodeadm = concat([], [])\n    }\n"
        "    plain = {\n      min_size = 1\n    }\n  }\n}\n")
    proc = console("check", "--statistics", cwd=tmp_path)
    assert proc.returncode == 1
    rows = [re.sub(r"\s+", " ", row.strip()) for row in proc.stdout.splitlines()]
    fixed = json.loads(console("fix", "--check", "--format", "json", cwd=tmp_path).stdout)
    assert [(g["node_group"], g["rules"]) for g in fixed["fixed"]] == [("plain", ["EKSP001"])]
    assert "1 EKSP001 [*] Node group has no proxy configuration" in rows
    assert "1 EKSP001 Node group has no proxy configuration" in rows, rows


def test_statistics_mark_nothing_when_fix_would_refuse_for_want_of_a_proxy(tmp_path: Path) -> None:
    project = tmp_path  # no proxy configured and none in use by any group: fix has no proxy to write
    (project / "main.tf").write_text((FIXTURES / "shapes.tf").read_text())
    proc = console("check", "--statistics", cwd=project)
    assert proc.returncode == 1 and proc.stdout.count("[*]") == 0
    assert console("fix", "--check", cwd=project).returncode == 2, "fix refuses: no proxy URL"
    (project / ".eksproxy-gen.toml").write_text(PROXY_TOML)
    assert console("check", "--statistics", cwd=project).stdout.count("[*]") > 0
