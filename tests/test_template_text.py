"""The one lexer of Terraform template text: escapes, interpolations and directives kept apart, round trips exact."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from eksproxy_gen.policy.template_text import (
    Kind,
    escaped,
    has_directives,
    has_interpolations,
    interpolations,
    literal,
    pieces,
)

from .conftest import in_ci


def _kinds(raw: str) -> list[tuple[str, str]]:
    return [(p.kind.value, p.text) for p in pieces(raw)]


def test_pieces_keep_escapes_apart() -> None:
    assert _kinds('a $${b} ${c.d} %{ if x }y%{ endif } ${ "}" } %%{z}') == [
        ("text", "a "), ("escape", "$${"), ("text", "b} "), ("interpolation", "${c.d}"), ("text", " "),
        ("directive", "%{ if x }"), ("text", "y"), ("directive", "%{ endif }"), ("text", " "),
        ("interpolation", '${ "}" }'), ("text", " "), ("escape", "%%{"), ("text", "z}")]


def test_a_dollar_before_an_escape_stays_literal() -> None:
    """``$$${x}`` renders ``$${x}``: a literal ``$`` then the escape, as Terraform's scanner reads it."""
    assert _kinds("$$${x}") == [("text", "$"), ("escape", "$${"), ("text", "x}")]
    assert literal("$$${x}") == "$${x}"


@settings(max_examples=300, deadline=None, derandomize=in_ci())
@given(st.text(alphabet='$%{}"\\a\n', max_size=24))
def test_pieces_cover_the_text_in_order(raw: str) -> None:
    """Joined, the pieces are the text (an interpolation left open is text); each piece has its kind's shape."""
    found = pieces(raw)
    assert "".join(p.text for p in found) == raw
    assert all(raw[p.start : p.end] == p.text for p in found)
    for piece in found:
        if piece.kind is Kind.ESCAPE:
            assert piece.text in ("$${", "%%{")
        elif piece.kind in (Kind.INTERPOLATION, Kind.DIRECTIVE):
            assert piece.text.startswith("${" if piece.kind is Kind.INTERPOLATION else "%{")
            assert piece.text.endswith("}")
        else:
            assert piece.text


@settings(max_examples=300, deadline=None, derandomize=in_ci())
@given(st.text(alphabet="$%{}ab\n", max_size=30))
def test_escaped_literal_text_renders_to_itself(text: str) -> None:
    """Any literal text, escaped, is template source with no interpolation or directive that renders to it."""
    source = escaped(text)
    assert not has_interpolations(source) and not has_directives(source)
    assert literal(source) == text


@settings(max_examples=300, deadline=None, derandomize=in_ci())
@given(st.text(alphabet="$%{}ab\n", max_size=30))
def test_literal_of_source_is_none_exactly_when_it_holds_interpolations_or_directives(source: str) -> None:
    dynamic = any(p.kind in (Kind.INTERPOLATION, Kind.DIRECTIVE) for p in pieces(source))
    assert (literal(source) is None) == dynamic
    rendered = literal(source)
    if rendered is not None:
        assert literal(escaped(rendered)) == rendered


def test_escaped_directives_and_interpolations_are_not_the_real_thing() -> None:
    assert not has_directives("a %%{ if x } b")
    assert has_directives("a %{ if x } b")
    assert not has_interpolations("echo $${HOME}")
    assert interpolations("a ${b} $${c} ${d}") == [(2, 6), (13, 17)]
