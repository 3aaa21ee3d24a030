"""The outcome of a run: findings, errors, what was fixed, per file. Every output format reads this.

The report is also the one place that decides the exit code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .filters import Suppressed
from .policy.catalog import Finding, Severity
from .policy.facts import location

EXIT_OK, EXIT_FAILED, EXIT_INTERNAL = 0, 1, 3


@dataclass(frozen=True)
class FileError:
    """A file that could not be read, parsed or written; ``internal`` marks a failure of eksproxy-gen itself."""

    file: str
    line: int
    message: str
    internal: bool = False

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "message": self.message}


NOT_JUDGED = "not-judged"


@dataclass(frozen=True)
class Notice:
    """A remark about the input that is not a finding: an ignore comment that names no rule, or silences nothing,
    or (kind ``not-judged``) EKS nodes eksproxy-gen found but cannot judge, so "0 findings" never covers them."""

    file: str
    line: int
    message: str
    kind: str = "malformed"

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "message": self.message, "kind": self.kind}


@dataclass(frozen=True)
class GroupFix:
    """A group ``fix`` changed: the rules it resolved, and whether the group is now free of errors."""

    module: str
    node_group: str | None
    rules: tuple[str, ...]
    complete: bool = True
    map: str = ""
    findings: int = 0

    @property
    def location(self) -> str:
        return location(self.module, self.node_group)

    def as_dict(self) -> dict[str, object]:
        return {"module": self.module, "node_group": self.node_group, "map": self.map or None,
                "rules": list(self.rules), "findings": self.findings, "complete": self.complete}


@dataclass
class FileOutcome:
    display: str
    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    fixed: list[GroupFix] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    changed: bool = False
    diff: str = ""


@dataclass
class Report:
    files: list[FileOutcome] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)
    modules: list[dict[str, object]] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    resources: list[dict[str, object]] = field(default_factory=list)
    mode: str = ""
    _by_display: dict[str, FileOutcome] = field(default_factory=dict, repr=False)

    def outcome(self, display: str) -> FileOutcome:
        """The outcome of one file, created on first use."""
        found = self._by_display.get(display)
        if found is None:
            found = self._by_display[display] = FileOutcome(display)
            self.files.append(found)
        return found

    def merge(self, other: Report) -> None:
        """Add another report's files (a folder analysed elsewhere) to this one."""
        for outcome in other.files:
            mine = self.outcome(outcome.display)
            mine.findings += outcome.findings
            mine.errors += outcome.errors
            mine.fixed += outcome.fixed
            mine.notes += outcome.notes
            mine.changed = mine.changed or outcome.changed
            mine.diff = mine.diff or outcome.diff
        self.suppressed += other.suppressed
        self.modules += other.modules
        self.notices += other.notices
        self.resources += other.resources

    def to_data(self) -> dict[str, object]:
        """Plain data that from_data turns back into an equal report (for the result cache)."""
        return {
            "files": [{"display": o.display, "findings": [asdict(f) for f in o.findings],
                       "errors": [asdict(e) for e in o.errors]} for o in self.files],
            "suppressed": [{"finding": asdict(s.finding), "reason": s.reason} for s in self.suppressed],
            "modules": self.modules,
            "notices": [asdict(n) for n in self.notices],
            "resources": self.resources,
        }

    @staticmethod
    def from_data(data: dict[str, Any]) -> Report:
        report = Report()
        for item in data["files"]:
            outcome = report.outcome(item["display"])
            outcome.findings = [Finding(**f) for f in item["findings"]]
            outcome.errors = [FileError(**e) for e in item["errors"]]
        report.suppressed = [Suppressed(Finding(**s["finding"]), s["reason"]) for s in data["suppressed"]]
        report.modules = list(data["modules"])
        report.notices = [Notice(**n) for n in data["notices"]]
        report.resources = list(data.get("resources", []))
        return report

    @staticmethod
    def from_stored(data: dict[str, Any]) -> Report | None:
        """A report kept by the cache, or None when the data is not one: a damaged cache is only a slower run."""
        try:
            return Report.from_data(data)
        except (KeyError, TypeError, ValueError, AttributeError):
            return None

    def sort(self) -> None:
        """Findings by line within each file: the order every format prints them in."""
        for outcome in self.files:
            outcome.findings.sort(key=lambda f: (f.line, f.rule, f.location))

    @property
    def findings(self) -> list[Finding]:
        return [f for outcome in self.files for f in outcome.findings]

    @property
    def errors(self) -> list[FileError]:
        return [e for outcome in self.files for e in outcome.errors]

    @property
    def changed(self) -> list[FileOutcome]:
        return [o for o in self.files if o.changed]

    @property
    def not_judged(self) -> list[Notice]:
        return [n for n in self.notices if n.kind == NOT_JUDGED]

    @property
    def fixed(self) -> list[GroupFix]:
        return [g for o in self.files for g in o.fixed]

    def failed(self, fail_on: Severity = Severity.ERROR) -> bool:
        """Unreadable files, or findings at or above ``fail_on``."""
        if self.errors:
            return True
        levels = {Severity.ERROR} if fail_on is Severity.ERROR else {Severity.ERROR, Severity.WARNING}
        return any(f.severity in levels for f in self.findings)

    def exit_code(self, fail_on: Severity = Severity.ERROR) -> int:
        if any(e.internal for e in self.errors):
            return EXIT_INTERNAL
        return EXIT_FAILED if self.failed(fail_on) else EXIT_OK
