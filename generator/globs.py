"""gitignore-style globs, for the ``exclude`` setting: the pattern language users already write in .gitignore.

A pattern with a ``/`` before its end is anchored at the settings file's
folder; one without matches a name at any depth. A trailing ``/`` matches
folders only. ``*`` and ``?`` stop at ``/``; ``**`` crosses folders. No new
dependency: the translation to a regular expression is a page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Glob:
    pattern: str
    regex: re.Pattern[str]
    folders_only: bool

    def matches(self, relative: str, is_dir: bool) -> bool:
        """Whether a path (relative to the glob's base, ``/``-separated) matches."""
        return (is_dir or not self.folders_only) and self.regex.fullmatch(relative) is not None


def compile_glob(pattern: str) -> Glob:
    text = pattern.strip()
    folders_only = text.endswith("/")
    text = text.rstrip("/")
    anchored = "/" in text
    text = text.lstrip("/")
    if not anchored and not text.startswith("**"):
        text = "**/" + text
    return Glob(pattern, re.compile(_translate(text)), folders_only)


def _translate(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif text.startswith("**", i):
            out.append(".*")
            i += 2
        elif text[i] == "*":
            out.append("[^/]*")
            i += 1
        elif text[i] == "?":
            out.append("[^/]")
            i += 1
        elif text[i] == "[" and (end := _class_end(text, i)) > 0:
            body = text[i + 1:end]
            negate = body[:1] in ("!", "^")
            body = body[1:] if negate else body
            out.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\") + "]")
            i = end + 1
        elif text[i] == "\\" and i + 1 < len(text):
            out.append(re.escape(text[i + 1]))
            i += 2
        else:
            out.append(re.escape(text[i]))
            i += 1
    return "".join(out)


def _class_end(text: str, start: int) -> int:
    """The index of the ``]`` closing a character class opened at ``start``, or -1 (then ``[`` is literal)."""
    i = start + 1
    if i < len(text) and text[i] in "!^":
        i += 1
    if i < len(text) and text[i] == "]":
        i += 1
    end = text.find("]", i)
    return end if end > 0 and "/" not in text[start:end] else -1
