"""Named files stand for their whole folder: what pre-commit stages is not all that a change affects.

A Terraform module is a folder: a ``local`` in ``variables.tf`` decides what
the groups of ``eks.tf`` get, and a template read with ``file()`` is part of
the group that reads it. A hook given only ``variables.tf`` must not pass
while ``eks.tf`` next to it is wrong, so every Terraform file (``*.tf``,
``*.tofu``) of a named file's folder is read and reported as if it had been
named too. Folders below it are not (they are other modules).

Any other named file (a ``templates/proxy.yaml.tftpl``, a script, a JSON
document a ``file()`` reads) stands for the nearest folder above it, up to
the current folder, that holds Terraform: the configuration that can read it.
Judged alone it would pass as "0 findings in 1 file" while the groups that
read it break. Such a file is not judged itself unless it is YAML (a node
class manifest); one with no Terraform folder above it is left out, since
no configuration reads it (``file()`` is read under ``path.module``).

pre-commit names every staged file, so ``exclude`` (and the rule that a
vendored terraform-aws-eks's examples and tests are not the user's code)
covers named files too, as ruff's ``force-exclude`` does; a sibling git
ignores stays out as well. Folders named on the command line are read
whatever those say.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..config import CONFIG_NAME
from ..discover import JSON_SUFFIXES, SUFFIXES, YAML_SUFFIXES
from ..walk_filter import WalkFilter


def widened(paths: list[Path], walk: WalkFilter) -> list[Path]:
    """The paths given, each named file followed by the other Terraform files of the folder it belongs to."""
    out: list[Path] = []
    for path in paths:
        named_file = path.name != CONFIG_NAME and path.is_file()
        if named_file and walk.named_left_out(path):
            continue
        if not named_file:
            out.append(path)
            continue
        terraform = path.name.endswith((*SUFFIXES, *JSON_SUFFIXES))
        if terraform or path.name.endswith(YAML_SUFFIXES):
            out.append(path)
        folder = path.parent if terraform else _terraform_folder(path)
        if folder is None:
            continue  # no Terraform can read it with a path under its path.module
        for name in _terraform_names(folder):
            sibling = folder / name
            if sibling != path and not walk.named_left_out(sibling) and not walk(str(sibling), False, str(folder)):
                out.append(sibling)
    return out


def _terraform_folder(path: Path) -> Path | None:
    """The nearest folder above a non-Terraform file, its own first and up to the current folder, that holds
    Terraform files; None when there is none (or the file lies outside the current folder)."""
    folder = path.parent
    here = Path.cwd().resolve()
    while True:
        if _terraform_names(folder):
            return folder
        try:
            at_top = folder.resolve() == here or not folder.resolve().is_relative_to(here)
        except OSError:
            return None
        if at_top or folder.parent == folder:
            return None
        folder = folder.parent


def _terraform_names(folder: Path) -> list[str]:
    try:
        with os.scandir(folder) as entries:
            return sorted(e.name for e in entries if e.name.endswith(SUFFIXES) and e.is_file())
    except OSError:
        return []
