"""Terraform text told apart the way Terraform's own scanner does: comments, quoted strings, heredocs, brackets.

One lexer serves everything that must know where code ends and text begins:
parse failures in Terraform's words ("the `{` opened at line 3 for module
"eks" is never closed" instead of python-hcl2's ``$END`` and ``RBRACE``), the
text handed to python-hcl2 where its grammar differs from Terraform's
(``hcl.py``), and which ``#``, ``//`` and ``/* */`` are comments at all
(``filters.py``: an ``eksproxy-gen:ignore`` inside a string or heredoc is text).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

_PAIRS = {"{": "}", "[": "]", "(": ")"}
_CLOSERS = {v: k for k, v in _PAIRS.items()}
# Terraform's heredoc marker is an identifier written right after << or <<- and followed by the newline;
# the closing marker stands alone on its line, blanks allowed before and after it
_HEREDOC = re.compile(r"<<-?([^\W\d][\w.-]*)\n")
_SPECIAL = re.compile(r'[\n#/"<{}\[\]()]')
_TOKEN_WORDS = {"$END": "the end of the file", "NL_OR_COMMENT": "the end of the line", "RBRACE": '"}"',
                "LBRACE": '"{"', "RSQB": '"]"', "LSQB": '"["', "RPAR": '")"', "LPAR": '"("', "EQ": '"="',
                "COMMA": '","', "DBLQUOTE": "a quote", "NAME": "a name"}


class Kind(StrEnum):
    COMMENT = "comment"
    STRING = "string"
    HEREDOC = "heredoc"
    BRACKET = "bracket"
    UNCLOSED_STRING = "unclosed string"
    UNCLOSED_HEREDOC = "unclosed heredoc"
    UNCLOSED_COMMENT = "unclosed comment"


@dataclass(frozen=True)
class Lexeme:
    """A piece of Terraform text: ``[start, end)``; for a heredoc, ``marker_end`` is where its closing marker
    ends (blanks may follow it up to ``end``), and ``marker`` the identifier it is named by."""

    kind: Kind
    start: int
    end: int
    marker_end: int = 0
    marker: str = ""


def lex(text: str) -> Iterator[Lexeme]:
    """Comments, strings, heredocs and brackets of Terraform text, in order; what lies between them is code.

    An unclosed string, heredoc or comment is yielded as such and ends the lexing.
    """
    i, n = 0, len(text)
    while True:
        found = _SPECIAL.search(text, i)
        if found is None:
            return
        i = found.start()
        ch = text[i]
        if ch == "\n":
            i += 1
        elif ch == "#" or text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            yield Lexeme(Kind.COMMENT, i, end)
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                yield Lexeme(Kind.UNCLOSED_COMMENT, i, n)
                return
            yield Lexeme(Kind.COMMENT, i, end + 2)
            i = end + 2
        elif ch == "/":
            i += 1
        elif ch == '"':
            closing = _string_end(text, i + 1)
            if closing is None:
                yield Lexeme(Kind.UNCLOSED_STRING, i, n)
                return
            yield Lexeme(Kind.STRING, i, closing + 1)
            i = closing + 1
        elif ch == "<":
            match = _HEREDOC.match(text, i) if text.startswith("<<", i) else None
            if match is None:
                i += 1
                continue
            marker = match.group(1)
            closing_line = re.compile(r"^[ \t]*(" + re.escape(marker) + r")[ \t]*$", re.M).search(text, match.end())
            if closing_line is None:
                yield Lexeme(Kind.UNCLOSED_HEREDOC, i, n, marker=marker)
                return
            yield Lexeme(Kind.HEREDOC, i, closing_line.end(), closing_line.end(1), marker)
            i = closing_line.end()
        else:
            yield Lexeme(Kind.BRACKET, i, i + 1)
            i += 1


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
        if depth == 0 and (text.startswith("$${", i) or text.startswith("%%{", i)):  # an escape opens nothing
            i += 3
            continue
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


@dataclass(frozen=True)
class _Open:
    char: str
    line: int
    label: str


def describe(text: str, exc: Exception) -> tuple[int, str]:
    """(line, message) for a parse failure of ``text``."""
    # Lark is loaded here, not with the lexer: what tells comments apart (filters.py) runs without a parser
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

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
    line, counted = 1, 0
    for lexeme in lex(text):
        line += text.count("\n", counted, lexeme.start)
        counted = lexeme.start
        if lexeme.kind is Kind.UNCLOSED_COMMENT:
            return line, "a /* comment opened here is never closed"
        if lexeme.kind is Kind.UNCLOSED_STRING:
            return line, "a quoted string opened here is not closed on the same line"
        if lexeme.kind is Kind.UNCLOSED_HEREDOC:
            return line, f"the heredoc <<{lexeme.marker} opened here has no closing {lexeme.marker} line"
        if lexeme.kind is not Kind.BRACKET:
            continue
        ch = text[lexeme.start]
        if ch in _PAIRS:
            stack.append(_Open(ch, line, _label(lines[line - 1]) if ch == "{" else ""))
            continue
        if not stack:
            return line, f'"{ch}" closes nothing: there is no open "{_CLOSERS[ch]}" before it'
        top = stack.pop()
        if _PAIRS[top.char] != ch:
            return line, (f'"{ch}" found where "{_PAIRS[top.char]}" should close the "{top.char}" opened at '
                          f"line {top.line}{_for(top)}")
    if stack:
        top = stack[-1]
        return top.line, f'the "{top.char}" opened here{_for(top)} is never closed'
    return None


def _for(opened: _Open) -> str:
    return f" for {opened.label}" if opened.label else ""
