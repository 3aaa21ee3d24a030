"""Text edits: a replacement at character offsets, applied last to first.

Nothing here knows about node groups (plan.py decides what to edit) or about
layout (layout.py decides how new text is laid out).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass


@dataclass(frozen=True)
class Edit:
    """Replace text[start:end] with ``text``."""

    start: int
    end: int
    text: str


class CannotEdit(Exception):
    """The target cannot be rewritten safely; the message says why and what to do."""


def splice(text: str, edits: list[Edit]) -> str:
    """Apply non-overlapping edits from last to first."""
    ordered = sorted(edits, key=lambda e: (e.start, e.end), reverse=True)
    for later, earlier in itertools.pairwise(ordered):
        if earlier.end > later.start:
            raise CannotEdit("overlapping edits")
    for edit in ordered:
        text = text[: edit.start] + edit.text + text[edit.end :]
    return text
