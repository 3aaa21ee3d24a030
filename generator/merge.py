"""Merges into the body of an existing heredoc: the AL2 script block and Bottlerocket's [settings.network].

Each merge takes the heredoc's lines and returns the new ones, keeping every
line it does not own byte for byte.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable

from .edits import CannotEdit
from .layout import common_indent
from .policy.facts import GENERATED_MARKER
from .policy.values import dedent_heredoc


def merged_text(text: str, merge: Callable[[list[str]], list[str]]) -> str:
    """``merge`` applied to a text's lines; a final newline stays as it was."""
    lines = text.split("\n")
    trailing = lines[-1] == ""
    return "\n".join(merge(lines[:-1] if trailing else lines)) + ("\n" if trailing else "")


def merge_marked_block(block: str, begin: str, end: str) -> Callable[[list[str]], list[str]]:
    """Replace the lines between ``begin`` and ``end`` markers, or put the block after a shebang line."""
    def merge(lines: list[str]) -> list[str]:
        indent = common_indent(lines, "  ")
        new = [indent + ln if ln else ln for ln in block.rstrip("\n").split("\n")]
        starts = [i for i, ln in enumerate(lines) if ln.strip().startswith(begin)]
        ends = [i for i, ln in enumerate(lines) if ln.strip().startswith(end)]
        if starts and ends and ends[0] > starts[0]:
            return lines[: starts[0]] + new + lines[ends[0] + 1 :]
        if starts or ends:
            raise CannotEdit("an eksproxy-gen marker is present without its pair; remove the partial block")
        at = 1 if lines and lines[0].strip().startswith("#!") else 0
        return lines[:at] + new + lines[at:]
    return merge


_NETWORK_HEADER = re.compile(r"^\s*\[\s*settings\.network\s*\]\s*(#.*)?$")


_ANY_HEADER = re.compile(r"^\s*\[")


_PROXY_KEY = re.compile(r"^\s*[\"']?(https-proxy|no-proxy)[\"']?\s*=")


def _defines_network(lines: list[str]) -> bool:
    try:
        data = tomllib.loads(dedent_heredoc("\n".join(lines)))
    except tomllib.TOMLDecodeError as exc:
        raise CannotEdit(f"bootstrap_extra_args is not valid TOML ({exc})") from None
    settings = data.get("settings")
    return isinstance(settings, dict) and "network" in settings


def merge_network_table(keys: str) -> Callable[[list[str]], list[str]]:
    """Put the generated keys first in ``[settings.network]``, dropping old proxy keys; or append the table."""
    def merge(lines: list[str]) -> list[str]:
        indent = common_indent(lines, "  ")
        new = [indent + ln for ln in keys.rstrip("\n").split("\n")]
        header = next((i for i, ln in enumerate(lines) if _NETWORK_HEADER.match(ln)), None)
        if header is None:
            if _defines_network(lines):
                raise CannotEdit("bootstrap_extra_args sets settings.network without a [settings.network] table "
                                 "header; add https-proxy and no-proxy there by hand")
            gap = [""] if lines and lines[-1].strip() else []
            return lines + gap + [indent + "[settings.network]"] + new
        end = next((i for i in range(header + 1, len(lines)) if _ANY_HEADER.match(lines[i])), len(lines))
        kept: list[str] = []
        for line in lines[header + 1 : end]:
            if GENERATED_MARKER in line:
                continue
            if _PROXY_KEY.match(line):
                value = line.split("=", 1)[1]
                if value.count("[") != value.count("]"):
                    raise CannotEdit("no-proxy in [settings.network] spans several lines; make it one line")
                continue
            kept.append(line)
        return lines[: header + 1] + new + kept + lines[end:]
    return merge
