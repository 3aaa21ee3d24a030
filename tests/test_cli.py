"""The command line as users run it: the installed ``eksproxy-gen`` console script, in a subprocess.

Each test is one habit users bring from ruff, black, tflint or checkov. The
script is the one pip installed next to the running Python; its environment is
cleaned of colour settings so each test sets exactly what it means.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import pty
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from .conftest import FIXTURES, replaced

SCRIPT = Path(sys.executable).parent / "eksproxy-gen"
FLAGS = ("--proxy", "http://proxy.corp.example:3128", "--vpc-cidr", "10.0.0.0/16")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def clean_env(**env: str) -> dict[str, str]:
    """This process's environment without colour and CI settings, plus ``env``."""
    base = {k: v for k, v in os.environ.items()
            if k not in {"NO_COLOR", "FORCE_COLOR", "GITHUB_STEP_SUMMARY", "GITHUB_ACTIONS", "TERM"}}
    return {**base, **env}


def console(*args: str | Path, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), *map(str, args)], cwd=cwd, env=clean_env(**env), capture_output=True,
                          text=True, check=False, timeout=300)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "main.tf").write_text((FIXTURES / "partial.tf").read_text())
    return tmp_path


# --- the basics: version, help, default path -------------------------------------------------------------------------

def test_version_and_short_help() -> None:
    for flag in ("--version", "-V"):
        proc = console(flag)
        assert (proc.returncode, proc.stdout) == (0, f"eksproxy-gen {version('eksproxy-gen')}\n")
    short, long = console("-h"), console("--help")
    assert (short.returncode, long.returncode) == (0, 0)
    assert short.stdout == long.stdout
    assert short.stdout.startswith("Usage: eksproxy-gen [OPTIONS] COMMAND")


@pytest.mark.parametrize("command", ["check", "fix", "render", "rules", "rule", "rules-path"])
def test_each_command_helps_in_plain_words_with_exit_codes_and_an_example(command: str) -> None:
    text = console(command, "-h").stdout
    assert "Exit codes:" in text
    assert re.search(rf"^\s*Examples?: .*eksproxy-gen {command}\b", text, re.M), text
    assert not re.search(r"<list\[|\[Path\]|PATH\.\.\.|typer|Invalid value for", text)


def test_path_defaults_to_the_current_folder(project: Path) -> None:
    here = console("check", cwd=project)
    assert here.returncode == 1 and here.stdout.startswith("main.tf:8: EKSP002 error eks.units_only")
    assert console("check", ".", cwd=project).stdout == here.stdout


def test_usage_errors_name_the_option_and_what_it_accepts(project: Path) -> None:
    proc = console("check", "--format", "xml", cwd=project)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == \
        "Error: Invalid value for '--format': 'xml' is not one of 'text', 'json', 'sarif', 'github', 'gitlab'."
    missing = console("check", "no-such-folder", cwd=project)
    assert missing.returncode == 2 and "no-such-folder" in missing.stderr and "Traceback" not in missing.stderr


# --- outputs ---------------------------------------------------------------------------------------------------------

def test_several_outputs_in_one_run(project: Path) -> None:
    proc = console("check", "--output-file", "sarif:out.sarif", "--output-file", "json:out.json", cwd=project)
    assert proc.returncode == 1
    assert proc.stdout.startswith("main.tf:8: EKSP002")
    sarif = json.loads((project / "out.sarif").read_text())
    data = json.loads((project / "out.json").read_text())
    assert len(sarif["runs"][0]["results"]) == len(data["findings"]) == 13
    only_file = console("check", "--format", "json", "--output-file", "report.json", cwd=project)
    assert only_file.stdout == "" and json.loads((project / "report.json").read_text())["findings"]


def test_exit_zero_and_statistics(project: Path) -> None:
    # [*] marks what fix resolves, and without a proxy it resolves nothing
    (project / ".eksproxy-gen.toml").write_text('proxy = "http://proxy.corp.example:3128"\n')
    proc = console("check", "--exit-zero", "--statistics", cwd=project)
    assert proc.returncode == 0
    assert re.search(r"^\s+5\s+EKSP006\s+\[\*\]\s+NO_PROXY lacks an entry", proc.stdout, re.M)
    assert re.search(r"^\s+1\s+EKSP012\s{7}AMI release older", proc.stdout, re.M)


@pytest.mark.parametrize(("args", "env", "coloured"), [
    (("--color", "always"), {}, True),
    (("--color", "never"), {"FORCE_COLOR": "1"}, False),
    ((), {"FORCE_COLOR": "1"}, True),
    (("--color", "auto"), {}, False),
    (("--color", "always"), {"NO_COLOR": "1"}, True),
    ((), {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
])
def test_colour_follows_the_flag_then_no_color_then_force_color(project: Path, args: tuple[str, ...],
                                                                env: dict[str, str], coloured: bool) -> None:
    proc = console("check", *args, cwd=project, **env)
    assert bool(ANSI.search(proc.stdout)) is coloured


def at_terminal(*args: str, cwd: Path) -> str:
    """What a person at a terminal sees: stdout and stderr both on a pseudo-terminal."""
    main, follower = pty.openpty()
    proc = subprocess.Popen([str(SCRIPT), *args], cwd=cwd, env=clean_env(TERM="xterm"), stdout=follower,
                            stderr=follower)
    os.close(follower)
    seen = b""
    with contextlib.suppress(OSError):  # EIO once the command has closed the terminal
        while chunk := os.read(main, 65536):
            seen += chunk
    os.close(main)
    assert proc.wait(timeout=300) == 1
    return seen.decode()


def test_at_a_terminal_the_table_follows_color_never_too(project: Path) -> None:
    """The findings table on stderr obeys --color as the findings on stdout do."""
    for args, coloured in ((("--color", "never"), False), ((), True)):
        seen = at_terminal("check", *args, cwd=project)
        assert "Findings by rule" in seen
        assert bool(ANSI.search(seen)) is coloured, args


def test_the_summary_goes_to_stderr_for_every_command_and_format(project: Path) -> None:
    for fmt in ("text", "json", "sarif", "github", "gitlab"):
        proc = console("check", "--format", fmt, cwd=project)
        assert proc.stderr.strip().endswith("13 findings (8 errors, 5 warnings) in 1 file."), fmt
        shown = [line for line in proc.stdout.splitlines() if "13 findings" in line]
        assert shown == (["::notice title=eksproxy-gen::13 findings (8 errors, 5 warnings) in 1 file."]
                         if fmt == "github" else []), fmt
    for fmt in ("text", "json"):
        fixed = console("fix", "--check", *FLAGS, "--format", fmt, cwd=project)
        assert fixed.stderr.strip().splitlines()[-1] == \
            "would fix 14 findings in 2 groups (1 file); 1 finding (0 errors, 1 warning) left.", fmt


# --- rules -----------------------------------------------------------------------------------------------------------

def test_rule_prints_its_documentation_and_rules_lists_them() -> None:
    doc = console("rule", "EKSP006")
    assert doc.returncode == 0 and doc.stdout.startswith("## EKSP006 no-proxy-incomplete\n")
    assert "**Why it matters:**" in doc.stdout and "## EKSP007" not in doc.stdout
    assert console("rule", "eksp006").stdout == console("rule", "no-proxy-incomplete").stdout == doc.stdout
    unknown = console("rule", "EKSP999")
    assert unknown.returncode == 2 and "no rule EKSP999" in unknown.stderr
    listed = console("rules").stdout.splitlines()
    assert len(listed) == 27 and listed[5].split()[:3] == ["EKSP006", "error", "fix"]
    table = json.loads(console("rules", "--format", "json").stdout)
    assert table[5]["checkov_id"] == "CKV_EKSPROXY_6" and table[5]["help_uri"].endswith("#eksp006-no-proxy-incomplete")


# --- fix -------------------------------------------------------------------------------------------------------------

def test_fix_says_what_it_fixed_and_json_lists_it(project: Path) -> None:
    proc = console("fix", *FLAGS, "--format", "json", cwd=project)
    data = json.loads(proc.stdout)
    assert data["files_changed"] == ["main.tf"]
    fixed = {g["node_group"]: (g["rules"], g["findings"], g["complete"]) for g in data["fixed"]}
    assert fixed == {"http_only": (["EKSP005", "EKSP006", "EKSP007", "EKSP011", "EKSP013"], 10, True),
                     "units_only": (["EKSP002", "EKSP004", "EKSP011", "EKSP013"], 4, True)}
    assert [f["rule"] for f in data["findings"]] == ["EKSP012"]
    assert data["notes"] == [{"file": "main.tf", "note": "eks.http_only: NO_PROXY entries no longer written: "
                              ".amazonaws.com (add them to no_proxy in .eksproxy-gen.toml to keep them)"}]
    assert proc.stderr.strip().splitlines()[-1] == \
        "fixed 14 findings in 2 groups (1 file); 1 finding (0 errors, 1 warning) left."


def test_a_note_for_every_file_is_printed_once(tmp_path: Path) -> None:
    for name in ("a.tf", "b.tf"):
        (tmp_path / name).write_text(replaced((FIXTURES / "partial.tf").read_text(), '"eks"', f'"eks_{name[0]}"'))
    proc = console("fix", "--proxy", "http://user:pw@proxy.corp.example:3128", "--vpc-cidr", "10.0.0.0/16",
                   cwd=tmp_path)
    assert proc.stderr.count("the proxy URL holds credentials") == 1


def test_select_limits_what_is_changed(project: Path) -> None:
    before = (project / "main.tf").read_text()
    proc = console("fix", *FLAGS, "--select", "EKSP013", cwd=project)
    assert proc.returncode == 0, proc.stderr
    after = (project / "main.tf").read_text()
    assert after.count("eksproxy-gen-dnf.sh") == 2 and "eksproxy-gen-proxy.yaml" not in after
    removed = [line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line.startswith("- ")]
    assert removed == [], "selecting the dnf rule only adds the dnf part"
    rest = console("check", "--format", "json", cwd=project)
    assert "EKSP013" not in {f["rule"] for f in json.loads(rest.stdout)["findings"]}
    assert "EKSP006" in {f["rule"] for f in json.loads(rest.stdout)["findings"]}


def test_fix_without_eks_needs_no_proxy_and_passes(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text((FIXTURES / "not_eks.tf").read_text())
    proc = console("fix", cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stderr.endswith("nothing to fix; 0 left; 2 not judged (see the warnings).\n")


def test_no_terraform_found_is_said(tmp_path: Path) -> None:
    empty = console("check", cwd=tmp_path)
    assert empty.returncode == 0 and "no Terraform files (*.tf, *.tofu) in ." in empty.stderr
    (tmp_path / "main.tf.json").write_text("{}")
    json_only = console("check", cwd=tmp_path)
    assert "1 *.tf.json file(s) found, which eksproxy-gen does not read" in json_only.stderr


def test_a_finding_points_at_the_offending_line_inside_a_heredoc(tmp_path: Path) -> None:
    text = (FIXTURES / "handwritten.tf").read_text()
    (tmp_path / "main.tf").write_text(text)
    proc = console("check", "--select", "EKSP014", "--format", "json", cwd=tmp_path)
    lines = text.split("\n")
    found = json.loads(proc.stdout)["findings"]
    overwrite = [f for f in found if "/etc/environment" in f["message"]]
    assert overwrite and "/etc/environment" in lines[overwrite[0]["line"] - 1]
    key = f"{overwrite[0]['node_group']} ="
    group_line = next(i + 1 for i, line in enumerate(lines) if line.strip().startswith(key))
    assert overwrite[0]["line"] > group_line


def test_render_says_it_was_rendered_and_a_masked_diff_says_so(project: Path) -> None:
    rendered = console("render", *FLAGS).stdout
    assert rendered.count("# Written by `eksproxy-gen render`;") == 2  # the NodeConfig and dnf parts
    assert "Written by `eksproxy-gen fix`" not in rendered
    diff = console("fix", "--diff", "--proxy", "http://user:s3cret@proxy.corp.example:3128", "--vpc-cidr",
                   "10.0.0.0/16", cwd=project).stdout
    assert diff.startswith("--- a/main.tf\t(proxy credentials shown as ***; the file gets the real value)\n")
    assert "s3cret" not in diff
    plain = console("fix", "--diff", *FLAGS, cwd=project).stdout
    assert plain.startswith("--- a/main.tf\n")


# --- suppressions ----------------------------------------------------------------------------------------------------

def test_ignore_comments_take_lists_and_prefixes_and_warn_about_mistakes(project: Path) -> None:
    text = (project / "main.tf").read_text()
    text = text.replace("    units_only = {", "    # eksproxy-gen:ignore EKSP002, EKSP004 kubelet gets it elsewhere\n"
                                               "    units_only = { # eksproxy-gen:ignore EKSP9 typo", 1)
    text = text.replace("    http_only = {", "    http_only = { # eksproxy-gen:ignore EKSP00 the whole family", 1)
    text = text.replace('  name = "partial"', '  name = "partial" # eksproxy-gen:ignore EKSP017 silences nothing')
    (project / "main.tf").write_text(text)
    proc = console("check", "--warn-unused-ignores", "--format", "json", cwd=project)
    rules = sorted(f["rule"] for f in json.loads(proc.stdout)["findings"])
    assert rules == ["EKSP012", "EKSP013", "EKSP013", "EKSP016"]
    assert "main.tf:9: warning: eksproxy-gen:ignore names EKSP9, which matches no rule" in proc.stderr
    assert "main.tf:5: warning: eksproxy-gen:ignore EKSP017 silences nothing" in proc.stderr
    assert "silences nothing" not in console("check", cwd=project).stderr


# --- CI formats ------------------------------------------------------------------------------------------------------

def test_github_format_summarises_and_writes_the_step_summary(project: Path, tmp_path: Path) -> None:
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier step\n")
    proc = console("check", "--format", "github", cwd=project, GITHUB_STEP_SUMMARY=str(summary))
    annotations = [line for line in proc.stdout.splitlines() if line.startswith(("::error", "::warning"))]
    assert len(annotations) == 13
    assert annotations[0].startswith("::error file=main.tf,line=8,title=EKSP002 eks.units_only::")
    assert proc.stdout.splitlines()[-1] == "::notice title=eksproxy-gen::13 findings (8 errors, 5 warnings) in 1 file."
    written = summary.read_text()
    assert written.startswith("earlier step\n## eksproxy-gen\n")
    assert "| EKSP006 | error | 5 | NO_PROXY lacks an entry that must bypass the proxy |" in written


def test_gitlab_code_quality_report(project: Path) -> None:
    issues = json.loads(console("check", "--format", "gitlab", cwd=project).stdout)
    assert len(issues) == 13 and len({i["fingerprint"] for i in issues}) == 13
    first = issues[0]
    assert first["type"] == "issue" and first["check_name"] == "EKSP002"
    assert first["severity"] == "major" and first["location"] == {"path": "main.tf", "lines": {"begin": 8}}
    assert {i["severity"] for i in issues} == {"major", "minor"}
