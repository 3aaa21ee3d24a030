"""The line each top-level key of a TOML document is defined on, for messages that point at it.

``tomllib`` gives values, not positions, and a regular expression for
``key =`` also finds the key inside a table, an inline table or a multi-line
string. This scanner reads a document ``tomllib`` has already accepted and
knows where a statement starts: outside strings, arrays and inline tables,
and before the first ``[table]`` header (after which keys belong to that
table). A table header's first name is a top-level key too.
"""

from __future__ import annotations

import tomllib

_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def value_comments(text: str, at: int) -> tuple[int, list[tuple[int, str]]]:
    """From ``at`` (just after a key's ``=``) to the end of the value's statement: how many line breaks the value
    spans, and each comment in it or after it as (0-based line within the statement, the comment as written).

    A merge that replaces a key's statement keeps these: they are the user's bytes that carry no setting.
    """
    scanner = _Scanner(text)
    scanner.at, scanner.line = at, 0
    scanner._value()
    return scanner.line, scanner.comments


def top_level_lines(text: str) -> dict[str, int]:
    """Each top-level key (the first name of a dotted key or table header) and the 1-based line it first appears on."""
    scanner = _Scanner(text)
    scanner.run()
    return scanner.found


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0
        self.line = 1
        self.found: dict[str, int] = {}
        self.in_table = False
        self.comments: list[tuple[int, str]] = []

    def run(self) -> None:
        text = self.text
        while self.at < len(text):
            ch = text[self.at]
            if ch == "\n":
                self.line += 1
                self.at += 1
            elif ch in " \t\r":
                self.at += 1
            elif ch == "#":
                self._to_line_end()
            elif ch == "[":
                self._header()
            else:
                self._statement()

    def _to_line_end(self) -> None:
        end = self.text.find("\n", self.at)
        self.at = len(self.text) if end < 0 else end

    def _remember(self, key: str) -> None:
        self.found.setdefault(key, self.line)

    def _header(self) -> None:
        self.at += 2 if self.text.startswith("[[", self.at) else 1
        self._skip_blanks()
        self._remember(self._key_part())
        self.in_table = True
        self._to_line_end()

    def _statement(self) -> None:
        """``key = value``: note the key when it is top-level, then skip the value, however many lines it takes."""
        key = self._key_part()
        if not self.in_table:
            self._remember(key)
        while self.at < len(self.text) and self.text[self.at] != "=":
            if self.text[self.at] in "\"'":
                self._key_part()
            else:
                self.at += 1
        self.at += 1
        self._value()

    def _skip_blanks(self) -> None:
        while self.at < len(self.text) and self.text[self.at] in " \t":
            self.at += 1

    def _key_part(self) -> str:
        """One name of a key: bare, "basic" or 'literal'."""
        text, start = self.text, self.at
        if start < len(text) and text[start] in "\"'":
            self._string()
            return str(tomllib.loads(f"k = {text[start:self.at]}")["k"])
        while self.at < len(text) and text[self.at] in _BARE:
            self.at += 1
        if self.at == start:  # not a key; step over it so the scan always moves on
            self.at += 1
        return text[start:self.at]

    def _value(self) -> None:
        """Up to the end of the statement's line, past strings, arrays and inline tables that span lines."""
        depth = 0
        text = self.text
        while self.at < len(text):
            ch = text[self.at]
            if ch == "\n":
                if depth == 0:
                    return
                self.line += 1
                self.at += 1
            elif ch in "\"'":
                self._string()
            elif ch == "#":
                start = self.at
                self._to_line_end()
                self.comments.append((self.line, text[start:self.at].rstrip("\r")))
            elif ch in "[{":
                depth += 1
                self.at += 1
            elif ch in "]}":
                depth -= 1
                self.at += 1
            else:
                self.at += 1

    def _string(self) -> None:
        """Past one string of any of TOML's four kinds, counting the lines a multi-line one spans."""
        text = self.text
        quote = text[self.at]
        triple = text.startswith(quote * 3, self.at)
        self.at += 3 if triple else 1
        while self.at < len(text):
            ch = text[self.at]
            if ch == "\\" and quote == '"':
                if text.startswith("\n", self.at + 1):
                    self.line += 1
                self.at += 2
                continue
            if ch == "\n":
                self.line += 1
            if triple and text.startswith(quote * 3, self.at):
                self.at += 3
                while text.startswith(quote, self.at):  # up to two quotes may end the content
                    self.at += 1
                return
            if not triple and ch == quote:
                self.at += 1
                return
            self.at += 1
