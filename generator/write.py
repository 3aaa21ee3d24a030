"""Atomic replacement of a file's bytes that never clobbers a concurrent change."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


class WriteError(Exception):
    pass


def write_target(path: Path, roots: tuple[Path, ...] = ()) -> Path:
    """The file to replace: a symlink's target, so the link stays a link; refused when it leaves the roots."""
    if not path.is_symlink():
        return path
    target = path.resolve()
    allowed = [r.resolve() if r.is_dir() else r.resolve().parent for r in roots]
    if roots and not any(target == root or root in target.parents for root in allowed):
        raise WriteError(f"is a symbolic link to {target}, outside the paths given; not rewritten "
                         "(run eksproxy-gen on the target instead)")
    return target


def atomic_write(path: Path, data: bytes, expected: bytes, roots: tuple[Path, ...] = ()) -> None:
    """Write ``data`` via a temporary file in the same folder and rename it over ``path``.

    Refuses when the file no longer holds ``expected`` (someone edited it
    since it was read); keeps the file's permission bits and, where allowed,
    its owner. A symbolic link is followed to its target (see write_target).
    """
    path = write_target(path, roots)
    try:
        if path.read_bytes() != expected:
            raise WriteError("file changed on disk while eksproxy-gen was running; not rewritten")
        info = path.stat()
        if not info.st_mode & 0o222:
            raise WriteError("the file is read-only; not rewritten (make it writable, or run fix --diff)")
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".eksproxy-gen", dir=path.parent)
    except OSError as exc:
        raise WriteError(f"cannot write: {exc.strerror or exc}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, info.st_mode & 0o7777)
        with contextlib.suppress(OSError):
            os.chown(tmp, info.st_uid, info.st_gid)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise WriteError(f"cannot write: {exc.strerror or exc}") from None
