"""Fixes judged together, and when that fails one by one in order, so one bad fix costs only its own target."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from .analysis import FolderResult
from .visible import Visible

T = TypeVar("T")
W = TypeVar("W")
Trial = tuple[dict[Path, str], FolderResult, Visible]


def accept_in_order(items: list[T], judge: Callable[[list[T]], Trial | W]) -> tuple[list[T], list[tuple[T, W]], Trial]:
    """The items accepted, each refused one with why, and the folder judged with the accepted ones in place.

    ``judge`` returns the new texts and the judged folder, or why the last item
    of the list it was given is refused; it returns the folder as it was for
    an empty list.
    """
    together = judge(items)
    if isinstance(together, tuple):
        return items, [], together
    accepted: list[T] = []
    refused: list[tuple[T, W]] = []
    result: Trial | None = None
    for item in items:
        trial = judge([*accepted, item])
        if isinstance(trial, tuple):
            accepted.append(item)
            result = trial
        else:
            refused.append((item, trial))
    if result is None:
        unchanged = judge([])
        assert isinstance(unchanged, tuple), "nothing to apply cannot be refused"
        result = unchanged
    return accepted, refused, result
