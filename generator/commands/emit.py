"""Showing a report: the chosen format on stdout or in files, messages and the summary on stderr.

Every command and format sends its summary to the same place (stderr), so
stdout holds only the report a tool or a person asked for. What is shown is
the report with every credential hidden (``formats.redact``), so no format,
output file, note or job summary can print one.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from .. import fsguard
from ..errors import UsageError
from ..formats import text as plain
from ..formats.escape import printable
from ..formats.redact import redacted
from ..options import Output
from ..policy.catalog import Finding
from ..report import Report


def render(name: str, report: Report, kind: str) -> str:
    """A report in one format; ``kind`` is "check" or "fix" (their JSON differs; fix's text with --diff is the
    diff, as on stdout)."""
    if name == "json":
        from ..formats.json import as_json, fix_json

        return fix_json(report) if kind == "fix" else as_json(report)
    if name == "sarif":
        from ..formats.sarif import sarif

        return sarif(report)
    if name == "github":
        from ..formats.github import github

        return github(report)
    if name == "gitlab":
        from ..formats.gitlab import gitlab

        return gitlab(report)
    if kind == "fix" and report.mode == "diff":
        return "".join(_diff(o.diff, o.display) for o in report.changed).removesuffix("\n")
    return plain.text(report)


def coloured(output: Output) -> bool:
    """``--color``, then NO_COLOR and FORCE_COLOR, then whether stdout is a terminal."""
    if output.color != "auto":
        return output.color == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty()


def emit(report: Report, output: Output, kind: str, fixable: Callable[[Finding], bool] | None = None,
         findings_left_to: str | None = None) -> None:
    """Write the report where it was asked for; then notes, statistics and the summary on stderr.

    stdout is flushed before anything goes to stderr, so a log that holds both
    shows the summary after the findings. ``fixable`` tells the statistics which
    findings fix would resolve; ``findings_left_to`` names who reports the
    findings left (the summary then counts none).
    """
    report = redacted(report)
    redirected = any(name is None for name, _path in output.files)
    _write([(path, render(name or output.format, report, kind)) for name, path in output.files])
    if output.statistics:
        sys.stdout.write(plain.statistics(report, fixable or (lambda _finding: False)))
    elif not redirected:
        _stdout(report, output, kind)
    sys.stdout.flush()
    if kind == "fix" and output.format == "text" and (lines := plain.fix_lines(report)):
        print(lines, file=sys.stderr)  # what fix did and left, also when the diff went to a file
    _github_summary(report, output)
    for notice in report.notices:
        if notice.kind != "unused" or output.unused_ignores:
            print(plain.notice_line(notice), file=sys.stderr)
    at_terminal = sys.stdout.isatty() or output.color == "always"
    if not output.quiet and not output.statistics and output.format == "text" and at_terminal and report.findings:
        from .. import terminal

        terminal.print_table(report, coloured(output))
    if not output.quiet and report.files:
        print(plain.summary(report, kind, findings_left_to), file=sys.stderr)


def _stdout(report: Report, output: Output, kind: str) -> None:
    if kind == "fix" and output.format == "text":
        for outcome in report.changed:
            sys.stdout.write(_diff(outcome.diff, outcome.display))
        return
    if output.format == "text" and coloured(output):
        from .. import terminal

        terminal.print_findings(report)
        return
    shown = render(output.format, report, kind)
    if shown:
        print(shown)


def _diff(diff: str, display: str) -> str:
    """A diff whose ``---``/``+++`` lines name the file printably: a line break in a file name starts no new line.

    The lines of the file stay as they are (as ``git diff`` shows them): each
    begins with its own ``+``, ``-`` or space, and a patch must apply.
    """
    shown = printable(display)
    if shown == display:
        return diff
    for side in ("--- a/", "+++ b/"):
        diff = diff.replace(f"{side}{display}", f"{side}{shown}", 1)
    return diff


def _write(files: list[tuple[Path, str]]) -> None:
    """Write every report file or none (a usage error leaves none behind).

    Each goes to a temporary file beside it, and only when all are written
    are they renamed into place. A report is never written through a
    symbolic link committed in the repository, nor into ``.git`` (fsguard).
    A target outside the repository that is a link or not a regular file
    (``/dev/stdout``, ``/dev/null``) is written into directly, never replaced.
    """
    staged: list[tuple[str, str]] = []
    direct: list[tuple[str, str]] = []
    try:
        for path, text in files:
            try:
                target = fsguard.report_target(path)
                if os.path.islink(target) or (os.path.exists(target) and not os.path.isfile(target)):
                    direct.append((target, text))
                    continue
                folder, name = os.path.split(target)
                os.makedirs(folder, exist_ok=True)
                fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".eksproxy-gen", dir=folder)
                fsguard.hold_temporary(temporary)
                staged.append((temporary, target))
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(text + "\n")
                os.chmod(temporary, 0o666 & ~_umask())
            except fsguard.Refused as exc:
                raise UsageError(f"--output-file {path}: {exc.message}; not written") from None
            except OSError as exc:
                raise UsageError(f"--output-file {path}: {exc.strerror or exc}") from None
        for temporary, target in staged:
            os.replace(temporary, target)
        for target, text in direct:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NONBLOCK, 0o666)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
    except OSError as exc:
        raise UsageError(f"--output-file: {exc.strerror or exc}") from None
    finally:
        for temporary, _target in staged:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            fsguard.release_temporary(temporary)


def _umask() -> int:
    """The process's umask (read by setting it, so set back at once): report files get the usual mode."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _github_summary(report: Report, output: Output) -> None:
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    wanted = output.format == "github" or any(name == "github" for name, _ in output.files)
    if not (summary_file and wanted):
        return
    from ..formats.github import step_summary

    try:
        with open(summary_file, "a", encoding="utf-8") as handle:
            handle.write(step_summary(report))
    except OSError as exc:
        print(f"eksproxy-gen: warning: cannot write $GITHUB_STEP_SUMMARY ({exc.strerror or exc})", file=sys.stderr)
