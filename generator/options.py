"""How a command's results are shown and when they fail the run: shared by ``check`` and ``fix``."""

from __future__ import annotations

from dataclasses import dataclass

from .filters import ALL_RULES, RuleFilter
from .policy.rules import Severity


@dataclass(frozen=True)
class Output:
    format: str = "text"
    quiet: bool = False
    fail_on: Severity = Severity.ERROR
    rule_filter: RuleFilter = ALL_RULES
