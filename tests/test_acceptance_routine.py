"""The acceptance routine (tests/acceptance/accept.py) catches what it is there to catch.

It runs on small synthetic trees made here, once with the real eksproxy-gen (nothing may be reported),
and once with a stand-in command that runs the real one and then plants one problem per tree, chosen by
the tree's name: each invariant must report its planted problem, and only that one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, TERRAFORM, require

ACCEPT = REPO / "tests" / "acceptance" / "accept.py"
REAL_TOOL = Path(sys.executable).parent / "eksproxy-gen"
INVARIANTS = ("a-errors", "b-agreement", "c-idempotence", "d-bytes", "e-fmt", "f-lost-no-proxy", "g-render")

TREE = """\
# A comment outside every group.
module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 21.0"

  name               = "demo"
  kubernetes_version = "1.33"
  service_ipv4_cidr  = "172.20.0.0/16"

  eks_managed_node_groups = {
    plain = {
      instance_types = ["m6i.large"]
    }

    scripted = {
      cloudinit_pre_nodeadm = [
        {
          content_type = "text/x-shellscript"
          content      = <<-EOT
            #!/bin/bash
            export HTTPS_PROXY=http://proxy.corp.example:3128
            export HTTP_PROXY=http://proxy.corp.example:3128
            export NO_PROXY=localhost,127.0.0.1,169.254.169.254,.corp.example
            EOT
        },
        {
          content_type = "text/x-shellscript"
          content      = <<-EOT
            #!/bin/bash
            echo "$${HOME}" > /tmp/home
            EOT
        }
      ]
    }
  }
}
"""

# The stand-in: runs the real command, then plants the problem its tree is named after.
STAND_IN = """\
#!{python}
import pathlib, subprocess, sys
REAL = {real!r}
MARK = "eksproxy-gen:generated"
tree = pathlib.Path.cwd().name
args = sys.argv[1:]
main = pathlib.Path("main.tf")
fixed_before = main.exists() and MARK in main.read_text()
if args[:1] == ["check"] and tree == "crash" and fixed_before:
    print("Traceback (most recent call last):\\nRuntimeError: planted", file=sys.stderr)
    sys.exit(3)
if args[:1] == ["fix"] and tree == "false-fix":
    proc = subprocess.run([REAL, "fix", "--check", *args[1:]], capture_output=True, text=True)
    sys.stdout.write(proc.stdout)
    sys.exit(0)
proc = subprocess.run([REAL, *args], capture_output=True, text=True)
sys.stdout.write(proc.stdout)
sys.stderr.write(proc.stderr)
if args[:1] == ["fix"]:
    text = main.read_text()
    if not fixed_before:
        if tree == "lost-entry":
            text = text.replace(",.corp.example", "")
        elif tree == "unescape":
            text = text.replace('echo "$${{HOME}}"', 'echo "${{HOME}}"')
        elif tree == "outside-byte":
            text = text.replace("every group.", "every group!")
        elif tree == "unformatted":
            text = text.replace('filename     = "eksproxy-gen-dnf.sh"', 'filename = "eksproxy-gen-dnf.sh"')
    elif tree == "not-idempotent":
        text += "# again\\n"
    main.write_text(text)
sys.exit(proc.returncode)
"""

# What each tree plants, and the invariants that must report it. A fix that reports groups fixed but writes
# nothing also reports, on its second run, changes still to make: that is an idempotence failure as well.
PLANTED = {
    "clean": set(),
    "crash": {"a-errors"},
    "false-fix": {"b-agreement", "c-idempotence"},
    "not-idempotent": {"c-idempotence"},
    "outside-byte": {"d-bytes"},
    "unformatted": {"e-fmt"},
    "lost-entry": {"f-lost-no-proxy"},
    "unescape": {"g-render"},
}


def _corpus(root: Path) -> Path:
    corpus = root / "corpus"
    for name in PLANTED:
        (corpus / name).mkdir(parents=True)
        (corpus / name / "main.tf").write_text(TREE)
    return corpus


def _stand_in(root: Path) -> Path:
    script = root / "eksproxy-gen-stand-in"
    script.write_text(STAND_IN.format(python=sys.executable, real=str(REAL_TOOL)))
    script.chmod(0o755)
    return script


def _accept(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ACCEPT), *map(str, args)], capture_output=True, text=True,
                          timeout=900, check=False)


def _problems(out: Path, tree: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((out / tree / "problems.json").read_text())
    return data


def _count(out: Path, tree: str, invariant: str) -> int:
    counts = _problems(out, tree)["counts"]
    assert isinstance(counts, dict)
    return int(counts[invariant])


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, subprocess.CompletedProcess[str]]:
    """One accept.py run over every planted tree (shared: each run costs several seconds per tree)."""
    require(TERRAFORM, "terraform is not installed here; it is the fmt and render oracle of the routine")
    root = tmp_path_factory.mktemp("accept")
    corpus = _corpus(root)
    out = root / "out"
    return corpus, out, _accept("--corpus", corpus, "--out", out, "--eksproxy-gen", _stand_in(root))


@pytest.mark.parametrize("tree", list(PLANTED))
def test_accept_fault_injection_each_invariant_reports_only_its_planted_problem(
        planted_run: tuple[Path, Path, subprocess.CompletedProcess[str]], tree: str) -> None:
    """Fault injection: a stand-in eksproxy-gen plants one problem per tree; the routine must name exactly it."""
    _corpus_dir, out, proc = planted_run
    assert proc.returncode == 1, proc.stderr
    counts = _problems(out, tree)["counts"]
    assert isinstance(counts, dict)
    assert {k for k, v in counts.items() if v} == PLANTED[tree], counts


def test_accept_fault_injection_problems_name_file_line_and_what_was_lost(
        planted_run: tuple[Path, Path, subprocess.CompletedProcess[str]]) -> None:
    """Fault injection: the planted problems are reported where they are, with what went wrong."""
    _corpus_dir, out, _proc = planted_run
    lost = _problems(out, "lost-entry")["problems"]
    assert isinstance(lost, list)
    assert [(p["file"], p["entry"]) for p in lost] == [("main.tf", ".corp.example")]
    outside = _problems(out, "outside-byte")["problems"]
    assert isinstance(outside, list)
    assert [(p["file"], p["line"], p["after"]) for p in outside] == [
        ("main.tf", 1, ["# A comment outside every group!"])]
    render = _problems(out, "unescape")["problems"]
    assert isinstance(render, list)
    assert [(p["file"], p["line"]) for p in render] == [("main.tf", 28)]
    assert 'echo "${HOME}"' in render[0]["before"]
    assert 'echo "${HOME}"' not in render[0]["after"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["trees"] == len(PLANTED)
    assert summary["problems"] == {
        "internal_or_parse_errors": 1, "agreement_failures": _count(out, "false-fix", "b-agreement"),
        "idempotence_failures": 2, "bytes_outside_groups": 1, "fmt_regressions": 1, "lost_no_proxy_entries": 1,
        "render_mismatches": 1}


def test_accept_fault_injection_leaves_the_corpus_as_it_was(
        planted_run: tuple[Path, Path, subprocess.CompletedProcess[str]]) -> None:
    """Fault injection: whatever the command under test writes, it writes into copies, never the corpus."""
    corpus, out, _proc = planted_run
    for name in PLANTED:
        rewrites = (out / name / "diff.patch").read_text()
        assert ("eksproxy-gen:generated" in rewrites) == (name != "false-fix"), name
        assert sorted(p.name for p in (corpus / name).iterdir()) == ["main.tf"]
        assert (corpus / name / "main.tf").read_text() == TREE


def test_accept_real_tool_on_two_trees_reports_nothing_and_compare_sees_no_difference(tmp_path: Path) -> None:
    require(TERRAFORM, "terraform is not installed here; it is the fmt and render oracle of the routine")
    corpus = tmp_path / "corpus"
    for name in ("one", "two"):
        (corpus / name).mkdir(parents=True)
        (corpus / name / "main.tf").write_text(TREE)
    first, second = tmp_path / "first", tmp_path / "second"
    proc = _accept("--corpus", corpus, "--out", first, "--eksproxy-gen", REAL_TOOL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads((first / "summary.json").read_text())
    assert (summary["trees"], summary["groups_fixed"], summary["files_changed"]) == (2, 4, 2)
    assert set(summary["problems"].values()) == {0}
    assert _accept("--corpus", corpus, "--out", second, "--eksproxy-gen", REAL_TOOL).returncode == 0
    same = _accept("--compare", first, second)
    assert (same.returncode, same.stdout.splitlines()[-1]) == (0, "2 trees compared, 0 differences")
    patch = second / "two" / "diff.patch"
    patch.write_text(patch.read_text().replace(".corp.example", ".corp.example.org"))
    differ = _accept("--compare", first, second)
    assert differ.returncode == 1
    assert "== two: diff.patch differs (the rewrites changed)" in differ.stdout
    assert "+++" in differ.stdout and ".corp.example.org" in differ.stdout
    assert "== one:" not in differ.stdout


def test_accept_unknown_tree_is_a_usage_error(tmp_path: Path) -> None:
    require(TERRAFORM, "terraform is not installed here; it is the fmt and render oracle of the routine")
    (tmp_path / "corpus" / "one").mkdir(parents=True)
    proc = _accept("--corpus", tmp_path / "corpus", "--out", tmp_path / "out", "--only", "nope")
    assert (proc.returncode, proc.stderr.strip()) == (2, f"no such tree in {tmp_path / 'corpus'}: nope")


def test_accept_needs_a_corpus_and_an_output_folder() -> None:
    proc = _accept()
    assert proc.returncode == 2
    assert "--corpus and --out are needed" in proc.stderr
    assert shutil.which("python3") is not None
