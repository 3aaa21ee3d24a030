"""A result cache for ``check``: a folder's report is reused while nothing it was computed from has changed.

A folder's entry holds its report and the state of everything the report
depends on: the content of every Terraform file of the folder and of every
file outside it that was read or looked for (templates, a local copy of the
module), under a context made of the tool's own code, the settings, the rule
selection and the working folder. An entry is stored only when every file it
depends on was last changed ``RACY_NS`` or more before the run began: a file
saved while the run read it, or just before, could otherwise pair the report
of its old text with the state of its new one, or keep its time stamp through
a later change (the problem git calls "racily clean"). A file whose size, times
and inode are unchanged is taken as unchanged; one whose state changed is read
again, and a recent one is read on every run.

On top of it, ``TreeSnapshot`` keeps a whole run's report for a command line
that names folders, and answers a re-scan of an unchanged tree from time
stamps alone, before the tree is walked.

What the cache holds must neither leak nor lie:

- Contexts and file contents are kept as HMAC-SHA-256 under a random key made
  once per cache folder (``key``, mode 0600), never as plain hashes: the
  settings hold the proxy URL, and a file that ``fix`` wrote holds it too, so
  a plain hash would let anyone who can read the cache test guesses of the
  password. Reports are stored with credentials hidden.
- Every entry and snapshot is signed with the same key, over its canonical
  JSON, which names the folder (or the snapshot's command line) and the tool's
  version: an entry edited by hand, moved to another folder or another tool
  version, or a snapshot copied under another name is a miss, never a verdict.
- A cache folder that is not ours (owned by someone else, writable by anyone)
  or whose key is not ours is not used at all.

The cache is one JSON file per version of the tool in the user's cache folder
(``EKSPROXY_GEN_CACHE_DIR`` overrides it), and one per tree snapshot. It is
replaced atomically, so concurrent runs never read half a file; the last
writer wins, and every entry checks itself, so no run can serve a stale
verdict. Files of other versions and snapshots unused for ``KEEP_DAYS`` are
removed (looked for at most once a day); entries of folders unused that long
are dropped when the file is next written.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import stat
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import fsguard
from .policy.values import masked_data

CACHE_ENV = "EKSPROXY_GEN_CACHE_DIR"
FORMAT = 2
RACY_NS = 2_000_000_000
DAY_NS = 86_400 * 1_000_000_000
KEEP_DAYS = 30
KEY_NAME = "key"
PRUNED_NAME = "pruned"
_PACKAGE = Path(__file__).resolve().parent
_KEY_BYTES = 32
_POSIX = hasattr(os, "geteuid")


def cache_directory() -> Path:
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit)
    import platformdirs

    return Path(platformdirs.user_cache_dir("eksproxy-gen"))


@lru_cache(maxsize=1)
def tool_fingerprint() -> str:
    """The version of the tool's own code: every source and template file's name, size and time."""
    digest = hashlib.sha256(str(FORMAT).encode())
    for root, _dirs, files in os.walk(_PACKAGE, followlinks=True):
        for name in sorted(files):
            if name.endswith((".py", ".j2", ".json")):
                info = os.stat(os.path.join(root, name))
                digest.update(f"{root}/{name}:{info.st_size}:{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:20]


def context_key(*parts: object) -> str:
    """An identifier of what a report depends on besides files; the cache keeps only its HMAC, never this."""
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:32]


# --- the key -------------------------------------------------------------------------------------------------------


def install_key(directory: Path, warn: bool = True) -> bytes | None:
    """The cache folder's random key, made on first use; None when the folder or the key is not ours.

    The folder is made private (0700) when it is created. An existing folder
    must belong to this user and not be writable by everyone; the key must be
    a regular file of this user that nobody else can read. Otherwise the cache
    is not used, and (with ``warn``: the folder cache, which every run that
    reads files opens) the run says why.
    """
    why = _not_ours(directory)
    if why is None:
        path = directory / KEY_NAME
        if not os.path.lexists(path):
            _make_key(directory)
            if not os.path.lexists(path):
                return None  # the folder cannot be written: a slower run, nothing to say
        key = _read_key(path)
        if key is not None:
            _prune_daily(directory)
            return key
        why = f"its {KEY_NAME} file is not a private file of this user"
    if why and warn:
        print(f"eksproxy-gen: warning: not using the cache in {directory}: {why}", file=sys.stderr)
    return None


def _not_ours(directory: Path) -> str | None:
    """Why the folder cannot hold our cache ("" when it cannot even be made); None when it is ours."""
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=0o700)
        info = os.stat(directory)
    except OSError:
        return ""  # no cache folder can be made (a read-only home): a slower run, nothing to say
    if not stat.S_ISDIR(info.st_mode):
        return "it is not a folder"
    if not _mine(info):
        return "it belongs to another user"
    if _POSIX and info.st_mode & stat.S_IWOTH:
        return "everyone can write to it"
    return None


def _mine(info: os.stat_result) -> bool:
    """Owned by this user (where owners are POSIX user ids; elsewhere the system's permissions decide)."""
    return not _POSIX or info.st_uid == os.geteuid()


def _read_key(path: Path) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or not _mine(info) or (_POSIX and info.st_mode & 0o077):
            return None
        text = os.read(fd, 4 * _KEY_BYTES).decode("ascii").strip()
        key = bytes.fromhex(text)
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)
    return key if len(key) == _KEY_BYTES else None


def _make_key(directory: Path) -> None:
    """Write a new key: whole and private before it has its name, so concurrent runs agree on one key."""
    import secrets
    import tempfile

    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{KEY_NAME}-", dir=directory)  # mode 0600
    except OSError:
        return
    key = secrets.token_hex(_KEY_BYTES) + "\n"
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key)
        os.link(tmp, directory / KEY_NAME)  # fails if another run made one first: that one is used
    except FileExistsError:
        pass
    except OSError:  # a file system without hard links: create the name exclusively instead
        with contextlib.suppress(OSError):
            made = os.open(directory / KEY_NAME, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(made, "w", encoding="ascii") as handle:
                handle.write(key)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _mac(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def _canonical(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


# --- pruning -------------------------------------------------------------------------------------------------------


def _prune_daily(directory: Path) -> None:
    """At most once a day: remove other versions' files, snapshots unused for KEEP_DAYS, and stray temporary files."""
    marker = directory / PRUNED_NAME
    now = time.time_ns()
    with contextlib.suppress(OSError):
        if now - os.stat(marker).st_mtime_ns < DAY_NS:
            return
    current = tool_fingerprint()
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        path = directory / name
        try:
            info = os.lstat(path)
        except OSError:
            continue
        age = now - info.st_mtime_ns
        if name.startswith(("check-", "tree-")) and name.endswith(".json"):
            other_version = name.split("-")[1].removesuffix(".json") != current
            stale = other_version or (name.startswith("tree-") and age > KEEP_DAYS * DAY_NS)
        else:
            stale = name.startswith((".check-", ".tree-", f".{KEY_NAME}-")) and age > DAY_NS
        if stale:
            with contextlib.suppress(OSError):
                os.unlink(path)
    with contextlib.suppress(OSError):
        marker.touch()
        os.utime(marker, ns=(now, now))


# --- file states ---------------------------------------------------------------------------------------------------

MISSING = [0, 0, 0, 0]


def _stat(path: str) -> list[int]:
    try:
        info = os.stat(path)
    except OSError:
        return MISSING
    return [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]


def _content(key: bytes, path: str) -> str:
    """What a file's state is judged by: its HMAC, "dir" for a folder, "missing" when absent, "refused" when
    this run may not read it.

    It is read as the analysis reads files (fsguard): a dependency that has
    become a FIFO, a link to ``/dev/zero`` or a file outside this run's roots
    is never opened, waited on or read without bound; it differs from what was
    stored, so the entry is a miss and the analysis says why it is refused.
    """
    try:
        if os.path.isdir(path):
            return "dir"
        return hmac.new(key, fsguard.read_bytes(path), hashlib.sha256).hexdigest()
    except fsguard.Refused:
        return "refused"
    except OSError:
        return "missing"


def _changed_since(newest: int, *states: dict[str, list[Any]]) -> bool:
    """Whether a file was modified, or its inode changed (which no tool can backdate), at or after ``newest``."""
    return any(state[1] >= newest or state[2] >= newest for group in states for state in group.values())


# --- the folder cache ----------------------------------------------------------------------------------------------


@dataclass
class ResultCache:
    """Entries by folder; ``load`` and ``save`` touch the disk once each.

    On disk an entry is ``{"used": DAY, "data": CANONICAL_JSON, "sig": HMAC}``:
    the data is parsed only for the folders a run asks about, and the signature
    covers the day it was last used, so old entries can be dropped unparsed.
    ``clock`` is the time in nanoseconds (a caller may say when "now" is).
    """

    directory: Path
    clock: Callable[[], int] = time.time_ns
    opened_at: int = -1
    _stored: dict[str, dict[str, Any]] = field(default_factory=dict)
    _checked: dict[str, dict[str, Any]] = field(default_factory=dict)
    _key: bytes | None = None
    dirty: bool = False
    loaded: bool = False

    def __post_init__(self) -> None:
        if self.opened_at < 0:
            self.opened_at = self.clock()

    @property
    def file(self) -> Path:
        return self.directory / f"check-{tool_fingerprint()}.json"

    def _today(self) -> int:
        return self.clock() // DAY_NS

    def load(self) -> None:
        if self.loaded:
            return
        self.loaded = True
        self._key = install_key(self.directory)
        if self._key is None:
            return
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(self.file.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("format") == FORMAT and isinstance(data.get("entries"), dict):
                self._stored = data["entries"]

    def get(self, folder: Path, context: str, files: list[str]) -> dict[str, Any] | None:
        """The stored report of a folder, when its context and every file it depends on are unchanged."""
        self.load()
        if self._key is None:
            return None
        try:
            entry = self._verified(str(folder))
            if entry is None or not hmac.compare_digest(entry["context"], _mac(self._key, context)):
                return None
            return self._valid(str(folder), entry, files)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):  # a damaged entry is only a miss
            return None

    def _verified(self, folder: str) -> dict[str, Any] | None:
        """The entry's data, when its signature is ours and it describes this folder in this tool version."""
        assert self._key is not None
        stored = self._stored.get(folder)
        if not isinstance(stored, dict):
            return None
        used, text = stored["used"], stored["data"]
        if not isinstance(text, str) or not hmac.compare_digest(str(stored["sig"]), self._sign(folder, used, text)):
            return None
        entry: dict[str, Any] = json.loads(text)
        if entry["folder"] != folder or entry["fingerprint"] != tool_fingerprint():
            return None
        return entry

    def _sign(self, folder: str, used: int, text: str) -> str:
        assert self._key is not None
        return _mac(self._key, f"{folder}\0{used}\0{text}")

    def _valid(self, folder: str, entry: dict[str, Any], files: list[str]) -> dict[str, Any] | None:
        """The entry's report when no file it depends on changed; states that moved without a change are updated.

        A file whose state is as stored, and older than the window before the
        entry was stored, is unchanged; any other is judged by its content.
        Once every file is older than the window, the entry is stored anew so
        that time stamps alone answer again.
        """
        assert self._key is not None
        stored_at = entry["stored_at"]
        if list(entry["files"]) != files:
            return None
        racy = changed = False
        for name, state in (*entry["files"].items(), *entry["outside"].items()):
            now = _stat(name)
            if now == state[:4] and now[1] < stored_at - RACY_NS:
                continue
            if _content(self._key, name) != state[4]:
                return None
            racy = True
            if now != state[:4]:
                state[:4] = now
                changed = True
        if racy and (clock := self.clock()) - RACY_NS > max(s[1] for s in entry["files"].values()):
            entry["stored_at"] = clock
            changed = True
        self._keep(folder, entry, rewrite=changed)
        report: dict[str, Any] = entry["report"]
        return report

    def _keep(self, folder: str, entry: dict[str, Any], rewrite: bool) -> None:
        """Remember the entry as checked in this run; sign it again when it changed or was last used before today."""
        self._checked[folder] = entry
        today = self._today()
        previous = self._stored.get(folder)
        if rewrite or not isinstance(previous, dict) or previous.get("used") != today:
            text = _canonical(entry)
            self._stored[folder] = {"used": today, "data": text, "sig": self._sign(folder, today, text)}
            self.dirty = True

    def put(self, folder: Path, context: str, files: list[str], outside: set[Path],
            report: dict[str, Any]) -> None:
        stored_at = self.clock()
        self.load()
        key = self._key
        if key is None:
            return

        def states(paths: list[str]) -> dict[str, list[Any]]:
            return {p: [*_stat(p), _content(key, p)] for p in paths}

        file_states, outside_states = states(files), states(sorted(map(str, outside)))
        if _changed_since(self.opened_at - RACY_NS, file_states, outside_states):
            return
        entry = {"folder": str(folder), "fingerprint": tool_fingerprint(), "context": _mac(key, context),
                 "stored_at": stored_at, "files": file_states, "outside": outside_states, "report": masked_data(report)}
        self._keep(str(folder), entry, rewrite=True)

    def file_states(self, folder: Path | str) -> dict[str, list[int]] | None:
        """Size, times and inode of every file a folder's entry depends on, when this run checked or stored it."""
        entry = self._checked.get(str(folder))
        if entry is None:
            return None
        return {path: state[:4] for path, state in (*entry["files"].items(), *entry["outside"].items())}

    def save(self) -> None:
        """Replace the cache file atomically; a cache that cannot be written is only a slower next run.

        Entries of folders no run has asked about for ``KEEP_DAYS`` are dropped.
        """
        if not self.dirty:
            return
        oldest = self._today() - KEEP_DAYS
        kept = {folder: stored for folder, stored in self._stored.items()
                if isinstance(stored, dict) and isinstance(stored.get("used"), int) and stored["used"] >= oldest}
        _write_json(self.file, {"format": FORMAT, "entries": kept})
        self.dirty = False


def _write_json(target: Path, data: dict[str, Any]) -> None:
    """Replace ``target`` atomically, so concurrent runs never read half a file; one that cannot be written is not."""
    import tempfile

    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name.split('-')[0]}-", dir=target.parent)
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(tmp, target)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


# --- the tree snapshot ---------------------------------------------------------------------------------------------


@dataclass
class TreeSnapshot:
    """A whole run's report, reused while no folder listed, file read, or settings file looked for has changed.

    The per-folder cache still has to walk the tree, resolve settings and look
    at every folder; this answers an unchanged tree from time stamps alone.
    Folders are compared by time stamp (adding, removing or renaming a file
    changes it) and files by size, times and inode. Nothing whose time stamp
    falls within ``RACY_NS`` of the run's start is trusted, so a snapshot is
    only stored when everything it names is older than that; the next run
    after such a change stores one. ``key`` names the command line; the
    snapshot is signed over it, so a snapshot copied under another name is not
    read.
    """

    directory: Path
    key: str
    _secret: bytes | None = None
    _opened: bool = False

    def _install_key(self) -> bytes | None:
        if not self._opened:
            self._opened = True
            self._secret = install_key(self.directory, warn=False)  # the folder cache says why
        return self._secret

    @property
    def file(self) -> Path:
        secret = self._install_key()
        name = _mac(secret, self.key)[:32] if secret is not None else self.key
        return self.directory / f"tree-{tool_fingerprint()}-{name}.json"

    def get(self) -> dict[str, Any] | None:
        """The stored report, when every folder and file it names is as it was; None otherwise."""
        secret = self._install_key()
        if secret is None:
            return None
        try:
            stored = json.loads(self.file.read_text(encoding="utf-8"))
            if stored.get("format") != FORMAT:
                return None
            text = stored["data"]
            if not hmac.compare_digest(str(stored["sig"]), _mac(secret, text)):
                return None
            data = json.loads(text)
            if data["key"] != _mac(secret, self.key) or data["fingerprint"] != tool_fingerprint():
                return None
            for path, state in data["folders"].items():
                if _folder_stat(path) != state:
                    return None
            for path, state in data["files"].items():
                if _stat(path) != state:
                    return None
            report: dict[str, Any] = data["report"]
        except (OSError, ValueError, KeyError, TypeError, AttributeError):  # a damaged snapshot is only a miss
            return None
        self._used()
        return report

    def _used(self) -> None:
        """Mark the snapshot used today, so pruning keeps it (its time stamp moves at most once a day)."""
        with contextlib.suppress(OSError):
            if time.time_ns() - os.stat(self.file).st_mtime_ns > DAY_NS:
                os.utime(self.file)

    def put(self, started: int, folders: list[str], known: dict[str, list[int]], others: set[str],
            report: dict[str, Any]) -> None:
        """Store the run's report, unless something it depends on changed too recently to be trusted.

        ``known`` are file states this run already took (the folder cache's);
        ``others`` are looked at now.
        """
        secret = self._install_key()
        if secret is None:
            return
        newest = started - RACY_NS
        folder_states = {path: _folder_stat(path) for path in folders}
        file_states = {**known, **{path: _stat(path) for path in others if path not in known}}
        if any(s[0] >= newest or s[1] >= newest for s in folder_states.values()) or _changed_since(
                newest, file_states):
            return
        text = _canonical({"key": _mac(secret, self.key), "fingerprint": tool_fingerprint(), "folders": folder_states,
                           "files": file_states, "report": masked_data(report)})
        _write_json(self.file, {"format": FORMAT, "data": text, "sig": _mac(secret, text)})


def _folder_stat(path: str) -> list[int]:
    try:
        info = os.stat(path)
    except OSError:
        return MISSING
    return [info.st_mtime_ns, info.st_ctime_ns, info.st_ino]
