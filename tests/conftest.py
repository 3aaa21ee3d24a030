"""Shared helpers: run the real CLI in-process, and terraform fmt as an independent oracle."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from eksproxy_gen import fsguard, main
from eksproxy_gen.model import NodeGroup
from eksproxy_gen.pipeline.analysis import FolderInput, analyse
from eksproxy_gen.policy.settings import Settings

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
TERRAFORM = shutil.which("terraform")

sys.path.insert(0, str(REPO / "benchmarks"))
from generate import generate  # noqa: E402, F401  (the benchmarks' tree generator, for the tests too)


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test runs in its own empty folder, so no .eksproxy-gen.toml from elsewhere is found."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("EKSPROXY_GEN_MAX_FILE_BYTES", raising=False)
    monkeypatch.setenv("EKSPROXY_GEN_CACHE_DIR", str(tmp_path.parent / f"{tmp_path.name}-cache"))
    yield
    fsguard.reset()


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    """Call the command-line entry point as a user would, capturing exit code and output."""

    def run(*args: str | Path) -> Result:
        code = main.main([str(a) for a in args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def copy_fixture(name: str, dest: Path) -> Path:
    """Copy tests/fixtures/<name> (a file or a folder) under dest and return the copy."""
    src = FIXTURES / name
    target = dest / src.name
    if src.is_dir():
        shutil.copytree(src, target)
    else:
        shutil.copy2(src, target)
    return target


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: object, why: str) -> None:
    """Skip, saying why, where a real tool is missing; under CI (CI=true) a missing tool fails the test."""
    if condition:
        return
    if in_ci():
        pytest.fail(why)
    pytest.skip(why)


def fmt_clean(path: Path) -> bool:
    """`terraform fmt -check` on a file; terraform is required (skip here, fail under CI when it is missing)."""
    require(TERRAFORM, "terraform is not installed here; it is the formatting oracle of this test")
    env = {"TF_CLI_CONFIG_FILE": "/dev/null", "PATH": "/usr/bin:/bin", "HOME": str(path.parent),
           "CHECKPOINT_DISABLE": "1"}
    proc = subprocess.run([TERRAFORM, "fmt", "-check", "-list=false", str(path)], env=env,
                          capture_output=True, text=True, check=False)
    return proc.returncode == 0


def node_groups(path: Path) -> list[NodeGroup]:
    """The node groups eksproxy-gen reads from one file (its folder gives locals), given as the CLI would be."""
    fsguard.configure([path])
    result = analyse(FolderInput(path.parent, (path,), Settings()))
    return [g.group for g in result.groups]


def tool(name: str) -> str:
    """The path of a real program the tests need (shellcheck, bwrap, systemd-analyze, ...)."""
    found = shutil.which(name)
    require(found, f"{name} is not installed here (tests/run.sh installs it under CI=true or with "
                   "EKSPROXY_GEN_INSTALL_SYSTEM=1)")
    assert found is not None
    return found


# systemctl as systemd 252 answers the commands generated scripts use, for units that exist (active or
# inactive) and units that do not: ``show -p LoadState`` prints loaded/not-found; ``try-restart`` and ``restart``
# of a unit that does not exist fail with "Unit X not found." and exit 5 (measured with systemd 252; a
# try-restart of an inactive unit does nothing and succeeds); ``is-active`` exits 0 active, 3 inactive, 4 no such
# unit (systemctl(1), EXIT STATUS). Any other command fails loudly, so a script using one is noticed here.
FAKE_SYSTEMCTL = r"""#!/bin/bash
log=/etc/systemctl.log
units=/etc/fake-systemd-units
echo "$*" >> "$log"
state() {
  local name="${1%.service}"
  [ -f "$units" ] || { echo missing; return; }
  local found
  found=$(awk -v u="$name" '$1 == u { print $2 }' "$units")
  echo "${found:-missing}"
}
case "$1" in
  daemon-reload) exit 0 ;;
  show)
    [ "$2" = "-p" ] && [ "$3" = "LoadState" ] || { echo "sandbox systemctl: unsupported: $*" >&2; exit 1; }
    if [ "$(state "$4")" = missing ]; then echo "LoadState=not-found"; else echo "LoadState=loaded"; fi
    exit 0 ;;
  try-restart|restart)
    command="$1"; shift; code=0
    for unit in "$@"; do
      name="${unit%.service}.service"
      current=$(state "$unit")
      if [ "$current" = missing ]; then
        echo "Failed to $command $name: Unit $name not found." >&2; code=5
      elif [ "$current" = active ] || [ "$command" = restart ]; then
        echo "restarted $name" >> "$log"
      fi
    done
    exit $code ;;
  is-active)
    case "$(state "$2")" in active) echo active; exit 0 ;; inactive) echo inactive; exit 3 ;;
      *) echo inactive; exit 4 ;; esac ;;
  *) echo "sandbox systemctl: unsupported: $*" >&2; exit 1 ;;
esac
"""


def sandbox_bash(script: str, root: Path, units: dict[str, str] | None = None,
                 programs: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a script with bash under bubblewrap, with ``root/etc`` as /etc and systemctl as systemd answers it.

    systemd cannot run as PID 1 in the sandbox, so ``systemctl`` is the one
    stand-in (``FAKE_SYSTEMCTL``): ``units`` maps the units that exist to
    "active" or "inactive"; every other unit does not exist. It records its
    arguments, and each restart, in /etc/systemctl.log. ``programs`` adds other
    stand-ins by name (a ``bootstrap.sh`` that records its environment).
    """
    bwrap = tool("bwrap")
    stub = root / "stub"
    stub.mkdir(exist_ok=True)
    (stub / "systemctl").write_text(FAKE_SYSTEMCTL)
    (stub / "systemctl").chmod(0o755)
    for name, text in (programs or {}).items():
        (stub / name).write_text(text)
        (stub / name).chmod(0o755)
    if units is not None:
        (root / "etc" / "fake-systemd-units").write_text("".join(f"{u} {s}\n" for u, s in units.items()))
    command = [bwrap, "--unshare-all", "--die-with-parent", "--ro-bind", "/usr", "/usr",
               "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
               "--bind", str(root / "etc"), "/etc", "--ro-bind", "/etc/alternatives", "/etc/alternatives",
               "--ro-bind", str(stub), "/stub", "--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev",
               "--setenv", "PATH", "/stub:/usr/bin", "bash", "-c", script]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)


def replaced(text: str, old: str, new: str) -> str:
    """``text.replace(old, new)`` that fails when there is nothing to replace, so a test cannot go stale."""
    assert old in text, f"{old!r} is not in the text"
    return text.replace(old, new)


def terraform_render(locals_body: str, names: list[str], folder: Path) -> dict[str, str]:
    """What Terraform itself renders each named local to (``locals_body`` is the inside of a ``locals`` block).

    ``terraform console`` needs no providers: the locals go into a throw-away configuration, and one expression
    prints them all, base64-encoded JSON, so no display escaping of the console stands between Terraform's value and
    the test.
    """
    require(TERRAFORM, "terraform is not installed here; it is the rendering oracle of this test")
    assert TERRAFORM is not None
    import base64
    import json

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "main.tf").write_text("locals {\n" + locals_body + "\n}\n", encoding="utf-8")
    env = {"TF_CLI_CONFIG_FILE": "/dev/null", "PATH": "/usr/bin:/bin", "HOME": str(folder),
           "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    expression = "base64encode(jsonencode({" + ", ".join(f"{n} = local.{n}" for n in names) + "}))\n"
    proc = subprocess.run([TERRAFORM, "console"], cwd=folder, env=env, input=expression, capture_output=True,
                          text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    printed = proc.stdout.strip().splitlines()[-1].strip().strip('"')
    data = json.loads(base64.b64decode(printed))
    assert isinstance(data, dict)
    return {str(k): str(v) for k, v in data.items()}
