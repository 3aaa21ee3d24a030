"""Positions told in lines of the file the user reads: on disk for a ``fix`` that writes nothing, as written
for one that writes.

``fix --diff`` and ``fix --check`` judge the folder as it would be after the
rewrite, so what is left is found at lines of text that was never written.
The user reads and edits the file on disk: each position is carried back
through the difference between the two texts. A line that exists on disk
keeps its number; a line the rewrite adds points at the line where it would
be added (the line before it), a line it replaces at the first line replaced.

The other way round, what ``fix`` tells about a target it planned (its notes,
its refusals) names lines of the file it read; once the file is written those
lines have moved, so a writing ``fix`` tells them as lines of the file as
written (``as_written``). A line the rewrite removed has no such number, and
is said to be one of the file before the rewrite.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import replace

from ..filters import Suppressed
from ..policy.catalog import Finding
from ..policy.values import line_runs
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


class WrittenLines:
    """Old line number -> new line number for one file's rewrite; None for a line it removed or replaced."""

    def __init__(self, old: str, new: str) -> None:
        self._new_of: dict[int, int] = {}
        matcher = difflib.SequenceMatcher(None, old.split("\n"), new.split("\n"), autojunk=False)
        for tag, i1, i2, j1, _j2 in matcher.get_opcodes():
            if tag == "equal":
                for i in range(i1, i2):
                    self._new_of[i + 1] = j1 + (i - i1) + 1

    def __call__(self, line: int) -> int | None:
        return self._new_of.get(line)


# ``FILE:12``, ``FILE line 12``, ``FILE lines 12-14, 20``: how messages name lines of a file
_RUNS = r"\d+(?:-\d+)?(?:, \d+(?:-\d+)?)*"


def as_written(report: Report, maps: Mapping[str, WrittenLines]) -> None:
    """The lines of files of ``maps`` (by display name) that notes and refusals name, moved to the files as
    written."""
    if not maps:
        return
    for outcome in report.files:
        outcome.notes = [written_message(note, maps) for note in outcome.notes]


def written_message(message: str, maps: Mapping[str, WrittenLines]) -> str:
    """A message naming lines of files before their rewrite, naming them in the files as written."""
    for file, lines in maps.items():
        if file not in message:
            continue

        def moved(match: re.Match[str], lines: WrittenLines = lines) -> str:
            old = _numbers(match.group(3))
            new = [lines(n) for n in old]
            if any(n is None for n in new):
                return f"{match.group(0)} before this rewrite"
            numbers = sorted({n for n in new if n is not None})
            if match.group(2) == ":":
                return f"{match.group(1)}:{numbers[0]}"
            return f"{match.group(1)} {'line' if len(numbers) == 1 else 'lines'} {line_runs(numbers, lambda n: n)}"

        message = re.sub(rf"(?<![\w/.-])({re.escape(file)})(:| lines? )({_RUNS})", moved, message)
    return message


def _numbers(runs: str) -> list[int]:
    found: list[int] = []
    for run in runs.split(", "):
        first, _, last = run.partition("-")
        found += range(int(first), int(last or first) + 1)
    return found
