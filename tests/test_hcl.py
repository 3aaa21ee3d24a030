"""The parse layer: spans are exact, so edits can be spliced at them."""

from __future__ import annotations

import pytest

from eksproxy_gen.errors import ParseError
from eksproxy_gen.hcl import HeredocExpr, ObjectExpr, StringExpr, TupleExpr, parse

TEXT = '''module "eks" {
  a = var.x && var.y # trailing comment

  groups = {
    "gpu-pool" = { min_size = 1, max_size = 2 }
    plain = {
      parts = [{
        content = <<-EOT
          hello ${var.name}
        EOT
      }]
    }
  }
}
'''


def test_spans_stop_at_the_last_token() -> None:
    doc = parse(TEXT)
    block = doc.body.blocks[0]
    a = block.body.attribute("a")
    assert a is not None
    assert doc.source(a.value.span) == "var.x && var.y"


def test_quoted_keys_and_one_line_objects() -> None:
    doc = parse(TEXT)
    groups = doc.body.blocks[0].body.attribute("groups")
    assert groups is not None and isinstance(groups.value, ObjectExpr)
    gpu = groups.value.get("gpu-pool")
    assert gpu is not None
    assert doc.source(gpu.key_span) == '"gpu-pool"'
    assert doc.line_of(gpu.span.start) == 5
    assert isinstance(gpu.value, ObjectExpr)
    assert [e.key for e in gpu.value.elems] == ["min_size", "max_size"]


def test_heredoc_body_and_span_exclude_the_newline_after_the_marker() -> None:
    doc = parse(TEXT)
    groups = doc.body.blocks[0].body.attribute("groups")
    assert groups is not None and isinstance(groups.value, ObjectExpr)
    plain = groups.value.get("plain")
    assert plain is not None and isinstance(plain.value, ObjectExpr)
    parts = plain.value.get("parts")
    assert parts is not None and isinstance(parts.value, TupleExpr)
    item = parts.value.items[0]
    assert isinstance(item, ObjectExpr)
    content = item.get("content")
    assert content is not None and isinstance(content.value, HeredocExpr)
    assert content.value.trim and content.value.marker == "EOT"
    assert content.value.body == "          hello ${var.name}\n"
    assert doc.source(content.value.span).endswith("EOT")


def test_string_values_know_whether_they_are_templates() -> None:
    doc = parse('a = "plain"\nb = "x-${var.y}"\nc = "q\\"uote"\n')
    values = {a.name: a.value for a in doc.body.attributes}
    assert isinstance(values["a"], StringExpr) and values["a"].value == "plain"
    assert isinstance(values["b"], StringExpr) and values["b"].value is None
    assert isinstance(values["c"], StringExpr) and values["c"].value == 'q"uote'


@pytest.mark.parametrize(("text", "line"), [
    ('module "x" {\n  a =\n}\n', 2),
    ('a = "unterminated\n', 1),
    ('a = 1\n\nb = {\n  c = [1, 2\n}\n', 5),
])
def test_parse_errors_carry_a_line(text: str, line: int) -> None:
    with pytest.raises(ParseError) as info:
        parse(text)
    assert info.value.line == line
    assert info.value.message
