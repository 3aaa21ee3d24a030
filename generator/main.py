"""Command line: parse options, call one command, map errors to exit codes. Nothing else.

Command modules are imported inside the commands, so ``--help`` and ``--version``
load no parser, template engine or YAML library.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .errors import EksproxyError, UsageError
from .pipes import guarded

if TYPE_CHECKING:
    from .config import Overrides
    from .options import Output

EXIT_CODES = ("Exit codes: 0 nothing at or above --fail-on; 1 findings or files that could not be read; "
              "2 usage or settings error; 3 internal error of eksproxy-gen.")

app = typer.Typer(
    add_completion=False,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    help="Find and fix EKS node groups (terraform-aws-modules/eks/aws) whose nodes would not use your HTTP(S) "
         "proxy from first boot.",
    epilog="Run `eksproxy-gen COMMAND -h` for a command's options. Rules: `eksproxy-gen rules`.",
)


class CheckFormat(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"
    gitlab = "gitlab"


class FixFormat(StrEnum):
    text = "text"
    json = "json"


class ListFormat(StrEnum):
    text = "text"
    json = "json"


class FailOn(StrEnum):
    error = "error"
    warning = "warning"


class Color(StrEnum):
    auto = "auto"
    always = "always"
    never = "never"


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            print(f"eksproxy-gen {version('eksproxy-gen')}")
        except PackageNotFoundError:
            print("eksproxy-gen (not installed)")
        raise typer.Exit(0)


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", "-V", callback=_version, is_eager=True,
                                                help="Print the version and exit.")] = False) -> None:
    """Find and fix EKS node groups whose nodes would not use your HTTP(S) proxy from first boot."""


Paths = Annotated[list[Path] | None, typer.Argument(
    help="Terraform files or folders; folders are searched recursively, skipping .terraform/. Default: .",
    metavar="PATH", show_default=False)]
ConfigOpt = Annotated[Path | None, typer.Option(
    "--config", metavar="FILE", help="Settings file to use instead of the nearest .eksproxy-gen.toml.")]
ProxyOpt = Annotated[str | None, typer.Option(
    "--proxy", metavar="URL", help="Proxy URL (http://host:port), or tf:var.NAME for a Terraform value.")]
VpcOpt = Annotated[list[str] | None, typer.Option(
    "--vpc-cidr", metavar="CIDR", help="A VPC CIDR, or tf:REFERENCE; repeat for several.")]
NoProxyOpt = Annotated[list[str] | None, typer.Option(
    "--no-proxy", metavar="ENTRY", help="An extra NO_PROXY entry, e.g. .corp.example; repeat for several.")]
ServiceOpt = Annotated[str | None, typer.Option(
    "--service-cidr", metavar="CIDR", help="The cluster's service CIDR, when the module call sets none.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print findings and errors only.")]
FailOnOpt = Annotated[FailOn | None, typer.Option(
    "--fail-on", help="Lowest severity that makes the exit code 1 (default: fail_on in .eksproxy-gen.toml, else "
                      "error).", show_default=False)]
SelectOpt = Annotated[str | None, typer.Option(
    "--select", metavar="RULES", help="Only these rules: ids or prefixes, comma-separated (EKSP006,EKSP01); "
                                      "replaces select in .eksproxy-gen.toml.")]
IgnoreOpt = Annotated[str | None, typer.Option(
    "--ignore", metavar="RULES", help="Leave out these rules: ids or prefixes, comma-separated; replaces ignore in "
                                      ".eksproxy-gen.toml.")]
OutputFileOpt = Annotated[list[str] | None, typer.Option(
    "--output-file", "-o", metavar="[FORMAT:]FILE",
    help="Write the report to FILE instead of stdout; FORMAT:FILE writes that format there as well "
         "(e.g. -o sarif:results.sarif). A .sarif, .json or .txt FILE gets that format. Repeatable.")]
FixOutputFileOpt = Annotated[list[str] | None, typer.Option(
    "--output-file", "-o", metavar="[FORMAT:]FILE",
    help="Write the report (with --diff: the diff) to FILE instead of stdout; FORMAT:FILE, FORMAT text or json, "
         "writes that format there as well (e.g. -o json:fix.json). Repeatable.")]
ExitZeroOpt = Annotated[bool, typer.Option("--exit-zero", help="Exit 0 even when there are findings.")]
StatisticsOpt = Annotated[bool, typer.Option(
    "--statistics", help="Print the number of findings by rule instead, [*] where fix would resolve them.")]
ColorOpt = Annotated[Color, typer.Option(
    "--color", help="Colour the text output: auto (a terminal, unless NO_COLOR is set; FORCE_COLOR forces it), "
                    "always or never.")]
NoCacheOpt = Annotated[bool, typer.Option(
    "--no-cache", help="Read every file afresh instead of reusing results of earlier runs.")]
UnusedOpt = Annotated[bool, typer.Option(
    "--warn-unused-ignores", help="Warn about eksproxy-gen:ignore comments that silence nothing.")]
ShowSettingsOpt = Annotated[bool, typer.Option(
    "--show-settings", help="Print the settings each PATH gets and the file they come from, then exit.")]


def _output(output_format: str, quiet: bool, fail_on: FailOn | None, select: str | None, ignore: str | None,
            output_files: list[str] | None, exit_zero: bool, statistics: bool, color: Color, no_cache: bool,
            unused: bool, formats: tuple[str, ...], command: str) -> Output:
    from .commands.output_files import output_files as files_of
    from .filters import RuleFilter
    from .options import Output, RuleFlags
    from .policy.catalog import Severity

    try:
        rule_filter = RuleFilter.parse(select, ignore)
    except ValueError as exc:
        raise UsageError(f"--select/--ignore: {exc}") from None
    files = files_of(output_files or [], output_format, formats, command)
    given = None if fail_on is None else Severity(fail_on.value)
    return Output(output_format, quiet, given or Severity.ERROR, rule_filter, exit_zero, statistics, color.value,
                  files, not no_cache, unused, RuleFlags(select, ignore, given))


def _guarded(paths: list[Path] | None) -> list[Path]:
    """The paths to read (the current folder when none is given), which are also all that may be read or written."""
    from . import fsguard

    given = paths or [Path(".")]
    fsguard.configure(given)
    return given


def _overrides(proxy: str | None, vpc_cidr: list[str] | None, no_proxy: list[str] | None,
               service_cidr: str | None) -> Overrides:
    from .config import Overrides

    return Overrides(proxy=proxy, vpc_cidrs=tuple(vpc_cidr) if vpc_cidr else None,
                     no_proxy=tuple(no_proxy) if no_proxy else None, service_cidr=service_cidr)


@app.command(epilog=f"Example: eksproxy-gen check infra/ --format sarif -o text:findings.txt\n\n{EXIT_CODES}")
def check(paths: Paths = None,
          output_format: Annotated[CheckFormat, typer.Option("--format", help="Report format.")] = CheckFormat.text,
          config: ConfigOpt = None, quiet: QuietOpt = False, fail_on: FailOnOpt = None,
          select: SelectOpt = None, ignore: IgnoreOpt = None, output_file: OutputFileOpt = None,
          exit_zero: ExitZeroOpt = False, statistics: StatisticsOpt = False, color: ColorOpt = Color.auto,
          no_cache: NoCacheOpt = False, warn_unused_ignores: UnusedOpt = False,
          show_settings: ShowSettingsOpt = False) -> None:
    """Report node groups whose proxy set-up is missing, incomplete or has no effect."""
    output = _output(output_format.value, quiet, fail_on, select, ignore, output_file, exit_zero, statistics,
                     color, no_cache, warn_unused_ignores, tuple(CheckFormat), "check")
    if show_settings:
        from .commands import show_settings as shown

        raise typer.Exit(shown.run(_guarded(paths), _overrides(None, None, None, None), config, output))
    from .commands import check as command

    raise typer.Exit(command.run(_guarded(paths), config, output))


@app.command(epilog="Example: eksproxy-gen fix infra/ --proxy http://proxy.corp.example:3128 --diff\n\n"
                    "Exit codes: 0 nothing left at or above --fail-on (with --check: and nothing to change); "
                    "1 findings left, files that could not be read or written, or (--check) changes to make; "
                    "2 usage or settings error; 3 internal error of eksproxy-gen.")
def fix(paths: Paths = None, proxy: ProxyOpt = None, vpc_cidr: VpcOpt = None, no_proxy: NoProxyOpt = None,
        service_cidr: ServiceOpt = None, config: ConfigOpt = None,
        diff: Annotated[bool, typer.Option("--diff", help="Print a unified diff; write nothing.")] = False,
        check_only: Annotated[bool, typer.Option(
            "--check", help="Write nothing; exit 1 if anything would change (with --diff: and print the diff).")]
        = False, quiet: QuietOpt = False, fail_on: FailOnOpt = None, select: SelectOpt = None,
        ignore: IgnoreOpt = None,
        output_format: Annotated[FixFormat, typer.Option("--format", help="Report format.")] = FixFormat.text,
        output_file: FixOutputFileOpt = None, exit_zero: ExitZeroOpt = False, color: ColorOpt = Color.auto,
        no_cache: NoCacheOpt = False, show_settings: ShowSettingsOpt = False,
        leave_findings: Annotated[bool, typer.Option(
            "--leave-findings-to-check",
            help="When the repository's .pre-commit-config.yaml runs the eksproxy-gen-check hook at every stage "
                 "this hook runs at, on the same files: print what was changed, and leave the findings that are "
                 "left to that hook (they neither print nor fail here); otherwise print them and say why.")]
        = False) -> None:
    """Rewrite the node groups that check flags, from templates; nothing else in the files changes."""
    overrides = _overrides(proxy, vpc_cidr, no_proxy, service_cidr)
    output = _output(output_format.value, quiet, fail_on, select, ignore, output_file, exit_zero, False, color,
                     no_cache, False, tuple(FixFormat), "fix")
    if show_settings:
        from .commands import show_settings as shown

        raise typer.Exit(shown.run(_guarded(paths), overrides, config, output))
    from .commands import fix as command
    from .pipeline.fixing import WriteBack

    write_back = WriteBack.DIFF if diff else WriteBack.CHECK if check_only else WriteBack.YES
    raise typer.Exit(command.run(_guarded(paths), overrides, config, write_back, output,
                                 check_changes=check_only, leave_findings=leave_findings))


class RenderFormat(StrEnum):
    hcl = "hcl"
    mime = "mime"


class RenderFamily(StrEnum):
    al2023 = "al2023"
    al2 = "al2"
    bottlerocket = "bottlerocket"


@app.command(epilog="Examples: eksproxy-gen render --proxy tf:var.proxy_url --vpc-cidr 10.0.0.0/16\n\n"
                    "eksproxy-gen render --family bottlerocket --proxy http://proxy.corp.example:3128\n\n"
                    "eksproxy-gen render --format mime --group infra/eks.tf:eks.general\n\n"
                    "Exit codes: 0 printed; 2 usage or settings error.")
def render(proxy: ProxyOpt = None, vpc_cidr: VpcOpt = None, no_proxy: NoProxyOpt = None,
           service_cidr: ServiceOpt = None, config: ConfigOpt = None,
           ipv6: Annotated[bool, typer.Option("--ipv6", help="The cluster uses IPv6 (adds fd00:ec2::254).")]
           = False,
           output_format: Annotated[RenderFormat, typer.Option(
               "--format", help="hcl: the attribute to paste into the node group; mime: the user data a node "
                                "receives.")]
           = RenderFormat.hcl,
           family: Annotated[RenderFamily, typer.Option(
               "--family", help="al2023: the cloudinit_pre_nodeadm parts; al2: the pre_bootstrap_user_data block; "
                                "bottlerocket: the bootstrap_extra_args [settings.network] table.")]
           = RenderFamily.al2023,
           group: Annotated[str | None, typer.Option(
               "--group", metavar="FILE:MODULE.GROUP",
               help="Show an existing group's user data, as its nodes receive it, instead of the generated parts.")]
           = None) -> None:
    """Print what fix would write for a node group of a family, or the user data an existing group's nodes get."""
    from .commands import render as command

    _guarded([Path(group.rpartition(":")[0] or ".")] if group else None)
    raise typer.Exit(command.run(_overrides(proxy, vpc_cidr, no_proxy, service_cidr), config, ipv6,
                                 output_format.value, group, family.value))


@app.command("rules", epilog="Example: eksproxy-gen rules --format json\n\nExit codes: 0 printed; 2 usage error.")
def rules(output_format: Annotated[ListFormat, typer.Option("--format", help="text or json.")]
          = ListFormat.text) -> None:
    """List every rule: id, severity, whether fix resolves it, name and title."""
    from .commands import rule_docs as command

    raise typer.Exit(command.list_rules(output_format.value))


@app.command("rule", epilog="Example: eksproxy-gen rule EKSP006\n\nExit codes: 0 printed; 2 no such rule.")
def rule(rule_id: Annotated[str, typer.Argument(
        metavar="RULE", help="A rule id or name, e.g. EKSP006 or no-proxy-incomplete.")]) -> None:
    """Print one rule's documentation: what it checks, why it matters, how to fix it."""
    from .commands import rule_docs as command

    raise typer.Exit(command.show_rule(rule_id))


@app.command("rules-path", epilog="Example: checkov -d . --external-checks-dir \"$(eksproxy-gen rules-path)\"\n\n"
                                   "Exit codes: 0 printed.")
def rules_path() -> None:
    """Print the folder of eksproxy-gen's checkov checks, for checkov --external-checks-dir."""
    from importlib import resources

    print(resources.files("eksproxy_gen.rules"))


def main(argv: list[str] | None = None) -> int:
    """Run one command line and return its exit code; expected errors become one line on stderr, never a traceback.

    SIGTERM (a CI job cancelled, a container stopped) ends the run as Ctrl-C
    does: temporary files are removed, and the files already rewritten are
    listed, so nobody has to guess what a stopped ``fix`` changed.
    """
    from . import fsguard

    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        args = ["--help"]
    previous = _on_signals()
    try:
        with guarded():
            app(args=args, prog_name="eksproxy-gen")
    except SystemExit as exc:
        if _stopped_by is not None:  # Typer turns KeyboardInterrupt into exit 130, saying nothing
            return _interrupted(_stopped_by)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except EksproxyError as exc:
        for line in str(exc).splitlines():  # one line per settings file that cannot be used
            print(f"eksproxy-gen: error: {line}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return _interrupted(_stopped_by or signal.SIGINT)
    except Exception as exc:
        if _stopped_by is not None:  # a forked worker stopped by the same signal broke the pool first
            return _interrupted(_stopped_by)
        if os.environ.get("EKSPROXY_GEN_DEBUG"):
            raise
        print(f"eksproxy-gen: internal error: {type(exc).__name__}: {exc} "
              "(set EKSPROXY_GEN_DEBUG=1 for a traceback; please report it)", file=sys.stderr)
        return 3
    finally:
        fsguard.remove_temporaries()
        fsguard.reset()
        _restore_signals(previous)
    return 0


def _interrupted(signum: int) -> int:
    """One line for a stopped run, then the files it had already rewritten; exit 128 + the signal's number."""
    from . import fsguard

    fsguard.remove_temporaries()
    print("eksproxy-gen: interrupted", file=sys.stderr)
    done = fsguard.rewritten()
    if done:
        print(f"eksproxy-gen: files already rewritten: {', '.join(done)}", file=sys.stderr)
    return 128 + signum


_stopped_by: int | None = None
Handler = Callable[[int, FrameType | None], Any] | int | None


def _stop(signum: int, _frame: FrameType | None) -> None:
    """Ctrl-C and SIGTERM become KeyboardInterrupt, so every ``finally`` runs; the signal is remembered."""
    global _stopped_by
    _stopped_by = signum
    raise KeyboardInterrupt


def _on_signals() -> dict[int, Handler]:
    global _stopped_by
    _stopped_by = None
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}


def _restore_signals(previous: dict[int, Handler]) -> None:
    for number, handler in previous.items():
        signal.signal(number, handler if handler is not None else signal.SIG_DFL)
