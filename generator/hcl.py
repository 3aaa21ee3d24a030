"""Terraform text -> a small syntax tree that knows where every piece sits.

This is the only module that imports python-hcl2. Its own write paths drop
comments or reflow whitespace, so edits are made by splicing the original
text at the character offsets recorded here. Spans are computed from tokens,
not from Lark's node metadata, which runs past trailing comments after binary
expressions and past the newline after a heredoc's closing marker.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import hcl2
from lark import Token, Tree

from .errors import ParseError

_TRIVIA = {"NL_OR_COMMENT"}


@dataclass(frozen=True)
class Span:
    """Half-open character range [start, end) in the parsed text."""

    start: int
    end: int


@dataclass(frozen=True)
class Expr:
    """Any expression; ``kind`` names the shape, ``span`` where its text lies."""

    kind: str
    span: Span


@dataclass(frozen=True)
class StringExpr(Expr):
    """A quoted template. ``value`` is set only when it has no interpolation."""

    raw: str
    value: str | None


@dataclass(frozen=True)
class HeredocExpr(Expr):
    """``<<EOT`` or ``<<-EOT``; ``body`` is the text between the marker lines, as written."""

    marker: str
    trim: bool
    body: str


@dataclass(frozen=True)
class ObjectElem:
    """One ``key = value`` of an object; ``key`` is unquoted, None when computed."""

    key: str | None
    key_span: Span
    value: Expr
    span: Span


@dataclass(frozen=True)
class ObjectExpr(Expr):
    elems: tuple[ObjectElem, ...]

    def get(self, key: str) -> ObjectElem | None:
        for elem in self.elems:
            if elem.key == key:
                return elem
        return None


@dataclass(frozen=True)
class TupleExpr(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Attribute:
    name: str
    value: Expr
    span: Span


@dataclass(frozen=True)
class Block:
    type: str
    labels: tuple[str, ...]
    body: Body
    span: Span


@dataclass(frozen=True)
class Body:
    attributes: tuple[Attribute, ...] = ()
    blocks: tuple[Block, ...] = ()

    def attribute(self, name: str) -> Attribute | None:
        for attr in self.attributes:
            if attr.name == name:
                return attr
        return None


@dataclass(frozen=True)
class Document:
    """A parsed file: its LF-normalised text and top-level body."""

    text: str
    body: Body
    _line_starts: list[int] = field(repr=False, compare=False)

    def line_of(self, offset: int) -> int:
        """1-based line number of a character offset."""
        return bisect.bisect_right(self._line_starts, offset)

    def source(self, span: Span) -> str:
        return self.text[span.start : span.end]


def parse(text: str) -> Document:
    """Parse LF-normalised Terraform text; raise ParseError with a line on failure."""
    try:
        tree = hcl2.parses_to_tree(text)
    except Exception as exc:  # python-hcl2 raises Lark errors of several classes
        raise ParseError(_error_line(exc), _error_message(exc)) from None
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
    body_tree = _child_trees(tree, "body")
    body = _body(body_tree[0]) if body_tree else Body()
    return Document(text=text, body=body, _line_starts=starts)


def _error_line(exc: Exception) -> int:
    line = getattr(exc, "line", None)
    return line if isinstance(line, int) and line > 0 else 1


def _error_message(exc: Exception) -> str:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    token = getattr(exc, "token", None)
    if isinstance(token, Token):
        shown = str(token).strip().splitlines()[0] if str(token).strip() else token.type
        return f"unexpected {shown!r} (not valid HCL here)"
    char = getattr(exc, "char", None)
    if isinstance(char, str):
        return f"unexpected character {char!r}"
    return first


def _child_trees(tree: Tree, name: str) -> list[Tree]:
    return [c for c in tree.children if isinstance(c, Tree) and c.data == name]


def _tokens(node: Tree | Token) -> list[Token]:
    if isinstance(node, Token):
        return [node]
    out: list[Token] = []
    for child in node.children:
        if isinstance(child, (Tree, Token)):
            out.extend(_tokens(child))
    return out


def _span(node: Tree | Token) -> Span:
    toks = [t for t in _tokens(node) if t.type not in _TRIVIA]
    if not toks:
        return Span(0, 0)
    end = toks[-1].end_pos
    if toks[-1].type.startswith("HEREDOC") and str(toks[-1]).endswith("\n"):
        end -= 1
    return Span(toks[0].start_pos, end)


def _body(tree: Tree) -> Body:
    attrs: list[Attribute] = []
    blocks: list[Block] = []
    for child in tree.children:
        if not isinstance(child, Tree):
            continue
        if child.data == "attribute":
            attrs.append(_attribute(child))
        elif child.data == "block":
            blocks.append(_block(child))
    return Body(tuple(attrs), tuple(blocks))


def _attribute(tree: Tree) -> Attribute:
    significant = _significant(tree)
    name_node, value_node = significant[0], significant[-1]
    value = _expr(value_node)
    return Attribute(_identifier(name_node), value, Span(_span(name_node).start, value.span.end))


def _block(tree: Tree) -> Block:
    kids = [c for c in tree.children if isinstance(c, (Tree, Token))]
    block_type = _identifier(kids[0])
    labels: list[str] = []
    body = Body()
    for child in kids[1:]:
        if isinstance(child, Tree) and child.data == "string":
            labels.append(_string_raw(child))
        elif isinstance(child, Tree) and child.data == "identifier":
            labels.append(_identifier(child))
        elif isinstance(child, Tree) and child.data == "body":
            body = _body(child)
    return Block(block_type, tuple(labels), body, _span(tree))


def _significant(tree: Tree) -> list[Tree | Token]:
    """Children that are neither trivia nor the ``=`` / ``:`` token."""
    out: list[Tree | Token] = []
    for child in tree.children:
        if isinstance(child, Token) and child.type in {"EQ", "COLON", "COMMA"} | _TRIVIA:
            continue
        if isinstance(child, Tree) and child.data == "new_line_or_comment":
            continue
        if isinstance(child, (Tree, Token)):
            out.append(child)
    return out


def _identifier(node: Tree | Token) -> str:
    return "".join(str(t) for t in _tokens(node)).strip()


def _string_raw(tree: Tree) -> str:
    return "".join(str(t) for t in _tokens(tree))[1:-1]


def _unwrap(node: Tree | Token) -> Tree | Token:
    """Strip ``expr_term`` wrappers that hold exactly one significant child."""
    while isinstance(node, Tree) and node.data == "expr_term":
        sig = _significant(node)
        if len(sig) != 1:
            break
        node = sig[0]
    return node


def _expr(node: Tree | Token) -> Expr:
    inner = _unwrap(node)
    span = _span(node)
    if isinstance(inner, Tree):
        if inner.data == "object":
            return ObjectExpr("object", span, tuple(_object_elem(e) for e in _child_trees(inner, "object_elem")))
        if inner.data == "tuple":
            return TupleExpr("tuple", span, tuple(_expr(i) for i in _significant(inner)
                                                  if not isinstance(i, Token)))
        if inner.data == "string":
            raw = _string_raw(inner)
            has_template = any(isinstance(t, Token) and t.type in {"INTERP_START", "DIRECTIVE_START"}
                               for t in _tokens(inner))
            return StringExpr("string", span, raw, None if has_template else _unescape(raw))
        if inner.data in {"heredoc_template", "heredoc_template_trim"}:
            return _heredoc(inner, span)
        return Expr(inner.data, span)
    return Expr(inner.type.lower(), span)


def _heredoc(tree: Tree, span: Span) -> HeredocExpr:
    raw = str(_tokens(tree)[0])
    trim = raw.startswith("<<-")
    first_nl = raw.index("\n")
    marker = raw[3 if trim else 2 : first_nl].strip()
    body = raw[first_nl + 1 :].rstrip("\n")
    last_nl = body.rfind("\n")
    body = body[: last_nl + 1] if last_nl >= 0 else ""
    return HeredocExpr("heredoc", span, marker, trim, body)


def _object_elem(tree: Tree) -> ObjectElem:
    sig = _significant(tree)
    key_node, value_node = sig[0], sig[-1]
    key_inner = _unwrap(_significant(key_node)[0]) if isinstance(key_node, Tree) else key_node
    key: str | None
    if isinstance(key_inner, Tree) and key_inner.data == "identifier":
        key = _identifier(key_inner)
    elif isinstance(key_inner, Tree) and key_inner.data == "string":
        has_template = any(t.type == "INTERP_START" for t in _tokens(key_inner))
        key = None if has_template else _unescape(_string_raw(key_inner))
    else:
        key = None
    value = _expr(value_node)
    key_span = _span(key_node)
    return ObjectElem(key, key_span, value, Span(key_span.start, value.span.end))


def _unescape(raw: str) -> str:
    if "\\" not in raw:
        return raw
    out: list[str] = []
    i = 0
    escapes = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw) and raw[i + 1] in escapes:
            out.append(escapes[raw[i + 1]])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)
