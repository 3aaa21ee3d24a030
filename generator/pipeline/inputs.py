"""What one folder's analysis starts from: its files, its settings, and replacement texts to judge a fix."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..policy.settings import Settings


def display_name(path: Path) -> str:
    """A path as the user should read it: relative to the working folder when below it."""
    text = str(path)
    if not os.path.isabs(text):
        return os.path.normpath(text)
    cwd = os.getcwd()
    prefix = cwd if cwd.endswith(os.sep) else cwd + os.sep
    return text[len(prefix):] if text.startswith(prefix) else text


@dataclass(frozen=True)
class FolderInput:
    """What to analyse: the folder's ``targets`` (the files the user named or that were found) and settings.

    ``texts`` replaces the contents of files, so a planned fix can be judged
    before it is written.
    """

    folder: Path
    targets: tuple[Path, ...]
    settings: Settings
    texts: Mapping[Path, str] = field(default_factory=dict)

    def with_texts(self, texts: Mapping[Path, str]) -> FolderInput:
        return FolderInput(self.folder, self.targets, self.settings, dict(texts))


def folders(files: Iterable[tuple[Path, Settings]]) -> list[FolderInput]:
    """One input per folder and settings, in the order the files came."""
    grouped: dict[tuple[Path, Settings], list[Path]] = {}
    for path, settings in files:
        grouped.setdefault((path.parent, settings), []).append(path)
    return [FolderInput(folder, tuple(paths), settings) for (folder, settings), paths in grouped.items()]
