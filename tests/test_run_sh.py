"""tests/run.sh asks before it installs Debian packages, and says what skips without them.

The script runs for real, stopped after its system step (``--system-only``),
on a PATH that holds only what it needs, so the tools the tests use are absent.
``apt-get`` and ``sudo`` on that PATH are recording stand-ins: a test cannot
install Debian packages and take them away again, and the point is which
packages the script asks for, and when.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

RECORDER = '#!/bin/sh\necho "${0##*/} $*" >> "$APT_LOG"\n'


@pytest.fixture
def bare_path(tmp_path: Path) -> Path:
    """A bin folder with bash, coreutils the script calls and a Python with venv, but no test tools."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    python = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    links = {"bash": "/bin/bash", "dirname": "/usr/bin/dirname", "id": "/usr/bin/id", "python3": str(python)}
    for name, target in links.items():
        (bin_dir / name).symlink_to(target)
    for name in ("apt-get", "sudo"):
        (bin_dir / name).write_text(RECORDER)
        (bin_dir / name).chmod(0o755)
    return bin_dir


def run_sh(bin_dir: Path, *args: str, **env: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    log = bin_dir.parent / "apt.log"
    base = {"PATH": str(bin_dir), "HOME": os.environ.get("HOME", "/root"), "APT_LOG": str(log)}
    proc = subprocess.run([str(bin_dir / "bash"), str(REPO / "tests" / "run.sh"), "--system-only", *args],
                          env={**base, **env}, capture_output=True, text=True, check=False, timeout=120)
    return proc, log.read_text().splitlines() if log.exists() else []


def test_outside_ci_nothing_is_installed_and_the_skipping_tests_are_named(bare_path: Path) -> None:
    proc, apt = run_sh(bare_path)
    assert proc.returncode == 0, proc.stderr
    assert apt == []
    out = proc.stdout
    assert "EKSPROXY_GEN_INSTALL_SYSTEM=1 bash tests/run.sh" in out
    assert "  shellcheck: lints the generated shell parts" in out and "tests/test_generated_parts.py" in out
    assert "  bubblewrap: runs the generated scripts in a sandbox" in out
    assert "  systemd: verifies the Amazon Linux 2 drop-ins" in out
    assert "terraform is not installed" in out and "tests/test_invariants.py" in out


def cloud_init_present() -> bool:
    """The script's own probe for cloud-init: the system Python imports it (tests/test_userdata.py uses that)."""
    return Path("/usr/bin/python3").exists() and subprocess.run(
        ["/usr/bin/python3", "-c", "import cloudinit"], capture_output=True, check=False).returncode == 0


@pytest.mark.parametrize(("args", "env"), [((), {"CI": "true"}), ((), {"EKSPROXY_GEN_INSTALL_SYSTEM": "1"}),
                                           (("--install-system",), {})])
def test_under_ci_or_when_asked_the_packages_are_named_with_their_reason_then_installed(
        bare_path: Path, args: tuple[str, ...], env: dict[str, str]) -> None:
    proc, apt = run_sh(bare_path, *args, **env)
    assert proc.returncode == 0, proc.stderr
    said = proc.stdout
    assert said.startswith("tests/run.sh: installing these Debian packages with apt-get:\n")
    assert "  git: pre-commit and installs from git" in said
    expected = ["git", "shellcheck", "bubblewrap", "systemd"] + ([] if cloud_init_present() else ["cloud-init"])
    sudo = "" if os.getuid() == 0 else "sudo "
    assert apt == [f"{sudo}apt-get update -qq",
                   f"{sudo}apt-get install -y -qq --no-install-recommends {' '.join(expected)}"]
    assert said.index("installing these Debian packages") < said.index("  systemd:"), "said before, not after"
