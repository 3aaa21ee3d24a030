"""Which rules each part of a tree reports, and when it fails the run: the flags, else its settings file.

``select``, ``ignore`` and ``fail_on`` in a ``.eksproxy-gen.toml`` mean what
the flags of the same names mean, for the files that settings file governs;
a flag given on the command line wins over every settings file. So a tree
whose folders have settings files of their own is judged by each one's
choice, as ruff does with its configuration files, and one run can still
say in one exit code whether anything failed.
"""

from __future__ import annotations

from pathlib import Path

from ..config import ConfigResolver, RuleChoice
from ..errors import UsageError
from ..filters import RuleFilter
from ..options import Output
from ..policy.catalog import Finding, Severity
from ..policy.settings import Settings
from ..report import EXIT_FAILED, EXIT_INTERNAL, EXIT_OK, FileError, Report

_NOT_READ = "; the Terraform files it governs were not read"


class SettingsErrors(UsageError):
    """Settings files that cannot be used: the run stops with exit 2 and reports nothing (one line per file)."""

    def __init__(self, errors: list[FileError]) -> None:
        super().__init__("\n".join(f"{e.file}:{e.line}: {e.message.removesuffix(_NOT_READ)}" for e in errors))


def refuse_settings_errors(errors: list[FileError]) -> None:
    """A settings error stops the run before any report is shown or written: a partial report would pass a gate
    (an empty SARIF upload closes every open code-scanning alert)."""
    if errors:
        raise SettingsErrors(errors)


class Choices:
    """Each settings file's rule selection and fail_on, with the command line's flags winning."""

    def __init__(self, resolver: ConfigResolver, output: Output) -> None:
        self._resolver = resolver
        self._output = output
        self._by_source: dict[Path | None, tuple[RuleFilter, Severity]] = {}

    def of(self, path: Path) -> tuple[RuleFilter, Severity]:
        """The rule filter and fail_on of a file or folder."""
        choice = self._resolver.choice_for(path)
        if choice.source not in self._by_source:
            self._by_source[choice.source] = self._combined(choice)
        return self._by_source[choice.source]

    def _combined(self, choice: RuleChoice) -> tuple[RuleFilter, Severity]:
        flags = self._output.flags
        select = flags.select if flags.select is not None else choice.select
        ignore = flags.ignore if flags.ignore is not None else choice.ignore
        if flags.fail_on is not None:
            fail_on = flags.fail_on
        else:
            fail_on = Severity(choice.fail_on) if choice.fail_on else self._output.fail_on
        try:
            return RuleFilter.parse(select, ignore), fail_on
        except ValueError as exc:  # read_config has checked the file's values and main the flags': not reached
            raise UsageError(f"select/ignore: {exc}") from None

    def filters(self, files: list[tuple[Path, Settings]]) -> dict[Path, RuleFilter]:
        """The folders whose rule selection is not the command line's, with theirs (for the pipeline)."""
        found: dict[Path, RuleFilter] = {}
        for path, _settings in files:
            folder = path.parent
            if folder not in found:
                found[folder] = self.of(path)[0]
        return {folder: chosen for folder, chosen in found.items() if chosen != self._output.rule_filter}

    def fail_on(self, finding: Finding) -> Severity:
        """The fail_on of the settings file that governs the folder whose analysis made the finding (the one
        its module call, node class or chart is written in)."""
        return self.of(Path(finding.module_file or finding.file))[1]

    def exit_code(self, report: Report) -> int:
        """0, 1 or 3 for the run, each finding weighed against its own settings file's fail_on."""
        if any(e.internal for e in report.errors):
            return EXIT_INTERNAL
        failed = bool(report.errors) or any(
            f.severity is Severity.ERROR or self.fail_on(f) is Severity.WARNING for f in report.findings)
        code = EXIT_FAILED if failed else EXIT_OK
        return EXIT_OK if self._output.exit_zero else code
