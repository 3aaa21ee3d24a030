"""A progress bar on stderr for large trees, only when a person is watching."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

LARGE_TREE = 200


@contextmanager
def progress_bar(total: int, colour: bool) -> Iterator[Callable[[int], None] | None]:
    """A progress callback for large trees on a terminal; None otherwise (and nothing of rich is loaded)."""
    if total < LARGE_TREE or not sys.stderr.isatty():
        yield None
        return
    from .. import terminal

    with terminal.progress(total, colour) as advance:
        yield advance
