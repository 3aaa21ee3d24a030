"""Command line: parse options, call one command, map errors to exit codes. Nothing else."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from .commands import check as check_cmd
from .commands import fix as fix_cmd
from .commands import render as render_cmd
from .commands import rules as rules_cmd
from .config import Overrides
from .errors import EksproxyError, UsageError
from .filters import RuleFilter
from .options import Output
from .pipeline.fix import WriteBack
from .policy.rules import Severity

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Lint and fix the HTTP proxy bootstrap of EKS node groups in Terraform (terraform-aws-modules/eks/aws).",
)


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"


class FixFormat(StrEnum):
    text = "text"
    json = "json"


class FailOn(StrEnum):
    error = "error"
    warning = "warning"


Paths = Annotated[list[Path], typer.Argument(
    help="Terraform files or folders (folders are searched recursively).", metavar="PATH")]
ConfigOpt = Annotated[Path | None, typer.Option(
    "--config", metavar="FILE", help="Settings file (default: nearest .eksproxy-gen.toml)")]
ProxyOpt = Annotated[str | None, typer.Option(
    "--proxy", metavar="URL", help="Proxy URL, or tf:EXPR for a Terraform value.")]
VpcOpt = Annotated[list[str] | None, typer.Option(
    "--vpc-cidr", metavar="CIDR", help="VPC CIDR (repeatable), or tf:EXPR.")]
NoProxyOpt = Annotated[list[str] | None, typer.Option(
    "--no-proxy", metavar="ENTRY", help="Extra NO_PROXY entry (repeatable).")]
ServiceOpt = Annotated[str | None, typer.Option(
    "--service-cidr", metavar="CIDR", help="Service CIDR when the module sets none.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Only findings and errors: no summary, no progress.")]
FailOnOpt = Annotated[FailOn, typer.Option("--fail-on", help="Lowest severity that makes the exit code 1.")]
SelectOpt = Annotated[str | None, typer.Option(
    "--select", metavar="RULES", help="Only these rules (comma-separated ids or prefixes).")]
IgnoreOpt = Annotated[str | None, typer.Option(
    "--ignore", metavar="RULES", help="Leave out these rules (ids or prefixes).")]


def _output(output_format: str, quiet: bool, fail_on: FailOn, select: str | None, ignore: str | None) -> Output:
    try:
        rule_filter = RuleFilter.parse(select, ignore)
    except ValueError as exc:
        raise UsageError(f"--select/--ignore: {exc}") from None
    return Output(output_format, quiet, Severity(fail_on.value), rule_filter)


def _overrides(proxy: str | None, vpc_cidr: list[str] | None, no_proxy: list[str] | None,
               service_cidr: str | None) -> Overrides:
    return Overrides(proxy=proxy, vpc_cidrs=tuple(vpc_cidr) if vpc_cidr else None,
                     no_proxy=tuple(no_proxy) if no_proxy else None, service_cidr=service_cidr)


@app.command()
def check(paths: Paths,
          output_format: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = OutputFormat.text,
          config: ConfigOpt = None, quiet: QuietOpt = False, fail_on: FailOnOpt = FailOn.error,
          select: SelectOpt = None, ignore: IgnoreOpt = None) -> None:
    """Report node groups whose proxy bootstrap is missing, incomplete or ineffective."""
    raise typer.Exit(check_cmd.run(paths, config, _output(output_format.value, quiet, fail_on, select, ignore)))


@app.command()
def fix(paths: Paths, proxy: ProxyOpt = None, vpc_cidr: VpcOpt = None, no_proxy: NoProxyOpt = None,
        service_cidr: ServiceOpt = None, config: ConfigOpt = None,
        diff: Annotated[bool, typer.Option("--diff", help="Print a unified diff; write nothing.")] = False,
        check_only: Annotated[bool, typer.Option("--check", help="Write nothing; exit 1 if anything would change.")]
        = False, quiet: QuietOpt = False, fail_on: FailOnOpt = FailOn.error, select: SelectOpt = None,
        ignore: IgnoreOpt = None,
        output_format: Annotated[FixFormat, typer.Option("--format", help="Output format.")] = FixFormat.text,
        ) -> None:
    """Rewrite the node groups that `check` flags; nothing else in the files changes."""
    write_back = WriteBack.DIFF if diff else WriteBack.CHECK if check_only else WriteBack.YES
    raise typer.Exit(fix_cmd.run(paths, _overrides(proxy, vpc_cidr, no_proxy, service_cidr), config, write_back,
                                 _output(output_format.value, quiet, fail_on, select, ignore)))


@app.command()
def render(proxy: ProxyOpt = None, vpc_cidr: VpcOpt = None, no_proxy: NoProxyOpt = None,
           service_cidr: ServiceOpt = None, config: ConfigOpt = None,
           ipv6: Annotated[bool, typer.Option("--ipv6", help="Cluster uses IPv6 (adds fd00:ec2::254).")] = False,
           ) -> None:
    """Print the generated cloudinit_pre_nodeadm attribute, for pasting by hand."""
    raise typer.Exit(render_cmd.run(_overrides(proxy, vpc_cidr, no_proxy, service_cidr), config, ipv6))


@app.command("rules")
def rules(output_format: Annotated[OutputFormat, typer.Option("--format", help="text or json.")]
          = OutputFormat.text) -> None:
    """List every rule: id, severity, whether fix resolves it, name and title."""
    raise typer.Exit(rules_cmd.list_rules(output_format.value))


@app.command("rule")
def rule(rule_id: Annotated[str, typer.Argument(metavar="RULE", help="A rule id, e.g. EKSP006.")]) -> None:
    """Print one rule's documentation: what it checks, why it matters, how to fix it."""
    raise typer.Exit(rules_cmd.show_rule(rule_id))


@app.command("rules-path")
def rules_path() -> None:
    """Print the folder of eksproxy-gen's checkov rules, for `checkov --external-checks-dir`."""
    print(resources.files("eksproxy_gen.rules"))


def main(argv: list[str] | None = None) -> int:
    """Run one command line and return its exit code; expected errors become one line on stderr, never a traceback."""
    try:
        app(args=list(sys.argv[1:] if argv is None else argv), prog_name="eksproxy-gen")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except EksproxyError as exc:
        print(f"eksproxy-gen: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("eksproxy-gen: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("EKSPROXY_GEN_DEBUG"):
            raise
        print(f"eksproxy-gen: internal error: {type(exc).__name__}: {exc} "
              "(set EKSPROXY_GEN_DEBUG=1 for a traceback; please report it)", file=sys.stderr)
        return 3
    return 0


def run() -> None:
    """Console entry point."""
    sys.exit(main())
