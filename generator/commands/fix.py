"""``eksproxy-gen fix``: rewrite the node groups ``check`` flags, and nothing else."""

from __future__ import annotations

import sys
from pathlib import Path

from ..cache import ResultCache, cache_directory
from ..config import ConfigResolver, Overrides
from ..options import Output
from ..pipeline.fix_report import REFUSED
from ..pipeline.fixing import WriteBack, fix
from ..policy.catalog import Severity
from ..policy.values import has_credentials
from ..report import EXIT_FAILED, EXIT_INTERNAL, EXIT_OK, Report
from .choices import Choices, refuse_settings_errors
from .collect import collect
from .emit import coloured, emit
from .progress import progress_bar
from .widen import widened


def run(paths: list[Path], overrides: Overrides, config: Path | None, write_back: WriteBack,
        output: Output, check_changes: bool = False, leave_findings: bool = False) -> int:
    """``check_changes``: exit 1 when anything would change (``--check``, also with ``--diff``);
    ``leave_findings``: findings left are the check hook's to report (see ``precommit``)."""
    resolver = ConfigResolver(overrides, config)
    collected = collect(widened(paths, resolver.walk_filter), resolver)
    refuse_settings_errors(collected.settings_errors)
    files = collected.files
    if any(has_credentials(settings.proxy or "") for _, settings in files):
        print("eksproxy-gen: warning: the proxy URL holds credentials; user data is readable by anything on the "
              "instance. Prefer a proxy without credentials, or --proxy tf:var.proxy_url.", file=sys.stderr)
    choices = Choices(resolver, output)
    cache = ResultCache(cache_directory()) if output.use_cache else None
    with progress_bar(0 if output.quiet else len(files), coloured(output)) as progress:
        result = fix(files, write_back, output.rule_filter, progress, cache, choices.filters(files))
    for error in collected.errors:
        result.outcome(error.file).errors.append(error)
    collected.say_if_empty(paths, result)
    if leave_findings:
        leave_findings = _check_hook_reports(paths, overrides, config, output)
    if leave_findings:
        return _leave_findings(result, output)
    emit(result, output, "fix")
    code = choices.exit_code(result)
    would_change = (check_changes or write_back is WriteBack.CHECK) and bool(result.changed)
    return EXIT_FAILED if code == EXIT_OK and would_change and not output.exit_zero else code


def _check_hook_reports(paths: list[Path], overrides: Overrides, config: Path | None, output: Output) -> bool:
    """Whether the check hook reports, in this run of pre-commit, what this run leaves; when the configuration
    names it but it does not (or that cannot be told), say why the findings are printed here."""
    from .precommit import check_hook_runs

    own = [flag for flag, value in (("--proxy", overrides.proxy), ("--vpc-cidr", overrides.vpc_cidrs),
                                    ("--no-proxy", overrides.no_proxy), ("--service-cidr", overrides.service_cidr),
                                    ("--config", config)) if value is not None]
    decision = check_hook_runs(paths, own, output.flags.fail_on is Severity.WARNING)
    if decision.why and not output.quiet:
        print(f"eksproxy-gen: note: the findings left are reported here, not by the eksproxy-gen-check hook: "
              f"{decision.why}", file=sys.stderr)
    return decision.leave


def _leave_findings(result: Report, output: Output) -> int:
    """Show what was changed (and what was not rewritten, and why) and the files that failed; fail when a file
    changed, as pre-commit expects of a hook that modifies files."""
    result.suppressed = []
    for outcome in result.files:
        outcome.notes += [f"{f.location}: {f.message}" for f in outcome.findings if f.message.startswith(REFUSED)]
        outcome.findings = []
    emit(result, output, "fix", findings_left_to="the eksproxy-gen-check hook")
    if any(e.internal for e in result.errors):
        return EXIT_INTERNAL
    return EXIT_FAILED if (result.changed or result.errors) and not output.exit_zero else EXIT_OK
