"""How a command's results are shown and when they fail the run: shared by ``check`` and ``fix``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .filters import ALL_RULES, RuleFilter
from .policy.rules import Severity


@dataclass(frozen=True)
class Output:
    """``files`` are extra outputs: (format, path); a format of None writes the main ``format`` there instead."""

    format: str = "text"
    quiet: bool = False
    fail_on: Severity = Severity.ERROR
    rule_filter: RuleFilter = ALL_RULES
    exit_zero: bool = False
    statistics: bool = False
    color: str = "auto"
    files: tuple[tuple[str | None, Path], ...] = ()
    use_cache: bool = True
    unused_ignores: bool = False
