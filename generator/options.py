"""How a command's results are shown and when they fail the run: shared by ``check`` and ``fix``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from .filters import ALL_RULES, RuleFilter
from .policy.catalog import Severity


@dataclass(frozen=True)
class RuleFlags:
    """``--select``, ``--ignore`` and ``--fail-on`` as given on the command line; None where not given, so a
    settings file's ``select``, ``ignore`` and ``fail_on`` apply (flags win)."""

    select: str | None = None
    ignore: str | None = None
    fail_on: Severity | None = None


@dataclass(frozen=True)
class Output:
    """``files`` are extra outputs: (format, path); a format of None writes the main ``format`` there instead.

    ``rule_filter`` and ``fail_on`` are the command line's (defaults where not
    given); ``flags`` says which were given, for settings files to fill in the rest.
    """

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
    flags: RuleFlags = RuleFlags()

    def choosing(self, rule_filter: RuleFilter, fail_on: Severity) -> Output:
        """The same output for a part of the tree whose settings file chose other rules or another fail_on."""
        return replace(self, rule_filter=rule_filter, fail_on=fail_on)
