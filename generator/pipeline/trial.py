"""Black's safety net for ``fix``: judge the rewritten folder before anything is written, for every kind of target.

A set of plans is accepted only when every rewritten Terraform file still
parses, every target being fixed comes out free of the errors it was fixed
for, and no other target changes at all: not its settings, not its findings.
When the whole set fails, plans are tried one by one in order, so one bad
plan costs only its own target.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ..discover import folder_files
from ..edits import CannotEdit, Edit
from ..filters import RuleFilter
from ..layout import spliced_and_realigned
from ..plan import Plan
from ..policy.catalog import Finding, Severity
from .analysis import FolderResult, analyse
from .inputs import display_name
from .readers import Reader, changed_locals, outside_readers
from .targets import NodeGroupTarget, Target
from .visible import Visible, visible

_POSITION = re.compile(r"(?<=\w):\d+")

T = TypeVar("T")
W = TypeVar("W")


@dataclass(frozen=True)
class Candidate:
    """A target and the plan that would fix it."""

    target: Target
    plan: Plan


@dataclass(frozen=True)
class Refusal:
    """A target that is not rewritten, and why; ``internal`` marks a bug of eksproxy-gen rather than the input."""

    target: Target
    why: str
    internal: bool = False


@dataclass(frozen=True)
class Trial:
    """The folder as it would be: new texts of the files edited, the folder judged with them, what the user sees."""

    texts: Mapping[Path, str]
    after: FolderResult
    seen: Visible


@dataclass(frozen=True)
class Verdict:
    """The outcome of trying a folder's plans: those accepted, those refused (with why), and the trial of the first."""

    accepted: tuple[Candidate, ...]
    refused: tuple[Refusal, ...]
    trial: Trial


def accept_in_order(items: list[T], judge: Callable[[list[T]], Trial | W]) -> tuple[list[T], list[tuple[T, W]], Trial]:
    """The items accepted, each refused one with why, and the folder judged with the accepted ones in place.

    ``judge`` returns the trial, or why the last item of the list it was given
    is refused; it returns the folder as it was for an empty list.
    """
    together = judge(items)
    if isinstance(together, Trial):
        return items, [], together
    accepted: list[T] = []
    refused: list[tuple[T, W]] = []
    result: Trial | None = None
    for item in items:
        trial = judge([*accepted, item])
        if isinstance(trial, Trial):
            accepted.append(item)
            result = trial
        else:
            refused.append((item, trial))
    if result is None:
        unchanged = judge([])
        assert isinstance(unchanged, Trial), "nothing to apply cannot be refused"
        result = unchanged
    return accepted, refused, result


def try_plans(before: FolderResult, seen_before: Visible, candidates: list[Candidate], rule_filter: RuleFilter,
              text_of: Callable[[Path], str]) -> Verdict:
    """Accept the candidates that pass together; refuse, with the reason, each one that does not."""
    accepted, refused, trial = accept_in_order(
        candidates, lambda tried: judge(before, seen_before, tried, rule_filter, text_of))
    return Verdict(tuple(accepted), tuple(r for _c, r in refused), trial)


def spliced(candidates: list[Candidate], text_of: Callable[[Path], str]) -> dict[Path, str]:
    """The new text of every file the plans edit; CannotEdit when edits of a file overlap."""
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
        new = spliced_and_realigned(original, edits, pivots.get(path, []))
        if new != original:
            texts[path] = new
    return texts


def judge(before: FolderResult, seen_before: Visible, candidates: list[Candidate], rule_filter: RuleFilter,
          text_of: Callable[[Path], str]) -> Trial | Refusal:
    """The folder with these plans applied, or why the last of them (or the one to blame) is refused."""
    last = candidates[-1].target if candidates else None
    try:
        texts = spliced(candidates, text_of)
    except CannotEdit as exc:
        assert last is not None
        return Refusal(last, f"its edits overlap those of another fix ({exc})")
    if not texts:
        return Trial(texts, before, seen_before)
    after = analyse(before.input.with_texts(texts), reuse=before.loaded)
    seen = visible(after, rule_filter)
    for path in texts:
        if path in after.errors:
            culprit = next((c.target for c in candidates if any(e.path == path for e in c.plan.edits)), last)
            assert culprit is not None
            return Refusal(culprit, f"the rewritten {after.errors[path].file} would not parse "
                                    f"({after.errors[path].message}); this is a bug in eksproxy-gen, please report it",
                           internal=True)
    reader = _outside_reader(before, after, texts, text_of)
    if reader is not None:
        culprit = next((c.target for c in candidates for e in c.plan.edits
                        if reader.local in _defined_in(before, e.path)), last)
        assert culprit is not None
        through = f" through local.{reader.via}" if reader.via else ""
        return Refusal(culprit, f"the edit would change local.{reader.local}, which {reader.block} also reads"
                                f"{through} ({reader.file}:{reader.line}); give the group parts of its own "
                                f"(concat(local.{reader.local}, [...]) with what `eksproxy-gen render` prints), or "
                                f"add them to local.{reader.local} by hand if {reader.block} needs them too")
    fixing = {c.target.key: c for c in candidates}
    now_by_key = {t.key: t for t in after.targets}
    for target in before.targets:
        now = now_by_key.get(target.key)
        candidate = fixing.get(target.key)
        culprit = candidate.target if candidate else last
        assert culprit is not None
        if now is None:
            return Refusal(culprit, f"after the rewrite {target.location} could no longer be found")
        if candidate is not None:
            left = errors_left(seen_before.of(target), seen.of(now), candidate.plan)
            if left:
                return Refusal(culprit, f"after the rewrite it would still be flagged ({left[0].rule}: "
                                        f"{left[0].message}); edit that by hand")
            continue
        changed = target.semantic() != now.semantic()
        inert = target.inert and now.inert and not seen_before.silences_any(target)
        if (changed and not inert) or comparable(seen_before.of(target)) != comparable(seen.of(now)):
            hint = "; give that group its own settings first" if isinstance(target, NodeGroupTarget) else ""
            return Refusal(culprit, f"the edit would also change {target.location}, {_left_alone(target, seen_before)}"
                                    f"{hint}")
    return Trial(texts, after, seen)


def _outside_reader(before: FolderResult, after: FolderResult, texts: Mapping[Path, str],
                    text_of: Callable[[Path], str]) -> Reader | None:
    """The first block outside the folder's boot targets that reads a local the rewrite changes, if any."""
    names = changed_locals(before, after, texts)
    if not names:
        return None

    def current(path: Path) -> str | None:  # as on disk: the readers are the same, and lines are said as there
        try:
            return text_of(path)
        except (OSError, UnicodeDecodeError, CannotEdit):  # unreadable: already an error of the folder
            return None

    owners = {target.ref.owner for target in before.targets}
    readers = outside_readers(names, folder_files(before.input.folder), current, owners, display_name)
    return readers[0] if readers else None


def _defined_in(result: FolderResult, path: Path) -> set[str]:
    loaded = result.loaded.get(path)
    return {attr.name for block in loaded.doc.body.blocks if block.type == "locals"
            for attr in block.body.attributes} if loaded is not None else set()


def _left_alone(target: Target, seen: Visible) -> str:
    """Why the other target the edit reaches may not change with it, in the words that fit it."""
    flagged = seen.of(target)
    silenced = seen.silences_any(target)
    if any(f.fixable and f.severity is Severity.ERROR for f in flagged):
        if silenced:
            return ("which reads the same definition but needs other parts written (an eksproxy-gen:ignore "
                    "comment silences some of its rules)")
        return ("which reads the same definition but needs other values written (its own cluster's NO_PROXY, "
                "family or settings)")
    if silenced:
        return "which an eksproxy-gen:ignore comment silences"
    if target.findings and not flagged:
        return "whose findings are not selected (--select/--ignore)"
    return "which is not flagged (its proxy set-up is fine as it is)"


def errors_left(had: list[Finding], now: list[Finding], plan: Plan) -> list[Finding]:
    """Errors a fixed target still has that the fix was for: fixable ones, or ones it did not have before,
    except those the plan knowingly leaves."""
    before = {f.rule for f in had}
    return [f for f in now if f.severity is Severity.ERROR and f.rule not in plan.leaves
            and (f.fixable or f.rule not in before)]


def comparable(findings: list[Finding]) -> list[tuple[str, str]]:
    """Findings as rule and message without positions, which any edit above them shifts."""
    return sorted((f.rule, _POSITION.sub("", f.message)) for f in findings)
