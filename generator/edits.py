"""Text edits: a replacement at character offsets, applied last to first, plus layout helpers.

Nothing here knows about node groups; plan.py decides what to edit.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Edit:
    """Replace text[start:end] with ``text``."""

    start: int
    end: int
    text: str


class CannotEdit(Exception):
    """The group cannot be rewritten safely; the message says why and what to do."""


def line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def line_indent(text: str, pos: int) -> str:
    start = line_start(text, pos)
    end = start
    while end < len(text) and text[end] in " \t":
        end += 1
    return text[start:end]


_ASSIGN_LINE = re.compile(r'^(?P<indent>[ \t]*)(?P<key>[A-Za-z_][\w-]*|"[^"\n]*")(?P<gap>[ \t]*)=(?P<rest>.*)$')


def _single_line_assignment(line: str) -> re.Match[str] | None:
    """``key = value`` complete on its line: what terraform fmt lines up in runs of consecutive lines."""
    match = _ASSIGN_LINE.match(line)
    if match is None or match.group("rest").startswith("="):
        return None
    rest = match.group("rest")
    code = re.sub(r'"(?:[^"\\]|\\.)*"', '""', rest).split("#")[0].split("//")[0]
    opened = sum(code.count(c) for c in "{[(") - sum(code.count(c) for c in "}])")
    return match if opened == 0 and "<<" not in code else None


def realign_around(text: str, line_pos: int, below: int | None = None) -> list[Edit]:
    """Re-align around a line that stops being a one-line assignment: the runs above and below it, and itself.

    terraform fmt aligns a run of consecutive one-line assignments at the same
    indentation; when the line between two such runs turns into a multi-line
    value, each run is aligned on its own and the line itself takes one space.
    ``below`` is where the line's value ends, when it spans several lines already.
    """
    lines = text.split("\n")
    number = text.count("\n", 0, line_pos)
    indent = line_indent(text, line_pos)
    edits: list[Edit] = []
    own = _ASSIGN_LINE.match(lines[number])
    if own is not None and own.group("gap") != " ":
        gap_start = line_pos + own.start("gap")
        edits.append(Edit(gap_start, gap_start + len(own.group("gap")), " "))
    after = text.count("\n", 0, below) if below is not None else number + 1
    for step, first in ((-1, number - 1), (1, after)):
        run: list[tuple[int, re.Match[str]]] = []
        i = first
        while 0 <= i < len(lines):
            match = _single_line_assignment(lines[i])
            if match is None or match.group("indent") != indent:
                break
            run.append((i, match))
            i += step
        if not run:
            continue
        width = max(len(m.group("key")) for _i, m in run)
        for i, match in run:
            gap_start = sum(len(ln) + 1 for ln in lines[:i]) + match.start("gap")
            wanted = " " * (width - len(match.group("key")) + 1)
            if match.group("gap") != wanted:
                edits.append(Edit(gap_start, gap_start + len(match.group("gap")), wanted))
    return edits


def splice(text: str, edits: list[Edit]) -> str:
    """Apply non-overlapping edits from last to first."""
    ordered = sorted(edits, key=lambda e: (e.start, e.end), reverse=True)
    for later, earlier in itertools.pairwise(ordered):
        if earlier.end > later.start:
            raise CannotEdit("overlapping edits")
    for edit in ordered:
        text = text[: edit.start] + edit.text + text[edit.end :]
    return text
