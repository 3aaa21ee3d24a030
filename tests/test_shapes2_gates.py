"""Gates that must never pass by what does not run or is not read.

The fix hook leaves its findings to the check hook only when pre-commit really
runs the check hook, in this run, on the files the fix hook was given: not when
the check hook is kept for ``manual`` or ``pre-push``, left out of these files
by ``exclude``/``files``/``types``, skipped, or runs with options that hide
findings. A run whose ``exclude``, git ignore rules or a vendored module's
examples leave out every Terraform file says so, naming what left them out, in
every format, instead of "no Terraform files".
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from eksproxy_gen.commands.precommit import MANIFEST, FixRun, Named, decide

from .conftest import REPO
from .test_cli import console
from .test_install import Committed, committed, git  # noqa: F401  (committed: a fixture)
from .test_precommit import _config, _repository, _run, pre_commit_home  # noqa: F401  (pre_commit_home: a fixture)

SETTINGS = 'proxy = "http://proxy.corp:3128"\nvpc_cidrs = ["10.0.0.0/16"]\n'
# nothing fix can change: the map is var.groups (EKSP010), an error only the check hook or fix itself can report
UNFIXABLE = ('module "eks" {\n  source  = "terraform-aws-modules/eks/aws"\n  version = "~> 21.0"\n\n'
             '  name               = "x"\n  kubernetes_version = "1.33"\n  service_ipv4_cidr  = "172.20.0.0/16"\n\n'
             "  eks_managed_node_groups = var.groups\n}\n")
LEFT = "main.tf:9: EKSP010 error eks:"
NOTE = "eksproxy-gen: note: the findings left are reported here, not by the eksproxy-gen-check hook: "


# --- the fix hook, the check hook and pre-commit, for real -----------------------------------------------------------

def _commit(committed: Committed, home: Path, tmp_path: Path, *hooks: dict[str, object],  # noqa: F811
            top: dict[str, object] | None = None) -> subprocess.CompletedProcess[str]:
    config = yaml.safe_load(_config(committed, *hooks))
    repo = _repository(tmp_path / "repo", home, yaml.safe_dump({**(top or {}), **config}, sort_keys=False))
    (repo / ".eksproxy-gen.toml").write_text(SETTINGS)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", "settings")
    (repo / "main.tf").write_text(UNFIXABLE)
    git(repo, "add", "main.tf")
    return _run(repo, home, "git", "commit", "-m", "groups from a variable")


@pytest.mark.parametrize("check_hook", [
    {"id": "eksproxy-gen-check", "stages": ["manual"]},
    {"id": "eksproxy-gen-check", "stages": ["pre-push"]},
    {"id": "eksproxy-gen-check", "exclude": r"\.tf$"},
], ids=["manual", "pre-push", "exclude-tf"])
def test_a_check_hook_that_does_not_run_at_commit_leaves_the_fix_hook_failing_on_what_it_leaves(
        committed: Committed, pre_commit_home: Path, tmp_path: Path, check_hook: dict[str, object]) -> None:  # noqa: F811
    done = _commit(committed, pre_commit_home, tmp_path, {"id": "eksproxy-gen-fix"}, check_hook)
    shown = done.stdout + done.stderr
    assert done.returncode == 1, shown
    assert shown.count(LEFT) == 1 and re.search(r"eksproxy-gen fix .*Failed", shown), shown
    assert not re.search(r"eksproxy-gen check .*(Passed|Failed)", shown), "the check hook really did not run"
    assert NOTE in shown
    assert re.search(r"^nothing to fix; 1 finding \(1 error, 0 warnings\) left\.$", shown, re.M), shown


def test_default_stages_at_the_top_apply_to_both_hooks_so_the_check_hook_reports_once(
        committed: Committed, pre_commit_home: Path, tmp_path: Path) -> None:  # noqa: F811
    done = _commit(committed, pre_commit_home, tmp_path, {"id": "eksproxy-gen-fix"}, {"id": "eksproxy-gen-check"},
                   top={"default_stages": ["pre-commit"]})
    shown = done.stdout + done.stderr
    assert done.returncode == 1 and shown.count(LEFT) == 1, shown
    assert re.search(r"eksproxy-gen fix .*Passed", shown) and re.search(r"eksproxy-gen check .*Failed", shown)
    assert NOTE not in shown


# --- the decision, case by case -------------------------------------------------------------------------------------

def _config_of(*hooks: dict[str, object], repo: str = "https://github.com/eksproxy-gen/eksproxy-gen",
               **top: object) -> dict[str, object]:
    return {**top, "repos": [{"repo": repo, "rev": "abc", "hooks": list(hooks)}]}


FIX = {"id": "eksproxy-gen-fix"}
CHECK = {"id": "eksproxy-gen-check"}
MAIN = Named("infra/main.tf", "infra/main.tf", True)
RUN = FixRun((MAIN,))

# (configuration, this run of the fix hook, whether the findings are left, what the reason says)
CASES: list[tuple[str, dict[str, object], FixRun, bool, str]] = [
    ("both with their defaults", _config_of(FIX, CHECK), RUN, True, ""),
    ("old stage names are the new ones", _config_of({**FIX, "stages": ["commit", "push"]},
                                                    {**CHECK, "stages": ["pre-commit", "pre-push"]}), RUN, True, ""),
    ("the check hook runs at more stages", _config_of({**FIX, "stages": ["pre-commit"]},
                                                      {**CHECK, "stages": ["pre-commit", "manual"]}), RUN, True, ""),
    ("default_stages for both", _config_of(FIX, CHECK, default_stages=["pre-commit"]), RUN, True, ""),
    ("an empty stages list means default_stages", _config_of(FIX, {**CHECK, "stages": []},
                                                             default_stages=["pre-commit"]), RUN, True, ""),
    ("the check hook at manual only", _config_of(FIX, {**CHECK, "stages": ["manual"]}), RUN, False,
     "it does not run at every stage the fix hook runs at (the check hook: manual; the fix hook: every stage)"),
    ("default_stages for the check hook, the fix hook wider", _config_of({**FIX, "stages": ["pre-commit", "pre-push"]},
                                                                         CHECK, default_stages=["pre-commit"]),
     RUN, False, "(the check hook: pre-commit; the fix hook: pre-commit, pre-push)"),
    ("a fix hook not found by id may run at any stage", _config_of({**CHECK, "stages": ["pre-commit"]}), RUN, False,
     "the fix hook: every stage"),
    ("SKIP by id", _config_of(FIX, CHECK), FixRun((MAIN,), frozenset({"eksproxy-gen-check"})), False,
     "SKIP names it"),
    ("SKIP by alias", _config_of(FIX, {**CHECK, "alias": "proxy"}), FixRun((MAIN,), frozenset({"proxy"})), False,
     "SKIP names it"),
    ("two check hooks, one skipped", _config_of(FIX, {**CHECK, "alias": "a"}, {**CHECK, "alias": "b"}),
     FixRun((MAIN,), frozenset({"a"})), True, ""),
    ("its exclude", _config_of(FIX, {**CHECK, "exclude": r"\.tf$"}), RUN, False,
     r"its exclude (\.tf$) leaves out infra/main.tf"),
    ("its files", _config_of(FIX, {**CHECK, "files": "^live/"}), RUN, False, "its files (^live/) leaves out"),
    ("the top-level exclude", _config_of(FIX, CHECK, exclude="^infra/"), RUN, False,
     "the top-level exclude (^infra/) leaves out"),
    ("the manifest's exclude", _config_of(FIX, CHECK), FixRun((Named(".terraform/x.tf", ".terraform/x.tf", True),)),
     False, r"its exclude (\.terraform/.*$) leaves out"),
    ("a local hook has pre-commit's own defaults", _config_of(
        FIX, {**CHECK, "entry": "eksproxy-gen check", "language": "system"}, repo="local"),
     FixRun((Named(".terraform/x.tf", ".terraform/x.tf", True),)), True, ""),
    ("a symbolic link is not a file to pre-commit", _config_of(FIX, CHECK),
     FixRun((Named("link.tf", "link.tf", False),)), False, "link.tf is not a regular file"),
    ("types only identify can tell", _config_of(FIX, {**CHECK, "types": ["terraform"]}), RUN, False,
     "cannot be evaluated"),
    ("types: [file] can be told", _config_of(FIX, {**CHECK, "types": ["file"]}), RUN, True, ""),
    ("a path outside the repository", _config_of(FIX, CHECK), FixRun((Named(None, "../x.tf", True),)), False,
     "../x.tf lies outside the repository"),
    ("no file given", _config_of(FIX, CHECK), FixRun(()), False, "given no file"),
    ("not given the file names", _config_of(FIX, {**CHECK, "pass_filenames": False}), RUN, False,
     "pass_filenames: false"),
    ("README's way of passing options", _config_of(
        FIX, {**CHECK, "entry": "eksproxy-gen check", "args": ["--fail-on", "warning", "--"]}), RUN, True, ""),
    ("options that change nothing reported", _config_of(
        FIX, {**CHECK, "entry": "/opt/bin/eksproxy-gen check --color=never -q --no-cache --"}), RUN, True, ""),
    ("--select hides findings", _config_of(
        FIX, {**CHECK, "entry": "eksproxy-gen check", "args": ["--select", "EKSP001", "--"]}), RUN, False,
     "has options that can hide findings or pass on them"),
    ("--exit-zero passes on them", _config_of(
        FIX, {**CHECK, "entry": "eksproxy-gen check --exit-zero --"}), RUN, False, "can hide findings or pass on them"),
    ("another command", _config_of(FIX, {**CHECK, "entry": "true"}), RUN, False, "is not eksproxy-gen check"),
    ("args after the manifest's --", _config_of(FIX, {**CHECK, "args": ["--fail-on", "warning"]}), RUN, False,
     "is given paths of its own"),
    ("the fix hook fails on warnings, the check hook not", _config_of(FIX, CHECK),
     FixRun((MAIN,), fail_on_warning=True), False, "the fix hook fails on warnings"),
    ("both fail on warnings", _config_of(FIX, {**CHECK, "entry": "eksproxy-gen check --fail-on warning --"}),
     FixRun((MAIN,), fail_on_warning=True), True, ""),
    ("the fix hook's own --proxy", _config_of(FIX, CHECK), FixRun((MAIN,), own_options=("--proxy",)), False,
     "the fix hook was given --proxy, which the check hook does not get"),
    ("a regular expression pre-commit would refuse", _config_of(FIX, {**CHECK, "files": "("}), RUN, False,
     "is not a regular expression"),
    ("stages that are not a list", _config_of(FIX, {**CHECK, "stages": "manual"}), RUN, False,
     "the stages in .pre-commit-config.yaml cannot be read"),
    ("no check hook", _config_of(FIX), RUN, False, ""),
    ("not a configuration", {"repos": "none"}, RUN, False, ""),
]


@pytest.mark.parametrize(("config", "run", "leave", "why"), [case[1:] for case in CASES], ids=[c[0] for c in CASES])
def test_the_decision_to_leave_findings_to_the_check_hook(config: dict[str, object], run: FixRun, leave: bool,
                                                          why: str) -> None:
    decision = decide(config, run)
    assert decision.leave is leave
    assert why in decision.why and bool(decision.why) == bool(why)


def test_what_the_decision_assumes_of_the_check_hook_is_what_the_hooks_file_says() -> None:
    """The defaults the decision gives a check hook from this repository are those of .pre-commit-hooks.yaml."""
    hooks = {hook["id"]: hook for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    check = hooks["eksproxy-gen-check"]
    assert {key: check[key] for key in MANIFEST} == MANIFEST
    for hook in hooks.values():
        assert not {"stages", "types", "types_or", "exclude_types", "args", "pass_filenames"} & set(hook), hook


def test_the_fix_hook_s_entry_reads_the_configuration_of_the_repository_it_runs_in(tmp_path: Path) -> None:
    """Through the installed command, in a repository: SKIP by the check hook's alias, and a flag of fix's own."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / ".eksproxy-gen.toml").write_text(SETTINGS)
    (repo / "main.tf").write_text(UNFIXABLE)
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(_config_of(FIX, {**CHECK, "alias": "proxy"})))

    def fix(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return console("fix", *args, "--leave-findings-to-check", "--", "main.tf", cwd=repo, **env)

    left = fix()
    assert (left.returncode, left.stdout) == (0, ""), left.stderr
    assert "findings left are reported by the eksproxy-gen-check hook" in left.stderr
    for args, env, why in (((), {"SKIP": "proxy"}, "SKIP names it"),
                           (("--proxy", "http://other.corp:3128"), {}, "the fix hook was given --proxy")):
        shown = fix(*args, **env)
        assert shown.returncode == 1 and LEFT in shown.stderr, shown.stderr
        assert f"{NOTE}{why}" in shown.stderr
    quiet = fix("--quiet", SKIP="proxy")
    assert quiet.returncode == 1 and LEFT in quiet.stderr and NOTE not in quiet.stderr


# --- everything left out: said, with what left it out, in every format ----------------------------------------------

ONE_GROUP = UNFIXABLE.replace("var.groups", "{\n    a = {\n      min_size = 1\n    }\n  }")


def _tree(tmp_path: Path, settings: str = 'proxy = "http://proxy.corp:3128"\nexclude = ["*"]\n') -> Path:
    (tmp_path / "sub").mkdir()
    (tmp_path / "main.tf").write_text(ONE_GROUP)
    (tmp_path / "sub" / "main.tf").write_text(ONE_GROUP)
    (tmp_path / ".eksproxy-gen.toml").write_text(settings)
    git(tmp_path, "init", "-q")
    return tmp_path


EXCLUDED = ('.eksproxy-gen.toml:2: warning: 0 files judged; 2 Terraform files left out by exclude "*" in '
            ".eksproxy-gen.toml: main.tf, sub/main.tf")


def test_exclude_that_leaves_out_every_file_is_said_with_the_glob_and_the_settings_file(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    for command in (("check",), ("fix",), ("fix", "--diff"), ("check", "--quiet")):
        shown = console(*command, cwd=tree)
        assert (shown.returncode, shown.stdout) == (0, ""), (command, shown.stderr)
        assert EXCLUDED in shown.stderr.splitlines(), (command, shown.stderr)
        assert "no Terraform files" not in shown.stderr
    data = json.loads(console("check", "--format", "json", cwd=tree).stdout)
    assert data["findings"] == [] and data["notices"] == [{
        "file": ".eksproxy-gen.toml", "line": 2, "kind": "not-judged",
        "message": '0 files judged; 2 Terraform files left out by exclude "*" in .eksproxy-gen.toml: main.tf, '
                   "sub/main.tf"}]
    sarif = json.loads(console("check", "--format", "sarif", cwd=tree).stdout)
    [notification] = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert notification["level"] == "warning" and "2 Terraform files left out by exclude" in \
        notification["message"]["text"]
    github = console("check", "--format", "github", cwd=tree).stdout.splitlines()
    assert github[0].startswith("::warning file=.eksproxy-gen.toml,line=2,title=eksproxy-gen: not judged::0 files "
                                "judged; 2 Terraform files left out")
    assert github[-1].endswith("1 not judged (see the warnings).")
    gitlab = json.loads(console("check", "--format", "gitlab", cwd=tree).stdout)
    assert [issue["check_name"] for issue in gitlab] == ["eksproxy-gen-not-judged"]


def test_git_ignoring_every_file_is_said_with_the_rule_and_where_it_is_written(tmp_path: Path) -> None:
    tree = _tree(tmp_path, 'proxy = "http://proxy.corp:3128"\n')
    (tree / ".gitignore").write_text("# build output\n*.tf\n")
    shown = console("check", cwd=tree)
    assert (shown.returncode, shown.stdout) == (0, "")
    assert ".gitignore:2: warning: 0 files judged; 2 Terraform files left out by git's ignore rule \"*.tf\" in " \
           ".gitignore: main.tf, sub/main.tf" in shown.stderr.splitlines(), shown.stderr
    (tree / ".gitignore").write_text("sub/\n")
    (tree / ".eksproxy-gen.toml").write_text('proxy = "http://proxy.corp:3128"\nexclude = ["/main.tf"]\n')
    both = console("check", cwd=tree).stderr.splitlines()
    assert '.eksproxy-gen.toml:2: warning: 0 files judged; 1 Terraform file left out by exclude "/main.tf" in ' \
           ".eksproxy-gen.toml: main.tf" in both, both
    assert ".gitignore:1: warning: 0 files judged; 1 Terraform file left out by git's ignore rule \"sub/\" in " \
           ".gitignore: sub/main.tf" in both, both


def test_every_named_file_left_out_is_said_as_pre_commit_names_them(tmp_path: Path) -> None:
    tree = _tree(tmp_path, 'proxy = "http://proxy.corp:3128"\nexclude = ["legacy/"]\n')
    (tree / "legacy").mkdir()
    (tree / "legacy" / "main.tf").write_text(ONE_GROUP)
    copy = tree / "vendor" / "terraform-aws-eks"
    (copy / "examples" / "basic").mkdir(parents=True)
    (copy / "examples" / "basic" / "main.tf").write_text(ONE_GROUP)
    shown = console("check", "--", "legacy/main.tf", "vendor/terraform-aws-eks/examples/basic/main.tf", cwd=tree)
    assert (shown.returncode, shown.stdout) == (0, ""), shown.stderr
    lines = shown.stderr.splitlines()
    assert '.eksproxy-gen.toml:2: warning: 0 files judged; 1 Terraform file left out by exclude "legacy/" in ' \
           ".eksproxy-gen.toml: legacy/main.tf" in lines, lines
    assert "vendor/terraform-aws-eks:1: warning: 0 files judged; 1 Terraform file left out as the examples and " \
           "tests of vendor/terraform-aws-eks, a copy of terraform-aws-eks: " \
           "vendor/terraform-aws-eks/examples/basic/main.tf" in lines, lines


def test_a_run_that_judges_some_files_says_nothing_of_what_exclude_leaves_out(tmp_path: Path) -> None:
    """exclude is the documented way to leave a folder out; only a run that judges nothing needs saying so."""
    tree = _tree(tmp_path, 'proxy = "http://proxy.corp:3128"\nexclude = ["sub/"]\n')
    shown = console("check", "--format", "json", cwd=tree)
    assert shown.returncode == 1 and json.loads(shown.stdout)["notices"] == []
    assert "left out" not in shown.stderr


def test_an_empty_folder_still_says_there_are_no_terraform_files(tmp_path: Path) -> None:
    (tmp_path / ".eksproxy-gen.toml").write_text('exclude = ["*"]\n')
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "README.md").write_text("nothing\n")
    shown = console("check", cwd=tmp_path)
    assert shown.returncode == 0
    assert shown.stderr == "eksproxy-gen: warning: no Terraform files (*.tf, *.tofu) in .\n"
