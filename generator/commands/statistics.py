"""Which findings ``fix`` would resolve, for ``check --statistics``: asked of fix itself, writing nothing.

A rule being fixable says only that fix writes something for it; whether a
finding is resolved depends on its group: fix refuses a group whose settings
only Terraform can compute, whose edit would change another group, or when
no proxy is configured. So the statistics run fix's own planner in ``--check``
mode over the flagged folders and mark ``[*]`` exactly the findings whose
group it accepts and whose rule that group's fix resolves. A run with no
finding of a fixable rule plans nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..config import ConfigResolver
from ..errors import UsageError
from ..options import Output
from ..policy.catalog import RULES_BY_ID, Finding
from ..report import Report
from .choices import Choices

GroupKey = tuple[str, str, str | None, str]


def fixable_findings(paths: list[Path], resolver: ConfigResolver, choices: Choices, output: Output,
                     report: Report) -> Callable[[Finding], bool]:
    """A test that is true for the findings of ``report`` that ``fix`` (with the same settings) resolves."""
    if not any(RULES_BY_ID[f.rule].fixable for f in report.findings):
        return lambda _finding: False
    from ..pipeline.fixing import WriteBack, fix
    from .collect import collect
    from .widen import widened

    flagged = {f.module_file for f in report.findings if RULES_BY_ID[f.rule].fixable}
    collected = collect(widened(paths, resolver.walk_filter), resolver)
    folders = {Path(name).parent for name in flagged}
    files = [(path, settings) for path, settings in collected.files if _display_folder(path) in folders]
    try:
        trial = fix(files, WriteBack.CHECK, output.rule_filter, None, None, choices.filters(files))
    except UsageError:  # no proxy configured, or a setting fix refuses: fix resolves nothing
        return lambda _finding: False
    resolved: dict[GroupKey, set[str]] = {}
    for outcome in trial.files:
        for group in outcome.fixed:
            resolved.setdefault((outcome.display, group.module, group.node_group, group.map), set()).update(
                group.rules)
    return lambda f: f.rule in resolved.get((f.group_file, f.module, f.node_group, f.map), set())


def _display_folder(path: Path) -> Path:
    from ..pipeline.inputs import display_name

    return Path(display_name(path)).parent
