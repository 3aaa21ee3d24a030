"""One escaping function for every human-readable output: text, the terminal, GitHub and GitLab, the job summary.

File names, node-group names and messages come from the repository being
checked, which may be hostile: a newline in a group name would start a line of
its own in a CI log (``::error::`` there is a GitHub workflow command), and an
escape sequence would drive the terminal or the log viewer. Every character
that is not plain printable text (C0 and C1 controls, DEL, line and paragraph
separators, and the bidirectional controls that reorder what a reviewer reads)
is shown as a visible backslash escape instead, in every format, whatever
``--color`` says. JSON and SARIF escape control characters themselves.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_MARKDOWN = re.compile(r"([\\`\[\]|])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def printable(text: str) -> str:
    """``text`` with every control or reordering character written as ``\\n``, ``\\x1b``, ``\\u202e``."""
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def markdown_cell(text: str) -> str:
    """Text for a Markdown table cell: printable, on one line, and unable to end the cell, open a link or an image,
    start a code span or carry HTML (emphasis marks are left alone: they can only change how a word looks)."""
    escaped = _MARKDOWN.sub(r"\\\1", printable(text))
    return "".join(_HTML.get(char, char) for char in escaped)
