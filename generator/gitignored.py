"""What git ignores below a folder: asked once per folder walked, and only inside a git repository.

``git ls-files --others --ignored --exclude-standard --directory`` lists the
untracked files and folders that .gitignore, .git/info/exclude and the
user's global excludes leave out, a wholly ignored folder as one entry, so a
single call answers for a whole walk. A tracked file is never ignored (git
itself does not ignore it). The folder walked is read whatever git says about
it: a path given on the command line is always read; only what lies below it
can be left out. Without git on PATH, outside a repository, or when git
fails, nothing is left out: reading too much is safe, reading too little
would let a gate pass.
"""

from __future__ import annotations

import os
import shutil
import subprocess


class GitIgnored:
    def __init__(self) -> None:
        self._by_root: dict[str, frozenset[str]] = {}
        self._git = shutil.which("git")
        self._tops: set[str] = set()

    def ignored(self, relative: str, is_dir: bool, root: str) -> bool:
        """Whether git ignores ``relative`` (a ``/``-separated path below ``root``)."""
        listed = self._by_root.get(root)
        if listed is None:
            listed = self._by_root[root] = self._list(root)
        if not listed:
            return False
        return (relative + "/" if is_dir else relative) in listed

    def dependencies(self, folders: list[str]) -> set[str]:
        """The files whose change can change what git ignores in a walk of these folders (for the snapshot of a
        tree): each folder's .gitignore, those of the folders above up to the repository's top, and its
        info/exclude."""
        found: set[str] = set()
        for root in self._tops:
            found.add(os.path.join(root, ".git", "info", "exclude"))
        if not self._tops:
            return found
        for folder in folders:
            current = os.path.abspath(folder)
            while True:
                found.add(os.path.join(current, ".gitignore"))
                parent = os.path.dirname(current)
                if current in self._tops or parent == current:
                    break
                current = parent
        return found

    def _list(self, root: str) -> frozenset[str]:
        top = _repository(root) if self._git is not None else None
        if top is None or self._git is None:
            return frozenset()
        self._tops.add(top)
        try:
            proc = subprocess.run([self._git, "-C", root, "ls-files", "-z", "--others", "--ignored",
                                   "--exclude-standard", "--directory"], capture_output=True, check=False,
                                  timeout=120, env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"})
        except (OSError, subprocess.SubprocessError):
            return frozenset()
        if proc.returncode != 0:
            return frozenset()
        names = proc.stdout.decode("utf-8", "surrogateescape").split("\0")
        return frozenset(name for name in names if name and name != "./")


def _repository(root: str) -> str | None:
    """The top of the git repository a folder is in (a ``.git`` folder, or file of a worktree), or None."""
    current = os.path.abspath(root)
    while True:
        if os.path.exists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent
