"""What of a folder's findings the user sees: the selected rules, minus what ``eksproxy-gen:ignore`` silences."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .. import fsguard
from ..filters import Directives, RuleFilter, Suppressed, parse_directives, suppression_for
from ..policy.catalog import RULES_BY_ID, Finding, TargetKey
from ..report import Notice
from .inputs import display_name

if TYPE_CHECKING:
    from .analysis import FolderResult
    from .targets import Target


@dataclass
class Visible:
    """Visible findings by group key, module-wide findings, what was silenced, and unreadable directives."""

    groups: dict[TargetKey, list[Finding]] = field(default_factory=dict)
    modules: list[Finding] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)
    directives: dict[str, Directives] = field(default_factory=dict)

    places: dict[TargetKey, list[tuple[Directives, int]]] = field(default_factory=dict)
    rule_filter: RuleFilter = field(default_factory=RuleFilter)

    def of(self, target: Target | None) -> list[Finding]:
        return self.groups.get(target.key, []) if target is not None else []

    def silenced(self, target: Target, rule: str) -> bool:
        """Whether an ignore comment on the target's or its owner's line silences ``rule`` for the target."""
        return any((d := directives.by_line.get(line)) is not None and d.silences(rule)
                   for directives, line in self.places.get(target.key, []))

    def silences_any(self, target: Target) -> bool:
        return any(self.silenced(target, rule) for rule in RULES_BY_ID)


def visible(result: FolderResult, rule_filter: RuleFilter) -> Visible:
    out = Visible(rule_filter=rule_filter)

    def directives(path: Path, display: str) -> Directives:
        if display not in out.directives:
            text = result.text(path) if path in result.loaded or path in result.yaml_sources else _read(path)
            out.directives[display] = parse_directives(text, display)
        return out.directives[display]

    def keep(found: Iterable[Finding], places: list[tuple[Path, int]]) -> list[Finding]:
        kept: list[Finding] = []
        for finding in found:
            if not rule_filter.keeps(finding.rule):
                continue
            spots = [(directives(path, display_name(path)), line) for path, line in places]
            spots.append((directives(_path_of(result, finding.file), finding.file), finding.line))
            directive = suppression_for(finding, spots)
            if directive is None:
                kept.append(finding)
            else:
                out.suppressed.append(Suppressed(finding, directive.reason))
        return kept

    for target in result.targets:
        places = [(_path_of(result, file), line) for file, line in target.places]
        out.places[target.key] = [(directives(path, display_name(path)), line) for path, line in places]
        out.groups[target.key] = keep(target.findings, places)
    for module in result.modules:
        out.modules += keep(module.findings, [(module.path, module.facts.line)])
    for path in result.input.targets:
        directives(path, display_name(path))
    return out


def notices(directives: Directives, rule_filter: RuleFilter) -> list[Notice]:
    """Ignore comments that name no rule, and (on request) those that silenced nothing of what was checked."""
    found = [Notice(directives.file, line, why) for line, why in directives.problems]
    for directive in directives.all:
        if not directive.used and all(c == "ALL" or rule_filter.keeps(c) for c in directive.codes):
            found.append(Notice(directive.file, directive.line,
                                f"eksproxy-gen:ignore {','.join(directive.codes)} silences nothing", "unused"))
    return found


def _path_of(result: FolderResult, display: str) -> Path:
    """The path of a file of the folder that the user knows by ``display``."""
    for path in (*result.loaded, *result.yaml_sources):
        if display_name(path) == display:
            return path
    return Path(display)


def _read(path: Path) -> str:
    """A file's text for its ignore comments only; one that may not be read (fsguard) has none."""
    try:
        return fsguard.read_bytes(path).decode("utf-8", errors="replace")
    except OSError:
        return ""
