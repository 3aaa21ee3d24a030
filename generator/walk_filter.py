"""What a walk leaves out below the paths it was given: ``exclude`` globs, what git ignores, a vendored module's
examples and tests.

``.terraform/``, ``.terragrunt-cache/`` and ``.git/`` are never walked
(``discover.SKIP_DIRS``). A copy of terraform-aws-eks kept in the repository
(a folder holding ``node_groups.tf`` and ``modules/eks-managed-node-group``,
or named ``terraform-aws-eks``) is the module, not the user's code: its
``examples/`` and ``tests/`` call the module with settings of their own and
must be neither reported nor rewritten. Paths given on the command line are
always read; what this leaves out lies below them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .discover import SKIP_DIRS
from .gitignored import GitIgnored
from .globs import Glob, compile_glob

if TYPE_CHECKING:
    from .config import ConfigResolver

VENDORED_NAME = "terraform-aws-eks"
VENDORED_SKIPPED = ("examples", "tests")


def vendored_module(folder: str) -> bool:
    """A copy of terraform-aws-eks: named so, or holding its node-group file and submodule."""
    if os.path.basename(os.path.normpath(folder)) == VENDORED_NAME:
        return True
    return os.path.isfile(os.path.join(folder, "node_groups.tf")) and \
        os.path.isdir(os.path.join(folder, "modules", "eks-managed-node-group"))


class WalkFilter:
    """``(path, is_dir, root) -> bool``: whether the walk of ``root`` leaves ``path`` out."""

    def __init__(self, resolver: ConfigResolver) -> None:
        self._resolver = resolver
        self._git = GitIgnored()
        self._cwd = os.getcwd()
        self._globs: dict[str, tuple[str, tuple[Glob, ...]] | None] = {}

    def __call__(self, path: str, is_dir: bool, root: str) -> bool:
        parent, name = os.path.split(path)
        if is_dir and name in VENDORED_SKIPPED and vendored_module(parent):
            return True
        if self._excluded(path, parent, is_dir):
            return True
        prefix = root.rstrip(os.sep) + os.sep
        relative = path[len(prefix):] if path.startswith(prefix) else os.path.relpath(path, root)
        return self._git.ignored(relative.replace(os.sep, "/"), is_dir, root)

    def dependencies(self, folders: list[str]) -> set[str]:
        """Files besides settings files whose change can change what a walk of these folders leaves out."""
        return self._git.dependencies(folders)

    def named_left_out(self, path: Path) -> bool:
        """A file named on the command line (as pre-commit names staged files) that ``exclude``, a vendored
        module's examples/tests or ``.terraform/`` cover, through any of its folders: the walk would never have
        reached it."""
        absolute = os.path.normpath(os.path.join(self._cwd, path))
        folder, name = os.path.split(absolute)
        if self._excluded(absolute, folder, False):
            return True
        while True:
            parent, name = os.path.split(folder)
            if parent == folder:
                return False
            if name in SKIP_DIRS or (name in VENDORED_SKIPPED and vendored_module(parent)) or \
                    self._excluded(folder, parent, True):
                return True
            folder = parent

    def _excluded(self, path: str, parent: str, is_dir: bool) -> bool:
        found = self._globs_of(parent)
        if found is None:
            return False
        base, globs = found
        absolute = os.path.normpath(os.path.join(self._cwd, path))
        if not absolute.startswith(base):
            return False
        relative = absolute[len(base):].replace(os.sep, "/")
        return any(glob.matches(relative, is_dir) for glob in globs)

    def _globs_of(self, folder: str) -> tuple[str, tuple[Glob, ...]] | None:
        """The exclude globs of the settings file that governs a folder, and the folder they are relative to."""
        if folder not in self._globs:
            from .config import ConfigError

            try:
                choice = self._resolver.choice_for(Path(folder or "."))
            except ConfigError:  # reported for the files it governs; the walk goes on
                choice = None
            if choice is None or not choice.exclude or choice.base is None:
                self._globs[folder] = None
            else:
                base = str(choice.base).rstrip(os.sep) + os.sep
                self._globs[folder] = (base, tuple(compile_glob(p) for p in choice.exclude))
        return self._globs[folder]
