"""CI-native output: SARIF 2.1.0 (schema-validated), GitHub annotations, terminal rendering, filters."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from .conftest import copy_fixture, replaced

SARIF_SCHEMA = Path(__file__).parent / "schemas" / "sarif-2.1.0.json"


def sarif_validator() -> jsonschema.Draft7Validator:
    """The SARIF 2.1.0 schema (vendored, see tests/schemas/README.md) with its formats checked, URIs included."""
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def test_the_sarif_validator_checks_uri_formats() -> None:
    document = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x", "informationUri": "not a uri"}},
                                              "results": []}]}
    assert list(sarif_validator().iter_errors(document)), "a URI with spaces must fail the schema"


def test_sarif_is_valid_and_complete(cli, tmp_path: Path) -> None:
    copy_fixture("partial.tf", tmp_path)
    copy_fixture("broken.tf", tmp_path)
    directive = "# eksproxy-gen:ignore EKSP012 pinned until the next maintenance window"
    (tmp_path / "partial.tf").write_text(replaced((tmp_path / "partial.tf").read_text(),
        "    http_only = {", "    http_only = { " + directive))
    result = cli("check", str(tmp_path), "--format", "sarif")
    assert result.code == 1
    document = json.loads(result.out)
    sarif_validator().validate(document)
    run = document["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert {r["id"] for r in rules} >= {"EKSP001", "EKSP006", "EKSP016"}
    assert all(r["helpUri"].endswith("#" + r["id"].lower() + "-" + r["name"]) and r["help"]["text"] for r in rules)
    results = run["results"]
    first = results[0]
    assert first["locations"][0]["physicalLocation"] == {"artifactLocation": {"uri": "partial.tf"},
                                                         "region": {"startLine": 8}}
    suppressed = [r for r in results if "suppressions" in r]
    assert [(r["ruleId"], r["suppressions"][0]["justification"]) for r in suppressed] == \
        [("EKSP012", "pinned until the next maintenance window")]
    assert run["invocations"][0]["executionSuccessful"] is False
    assert run["invocations"][0]["toolExecutionNotifications"][0]["locations"][0]["physicalLocation"][
        "artifactLocation"]["uri"] == "broken.tf"


def test_github_annotations(cli, tmp_path: Path) -> None:
    copy_fixture("partial.tf", tmp_path)
    result = cli("check", str(tmp_path), "--format", "github")
    lines = result.out.splitlines()
    assert lines[0] == ("::error file=partial.tf,line=8,title=EKSP002 eks.units_only::the proxy is not in a "
                        "NodeConfig spec.instance.environment.default: nodeadm-config calls EC2 before any shell "
                        "part runs, so the node cannot join")
    assert any(line.startswith("::warning file=partial.tf,line=28,title=EKSP007 eks.http_only::") for line in lines)
    assert result.code == 1


def test_suppression_comment_on_group_and_module_lines(cli, tmp_path: Path) -> None:
    target = copy_fixture("shapes.tf", tmp_path)
    text = target.read_text(encoding="utf-8")
    text = replaced(text, '    "gpu-pool" = {', '    # eksproxy-gen:ignore EKSP001 GPU nodes pull from a mirror\n'
                                             '    "gpu-pool" = {')
    text = replaced(text, "    empty = {}", "    empty = {} # eksproxy-gen:ignore EKSP001,EKSP013 scaled to zero")
    target.write_text(text, encoding="utf-8")
    data = json.loads(cli("check", str(target), "--format", "json").out)
    assert {f["node_group"] for f in data["findings"]} == {"general", "tuned", "inline"}
    assert sorted((s["node_group"], s["rule"], s["reason"]) for s in data["suppressed"]) == [
        ("empty", "EKSP001", "scaled to zero"), ("gpu-pool", "EKSP001", "GPU nodes pull from a mirror")]
    target.write_text(replaced(text, 'module "eks" {', 'module "eks" { # eksproxy-gen:ignore ALL legacy cluster'),
                      encoding="utf-8")
    data = json.loads(cli("check", str(target), "--format", "json").out)
    assert data["findings"] == [] and len(data["suppressed"]) == 5


def test_fix_leaves_suppressed_groups_alone(cli, tmp_path: Path) -> None:
    target = copy_fixture("shapes.tf", tmp_path)
    target.write_text(replaced(target.read_text(), "    empty = {}", "    empty = {} # eksproxy-gen:ignore EKSP001"))
    cli("fix", str(target), "--proxy", "http://p:3128", "--vpc-cidr", "10.0.0.0/16")
    assert "    empty = {} # eksproxy-gen:ignore EKSP001\n" in target.read_text()


def test_select_ignore_and_fail_on(cli, tmp_path: Path) -> None:
    target = copy_fixture("partial.tf", tmp_path)
    only = json.loads(cli("check", str(target), "--format", "json", "--select", "EKSP006").out)["findings"]
    assert {f["rule"] for f in only} == {"EKSP006"}
    rest = json.loads(cli("check", str(target), "--format", "json", "--ignore", "EKSP00,EKSP01").out)["findings"]
    assert rest == []
    warnings_only = ("--select", "EKSP007,EKSP012,EKSP013,EKSP016")
    assert cli("check", str(target), *warnings_only).code == 0
    assert cli("check", str(target), *warnings_only, "--fail-on", "warning").code == 1
    bad = cli("check", str(target), "--select", "EKSP999")
    assert bad.code == 2 and "EKSP999 matches no rule" in bad.err


def test_quiet_prints_findings_without_summary(cli, tmp_path: Path) -> None:
    target = copy_fixture("partial.tf", tmp_path)
    out = cli("check", str(target), "--quiet").out
    assert "findings (" not in out and "EKSP002" in out


def _run_on_terminal(args: list[str], env: dict[str, str], cwd: Path) -> str:
    """Run the console script with stdout on a pseudo-terminal, as a person would see it."""
    main_fd, child_fd = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "eksproxy_gen", *args], stdout=child_fd, stderr=child_fd,
                            env=env, cwd=cwd)
    os.close(child_fd)
    chunks = []
    while True:
        try:
            data = os.read(main_fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(main_fd)
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.parametrize("no_color", [False, True])
def test_terminal_gets_colour_and_a_table_unless_no_color(tmp_path: Path, no_color: bool) -> None:
    copy_fixture("partial.tf", tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in {"NO_COLOR", "CI", "FORCE_COLOR", "TERM"}}
    env.update({"TERM": "xterm-256color", "COLUMNS": "160"})
    if no_color:
        env["NO_COLOR"] = "1"
    screen = _run_on_terminal(["check", "partial.tf"], env, tmp_path)
    assert "Findings by rule" in screen and "EKSP006" in screen
    colour = re.search(r"\x1b\[(?:[0-9;]*;)?(?:3[0-8]|9[0-7])(?:;[0-9;]*)?m", screen)
    assert (colour is not None) is not no_color


def test_piped_output_is_plain(tmp_path: Path) -> None:
    copy_fixture("partial.tf", tmp_path)
    proc = subprocess.run([sys.executable, "-m", "eksproxy_gen", "check", "partial.tf"], capture_output=True,
                          text=True, cwd=tmp_path, env={**os.environ, "TERM": "xterm-256color"}, check=False)
    assert "\x1b[" not in proc.stdout + proc.stderr and "Findings by rule" not in proc.stdout + proc.stderr
    assert len(proc.stdout.splitlines()) == 13
    assert proc.stderr.startswith("13 findings (8 errors, 5 warnings) in 1 file")


def test_progress_bar_only_on_a_terminal_and_only_for_large_trees(tmp_path: Path) -> None:
    for i in range(210):
        folder = tmp_path / f"stack{i:02d}"
        folder.mkdir()
        copy_fixture("correct.tf", folder)
    env = {k: v for k, v in os.environ.items() if k not in {"NO_COLOR", "CI", "TERM"}}
    env["TERM"] = "xterm-256color"
    hide_cursor = "\x1b[?25l"
    assert hide_cursor in _run_on_terminal(["check", "."], env, tmp_path)
    assert hide_cursor not in _run_on_terminal(["check", "--quiet", "."], env, tmp_path)
    assert hide_cursor not in _run_on_terminal(["check", "stack00"], env, tmp_path)
    piped = subprocess.run([sys.executable, "-m", "eksproxy_gen", "check", "."], capture_output=True, text=True,
                           cwd=tmp_path, env=env, check=False)
    assert hide_cursor not in piped.stdout + piped.stderr


def test_sarif_uris_are_encoded_and_every_result_has_its_own_fingerprint(cli, tmp_path: Path) -> None:
    folder = tmp_path / "my stack"
    folder.mkdir()
    copy_fixture("partial.tf", folder)
    document = json.loads(cli("check", str(folder), "--format", "sarif").out)
    sarif_validator().validate(document)
    results = document["runs"][0]["results"]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert uris == {"my%20stack/partial.tf"}
    prints = [r["partialFingerprints"]["eksproxyFinding/v1"] for r in results]
    assert len(prints) == len(set(prints)) > 3
    rules = document["runs"][0]["tool"]["driver"]["rules"]
    assert {r["properties"]["security-severity"] for r in rules} == {"7.0", "4.0"}
