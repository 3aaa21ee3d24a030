"""``--show-settings``: the settings a path gets and where each value comes from, as ruff shows its own.

Settings come from the nearest ``.eksproxy-gen.toml`` (or ``--config``) and
the command line, key by key; when a run does something unexpected, this
says which file was read and which flag won. Written as TOML, one block per
path, credentials hidden.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..config import ConfigResolver, Overrides, read_config, shown_path
from ..errors import UsageError
from ..options import Output
from ..policy.values import EXPR_PREFIX, is_interpolation, mask_credentials


def run(paths: list[Path], overrides: Overrides, config: Path | None, output: Output) -> int:
    resolver = ConfigResolver(overrides, config)
    blocks: list[str] = []
    for path in paths:
        if not path.exists():
            raise UsageError(f"no such file or folder: {path}")
        blocks.append(_block(path, resolver, overrides, output))
    print(mask_credentials("\n".join(blocks)), end="")
    return 0


def _block(path: Path, resolver: ConfigResolver, overrides: Overrides, output: Output) -> str:
    settings = resolver.for_path(path)
    choice = resolver.choice_for(path)
    source = resolver.config_for(path)
    in_file = read_config(source)[0] if source is not None else {}
    file_name = shown_path(source) if source is not None else None
    flags = output.flags

    def origin(key: str, on_command_line: bool) -> str:
        if on_command_line:
            return "command line"
        return file_name if key in in_file and file_name else "default"

    rows = [
        ("proxy", _written(settings.proxy) if settings.proxy else None, origin("proxy", overrides.proxy is not None)),
        ("vpc_cidrs", [_written(v) for v in settings.vpc_cidrs], origin("vpc_cidrs", overrides.vpc_cidrs is not None)),
        ("no_proxy", [_written(v) for v in settings.no_proxy], origin("no_proxy", overrides.no_proxy is not None)),
        ("service_cidr", _written(settings.service_cidr) if settings.service_cidr else None,
         origin("service_cidr", overrides.service_cidr is not None)),
        ("select", _codes(flags.select if flags.select is not None else choice.select),
         origin("select", flags.select is not None)),
        ("ignore", _codes(flags.ignore if flags.ignore is not None else choice.ignore),
         origin("ignore", flags.ignore is not None)),
        ("fail_on", (flags.fail_on.value if flags.fail_on else choice.fail_on) or output.fail_on.value,
         origin("fail_on", flags.fail_on is not None)),
        ("exclude", list(choice.exclude), origin("exclude", False)),
    ]
    head = f"# {shown_path(path)}: settings from {file_name or 'no settings file'}"
    width = max(len(key) for key, _value, _origin in rows)
    lines = [head]
    for key, value, where in rows:
        lines.append(f"# {key} is not set" if value is None else f"{key:<{width}} = {json.dumps(value)}  # {where}")
    return "\n".join(lines) + "\n"


def _written(value: str) -> str:
    """A value as the settings file spells it: ``tf:REFERENCE`` for a Terraform expression."""
    return EXPR_PREFIX + value[2:-1] if is_interpolation(value) else value


def _codes(value: str | None) -> list[str]:
    return [code.strip().upper() for code in (value or "").split(",") if code.strip()]
