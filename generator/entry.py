"""The console entry point: what must happen before the command line's modules are imported, then the command."""

from __future__ import annotations

import sys


def run() -> None:
    from .startup import defer_collection

    defer_collection()
    from .main import main

    sys.exit(main())
