"""A small, independent HCL scanner: string templates, heredocs and attribute spans with their offsets.

The acceptance routine must not trust eksproxy-gen's own parser to judge eksproxy-gen's output, so it
reads Terraform with this scanner instead. It understands only what the invariants need: comments,
quoted templates (with ``${ }`` / ``%{ }`` and their ``$${`` / ``%%{`` escapes), heredocs (``<<EOT`` and
``<<-EOT``), brackets, and where an attribute (``name = value`` or ``key: value``) starts and ends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_ATTR_AFTER_NAME = re.compile(r"[ \t]*(=|:)(?![=>:])")
_QUOTED_KEY = re.compile(r'"([^"\\\n$%]*)"[ \t]*(=|:)(?![=>:])')
_HEREDOC = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\r?\n")


@dataclass
class Interpolation:
    """One ``${ }`` or ``%{ }`` sequence of a template, by offsets into the scanned text (``start`` at ``$``/``%``)."""

    kind: str
    start: int
    end: int


@dataclass
class Template:
    """A quoted string or heredoc: its span in the text, the object it sits in, and its interpolations."""

    kind: str
    start: int
    end: int
    obj: int
    attrs: tuple[str, ...]
    parts: list[Interpolation] = field(default_factory=list)


@dataclass
class Attribute:
    """``name = value``: ``start`` is the name's offset, ``end`` the offset just after the value."""

    name: str
    start: int
    end: int
    depth: int
    obj: int


@dataclass
class Scan:
    text: str
    templates: list[Template]
    attributes: list[Attribute]
    objects: dict[int, tuple[int, int]]


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)
        self.templates: list[Template] = []
        self.attributes: list[Attribute] = []
        self.open_attrs: list[Attribute] = []
        self.objects: dict[int, tuple[int, int]] = {}
        self.obj_stack: list[int] = [-1]
        self.depth = 0
        self.next_obj = 0
        self.template_depth = 0

    def _close_attrs(self, at: int, depth: int) -> None:
        """End every open attribute written at ``depth`` or deeper; its value ends at ``at`` (trailing blanks cut)."""
        end = at
        while end > 0 and self.text[end - 1] in " \t\r":
            end -= 1
        while self.open_attrs and self.open_attrs[-1].depth >= depth:
            attr = self.open_attrs.pop()
            attr.end = max(end, attr.start)
            self.attributes.append(attr)

    def _skip_comment(self, i: int) -> int:
        text = self.text
        if text.startswith("/*", i):
            close = text.find("*/", i + 2)
            return self.n if close < 0 else close + 2
        close = text.find("\n", i)
        return self.n if close < 0 else close

    def expr(self, i: int, closer: str | None) -> int:
        """Scan expression text from ``i``; stop after ``closer`` at this level (an interpolation's ``}``).

        Attributes are only tracked outside templates: inside ``${ }`` a newline or comma ends nothing.
        """
        text = self.text
        base = self.depth
        outside = self.template_depth == 0
        stmt_start = True
        while i < self.n:
            c = text[i]
            if c in " \t\r":
                i += 1
                continue
            if c == "\n":
                if outside:
                    self._close_attrs(i, self.depth)
                stmt_start = True
                i += 1
                continue
            if c == "#" or text.startswith("//", i) or text.startswith("/*", i):
                i = self._skip_comment(i)
                continue
            if c == '"':
                key = _QUOTED_KEY.match(text, i) if stmt_start and outside else None
                if key:
                    self._open_attr(key.group(1), i)
                    i = key.end()
                    stmt_start = False
                    continue
                i = self.quoted(i)
                stmt_start = False
                continue
            if c == "<" and text.startswith("<<", i):
                heredoc = _HEREDOC.match(text, i)
                if heredoc:
                    i = self.heredoc(i, heredoc)
                    stmt_start = False
                    continue
            if c in "{[(":
                self.depth += 1
                if c == "{":
                    self.obj_stack.append(self.next_obj)
                    self.objects[self.next_obj] = (i, self.n)
                    self.next_obj += 1
                else:
                    self.obj_stack.append(self.obj_stack[-1])
                stmt_start = True
                i += 1
                continue
            if c in "}])":
                if self.depth == base:
                    if closer is not None and c == closer:
                        return i + 1
                    i += 1
                    continue
                if outside:
                    self._close_attrs(i, self.depth)
                obj = self.obj_stack.pop()
                if c == "}" and obj in self.objects and self.objects[obj][1] == self.n:
                    self.objects[obj] = (self.objects[obj][0], i + 1)
                self.depth -= 1
                stmt_start = False
                i += 1
                continue
            if c == ",":
                if outside:
                    self._close_attrs(i, self.depth)
                stmt_start = True
                i += 1
                continue
            ident = _IDENT.match(text, i)
            if ident:
                after = _ATTR_AFTER_NAME.match(text, ident.end()) if stmt_start and outside else None
                if after:
                    self._open_attr(ident.group(0), i)
                    i = after.end()
                    stmt_start = False
                    continue
                i = ident.end()
                stmt_start = False
                continue
            stmt_start = False
            i += 1
        return self.n

    def _open_attr(self, name: str, at: int) -> None:
        self._close_attrs(at, self.depth)
        self.open_attrs.append(Attribute(name, at, at, self.depth, self.obj_stack[-1]))

    def _template(self, kind: str, start: int) -> Template:
        attrs = tuple(a.name for a in self.open_attrs)
        template = Template(kind, start, start, self.obj_stack[-1], attrs)
        if self.template_depth == 0:
            self.templates.append(template)
        return template

    def _interpolation(self, template: Template, i: int) -> int:
        """``i`` is at ``${`` or ``%{``: scan to its closing brace and record it; returns the offset after it."""
        self.template_depth += 1
        end = self.expr(i + 2, "}")
        self.template_depth -= 1
        template.parts.append(Interpolation(self.text[i], i, end))
        return end

    def quoted(self, i: int) -> int:
        text = self.text
        template = self._template("quoted", i)
        j = i + 1
        while j < self.n:
            c = text[j]
            if c == "\\":
                j += 2
                continue
            if c == '"':
                template.end = j + 1
                return j + 1
            if c == "\n":
                break
            if text.startswith("$${", j) or text.startswith("%%{", j):
                j += 3
                continue
            if text.startswith("${", j) or text.startswith("%{", j):
                j = self._interpolation(template, j)
                continue
            j += 1
        template.end = j
        return j

    def heredoc(self, i: int, header: re.Match[str]) -> int:
        text = self.text
        marker = header.group(2)
        template = self._template("heredoc", i)
        j = header.end()
        line_start = True
        while j < self.n:
            if line_start:
                eol = text.find("\n", j)
                eol = self.n if eol < 0 else eol
                if text[j:eol].strip() == marker:
                    template.end = j + len(text[j:eol].rstrip("\r"))
                    return template.end
                line_start = False
            c = text[j]
            if c == "\n":
                line_start = True
                j += 1
                continue
            if text.startswith("$${", j) or text.startswith("%%{", j):
                j += 3
                continue
            if text.startswith("${", j) or text.startswith("%{", j):
                j = self._interpolation(template, j)
                continue
            j += 1
        template.end = self.n
        return self.n


def scan(text: str) -> Scan:
    """Templates (outermost only), attributes and ``{ }`` objects of an HCL text."""
    scanner = _Scanner(text)
    scanner.expr(0, None)
    scanner._close_attrs(scanner.n, 0)
    return Scan(text, scanner.templates, sorted(scanner.attributes, key=lambda a: a.start), scanner.objects)


def line_of(text: str, offset: int) -> int:
    """1-based line number of an offset."""
    return text.count("\n", 0, offset) + 1
