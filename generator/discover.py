"""Which files to read: Terraform files under the given paths, in a stable order."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

SUFFIXES = (".tf", ".tofu")
SKIP_DIRS = {".terraform", ".git", ".terragrunt-cache"}


def terraform_files(paths: list[Path]) -> Iterator[Path]:
    """Files given directly are taken as they are; folders are walked, skipping ``.terraform/``."""
    seen: set[Path] = set()
    for path in paths:
        for found in _walk(path):
            key = found.resolve()
            if key not in seen:
                seen.add(key)
                yield found


def _walk(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
        return
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(files):
            if name.endswith(SUFFIXES):
                yield Path(root) / name
