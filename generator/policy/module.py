"""One module call, given as plain values, to findings: the entry point the checkov rules call.

The CLI reaches the same functions through its model (which also keeps the
syntax needed to fix); nothing here decides anything on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from . import groups
from .evaluate import evaluate_group
from .rules import Finding
from .settings import Settings


def evaluate_module(name: str, file: str, line: int, args: Mapping[str, object], settings: Settings,
                    local_kind: Callable[[str], str | None] = lambda _source: None,
                    group_line: Callable[[str, str], int] | None = None,
                    attr_line: Callable[[str], int] | None = None) -> list[Finding] | None:
    """Findings for a module call, or None when it is not a terraform-aws-eks module.

    ``args`` maps argument names to plain values (see policy.groups). The line
    callbacks say where a group or argument starts; by default the module's line.
    """
    source = args.get("source")
    if not isinstance(source, str):
        return None
    kind, ref_major = groups.classify_source(source, local_kind)
    if kind is None:
        return None
    if groups.disabled(args):
        return []
    module = groups.module_facts(name, file, line, args, ref_major)
    if kind != "root":
        group = groups.group_facts(name, line, kind, args, None, module.major)
        return evaluate_group(module, group, settings)
    pairs, findings = groups.root_groups(module, args, group_line or (lambda _a, _g: line),
                                         attr_line or (lambda _a: line))
    for _, group in pairs:
        findings.extend(evaluate_group(module, group, settings))
    return sorted(findings, key=lambda f: (f.line, f.rule))
