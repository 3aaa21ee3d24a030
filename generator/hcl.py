"""Terraform text -> a small syntax tree that knows where every piece sits.

This is the only module that imports python-hcl2. Its own write paths drop
comments or reflow whitespace, so edits are made by splicing the original
text at the character offsets recorded here. Spans are computed from tokens,
not from Lark's node metadata, which runs past trailing comments after binary
expressions and past the newline after a heredoc's closing marker.

python-hcl2's grammar is not Terraform's in a few places (a closing heredoc
marker followed by blanks, a marker or name with a character outside ASCII
letters, a comment between block labels). The parser is handed a text of the
same length in which those spots are written the way its grammar reads them,
so every offset still points into the file as written; names are then read
back from the file. An attribute whose value python-hcl2 still cannot read is
kept as an ``unreadable`` expression (its value unknown), so one such value
never hides the rest of the file.
"""

from __future__ import annotations

import bisect
import dataclasses
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
from .parse_errors import Kind, Lexeme, describe, lex, scan
from .policy import template_text
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
class Operation(Expr):
    """``a == b``, ``a && b``, ``!a``, ``-a``: the operator and its one or two operands."""

    operator: str
    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class ForExpr(Expr):
    """``[for k, v in coll : value if cond]`` (kind ``for_tuple``) or ``{for k, v in coll : key => value}``
    (kind ``for_object``; ``grouped`` when the value ends with ``...``)."""

    key_var: str | None
    value_var: str
    collection: Expr
    key: Expr | None
    value: Expr
    condition: Expr | None
    grouped: bool = False


@dataclass(frozen=True)
class ObjectElem:
    """One ``key = value`` of an object; ``key`` is unquoted, None when computed."""

    key: str | None
    key_span: Span
    value: Expr
    span: Span
    key_expr: Expr | None = None  # a computed key (``"${local.env}-general"``, ``(local.name)``), for evaluation


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
    """A parsed file: its LF-normalised text and top-level body.

    ``unreadable`` are the spans of values python-hcl2 could not read (each an
    ``unreadable`` expression in the body): empty for a file it read whole.
    """

    text: str
    body: Body
    _line_starts: list[int] = field(repr=False, compare=False)
    unreadable: tuple[Span, ...] = ()

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


_MAX_UNREADABLE = 20
_HCL2_MARKER = re.compile(r"[A-Za-z][A-Za-z0-9._-]*")
# a line that may close a heredoc with blanks after its marker, which python-hcl2's grammar does not allow
_BLANKS_AFTER_MARKER = re.compile(r"^[ \t]*[^\W\d][\w.-]*[ \t]+$", re.M)
_NOT_ASCII = re.compile(r"[^\x00-\x7f]")
_ARROW_ON_NEW_LINE = re.compile(r"\n(?=[ \t]*=>)")
_FOR_OPENS = re.compile(r"\s*for\b")


def parse(text: str) -> Document:
    """Parse LF-normalised Terraform text; raise ParseError, in Terraform's words, on failure.

    A value python-hcl2 cannot read, in a file whose brackets, strings and
    heredocs all close, becomes an ``unreadable`` expression instead of a failure.
    """
    grammar_text, renamed = as_grammar_reads(text)
    unreadable: list[Span] = []
    while True:
        try:
            # the trailing newline is python-hcl2's own workaround: its grammar cannot look for the end of the file
            tree = _parser().parse(grammar_text + "\n")
            break
        except (LarkError, ValueError, IndexError) as exc:  # python-hcl2 raises Lark errors of several classes
            span = _unreadable_value(text, exc, unreadable)
            if span is None:
                line, message = describe(text, exc)
                raise ParseError(line, message) from None
            unreadable.append(span)
            grammar_text = _placeholder(grammar_text, span)
    if renamed:
        _read_back(tree, text, renamed)
    starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]
    body_tree = _child_trees(tree, "body")
    try:
        body = _body(body_tree[0], 0) if body_tree else Body()
    except _TooDeep as exc:
        raise ParseError(_line(text, exc.offset), f"nested more than {MAX_NESTING} levels deep (brackets, braces, "
                                                  "calls, blocks); eksproxy-gen does not read it") from None
    except RecursionError:  # a shape nested past the stack that the depth count above does not see
        raise ParseError(deepest_line(text), "nested too deeply for eksproxy-gen to read") from None
    if unreadable:
        body = _marked(body, frozenset(unreadable))
    return Document(text=text, body=body, _line_starts=starts, unreadable=tuple(unreadable))


def as_grammar_reads(text: str) -> tuple[str, frozenset[int]]:
    """The text as python-hcl2's grammar reads it, the same length as ``text``, and the offsets of renamed characters.

    A closing heredoc marker followed by blanks gets its newline first (the
    blanks start the next line, where they are ignored); a heredoc marker or a
    name with characters outside python-hcl2's ASCII identifiers gets ASCII
    letters in their place (read back from ``text`` after parsing); a
    ``/* */`` comment on one line becomes blanks (python-hcl2 does not take one
    between block labels); an unclosed ``$${`` escape in a string becomes plain
    characters; a newline (and a comment before it) in front of a ``for``'s
    ``=>`` becomes blanks, as Terraform reads any newline inside brackets.
    """
    if _read_as_is(text):
        return text, frozenset()
    chars = list(text)
    renamed: set[int] = set()
    hidden: list[Lexeme] = []
    for lexeme in lex(text):
        if lexeme.kind is Kind.HEREDOC:
            hidden.append(lexeme)
            _heredoc_as_grammar_reads(text, lexeme, chars, renamed)
        elif lexeme.kind is Kind.COMMENT:
            hidden.append(lexeme)
            if text.startswith("/*", lexeme.start) and "\n" not in text[lexeme.start : lexeme.end]:
                chars[lexeme.start : lexeme.end] = " " * (lexeme.end - lexeme.start)
        elif lexeme.kind is Kind.STRING:
            hidden.append(lexeme)
            _escapes_as_grammar_reads(text, lexeme, chars, renamed)
        elif lexeme.kind is not Kind.BRACKET:
            hidden.append(lexeme)
    starts = [h.start for h in hidden]

    def hidden_at(at: int) -> Lexeme | None:
        k = bisect.bisect_right(starts, at) - 1
        return hidden[k] if k >= 0 and at < hidden[k].end else None

    for arrow in _ARROW_ON_NEW_LINE.finditer(text):  # inside a for's braces a newline is a blank, as before "=>"
        if hidden_at(arrow.start()) is None:
            chars[arrow.start()] = " "
            comment = hidden_at(arrow.start() - 1) if arrow.start() else None
            if comment is not None and comment.kind is Kind.COMMENT and comment.end == arrow.start():
                chars[comment.start : comment.end] = " " * (comment.end - comment.start)
    if not text.isascii():
        for match in _NOT_ASCII.finditer(text):
            at = match.start()
            if hidden_at(at) is None and ("x" + match.group()).isidentifier():
                chars[at] = "x"
                renamed.add(at)
    return "".join(chars), frozenset(renamed)


def _read_as_is(text: str) -> bool:
    """Whether python-hcl2 reads the text as Terraform does without a change: the common case, told cheaply."""
    if not text.isascii() or "/*" in text:
        return False
    if ("$${" in text or "%%{" in text) and _OPEN_ESCAPE.search(text):
        return False
    if "<<" in text and ("<<_" in text or "<<-_" in text or _BLANKS_AFTER_MARKER.search(text)):
        return False
    return not ("=>" in text and _ARROW_ON_NEW_LINE.search(text))


def _heredoc_as_grammar_reads(text: str, heredoc: Lexeme, chars: list[str], renamed: set[int]) -> None:
    marker = heredoc.marker
    if not _HCL2_MARKER.fullmatch(marker):
        opener = heredoc.start + (3 if text.startswith("<<-", heredoc.start) else 2)
        for start in (opener, heredoc.marker_end - len(marker)):
            for k, ch in enumerate(marker):
                ok = ch.isascii() and (ch.isalpha() if k == 0 else ch.isalnum() or ch in "._-")
                if not ok:
                    chars[start + k] = "Z" if k == 0 else "x"
                    renamed.add(start + k)
    if heredoc.end > heredoc.marker_end:
        blanks = text[heredoc.marker_end : heredoc.end]
        chars[heredoc.marker_end] = "\n"
        chars[heredoc.marker_end + 1 : heredoc.end + 1] = list(blanks)[: len(chars) - heredoc.marker_end - 1]


def _escapes_as_grammar_reads(text: str, string: Lexeme, chars: list[str], renamed: set[int]) -> None:
    """``$${`` and ``%%{`` are escapes whatever follows; python-hcl2 takes one only when a ``}`` closes it in
    the string, so an unclosed one is handed over as plain characters (``$$x``)."""
    for escape in _ESCAPE.finditer(text, string.start, string.end):
        if text.find("}", escape.end(), string.end) < 0:
            chars[escape.end() - 1] = "x"
            renamed.add(escape.end() - 1)


_ESCAPE = re.compile(r"\$\$\{|%%\{")
_OPEN_ESCAPE = re.compile(r'(?:\$\$|%%)\{[^}\n]*"')  # an escape a quote may follow before any }: lex to tell


def _read_back(tree: Tree[Token], text: str, renamed: frozenset[int]) -> None:
    """Names and heredocs with renamed characters get them back from the text as written."""
    stack = [tree]
    while stack:
        node = stack.pop()
        for index, child in enumerate(node.children):
            if isinstance(child, Tree):
                stack.append(child)
            elif isinstance(child, Token) and child.type in _RENAMEABLE and child.start_pos is not None:
                start = child.start_pos
                value = list(str(child))
                hits = [at for at in range(start, start + len(value)) if at in renamed]
                if hits:
                    for at in hits:
                        value[at - start] = text[at]
                    node.children[index] = child.update(value="".join(value))


_RENAMEABLE = {"NAME", "HEREDOC_TEMPLATE", "HEREDOC_TEMPLATE_TRIM", "STRING_CHARS"}


def _unreadable_value(text: str, exc: Exception, done: list[Span]) -> Span | None:
    """The value around the place python-hcl2 stopped, when the file is otherwise whole and it is an argument's."""
    token = getattr(exc, "token", None)
    at = getattr(exc, "pos_in_stream", None) if token is None else getattr(token, "start_pos", None)
    if not isinstance(at, int) or at >= len(text) or len(done) >= _MAX_UNREADABLE or scan(text) is not None:
        return None
    span = value_around(text, at)
    if span is None or span in done or span.end - span.start < 3:
        return None
    return span


def value_around(text: str, at: int) -> Span | None:
    """The value of the argument or object element whose text holds offset ``at``; None outside one.

    The element is the line (or comma-separated item) of the innermost ``{ }``
    (block body or object, not a ``{for ...}``) around ``at``, counted outside
    strings, heredocs, comments and nested brackets.
    """
    masked = list(text)
    opened: list[int] = []
    region = (0, len(text))
    for lexeme in lex(text):
        if lexeme.kind is Kind.BRACKET:
            ch = text[lexeme.start]
            if ch in "{[(":
                opened.append(lexeme.start)
            elif opened:
                start = opened.pop()
                if text[start] == "{" and start < at <= lexeme.start and start >= region[0] \
                        and not _FOR_OPENS.match(text, start + 1):  # a {for ...} is one value, not elements
                    region = (start + 1, lexeme.start)
            continue
        fill = " " if lexeme.kind is Kind.COMMENT else "s"
        masked[lexeme.start : lexeme.end] = fill * (lexeme.end - lexeme.start)
    depth = 0
    item_start = region[0]
    for i in range(region[0], region[1] + 1):
        ch = masked[i] if i < region[1] else "\n"
        if ch in "{[(":
            depth += 1
        elif ch in "}])":
            depth -= 1
        elif depth == 0 and ch in "\n,":
            if item_start <= at <= i:
                return _value_of("".join(masked[item_start:i]), item_start)
            item_start = i + 1
    return None


def _value_of(item: str, offset: int) -> Span | None:
    """The value of ``name = value`` (or ``key: value``), masked, starting at ``offset``; None for anything else."""
    depth = 0
    for i, ch in enumerate(item):
        if ch in "{[(":
            depth += 1
        elif ch in "}])":
            depth -= 1
        elif depth == 0 and ch in "=:" and item[i + 1 : i + 2] not in {"=", ">"} and item[i - 1 : i] not in {
                "=", "!", "<", ">"}:
            value = item[i + 1 :]
            stripped = value.strip()
            if not stripped:
                return None
            start = offset + i + 1 + (len(value) - len(value.lstrip()))
            return Span(start, start + len(stripped))
    return None


def _placeholder(text: str, span: Span) -> str:
    """``text`` with the value at ``span`` replaced by ``(0)`` and blanks, its newlines kept."""
    inner = "".join("\n" if ch == "\n" else " " for ch in text[span.start + 2 : span.end - 1])
    return text[: span.start] + "(0" + inner + ")" + text[span.end :]


def _marked(body: Body, spans: frozenset[Span]) -> Body:
    """The body with each value at one of ``spans`` made an ``unreadable`` expression."""
    return Body(tuple(dataclasses.replace(a, value=_marked_expr(a.value, spans)) for a in body.attributes),
                tuple(dataclasses.replace(b, body=_marked(b.body, spans)) for b in body.blocks))


def _marked_expr(expr: Expr, spans: frozenset[Span]) -> Expr:
    if expr.span in spans:
        return Expr("unreadable", expr.span)
    if not any(expr.span.start <= s.start and s.end <= expr.span.end for s in spans):
        return expr
    changed: dict[str, Any] = {}
    for f in dataclasses.fields(expr):
        value = getattr(expr, f.name)
        if isinstance(value, Expr):
            changed[f.name] = _marked_expr(value, spans)
        elif isinstance(value, tuple):
            changed[f.name] = tuple(_marked_expr(v, spans) if isinstance(v, Expr)
                                    else dataclasses.replace(v, value=_marked_expr(v.value, spans))
                                    if isinstance(v, ObjectElem) else v for v in value)
    return dataclasses.replace(expr, **changed)


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
        return StringExpr("string", span, raw, None if templated else unescape(template_text.literal(raw) or ""))
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
    if data == "binary_op":
        kids = [c for c in inner.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]
        if len(kids) == 2 and kids[1].data == "binary_term":
            term = [c for c in kids[1].children if isinstance(c, Tree) and c.data != "new_line_or_comment"]
            if len(term) == 2 and term[0].data == "binary_operator":
                return Operation("operation", span, _identifier(term[0]),
                                 (_expr(kids[0], depth), _expr(term[1], depth)))
    if data == "unary_op":
        tokens = [c for c in inner.children if isinstance(c, Token) and c.type in {"NOT", "MINUS"}]
        operand = [c for c in inner.children if isinstance(c, Tree)]
        if len(tokens) == 1 and len(operand) == 1:
            return Operation("operation", span, str(tokens[0]), (_expr(operand[0], depth),))
    if data in {"for_tuple_expr", "for_object_expr"}:
        return _for(inner, span, depth)
    return Expr(data, span)


def _for(tree: Tree[Token], span: Span, depth: int) -> Expr:
    """A ``for`` expression's parts: its variables, collection, key and value expressions, and condition."""
    intro = _child_trees(tree, "for_intro")
    if not intro:
        return Expr(tree.data, span)
    names = [_identifier(c) for c in _child_trees(intro[0], "identifier")]
    collection = [c for c in intro[0].children if isinstance(c, Tree) and c.data not in {"identifier",
                                                                                        "new_line_or_comment"}]
    condition_tree = _child_trees(tree, "for_cond")
    condition = None
    if condition_tree:
        inside = [c for c in condition_tree[0].children if isinstance(c, Tree) and c.data != "new_line_or_comment"]
        condition = _expr(inside[0], depth) if len(inside) == 1 else Expr("for_cond", _span(condition_tree[0]))
    bodies = [c for c in tree.children if isinstance(c, Tree) and c.data not in {"for_intro", "for_cond",
                                                                                "new_line_or_comment"}]
    if len(collection) != 1 or not 1 <= len(names) <= 2:
        return Expr(tree.data, span)
    key_var, value_var = (names[0], names[1]) if len(names) == 2 else (None, names[0])
    if tree.data == "for_tuple_expr" and len(bodies) == 1:
        return ForExpr("for_tuple", span, key_var, value_var, _expr(collection[0], depth), None,
                       _expr(bodies[0], depth), condition)
    if tree.data == "for_object_expr" and len(bodies) == 2:
        grouped = any(isinstance(c, Token) and c.type == "ELLIPSIS" for c in tree.children)
        return ForExpr("for_object", span, key_var, value_var, _expr(collection[0], depth), _expr(bodies[0], depth),
                       _expr(bodies[1], depth), condition, grouped)
    return Expr(tree.data, span)


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
        key = None if templated else unescape(template_text.literal(raw) or raw)
    else:
        key = None
    value = _expr(value_node, depth)
    key_span = _span(key_node)
    key_expr = _expr(key_inner, depth) if key is None else None
    return ObjectElem(key, key_span, value, Span(key_span.start, value.span.end), key_expr)


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
