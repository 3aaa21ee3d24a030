"""Replacing a file's bytes without harming it: its owner, group, mode, links, attributes, and anyone's later edit.

``fix`` rewrites files in repositories it may run in as root, in CI, or in a
shared checkout, so a write must leave everything but the bytes as it was:

- **atomic replace** (a temporary file in the same folder, fsync, the
  original's mode and group, then a rename) when that keeps everything: the
  file is ours, has one name (no hard link to split), carries no extended
  attributes or ACLs (a new file would not), and its group is one we may set;
- otherwise **in place**, when we may write the file: a temporary copy of the
  new bytes is written first, so a full disk fails before the original is
  touched, then the file itself is overwritten and truncated;
- otherwise the file is **refused**, with the reason.

Between comparing the file with what was read and replacing it, someone may
save an edit. On Linux the replacement is a ``renameat2(RENAME_EXCHANGE)``:
the file swapped out is inspected, and if it is not the one compared (another
inode, or other bytes) it is swapped back and the file refused. Elsewhere the
file is compared again just before the rename.

A folder's files are written all or none (``replace_all``), and Ctrl-C or
SIGTERM waits until they are (``uninterrupted``), so a stopped run never
leaves a folder half fixed or a temporary file behind.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from . import fsguard

TEMP_SUFFIX = ".eksproxy-gen"
CHANGED = "file changed on disk while eksproxy-gen was running; not rewritten"
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_UNSUPPORTED = {errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV}


class WriteError(Exception):
    pass


class FolderNotWritten(WriteError):
    """One file of a folder could not be written; the folder's files written before it were put back.

    ``not_restored`` names any that could not be put back, with why.
    """

    def __init__(self, path: Path, why: str, not_restored: list[tuple[Path, str]]) -> None:
        super().__init__(why)
        self.path = path
        self.why = why
        self.not_restored = not_restored


@dataclass(frozen=True)
class Replaced:
    """A file this run rewrote: enough to put it back."""

    path: Path
    old: bytes
    new: bytes


def write_target(path: Path) -> Path:
    """The file to replace (a symbolic link's target, so the link stays a link); WriteError when refused."""
    try:
        return Path(fsguard.write_target(path))
    except fsguard.Refused as exc:
        raise WriteError(f"{exc.message}; not rewritten") from None


def replace(path: Path, data: bytes, expected: bytes) -> Replaced:
    """Rewrite one file, keeping everything about it but its bytes; WriteError says why not."""
    target = str(write_target(path))
    try:
        info = os.lstat(target)
        if _bytes(target, len(expected)) != expected:
            raise WriteError(CHANGED)
        _permitted(target, info)
        if _replaceable(target, info):
            _swap(target, info, data, expected)
        else:
            _in_place(target, info, data, expected)
    except fsguard.Refused as exc:
        raise WriteError(f"{exc.message}; not rewritten") from None
    except OSError as exc:
        raise WriteError(f"cannot write: {exc.strerror or exc}") from None
    return Replaced(path, expected, data)


def replace_all(writes: list[tuple[Path, bytes, bytes]]) -> list[Replaced]:
    """Rewrite every file or none: when one cannot be written, those written before it are put back."""
    done: list[Replaced] = []
    for path, data, expected in writes:
        try:
            done.append(replace(path, data, expected))
        except WriteError as exc:
            not_restored: list[tuple[Path, str]] = []
            for written in reversed(done):
                try:
                    replace(written.path, written.old, written.new)
                except WriteError as again:
                    not_restored.append((written.path, str(again)))
            raise FolderNotWritten(path, str(exc), not_restored) from None
    return done


@contextlib.contextmanager
def uninterrupted() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block ends, then deliver the first one as it would have been.

    Only the main thread can handle signals; elsewhere the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def hold(signum: int, _frame: FrameType | None) -> None:
        caught.append(signum)

    previous: dict[int, Callable[[int, FrameType | None], Any] | int] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        handler = signal.signal(sig, hold)
        previous[sig] = handler if handler is not None else signal.SIG_DFL
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if caught:
            signal.raise_signal(caught[0])


def _permitted(target: str, info: os.stat_result) -> None:
    if not info.st_mode & 0o222:
        raise WriteError("the file is read-only; not rewritten (make it writable, or run fix --diff)")
    if not os.access(target, os.W_OK):
        raise WriteError(f"you may not write it (it belongs to uid {info.st_uid}, mode "
                         f"{stat.filemode(info.st_mode)}); not rewritten")


def _replaceable(target: str, info: os.stat_result) -> bool:
    """Whether a new file renamed over the old one keeps everything the old one had."""
    return (info.st_uid == os.geteuid() and info.st_nlink == 1 and _attributes(target) is False
            and _may_set_group(info.st_gid) and os.access(os.path.dirname(target), os.W_OK | os.X_OK))


def _attributes(target: str) -> bool | None:
    """Whether the file carries extended attributes (ACLs are some); None where that cannot be told."""
    try:
        return bool(os.listxattr(target, follow_symlinks=False))
    except AttributeError:  # no xattr calls on this system: assume there may be some
        return None
    except OSError as exc:
        return False if exc.errno in (errno.ENOTSUP, errno.EOPNOTSUPP) else None


def _may_set_group(gid: int) -> bool:
    return os.geteuid() == 0 or gid == os.getegid() or gid in os.getgroups()


def _swap(target: str, info: os.stat_result, data: bytes, expected: bytes) -> None:
    folder, name = os.path.split(target)
    fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=TEMP_SUFFIX, dir=folder)
    fsguard.hold_temporary(temporary)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if os.fstat(handle.fileno()).st_gid != info.st_gid:
                os.fchown(handle.fileno(), -1, info.st_gid)
            os.fchmod(handle.fileno(), stat.S_IMODE(info.st_mode))
            os.fsync(handle.fileno())
        if _exchange(temporary, target):
            if not _same(temporary, info, expected):
                _exchange(temporary, target)  # theirs goes back where it was
                raise WriteError(CHANGED)
        else:
            if not _same(target, info, expected):
                raise WriteError(CHANGED)
            os.replace(temporary, target)
    finally:
        _discard(temporary)


def _in_place(target: str, info: os.stat_result, data: bytes, expected: bytes) -> None:
    """Overwrite the file itself (owner, group, mode, links and attributes stay), after proving there is room."""
    _room_for(os.path.dirname(target), data)
    fd = os.open(target, os.O_RDWR | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        now = os.fstat(fd)
        if (now.st_dev, now.st_ino) != (info.st_dev, info.st_ino) or _read_fd(fd, len(expected)) != expected:
            raise WriteError(CHANGED)
        try:
            _write_fd(fd, data)
        except OSError:
            with contextlib.suppress(OSError):
                _write_fd(fd, expected)
            raise
    finally:
        os.close(fd)


def _room_for(folder: str, data: bytes) -> None:
    """Write the new bytes to a temporary file and delete it: a full disk fails here, before the file is touched."""
    try:
        fd, temporary = tempfile.mkstemp(prefix=".eksproxy-gen.", suffix=TEMP_SUFFIX, dir=folder)
    except OSError:  # the folder is not ours to write in: the same disk cannot be tried
        fd, temporary = tempfile.mkstemp(prefix="eksproxy-gen.", suffix=TEMP_SUFFIX)
    fsguard.hold_temporary(temporary)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    finally:
        _discard(temporary)


def _write_fd(fd: int, data: bytes) -> None:
    os.lseek(fd, 0, os.SEEK_SET)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os.ftruncate(fd, len(data))
    os.fsync(fd)


def _read_fd(fd: int, expected_size: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks: list[bytes] = []
    total = 0
    while total <= expected_size:
        chunk = os.read(fd, expected_size + 1 - total)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _bytes(path: str, expected_size: int) -> bytes:
    """A file's bytes, up to one more than expected (enough to tell it differs), never following a link."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        return _read_fd(fd, expected_size)
    finally:
        os.close(fd)


def _same(path: str, info: os.stat_result, expected: bytes) -> bool:
    """Whether ``path`` is still the file compared: the same inode, holding the same bytes."""
    try:
        now = os.lstat(path)
        return (now.st_dev, now.st_ino) == (info.st_dev, info.st_ino) and _bytes(path, len(expected)) == expected
    except OSError:
        return False


def _exchange(first: str, second: str) -> bool:
    """Swap two names atomically (Linux renameat2 RENAME_EXCHANGE); False where the system cannot."""
    call = _renameat2()
    if call is None:
        return False
    import ctypes

    if call(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    error = ctypes.get_errno()
    if error in _UNSUPPORTED:
        return False
    raise OSError(error, os.strerror(error), second)


@functools.lru_cache(maxsize=1)
def _renameat2() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes
    import ctypes.util

    try:
        function = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True).renameat2
    except (OSError, AttributeError):  # no libc of that name, or one older than glibc 2.28
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    call: Callable[..., int] = function
    return call


def _discard(temporary: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temporary)
    fsguard.release_temporary(temporary)
