"""The files a command reads, each with its settings, resolved before any file is read."""

from __future__ import annotations

from pathlib import Path

from ..config import ConfigResolver
from ..discover import terraform_files
from ..errors import UsageError
from ..policy.settings import Settings


def collect(paths: list[Path], resolver: ConfigResolver) -> list[tuple[Path, Settings]]:
    """All files with their settings, so bad settings stop the run before anything is read."""
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise UsageError(f"no such file or folder: {missing[0]}")
    return [(path, resolver.for_path(path)) for path in terraform_files(paths)]
