"""The console entry point: what must happen before the command line's modules are imported, then the command."""

from __future__ import annotations

import signal
import sys
from types import FrameType

_stopped_by = [int(signal.SIGINT)]


def _stop(signum: int, _frame: FrameType | None) -> None:
    _stopped_by[0] = signum
    raise KeyboardInterrupt


def run() -> None:
    """SIGTERM is caught from the first instruction: a run stopped while it starts ends in one line, no traceback."""
    signal.signal(signal.SIGTERM, _stop)
    try:
        from .startup import defer_collection

        defer_collection()
        from .main import main
    except KeyboardInterrupt:
        print("eksproxy-gen: interrupted", file=sys.stderr)
        sys.exit(128 + _stopped_by[0])
    sys.exit(main())
