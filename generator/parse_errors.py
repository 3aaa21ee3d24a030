"""Parse failures in Terraform's words: which brace, string or heredoc is not closed, and where.

python-hcl2's errors name grammar tokens (``$END``, ``RBRACE``); a person needs
"the `{` opened at line 3 for module "eks" is never closed". A small scanner
that knows strings, comments and heredocs finds that; the parser's own
position is the fallback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

_PAIRS = {"{": "}", "[": "]", "(": ")"}
_CLOSERS = {v: k for k, v in _PAIRS.items()}
_HEREDOC = re.compile(r"<<-?([A-Za-z][A-Za-z0-9._-]*)\n")
_TOKEN_WORDS = {"$END": "the end of the file", "NL_OR_COMMENT": "the end of the line", "RBRACE": '"}"',
                "LBRACE": '"{"', "RSQB": '"]"', "LSQB": '"["', "RPAR": '")"', "LPAR": '"("', "EQ": '"="',
                "COMMA": '","', "DBLQUOTE": "a quote", "NAME": "a name"}


@dataclass(frozen=True)
class _Open:
    char: str
    line: int
    label: str


def describe(text: str, exc: Exception) -> tuple[int, str]:
    """(line, message) for a parse failure of ``text``."""
    problem = scan(text)
    if problem is not None:
        return problem
    found = getattr(exc, "line", None)
    line = found if isinstance(found, int) and found > 0 else 1
    if isinstance(exc, UnexpectedEOF):
        return line, "the file ends in the middle of an expression"
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        missing = _missing_value(text, token.start_pos)
        if missing is not None:
            return missing
        shown = _TOKEN_WORDS.get(token.type) if token.type in _TOKEN_WORDS else _quote(str(token))
        if token.type == "$END":
            return _last_line(text), "the file ends in the middle of an expression"
        return line, f"unexpected {shown} (column {exc.column}){_expected(exc.expected)}"
    if isinstance(exc, UnexpectedCharacters):
        return line, f"unexpected character {_quote(exc.char)} (column {exc.column})"
    if isinstance(exc, UnexpectedInput):
        return line, "not valid Terraform here"
    return line, "not valid Terraform"


def _missing_value(text: str, pos: int | None) -> tuple[int, str] | None:
    """``name =`` followed by nothing: the most common slip, said in those words."""
    if pos is None:
        return None
    before = text[:pos].rstrip()
    if not before.endswith("=") or before.endswith(("==", "!=", "<=", ">=")):
        return None
    head = before[:-1].rstrip()
    name = re.split(r"[\s{\[(,]", head)[-1] if head else ""
    line = before.count("\n") + 1
    return line, f'"{name} =" has no value' if name else "an argument has no value after \"=\""


def _expected(expected: set[str]) -> str:
    if expected == {"EQ"} or expected == {"EQ", "LBRACE"}:
        return '; expected "=" after the argument name'
    if "RBRACE" in expected and len(expected) <= 3:
        return '; expected "}"'
    return ""


def _quote(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else text
    first = first if len(first) <= 30 else first[:29] + "…"
    return '"' + first.replace('"', '\\"') + '"'


def _last_line(text: str) -> int:
    return text.rstrip("\n").count("\n") + 1


def _label(line_text: str) -> str:
    """What a ``{`` on this line opens: ``module "eks"``, ``eks_managed_node_groups``, or nothing."""
    head = line_text.split("{")[0].strip().rstrip("=").strip()
    head = re.sub(r"\s+", " ", head)
    return head if head and len(head) <= 60 else ""


def scan(text: str) -> tuple[int, str] | None:
    """The first unbalanced bracket, unterminated string or heredoc, as (line, message); None if all close."""
    stack: list[_Open] = []
    lines = text.split("\n")
    i, line = 0, 1
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
            i += 1
            continue
        if ch == "#" or text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                return line, "a /* comment opened here is never closed"
            line += text.count("\n", i, end)
            i = end + 2
            continue
        if ch == '"':
            closing = _string_end(text, i + 1)
            if closing is None:
                return line, "a quoted string opened here is not closed on the same line"
            line += text.count("\n", i, closing)
            i = closing + 1
            continue
        if text.startswith("<<", i):
            match = _HEREDOC.match(text, i)
            if match:
                marker_line = re.compile(r"^[ \t]*" + re.escape(match.group(1)) + r"[ \t]*$", re.M)
                found = marker_line.search(text, match.end())
                if found is None:
                    return line, f"the heredoc <<{match.group(1)} opened here has no closing {match.group(1)} line"
                line += text.count("\n", i, found.end())
                i = found.end()
                continue
        if ch in _PAIRS:
            stack.append(_Open(ch, line, _label(lines[line - 1]) if ch == "{" else ""))
        elif ch in _CLOSERS:
            if not stack:
                return line, f'"{ch}" closes nothing: there is no open "{_CLOSERS[ch]}" before it'
            top = stack.pop()
            if _PAIRS[top.char] != ch:
                return line, (f'"{ch}" found where "{_PAIRS[top.char]}" should close the "{top.char}" opened at '
                              f"line {top.line}{_for(top)}")
        i += 1
    if stack:
        top = stack[-1]
        return top.line, f'the "{top.char}" opened here{_for(top)} is never closed'
    return None


def _for(opened: _Open) -> str:
    return f" for {opened.label}" if opened.label else ""


def _string_end(text: str, i: int) -> int | None:
    """Index of the closing quote of a string whose text starts at ``i``; None if a line ends first."""
    depth = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "\n" and depth == 0:
            return None
        if text.startswith("${", i) or text.startswith("%{", i):
            depth += 1
            i += 2
            continue
        if ch == "}" and depth:
            depth -= 1
        elif ch == '"' and depth == 0:
            return i
        elif ch == '"' and depth:
            inner = _string_end(text, i + 1)
            if inner is None:
                return None
            i = inner
        i += 1
    return None
