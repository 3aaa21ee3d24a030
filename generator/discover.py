"""Which files to read: Terraform files under the given paths, and which of them can call the EKS module.

A module's ``source`` must be a literal string, so a file whose bytes name no
terraform-aws-eks source (and no local path to a copy of it) cannot hold a
call of the module: such files are parsed only when another file refers to
one of their ``locals``. The test for that reads bytes and costs no parse.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from . import module_source

SUFFIXES = (".tf", ".tofu")
SKIP_DIRS = {".terraform", ".git", ".terragrunt-cache"}
_SOURCE = re.compile(rb'\bsource\s*=\s*"([^"\n]*)"')
_EKS_NAMES = (b"/eks/aws", b"terraform-aws-eks")


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


def folder_files(folder: Path) -> list[Path]:
    """The Terraform files of one folder (a Terraform module is one folder, not its subfolders)."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    return [folder / name for name in names if name.endswith(SUFFIXES) and (folder / name).is_file()]


def might_call_eks(raw: bytes, folder: Path) -> bool:
    """True unless the bytes prove the file holds no terraform-aws-eks module call."""
    if b"module" not in raw or b"source" not in raw:
        return False
    if any(name in raw for name in _EKS_NAMES):
        return True
    for match in _SOURCE.finditer(raw):
        source = match.group(1)
        if b"${" in source or b"\\" in source:
            return True
        local = source.startswith((b"./", b"../", b"/")) or source in (b".", b"..")
        if local and _local_is_eks(source.decode("utf-8", "replace"), str(folder)):
            return True
    return False


@lru_cache(maxsize=4096)
def _local_is_eks(source: str, folder: str) -> bool:
    return module_source.local_kind(source, Path(folder)) is not None
