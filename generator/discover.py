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


def terraform_files(paths: list[Path], json_files: list[Path] | None = None) -> Iterator[Path]:
    """Files given directly are taken as they are; folders are walked, skipping ``.terraform/``.

    A file reached twice (named twice, or through a symbolic link) is read once.
    ``json_files`` collects the ``.tf.json`` files met, which are not read.
    """
    seen: set[tuple[int, int]] = set()
    for path in paths:
        for found, key in _walk(path, json_files):
            if key not in seen:
                seen.add(key)
                yield found


def _identity(stat: os.stat_result) -> tuple[int, int]:
    return stat.st_dev, stat.st_ino


def _walk(path: Path, json_files: list[Path] | None) -> Iterator[tuple[Path, tuple[int, int]]]:
    if not path.is_dir():
        try:
            yield path, _identity(path.stat())
        except OSError:
            yield path, (-1, hash(str(path)))
        return
    stack = [str(path)]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        subfolders: list[str] = []
        for entry in entries:
            try:
                if entry.is_dir():
                    if entry.name not in SKIP_DIRS:
                        subfolders.append(entry.path)
                elif entry.name.endswith(".tf.json") and json_files is not None:
                    json_files.append(Path(entry.path))
                elif entry.name.endswith(SUFFIXES):
                    try:
                        key = _identity(entry.stat())
                    except OSError:
                        key = (-1, hash(entry.path))
                    yield Path(entry.path), key
            except OSError:
                continue
        stack.extend(reversed(subfolders))


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


def outside_dependencies(folder: Path, contents: list[bytes]) -> set[Path]:
    """Paths outside the folder's own files that decide whether its module calls are terraform-aws-eks.

    A local source is a copy of the module when its folder holds ``node_groups.tf``
    and ``modules/eks-managed-node-group`` (and ``variables.tf`` tells its version);
    the folder itself is such a copy, or a submodule of one, by the same marks.
    A cached verdict stays valid only while these do not change.
    """
    found: set[Path] = set()
    roots = [folder, folder.parent.parent]
    for raw in contents:
        for match in _SOURCE.finditer(raw):
            source = match.group(1).decode("utf-8", "replace")
            if source.startswith(("./", "../", "/")) or source in {".", ".."}:
                target = folder / source.partition("//")[0]
                roots += [target, target.parent.parent]
    for root in roots:
        found |= {root / "node_groups.tf", root / "variables.tf", root / "modules" / "eks-managed-node-group"}
    return found
