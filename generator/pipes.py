"""A reader that stops reading ends the output, never the verdict: ``eksproxy-gen rules | head -1``.

Python reports a closed pipe as BrokenPipeError on the next write, and again
when it flushes stdout at exit (exit code 120 and "Exception ignored"); click
turns the first into exit 1. Each standard stream is wrapped so that the
first closed-pipe error sends the rest of that stream to /dev/null and the
command goes on to its own exit code: 0 for a command that only prints (as
ruff exits on a closed pipe), 1 when ``check`` found something. A gate run
as ``eksproxy-gen check | head`` under ``set -o pipefail`` must not pass
because its reader stopped reading.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterable, Iterator
from typing import TextIO, cast


class _Guarded:
    """A text stream that swallows a closed pipe once and writes nowhere after it."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._closed = False

    def write(self, text: str) -> int:
        if not self._closed:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._close()
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if not self._closed:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._close()

    def _close(self) -> None:
        """What is still buffered, and whatever comes later, goes to /dev/null, so the flush at exit succeeds."""
        self._closed = True
        with contextlib.suppress(OSError, ValueError, AttributeError, io.UnsupportedOperation):
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, self._stream.fileno())
            finally:
                os.close(devnull)

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


@contextlib.contextmanager
def guarded() -> Iterator[None]:
    """stdout and stderr guarded against a closed pipe while a command runs; restored after."""
    saved = sys.stdout, sys.stderr
    sys.stdout = cast(TextIO, _Guarded(sys.stdout))
    sys.stderr = cast(TextIO, _Guarded(sys.stderr))
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        sys.stdout, sys.stderr = saved
