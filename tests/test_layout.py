"""terraform fmt's layout, as layout.py owns it: before/after tables and must-not-change tables, with terraform fmt
as the judge of every "after" (as pyupgrade tests its rewrites)."""

from __future__ import annotations

from pathlib import Path

import pytest

from eksproxy_gen import layout
from eksproxy_gen.edits import CannotEdit, Edit, splice
from eksproxy_gen.hcl import ObjectExpr, TupleExpr, parse

from .conftest import fmt_clean


def _fmt_clean(tmp_path: Path, text: str) -> bool:
    path = tmp_path / "t.tf"
    path.write_text(text, encoding="utf-8")
    return fmt_clean(path)


def _value(text: str, name: str) -> object:
    doc = parse(text)
    attr = doc.body.blocks[0].body.attribute(name) if doc.body.blocks else doc.body.attribute(name)
    assert attr is not None
    return doc, attr


# --- alignment runs -------------------------------------------------------------------------------------------------

REALIGN = [
    # a one-line value in the middle of a run becomes multi-line: the runs above and below are aligned on their own
    ('m {\n  a   = 1\n  bbb = []\n  cc  = 2\n}\n',
     "bbb = []", 'bbb = [\n    1,\n  ]',
     'm {\n  a = 1\n  bbb = [\n    1,\n  ]\n  cc = 2\n}\n'),
    # the line itself keeps one space before "="
    ('m {\n  name        = "x"\n  long_name_2 = {}\n}\n',
     "long_name_2 = {}", 'long_name_2 = {\n    k = 1\n  }',
     'm {\n  name = "x"\n  long_name_2 = {\n    k = 1\n  }\n}\n'),
    # a file that starts with a blank line: the lines are still counted from the first
    ('\nm {\n  a    = 1\n  bb   = 2\n  ccc  = []\n  dddd = 3\n}\n',
     "ccc  = []", 'ccc = [\n    1,\n  ]',
     '\nm {\n  a  = 1\n  bb = 2\n  ccc = [\n    1,\n  ]\n  dddd = 3\n}\n'),
    # brackets, "<<", "#" and "//" inside strings do not make a line multi-line: those lines stay in their runs
    ('m {\n  u   = "http://p:3128/{x}"\n  v   = "a[ # b"\n  bbb = []\n  c   = 1\n  dd  = "<<x ("\n}\n',
     "bbb = []", 'bbb = [\n    1,\n  ]',
     'm {\n  u = "http://p:3128/{x}"\n  v = "a[ # b"\n  bbb = [\n    1,\n  ]\n  c  = 1\n  dd = "<<x ("\n}\n'),
]


@pytest.mark.parametrize(("before", "old", "new", "after"), REALIGN)
def test_a_line_that_becomes_multi_line_splits_its_alignment_run(tmp_path: Path, before: str, old: str, new: str,
                                                                 after: str) -> None:
    start = before.index(old)
    pivot = layout.line_start(before, start)
    result = layout.spliced_and_realigned(before, [Edit(start, start + len(old), new)], [pivot])
    assert result == after
    assert _fmt_clean(tmp_path, before) and _fmt_clean(tmp_path, result)


NO_REALIGN = [
    # already multi-line values around: nothing to align
    'm {\n  a = [\n    1,\n  ]\n  b = 2\n}\n',
    # a heredoc value is not a one-line assignment
    'm {\n  a = <<-EOT\n    x\n  EOT\n  b = 2\n}\n',
    # a different indentation is a different run
    'm {\n  a = 1\n  n = {\n    x = 1\n  }\n}\n',
]


@pytest.mark.parametrize("text", NO_REALIGN)
def test_a_pivot_whose_neighbours_are_aligned_changes_nothing(tmp_path: Path, text: str) -> None:
    assert _fmt_clean(tmp_path, text)
    pivot = layout.line_start(text, text.index("a ="))
    assert layout.spliced_and_realigned(text, [], [pivot]) == text


# --- lists of objects -----------------------------------------------------------------------------------------------

INLINE = 'x = [{\n  a = 1\n  }, {\n  b = 2\n}]\n'


def test_closing_braces_follow_the_element_that_becomes_last(tmp_path: Path) -> None:
    """``[{..}, {..}]``: dropping the last element makes the first the last, so its ``}`` moves out a level."""
    assert _fmt_clean(tmp_path, INLINE)
    doc, attr = _value(INLINE, "x")
    tup = attr.value
    assert isinstance(tup, TupleExpr)
    edits = [Edit(tup.items[0].span.end, tup.items[1].span.end, "")]
    edits += layout.closing_indents(doc, tup, [0], 0)
    result = splice(INLINE, edits)
    assert result == 'x = [{\n  a = 1\n}]\n'
    assert _fmt_clean(tmp_path, result)


def test_closing_braces_of_kept_elements_in_place_change_nothing() -> None:
    doc, attr = _value(INLINE, "x")
    assert layout.closing_indents(doc, attr.value, [0, 1], 1) == []
    one_per_line = 'x = [\n  {\n    a = 1\n  },\n  {\n    b = 2\n  },\n]\n'
    doc, attr = _value(one_per_line, "x")
    assert layout.closing_indents(doc, attr.value, [0], 0) == []


@pytest.mark.parametrize(("text", "followed", "expected"), [
    ('x = [\n  {\n    a = 1\n  },\n]\n', True, ('{N}', ",\n  ")),
    ('x = [{\n  a = 1\n}]\n', True, ('{N  }', ", ")),
    ('x = [{\n  a = 1\n}]\n', False, ('{N}', ", ")),
])
def test_new_elements_take_the_list_s_layout(text: str, followed: bool, expected: tuple[str, str]) -> None:
    doc, attr = _value(text, "x")

    def element(indent: str, closing: str | None) -> str:
        return "{N" + (closing if closing is not None else "") + "}"

    assert layout.joined_elements(doc, attr.value, [element], followed) == expected


# --- objects --------------------------------------------------------------------------------------------------------

def test_a_one_line_object_is_opened_up_aligned(tmp_path: Path) -> None:
    text = 'g = { ami_type = "AL2023_x86_64_STANDARD", min_size = 1 }\n'
    doc, attr = _value(text, "g")
    obj = attr.value
    assert isinstance(obj, ObjectExpr)
    result = splice(text, [layout.opened_object(doc, obj, lambda indent: "extra = 1")])
    assert result == 'g = {\n  ami_type = "AL2023_x86_64_STANDARD"\n  min_size = 1\n\n  extra = 1\n}\n'
    assert _fmt_clean(tmp_path, result)


@pytest.mark.parametrize(("text", "indent"), [
    ('g = {\n    a = 1\n}\n', "    "),
    ('g = {}\n', "  "),
    ('  g = { a = 1\n  }\n', "    "),
])
def test_members_take_the_indentation_of_the_first(text: str, indent: str) -> None:
    doc, attr = _value(text, "g")
    assert layout.member_indent(doc, attr.value) == indent


# --- moving text ----------------------------------------------------------------------------------------------------

def test_moved_text_keeps_relative_indentation_and_refuses_when_it_cannot() -> None:
    text = "    {\n      a = 1\n\n    }\n"
    assert layout.relative_lines(text, 4, len(text) - 1) == "{\n  a = 1\n\n}"
    shallower = "    {\n      a = <<-EOT\n  x\n      EOT\n    }\n"
    assert layout.relative_lines(shallower, 4, len(shallower) - 1) is None


def test_overlapping_edits_are_refused() -> None:
    with pytest.raises(CannotEdit):
        splice("abcdef", [Edit(1, 3, "x"), Edit(2, 4, "y")])
    assert splice("abcdef", [Edit(1, 3, "x"), Edit(3, 4, "y")]) == "axyef"


@pytest.mark.parametrize(("lines", "expected"), [
    (["  a", "    b", "", "  c"], "  "),
    (["\tx", "\t\ty"], "\t"),
    (["", "  "], "-"),
])
def test_common_indent_ignores_blank_lines(lines: list[str], expected: str) -> None:
    assert layout.common_indent(lines, "-") == expected
