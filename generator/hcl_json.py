"""Terraform's JSON syntax (``*.tf.json``) -> the syntax tree ``hcl.py`` builds, with every position in the file.

Terraform reads a JSON file by the rules of its JSON syntax: a block is a
property named by its type whose value nests one object per label (or an
array of such objects), an argument is a property of the block's body, a
property named ``"//"`` in a body is a comment, and every string is a
template: ``"${local.groups}"`` alone is the value of ``local.groups``, not
text. Arguments keep their place in the file, so messages point at them;
eksproxy-gen reads JSON but never rewrites it.
"""

from __future__ import annotations

import bisect
import dataclasses
import json
import re
from dataclasses import dataclass
from typing import Any

from .errors import ParseError
from .hcl import (
    Attribute,
    Block,
    Body,
    Document,
    Expr,
    Literal,
    ObjectElem,
    ObjectExpr,
    Span,
    StringExpr,
    TupleExpr,
    parse,
)
from .policy import template_text
from .policy.template_text import Kind

# The block types eksproxy-gen reads, and how many labels each has.
LABELS = {"module": 1, "resource": 2, "locals": 0}
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_SPACE = re.compile(r"[ \t\r\n]*")
_DECODER = json.JSONDecoder()
_HCL_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


@dataclass(frozen=True)
class _Value:
    """A JSON value and where it is: ``members`` for an object (key, key span, value), ``items`` for an array."""

    kind: str
    start: int
    end: int
    scalar: object = None
    items: tuple[_Value, ...] = ()
    members: tuple[tuple[str, Span, _Value], ...] = ()


class _Reader:
    """JSON with positions (Python's json module keeps none): strings are decoded by json itself."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def fail(self, at: int, what: str) -> ParseError:
        return ParseError(bisect.bisect_right(self.starts, at), f"not valid JSON: {what}")

    def space(self, at: int) -> int:
        match = _SPACE.match(self.text, at)
        return match.end() if match else at

    def document(self) -> _Value:
        value, end = self.value(self.space(0))
        end = self.space(end)
        if end != len(self.text):
            raise self.fail(end, "more text after the top-level value")
        return value

    def value(self, at: int) -> tuple[_Value, int]:
        text = self.text
        if at >= len(text):
            raise self.fail(at, "the file ends where a value should be")
        ch = text[at]
        if ch == '"':
            decoded, end = self.string(at)
            return _Value("string", at, end, decoded), end
        if ch == "{":
            return self.object(at)
        if ch == "[":
            return self.array(at)
        for word, scalar in (("true", True), ("false", False), ("null", None)):
            if text.startswith(word, at):
                return _Value("literal", at, at + len(word), scalar), at + len(word)
        number = _NUMBER.match(text, at)
        if number and number.end() > at:
            written = number.group()
            parsed: int | float = int(written) if re.fullmatch(r"-?[0-9]+", written) else float(written)
            return _Value("number", at, number.end(), parsed), number.end()
        raise self.fail(at, f"unexpected {ch!r}")

    def string(self, at: int) -> tuple[str, int]:
        try:
            decoded, end = _DECODER.raw_decode(self.text, at)
        except json.JSONDecodeError as exc:
            raise self.fail(exc.pos, exc.msg) from None
        assert isinstance(decoded, str)
        return decoded, end

    def object(self, at: int) -> tuple[_Value, int]:
        members: list[tuple[str, Span, _Value]] = []
        i = self.space(at + 1)
        if self.text.startswith("}", i):
            return _Value("object", at, i + 1), i + 1
        while True:
            if not self.text.startswith('"', i):
                raise self.fail(i, "an object key must be a string")
            key, key_end = self.string(i)
            colon = self.space(key_end)
            if not self.text.startswith(":", colon):
                raise self.fail(colon, 'expected ":" after an object key')
            value, end = self.value(self.space(colon + 1))
            members.append((key, Span(i, key_end), value))
            i = self.space(end)
            if self.text.startswith("}", i):
                return _Value("object", at, i + 1, members=tuple(members)), i + 1
            if not self.text.startswith(",", i):
                raise self.fail(i, 'expected "," or "}" in an object')
            i = self.space(i + 1)

    def array(self, at: int) -> tuple[_Value, int]:
        items: list[_Value] = []
        i = self.space(at + 1)
        if self.text.startswith("]", i):
            return _Value("array", at, i + 1), i + 1
        while True:
            value, end = self.value(i)
            items.append(value)
            i = self.space(end)
            if self.text.startswith("]", i):
                return _Value("array", at, i + 1, items=tuple(items)), i + 1
            if not self.text.startswith(",", i):
                raise self.fail(i, 'expected "," or "]" in an array')
            i = self.space(i + 1)


def parse_json(text: str) -> Document:
    """Parse a ``.tf.json`` file's (LF-normalised) text; raise ParseError on JSON Terraform would not read."""
    reader = _Reader(text)
    root = reader.document()
    if root.kind != "object":
        raise reader.fail(root.start, "a Terraform JSON file holds one object")
    blocks: list[Block] = []
    for name, key_span, value in root.members:
        if name in LABELS:
            blocks += _blocks(text, name, value, LABELS[name], (), key_span.start)
    return Document(text=text, body=Body((), tuple(blocks)), _line_starts=reader.starts)


def _blocks(text: str, kind: str, value: _Value, labels_left: int, labels: tuple[str, ...],
            anchor: int) -> list[Block]:
    """The blocks a block-type property holds: one object per label level, an array meaning several."""
    if value.kind == "array":
        return [b for item in value.items for b in _blocks(text, kind, item, labels_left, labels, anchor)]
    if value.kind != "object":
        return []
    if labels_left == 0:
        return [Block(kind, labels, _body(text, value), Span(anchor, value.end))]
    found: list[Block] = []
    for label, key_span, inner in value.members:
        found += _blocks(text, kind, inner, labels_left - 1, (*labels, label), key_span.start)
    return found


def _body(text: str, value: _Value) -> Body:
    """A block's body: every property an argument, except ``"//"`` comments."""
    return Body(tuple(Attribute(name, _expr(text, v), Span(key_span.start, v.end))
                      for name, key_span, v in value.members if name != "//"))


def _expr(text: str, value: _Value) -> Expr:
    span = Span(value.start, value.end)
    if value.kind == "string":
        assert isinstance(value.scalar, str)
        return _template(text, value.scalar, span)
    if value.kind == "number":
        assert isinstance(value.scalar, (int, float))
        return Literal("number", span, value.scalar)
    if value.kind == "literal":
        assert value.scalar is None or isinstance(value.scalar, bool)
        return Literal("literal", span, value.scalar)
    if value.kind == "array":
        return TupleExpr("tuple", span, tuple(_expr(text, item) for item in value.items))
    return ObjectExpr("object", span, tuple(
        ObjectElem(None if "${" in name else name, key_span, _expr(text, v), Span(key_span.start, v.end))
        for name, key_span, v in value.members))


def _template(text: str, decoded: str, span: Span) -> Expr:
    """A JSON string: a template. One interpolation alone is its expression's value, parsed where it is written."""
    pieces = template_text.pieces(decoded)
    if len(pieces) == 1 and pieces[0].kind is Kind.INTERPOLATION:
        return _interpolation(text, decoded, span)
    templated = any(p.kind in {Kind.INTERPOLATION, Kind.DIRECTIVE} for p in pieces)
    raw = "".join("".join(_HCL_ESCAPES.get(ch, ch) for ch in p.text) if p.kind is Kind.TEXT else p.text
                  for p in pieces)
    return StringExpr("string", span, raw, None if templated else template_text.literal(decoded))


def _interpolation(text: str, decoded: str, span: Span) -> Expr:
    """``"${expr}"``: the expression, with its positions in the file when the JSON string holds no escape."""
    written = text[span.start + 1 : span.end - 1]
    if written != decoded:  # an escape moves every offset after it: the expression cannot point into the file
        return Expr("json_template", span)
    inner = decoded[2:-1]
    lead = len(inner) - len(inner.lstrip(" ~"))
    tail = len(inner) - len(inner.rstrip(" ~"))
    expression = inner[lead : len(inner) - tail] if tail else inner[lead:]
    if not expression:
        return Expr("json_template", span)
    try:
        doc = parse("x = " + expression)
    except ParseError:
        return Expr("json_template", span)
    if len(doc.body.attributes) != 1 or doc.body.blocks or doc.unreadable:
        return Expr("json_template", span)
    shifted: Expr = _shifted(doc.body.attributes[0].value, span.start + 1 + 2 + lead - len("x = "))
    return shifted


def _shifted(node: Any, delta: int) -> Any:
    """The syntax with every position moved by ``delta``."""
    if isinstance(node, Span):
        return Span(node.start + delta, node.end + delta)
    if isinstance(node, tuple):
        return tuple(_shifted(item, delta) for item in node)
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        return dataclasses.replace(node, **{f.name: _shifted(getattr(node, f.name), delta)
                                            for f in dataclasses.fields(node)})
    return node
