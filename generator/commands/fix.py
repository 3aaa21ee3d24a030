"""``eksproxy-gen fix``: rewrite the node groups ``check`` flags, and nothing else."""

from __future__ import annotations

import sys
from pathlib import Path

from .. import api, report, terminal
from ..config import ConfigResolver, Overrides
from ..policy.values import has_credentials
from .check import Output


def run(paths: list[Path], overrides: Overrides, config: Path | None, write_back: api.WriteBack,
        output: Output, fail_on_change: bool = False) -> int:
    files = api.collect(paths, ConfigResolver(overrides, config))
    api.require_proxy(files)
    if any(has_credentials(settings.proxy or "") for _, settings in files):
        print("eksproxy-gen: warning: the proxy URL holds credentials; user data is readable by anything on the "
              "instance (IMDS). Prefer a proxy without credentials, or --proxy tf:var.proxy_url (P8).",
              file=sys.stderr)
    with terminal.progress_bar(0 if output.quiet else len(files)) as progress:
        result = api.fix(files, write_back, output.rule_filter, progress)
    verb = "fixed" if write_back is api.WriteBack.YES else "would be fixed"
    for outcome in result.changed:
        if outcome.diff:
            sys.stdout.write(outcome.diff)
        if not output.quiet:
            groups = ", ".join(sorted({f"{f.module}.{f.node_group}" for f in outcome.fixed}))
            print(f"{outcome.display}: {verb} ({groups})", file=sys.stderr)
        for note in outcome.notes:
            print(f"{outcome.display}: note: {note}", file=sys.stderr)
    for line in [report.error_line(e) for e in result.errors] + [report.finding_line(f) for f in result.findings]:
        print(line, file=sys.stderr)
    if not output.quiet:
        changed = len(result.changed)
        print(f"{changed} file{'' if changed == 1 else 's'} {verb}, "
              f"{len(result.files) - changed} left unchanged; {report.summary(result)}", file=sys.stderr)
    if (fail_on_change or write_back is api.WriteBack.CHECK) and result.changed:
        return 1
    return 1 if result.failed(output.fail_on) else 0
