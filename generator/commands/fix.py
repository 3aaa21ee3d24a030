"""``eksproxy-gen fix``: rewrite the node groups ``check`` flags, and nothing else."""

from __future__ import annotations

import sys
from pathlib import Path

from .. import terminal
from ..config import ConfigResolver, Overrides
from ..errors import UsageError
from ..formats.json import fix_json
from ..formats.text import error_line, finding_line, summary
from ..options import Output
from ..pipeline.fix import WriteBack, fix
from ..policy.values import has_credentials
from ..report import Report
from .collect import collect


def run(paths: list[Path], overrides: Overrides, config: Path | None, write_back: WriteBack,
        output: Output) -> int:
    collected = collect(paths, ConfigResolver(overrides, config))
    files = collected.files
    for path, settings in files:
        if settings.proxy is None:
            raise UsageError(
                f"no proxy URL for {path}: pass --proxy http://proxy.example.com:3128, "
                "or put proxy = \"...\" in .eksproxy-gen.toml (a Terraform value: --proxy tf:var.proxy_url)")
    if any(has_credentials(settings.proxy or "") for _, settings in files):
        print("eksproxy-gen: warning: the proxy URL holds credentials; user data is readable by anything on the "
              "instance. Prefer a proxy without credentials, or --proxy tf:var.proxy_url.", file=sys.stderr)
    with terminal.progress_bar(0 if output.quiet else len(files)) as progress:
        result = fix(files, write_back, output.rule_filter, progress, tuple(paths))
    for error in collected.errors:
        result.outcome(error.file).errors.append(error)
    if output.format == "json":
        print(fix_json(result, write_back))
    else:
        _print_text(result, write_back, output)
    code = result.exit_code(output.fail_on)
    if code == 0 and write_back is WriteBack.CHECK and result.changed:
        return 1
    return code


def _print_text(result: Report, write_back: WriteBack, output: Output) -> None:
    verb = "fixed" if write_back is WriteBack.YES else "would be fixed"
    for outcome in result.changed:
        if outcome.diff:
            sys.stdout.write(outcome.diff)
    for outcome in result.files:
        complete = sorted(g.location for g in outcome.fixed if g.complete)
        partial = sorted(g.location for g in outcome.fixed if not g.complete)
        if complete and not output.quiet:
            print(f"{outcome.display}: {verb} ({', '.join(complete)})", file=sys.stderr)
        if partial and not output.quiet:
            print(f"{outcome.display}: changed, errors left ({', '.join(partial)})", file=sys.stderr)
        for note in dict.fromkeys(outcome.notes):
            print(f"{outcome.display}: note: {note}", file=sys.stderr)
    for line in [error_line(e) for e in result.errors] + [finding_line(f) for f in result.findings]:
        print(line, file=sys.stderr)
    if not output.quiet:
        changed = len(result.changed)
        print(f"{changed} file{'' if changed == 1 else 's'} {verb}, "
              f"{len(result.files) - changed} left unchanged; {summary(result)}", file=sys.stderr)
