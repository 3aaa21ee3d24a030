"""Folders settled without parsing them, for ``check`` and ``fix`` alike: from the result cache, or from bytes.

A folder whose files cannot hold a terraform-aws-eks call (or a Karpenter
node class or chart) is settled from its bytes alone; one whose files the
cache has seen unchanged gets the stored report. Only the others pay for
parsing, modelling and judging, on every core when there are enough, and a
folder whose analysis fails is reported as such while the run goes on.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Generic, TypeVar

from .. import fsguard
from ..cache import ResultCache, context_key, tool_fingerprint
from ..discover import YAML_SUFFIXES, folder_names, might_call_eks, outside_dependencies
from ..errors import EksproxyError
from ..filters import RuleFilter, parse_directives
from ..policy.settings import Settings
from ..report import FileError, Report
from ..source import encoding_error, source_from_bytes
from .inputs import FolderInput, display_name
from .visible import notices

T = TypeVar("T")
DEBUG_ENV = "EKSPROXY_GEN_DEBUG"


@dataclass(frozen=True)
class FolderCheck:
    """One folder's report, and the files outside it the report depends on."""

    report: Report
    outside: frozenset[Path]


class Settler:
    """Settles folders from the cache or their bytes for one run's rule selection; stores what was computed."""

    def __init__(self, rule_filter: RuleFilter, cache: ResultCache | None) -> None:
        self.rule_filter = rule_filter
        self.cache = cache

    def settle(self, inp: FolderInput, usable: Callable[[Report], bool] = lambda _report: True) -> Report | None:
        """The folder's report without parsing it, or None when it must be analysed.

        A stored report is used when ``usable`` says so (``fix`` cannot use one
        that has something to fix); a folder that cannot call the module is
        settled from its bytes and stored.
        """
        if self.cache is not None:
            stored = self.cache.get(inp.folder, self._context(inp), folder_files(inp))
            kept = Report.from_stored(stored) if stored is not None else None
            if kept is not None:
                return kept if usable(kept) else None
        quiet = quiet_folder(inp, self.rule_filter)
        if quiet is None:
            return None
        self.store(inp, quiet)
        return quiet.report

    def store(self, inp: FolderInput, done: FolderCheck) -> None:
        if self.cache is not None:
            self.cache.put(inp.folder, self._context(inp), folder_files(inp), set(done.outside),
                           done.report.to_data())

    def save(self) -> None:
        if self.cache is not None:
            self.cache.save()

    def _context(self, inp: FolderInput) -> str:
        """What besides file contents a folder's report depends on."""
        return context_key(_run_context(inp.settings, self.rule_filter), sorted(p.name for p in inp.targets))


@lru_cache(maxsize=64)
def _run_context(settings: Settings, rule_filter: RuleFilter) -> str:
    return context_key(tool_fingerprint(), settings, rule_filter, os.getcwd(), fsguard.roots())


def folder_files(inp: FolderInput) -> list[str]:
    """Every Terraform file of the folder (a folder's verdict depends on all of them), sorted."""
    folder = str(inp.folder)
    prefix = "" if folder == "." else folder.rstrip(os.sep) + os.sep
    return sorted({*(prefix + name for name in folder_names(folder)), *map(str, inp.targets)})


def quiet_folder(inp: FolderInput, rule_filter: RuleFilter) -> FolderCheck | None:
    """The report of a folder none of whose files can call terraform-aws-eks; None when one can."""
    report = Report()
    contents: list[bytes] = []
    targets = {str(p): p for p in inp.targets}
    for name in folder_files(inp):
        try:
            raw = fsguard.read_bytes(name)
        except OSError:  # refused too: the folder is analysed, which says why
            return None
        if might_call_eks(raw, inp.folder):
            return None
        contents.append(raw)
        if name in targets:
            outcome = report.outcome(display_name(targets[name]))
            error = None if name.endswith(YAML_SUFFIXES) else encoding_error(raw)
            if error is not None:
                outcome.errors.append(FileError(outcome.display, error.line, error.message))
            elif b"eksproxy-gen:ignore" in raw:
                text = source_from_bytes(targets[name], raw).text
                report.notices += notices(parse_directives(text, outcome.display), rule_filter)
    return FolderCheck(report, frozenset(outside_dependencies(inp.folder, contents)))


def analysed(pending: list[FolderInput], work: Callable[[FolderInput], T],
             failed: Callable[[FolderInput, str], T]) -> Iterator[tuple[FolderInput, T]]:
    """Each pending folder with its result, on every core when there are enough; workers fork with the parser
    loaded. A folder whose ``work`` raises gets ``failed(folder, why)`` instead, and the others go on."""
    if not pending:
        return iter(())
    from ..hcl import load_parser
    from . import analysis, parallel, visible  # noqa: F401  (imported once here, not in every worker)

    load_parser()
    return parallel.run(pending, _Guarded(work, failed))


class _Guarded(Generic[T]):
    """``work`` that turns an unexpected exception into ``failed``'s result (a picklable callable for workers)."""

    def __init__(self, work: Callable[[FolderInput], T], failed: Callable[[FolderInput, str], T]) -> None:
        self.work, self.failed = work, failed

    def __call__(self, inp: FolderInput) -> T:
        try:
            return self.work(inp)
        except EksproxyError:  # a usage error stops the run with nothing written, as it says
            raise
        except Exception as exc:
            if os.environ.get(DEBUG_ENV):
                raise
            return self.failed(inp, f"{type(exc).__name__}: {exc}")


def failure_report(inp: FolderInput, why: str) -> Report:
    """A folder whose analysis failed: an internal error at its first file, so the run says so and exits 3."""
    first = display_name(inp.targets[0]) if inp.targets else str(inp.folder)
    report = Report()
    report.outcome(first).errors.append(FileError(first, 1, f"internal error while reading this folder: {why} (set "
                                                            f"{DEBUG_ENV}=1 for a traceback; please report it)",
                                                  internal=True))
    return report
