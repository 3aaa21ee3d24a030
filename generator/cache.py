"""A result cache for ``check``: a folder's report is reused while nothing it was computed from has changed.

A folder's entry holds its report and the state of everything the report
depends on: the content (SHA-256) of every Terraform file of the folder and of
every file outside it that was read or looked for (templates, a local copy of
the module), under a context made of the tool's own code, the settings, the
rule selection and the working folder. An entry is stored only when every
file it depends on was last changed ``RACY_NS`` or more before the run began:
a file saved while the run read it, or just before, could otherwise pair the
report of its old text with the state of its new one, or keep its time stamp
through a later change (the problem git calls "racily clean"). A file whose
size, times and inode are unchanged is taken as unchanged; one whose state
changed is hashed again, and a recent one is hashed on every run.

On top of it, ``TreeSnapshot`` keeps a whole run's report for a command line
that names folders, and answers a re-scan of an unchanged tree from time
stamps alone, before the tree is walked.

The cache is one JSON file per version of the tool in the user's cache folder
(``EKSPROXY_GEN_CACHE_DIR`` overrides it), and one per tree snapshot. It is replaced atomically, so
concurrent runs never read half a file; the last writer wins, and every entry
checks itself, so no run can serve a stale verdict.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

CACHE_ENV = "EKSPROXY_GEN_CACHE_DIR"
FORMAT = 1
RACY_NS = 2_000_000_000
_PACKAGE = Path(__file__).resolve().parent


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


MISSING = [0, 0, 0, 0]


def _stat(path: str) -> list[int]:
    try:
        info = os.stat(path)
    except OSError:
        return MISSING
    return [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]


def _content(path: str) -> str:
    """What a file's state is judged by: its SHA-256, "dir" for a folder, "missing" when absent."""
    try:
        if os.path.isdir(path):
            return "dir"
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return "missing"


@dataclass
class ResultCache:
    """Entries by folder; ``load`` and ``save`` touch the disk once each."""

    directory: Path
    opened_at: int = field(default_factory=time.time_ns)
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    dirty: bool = False
    loaded: bool = False

    @property
    def file(self) -> Path:
        return self.directory / f"check-{tool_fingerprint()}.json"

    def load(self) -> None:
        if self.loaded:
            return
        self.loaded = True
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(self.file.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("format") == FORMAT and isinstance(data.get("entries"), dict):
                self.entries = data["entries"]

    def get(self, folder: Path, context: str, files: list[str]) -> dict[str, Any] | None:
        """The stored report of a folder, when its context and every file it depends on are unchanged."""
        self.load()
        try:
            return self._valid(self.entries.get(str(folder)), context, files)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):  # a damaged entry is only a miss
            return None

    def _valid(self, entry: dict[str, Any] | None, context: str, files: list[str]) -> dict[str, Any] | None:
        if entry is None or entry["context"] != context or list(entry["files"]) != files:
            return None
        stored_at = entry["stored_at"]
        racy = False
        for name, state in (*entry["files"].items(), *entry["outside"].items()):
            verdict = self._unchanged(name, state, stored_at)
            if verdict is None:
                return None
            racy |= verdict
        if racy and (now := time.time_ns()) - RACY_NS > max(s[1] for s in entry["files"].values()):
            entry["stored_at"] = now
            self.dirty = True
        report: dict[str, Any] = entry["report"]
        return report

    def _unchanged(self, path: str, state: list[Any], stored_at: int) -> bool | None:
        """False when unchanged, True when unchanged but only its content could tell, None when changed."""
        now = _stat(path)
        racy = now[1] >= stored_at - RACY_NS
        if now == state[:4] and not racy:
            return False
        if _content(path) != state[4]:
            return None
        if now != state[:4]:
            state[:4] = now
            self.dirty = True
        return True

    def put(self, folder: Path, context: str, files: list[str], outside: set[Path],
            report: dict[str, Any]) -> None:
        stored_at = time.time_ns()

        def states(paths: list[str]) -> dict[str, list[Any]]:
            return {p: [*_stat(p), _content(p)] for p in paths}

        file_states, outside_states = states(files), states(sorted(map(str, outside)))
        if _changed_since(self.opened_at - RACY_NS, file_states, outside_states):
            return
        self.load()
        self.entries[str(folder)] = {"context": context, "stored_at": stored_at, "files": file_states,
                                     "outside": outside_states, "report": report}
        self.dirty = True

    def save(self) -> None:
        """Replace the cache file atomically; a cache that cannot be written is only a slower next run."""
        if not self.dirty:
            return
        _write_json(self.file, {"format": FORMAT, "entries": self.entries})
        self.dirty = False


def _changed_since(newest: int, *states: dict[str, list[Any]]) -> bool:
    """Whether a file was modified, or its inode changed (which no tool can backdate), at or after ``newest``."""
    return any(state[1] >= newest or state[2] >= newest for group in states for state in group.values())


def _write_json(target: Path, data: dict[str, Any]) -> None:
    """Replace ``target`` atomically, so concurrent runs never read half a file; one that cannot be written is not."""
    import tempfile

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
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


def context_key(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:32]


@dataclass
class TreeSnapshot:
    """A whole run's report, reused while no folder listed, file read, or settings file looked for has changed.

    The per-folder cache still has to walk the tree, resolve settings and look
    at every folder; this answers an unchanged tree from time stamps alone.
    Folders are compared by time stamp (adding, removing or renaming a file
    changes it) and files by size, times and inode. Nothing whose time stamp
    falls within ``RACY_NS`` of the run's start is trusted, so a snapshot is
    only stored when everything it names is older than that; the next run
    after such a change stores one.
    """

    directory: Path
    key: str

    @property
    def file(self) -> Path:
        return self.directory / f"tree-{tool_fingerprint()}-{self.key}.json"

    def get(self) -> dict[str, Any] | None:
        """The stored report, when every folder and file it names is as it was; None otherwise."""
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
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
        return report

    def put(self, started: int, folders: list[str], known: dict[str, list[int]], others: set[str],
            report: dict[str, Any]) -> None:
        """Store the run's report, unless something it depends on changed too recently to be trusted.

        ``known`` are file states this run already took (the folder cache's);
        ``others`` are looked at now.
        """
        newest = started - RACY_NS
        folder_states = {path: _folder_stat(path) for path in folders}
        file_states = {**known, **{path: _stat(path) for path in others if path not in known}}
        if any(s[0] >= newest or s[1] >= newest for s in folder_states.values()) or _changed_since(
                newest, file_states):
            return
        _write_json(self.file, {"format": FORMAT, "folders": folder_states, "files": file_states, "report": report})


def _folder_stat(path: str) -> list[int]:
    try:
        info = os.stat(path)
    except OSError:
        return MISSING
    return [info.st_mtime_ns, info.st_ctime_ns, info.st_ino]
