"""A hostile pull request: eksproxy-gen must not write, read or run anything outside what it was given.

Each test runs the installed console script as a subprocess, as pre-commit
and CI do, under a memory limit and a timeout, so what used to exhaust
memory or hang fails the test instead of the machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import generate, require, tool

CLI = Path(sys.executable).parent / "eksproxy-gen"
FLAGS = ("--proxy", "http://proxy.corp.example:3128", "--vpc-cidr", "10.0.0.0/16")
MEMORY = 2 << 30
HEAD = ('module "eks" {\n  source  = "terraform-aws-modules/eks/aws"\n  version = "~> 21.0"\n\n'
        '  name               = "c"\n  kubernetes_version = "1.33"\n\n  eks_managed_node_groups = {\n')
PLAIN = '    plain = {\n      ami_type = "AL2023_x86_64_STANDARD"\n    }\n'
# What fix cuts from a script (a proxy written to /etc/environment), behind an exit: harmless if ever run.
SCRIPT = "#!/bin/sh\nexit 0\ncat > /etc/environment <<EOF\nHTTPS_PROXY=http://old:3128\nEOF\necho {mark}\n"


def group(name: str, content: str, content_type: str = "text/x-shellscript") -> str:
    return (f'    {name} = {{\n      ami_type = "AL2023_x86_64_STANDARD"\n\n      cloudinit_pre_nodeadm = [\n'
            f'        {{\n          content_type = "{content_type}"\n          content      = {content}\n'
            "        }\n      ]\n    }\n")


def eks(*groups: str) -> str:
    return HEAD + "".join(groups) + "  }\n}\n"


def _bounded() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60,
        user: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """The installed eksproxy-gen, optionally as another user (``setpriv`` arguments), bounded in memory and time."""
    environment = {**os.environ, "NO_COLOR": "1", **(env or {})}
    return subprocess.run([*user, str(CLI), *map(str, args)], cwd=cwd, env=environment, capture_output=True,
                          text=True, timeout=timeout, preexec_fn=_bounded, check=False)


def peak_megabytes(*args: str | Path, cwd: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run eksproxy-gen from a fresh Python process and return its result and peak resident memory (MB)."""
    measure = ("import resource, subprocess, sys\n"
               "proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
               "sys.stdout.write(proc.stdout); sys.stderr.write(proc.stderr)\n"
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
               "sys.exit(proc.returncode)\n")
    proc = subprocess.run([sys.executable, "-c", measure, str(CLI), *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=120, preexec_fn=_bounded, check=False)
    *err, peak = proc.stderr.rstrip("\n").split("\n")
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout, "\n".join(err)), int(peak) / 1024


def temporaries(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*.eksproxy-gen"))


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    """A folder another user can reach (pytest's own are private to root)."""
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"eksproxy-gen-{tmp_path.name}"
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    yield folder
    subprocess.run(["rm", "-rf", str(folder)], check=False)


def as_user(uid: int, *groups: int) -> tuple[str, ...]:
    """``setpriv`` arguments to run as ``uid`` (root is needed to switch; skipped when not root)."""
    require(os.geteuid() == 0, "switching to another user needs root")
    setpriv = tool("setpriv")
    extra = ("--groups", ",".join(map(str, groups))) if groups else ("--clear-groups",)
    return (setpriv, f"--reuid={uid}", f"--regid={uid}", *extra, "--")


# --- 1. what file() and templatefile() may read -----------------------------------------------------------------------

def test_fix_never_reads_or_rewrites_files_in_git_or_outside_the_paths_given(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git" / "hooks").mkdir(parents=True)
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text(SCRIPT.format(mark="HOOK-CONTENT-MARK"))
    outside = tmp_path / "outside.sh"
    outside.write_text(SCRIPT.format(mark="OUTSIDE-CONTENT-MARK"))
    main = repo / "main.tf"
    main.write_text(eks(group("hook", 'file("${path.module}/.git/hooks/pre-commit")'),
                        group("up", 'templatefile("${path.module}/../outside.sh", {})')))
    before = {path: path.read_bytes() for path in (hook, outside, main)}

    fixed = run("fix", ".", "--format", "json", *FLAGS, cwd=repo)
    assert fixed.returncode == 1, fixed.stderr
    data = json.loads(fixed.stdout)
    assert data["fixed"] == [] and data["files_changed"] == []
    messages = {f["node_group"]: f["message"] for f in data["findings"]}
    assert messages.keys() == {"hook", "up"}
    assert "file() reads .git/hooks/pre-commit, inside .git" in messages["hook"]
    assert "templatefile() reads ../outside.sh, outside the paths given" in messages["up"]
    assert all(f["rule"] == "EKSP010" for f in data["findings"])
    assert {path: path.read_bytes() for path in before} == before

    shown = [run("check", ".", "--format", "json", cwd=repo), run("fix", ".", "--diff", *FLAGS, cwd=repo),
             run("render", "--group", "main.tf:eks.hook", cwd=repo), run("check", ".", "--format", "sarif", cwd=repo)]
    cache = Path(os.environ["EKSPROXY_GEN_CACHE_DIR"])
    stored = b"".join(p.read_bytes() for p in cache.rglob("*") if p.is_file())
    for text in (*(p.stdout + p.stderr for p in shown), stored.decode("utf-8", "replace")):
        assert "CONTENT-MARK" not in text
    assert "cannot be read without running Terraform" in shown[2].stderr


def test_a_cached_folders_template_that_becomes_a_fifo_or_dev_zero_is_refused_without_hanging(
        tmp_path: Path) -> None:
    """The cache read a dependency's bytes with a plain open() to see whether it changed: a template the
    cached report depended on, replaced by a FIFO, blocked every later run; replaced by a link to /dev/zero,
    it was read until memory ran out. It is judged as the analysis judges files: refused, never waited on."""
    (tmp_path / ".git").mkdir()
    templates = {}
    for name in ("fifo", "zero"):
        stack, shared = tmp_path / name / "stack", tmp_path / name / "shared"
        stack.mkdir(parents=True)
        shared.mkdir()
        templates[name] = shared / "user-data.sh"
        templates[name].write_text("#!/bin/bash\necho hello\n")
        (stack / "main.tf").write_text(eks(group("shared", 'file("${path.module}/../shared/user-data.sh")')))
    time.sleep(2.1)  # the cache stores only what changed (mtime and ctime) more than 2 s before the run
    first = run("check", "fifo", "zero", "--format", "json", cwd=tmp_path)
    assert first.returncode == 1 and json.loads(first.stdout)["findings"], first.stderr
    cache = Path(os.environ["EKSPROXY_GEN_CACHE_DIR"])
    assert list(cache.glob("check-*.json")), "the first run stored the folders' reports"
    os.mkfifo(templates["fifo"].with_name("new"))
    templates["fifo"].with_name("new").replace(templates["fifo"])
    templates["zero"].unlink()
    templates["zero"].symlink_to("/dev/zero")
    after = run("check", "fifo", "zero", "--format", "json", cwd=tmp_path, timeout=30)
    assert after.returncode == 1, after.stderr
    messages = {f["file"]: f["message"] for f in json.loads(after.stdout)["findings"]}
    assert "file() reads ../shared/user-data.sh, not a regular file" in messages["fifo/stack/main.tf"]
    assert "file() reads ../shared/user-data.sh, outside the paths given" in messages["zero/stack/main.tf"]


def test_a_link_to_dev_zero_and_fifos_are_refused_without_hanging(tmp_path: Path) -> None:
    """A committed link to /dev/zero used to fill memory; a FIFO used to block the read for ever."""
    (tmp_path / "zero.sh").symlink_to("/dev/zero")
    (tmp_path / "zero.tf").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "pipe.sh")
    os.mkfifo(tmp_path / "pipe.tf")
    (tmp_path / "main.tf").write_text(eks(group("zero", 'file("${path.module}/zero.sh")'),
                                          group("pipe", 'templatefile("${path.module}/pipe.sh", {})')))
    named = run("check", "main.tf", "zero.tf", cwd=tmp_path, timeout=30)
    assert named.returncode == 1
    assert "zero.tf:1: error: is a symbolic link to /dev/zero, outside the paths given; not read" in named.stdout
    assert "eks.zero: cloudinit_pre_nodeadm[0].content: file() reads zero.sh, outside the paths given" \
        in named.stdout
    assert "eks.pipe: cloudinit_pre_nodeadm[0].content: templatefile() reads pipe.sh, not a regular file" \
        in named.stdout
    walked = run("fix", ".", *FLAGS, cwd=tmp_path, timeout=30)
    assert walked.returncode == 1
    assert "pipe.tf:1: error: is a FIFO, not a regular file; not read" in walked.stderr
    assert "zero.tf:1: error: is a symbolic link to /dev/zero, outside the paths given; not read" in walked.stderr


# --- 2. how much of one file is read ----------------------------------------------------------------------------------

def test_files_past_the_size_limit_are_refused_in_small_memory_naming_file_line_and_limit(tmp_path: Path) -> None:
    """A 20 MB heredoc took 3.7 GB and a 10 MB one-line list 1.7 GB and a minute; now both are refused unread."""
    line = "echo a line of a long script\n"
    (tmp_path / "heredoc.tf").write_text('locals {\n  s = <<-EOT\n' + line * (20_000_000 // len(line)) + 'EOT\n}\n')
    (tmp_path / "list.tf").write_text('locals {\n  l = [' + '"abcdefgh", ' * (10_000_000 // 12) + '"x"]\n}\n')
    (tmp_path / "main.tf").write_text(eks(PLAIN))
    result, peak = peak_megabytes("check", "--no-cache", ".", cwd=tmp_path)
    assert result.returncode == 1
    for name in ("heredoc.tf", "list.tf"):
        assert (f"{name}:1: error: is larger than 1 MiB, the most eksproxy-gen reads of one file "
                "(EKSPROXY_GEN_MAX_FILE_BYTES raises it); not read") in result.stdout
    assert "main.tf:9: EKSP001 error eks.plain" in result.stdout
    assert peak < 200, f"peak resident memory {peak:.0f} MB"


def test_the_size_limit_can_be_raised(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(eks(PLAIN) + "# " + "padding " * 200_000 + "\n")
    assert "larger than 1 MiB" in run("check", ".", cwd=tmp_path).stdout
    raised = run("check", ".", cwd=tmp_path, env={"EKSPROXY_GEN_MAX_FILE_BYTES": str(4 << 20)})
    assert raised.returncode == 1 and "EKSP001 error eks.plain" in raised.stdout and "larger" not in raised.stdout


# --- 3. nesting -------------------------------------------------------------------------------------------------------

def test_deep_nesting_is_an_error_naming_file_and_line_and_the_other_files_are_processed(tmp_path: Path) -> None:
    """10,000 brackets in Terraform and a NodeConfig nested 990 deep ended in "internal error: RecursionError"
    (exit 3)."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "deep.tf").write_text('module "deep" {\n  source = "terraform-aws-modules/eks/aws"\n  tags = '
                                      + "[" * 10_000 + "]" * 10_000 + "\n}\n")
    nested = "[" * 990 + "]" * 990
    nodeconfig = ("<<-EOT\n            apiVersion: node.eks.aws/v1alpha1\n            kind: NodeConfig\n"
                  f"            spec:\n              kubelet:\n                flags: {nested}\n          EOT")
    (tmp_path / "main.tf").write_text(eks(PLAIN, group("deep", nodeconfig, "application/node.eks.aws")))
    result = run("check", ".", "--format", "json", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    errors = {(e["file"], e["line"]): e["message"] for e in data["errors"]}
    assert errors[("deep.tf", 3)].startswith("nested more than 100 levels deep")
    found = {(f["file"], f["line"], f["rule"]): f["message"] for f in data["findings"]}
    assert ("main.tf", 9, "EKSP001") in found
    flags = (tmp_path / "main.tf").read_text().split("\n").index(f"                flags: {nested}") + 1
    assert "it nests more than 100 levels deep" in found[("main.tf", flags, "EKSP018")]


def test_a_settings_file_nested_too_deeply_is_a_settings_error_naming_file_and_line(tmp_path: Path) -> None:
    """A settings file nested 1,000 deep ended in "internal error: RecursionError" (exit 3); it is a settings
    error, as every settings file that cannot be used is (exit 2, nothing judged on settings it did not mean)."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "settled").mkdir()
    (tmp_path / "settled" / ".eksproxy-gen.toml").write_text('vpc_cidrs = ["10.0.0.0/16"]\nproxy = '
                                                             + "[" * 1000 + "]" * 1000 + "\n")
    (tmp_path / "settled" / "main.tf").write_text(eks(PLAIN))
    result = run("check", ".", "--format", "json", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "settled/.eksproxy-gen.toml:2: nested too deeply to read" in result.stderr
    assert "Traceback" not in result.stderr


# --- 4. YAML aliases --------------------------------------------------------------------------------------------------

def _laughs(indent: str) -> str:
    """A "billion laughs": under 1 KB, nine levels of nine aliases each."""
    lines = [f"{indent}l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"{indent}l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)]
    return "\n".join(lines) + "\n"


def test_a_yaml_alias_bomb_is_refused_where_yaml_is_read(tmp_path: Path) -> None:
    part = ("<<-EOT\n            apiVersion: node.eks.aws/v1alpha1\n            kind: NodeConfig\n"
            "            spec:\n              instance:\n                environment:\n"
            + _laughs("                  ") + "          EOT")
    (tmp_path / "main.tf").write_text(eks(group("bomb", part, "application/node.eks.aws")))
    (tmp_path / "nodeclass.yaml").write_text("apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata:\n"
                                             "  name: default\nspec:\n  amiFamily: AL2023\n  tags:\n"
                                             + _laughs("    "))
    result = run("check", ".", "--format", "json", cwd=tmp_path, timeout=60)
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    bomb = [f for f in data["findings"] if f["rule"] == "EKSP018"]
    assert len(bomb) == 1 and bomb[0]["node_group"] == "bomb"
    assert "cloudinit_pre_nodeadm[0]" in bomb[0]["message"]
    assert "its aliases expand to more than 100,000 nodes" in bomb[0]["message"]
    assert [(e["file"], e["message"]) for e in data["errors"]] == [
        ("nodeclass.yaml", "names EC2NodeClass but cannot be read: it is not valid YAML (its aliases expand to more "
                           "than 100,000 nodes (a YAML alias bomb?))")]


# --- 5. settings ------------------------------------------------------------------------------------------------------

def test_settings_above_the_repository_or_the_given_root_never_choose_the_proxy(tmp_path: Path) -> None:
    (tmp_path / ".eksproxy-gen.toml").write_text('proxy = "http://evil.example:3128"\nvpc_cidrs = ["10.0.0.0/16"]\n')
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "main.tf").write_text(eks(PLAIN))
    loose = tmp_path / "loose" / "stack"
    loose.mkdir(parents=True)
    (loose / "main.tf").write_text(eks(PLAIN))
    for cwd, path in ((repo, "."), (tmp_path / "loose", "stack")):
        result = run("fix", path, cwd=cwd)
        assert result.returncode == 2, result.stderr
        assert "no proxy URL" in result.stderr
    assert "evil" not in (repo / "main.tf").read_text() + (loose / "main.tf").read_text()
    (repo / ".eksproxy-gen.toml").write_text('proxy = "http://proxy.corp.example:3128"\n'
                                             'vpc_cidrs = ["10.0.0.0/16"]\n')
    assert run("fix", "main.tf", cwd=repo).returncode == 0
    assert "proxy.corp.example" in (repo / "main.tf").read_text()


def test_a_settings_file_that_is_a_link_to_dev_zero_is_an_error(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".eksproxy-gen.toml").symlink_to("/dev/zero")
    (tmp_path / "main.tf").write_text(eks(PLAIN))
    result = run("check", ".", cwd=tmp_path, timeout=30)
    assert result.returncode == 2
    assert result.stdout == ""
    assert ".eksproxy-gen.toml:1: is a symbolic link to /dev/zero, outside the repository; not read" in result.stderr


# --- 6. how fix writes ------------------------------------------------------------------------------------------------

def test_a_hard_linked_file_is_rewritten_in_place_so_both_names_see_the_fix(tmp_path: Path) -> None:
    main = tmp_path / "main.tf"
    main.write_text(eks(PLAIN))
    os.link(main, tmp_path / "other-name")
    assert run("fix", "main.tf", *FLAGS, cwd=tmp_path).returncode == 0
    assert "eksproxy-gen-proxy.yaml" in (tmp_path / "other-name").read_text()
    assert os.stat(main).st_nlink == 2 and os.path.samefile(main, tmp_path / "other-name")


def test_extended_attributes_are_kept(tmp_path: Path) -> None:
    main = tmp_path / "main.tf"
    main.write_text(eks(PLAIN))
    try:
        os.setxattr(main, "user.origin", b"reviewed")
    except OSError as exc:
        require(False, f"this file system keeps no extended attributes ({exc.strerror})")
    assert run("fix", "main.tf", *FLAGS, cwd=tmp_path).returncode == 0
    assert "eksproxy-gen-proxy.yaml" in main.read_text()
    assert os.getxattr(main, "user.origin") == b"reviewed"


def test_a_file_another_user_owns_is_refused_not_taken_over(shared: Path) -> None:
    """As uid 4321 in a folder anyone may write: root's 0644 file was replaced by a file of 4321's."""
    main = shared / "main.tf"
    main.write_text(eks(PLAIN))
    main.chmod(0o644)
    before = main.read_bytes()
    result = run("fix", "main.tf", "--no-cache", *FLAGS, cwd=shared, user=as_user(4321))
    assert result.returncode == 1
    assert "main.tf:1: error: you may not write it (it belongs to uid 0, mode -rw-r--r--); not rewritten" \
        in result.stderr
    info = main.stat()
    assert (info.st_uid, main.read_bytes()) == (0, before)
    assert temporaries(shared) == []


def test_a_group_writable_file_keeps_its_owner_group_and_mode(shared: Path) -> None:
    """As uid 4321, member of group 4242, fixing root's file of group 4242, mode 0664: written in place."""
    main = shared / "main.tf"
    main.write_text(eks(PLAIN))
    os.chown(main, 0, 4242)
    main.chmod(0o664)
    result = run("fix", "main.tf", "--no-cache", *FLAGS, cwd=shared, user=as_user(4321, 4242))
    assert result.returncode == 0, result.stderr
    info = main.stat()
    assert (info.st_uid, info.st_gid, oct(info.st_mode & 0o7777)) == (0, 4242, "0o664")
    assert "eksproxy-gen-proxy.yaml" in main.read_text()
    assert temporaries(shared) == []


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "compare-again"])
def test_fault_injection_an_edit_saved_just_before_the_rename_is_kept(cli, tmp_path: Path, monkeypatch,
                                                                      exchange: bool) -> None:
    """Fault injection: the first fsync (of the temporary file, just before it replaces the original) is where a
    user's editor saves the file. Without renameat2 (compare-again) the same edit must be caught too."""
    main = tmp_path / "main.tf"
    main.write_text(eks(PLAIN))
    real_fsync = os.fsync
    saved: list[int] = []

    def editor_saves(fd: int) -> None:
        if not saved:
            saved.append(fd)
            with open(main, "a", encoding="utf-8") as handle:
                handle.write("# saved by the user meanwhile\n")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", editor_saves)
    if not exchange:
        from eksproxy_gen import write

        monkeypatch.setattr(write, "_renameat2", lambda: None)
    result = cli("fix", str(main), *FLAGS)
    assert saved
    assert result.code == 1
    assert "main.tf:1: error: file changed on disk while eksproxy-gen was running; not rewritten" in result.err
    assert main.read_text().endswith("# saved by the user meanwhile\n")
    assert "eksproxy-gen-proxy.yaml" not in main.read_text()
    assert temporaries(tmp_path) == []


def test_a_folder_is_written_whole_or_not_at_all(tmp_path: Path) -> None:
    """main.tf and the script it reads both need rewriting; the script is read-only, so main.tf stays too."""
    (tmp_path / "setup.sh").write_text(SCRIPT.format(mark="hello"))
    (tmp_path / "setup.sh").chmod(0o444)
    main = tmp_path / "main.tf"
    main.write_text(eks(PLAIN, group("scripted", 'file("${path.module}/setup.sh")')))
    before = main.read_bytes()
    result = run("fix", ".", "--format", "json", *FLAGS, cwd=tmp_path)
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["fixed"] == [] and data["files_changed"] == []
    assert data["errors"] == [{"file": "setup.sh", "line": 1, "message": "the file is read-only; not rewritten (make "
                               "it writable, or run fix --diff); so main.tf of the same folder kept their bytes too"}]
    assert {(f["node_group"], f["rule"]) for f in data["findings"]} >= {("plain", "EKSP001"), ("scripted", "EKSP014")}
    assert main.read_bytes() == before
    assert "fixed" not in result.stderr.replace("not fixed", "")
    assert temporaries(tmp_path) == []


def test_fault_injection_ctrl_c_while_writing_finishes_the_folder_and_lists_what_was_rewritten(
        cli, tmp_path: Path, monkeypatch) -> None:
    """Fault injection: Ctrl-C arrives during the first write (the fsync of folder a's temporary file)."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "main.tf").write_text(eks(PLAIN))
    before = (tmp_path / "b" / "main.tf").read_bytes()
    real_fsync = os.fsync
    pressed: list[int] = []

    def ctrl_c(fd: int) -> None:
        if not pressed:
            pressed.append(fd)
            os.kill(os.getpid(), signal.SIGINT)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", ctrl_c)
    result = cli("fix", str(tmp_path), "--no-cache", *FLAGS)
    assert pressed
    assert result.code == 130
    assert result.err.splitlines()[-2:] == ["eksproxy-gen: interrupted",
                                            "eksproxy-gen: files already rewritten: a/main.tf"]
    assert "eksproxy-gen-proxy.yaml" in (tmp_path / "a" / "main.tf").read_text()
    assert (tmp_path / "b" / "main.tf").read_bytes() == before
    assert temporaries(tmp_path) == []


def test_sigterm_ends_a_run_in_one_line_leaving_each_file_whole_and_no_temporary_file(tmp_path: Path) -> None:
    """A CI job cancelled mid-run: SIGTERM used to kill fix outright, saying nothing."""
    root = tmp_path / "tree"
    generate(root, stacks=120, eks=120, seed=3)
    before = {p: p.read_bytes() for p in root.rglob("*.tf")}
    proc = subprocess.Popen([str(CLI), "fix", "--no-cache", ".", *FLAGS], cwd=root, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_bounded, start_new_session=True,
                            env={**os.environ, "NO_COLOR": "1"})
    try:
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)  # to eksproxy-gen alone, as `kill PID` does; its workers are its own
        _out, err = proc.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "eksproxy-gen: interrupted" in err and "Traceback" not in err
    assert temporaries(root) == []
    changed = sorted(str(p.relative_to(root)) for p, data in before.items() if p.read_bytes() != data)
    listed = next((line.split(": ", 2)[2].split(", ") for line in err.splitlines()
                   if line.startswith("eksproxy-gen: files already rewritten: ")), [])
    assert changed == sorted(listed)
    for name in changed:
        assert (root / name).read_text().count("eksproxy-gen-proxy.yaml") == 3


# --- 7. report files --------------------------------------------------------------------------------------------------

def test_a_report_file_is_never_written_through_a_link_in_the_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git" / "hooks").mkdir(parents=True)
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nexit 0\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (repo / "main.tf").write_text(eks(PLAIN))
    (repo / "results.sarif").symlink_to(".git/hooks/pre-commit")
    (repo / "reports").symlink_to(elsewhere)
    for target, why in (("results.sarif", "is a symbolic link to .git/hooks/pre-commit; report files are not written "
                                          "through links in the repository"),
                        ("reports/out.json", "is a symbolic link to " + str(elsewhere) + " (through reports)"),
                        (".git/hooks/post-commit", "is inside .git")):
        result = run("check", ".", "-o", f"sarif:{target}", cwd=repo)
        assert result.returncode == 2
        assert f"eksproxy-gen: error: --output-file {target}: {why}" in result.stderr
    assert hook.read_text() == "#!/bin/sh\nexit 0\n"
    assert list(elsewhere.iterdir()) == [] and not (repo / ".git" / "hooks" / "post-commit").exists()
    assert run("check", ".", "-o", "sarif:out/results.sarif", cwd=repo).returncode == 1
    assert json.loads((repo / "out" / "results.sarif").read_text())["version"] == "2.1.0"


def test_a_usage_error_leaves_no_report_file(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(eks(PLAIN))
    (tmp_path / "blocker").write_text("a file, not a folder\n")
    result = run("check", ".", "-o", "report.json", "-o", "text:blocker/findings.txt", cwd=tmp_path)
    assert result.returncode == 2
    assert "--output-file blocker/findings.txt" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker", "main.tf"]


# --- 8. nothing unread passes as clean --------------------------------------------------------------------------------

def test_an_unreadable_folder_is_an_error_not_a_clean_tree(shared: Path) -> None:
    (shared / "locked").mkdir()
    (shared / "locked" / "main.tf").write_text(eks(PLAIN))
    (shared / "locked").chmod(0o700)
    (shared / "open.tf").write_text("# nothing here\n")
    result = run("check", "--no-cache", ".", cwd=shared, user=as_user(4321))
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout == "locked:1: error: cannot be listed (Permission denied); its files were not read\n"


def test_a_yaml_file_that_names_ec2nodeclass_and_does_not_parse_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "nodeclass.yaml").write_text("apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata:\n"
                                             "  name: default\nspec:\n  userData: \"unclosed\n  amiFamily: AL2023\n")
    result = run("check", ".", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("nodeclass.yaml:8: error: names EC2NodeClass but cannot be read: it is not "
                                    "valid YAML (")


# --- 10. the whole attack, through the project's own pre-commit hook --------------------------------------------------

def _pre_commit() -> str:
    found = Path(sys.executable).parent / "pre-commit"
    if not found.exists():
        found = Path(tool("pre-commit"))
    return str(found)


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "core.hooksPath=/dev/null",
                    *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def test_a_hostile_pull_request_through_the_pre_commit_fix_hook(tmp_path: Path) -> None:
    from .conftest import REPO

    tool("git")
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text(SCRIPT.format(mark="the hook of the repository"))
    outside = tmp_path / "outside.sh"
    outside.write_text(SCRIPT.format(mark="a file beside the repository"))
    (tmp_path / ".eksproxy-gen.toml").write_text('proxy = "http://evil.example:3128"\nvpc_cidrs = ["10.0.0.0/16"]\n')
    (repo / "README.md").write_text("infrastructure\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "init")
    # the pull request
    (repo / "main.tf").write_text(eks(group("hook", 'file("${path.module}/.git/hooks/pre-commit")'),
                                      group("up", 'file("${path.module}/../outside.sh")'),
                                      group("zero", 'file("${path.module}/zero.sh")'),
                                      group("pipe", 'file("${path.module}/pipe.sh")')))
    (repo / "zero.sh").symlink_to("/dev/zero")
    (repo / "zero.tf").symlink_to("/dev/zero")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "the pull request")
    os.mkfifo(repo / "pipe.sh")
    before = {path: path.read_bytes() for path in (hook, outside, repo / "main.tf")}
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "NO_COLOR": "1"}
    env.pop("VIRTUAL_ENV", None)
    proc = subprocess.run([_pre_commit(), "try-repo", str(REPO), "eksproxy-gen-fix", "--all-files", "--color", "never"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=900, preexec_fn=_bounded,
                          check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert {path: path.read_bytes() for path in before} == before
    assert "evil.example" not in output
    for refused in ("eks.hook: cloudinit_pre_nodeadm[0].content: file() reads .git/hooks/pre-commit, inside .git",
                    "eks.up: cloudinit_pre_nodeadm[0].content: file() reads ../outside.sh, outside the paths given",
                    "eks.zero: cloudinit_pre_nodeadm[0].content: file() reads zero.sh, outside the paths given",
                    "eks.pipe: cloudinit_pre_nodeadm[0].content: file() reads pipe.sh, not a regular file"):
        assert refused in output
    assert "files were modified by this hook" not in output
