"""A parser for HCL native-syntax expressions and string templates, for the module-version extractor.

python-hcl2 gives a file's blocks and attributes but hands every expression back as text
(``"${try(each.value.x, null)}"``); the extractor has to *evaluate* those expressions to learn
what a release of terraform-aws-eks does with a node group's settings, so it needs their
structure. This module turns such text (and whole ``.tpl`` template files, directives included)
into a small tree. It covers the expression syntax terraform-aws-eks uses; anything else raises
``ParseError`` so that a new construct is noticed instead of guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = [
    "Binary", "Call", "Cond", "Expr", "For", "GetAttr", "If", "Index", "Lit", "ObjectE", "ParseError",
    "Splat", "Template", "TemplateFor", "TupleE", "Unary", "Var", "parse_expression", "parse_template",
    "parse_value", "show", "walk",
]


class ParseError(ValueError):
    """The text is not an expression this parser understands."""


@dataclass(frozen=True)
class Lit:
    value: object


@dataclass(frozen=True)
class Var:
    name: str


@dataclass(frozen=True)
class GetAttr:
    obj: Expr
    name: str


@dataclass(frozen=True)
class Index:
    obj: Expr
    key: Expr


@dataclass(frozen=True)
class Splat:
    obj: Expr
    rest: tuple[str, ...]


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Expr, ...]
    expand: bool = False


@dataclass(frozen=True)
class Unary:
    op: str
    operand: Expr


@dataclass(frozen=True)
class Binary:
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Cond:
    test: Expr
    then: Expr
    other: Expr


@dataclass(frozen=True)
class TupleE:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class ObjectE:
    items: tuple[tuple[Expr, Expr], ...]


@dataclass(frozen=True)
class For:
    """``[for k, v in coll : value if cond]`` (``key`` is None) or ``{for k, v in coll : key => value}``."""

    key_var: str | None
    value_var: str
    collection: Expr
    key: Expr | None
    value: Expr
    condition: Expr | None
    grouping: bool


@dataclass(frozen=True)
class If:
    test: Expr
    then: Template
    other: Template


@dataclass(frozen=True)
class TemplateFor:
    key_var: str | None
    value_var: str
    collection: Expr
    body: Template


@dataclass(frozen=True)
class Template:
    """A string template: literal text, interpolations and ``%{ if }`` / ``%{ for }`` directives."""

    parts: tuple[str | Expr | If | TemplateFor, ...]


Expr = Lit | Var | GetAttr | Index | Splat | Call | Unary | Binary | Cond | TupleE | ObjectE | For | Template

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_BINARY = (("||",), ("&&",), ("==", "!="), ("<=", ">=", "<", ">"), ("+", "-"), ("*", "/", "%"))
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    # -- lexing helpers ---------------------------------------------------------------------------
    def error(self, what: str) -> ParseError:
        return ParseError(f"{what} at offset {self.pos} in {self.text[:200]!r}")

    def skip(self) -> None:
        while self.pos < len(self.text):
            c = self.text[self.pos]
            if c in " \t\r\n":
                self.pos += 1
            elif c == "#" or self.text.startswith("//", self.pos):
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end + 1
            elif self.text.startswith("/*", self.pos):
                end = self.text.find("*/", self.pos)
                if end < 0:
                    raise self.error("unterminated comment")
                self.pos = end + 2
            else:
                return

    def peek(self, token: str) -> bool:
        self.skip()
        return self.text.startswith(token, self.pos)

    def accept(self, token: str) -> bool:
        if self.peek(token):
            self.pos += len(token)
            return True
        return False

    def expect(self, token: str) -> None:
        if not self.accept(token):
            raise self.error(f"expected {token!r}")

    def ident(self) -> str | None:
        self.skip()
        m = _IDENT.match(self.text, self.pos)
        if not m:
            return None
        self.pos = m.end()
        return m.group(0)

    def keyword(self, word: str) -> bool:
        self.skip()
        m = _IDENT.match(self.text, self.pos)
        if m and m.group(0) == word:
            self.pos = m.end()
            return True
        return False

    # -- expressions ------------------------------------------------------------------------------
    def expression(self) -> Expr:
        test = self.binary(0)
        if self.peek("?"):
            self.expect("?")
            then = self.expression()
            self.expect(":")
            other = self.expression()
            return Cond(test, then, other)
        return test

    def binary(self, level: int) -> Expr:
        if level == len(_BINARY):
            return self.unary()
        left = self.binary(level + 1)
        while True:
            self.skip()
            op = next((o for o in _BINARY[level] if self.text.startswith(o, self.pos)), None)
            if op is None:
                return left
            self.pos += len(op)
            left = Binary(op, left, self.binary(level + 1))

    def unary(self) -> Expr:
        self.skip()
        if self.text.startswith("!", self.pos) and not self.text.startswith("!=", self.pos):
            self.pos += 1
            return Unary("!", self.unary())
        if self.text.startswith("-", self.pos):
            self.pos += 1
            return Unary("-", self.unary())
        return self.postfix(self.primary())

    def postfix(self, node: Expr) -> Expr:
        while True:
            self.skip()
            if self.text.startswith(".*", self.pos) or self.text.startswith("[*]", self.pos):
                self.pos += 2 if self.text.startswith(".*", self.pos) else 3
                rest: list[str] = []
                while self.peek(".") and not self.peek("..") and not re.match(r"\.\s*\d", self.text[self.pos:]):
                    self.expect(".")
                    name = self.ident()
                    if name is None:
                        raise self.error("attribute name after splat")
                    rest.append(name)
                node = Splat(node, tuple(rest))
            elif self.text.startswith(".", self.pos) and not self.text.startswith("...", self.pos):
                self.pos += 1
                self.skip()
                m = _NUMBER.match(self.text, self.pos)
                if m and m.group(0).isdigit():
                    self.pos = m.end()
                    node = Index(node, Lit(int(m.group(0))))
                    continue
                name = self.ident()
                if name is None:
                    raise self.error("attribute name")
                node = GetAttr(node, name)
            elif self.text.startswith("[", self.pos):
                self.pos += 1
                key = self.expression()
                self.expect("]")
                node = Index(node, key)
            else:
                return node

    def primary(self) -> Expr:
        self.skip()
        text, pos = self.text, self.pos
        if pos >= len(text):
            raise self.error("unexpected end")
        c = text[pos]
        if c == "(":
            self.pos += 1
            inner = self.expression()
            self.expect(")")
            return inner
        if c == '"':
            self.pos += 1
            return _simplify(self.string_template())
        if text.startswith("<<", pos):
            return _simplify(self.heredoc())
        if c == "[":
            self.pos += 1
            return self.tuple_or_for()
        if c == "{":
            self.pos += 1
            return self.object_or_for()
        m = _NUMBER.match(text, pos)
        if m:
            self.pos = m.end()
            number = m.group(0)
            return Lit(float(number) if any(ch in number for ch in ".eE") else int(number))
        name = self.ident()
        if name is None:
            raise self.error("expected an expression")
        if name in ("true", "false"):
            return Lit(name == "true")
        if name == "null":
            return Lit(None)
        if self.peek("("):
            return self.call(name)
        return Var(name)

    def call(self, name: str) -> Call:
        self.expect("(")
        args: list[Expr] = []
        expand = False
        while not self.accept(")"):
            args.append(self.expression())
            if self.accept("..."):
                expand = True
            if not self.accept(","):
                self.expect(")")
                break
        return Call(name, tuple(args), expand)

    def for_header(self) -> tuple[str | None, str, Expr]:
        first = self.ident()
        if first is None:
            raise self.error("for variable")
        second = None
        if self.accept(","):
            second = self.ident()
            if second is None:
                raise self.error("for value variable")
        if not self.keyword("in"):
            raise self.error("expected 'in'")
        collection = self.expression()
        self.expect(":")
        return (first, second, collection) if second else (None, first, collection)

    def tuple_or_for(self) -> Expr:
        if self.keyword("for"):
            key_var, value_var, collection = self.for_header()
            value = self.expression()
            condition = self.expression() if self.keyword("if") else None
            self.expect("]")
            return For(key_var, value_var, collection, None, value, condition, False)
        items: list[Expr] = []
        while not self.accept("]"):
            items.append(self.expression())
            if not self.accept(","):
                self.expect("]")
                break
        return TupleE(tuple(items))

    def object_or_for(self) -> Expr:
        if self.keyword("for"):
            key_var, value_var, collection = self.for_header()
            key = self.expression()
            self.expect("=>")
            value = self.expression()
            grouping = self.accept("...")
            condition = self.expression() if self.keyword("if") else None
            self.expect("}")
            return For(key_var, value_var, collection, key, value, condition, grouping)
        items: list[tuple[Expr, Expr]] = []
        while not self.accept("}"):
            self.skip()
            start = self.pos
            name = self.ident()
            item_key: Expr
            if name is not None and ((self.peek("=") and not self.peek("==")) or self.peek(":")):
                item_key = Lit(name)
            else:
                self.pos = start
                item_key = self.expression()
            if not self.accept("="):
                self.expect(":")
            items.append((item_key, self.expression()))
            self.accept(",")
        return ObjectE(tuple(items))

    # -- templates ----------------------------------------------------------------------------------
    def string_template(self) -> Template:
        """The rest of a quoted string (the opening quote is consumed); ``\\`` escapes apply."""
        return self.template_parts(quoted=True, stop=())[0]

    def heredoc(self) -> Template:
        m = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_]*)[ \t]*\n").match(self.text, self.pos)
        if not m:
            raise self.error("heredoc")
        indent, marker = m.group(1) == "-", m.group(2)
        end = re.compile(rf"^[ \t]*{marker}[ \t]*$", re.M).search(self.text, m.end())
        if not end:
            raise self.error("unterminated heredoc")
        body = self.text[m.end():end.start()]
        self.pos = end.end()
        if indent:
            lines = body.split("\n")
            widths = [len(line) - len(line.lstrip(" \t")) for line in lines if line.strip()]
            cut = min(widths, default=0)
            body = "\n".join(line[cut:] for line in lines)
        return parse_template(body)

    def template_parts(self, quoted: bool, stop: tuple[str, ...]) -> tuple[Template, str]:
        """Parse template text up to the closing quote (quoted) or one of the ``stop`` directives."""
        parts: list[str | Expr | If | TemplateFor] = []
        buf: list[str] = []
        strip_next = False

        def flush() -> None:
            if buf:
                parts.append("".join(buf))
                buf.clear()

        while True:
            if self.pos >= len(self.text):
                if quoted or stop:
                    raise self.error("unterminated template")
                flush()
                return Template(tuple(parts)), ""
            c = self.text[self.pos]
            if strip_next:
                if c in " \t\r\n":
                    self.pos += 1
                    continue
                strip_next = False
            if quoted and c == '"':
                self.pos += 1
                flush()
                return Template(tuple(parts)), ""
            if quoted and c == "\\":
                nxt = self.text[self.pos + 1:self.pos + 2]
                if nxt in _ESCAPES:
                    buf.append(_ESCAPES[nxt])
                    self.pos += 2
                    continue
                raise self.error("unknown escape")
            if self.text.startswith("$${", self.pos) or self.text.startswith("%%{", self.pos):
                buf.append(self.text[self.pos + 1:self.pos + 3])
                self.pos += 3
                continue
            if self.text.startswith("${", self.pos):
                self.pos += 2
                if self.text.startswith("~", self.pos):
                    self.pos += 1
                    _strip_trailing(buf, parts)
                flush()
                parts.append(self.expression())
                strip_next = self.close_directive()
                continue
            if self.text.startswith("%{", self.pos):
                self.pos += 2
                if self.text.startswith("~", self.pos):
                    self.pos += 1
                    _strip_trailing(buf, parts)
                flush()
                word = self.ident()
                if word in stop:
                    strip_next = self.close_directive()
                    return Template(tuple(parts)), f"{word}:{int(strip_next)}"
                if word == "if":
                    test = self.expression()
                    strip_next = self.close_directive()
                    then, ended = self.nested(("else", "endif"), strip_next)
                    other = Template(())
                    if ended.startswith("else"):
                        other, ended = self.nested(("endif",), ended.endswith("1"))
                    strip_next = ended.endswith("1")
                    parts.append(If(test, then, other))
                    continue
                if word == "for":
                    key_var, value_var, collection = self.template_for_header()
                    strip_next = self.close_directive()
                    body, ended = self.nested(("endfor",), strip_next)
                    strip_next = ended.endswith("1")
                    parts.append(TemplateFor(key_var, value_var, collection, body))
                    continue
                raise self.error(f"unknown template directive {word!r}")
            buf.append(c)
            self.pos += 1

    def nested(self, stop: tuple[str, ...], strip: bool) -> tuple[Template, str]:
        if strip:
            while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
                self.pos += 1
        inner = _Parser(self.text)
        inner.pos = self.pos
        template, ended = inner.template_parts(quoted=False, stop=stop)
        self.pos = inner.pos
        if not ended:
            raise self.error(f"missing {stop[-1]}")
        return template, ended

    def template_for_header(self) -> tuple[str | None, str, Expr]:
        first = self.ident()
        if first is None:
            raise self.error("for variable")
        second = self.ident() if self.accept(",") else None
        if not self.keyword("in"):
            raise self.error("expected 'in'")
        collection = self.expression()
        return (first, second, collection) if second else (None, first, collection)

    def close_directive(self) -> bool:
        """Consume ``}`` or ``~}``; True when the text after it is to be stripped of leading space."""
        self.skip()
        if self.text.startswith("~}", self.pos):
            self.pos += 2
            return True
        if self.text.startswith("}", self.pos):
            self.pos += 1
            return False
        raise self.error("expected '}'")


def _simplify(template: Template) -> Expr:
    """A template without interpolations or directives is just a string."""
    if all(isinstance(p, str) for p in template.parts):
        return Lit("".join(p for p in template.parts if isinstance(p, str)))
    return template


def _strip_trailing(buf: list[str], parts: list[str | Expr | If | TemplateFor]) -> None:
    text = "".join(buf).rstrip(" \t\r\n")
    buf.clear()
    if text:
        buf.append(text)
    elif parts and isinstance(parts[-1], str):
        parts[-1] = parts[-1].rstrip(" \t\r\n")


def parse_expression(text: str) -> Expr:
    parser = _Parser(text)
    node = parser.expression()
    parser.skip()
    if parser.pos != len(text):
        raise parser.error("trailing text")
    return node


def parse_template(text: str) -> Template:
    """A whole template file (``templatefile``): text with interpolations and directives, no quotes."""
    parser = _Parser(text)
    template, _ = parser.template_parts(quoted=False, stop=())
    return template


def parse_value(value: object) -> Expr:
    """An attribute value as python-hcl2 8.x returns it, as an expression tree.

    python-hcl2 gives literals as Python values, quoted strings with their quotes, expressions
    wrapped in ``${...}``, object literals in blocks as dicts and bare words (types) as text.
    """
    if value is None or isinstance(value, bool | int | float):
        return Lit(value)
    if isinstance(value, list):
        return TupleE(tuple(parse_value(v) for v in value))
    if isinstance(value, dict):
        return ObjectE(tuple((Lit(unquote(k)), parse_value(v)) for k, v in value.items() if not k.startswith("__")))
    if not isinstance(value, str):
        raise ParseError(f"unexpected value {value!r}")
    if value.startswith("${") and value.endswith("}") and _closes_at_end(value):
        return parse_expression(value[2:-1])
    return parse_expression(value)


def _closes_at_end(text: str) -> bool:
    """Whether the ``${`` at the start of text is closed by its last ``}`` (not ``"${a}-${b}"``-like)."""
    parser = _Parser(text)
    parser.pos = 2
    try:
        parser.expression()
        parser.skip()
    except ParseError:
        return False
    return parser.pos == len(text) - 1


def unquote(key: str) -> str:
    return key[1:-1] if len(key) >= 2 and key[0] == key[-1] == '"' else key


def show(node: Expr) -> str:
    """HCL text for an expression tree (normalised spacing), to quote an expression in the extracted facts."""
    if isinstance(node, Lit):
        if node.value is None:
            return "null"
        if isinstance(node.value, bool):
            return "true" if node.value else "false"
        if isinstance(node.value, str):
            return _quote(node.value)
        return str(node.value)
    if isinstance(node, Var):
        return node.name
    if isinstance(node, GetAttr):
        return f"{show(node.obj)}.{node.name}"
    if isinstance(node, Index):
        return f"{show(node.obj)}[{show(node.key)}]"
    if isinstance(node, Splat):
        return show(node.obj) + "[*]" + "".join(f".{name}" for name in node.rest)
    if isinstance(node, Call):
        return f"{node.name}({', '.join(show(a) for a in node.args)}{'...' if node.expand else ''})"
    if isinstance(node, Unary):
        return f"{node.op}{show(node.operand)}"
    if isinstance(node, Binary):
        return f"{_operand(node.left)} {node.op} {_operand(node.right)}"
    if isinstance(node, Cond):
        return f"{_operand(node.test)} ? {_operand(node.then)} : {_operand(node.other)}"
    if isinstance(node, TupleE):
        return "[" + ", ".join(show(i) for i in node.items) + "]"
    if isinstance(node, ObjectE):
        items = ", ".join(f"{_key(k)} = {show(v)}" for k, v in node.items)
        return "{" + items + "}"
    if isinstance(node, For):
        head = f"for {node.key_var + ', ' if node.key_var else ''}{node.value_var} in {show(node.collection)} : "
        cond = f" if {show(node.condition)}" if node.condition is not None else ""
        if node.key is None:
            return f"[{head}{show(node.value)}{cond}]"
        return "{" + f"{head}{show(node.key)} => {show(node.value)}{'...' if node.grouping else ''}{cond}" + "}"
    return _quote_template(node)


def _operand(node: Expr) -> str:
    return f"({show(node)})" if isinstance(node, Binary | Cond) else show(node)


def _key(node: Expr) -> str:
    if isinstance(node, Lit) and isinstance(node.value, str) and _IDENT.fullmatch(node.value):
        return node.value
    return show(node)


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return '"' + escaped.replace("${", "$${").replace("%{", "%%{") + '"'


def _quote_template(node: Template) -> str:
    out = []
    for part in node.parts:
        if isinstance(part, str):
            out.append(_quote(part)[1:-1])
        elif isinstance(part, If):
            other = f"%{{ else }}{_quote_template(part.other)[1:-1]}" if part.other.parts else ""
            out.append(f"%{{ if {show(part.test)} }}{_quote_template(part.then)[1:-1]}{other}%{{ endif }}")
        elif isinstance(part, TemplateFor):
            head = f"{part.key_var + ', ' if part.key_var else ''}{part.value_var}"
            out.append(f"%{{ for {head} in {show(part.collection)} }}{_quote_template(part.body)[1:-1]}%{{ endfor }}")
        else:
            out.append("${" + show(part) + "}")
    return '"' + "".join(out) + '"'


def walk(node: Expr) -> Iterator[Expr]:
    """Every expression in the tree, the node itself first."""
    yield node
    children: tuple[Expr, ...]
    if isinstance(node, GetAttr | Splat):
        children = (node.obj,)
    elif isinstance(node, Index):
        children = (node.obj, node.key)
    elif isinstance(node, Call):
        children = node.args
    elif isinstance(node, Unary):
        children = (node.operand,)
    elif isinstance(node, Binary):
        children = (node.left, node.right)
    elif isinstance(node, Cond):
        children = (node.test, node.then, node.other)
    elif isinstance(node, TupleE):
        children = node.items
    elif isinstance(node, ObjectE):
        children = tuple(x for item in node.items for x in item)
    elif isinstance(node, For):
        children = tuple(x for x in (node.collection, node.key, node.value, node.condition) if x is not None)
    elif isinstance(node, Template):
        children = tuple(_template_children(node))
    else:
        children = ()
    for child in children:
        yield from walk(child)


def _template_children(node: Template) -> Iterator[Expr]:
    for part in node.parts:
        if isinstance(part, If):
            yield part.test
            yield part.then
            yield part.other
        elif isinstance(part, TemplateFor):
            yield part.collection
            yield part.body
        elif not isinstance(part, str):
            yield part
