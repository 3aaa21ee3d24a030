"""What ``fix`` tells about a folder, for every kind of target: what it fixed, what it refused and why, the diff.

One report for node groups, node classes and the controller: a fixed target
becomes a ``GroupFix`` naming the rules it resolved; a refused one an EKSP010
finding saying why it was not rewritten (or an internal error, when the
rewrite would have been a bug of eksproxy-gen).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..plan import Plan
from ..policy.catalog import NOT_STATIC, Finding, Severity
from ..policy.values import mask_credentials
from ..report import FileError, GroupFix, Report
from ..source import SourceFile
from .analysis import FolderResult
from .checking import add_folder
from .inputs import display_name
from .lines import WrittenLines, as_written, written_message
from .trial import Refusal, Verdict
from .visible import Visible

MASKED_NOTE = "(proxy credentials shown as ***; the file gets the real value)"
REFUSED = "not rewritten: "


@dataclass(frozen=True)
class Outcome:
    """A folder's fix before anything is written: the folder before, what the user saw, and the verdict."""

    before: FolderResult
    seen: Visible
    verdict: Verdict
    refused: tuple[Refusal, ...]
    sources: Mapping[Path, SourceFile]
    notes: tuple[str, ...] = ()


def report_fixes(report: Report, outcome: Outcome, diffs: bool) -> None:
    """Findings left, refusals and fixes of one folder into ``report``; with ``diffs`` the diff of each file.

    Findings left are those of the folder as rewritten. Notes and refusals
    were told while planning, in lines of the files as read: a writing fix
    (``report.mode`` "write") tells them in lines of the files as written; one
    that writes nothing leaves them at the lines on disk.
    """
    trial = outcome.verdict.trial
    add_folder(report, trial.after, trial.seen)
    written = {display_name(path): WrittenLines(outcome.sources[path].text, text)
               for path, text in trial.texts.items()} if report.mode == "write" else {}
    refused = {r.target.key for r in outcome.refused}
    for refusal in outcome.refused:
        _add_refusal(report, refusal, trial.after, written)
    for path, text in trial.texts.items():
        display = display_name(path)
        changed = report.outcome(display)
        changed.changed = True
        if diffs:
            changed.diff = diff(outcome.sources[path].text, text, display)
    now_by_key = {t.key: t for t in trial.after.targets}
    for candidate in outcome.verdict.accepted:
        target = candidate.target
        if target.key in refused:
            continue
        now = now_by_key.get(target.key)
        still = {f.rule for f in trial.seen.of(now)}
        # the settings are the same before and after: every rule that no longer fires was resolved by the rewrite
        # (the #! line the AL2 block adds resolves EKSP027, the replaced script its EKSP014 lines)
        resolved = [f for f in outcome.seen.of(target) if f.rule not in still]
        left = [f for f in trial.seen.of(now) if f.severity is Severity.ERROR]
        ref = target.ref
        fixed = report.outcome(ref.file)
        fixed.fixed.append(GroupFix(ref.owner, ref.name, tuple(sorted({f.rule for f in resolved})), not left, ref.map,
                                    len(resolved)))
        fixed.notes += notes(target.location, candidate.plan, complete=not left)
    if outcome.verdict.accepted:
        report.outcome(outcome.verdict.accepted[0].target.ref.file).notes.extend(outcome.notes)
    as_written(report, written)


def notes(where: str, plan: Plan, *, complete: bool) -> list[str]:
    """What a fix tells about one target: the plan's notes, then what it left for the user.

    What it left is "not fully fixed" only while findings say so (and the
    summary counts them); proxy lines no rule flags any more are named as a
    step by hand beside "0 left", never as a fix that is not complete.
    """
    if not plan.left_message:
        left = []
    elif complete:
        left = [f"no finding is left, but {plan.left_message}"]
    else:
        left = [f"not fully fixed: {plan.left_message}"]
    return [f"{where}: {note}" for note in (*plan.notes, *left)]


def _add_refusal(report: Report, refusal: Refusal, after: FolderResult, written: Mapping[str, WrittenLines]) -> None:
    now = after.target(refusal.target.key) or refusal.target
    ref = now.ref
    why = written_message(refusal.why, written)
    if refusal.internal:
        report.outcome(ref.file).errors.append(FileError(ref.file, ref.line, f"internal error: {why}",
                                                         internal=True))
        return
    finding: Finding = ref.finding(NOT_STATIC, f"{REFUSED}{why}")
    report.outcome(ref.file).findings.append(finding)


def diff(old: str, new: str, display: str) -> str:
    """The unified diff, credentials masked; the header says so, since ``git apply`` of it would not match."""
    text = "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        fromfile=f"a/{display}", tofile=f"b/{display}"))
    masked = mask_credentials(text)
    if masked == text:
        return text
    head, _, rest = masked.partition("\n")
    return f"{head}\t{MASKED_NOTE}\n{rest}"
