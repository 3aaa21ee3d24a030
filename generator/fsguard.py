"""May eksproxy-gen read or write this path? The one place that answers, for every file the tool touches.

eksproxy-gen runs on pull requests: in pre-commit, in CI with write tokens, as
root in containers. What it reads and writes is named by the files of the
change itself (``file("${path.module}/../x")``, a committed symbolic link, a
FIFO left in the tree), so every path is judged by where it really is
(``os.path.realpath``), not by how it is spelt. A path is allowed when it lies
under one of the *roots* and outside any ``.git`` folder, and is a regular
file (never a device, FIFO or socket, which can hang a read or never end it).
The roots are the paths given on the command line, as formatters treat them:

- a folder given is a root;
- a file given makes the current folder a root when the file is under it
  (pre-commit runs hooks from the repository root with relative names), and
  otherwise the file's own folder;
- no path given means the current folder.

Everything else is refused with a ``Refused`` error whose message names the
path as it was written and says why, so the caller reports it in one line.
Reads are bounded (``limits.file_limit``). This module also keeps the list of
files a run rewrote and the temporary files it holds, so an interrupted run
can say what it changed and leave nothing behind.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from .limits import file_limit, size_text

GIT = ".git"
_GIT_PART = os.sep + GIT + os.sep
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) \
    | getattr(os, "O_NOCTTY", 0)
_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


class Refused(OSError):
    """A path eksproxy-gen will not read or write; ``reason`` completes "PATH is ...", ``short`` in few words."""

    def __init__(self, shown: str, reason: str, short: str = "") -> None:
        super().__init__(errno.EPERM, reason)
        self.shown = shown
        self.reason = reason
        self.short = short or reason.split(", ")[-1]

    @property
    def message(self) -> str:
        """What a report says on the file's own line: ``is REASON``."""
        return f"is {self.reason}"

    def __str__(self) -> str:
        return f"{self.shown} is {self.reason}"


_roots: tuple[str, ...] | None = None
_real_folders: dict[str, str] = {}
_rewritten: list[str] = []
_temporary: set[str] = set()


def configure(paths: Iterable[Path]) -> None:
    """Set the roots of this run from the paths given on the command line (see the module's docstring)."""
    global _roots
    cwd = os.getcwd()
    found: list[str] = []
    for path in list(paths) or [Path(".")]:
        absolute = os.path.abspath(path)
        if os.path.isdir(absolute):
            found.append(os.path.realpath(absolute))
        elif _inside(absolute, cwd):
            found.append(os.path.realpath(cwd))
        else:
            found.append(os.path.realpath(os.path.dirname(absolute)))
    _roots = tuple(dict.fromkeys(found))
    _real_folders.clear()
    _rewritten.clear()


def reset() -> None:
    """Back to the default root (the current folder), as for a caller that never configured any."""
    global _roots
    _roots = None
    _real_folders.clear()
    _rewritten.clear()


def roots() -> tuple[str, ...]:
    """This run's roots, real paths; the current folder when none were configured."""
    return _roots if _roots is not None else (os.path.realpath(os.getcwd()),)


def root_of(path: str | Path) -> str | None:
    """The root a path lies under (by its real path), or None."""
    real = _real(str(path))
    return next((root for root in roots() if _inside(real, root)), None)


def outermost_root(path: str | Path) -> str | None:
    """The widest root a path lies under (by its real path), or None."""
    real = _real(str(path))
    found = [root for root in roots() if _inside(real, root)]
    return min(found, key=len) if found else None


def inside(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or below it (both spelt alike: real or absolute)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


_inside = inside


def _located(path: str) -> str:
    """The path with its folder resolved (once per run per folder, as spelt); its last component as it is.

    The memo is keyed by the folder as written, so it belongs to one run in one
    working folder: ``configure`` and ``reset`` clear it.
    """
    folder, name = os.path.split(path)
    if name in ("", ".", ".."):
        folder, name = os.path.split(os.path.abspath(path))
    real = _real_folders.get(folder)
    if real is None:
        real = _real_folders[folder] = _real_folder(os.path.abspath(folder or os.curdir))
    return os.path.join(real, name)


def _real_folder(folder: str) -> str:
    """A folder's real path, from its parent's (remembered): one lstat per folder instead of one per component."""
    found = _real_folders.get(folder)
    if found is None:
        parent, name = os.path.split(folder)
        if not name or parent == folder or os.path.islink(folder):
            found = os.path.realpath(folder)
        else:
            found = os.path.join(_real_folder(parent), name)
        _real_folders[folder] = found
    return found


def _real(path: str) -> str:
    """The real path: the folder resolved once per run, the file's own link every time."""
    located = _located(path)
    return os.path.realpath(located) if os.path.islink(located) else located


def check(path: str | Path, within: Iterable[str] | None = None, outside: str = "outside the paths given") -> str:
    """The real path of ``path`` when it may be read or written; Refused otherwise.

    ``within`` replaces this run's roots (settings files are looked for up to
    the repository's root, above the paths given), and ``outside`` names them.
    """
    shown = str(path)
    return _judged(shown, _real(shown), within, outside)


def _judged(shown: str, real: str, within: Iterable[str] | None, outside: str) -> str:
    allowed = tuple(within) if within is not None else roots()
    root = next((r for r in allowed if _inside(real, r)), None)
    if root is not None and _GIT_PART not in os.sep + real[len(root):].lstrip(os.sep) + os.sep:
        return real
    if os.path.islink(shown):
        via = f"a symbolic link to {os.readlink(shown)}, "
    elif real != os.path.abspath(shown):
        via = f"really {real} (a folder on the way is a symbolic link), "
    else:
        via = ""
    raise Refused(shown, f"{via}{outside}" if root is None else f"{via}inside {GIT}")


def kind(mode: int) -> str | None:
    """What a file that is not a regular file is, for a message; None for a regular file."""
    return next((name for test, name in _KINDS if test(mode)), None if stat.S_ISREG(mode) else "a special file")


def read_bytes(path: str | Path, within: Iterable[str] | None = None, outside: str = "outside the paths given"
               ) -> bytes:
    """A file's bytes, when it is allowed (see check), a regular file, and no larger than the limit.

    Where it lies is judged before it is opened. It is opened without following
    a last link (a link is judged by its target, then that is opened) and
    without blocking, and judged once open by what it is, so a FIFO or a device
    is refused, never waited on, and a plain file costs no more system calls
    than an ordinary read.
    """
    shown = str(path)
    limit = file_limit()
    real = _judged(shown, _located(shown), within, outside)
    try:
        fd = os.open(real, _OPEN_FLAGS)
    except OSError as exc:
        if exc.errno not in (errno.ELOOP, errno.EMLINK):
            raise
        real = _judged(shown, os.path.realpath(real), within, outside)  # a link: judged by its target
        try:
            fd = os.open(real, _OPEN_FLAGS)
        except OSError as again:
            if again.errno in (errno.ELOOP, errno.EMLINK):
                raise Refused(shown, "a symbolic link that changed while eksproxy-gen read it") from None
            raise
    try:
        info = os.fstat(fd)
        _regular(shown, info.st_mode)
        _bounded(shown, info.st_size, limit)
        chunks: list[bytes] = []
        total = 0
        want = min(info.st_size + 1, limit + 1)
        while True:
            chunk = os.read(fd, want)
            chunks.append(chunk)
            total += len(chunk)
            _bounded(shown, total, limit)
            if len(chunk) < want:  # a short read of a regular file is its end
                break
            want = min(1 << 16, limit + 1 - total)
    finally:
        os.close(fd)
    return b"".join(chunks)


def _regular(shown: str, mode: int) -> None:
    what = kind(mode)
    if what is not None:
        raise Refused(shown, f"{what}, not a regular file", "not a regular file")


def _bounded(shown: str, size: int, limit: int) -> None:
    if size > limit:
        raise Refused(shown, f"larger than {size_text(limit)}, the most eksproxy-gen reads of one file "
                             f"(EKSPROXY_GEN_MAX_FILE_BYTES raises it)", f"larger than {size_text(limit)}")


def trackable(path: str | Path) -> bool:
    """Whether the content of a path may be looked at later (to tell whether it changed) without harm.

    That is a path allowed (see check) that is absent, a folder, or a regular
    file within the size limit: never a FIFO, a device or a file outside.
    """
    try:
        info = os.stat(check(path))
    except Refused:
        return False
    except OSError:
        return True
    return stat.S_ISDIR(info.st_mode) or (stat.S_ISREG(info.st_mode) and info.st_size <= file_limit())


def write_target(path: str | Path) -> str:
    """The real file to rewrite for ``path``: allowed (see check) and a regular file; Refused otherwise.

    A symbolic link inside the roots is rewritten at its target, so the link stays a link.
    """
    shown = str(path)
    real = check(path)
    _regular(shown, os.lstat(real).st_mode)
    return real


def report_target(path: str | Path) -> str:
    """Where a report file (``-o FILE``) may be written: the absolute path, or Refused.

    Below the current folder (the repository, where a pull request can commit
    links) it is never written through a symbolic link, neither as its last
    component nor as a folder on the way, nor into ``.git``. A path outside
    the current folder is the user's own to name (``/dev/stdout``, a runner's
    temporary folder).
    """
    shown = str(path)
    absolute = os.path.abspath(path)
    cwd = os.getcwd()
    if not _inside(absolute, cwd) or absolute == cwd:
        return absolute
    parts = absolute[len(cwd):].strip(os.sep).split(os.sep)
    if GIT in parts:
        raise Refused(shown, f"inside {GIT}")
    current = cwd
    for part in parts:
        current = os.path.join(current, part)
        if os.path.islink(current):
            where = "" if current == absolute else f" (through {os.path.relpath(current, cwd)})"
            raise Refused(shown, f"a symbolic link to {os.readlink(current)}{where}; report files are not "
                                 "written through links in the repository")
    return absolute


def note_rewritten(shown: str) -> None:
    """Remember a file this run rewrote (and kept), for a run that is interrupted to list."""
    _rewritten.append(shown)


def forget_rewritten(shown: str) -> None:
    """A file put back as it was (its folder could not be written whole)."""
    if shown in _rewritten:
        _rewritten.remove(shown)


def rewritten() -> list[str]:
    return list(_rewritten)


def hold_temporary(name: str) -> None:
    """A temporary file this run made; it is removed when the run ends, however it ends."""
    _temporary.add(name)


def release_temporary(name: str) -> None:
    _temporary.discard(name)


def remove_temporaries() -> None:
    """Delete every temporary file still held (an interrupted write leaves none in the repository)."""
    for name in list(_temporary):
        try:
            os.unlink(name)
        except FileNotFoundError:
            pass
        except OSError:
            continue
        _temporary.discard(name)
