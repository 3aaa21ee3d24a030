"""The plain text lines: ``file:line: RULE severity module.group: message``, statistics and summaries.

Every line is passed through ``printable``: names and messages come from the
repository checked, and a newline or escape sequence in them must not reach a
terminal or a CI log as one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from ..policy.catalog import RULES_BY_ID, Finding, Severity
from ..report import FileError, Notice, Report
from .escape import printable


def finding_line(f: Finding) -> str:
    return printable(f"{f.file}:{f.line}: {f.rule} {f.severity.value} {f.location}: {f.message}")


def error_line(e: FileError) -> str:
    return printable(f"{e.file}:{e.line}: error: {e.message}")


def notice_line(n: Notice) -> str:
    return printable(f"{n.file}:{n.line}: warning: {n.message}")


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _counts(findings: list[Finding]) -> str:
    errors = sum(1 for f in findings if f.severity is Severity.ERROR)
    return (f"{plural(len(findings), 'finding')} ({plural(errors, 'error')}, "
            f"{plural(len(findings) - errors, 'warning')})")


def summary(report: Report, kind: str = "check", findings_left_to: str | None = None) -> str:
    """One line that says what happened: what was found, or what fix did and what is left.

    ``findings_left_to`` names who reports what fix leaves (the check hook run
    after it): the line then says so instead of counting them.
    """
    if kind == "fix":
        fixed = report.fixed
        if findings_left_to is not None:
            left = f"findings left are reported by {findings_left_to}"
        else:
            left = f"{_counts(report.findings)} left" if report.findings else "0 left"
        if fixed:
            verb = "fixed" if report.mode == "write" else "would fix"
            resolved = sum(g.findings for g in fixed)
            text = (f"{verb} {plural(resolved, 'finding')} in {plural(len(fixed), 'group')} "
                    f"({plural(len(report.changed), 'file')}); {left}")
        else:
            text = f"nothing to fix; {left}"
    else:
        text = f"{_counts(report.findings)} in {plural(len(report.files), 'file')}"
    if report.suppressed:
        text += f", {len(report.suppressed)} suppressed"
    if report.errors:
        text += f"; {plural(len({e.file for e in report.errors}), 'file')} could not be processed"
    if report.not_judged:
        text += f"; {len(report.not_judged)} not judged (see the warnings)"
    return text + "."


def text(report: Report) -> str:
    """Errors, then findings, a line each: the summary goes to stderr, apart from the report."""
    return "\n".join([*(error_line(e) for e in report.errors), *(finding_line(f) for f in report.findings)])


def rule_counts(report: Report) -> list[tuple[str, str, int, str]]:
    """(rule, severity, count, title), by rule."""
    counts = Counter(f.rule for f in report.findings)
    return [(rule, RULES_BY_ID[rule].severity.value, n, RULES_BY_ID[rule].title) for rule, n in sorted(counts.items())]


def statistics(report: Report, fixable: Callable[[Finding], bool]) -> str:
    """Counts by rule, as ``ruff --statistics`` prints them; ``[*]`` marks the findings fix would resolve.

    Whether fix resolves a finding depends on its group (a group fix refuses
    keeps all its findings), so a rule some of whose findings fix resolves and
    some not gets two rows: the fixable ones with ``[*]``, then the others.
    """
    counts = Counter((f.rule, not fixable(f)) for f in report.findings)
    rows = [f"{count:>5}  {rule}  {'   ' if left else '[*]'}  {RULES_BY_ID[rule].title}"
            for (rule, left), count in sorted(counts.items())]
    return "".join(row + "\n" for row in rows)


def fix_lines(report: Report) -> str:
    """What fix did, file by file, then each note once, then what is left."""
    verb = "fixed" if report.mode == "write" else "would fix"
    lines: list[str] = []
    for outcome in report.files:
        complete = sorted(g.location for g in outcome.fixed if g.complete)
        partial = sorted(g.location for g in outcome.fixed if not g.complete)
        if complete:
            lines.append(printable(f"{outcome.display}: {verb} {', '.join(complete)}"))
        if partial:
            lines.append(printable(f"{outcome.display}: changed, errors left in {', '.join(partial)}"))
    notes = dict.fromkeys(printable(f"{o.display}: note: {note}") for o in report.files for note in o.notes)
    lines += list(notes)
    lines += [error_line(e) for e in report.errors]
    lines += [finding_line(f) for f in report.findings]
    return "\n".join(lines)
