"""Names from the repository (files, node groups, node classes) cannot write into a terminal or a CI log.

A newline in a name would start a line of its own, and ``::error::...`` at the
start of a line is a GitHub workflow command; an escape sequence would colour
or rewrite a terminal or a log viewer. Text, the terminal, GitHub, GitLab and
the job summary show such characters escaped (``\\n``, ``\\x1b``), with
``--color`` or without; JSON and SARIF keep names exact, escaped by JSON itself.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

CLI = Path(sys.executable).parent / "eksproxy-gen"

HOSTILE_NAMES = """\
module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 21.0"

  name = "c"

  eks_managed_node_groups = {
    "a\\n::error::x" = {}
    "b\\u001b[31m" = {} # eksproxy-gen:ignore EKSP9 typo
  }
}
"""
NODECLASS = """\
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: "n\\n::error::z\\e[31m"
spec:
  amiSelectorTerms:
    - alias: al2023@latest
"""
INJECTED = re.compile(r"(?m)^::error::")


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """Node groups, a node class and a file whose names hold a newline with a workflow command, and an ESC."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "main.tf").write_text(HOSTILE_NAMES)
    (root / "f\n::error::y\x1b[31m.tf").write_text(HOSTILE_NAMES.replace('module "eks"', 'module "eks2"'))
    (root / "nodeclass.yaml").write_text(NODECLASS)
    return root


def _no_injection(text: str, colour: bool = False) -> None:
    assert INJECTED.search(text) is None, text
    if colour:
        assert "b\x1b[31m" not in text and "y\x1b[31m" not in text, text
    else:
        assert "\x1b" not in text, text


def test_names_from_the_repository_are_escaped_in_every_format(cli, hostile: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A newline in a name would start a line ``::error::...`` (a GitHub workflow command); ESC would colour the log."""
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    for fmt in ("text", "github", "gitlab", "sarif", "json"):
        shown = cli("check", str(hostile), "--format", fmt, "--color", "never", "--no-cache")
        assert shown.code == 1
        _no_injection(shown.out + shown.err)
    text = cli("check", str(hostile), "--color", "never", "--no-cache").out
    assert "main.tf:8: EKSP001 error eks.a\\n::error::x: no proxy configuration" in text
    assert "main.tf:9: EKSP001 error eks.b\\x1b[31m: no proxy configuration" in text
    assert "EC2NodeClass.n\\n::error::z\\x1b[31m: no proxy configuration" in text
    assert "f\\n::error::y\\x1b[31m.tf:8: EKSP001" in text
    stderr = cli("check", str(hostile), "--color", "never", "--no-cache").err
    assert "f\\n::error::y\\x1b[31m.tf:9: warning: eksproxy-gen:ignore names EKSP9" in stderr
    coloured = cli("check", str(hostile), "--color", "always", "--no-cache")
    _no_injection(coloured.out + coloured.err, colour=True)
    assert "eks.b\\x1b[31m" in coloured.out
    github = cli("check", str(hostile), "--format", "github", "--no-cache").out
    assert "title=EKSP001 eks.a\\n%3A%3Aerror%3A%3Ax::" in github
    written = summary.read_text()
    _no_injection(written)
    rows = [line for line in written.splitlines() if line.startswith("| ")]
    assert rows and all(line.endswith(" |") for line in rows)
    assert "| eks.a\\\\n::error::x |" in written and "| eks.b\\\\x1b\\[31m |" in written
    issues = json.loads(cli("check", str(hostile), "--format", "gitlab", "--no-cache").out)
    assert any(i["description"].startswith("EKSP001 eks.a\\n::error::x: no proxy configuration") for i in issues)
    assert not any("\n" in i["description"] or "\x1b" in i["description"] for i in issues)
    data = json.loads(cli("check", str(hostile), "--format", "json", "--no-cache").out)
    assert {"a\n::error::x", "b\x1b[31m"} <= {f["node_group"] for f in data["findings"]}, "JSON keeps names exact"


def test_fix_shows_names_escaped_in_its_lines_and_its_diff_headers(cli, hostile: Path) -> None:
    for args in (["--diff"], ["--check"], ["--diff", "--color", "always"]):
        shown = cli("fix", str(hostile), "--proxy", "http://proxy.corp.example:3128", "--no-cache", *args)
        _no_injection(shown.out + shown.err, colour="always" in args)
    diff = cli("fix", str(hostile), "--proxy", "http://proxy.corp.example:3128", "--diff", "--no-cache")
    assert "--- a/repo/f\\n::error::y\\x1b[31m.tf\n+++ b/repo/f\\n::error::y\\x1b[31m.tf\n@@ " in diff.out
    assert "repo/main.tf: would fix eks.a\\n::error::x, eks.b\\x1b[31m\n" in diff.err


def test_a_real_ci_log_gets_no_workflow_command_from_a_name(hostile: Path, tmp_path: Path) -> None:
    """The console script with colour forced, as a CI job that sets FORCE_COLOR runs it."""
    env = {**os.environ, "EKSPROXY_GEN_CACHE_DIR": str(tmp_path / "cache"), "FORCE_COLOR": "1"}
    env.pop("NO_COLOR", None)
    proc = subprocess.run([str(CLI), "check", "."], cwd=hostile, env=env, capture_output=True, text=True,
                          check=False, timeout=300)
    assert proc.returncode == 1
    _no_injection(proc.stdout + proc.stderr, colour=True)
    assert "eks.a\\n::error::x" in proc.stdout
