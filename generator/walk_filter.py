"""What a walk leaves out below the paths it was given: ``exclude`` globs, what git ignores, a vendored module's
examples and tests.

``.terraform/``, ``.terragrunt-cache/`` and ``.git/`` are never walked
(``discover.SKIP_DIRS``). A copy of terraform-aws-eks kept in the repository
(a folder holding ``node_groups.tf`` and ``modules/eks-managed-node-group``,
or named ``terraform-aws-eks``) is the module, not the user's code: its
``examples/`` and ``tests/`` call the module with settings of their own and
must be neither reported nor rewritten. Paths given on the command line are
always read; what this leaves out lies below them. The module's own
repository, walked from its top, is no copy: its examples are read.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import fsguard
from .discover import SKIP_DIRS
from .gitignored import GitIgnored
from .globs import Glob, compile_glob
from .toml_lines import top_level_lines

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


def _same(folder: str, other: str) -> bool:
    """The module's own repository, walked from its top (or run there, as pre-commit runs), is not a vendored
    copy: its examples and tests are its authors' code."""
    return os.path.normpath(folder) == os.path.normpath(other)


def within_vendored_module(folder: str) -> bool:
    """A copy of terraform-aws-eks, or one of its submodules (``modules/NAME`` of a copy): the module's own
    code, whose raw ``aws_eks_node_group`` and calls of ``./modules/eks-managed-node-group`` implement the
    groups the user's call declares; they are judged there, so they are never "not judged" here."""
    folder = os.path.normpath(folder)
    parent = os.path.dirname(folder)
    return vendored_module(folder) or (os.path.basename(parent) == "modules" and
                                       vendored_module(os.path.dirname(parent)))


@dataclass(frozen=True)
class LeftOut:
    """What left a path out, as a notice names it: ``how`` ("by exclude "*" in .eksproxy-gen.toml"), and the
    file and line that say so (the settings file's ``exclude``, the ``.gitignore`` line, the vendored copy)."""

    how: str
    file: str
    line: int = 1


GIT_RULES = "by git's ignore rules"


class WalkFilter:
    """``(path, is_dir, root) -> bool``: whether the walk of ``root`` leaves ``path`` out."""

    def __init__(self, resolver: ConfigResolver) -> None:
        self._resolver = resolver
        self._git = GitIgnored()
        self._cwd = os.getcwd()
        self._globs: dict[str, tuple[str, tuple[Glob, ...]] | None] = {}
        self._exclude_lines: dict[str, int] = {}

    def __call__(self, path: str, is_dir: bool, root: str) -> bool:
        return self.why(path, is_dir, root) is not None

    def why(self, path: str, is_dir: bool, root: str) -> LeftOut | None:
        """What leaves ``path`` out of the walk of ``root`` (None: nothing). Git's reason is named only as
        ``GIT_RULES`` here; ``git_rules`` tells which line of which file, for the few runs that say it."""
        parent, name = os.path.split(path)
        if is_dir and name in VENDORED_SKIPPED and not _same(parent, root) and vendored_module(parent):
            return _vendored(parent)
        glob = self._excluding(path, parent, is_dir)
        if glob is not None:
            return self._by_exclude(parent, glob)
        prefix = root.rstrip(os.sep) + os.sep
        relative = path[len(prefix):] if path.startswith(prefix) else os.path.relpath(path, root)
        if self._git.ignored(relative.replace(os.sep, "/"), is_dir, root):
            return LeftOut(GIT_RULES, _shown(root))
        return None

    def git_rules(self, root: str, paths: list[str]) -> dict[str, LeftOut]:
        """The ignore rule git leaves each of ``paths`` (below ``root``) out by: its pattern, file and line, from
        ``git check-ignore -v``. A path git gives no rule for is missing from the answer."""
        git = shutil.which("git")
        if git is None or not paths:
            return {}
        try:
            top = subprocess.run([git, "-C", root, "rev-parse", "--show-toplevel"], capture_output=True, text=True,
                                 check=False, timeout=60).stdout.strip()
            proc = subprocess.run([git, "-C", root, "check-ignore", "-v", "-z", "--stdin"],
                                  input="\0".join(os.path.relpath(p, root) for p in paths).encode("utf-8",
                                                                                                  "surrogateescape"),
                                  capture_output=True, check=False, timeout=120,
                                  env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"})
        except (OSError, subprocess.SubprocessError):
            return {}
        fields = proc.stdout.decode("utf-8", "surrogateescape").split("\0")
        found: dict[str, LeftOut] = {}
        for source, line, pattern, relative in zip(*[iter(fields)] * 4, strict=False):
            if not source:
                continue
            written = os.path.join(top, source) if top else os.path.join(root, source)
            found[os.path.normpath(os.path.join(root, relative))] = LeftOut(
                f'by git\'s ignore rule "{pattern}" in {_shown(written)}', _shown(written),
                int(line) if line.isdigit() else 1)
        return found

    def dependencies(self, folders: list[str]) -> set[str]:
        """Files besides settings files whose change can change what a walk of these folders leaves out."""
        return self._git.dependencies(folders)

    def named_left_out(self, path: Path) -> bool:
        """A file named on the command line (as pre-commit names staged files) that ``exclude``, a vendored
        module's examples/tests or ``.terraform/`` cover, through any of its folders: the walk would never have
        reached it."""
        return self.named_why(path) is not None

    def named_why(self, path: Path) -> LeftOut | None:
        """What leaves a named file out (see ``named_left_out``); None: it is read."""
        absolute = os.path.normpath(os.path.join(self._cwd, path))
        folder, name = os.path.split(absolute)
        glob = self._excluding(absolute, folder, False)
        if glob is not None:
            return self._by_exclude(folder, glob)
        while True:
            parent, name = os.path.split(folder)
            if parent == folder:
                return None
            if name in SKIP_DIRS:
                return LeftOut(f"as part of {_shown(folder)}{os.sep}, which is never read", _shown(folder))
            if name in VENDORED_SKIPPED and not _same(parent, self._cwd) and vendored_module(parent):
                return _vendored(parent)
            glob = self._excluding(folder, parent, True)
            if glob is not None:
                return self._by_exclude(parent, glob)
            folder = parent

    def _excluding(self, path: str, parent: str, is_dir: bool) -> Glob | None:
        """The first ``exclude`` glob of the governing settings file that matches ``path``."""
        found = self._globs_of(parent)
        if found is None:
            return None
        base, globs = found
        absolute = os.path.normpath(os.path.join(self._cwd, path))
        if not absolute.startswith(base):
            return None
        relative = absolute[len(base):].replace(os.sep, "/")
        return next((glob for glob in globs if glob.matches(relative, is_dir)), None)

    def _by_exclude(self, parent: str, glob: Glob) -> LeftOut:
        """The settings file whose ``exclude`` holds ``glob``, and the line of its ``exclude``."""
        choice = self._resolver.choice_for(Path(parent or "."))
        source = str(choice.source) if choice.source is not None else "settings"
        if source not in self._exclude_lines:  # the walk asks for every path it leaves out: read the file once
            self._exclude_lines[source] = _exclude_line(source)
        where = _shown(source)
        return LeftOut(f'by exclude "{glob.pattern}" in {where}', where, self._exclude_lines[source])

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


def _vendored(copy: str) -> LeftOut:
    shown = _shown(copy)
    return LeftOut(f"as the examples and tests of {shown}, a copy of terraform-aws-eks", shown)


def _shown(path: str) -> str:
    from .config import shown_path

    return shown_path(Path(path))


def _exclude_line(source: str) -> int:
    """The line of ``exclude`` in a settings file already read and accepted (1 when it cannot be told)."""
    try:
        text = fsguard.read_bytes(source, (os.sep,), "").decode("utf-8-sig")
    except (fsguard.Refused, OSError, UnicodeDecodeError):
        return 1
    return top_level_lines(text).get("exclude", 1)
