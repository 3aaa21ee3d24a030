"""``eksproxy-gen check``: report node groups whose proxy bootstrap is missing or wrong."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import api, report, terminal
from ..analysis import ALL_RULES
from ..config import ConfigResolver, Overrides
from ..filters import RuleFilter
from ..policy.rules import Severity


@dataclass(frozen=True)
class Output:
    """How findings are shown and when they fail the run."""

    format: str = "text"
    quiet: bool = False
    fail_on: Severity = Severity.ERROR
    rule_filter: RuleFilter = ALL_RULES


def run(paths: list[Path], config: Path | None, output: Output) -> int:
    files = api.collect(paths, ConfigResolver(Overrides(), config))
    with terminal.progress_bar(0 if output.quiet else len(files)) as progress:
        result = api.check(files, output.rule_filter, progress)
    if output.format == "json":
        print(report.as_json(result))
    elif output.format == "sarif":
        print(report.sarif(result))
    elif output.format == "github":
        text = report.github(result)
        if text:
            print(text)
    else:
        terminal.print_report(result, output.quiet)
    return 1 if result.failed(output.fail_on) else 0
