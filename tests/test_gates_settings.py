"""Settings a repository writes once: select, ignore, fail_on and exclude in .eksproxy-gen.toml, --show-settings,
and what a walk leaves out (git-ignored folders, a vendored module's examples and tests), and named files.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import tomllib
from pathlib import Path

import pytest

from .test_check import DNF, group, module, nodeconfig
from .test_cli import FLAGS, console

MISSING = module(group("bare", "      min_size = 1\n"))  # EKSP001 (error) only
NO_DNF = module(group("nodnf", parts=nodeconfig()))  # EKSP013 (warning) only
CLEAN = module(group("ok", parts=nodeconfig() + DNF))


def check(cli, *args: str | Path) -> tuple[int, list[tuple[str, str]]]:
    result = cli("check", *map(str, args), "--format", "json")
    data = json.loads(result.out) if result.out else {"findings": []}
    return result.code, sorted((f["file"], f["rule"]) for f in data["findings"])


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false",
                    *args], cwd=cwd, check=True, capture_output=True)


# --- select, ignore, fail_on in the settings file ---------------------------------------------------------------

def test_select_ignore_and_fail_on_in_the_settings_file_and_flags_win(cli, tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(MISSING)
    (tmp_path / "warn.tf").write_text(NO_DNF.replace('module "eks"', 'module "eks2"'))
    settings_file = tmp_path / ".eksproxy-gen.toml"
    settings_file.write_text('select = ["EKSP013"]\n')
    assert check(cli, tmp_path) == (0, [("warn.tf", "EKSP013")])
    settings_file.write_text('select = ["EKSP013"]\nfail_on = "warning"\n')
    assert check(cli, tmp_path) == (1, [("warn.tf", "EKSP013")])
    assert check(cli, tmp_path, "--fail-on", "error") == (0, [("warn.tf", "EKSP013")])
    assert check(cli, tmp_path, "--select", "EKSP001") == (1, [("main.tf", "EKSP001")])
    settings_file.write_text('ignore = ["EKSP001"]\n')
    assert check(cli, tmp_path) == (0, [("warn.tf", "EKSP013")])
    assert check(cli, tmp_path, "--ignore", "EKSP013") == (1, [("main.tf", "EKSP001")])


def test_each_folder_is_judged_by_its_own_settings_file(cli, tmp_path: Path) -> None:
    strict, lax = tmp_path / "strict", tmp_path / "lax"
    for folder in (strict, lax):
        folder.mkdir()
        (folder / "main.tf").write_text(NO_DNF)
    (strict / ".eksproxy-gen.toml").write_text('fail_on = "warning"\n')
    (lax / ".eksproxy-gen.toml").write_text('ignore = ["EKSP013"]\n')
    assert check(cli, tmp_path) == (1, [("strict/main.tf", "EKSP013")])
    assert check(cli, lax) == (0, [])


def test_fix_changes_only_what_the_settings_file_selects(cli, tmp_path: Path) -> None:
    """``select`` limits what fix changes, as ``--select`` does: EKSP013 alone adds only the dnf part."""
    path = tmp_path / "main.tf"
    path.write_text(NO_DNF)  # its proxy also differs from the configured one (EKSP011), which is not selected
    (tmp_path / ".eksproxy-gen.toml").write_text(
        'proxy = "http://proxy.corp.example:3128"\nvpc_cidrs = ["10.0.0.0/16"]\nselect = ["EKSP013"]\n')
    assert cli("fix", str(tmp_path)).code == 0
    text = path.read_text()
    assert "eksproxy-gen-dnf.sh" in text and "eksproxy-gen-proxy.yaml" not in text
    assert "HTTPS_PROXY: http://proxy:3128" in text


# --- exclude, git, vendored modules --------------------------------------------------------------------------------

def test_exclude_globs_are_not_walked_but_a_folder_named_on_the_command_line_is(cli, tmp_path: Path) -> None:
    for folder in ("live", "legacy", "live/old"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / folder / "main.tf").write_text(MISSING)
    (tmp_path / "live" / "eks.generated.tf").write_text(MISSING.replace('module "eks"', 'module "gen"'))
    (tmp_path / ".eksproxy-gen.toml").write_text(
        'proxy = "http://proxy.corp.example:3128"\nexclude = ["legacy/", "*.generated.tf", "/live/old"]\n')
    assert check(cli, tmp_path) == (1, [("live/main.tf", "EKSP001")])
    assert cli("fix", str(tmp_path)).code == 0
    assert (tmp_path / "legacy" / "main.tf").read_text() == MISSING
    assert (tmp_path / "live" / "old" / "main.tf").read_text() == MISSING
    assert check(cli, tmp_path / "legacy") == (1, [("legacy/main.tf", "EKSP001")])
    assert check(cli, tmp_path / "live" / "old") == (1, [("live/old/main.tf", "EKSP001")])


def test_folders_git_ignores_are_not_walked(cli, tmp_path: Path) -> None:
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "main.tf").write_text(MISSING)
    for ignored in ("build", "infra/.terragrunt-cache/abc", "infra/.terraform/modules/eks", "scratch"):
        (tmp_path / ignored).mkdir(parents=True)
        (tmp_path / ignored / "main.tf").write_text(MISSING)
    (tmp_path / "infra" / "local_override.tf").write_text(MISSING.replace('module "eks"', 'module "mine"'))
    (tmp_path / ".gitignore").write_text("build/\n*_override.tf\n")
    (tmp_path / "infra" / ".gitignore").write_text("/scratch-not-here\n")
    git(tmp_path, "init", "-q")
    (tmp_path / ".git" / "info" / "exclude").write_text("scratch/\n")
    aged(tmp_path)  # old enough for the tree's snapshot to be stored and trusted
    for _ in range(2):  # the second run may be answered by the snapshot
        assert check(cli, tmp_path) == (1, [("infra/main.tf", "EKSP001")])
    assert check(cli, tmp_path / "build") == (1, [("build/main.tf", "EKSP001")]), "named: read whatever git says"
    (tmp_path / ".gitignore").write_text("*_override.tf\n")  # edited in place: the folder's time stamp stays
    assert check(cli, tmp_path) == (1, [("build/main.tf", "EKSP001"), ("infra/main.tf", "EKSP001")])


def aged(root: Path) -> None:
    """Every file and folder below ``root`` last changed a minute ago."""
    past = time.time() - 60
    for path in [*root.rglob("*"), root]:
        os.utime(path, (past, past), follow_symlinks=False)


def vendored_module(root: Path, name: str) -> Path:
    """A copy of terraform-aws-eks with its own examples and tests, as repositories vendor it."""
    copy = root / "vendor" / name
    (copy / "modules" / "eks-managed-node-group").mkdir(parents=True)
    (copy / "node_groups.tf").write_text('variable "eks_managed_node_groups" {\n  default = {}\n}\n')
    for sub in ("examples/eks-managed-node-group", "tests/fast-addons"):
        (copy / sub).mkdir(parents=True)
        (copy / sub / "main.tf").write_text(
            'module "eks" {\n  source = "../.."\n\n  eks_managed_node_groups = {\n    example = {\n'
            '      min_size = 1\n    }\n  }\n}\n')
    return copy


@pytest.mark.parametrize("name", ["terraform-aws-eks", "eks"])
def test_a_vendored_module_s_examples_and_tests_are_not_the_user_s(cli, tmp_path: Path, name: str) -> None:
    copy = vendored_module(tmp_path, name)
    (tmp_path / "main.tf").write_text(MISSING)
    before = (copy / "examples" / "eks-managed-node-group" / "main.tf").read_text()
    assert check(cli, tmp_path) == (1, [("main.tf", "EKSP001")])
    assert cli("fix", str(tmp_path), *FLAGS).code == 0
    assert (copy / "examples" / "eks-managed-node-group" / "main.tf").read_text() == before
    example = copy / "examples" / "eks-managed-node-group"
    assert [file for file, _rule in check(cli, example)[1]] == [
        f"vendor/{name}/examples/eks-managed-node-group/main.tf"], "named: read"
    assert check(cli, example / "main.tf") == (0, []), "a named file inside it is left out, as pre-commit names it"


def test_the_module_s_own_repository_walked_from_its_top_reads_its_examples(cli, tmp_path: Path) -> None:
    """terraform-aws-eks's own repository is not a vendored copy when it is the path given: its examples are its
    authors' code, judged like any other (the corpus holds the module's repository as such a tree)."""
    copy = vendored_module(tmp_path, "terraform-aws-eks")
    code, found = check(cli, copy)
    # judged: a copy without variables.tf cannot tell its release, so the family is unknown (a warning)
    assert [(file.split("terraform-aws-eks/")[-1], rule) for file, rule in found] == [
        ("examples/eks-managed-node-group/main.tf", "EKSP015"), ("tests/fast-addons/main.tf", "EKSP015")]
    assert code == 0


# --- named files stand for their folder --------------------------------------------------------------------------

def test_a_named_file_stands_for_every_terraform_file_of_its_folder(tmp_path: Path) -> None:
    """pre-commit names only variables.tf: eks.tf next to it, whose groups its local feeds, is judged too."""
    (tmp_path / "eks.tf").write_text(MISSING.replace("min_size = 1", "min_size = local.size"))
    (tmp_path / "variables.tf").write_text("locals {\n  size = 2\n}\n")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "main.tf").write_text(MISSING)
    proc = console("check", "--format", "json", "--", "variables.tf", cwd=tmp_path)
    assert proc.returncode == 1
    assert [(f["file"], f["rule"]) for f in json.loads(proc.stdout)["findings"]] == [("eks.tf", "EKSP001")]
    fixed = console("fix", *FLAGS, "--", "variables.tf", cwd=tmp_path)
    assert fixed.returncode == 0 and "eksproxy-gen-proxy.yaml" in (tmp_path / "eks.tf").read_text()
    assert (tmp_path / "other" / "main.tf").read_text() == MISSING


# --- --show-settings -------------------------------------------------------------------------------------------------

def test_show_settings_prints_the_effective_settings_and_where_each_comes_from(tmp_path: Path) -> None:
    infra = tmp_path / "infra"
    infra.mkdir()
    (infra / ".eksproxy-gen.toml").write_text(
        'proxy = "http://svc:s3cr3t-pw@proxy.corp.example:3128"\nvpc_cidrs = ["tf:module.vpc.vpc_cidr_block"]\n'
        'ignore = ["EKSP012"]\nexclude = ["legacy/"]\n')
    proc = console("check", "--show-settings", "--select", "EKSP0", "infra", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stderr == ""
    assert "s3cr3t" not in proc.stdout
    lines = proc.stdout.splitlines()
    assert lines[0] == "# infra: settings from infra/.eksproxy-gen.toml"
    body = "\n".join(line.split("  #")[0] for line in lines[1:] if not line.startswith("#"))
    assert tomllib.loads(body) == {
        "proxy": "http://***@proxy.corp.example:3128", "vpc_cidrs": ["tf:module.vpc.vpc_cidr_block"],
        "no_proxy": [], "select": ["EKSP0"], "ignore": ["EKSP012"], "fail_on": "error", "exclude": ["legacy/"]}
    origins = {line.split(" = ")[0].strip(): line.rsplit("# ", 1)[1] for line in lines[1:] if " = " in line}
    assert origins == {"proxy": "infra/.eksproxy-gen.toml", "vpc_cidrs": "infra/.eksproxy-gen.toml",
                       "no_proxy": "default", "select": "command line", "ignore": "infra/.eksproxy-gen.toml",
                       "fail_on": "default", "exclude": "infra/.eksproxy-gen.toml"}
    assert "# service_cidr is not set" in lines
    fixed = console("fix", "--show-settings", "--proxy", "http://other:3128", "--service-cidr", "172.20.0.0/16",
                    "infra", cwd=tmp_path)
    assert 'proxy        = "http://other:3128"  # command line' in fixed.stdout
    assert 'service_cidr = "172.20.0.0/16"  # command line' in fixed.stdout
    none = console("check", "--show-settings", cwd=tmp_path)
    assert none.returncode == 0 and none.stdout.startswith("# .: settings from no settings file\n")


def test_show_settings_of_a_broken_settings_file_is_a_settings_error(tmp_path: Path) -> None:
    (tmp_path / ".eksproxy-gen.toml").write_text('proxy = "http://p:3128"\nselects = ["EKSP006"]\n')
    proc = console("check", "--show-settings", cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert "eksproxy-gen: error: .eksproxy-gen.toml:2: unknown key selects" in proc.stderr


def test_a_named_file_in_a_folder_the_walk_never_enters_is_left_out(cli, tmp_path: Path) -> None:
    """pre-commit names what is staged; a copy Terragrunt or Terraform keeps is not the user's code."""
    for cache in (".terragrunt-cache/abc/stack", ".terraform/modules/eks"):
        (tmp_path / cache).mkdir(parents=True)
        (tmp_path / cache / "main.tf").write_text(MISSING)
        assert check(cli, tmp_path / cache / "main.tf") == (0, [])
        assert check(cli, tmp_path / cache) == (1, [(f"{cache}/main.tf", "EKSP001")]), "a named folder is read"
