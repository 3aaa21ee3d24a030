"""Named files stand for their whole folder: what pre-commit stages is not all that a change affects.

A Terraform module is a folder: a ``local`` in ``variables.tf`` decides what
the groups of ``eks.tf`` get, and a template read with ``file()`` is part of
the group that reads it. A hook given only ``variables.tf`` must not pass
while ``eks.tf`` next to it is wrong, so every Terraform file (``*.tf``,
``*.tofu``) of a named file's folder is read and reported as if it had been
named too. Folders below it are not (they are other modules).

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
from ..discover import SUFFIXES
from ..walk_filter import WalkFilter


def widened(paths: list[Path], walk: WalkFilter) -> list[Path]:
    """The paths given, each named file followed by the other Terraform files of its folder."""
    out: list[Path] = []
    for path in paths:
        named_file = path.name != CONFIG_NAME and path.is_file()
        if named_file and walk.named_left_out(path):
            continue
        out.append(path)
        if not named_file:
            continue
        folder = path.parent
        for name in _terraform_names(folder):
            sibling = folder / name
            if name != path.name and not walk.named_left_out(sibling) and not walk(str(sibling), False, str(folder)):
                out.append(sibling)
    return out


def _terraform_names(folder: Path) -> list[str]:
    try:
        with os.scandir(folder) as entries:
            return sorted(e.name for e in entries if e.name.endswith(SUFFIXES) and e.is_file())
    except OSError:
        return []
