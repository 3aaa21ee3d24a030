"""Which findings are reported: ``--select``/``--ignore`` and ``# eksproxy-gen:ignore`` comments.

These decide what a user wants to see, not what is correct, so they stay out
of the policy; ``fix`` honours them too, so a silenced rule is never "fixed".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .policy.rules import RULES_BY_ID, Finding

_DIRECTIVE = re.compile(r"(?:#|//)\s*eksproxy-gen:ignore\s+([A-Za-z0-9_,]+)[ \t]*(.*?)\s*(?:\*/)?$")


@dataclass(frozen=True)
class RuleFilter:
    """ruff-style prefixes: ``--select EKSP00`` keeps EKSP001..EKSP009; ``--ignore`` wins over ``--select``."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()

    def keeps(self, rule: str) -> bool:
        if any(rule.startswith(prefix) for prefix in self.ignore):
            return False
        return not self.select or any(rule.startswith(prefix) for prefix in self.select)

    @staticmethod
    def parse(select: str | None, ignore: str | None) -> RuleFilter:
        def split(value: str | None) -> tuple[str, ...]:
            items = tuple(v.strip().upper() for v in (value or "").split(",") if v.strip())
            for item in items:
                if item != "ALL" and not any(rule.startswith(item) for rule in RULES_BY_ID):
                    raise ValueError(f"{item} matches no rule (rules are EKSP001..EKSP{len(RULES_BY_ID):03d})")
            return tuple("" if i == "ALL" else i for i in items)

        return RuleFilter(split(select), split(ignore))


@dataclass(frozen=True)
class Suppression:
    rules: frozenset[str]
    reason: str

    def covers(self, rule: str) -> bool:
        return "ALL" in self.rules or rule in self.rules


def suppressions(text: str) -> dict[int, Suppression]:
    """Directives by the 1-based line they silence: their own line, and the next one for a comment-only line."""
    out: dict[int, Suppression] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        match = _DIRECTIVE.search(line)
        if not match:
            continue
        found = Suppression(frozenset(r.upper() for r in match.group(1).split(",") if r), match.group(2))
        out[number] = found
        if line.lstrip().startswith(("#", "//")):
            out.setdefault(number + 1, found)
    return out


def suppression_for(finding: Finding, module_line: int, module_directives: dict[int, Suppression],
                    own_directives: dict[int, Suppression]) -> Suppression | None:
    """A finding is silenced by a directive on its module's ``module "..." {`` line, or on its own line.

    A group's findings sit on the group's line, a map-wide finding on its
    attribute's line; ``own_directives`` are those of the finding's file.
    """
    for directives, line in ((module_directives, module_line), (own_directives, finding.line)):
        directive = directives.get(line)
        if directive is not None and directive.covers(finding.rule):
            return directive
    return None


@dataclass(frozen=True)
class Suppressed:
    finding: Finding
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {**self.finding.as_dict(), "reason": self.reason}
