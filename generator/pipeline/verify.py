"""Black's safety net for ``fix``: judge the rewritten folder before anything is written.

A set of plans is accepted only when every rewritten Terraform file still
parses, every group being fixed comes out free of the errors it was fixed
for, and no other group changes at all: not its settings, not its findings.
When the whole set fails, plans are tried one by one in order, so one bad
plan costs only its own group.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from ..edits import CannotEdit, Edit, realign_around, splice
from ..filters import RuleFilter
from ..plan import Plan
from ..policy.facts import GroupFacts
from ..policy.rules import RULES_BY_ID, Finding, Severity
from .accept import Trial, accept_in_order
from .analysis import FolderResult, GroupResult, analyse
from .visible import Visible, visible

_POSITION = re.compile(r"(?<=\w):\d+")


@dataclass(frozen=True)
class Candidate:
    group: GroupResult
    plan: Plan


@dataclass(frozen=True)
class Refusal:
    group: GroupResult
    why: str
    internal: bool = False


@dataclass(frozen=True)
class Verified:
    accepted: tuple[Candidate, ...]
    refused: tuple[Refusal, ...]
    texts: Mapping[Path, str]
    after: FolderResult
    seen: Visible


def verify(before: FolderResult, seen_before: Visible, candidates: list[Candidate], rule_filter: RuleFilter,
           text_of: Callable[[Path], str]) -> Verified:
    """Accept the candidates that pass together; refuse, with the reason, each one that does not."""
    accepted, refused, (texts, after, seen) = accept_in_order(
        candidates, lambda trial: _judge(before, seen_before, trial, rule_filter, text_of))
    return Verified(tuple(accepted), tuple(Refusal(c.group, r.why, r.internal) for c, r in refused), texts, after,
                    seen)


def spliced(candidates: list[Candidate], text_of: Callable[[Path], str]) -> dict[Path, str]:
    """The new text of every file the plans edit; CannotEdit when edits of a file overlap.

    Re-alignment comes last, on the spliced text, so that two groups that both
    change a run of aligned lines agree on its new alignment.
    """
    by_file: dict[Path, list[Edit]] = {}
    pivots: dict[Path, list[int]] = {}
    for candidate in candidates:
        for file_edit in candidate.plan.edits:
            if file_edit.realign:
                pivots.setdefault(file_edit.path, []).append(file_edit.edit.start)
            else:
                by_file.setdefault(file_edit.path, []).append(file_edit.edit)
    texts: dict[Path, str] = {}
    for path, edits in by_file.items():
        original = text_of(path)
        unique = list(dict.fromkeys(edits))
        new = splice(original, unique)
        marks = sorted({(new.count("\n", 0, _moved(pos, unique)),
                         new.count("\n", 0, _moved(original.find("\n", pos) + 1, unique)))
                        for pos in pivots.get(path, [])})
        for line, below in marks:
            new = splice(new, realign_around(new, _offset_of_line(new, line), _offset_of_line(new, below)))
        if new != original:
            texts[path] = new
    return texts


def _moved(pos: int, edits: list[Edit]) -> int:
    """Where an offset of the original text is after the edits (none of which starts before it on its line)."""
    return pos + sum(len(e.text) - (e.end - e.start) for e in edits if e.end <= pos)


def _offset_of_line(text: str, line: int) -> int:
    offset = 0
    for _ in range(line):
        offset = text.index("\n", offset) + 1
    return offset


def _judge(before: FolderResult, seen_before: Visible, candidates: list[Candidate], rule_filter: RuleFilter,
           text_of: Callable[[Path], str]) -> Trial | Refusal:
    last = candidates[-1].group if candidates else None
    try:
        texts = spliced(candidates, text_of)
    except CannotEdit as exc:
        assert last is not None
        return Refusal(last, f"its edits overlap another group's ({exc})")
    if not texts:
        return texts, before, seen_before
    after = analyse(before.input.with_texts(texts), reuse=before.loaded)
    seen = visible(after, rule_filter)
    for path in texts:
        if path in after.errors:
            culprit = next((c.group for c in candidates if any(e.path == path for e in c.plan.edits)), last)
            assert culprit is not None
            return Refusal(culprit, f"the rewritten {after.errors[path].file} would not parse "
                                    f"({after.errors[path].message}); this is a bug in eksproxy-gen, please report it",
                           internal=True)
    fixing = {c.group.key: c for c in candidates}
    after_groups = {g.key: g for g in after.groups}
    for group in before.groups:
        now = after_groups.get(group.key)
        candidate = fixing.get(group.key)
        culprit = candidate.group if candidate else last
        assert culprit is not None
        if now is None:
            return Refusal(culprit, f"after the rewrite {group.module.facts.name}.{group.group.facts.name} "
                                    "could no longer be found")
        if candidate is not None:
            had = {f.rule for f in seen_before.of(group)}
            left = [f for f in seen.of(now) if f.severity is Severity.ERROR and f.rule not in candidate.plan.leaves
                    and (f.fixable or f.rule not in had)]
            if left:
                return Refusal(culprit, f"after the rewrite it would still be flagged ({left[0].rule}: "
                                        f"{left[0].message}); edit that by hand")
            continue
        changed = _semantic(group.group.facts) != _semantic(now.group.facts)
        inert = group.group.facts.launch_template is False and now.group.facts.launch_template is False and \
            not any(seen_before.silenced(group, rule) for rule in RULES_BY_ID)
        if (changed and not inert) or comparable(seen_before.of(group)) != comparable(seen.of(now)):
            return Refusal(culprit, f"the edit would also change {group.module.facts.name}."
                                    f"{group.group.facts.name}, which is not being fixed (silenced, not selected, "
                                    "or not flagged); give that group its own settings first")
    return texts, after, seen


def comparable(findings: list[Finding]) -> list[tuple[str, str]]:
    """Findings as rule and message without positions, which any edit above them shifts."""
    return sorted((f.rule, _POSITION.sub("", f.message)) for f in findings)


def _semantic(facts: GroupFacts) -> str:
    """A group's settings without positions, which any edit above them shifts."""
    parts = facts.parts
    if isinstance(parts, tuple):
        parts = tuple(replace(p, line=0, origin=None) for p in parts)
    plain = replace(facts, line=0, parts=parts, bootstrap_origin=None, pre_bootstrap_origin=None)
    return _POSITION.sub("", repr(plain))
