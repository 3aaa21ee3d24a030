"""Terraform template text, lexed once: literal text, escapes, interpolations and directives.

Heredocs, quoted strings and ``templatefile()`` files are templates: ``${...}``
is an interpolation, ``%{...}`` a directive (``if``, ``for``), and ``$${`` /
``%%{`` are escapes that render as the literal ``${`` / ``%{``. Every part of
eksproxy-gen that looks into such text (to read NodeConfig YAML, TOML or a
script, to find references, to tell whether Terraform decides which lines
exist) asks this module, so they cannot disagree about ``%%{``.

Text eksproxy-gen reads from Terraform is kept as *template source* (escapes
as written); text read by ``file()`` is literal and becomes template source by
``escaped``; text written back goes through the inverse, so a rewrite renders,
under Terraform's rules, to exactly what it rendered before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    TEXT = "text"
    ESCAPE = "escape"
    INTERPOLATION = "interpolation"
    DIRECTIVE = "directive"


@dataclass(frozen=True)
class Piece:
    """A piece of template source: its kind, its text as written, and where it starts."""

    kind: Kind
    text: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)


_MARK = re.compile(r"\$\$\{|%%\{|\$\{|%\{")


def pieces(raw: str) -> list[Piece]:
    """Split template source into pieces, in order; an unterminated ``${`` or ``%{`` and what follows is text."""
    found: list[Piece] = []
    i = start = 0
    while (mark := _MARK.search(raw, i)) is not None:
        i = mark.start()
        if len(mark.group()) == 3:
            if start < i:
                found.append(Piece(Kind.TEXT, raw[start:i], start))
            found.append(Piece(Kind.ESCAPE, mark.group(), i))
            i = start = mark.end()
            continue
        end = _closing_brace(raw, i + 2)
        if end is None:
            break
        if start < i:
            found.append(Piece(Kind.TEXT, raw[start:i], start))
        kind = Kind.INTERPOLATION if raw[i] == "$" else Kind.DIRECTIVE
        found.append(Piece(kind, raw[i : end + 1], i))
        i = start = end + 1
    if start < len(raw):
        found.append(Piece(Kind.TEXT, raw[start:], start))
    return found


def _closing_brace(raw: str, i: int) -> int | None:
    """The ``}`` that closes a ``${`` or ``%{`` whose inside starts at ``i``: nested braces and strings skipped."""
    depth, quote = 0, False
    while i < len(raw):
        ch = raw[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quote = False
        elif ch == '"':
            quote = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return None


def interpolations(raw: str) -> list[tuple[int, int]]:
    """(start, end) of each ``${...}``; escapes are not interpolations."""
    return [(p.start, p.end) for p in pieces(raw) if p.kind is Kind.INTERPOLATION]


def has_directives(raw: str) -> bool:
    """Whether Terraform decides which of the text's lines exist (``%{ if }``, ``%{ for }``); ``%%{`` is literal."""
    return "%{" in raw and any(p.kind is Kind.DIRECTIVE for p in pieces(raw))


def has_interpolations(raw: str) -> bool:
    return "${" in raw and any(p.kind is Kind.INTERPOLATION for p in pieces(raw))


def escaped(literal: str) -> str:
    """Literal text as template source that renders to it: every ``${`` and ``%{`` escaped."""
    return literal.replace("${", "$${").replace("%{", "%%{")


def literal(source: str) -> str | None:
    """What template source renders to when it holds no interpolation or directive (escapes resolved); else None."""
    out: list[str] = []
    for piece in pieces(source):
        if piece.kind is Kind.TEXT:
            out.append(piece.text)
        elif piece.kind is Kind.ESCAPE:
            out.append(piece.text[1:])
        else:
            return None
    return "".join(out)
