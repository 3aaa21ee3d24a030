"""Which findings are reported: ``--select``/``--ignore`` and ``# eksproxy-gen:ignore`` comments.

These decide what a user wants to see, not what is correct, so they stay out
of the policy; ``fix`` honours them too, so a silenced rule is never "fixed".
A directive is a comment, and only where the file's language has one:
Terraform's ``#``, ``//`` and ``/* */`` outside strings and heredocs (told
apart by the one Terraform lexer), YAML's ``#`` outside quoted and block
scalars (told apart by YAML's own scanner); JSON has no comments.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from .parse_errors import Kind, lex
from .policy.catalog import RULES_BY_ID, Finding

MARK = "eksproxy-gen:ignore"
_DIRECTIVE = re.compile(r"^(?:#|//|/\*)\s*eksproxy-gen:ignore\b[ \t]*(?P<rest>.*?)\s*(?:\*/)?\s*$")
_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def known_code(code: str) -> bool:
    """``ALL``, a rule id, or a prefix of one (as ruff's ``--select`` takes them)."""
    return code == "ALL" or any(rule.startswith(code) for rule in RULES_BY_ID)


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
                if not known_code(item):
                    raise ValueError(f"{item} matches no rule (rules are EKSP001..EKSP{len(RULES_BY_ID):03d})")
            return tuple("" if i == "ALL" else i for i in items)

        return RuleFilter(split(select), split(ignore))


ALL_RULES = RuleFilter()


@dataclass
class Suppression:
    """One ``eksproxy-gen:ignore`` comment: the codes it names, why, and whether it silenced anything."""

    file: str
    line: int
    codes: tuple[str, ...]
    reason: str
    used: bool = False

    def silences(self, rule: str) -> bool:
        return any(code == "ALL" or rule.startswith(code) for code in self.codes)


@dataclass
class Directives:
    """The ignore comments of one file, by the line they apply to, and the comments that could not be read."""

    file: str = ""
    by_line: dict[int, Suppression] = field(default_factory=dict)
    all: list[Suppression] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)


def parse_directives(text: str, file: str) -> Directives:
    """Directives by the 1-based line they silence: their own line, and the next one for a comment-only line."""
    found = Directives(file)
    if MARK not in text:
        return found
    comments = _yaml_comments(text) if file.endswith((".yaml", ".yml")) else \
        iter(()) if file.endswith(".json") else _terraform_comments(text)
    for number, comment, alone in comments:
        match = _DIRECTIVE.match(comment) if MARK in comment else None
        if not match:
            continue
        codes, reason, problem = _codes(match.group("rest"))
        if problem:
            found.problems.append((number, problem))
        if not codes:
            continue
        directive = Suppression(file, number, codes, reason)
        found.all.append(directive)
        found.by_line[number] = directive
        if alone:
            found.by_line.setdefault(number + 1, directive)
    return found


Comment = tuple[int, str, bool]  # 1-based line, the comment's text on it, and whether it is alone on its line


def _comment_at(text: str, start: int, end: int, line: int) -> Comment:
    line_start = text.rfind("\n", 0, start) + 1
    first = text[start:end].split("\n", 1)[0]
    return line, first, not text[line_start:start].strip()


def _terraform_comments(text: str) -> Iterator[Comment]:
    """Terraform comments: ``#``, ``//`` and ``/* */`` outside strings and heredocs."""
    line, counted = 1, 0
    for lexeme in lex(text):
        if lexeme.kind is Kind.COMMENT:
            line += text.count("\n", counted, lexeme.start)
            counted = lexeme.start
            yield _comment_at(text, lexeme.start, lexeme.end, line)


def _yaml_comments(text: str) -> Iterator[Comment]:
    """YAML comments: a ``#`` after a blank or at a line's start, outside every token (quoted and block scalars
    included). Past a point where YAML's scanner fails, a ``#`` after a blank is taken as one.

    PyYAML is loaded here, not at start-up: only a YAML file that holds a directive needs it.
    """
    import yaml

    from .policy.nodeconfig import LOADER

    covered: list[tuple[int, int]] = []
    scanned_to = len(text)
    try:
        for token in yaml.scan(text, Loader=LOADER):
            if token.end_mark.index > token.start_mark.index:
                covered.append((token.start_mark.index, token.end_mark.index))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        scanned_to = mark.index if mark is not None else 0
    covered.sort()
    k = 0
    line_start = 0
    for number, row in enumerate(text.split("\n"), start=1):
        at = -1
        for match in re.finditer("#", row):
            index = line_start + match.start()
            while k < len(covered) and covered[k][1] <= index:
                k += 1
            inside = k < len(covered) and covered[k][0] <= index < covered[k][1] and index < scanned_to
            if not inside and (match.start() == 0 or row[match.start() - 1] in " \t"):
                at = match.start()
                break
        if at >= 0:
            yield number, row[at:], not row[:at].strip()
        line_start += len(row) + 1


def _codes(rest: str) -> tuple[tuple[str, ...], str, str]:
    """(codes, reason, problem) of the text after ``eksproxy-gen:ignore``."""
    codes: list[str] = []
    unknown: list[str] = []
    text = rest
    while True:
        match = _CODE.match(text)
        if not match:
            break
        code = match.group(0).upper()
        (codes if known_code(code) else unknown).append(code)
        text = text[match.end():]
        comma = re.match(r"\s*,\s*", text)
        if not comma:
            break
        text = text[comma.end():]
    reason = text.strip().lstrip(":-").strip()
    if unknown:
        return tuple(codes), reason, f"eksproxy-gen:ignore names {', '.join(unknown)}, which matches no rule"
    if not codes:
        return (), reason, "eksproxy-gen:ignore names no rule (write e.g. # eksproxy-gen:ignore EKSP013 reason)"
    return tuple(codes), reason, ""


def suppression_for(finding: Finding, places: list[tuple[Directives, int]]) -> Suppression | None:
    """The first directive, among (file directives, line) places, that silences the finding's rule."""
    for directives, line in places:
        directive = directives.by_line.get(line)
        if directive is not None and directive.silences(finding.rule):
            directive.used = True
            return directive
    return None


@dataclass(frozen=True)
class Suppressed:
    finding: Finding
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {**self.finding.as_dict(), "reason": self.reason}
