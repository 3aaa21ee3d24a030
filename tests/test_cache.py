"""The result cache and the tree snapshots must neither leak nor lie.

Leak: nothing kept lets whoever can read the cache folder test a guess of the
proxy password (contexts and file contents are HMACs under a private random
key), and a folder that is not ours is not used. Lie: an entry or snapshot
edited by hand, moved to another folder or copied under another name, or
written by another version of the tool, is a miss and the next run reports
the truth. And the cache cleans up after itself.

Every test that changes something after a run first proves the run stored an
entry, so that the change is seen by the cache and not merely by a cold run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from eksproxy_gen import cache as cache_module
from eksproxy_gen.cache import DAY_NS, KEY_NAME, PRUNED_NAME, ResultCache

from .cache_files import cache_dir, entries, entry_data, folder_file, rewrite_entries, signed_entry, snapshots
from .conftest import REPO

CALL = """\
module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 21.0"

  name = "c"

  eks_managed_node_groups = {
    general = { ami_type = "TYPE" }
  }
}
"""
CONFIG = 'proxy = "http://svc:Pw-Winter2025%21@proxy.corp.example:3128"\nvpc_cidrs = ["10.0.0.0/16"]\n'


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch):
    """Trust time stamps at once instead of after two seconds (the window is tested with its real width elsewhere)."""
    monkeypatch.setattr(cache_module, "RACY_NS", 0)

    def tick() -> None:
        time.sleep(0.05)

    return tick


def stack(root: Path, name: str = "stack", ami_type: str = "AL2023_x86_64_STANDARD") -> Path:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "main.tf").write_text(CALL.replace("TYPE", ami_type))
    return folder


def report(cli, *args: str | Path) -> dict:
    result = cli("check", *map(str, args), "--format", "json")
    assert result.code in (0, 1), result.err
    data: dict = json.loads(result.out)
    return data


def rules(cli, *args: str | Path) -> list[str]:
    return [f["rule"] for f in report(cli, *args)["findings"]]


# --- nothing to test a guess against ----------------------------------------------------------------------------------

HEX = re.compile(r"\b(?=[0-9]*[a-f])[0-9a-f]{16,}\b")  # time stamps and sizes are decimal


def _digests(folder: Path) -> set[str]:
    """Every long hexadecimal token in the cache files (the key itself aside)."""
    found: set[str] = set()
    for path in folder.iterdir():
        if path.is_file() and path.name != KEY_NAME:
            found |= set(HEX.findall(path.read_text()))
    return found


def test_two_installs_with_the_same_password_keep_no_value_in_common(cli, tmp_path: Path, settled,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A guess could be tested against any value computed from the settings or the files alone (a plain hash).

    Here the "guess" is the real password, run by a second install over the
    same files: if any kept value were a function of the password and the
    files only, the two caches would share it. They share nothing but the
    tool's version; the files hold the password, since ``fix`` wrote it there.
    """
    (tmp_path / "repo").mkdir()
    folder = stack(tmp_path / "repo")
    (tmp_path / "repo" / ".eksproxy-gen.toml").write_text(CONFIG)
    assert cli("fix", str(tmp_path / "repo")).code == 0
    assert "Pw-Winter2025" in (folder / "main.tf").read_text()
    settled()
    caches = []
    for name in ("alice", "mallory"):
        monkeypatch.setenv("EKSPROXY_GEN_CACHE_DIR", str(tmp_path / name))
        cli("check", str(tmp_path / "repo"))
        cli("check", str(folder / "main.tf"))
        assert entries() and snapshots(), "both kinds of entry were stored"
        caches.append(_digests(tmp_path / name))
    assert caches[0] & caches[1] <= {cache_module.tool_fingerprint()}, "nothing in common but the version"
    assert hashlib.sha256((folder / "main.tf").read_bytes()).hexdigest() not in caches[0]


def test_the_key_is_private_made_once_and_the_folder_is_private(cli, tmp_path: Path, settled) -> None:
    folder = stack(tmp_path)
    rules(cli, folder)
    key = cache_dir() / KEY_NAME
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and stat.S_IMODE(cache_dir().stat().st_mode) == 0o700
    first = key.read_text()
    assert re.fullmatch(r"[0-9a-f]{64}\n", first)
    rules(cli, folder)
    assert key.read_text() == first


def test_fault_injection_a_file_system_without_hard_links_still_gets_one_private_key(
        cli, tmp_path: Path, settled, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fault injection: os.link refuses (as on file systems without hard links), so the key is created under its
    name exclusively instead; it is as private and as lasting as the linked one, and the cache answers with it."""

    def no_links(*_args: object, **_kwargs: object) -> None:
        raise PermissionError("hard links are not supported here")

    monkeypatch.setattr(os, "link", no_links)
    folder = stack(tmp_path)
    assert rules(cli, folder / "main.tf") == ["EKSP001"]
    key = cache_dir() / KEY_NAME
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    first = key.read_text()
    assert re.fullmatch(r"[0-9a-f]{64}\n", first)
    assert [p.name for p in cache_dir().iterdir() if p.name.startswith(f".{KEY_NAME}-")] == [], "no temporary left"
    assert str(folder) in entries()
    settled()
    assert rules(cli, folder / "main.tf") == ["EKSP001"]
    assert key.read_text() == first


def _world_writable(folder: Path) -> None:
    folder.mkdir(mode=0o700)
    folder.chmod(0o777)


def _someone_elses(folder: Path) -> None:
    folder.mkdir(mode=0o700)
    os.chown(folder, 65534, 65534)


def _key_readable_by_others(folder: Path) -> None:
    folder.mkdir(mode=0o700)
    (folder / KEY_NAME).write_text("ab" * 32 + "\n")
    (folder / KEY_NAME).chmod(0o644)


def _key_is_a_link(folder: Path) -> None:
    folder.mkdir(mode=0o700)
    (folder.parent / "planted").write_text("ab" * 32 + "\n")
    (folder.parent / "planted").chmod(0o600)
    (folder / KEY_NAME).symlink_to(folder.parent / "planted")


@pytest.mark.parametrize("make", [_world_writable, _someone_elses, _key_readable_by_others, _key_is_a_link],
                         ids=lambda make: make.__name__.strip("_"))
def test_a_cache_folder_that_is_not_ours_is_not_used(cli, tmp_path: Path, settled, make,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    if make is _someone_elses and os.geteuid() != 0:
        monkeypatch.setenv("EKSPROXY_GEN_CACHE_DIR", "/")  # a folder of root's, seen by another user
    else:
        make(cache_dir())
    folder = stack(tmp_path)
    fresh = report(cli, folder, "--no-cache")
    before = sorted(os.listdir(cache_dir()))
    for _ in range(2):
        result = cli("check", str(folder), "--format", "json")
        assert json.loads(result.out) == fresh
        assert result.err.startswith(f"eksproxy-gen: warning: not using the cache in {cache_dir()}: ")
    assert sorted(os.listdir(cache_dir())) == before, "nothing was written there"


# --- nothing served that the entry does not describe ------------------------------------------------------------------

def test_an_entry_edited_by_hand_is_a_miss(cli, tmp_path: Path, settled) -> None:
    folder = stack(tmp_path)
    target = folder / "main.tf"
    assert rules(cli, target) == ["EKSP001"]
    assert entry_data(folder)["report"]["files"][0]["findings"][0]["rule"] == "EKSP001"
    rewrite_entries(lambda _folder, entry: {**entry, "data": entry["data"].replace('"EKSP001"', '"EKSP013"')})
    assert '"EKSP013"' in entries()[str(folder)]["data"]
    settled()
    assert rules(cli, target) == ["EKSP001"]
    rewrite_entries(lambda _folder, entry: {**entry, "used": entry["used"] + 1})
    assert rules(cli, target) == ["EKSP001"]
    assert '"EKSP001"' in entries()[str(folder)]["data"], "the truth was stored again"


def test_entries_swapped_between_folders_are_misses(cli, tmp_path: Path, settled) -> None:
    al2023, rocket = stack(tmp_path, "al2023"), stack(tmp_path, "rocket", "BOTTLEROCKET_x86_64")
    targets = (al2023 / "main.tf", rocket / "main.tf")
    assert rules(cli, *targets) == ["EKSP001", "EKSP009"]
    stored = entries()
    assert set(stored) == {str(al2023), str(rocket)}
    rewrite_entries(lambda folder, _entry: stored[str(rocket) if folder == str(al2023) else str(al2023)])
    settled()
    assert rules(cli, *targets) == ["EKSP001", "EKSP009"]
    assert rules(cli, targets[1]) == ["EKSP009"]


def test_a_snapshot_copied_under_another_name_is_a_miss(cli, tmp_path: Path, settled) -> None:
    """Each tree gets its own snapshot; the second's file, overwritten with the first's, must not answer for it."""
    first, second = stack(tmp_path / "one"), stack(tmp_path / "two", ami_type="BOTTLEROCKET_x86_64")
    assert rules(cli, first.parent) == ["EKSP001"]
    one = snapshots()
    assert len(one) == 1
    assert rules(cli, second.parent) == ["EKSP009"]
    (two,) = set(snapshots()) - set(one)
    two.write_text(one[0].read_text())
    settled()
    assert rules(cli, second.parent) == ["EKSP009"]
    assert rules(cli, first.parent) == ["EKSP001"]


def test_a_changed_tool_never_answers_with_the_old_versions_report(tmp_path: Path) -> None:
    """A copy of the package whose message changes between two runs: the second run shows the new message.

    Both the tree snapshot and the folder cache hold the first run's report, and
    every file is older than the racy window, so only the tool's version can
    tell the reports apart.
    """
    site = tmp_path / "site"
    shutil.copytree(REPO / "generator", site / "eksproxy_gen", symlinks=False,
                    ignore=shutil.ignore_patterns("__pycache__"))
    root = tmp_path / "repo"
    stack(root)
    env = {**os.environ, "PYTHONPATH": str(site), "EKSPROXY_GEN_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}
    command = [sys.executable, "-c", "import sys; from eksproxy_gen.main import main; sys.exit(main())",
               "check", str(root), "--format", "json"]

    def messages() -> list[str]:
        proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=300)
        assert proc.returncode == 1, proc.stderr
        return [f["message"] for f in json.loads(proc.stdout)["findings"]]

    time.sleep(cache_module.RACY_NS / 1e9)
    assert messages()[0].startswith("no proxy configuration in cloudinit_pre_nodeadm")
    assert messages()[0].startswith("no proxy configuration in cloudinit_pre_nodeadm")
    assert list((tmp_path / "cache").glob("tree-*.json")) and list((tmp_path / "cache").glob("check-*.json"))
    judge = site / "eksproxy_gen" / "policy" / "judge.py"
    text = judge.read_text()
    assert "no proxy configuration in" in text
    judge.write_text(text.replace("no proxy configuration in", "no proxy set-up in"))
    assert messages()[0].startswith("no proxy set-up in cloudinit_pre_nodeadm")


def test_without_a_cache_folder_setting_the_cache_is_kept_in_the_users_cache_folder(
        cli, tmp_path: Path, settled, monkeypatch: pytest.MonkeyPatch) -> None:
    """Linux: $XDG_CACHE_HOME/eksproxy-gen, where users and CI caches (actions/cache) look for it."""
    monkeypatch.delenv("EKSPROXY_GEN_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    folder = stack(tmp_path)
    assert rules(cli, folder / "main.tf") == ["EKSP001"]
    assert (tmp_path / "xdg" / "eksproxy-gen" / KEY_NAME).is_file()


# --- answered when nothing changed ------------------------------------------------------------------------------------


def _doctored(folder: Path) -> None:
    """Re-sign the folder's entry with EKSP001 turned into EKSP013, as the cache itself would sign it: a report
    only the cache can give, so a run that says EKSP013 was answered by the entry, not by judging the files."""
    rewrite_entries(lambda name, entry: signed_entry(name, entry["used"], {
        **json.loads(entry["data"]), "report": json.loads(entry["data"].replace('"EKSP001"', '"EKSP013"'))["report"]}))


def test_an_unchanged_folder_is_answered_from_its_entry(cli, tmp_path: Path, settled) -> None:
    """The entry the cache stored answers the next run as it is: the cache file is not even written again."""
    folder = stack(tmp_path)
    assert rules(cli, folder / "main.tf") == ["EKSP001"]
    stored = folder_file().stat()
    settled()
    assert rules(cli, folder / "main.tf") == ["EKSP001"]
    now = folder_file().stat()
    assert (now.st_ino, now.st_mtime_ns) == (stored.st_ino, stored.st_mtime_ns), "nothing is stored anew"
    _doctored(folder)
    settled()
    assert rules(cli, folder / "main.tf") == ["EKSP013"]


def test_a_file_touched_but_not_changed_is_still_answered_from_its_entry(cli, tmp_path: Path, settled) -> None:
    """A checkout or a build tool rewrites a file with the same bytes: its time stamp moves, its content does not,
    so the entry still answers (and takes the new time stamp)."""
    folder = stack(tmp_path)
    assert rules(cli, folder / "main.tf") == ["EKSP001"]
    _doctored(folder)
    settled()
    later = time.time_ns()
    os.utime(folder / "main.tf", ns=(later, later))
    assert rules(cli, folder / "main.tf") == ["EKSP013"]
    assert rules(cli, folder / "main.tf") == ["EKSP013"]


# --- pruning ---------------------------------------------------------------------------------------------------------

def _aged(path: Path, days: float, text: str = "{}") -> Path:
    path.write_text(text)
    when = time.time_ns() - int(days * DAY_NS)
    os.utime(path, ns=(when, when))
    return path


def test_other_versions_and_unused_snapshots_are_removed_at_most_once_a_day(cli, tmp_path: Path) -> None:
    folder = stack(tmp_path)
    cache_dir().mkdir(mode=0o700)
    current = cache_module.tool_fingerprint()
    other = "0" * 20
    gone = [_aged(cache_dir() / f"check-{other}.json", 0), _aged(cache_dir() / f"tree-{other}-abc.json", 0),
            _aged(cache_dir() / f"tree-{current}-unused.json", 31), _aged(cache_dir() / ".check-crashed", 2)]
    kept = [_aged(cache_dir() / f"tree-{current}-recent.json", 2), _aged(cache_dir() / ".check-running", 0)]
    rules(cli, folder)
    assert [p for p in gone if p.exists()] == [] and all(p.exists() for p in kept)
    later = _aged(cache_dir() / f"check-{other}.json", 0)
    rules(cli, folder)
    assert later.exists(), "looked for at most once a day"
    _aged(cache_dir() / PRUNED_NAME, 1.5, "")
    rules(cli, folder)
    assert not later.exists()


def test_a_snapshot_in_use_is_kept(cli, tmp_path: Path, settled) -> None:
    """A snapshot that answers a run is marked used (at most once a day), so pruning keeps it."""
    folder = stack(tmp_path)
    rules(cli, folder)
    (snapshot,) = snapshots()
    old = time.time_ns() - 31 * DAY_NS
    os.utime(snapshot, ns=(old, old))
    settled()
    rules(cli, folder)
    assert time.time_ns() - snapshot.stat().st_mtime_ns < DAY_NS
    _aged(cache_dir() / PRUNED_NAME, 2, "")
    rules(cli, folder)
    assert snapshot.exists()


def test_entries_of_folders_unused_for_long_are_dropped_when_the_file_is_rewritten(cli, tmp_path: Path,
                                                                                   settled) -> None:
    """Entries stored (as a run would have) two and forty days ago; the next run that writes the file drops the old."""
    now = time.time_ns()
    for days, name in ((2, "recent"), (40, "gone")):
        earlier = ResultCache(cache_dir(), clock=lambda days=days: now - days * DAY_NS)
        earlier.put(tmp_path / name, "context", [], set(), {"files": []})
        earlier.save()
    assert set(entries()) == {str(tmp_path / "recent"), str(tmp_path / "gone")}
    folder = stack(tmp_path)
    rules(cli, folder / "main.tf")
    assert set(entries()) == {str(tmp_path / "recent"), str(folder)}
