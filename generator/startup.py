"""When the garbage collector runs: not during start-up, as usual once the parser is loaded (hcl does that).

Start-up (Typer, the command's modules, then the parser's tables) creates tens
of thousands of objects that live until exit and next to no garbage, yet the
collector walks them again and again. Measured without it: importing Typer and
loading the parser take about half as long, a cold ``check`` of a large tree a
fifth less, and peak memory is unchanged. Only the console entry point defers
collection, so tests and other callers keep Python's default.
"""

from __future__ import annotations

import gc

_deferred = False


def defer_collection() -> None:
    """Stop collecting until :func:`collect_from_now`; for the console entry point, before anything is imported."""
    global _deferred
    if gc.isenabled():
        gc.disable()
        _deferred = True


def collect_from_now() -> None:
    """Resume collecting, leaving out everything made so far (it stays): collections are cheaper, and forked
    workers share those pages instead of copying them when the collector would touch them."""
    global _deferred
    if _deferred:
        _deferred = False
        gc.freeze()
        gc.enable()
