"""``eksproxy-gen check``: report node groups whose proxy bootstrap is missing or wrong."""

from __future__ import annotations

from pathlib import Path

from .. import terminal
from ..config import ConfigResolver, Overrides
from ..formats.github import github
from ..formats.json import as_json
from ..formats.sarif import sarif
from ..options import Output
from ..pipeline.check import check
from .collect import collect


def run(paths: list[Path], config: Path | None, output: Output) -> int:
    collected = collect(paths, ConfigResolver(Overrides(), config))
    with terminal.progress_bar(0 if output.quiet else len(collected.files)) as progress:
        result = check(collected.files, output.rule_filter, progress)
    for error in collected.errors:
        result.outcome(error.file).errors.append(error)
    if output.format == "json":
        print(as_json(result))
    elif output.format == "sarif":
        print(sarif(result))
    elif output.format == "github":
        text = github(result)
        if text:
            print(text)
    else:
        terminal.print_report(result, output.quiet)
    return result.exit_code(output.fail_on)
