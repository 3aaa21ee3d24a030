"""``eksproxy-gen check``: report node groups whose proxy bootstrap is missing or wrong."""

from __future__ import annotations

from pathlib import Path

from .. import api, report
from ..config import ConfigResolver, Overrides


def run(paths: list[Path], output_format: str, config: Path | None) -> int:
    resolver = ConfigResolver(Overrides(), config)
    result = api.check(api.collect(paths, resolver))
    print(report.as_json(result) if output_format == "json" else report.text(result))
    return 1 if result.has_errors() else 0
