"""``eksproxy-gen fix``: rewrite the node groups ``check`` flags, and nothing else."""

from __future__ import annotations

import sys
from pathlib import Path

from ..cache import ResultCache, cache_directory
from ..config import ConfigResolver, Overrides
from ..options import Output
from ..pipeline.fix import WriteBack, fix
from ..policy.values import has_credentials
from .collect import collect
from .emit import coloured, emit, exit_code
from .progress import progress_bar


def run(paths: list[Path], overrides: Overrides, config: Path | None, write_back: WriteBack,
        output: Output) -> int:
    collected = collect(paths, ConfigResolver(overrides, config))
    files = collected.files
    if any(has_credentials(settings.proxy or "") for _, settings in files):
        print("eksproxy-gen: warning: the proxy URL holds credentials; user data is readable by anything on the "
              "instance. Prefer a proxy without credentials, or --proxy tf:var.proxy_url.", file=sys.stderr)
    cache = ResultCache(cache_directory()) if output.use_cache else None
    with progress_bar(0 if output.quiet else len(files), coloured(output)) as progress:
        result = fix(files, write_back, output.rule_filter, progress, tuple(paths), cache)
    for error in collected.errors:
        result.outcome(error.file).errors.append(error)
    collected.say_if_empty(paths)
    emit(result, output, "fix")
    code = exit_code(result, output)
    if code == 0 and write_back is WriteBack.CHECK and result.changed and not output.exit_zero:
        return 1
    return code
