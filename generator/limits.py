"""How much eksproxy-gen reads of one file, and how deep and wide what it reads may be.

It runs on pull requests, so a file's size and shape are chosen by whoever
wrote the change. Each bound here turns an input that would take gigabytes or
overflow the interpreter's stack into a one-line error naming the file:

- ``MAX_FILE_BYTES``: python-hcl2's Lark parser needs about 180 bytes of memory
  per byte of Terraform, whatever its shape (measured with this project's
  parser: a dense 1 MB file peaks at 213 MB, 5 MB at 937 MB, a 20 MB heredoc at
  3.7 GB, a 10 MB one-line list at 1.7 GB). 1 MiB keeps a run under about a
  quarter of a gigabyte per file; real Terraform and Kubernetes files are far
  smaller (terraform-aws-eks' largest file is under 100 KB).
- ``MAX_NESTING``: brackets, braces, blocks and YAML collections nested deeper
  than this are refused before any recursive code walks them (real files
  nest a few dozen levels at most; Python's stack gives out at a few hundred).
- ``MAX_ALIAS_NODES``: how many nodes YAML aliases may add by repetition (a
  2 KB "billion laughs" adds a billion).
"""

from __future__ import annotations

import os

MAX_FILE_BYTES = 1 << 20
LIMIT_VARIABLE = "EKSPROXY_GEN_MAX_FILE_BYTES"
MAX_NESTING = 100
MAX_ALIAS_NODES = 100_000


def file_limit() -> int:
    """The largest file read, in bytes: ``$EKSPROXY_GEN_MAX_FILE_BYTES`` when set to a positive number."""
    given = os.environ.get(LIMIT_VARIABLE, "")
    return int(given) if given.isdigit() and int(given) > 0 else MAX_FILE_BYTES


def size_text(size: int) -> str:
    """A size as a person reads it: ``1 MiB``, ``4.2 MiB``, ``512 KiB``, ``900 bytes``."""
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            value = size / scale
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} bytes"


def deepest_line(text: str, opening: str = "[{(", closing: str = "]})") -> int:
    """The 1-based line where brackets first nest deeper than MAX_NESTING, counted naively (strings included).

    Used only to name a line once a file has been found too deep, so a
    bracket inside a string can move the line named, never the verdict.
    """
    depth = 0
    line = 1
    deepest, deepest_at = 0, 1
    for char in text:
        if char == "\n":
            line += 1
        elif char in opening:
            depth += 1
            if depth > MAX_NESTING:
                return line
            if depth > deepest:
                deepest, deepest_at = depth, line
        elif char in closing:
            depth = max(depth - 1, 0)
    return deepest_at
