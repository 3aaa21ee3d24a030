"""terraform fmt's layout, owned in one place: what an edit must look like for ``terraform fmt`` to leave it alone.

Planners say *what* to write (a list element, an attribute, a changed value);
this module says *how it is laid out* so the file stays fmt-clean:

- runs of consecutive one-line ``key = value`` lines at one indentation are
  aligned on their ``=``; a line that becomes multi-line splits its run;
- in a ``[{ ... }, { ... }]`` list, a ``}`` followed by ``, {`` is indented one
  level deeper than the line that opened the list, the last one is not;
- a one-line object ``{ a = 1, b = 2 }`` that gains a multi-line value is
  opened up, one aligned element per line;
- text moved into another place keeps its lines' relative indentation.

Nothing here knows about node groups or proxies.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from .edits import Edit, splice

if TYPE_CHECKING:
    from .hcl import Document, ObjectExpr, TupleExpr

INDENT = "  "

_ASSIGN_LINE = re.compile(r'^(?P<indent>[ \t]*)(?P<key>[A-Za-z_][\w-]*|"[^"\n]*")(?P<gap>[ \t]*)=(?P<rest>.*)$')


def line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def line_indent(text: str, pos: int) -> str:
    """The blanks that start the line holding ``pos``."""
    start = line_start(text, pos)
    end = start
    while end < len(text) and text[end] in " \t":
        end += 1
    return text[start:end]


def common_indent(lines: list[str], fallback: str = "") -> str:
    """The shortest indentation of the non-blank lines (a heredoc body's, a block's)."""
    widths = [line[: len(line) - len(line.lstrip(" \t"))] for line in lines if line.strip()]
    return min(widths, key=len) if widths else fallback


def indent_after_first(text: str, indent: str) -> str:
    """Text written for indentation "" placed after ``indent`` on its first line: every later line indented."""
    lines = text.split("\n")
    return "\n".join([lines[0]] + [indent + ln if ln else ln for ln in lines[1:]])


# --- alignment runs -------------------------------------------------------------------------------------------------

def _single_line_assignment(line: str) -> re.Match[str] | None:
    """``key = value`` complete on its line: what terraform fmt lines up in runs of consecutive lines."""
    match = _ASSIGN_LINE.match(line)
    if match is None or match.group("rest").startswith("="):
        return None
    rest = match.group("rest")
    code = re.sub(r'"(?:[^"\\]|\\.)*"', '""', rest).split("#")[0].split("//")[0]
    opened = sum(code.count(c) for c in "{[(") - sum(code.count(c) for c in "}])")
    return match if opened == 0 and "<<" not in code else None


def realign_around(text: str, line_pos: int, below: int | None = None) -> list[Edit]:
    """Re-align around a line that stops being a one-line assignment: the runs above and below it, and itself.

    terraform fmt aligns a run of consecutive one-line assignments at the same
    indentation; when the line between two such runs turns into a multi-line
    value, each run is aligned on its own and the line itself takes one space.
    ``below`` is where the line's value ends, when it spans several lines already.
    """
    lines = text.split("\n")
    number = text.count("\n", 0, line_pos)
    indent = line_indent(text, line_pos)
    edits: list[Edit] = []
    own = _ASSIGN_LINE.match(lines[number])
    if own is not None and own.group("gap") != " ":
        gap_start = line_pos + own.start("gap")
        edits.append(Edit(gap_start, gap_start + len(own.group("gap")), " "))
    after = text.count("\n", 0, below) if below is not None else number + 1
    for step, first in ((-1, number - 1), (1, after)):
        run: list[tuple[int, re.Match[str]]] = []
        i = first
        while 0 <= i < len(lines):
            match = _single_line_assignment(lines[i])
            if match is None or match.group("indent") != indent:
                break
            run.append((i, match))
            i += step
        if not run:
            continue
        width = max(len(m.group("key")) for _i, m in run)
        for i, match in run:
            gap_start = sum(len(ln) + 1 for ln in lines[:i]) + match.start("gap")
            wanted = " " * (width - len(match.group("key")) + 1)
            if match.group("gap") != wanted:
                edits.append(Edit(gap_start, gap_start + len(match.group("gap")), wanted))
    return edits


def spliced_and_realigned(original: str, edits: list[Edit], pivots: list[int]) -> str:
    """``edits`` applied, then the runs around each pivot (a line start of ``original`` whose line becomes a
    multi-line value) re-aligned on the new text.

    Re-alignment comes last, on the spliced text, so that two edits that both
    change one run of aligned lines agree on its new alignment.
    """
    unique = list(dict.fromkeys(edits))
    new = splice(original, unique)
    marks = sorted({(new.count("\n", 0, _moved(pos, unique)),
                     new.count("\n", 0, _moved(original.find("\n", pos) + 1, unique)))
                    for pos in pivots})
    for line, below in marks:
        new = splice(new, realign_around(new, _offset_of_line(new, line), _offset_of_line(new, below)))
    return new


def _moved(pos: int, edits: list[Edit]) -> int:
    """Where an offset of the original text is after the edits (none of which starts before it on its line)."""
    return pos + sum(len(e.text) - (e.end - e.start) for e in edits if e.end <= pos)


def _offset_of_line(text: str, line: int) -> int:
    offset = 0
    for _ in range(line):
        offset = text.index("\n", offset) + 1
    return offset


# --- lists of objects -----------------------------------------------------------------------------------------------

def one_element_per_line(doc: Document, tup: TupleExpr) -> bool:
    """Whether a non-empty list puts each element on its own line (else it is ``[{ ... }, { ... }]``)."""
    first = tup.items[0]
    return doc.text[line_start(doc.text, first.span.start) : first.span.start].strip() == ""


def element_indents(doc: Document, tup: TupleExpr) -> str:
    """The indentation for new elements' ``{`` lines: the first element's, or the list's line for ``[{``."""
    if one_element_per_line(doc, tup):
        return line_indent(doc.text, tup.items[0].span.start)
    return line_indent(doc.text, tup.span.start)


Element = Callable[[str, str | None], str]


def joined_elements(doc: Document, tup: TupleExpr, elements: list[Element], followed: bool) -> tuple[str, str]:
    """New elements' text in the list's layout, and the separator between elements.

    Each element renders itself given ``(indent, closing_indent)``; in
    ``[{ ... }, { ... }]`` layout every closing brace but the list's last is one
    level deeper (``followed``: the last new element has kept ones after it).
    """
    indent = element_indents(doc, tup)
    if one_element_per_line(doc, tup):
        sep = ",\n" + indent
        return sep.join(element(indent, None) for element in elements), sep
    last = len(elements) - 1
    texts = [element(indent, None if not followed and i == last else indent + INDENT)
             for i, element in enumerate(elements)]
    return ", ".join(texts), ", "


def closing_indents(doc: Document, tup: TupleExpr, kept: list[int], last: int | None) -> list[Edit]:
    """``[{ … }, { … }]`` layout: terraform fmt indents a ``}`` one level deeper when ``, {`` follows it.

    An element that becomes the last (``last``), or stops being the last, has
    its closing brace moved to match.
    """
    items = tup.items
    if one_element_per_line(doc, tup):
        return []
    base = line_indent(doc.text, tup.span.start)
    edits: list[Edit] = []
    for k in kept:
        followed_now = k != last
        followed_before = k != len(items) - 1
        if followed_now == followed_before:
            continue
        closing = items[k].span.end - 1
        start = line_start(doc.text, closing)
        if doc.text[start:closing].strip():
            continue
        wanted = base + INDENT if followed_now else base
        if doc.text[start:closing] != wanted:
            edits.append(Edit(start, closing, wanted))
    return edits


# --- objects and blocks ---------------------------------------------------------------------------------------------

def opened_object(doc: Document, obj: ObjectExpr, added: Callable[[str], str]) -> Edit:
    """``{ a = 1, b = 2 }`` opened up, one element a line aligned as terraform fmt aligns them, then ``added``."""
    base = line_indent(doc.text, obj.span.start)
    indent = base + INDENT
    keys = [doc.source(e.key_span) for e in obj.elems]
    width = max(len(k) for k in keys)
    lines = [f"{indent}{key.ljust(width)} = {doc.source(e.value.span)}"
             for key, e in zip(keys, obj.elems, strict=True)]
    body = "\n".join(lines) + "\n\n" + indent + added(indent)
    return Edit(obj.span.start, obj.span.end, "{\n" + body + "\n" + base + "}")


def member_indent(doc: Document, obj: ObjectExpr) -> str:
    """The indentation of a multi-line object's members: its first member's, or one level in."""
    text = doc.text
    base = line_indent(text, obj.span.start)
    if not obj.elems:
        return base + INDENT
    first = obj.elems[0]
    first_own_line = text[line_start(text, first.span.start) : first.span.start].strip() == ""
    return line_indent(text, first.span.start) if first_own_line else base + INDENT


def relative_lines(text: str, start: int, end: int) -> str | None:
    """``text[start:end]`` with its later lines made relative to the indentation of its first line.

    None when a later line is indented less than the first (its text would
    change if moved); blank lines become empty.
    """
    piece = text[start:end]
    base = line_indent(text, start)
    lines = piece.split("\n")
    if any(ln.strip() and not ln.startswith(base) for ln in lines[1:]):
        return None
    return "\n".join([lines[0]] + [ln[len(base):] if ln.strip() else "" for ln in lines[1:]])
