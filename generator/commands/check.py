"""``eksproxy-gen check``: report node groups whose proxy bootstrap is missing or wrong.

A re-scan of an unchanged tree is answered from the tree's snapshot before
anything else is imported or read; otherwise every folder is checked, each
through the per-folder cache, and a new snapshot is stored.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..cache import ResultCache, TreeSnapshot, cache_directory, context_key
from ..options import Output
from ..report import Report
from .emit import coloured, emit

if TYPE_CHECKING:
    from ..config import ConfigResolver
    from .choices import Choices
    from .collect import Collected


def run(paths: list[Path], config: Path | None, output: Output) -> int:
    from ..config import ConfigResolver, Overrides
    from .choices import Choices

    started = time.time_ns()
    snapshot = _snapshot(paths, config, output)
    stored = snapshot.get() if snapshot else None
    result = Report.from_stored(stored) if stored is not None else None
    resolver = ConfigResolver(Overrides(), config)
    choices = Choices(resolver, output)
    if result is None:
        result = _check(paths, resolver, choices, output, snapshot, started)
    fixable = None
    if output.statistics:
        from .statistics import fixable_findings

        fixable = fixable_findings(paths, resolver, choices, output, result)
    emit(result, output, "check", fixable=fixable)
    return choices.exit_code(result)


def _check(paths: list[Path], resolver: ConfigResolver, choices: Choices, output: Output,
           snapshot: TreeSnapshot | None, started: int) -> Report:
    from ..pipeline.checking import check
    from .choices import refuse_settings_errors
    from .collect import collect
    from .progress import progress_bar
    from .widen import widened

    collected = collect(widened(paths, resolver.walk_filter), resolver)
    refuse_settings_errors(collected.settings_errors)
    cache = ResultCache(cache_directory()) if output.use_cache else None
    with progress_bar(0 if output.quiet else len(collected.files), coloured(output)) as progress:
        result = check(collected.files, output.rule_filter, progress, cache, choices.filters(collected.files))
    for error in collected.errors:
        result.outcome(error.file).errors.append(error)
    collected.say_if_empty(paths, result)
    if snapshot is not None and cache is not None and collected.files:
        _store(snapshot, started, collected, cache, result, resolver)
    return result


def _store(snapshot: TreeSnapshot, started: int, collected: Collected, cache: ResultCache, result: Report,
           resolver: ConfigResolver) -> None:
    """Snapshot what this run depended on: folders listed, settings files looked for, and each folder's files.

    A settings file that would appear in a listed folder changes that folder's
    time stamp; in a folder above the tree, only looking at its path tells. An
    edit of a .gitignore changes what the walk leaves out without touching the
    folder's time stamp, so those files are looked at too.
    """
    folders = {str(path.parent) for path, _settings in collected.files}
    listed = {os.path.normpath(folder) for folder in (*folders, *collected.walked.folders)}
    others = {*collected.settings_files, *collected.walked.yaml_left_out,
              *resolver.walk_filter.dependencies(sorted(listed))}
    absolute = {os.path.abspath(folder) for folder in listed}
    others.update(path for path in collected.settings_absent if os.path.dirname(path) not in absolute)
    known: dict[str, list[int]] = {}
    for folder in folders:
        states = cache.file_states(folder)
        if states is None:
            return
        known.update(states)
    snapshot.put(started, sorted(listed), known, others, result.to_data())


def _snapshot(paths: list[Path], config: Path | None, output: Output) -> TreeSnapshot | None:
    """The snapshot of this command line, when the cache is on and every path is a folder.

    Named files (as pre-commit passes them) change from run to run, so only
    whole trees get one.
    """
    if not output.use_cache or not all(path.is_dir() for path in paths):
        return None
    key = context_key(os.getcwd(), sorted(os.path.abspath(p) for p in paths),
                      None if config is None else os.path.abspath(config), output.rule_filter)
    return TreeSnapshot(cache_directory(), key)
