"""``eksproxy-gen check``: report node groups whose proxy bootstrap is missing or wrong."""

from __future__ import annotations

from pathlib import Path

from ..cache import ResultCache, cache_directory
from ..config import ConfigResolver, Overrides
from ..options import Output
from ..pipeline.check import check
from .collect import collect
from .emit import emit, exit_code
from .progress import progress_bar


def run(paths: list[Path], config: Path | None, output: Output) -> int:
    collected = collect(paths, ConfigResolver(Overrides(), config))
    cache = ResultCache(cache_directory()) if output.use_cache else None
    with progress_bar(0 if output.quiet else len(collected.files)) as progress:
        result = check(collected.files, output.rule_filter, progress, cache)
    for error in collected.errors:
        result.outcome(error.file).errors.append(error)
    collected.say_if_empty(paths)
    emit(result, output, "check")
    return exit_code(result, output)
