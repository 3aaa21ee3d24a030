"""Lines of a rewritten file told as lines of the file on disk, for a ``fix`` that writes nothing.

``fix --diff`` and ``fix --check`` judge the folder as it would be after the
rewrite, so what is left is found at lines of text that was never written.
The user reads and edits the file on disk: each position is carried back
through the difference between the two texts. A line that exists on disk
keeps its number; a line the rewrite adds points at the line where it would
be added (the line before it), a line it replaces at the first line replaced.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import replace

from ..filters import Suppressed
from ..policy.catalog import Finding
from ..report import Notice, Report


class LineMap:
    """New line number -> old line number, for one file's rewrite."""

    def __init__(self, old: str, new: str) -> None:
        self._old_of: dict[int, int] = {}
        matcher = difflib.SequenceMatcher(None, old.split("\n"), new.split("\n"), autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            for j in range(j1, j2):
                if tag == "equal":
                    self._old_of[j + 1] = i1 + (j - j1) + 1
                elif tag == "replace":
                    self._old_of[j + 1] = min(i1 + (j - j1), i2 - 1) + 1
                else:  # inserted: where it would go
                    self._old_of[j + 1] = max(i1, 1)

    def __call__(self, line: int) -> int:
        return self._old_of.get(line, line)


def on_disk(report: Report, maps: Mapping[str, LineMap]) -> None:
    """Every position in ``report`` within a file of ``maps`` (by display name) moved to the file on disk."""
    if not maps:
        return
    for outcome in report.files:
        outcome.findings = [_finding(f, maps) for f in outcome.findings]
    report.suppressed = [Suppressed(_finding(s.finding, maps), s.reason) for s in report.suppressed]
    report.notices = [_notice(n, maps) for n in report.notices]


def _line(file: str, line: int, maps: Mapping[str, LineMap]) -> int:
    found = maps.get(file)
    return found(line) if found is not None and line else line


def _message(message: str, maps: Mapping[str, LineMap]) -> str:
    """``FILE:LINE`` inside a message (where a value comes from) moved too."""
    for file in maps:
        if f"{file}:" in message:
            def moved(match: re.Match[str], file: str = file) -> str:
                return f"{file}:{_line(file, int(match.group(1)), maps)}"

            message = re.sub(rf"(?<![\w/.-]){re.escape(file)}:(\d+)", moved, message)
    return message


def _finding(f: Finding, maps: Mapping[str, LineMap]) -> Finding:
    if not ({f.file, f.module_file, f.group_file} & maps.keys()) and not any(name in f.message for name in maps):
        return f
    return replace(f, line=_line(f.file, f.line, maps), module_line=_line(f.module_file, f.module_line, maps),
                   group_line=_line(f.group_file, f.group_line, maps), message=_message(f.message, maps))


def _notice(n: Notice, maps: Mapping[str, LineMap]) -> Notice:
    return replace(n, line=_line(n.file, n.line, maps), message=_message(n.message, maps))
