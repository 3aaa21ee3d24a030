"""Terraform text -> a small syntax tree that knows where every piece sits.

This is the only module that imports python-hcl2. Its own write paths drop
comments or reflow whitespace, so edits are made by splicing the original
text at the character offsets recorded here. Spans are computed from tokens,
not from Lark's node metadata, which runs past trailing comments after binary
expressions and past the newline after a heredoc's closing marker.
"""

from __future__ import annotations

import bisect
import functools
import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import LarkError

from .errors import ParseError
from .limits import MAX_NESTING, deepest_line
from .parse_errors import describe
from .startup import collect_from_now

_TRIVIA = {"NL_OR_COMMENT"}
_NEWLINE = re.compile("\n")


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
class Literal(Expr):
    """``true``, ``false``, ``null`` or a number."""

    value: bool | int | float | None


@dataclass(frozen=True)
class StringExpr(Expr):
    """A quoted template. ``raw`` is the text between the quotes, escapes and interpolations as written.

    ``value`` is the unescaped text, set only when there is no interpolation or directive.
    """

    raw: str
    value: str | None


@dataclass(frozen=True)
class HeredocExpr(Expr):
    """``<<EOT`` or ``<<-EOT``; ``body`` is the text between the marker lines, as written."""

    marker: str
    trim: bool
    body: str


@dataclass(frozen=True)
class Traversal(Expr):
    """``local.x.y[0]``: a root name and its steps (attribute names, keys, indexes; None for a computed index)."""

    root: str
    steps: tuple[str | int | None, ...]


@dataclass(frozen=True)
class Call(Expr):
    """``name(arg, ...)``; ``expand`` is true when the last argument ends with ``...``."""

    name: str
    args: tuple[Expr, ...]
    expand: bool = False


@dataclass(frozen=True)
class Conditional(Expr):
    """``condition ? then : otherwise``."""

    condition: Expr
    then: Expr
    otherwise: Expr


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


def _hcl2_folder() -> Path:
    """Where python-hcl2 is installed, found without importing it."""
    spec = importlib.util.find_spec("hcl2")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("python-hcl2 is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _post_lexer(folder: Path) -> Any:
    """python-hcl2's post-lexer, loaded by itself.

    Importing the ``hcl2`` package runs its whole API (transformer, builder,
    reconstructor): about 45 ms of every run that parses, for nothing used here.
    The post-lexer module needs only Lark.
    """
    spec = importlib.util.spec_from_file_location("eksproxy_gen._hcl2_postlexer", folder / "postlexer.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"python-hcl2 at {folder} has no postlexer.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PostLexer()


@functools.lru_cache(maxsize=1)
def _parser() -> Lark:
    """python-hcl2's grammar and post-lexer, without Lark's position tracking: spans come from tokens.

    Lark caches the built parser in the temporary folder (python-hcl2's own cache
    lives in its package folder, which is often not writable).
    """
    folder = _hcl2_folder()
    grammar = (folder / "hcl2.lark").read_text(encoding="utf-8")
    parser = Lark(grammar, parser="lalr", cache=True, propagate_positions=False, postlex=_post_lexer(folder))
    collect_from_now()  # start-up ends here on every path that parses
    return parser


def load_parser() -> None:
    """Build (or load from Lark's cache) the parser now: forked workers then start with it."""
    _parser()


def parse(text: str) -> Document:
    """Parse LF-normalised Terraform text; raise ParseError, in Terraform's words, on failure."""
    try:
        # the trailing newline is python-hcl2's own workaround: its grammar cannot look for the end of the file
        tree = _parser().parse(text + "\n")
    except (LarkError, ValueError, IndexError) as exc:  # python-hcl2 raises Lark errors of several classes
        line, message = describe(text, exc)
        raise ParseError(line, message) from None
    starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]
    body_tree = _child_trees(tree, "body")
    try:
        body = _body(body_tree[0], 0) if body_tree else Body()
    except _TooDeep as exc:
        raise ParseError(_line(text, exc.offset), f"nested more than {MAX_NESTING} levels deep (brackets, braces, "
                                                  "calls, blocks); eksproxy-gen does not read it") from None
    except RecursionError:  # a shape nested past the stack that the depth count above does not see
        raise ParseError(deepest_line(text), "nested too deeply for eksproxy-gen to read") from None
    return Document(text=text, body=body, _line_starts=starts)


def _child_trees(tree: Tree[Token], name: str) -> list[Tree[Token]]:
    return [c for c in tree.children if isinstance(c, Tree) and c.data == name]


def _tokens(node: Tree[Token] | Token) -> list[Token]:
    """Every token of a subtree, in order; iterative, since a subtree may be nested thousands deep."""
    out: list[Token] = []
    stack: list[Tree[Token] | Token | None] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Token):
            out.append(current)
        elif isinstance(current, Tree):
            stack.extend(reversed(current.children))
    return out


def _edge_token(node: Tree[Token] | Token, last: bool) -> Token | None:
    """The first (or last) token of a subtree that is not a newline or comment, without flattening it.

    Iterative: ``1 + 1 + ...`` is a left-nested chain as long as the sum.
    """
    stack: list[Tree[Token] | Token | None] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Token):
            if current.type not in _TRIVIA:
                return current
        elif isinstance(current, Tree):
            stack.extend(current.children if last else reversed(current.children))
    return None


def _span(node: Tree[Token] | Token) -> Span:
    first, last = _edge_token(node, False), _edge_token(node, True)
    if first is None or last is None:
        return Span(0, 0)
    end = last.end_pos if last.end_pos is not None else 0
    if last.type.startswith("HEREDOC") and str(last).endswith("\n"):
        end -= 1
    start = first.start_pos if first.start_pos is not None else 0
    return Span(start, end)


class _TooDeep(Exception):
    """Nesting past MAX_NESTING at a character offset: the recursive readers below, and the evaluation after
    them, would exhaust Python's stack."""

    def __init__(self, node: Tree[Token] | Token) -> None:
        super().__init__()
        first = _edge_token(node, False)
        self.offset = first.start_pos if first is not None and first.start_pos is not None else 0


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _deeper(node: Tree[Token] | Token, depth: int) -> int:
    if depth >= MAX_NESTING:
        raise _TooDeep(node)
    return depth + 1


def _body(tree: Tree[Token], depth: int) -> Body:
    attrs: list[Attribute] = []
    blocks: list[Block] = []
    for child in tree.children:
        if not isinstance(child, Tree):
            continue
        if child.data == "attribute":
            attrs.append(_attribute(child, depth))
        elif child.data == "block":
            blocks.append(_block(child, _deeper(child, depth)))
    return Body(tuple(attrs), tuple(blocks))


def _attribute(tree: Tree[Token], depth: int) -> Attribute:
    significant = _significant(tree)
    name_node, value_node = significant[0], significant[-1]
    value = _expr(value_node, depth)
    return Attribute(_identifier(name_node), value, Span(_span(name_node).start, value.span.end))


def _block(tree: Tree[Token], depth: int) -> Block:
    kids = [c for c in tree.children if isinstance(c, (Tree, Token))]
    block_type = _identifier(kids[0])
    labels: list[str] = []
    body = Body()
    for child in kids[1:]:
        if isinstance(child, Tree) and child.data == "string":
            labels.append(_string_parts(child)[0])
        elif isinstance(child, Tree) and child.data == "identifier":
            labels.append(_identifier(child))
        elif isinstance(child, Tree) and child.data == "body":
            body = _body(child, depth)
    return Block(block_type, tuple(labels), body, _span(tree))


def _significant(tree: Tree[Token]) -> list[Tree[Token] | Token]:
    """Children that are neither trivia nor punctuation."""
    out: list[Tree[Token] | Token] = []
    for child in tree.children:
        if isinstance(child, Token) and child.type in {"EQ", "COLON", "COMMA", "LPAR", "RPAR", "DOT",
                                                       "LSQB", "RSQB", "ELLIPSIS"} | _TRIVIA:
            continue
        if isinstance(child, Tree) and child.data == "new_line_or_comment":
            continue
        if isinstance(child, (Tree, Token)):
            out.append(child)
    return out


def _identifier(node: Tree[Token] | Token) -> str:
    return "".join(str(t) for t in _tokens(node)).strip()


def _string_parts(tree: Tree[Token]) -> tuple[str, bool]:
    """A quoted string's text between its quotes, and whether it holds ``${ }`` or ``%{ }``."""
    tokens = _tokens(tree)
    return "".join(map(str, tokens))[1:-1], any(t.type in {"INTERP_START", "DIRECTIVE_START"} for t in tokens)


def _unwrap(node: Tree[Token] | Token) -> Tree[Token] | Token:
    """Strip ``expr_term`` wrappers and parentheses that hold exactly one significant child."""
    while isinstance(node, Tree) and node.data == "expr_term":
        sig = _significant(node)
        if len(sig) != 1:
            break
        node = sig[0]
    return node


_LITERALS: dict[str, bool | None] = {"true": True, "false": False, "null": None}


def _expr(node: Tree[Token] | Token, depth: int) -> Expr:
    depth = _deeper(node, depth)
    inner = _unwrap(node)
    span = _span(node)
    if isinstance(inner, Token):
        return Expr(inner.type.lower(), span)
    data = inner.data
    if data == "object":
        return ObjectExpr("object", span, tuple(_object_elem(e, depth) for e in _child_trees(inner, "object_elem")))
    if data == "tuple":
        return TupleExpr("tuple", span, tuple(_expr(i, depth) for i in _significant(inner) if not isinstance(i, Token)))
    if data == "string":
        raw, templated = _string_parts(inner)
        return StringExpr("string", span, raw, None if templated else unescape(raw))
    if data in {"heredoc_template", "heredoc_template_trim"}:
        return _heredoc(inner, span)
    if data == "literal_value":
        return Literal("literal", span, _LITERALS.get(_identifier(inner)))
    if data in {"int_lit", "float_lit"}:
        text = _identifier(inner)
        try:
            number: int | float = int(text) if data == "int_lit" else float(text)
        except ValueError:
            return Expr(data, span)
        return Literal("number", span, number)
    if data == "identifier":
        return Traversal("traversal", span, _identifier(inner), ())
    if data in {"get_attr_expr_term", "index_expr_term"}:
        return _traversal(inner, span, depth)
    if data == "function_call":
        return _call(inner, span, depth)
    if data == "conditional":
        parts = [c for c in _significant(inner) if isinstance(c, Tree) or c.type != "QMARK"]
        if len(parts) == 3:
            return Conditional("conditional", span, _expr(parts[0], depth), _expr(parts[1], depth),
                               _expr(parts[2], depth))
    return Expr(data, span)


def _traversal(tree: Tree[Token], span: Span, depth: int) -> Expr:
    steps: list[str | int | None] = []
    node: Tree[Token] | Token = tree
    while isinstance(node, Tree) and node.data in {"get_attr_expr_term", "index_expr_term"}:
        significant = _significant(node)
        base, step = significant[0], significant[-1]
        steps.append(_step(step, depth))
        node = _unwrap(base)
    if not (isinstance(node, Tree) and node.data == "identifier"):
        return Expr(tree.data, span)
    return Traversal("traversal", span, _identifier(node), tuple(reversed(steps)))


def _step(node: Tree[Token] | Token, depth: int) -> str | int | None:
    if not isinstance(node, Tree):
        return None
    if node.data == "get_attr":
        return _identifier(_significant(node)[-1])
    if node.data == "short_index":
        text = _identifier(node).lstrip(".")
        return int(text) if text.isdigit() else None
    if node.data == "braces_index":
        key = _expr(_significant(node)[0], depth)
        if isinstance(key, StringExpr):
            return key.value
        if isinstance(key, Literal) and isinstance(key.value, int) and not isinstance(key.value, bool):
            return key.value
    return None


def _call(tree: Tree[Token], span: Span, depth: int) -> Call:
    sig = _significant(tree)
    name = _identifier(sig[0])
    args_tree = next((c for c in sig[1:] if isinstance(c, Tree) and c.data == "arguments"), None)
    args: tuple[Expr, ...] = ()
    expand = False
    if args_tree is not None:
        args = tuple(_expr(a, depth) for a in _significant(args_tree) if isinstance(a, Tree))
        expand = any(isinstance(c, Token) and c.type == "ELLIPSIS" for c in args_tree.children)
    return Call("call", span, name, args, expand)


def _heredoc(tree: Tree[Token], span: Span) -> HeredocExpr:
    raw = str(_tokens(tree)[0])
    trim = raw.startswith("<<-")
    first_nl = raw.index("\n")
    marker = raw[3 if trim else 2 : first_nl].strip()
    body = raw[first_nl + 1 :].rstrip("\n")
    last_nl = body.rfind("\n")
    body = body[: last_nl + 1] if last_nl >= 0 else ""
    return HeredocExpr("heredoc", span, marker, trim, body)


def _object_elem(tree: Tree[Token], depth: int) -> ObjectElem:
    sig = _significant(tree)
    key_node, value_node = sig[0], sig[-1]
    key_inner = _unwrap(_significant(key_node)[0]) if isinstance(key_node, Tree) else key_node
    key: str | None
    if isinstance(key_inner, Tree) and key_inner.data in {"identifier", "keyword"}:
        key = _identifier(key_inner)
    elif isinstance(key_inner, Tree) and key_inner.data == "string":
        raw, templated = _string_parts(key_inner)
        key = None if templated else unescape(raw)
    else:
        key = None
    value = _expr(value_node, depth)
    key_span = _span(key_node)
    return ObjectElem(key, key_span, value, Span(key_span.start, value.span.end))


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def unescape(raw: str) -> str:
    """The value of a quoted string's text: backslash escapes resolved (``\\uXXXX`` too)."""
    if "\\" not in raw:
        return raw
    out: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw):
            nxt = raw[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            width = {"u": 4, "U": 8}.get(nxt)
            digits = raw[i + 2 : i + 2 + width] if width else ""
            if width and len(digits) == width and all(c in "0123456789abcdefABCDEF" for c in digits):
                out.append(chr(int(digits, 16)))
                i += 2 + width
                continue
        out.append(ch)
        i += 1
    return "".join(out)
