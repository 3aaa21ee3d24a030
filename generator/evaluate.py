"""What an expression is worth without running Terraform, and where each piece of it is written.

Terraform decides a node group's settings from more than literal maps: locals
in other files, ``merge()`` of maps, ``yamlencode()`` of objects, templates
read with ``file()``. A linter that reads only literals calls such groups
"no proxy" when it simply cannot see. This module follows what is statically
known and says precisely what is not: every value is ``Known``, a ``ListV`` or
``MapV`` of values, or ``Unknown`` with the expression that hides it. Each value
keeps its ``Site`` (file and syntax), so a fix can edit it where it lives.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from .fsguard import Refused
from .hcl import (
    Block,
    Call,
    Conditional,
    Document,
    Expr,
    ForExpr,
    HeredocExpr,
    Literal,
    ObjectElem,
    ObjectExpr,
    Operation,
    Span,
    StringExpr,
    Traversal,
    TupleExpr,
    unescape,
)
from .policy import template_text
from .policy.template_text import Kind
from .policy.values import MESSAGE_WIDTH, dedent_heredoc, one_line


@dataclass(frozen=True)
class Site:
    """A piece of syntax in a file of the folder."""

    path: Path
    doc: Document
    expr: Expr

    @property
    def line(self) -> int:
        return self.doc.line_of(self.expr.span.start)


@dataclass(frozen=True)
class FileSite:
    """Text read by ``file()`` or ``templatefile()``: ``path`` is the file, ``call`` the call in Terraform."""

    path: Path
    call: Site
    template: bool


@dataclass(frozen=True)
class Known:
    """A value fully known: a string (interpolations that cannot be resolved stay as ``${...}``), number, bool, null.

    ``unresolved`` is set when a string still holds such an interpolation or a
    directive: its text is known as written, not as Terraform computes it.
    """

    value: str | int | float | bool | None
    site: Site | FileSite | None = None
    written: str | None = None
    unresolved: bool = False

    @property
    def text(self) -> str | None:
        """A string as written, escapes resolved but references kept: what the node would see, before Terraform."""
        if self.written is not None:
            return self.written
        return self.value if isinstance(self.value, str) else None


@dataclass(frozen=True)
class Unknown:
    """A value only Terraform can compute; ``text`` is the expression that hides it, on one line.

    ``refused``: Terraform could compute it, but eksproxy-gen may not read what it needs (a ``file()`` outside
    the paths given, a FIFO, a file too large); ``text`` then says what was refused and why.
    """

    text: str
    site: Site | None = None
    refused: bool = False
    fails: bool = False  # Terraform rejects it (a key the map surely lacks): try() goes on to its next argument


@dataclass(frozen=True)
class ListV:
    items: tuple[Value, ...]
    site: Site | None = None


@dataclass(frozen=True)
class Entry:
    """One key of a map, and the ``key = value`` syntax that gave it (None when it came from an encoding)."""

    key: str
    value: Value
    elem: ObjectElem | None
    path: Path | None
    doc: Document | None
    at: int = 0

    @property
    def line(self) -> int:
        if self.at:
            return self.at
        return self.doc.line_of(self.elem.span.start) if self.doc is not None and self.elem is not None else 0


@dataclass(frozen=True)
class MapV:
    """A map. ``objects`` are the literal objects it is built from, in merge order.

    ``open`` is set when an unknown map was merged in: a key not in ``entries``
    may then exist with a value only Terraform knows, and the entries written
    before it may have been replaced.
    """

    entries: tuple[Entry, ...]
    objects: tuple[Site, ...] = ()
    open: Unknown | None = None
    maybe: tuple[Entry, ...] = ()
    condition: Unknown | None = None
    written: Site | None = None

    def get(self, key: str) -> Value | None:
        """The value of ``key``; Unknown when it depends on a condition or an unknown merge; None when surely absent."""
        for entry in reversed(self.entries):
            if entry.key == key:
                return entry.value
        if any(entry.key == key for entry in self.maybe):
            return self.condition or Unknown(key)
        return self.open

    def entry(self, key: str) -> Entry | None:
        for entry in reversed(self.entries):
            if entry.key == key:
                return entry
        return None

    def keys(self) -> list[str]:
        return list(dict.fromkeys(e.key for e in self.entries))

    @property
    def site(self) -> Site | None:
        """The one literal object this map is, when it is exactly that."""
        return self.objects[0] if len(self.objects) == 1 and self.open is None and not self.maybe else None


Value = Known | Unknown | ListV | MapV


@dataclass(frozen=True)
class Argument:
    """An argument of a block, where it is written: an override file's when that file replaces the original's."""

    name: str
    value: Expr
    path: Path
    doc: Document
    span: Span

    @property
    def line(self) -> int:
        return self.doc.line_of(self.span.start)


@dataclass(frozen=True)
class Nested:
    """A nested block, and the file that writes it."""

    block: Block
    path: Path
    doc: Document


@dataclass(frozen=True)
class Definition:
    """A named piece of syntax of the folder: a ``locals`` attribute, a module or resource block.

    ``overrides`` are the blocks of override files (``override.tf``,
    ``*_override.tf`` and their ``.tf.json`` twins) with the same type and
    labels, in the order Terraform merges them: by file name, then by place.
    """

    path: Path
    doc: Document
    expr: Expr | None = None
    block: Block | None = None
    overrides: tuple[Definition, ...] = ()

    def arguments(self) -> tuple[Argument, ...]:
        """The block's arguments as Terraform merges its overrides: an override's argument replaces the whole
        value of the original's (maps are not merged), in its place; an argument only an override has comes last.
        A name an override writes as nested blocks replaces an argument of that name."""
        merged: dict[str, Argument] = {}
        for layer in (self, *self.overrides):
            if layer.block is None:
                continue
            body = layer.block.body
            for block in body.blocks:
                merged.pop(block.type, None)
            for attr in body.attributes:
                merged[attr.name] = Argument(attr.name, attr.value, layer.path, layer.doc, attr.span)
        return tuple(merged.values())

    def argument(self, name: str) -> Argument | None:
        return next((a for a in self.arguments() if a.name == name), None)

    def blocks(self, kind: str) -> tuple[Nested, ...]:
        """The nested blocks of one type: an override that writes that type (as blocks or as an argument)
        replaces all of them, as Terraform merges nested blocks."""
        found: tuple[Nested, ...] = ()
        for layer in (self, *self.overrides):
            if layer.block is None:
                continue
            body = layer.block.body
            mine = tuple(Nested(b, layer.path, layer.doc) for b in body.blocks if b.type == kind)
            if mine or layer is self or body.attribute(kind) is not None:
                found = mine
        return found


# Outputs of common modules whose value is one of their literal arguments: module.vpc.vpc_cidr_block is the
# vpc module's ``cidr``. Anything not listed stays unknown.
_MODULE_OUTPUTS = {
    "vpc": {"vpc_cidr_block": "cidr", "vpc_secondary_cidr_blocks": "secondary_cidr_blocks"},
}
_VPC_SOURCE = re.compile(r"(?:^|/)terraform-aws-modules/vpc/aws(?://.*)?$|terraform-aws-vpc(?:\.git)?(?:\?.*)?$")
_LITERAL = re.compile(r'"([^"\\$%]*)"|(-?\d+)')  # a string without escapes or templates, or an integer
_REFERENCE = re.compile(r"^[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\[\s*(?:\d+|\"[^\"]*\")\s*\])*$")
_STEP = re.compile(r"\.([A-Za-z_][\w-]*)|\[\s*(\d+)\s*\]|\[\s*\"([^\"]*)\"\s*\]")


@dataclass
class Scope:
    """Everything an expression of one folder can refer to statically."""

    folder: Path
    locals: dict[str, Definition] = field(default_factory=dict)
    modules: dict[str, Definition] = field(default_factory=dict)
    resources: dict[tuple[str, str], Definition] = field(default_factory=dict)
    read_text: Callable[[Path], str | None] = lambda _path: None
    complete: Callable[[tuple[str, ...]], None] | None = None
    _overrides: dict[tuple[str, ...], list[Definition]] = field(default_factory=dict)
    _cache: dict[str, Value] = field(default_factory=dict)
    _resolving: set[str] = field(default_factory=set)
    _completed: set[tuple[str, ...]] = field(default_factory=set)
    _bindings: list[dict[str, Value]] = field(default_factory=list)

    def add_document(self, path: Path, doc: Document, override: bool = False) -> None:
        """The definitions of one file. An override file's local replaces the local of that name; its module
        and resource blocks are kept, in the order added, to merge into the blocks they override."""
        for block in doc.body.blocks:
            if block.type == "locals":
                for attr in block.body.attributes:
                    definition = Definition(path, doc, expr=attr.value)
                    if override:
                        self.locals[attr.name] = definition
                    else:
                        self.locals.setdefault(attr.name, definition)
            elif (block.type == "module" and block.labels) or (block.type == "resource" and len(block.labels) == 2):
                key = (block.type, *block.labels)
                definition = Definition(path, doc, block=block)
                if override:
                    self._overrides.setdefault(key, []).append(definition)
                elif block.type == "module":
                    self.modules.setdefault(block.labels[0], definition)
                else:
                    self.resources.setdefault((block.labels[0], block.labels[1]), definition)

    def merged(self, path: Path, doc: Document, block: Block) -> Definition:
        """A block of a configuration file with the override blocks Terraform merges into it."""
        return Definition(path, doc, block=block, overrides=tuple(self._overrides.get((block.type, *block.labels),
                                                                                      ())))

    def overridden(self) -> list[tuple[str, ...]]:
        """The type and labels of every block an override file writes."""
        return list(self._overrides)

    def module(self, name: str) -> Definition | None:
        """``module "NAME"`` as Terraform sees it: the block and its overrides."""
        if name not in self.modules:
            self._complete("module", name)
        base = self.modules.get(name)
        return None if base is None or base.block is None else self.merged(base.path, base.doc, base.block)

    def resource(self, kind: str, name: str) -> Definition | None:
        if (kind, name) not in self.resources:
            self._complete("resource", kind, name)
        base = self.resources.get((kind, name))
        return None if base is None or base.block is None else self.merged(base.path, base.doc, base.block)

    @contextmanager
    def _outside(self) -> Iterator[None]:
        """Evaluate another definition: the variables of a ``for`` being evaluated are not in its scope."""
        bindings, self._bindings = self._bindings, []
        try:
            yield
        finally:
            self._bindings = bindings

    def _complete(self, *words: str) -> None:
        """Read the folder's other files that could define a name not among those read so far, once per name.

        ``words`` are the block type and the labels or name a definition must
        spell out, so only files whose bytes hold all of them are parsed.
        """
        if self.complete is not None and words not in self._completed:
            self._completed.add(words)
            self.complete(words)

    def local(self, name: str) -> Value:
        """``local.NAME``, evaluated once."""
        if name in self._cache:
            return self._cache[name]
        if name not in self.locals:
            self._complete("locals", name)
        definition = self.locals.get(name)
        if definition is None or definition.expr is None:
            return Unknown(f"local.{name}")
        if name in self._resolving:
            return Unknown(f"local.{name}")
        self._resolving.add(name)
        try:
            with self._outside():
                value = self.value(definition.expr, definition.path, definition.doc)
        finally:
            self._resolving.discard(name)
        self._cache[name] = value
        return value

    def value(self, expr: Expr, path: Path, doc: Document) -> Value:
        """The static value of ``expr``, written in ``doc`` at ``path``."""
        site = Site(path, doc, expr)
        if isinstance(expr, Literal):
            return Known(expr.value, site)
        if isinstance(expr, StringExpr):
            if expr.value is not None and "$${" not in expr.raw and "%%{" not in expr.raw:
                return Known(expr.value, site)
            return self._template(expr.raw, site, quoted=True)
        if isinstance(expr, HeredocExpr):
            body = dedent_heredoc(expr.body) if expr.trim else expr.body
            return self._template(body, site, quoted=False)
        if isinstance(expr, ObjectExpr):
            return self._object(expr, site)
        if isinstance(expr, TupleExpr):
            return ListV(tuple(self.value(item, path, doc) for item in expr.items), site)
        if isinstance(expr, Traversal):
            return _located(self.traverse(expr.root, expr.steps), site)
        if isinstance(expr, Call):
            return self._call(expr, site)
        if isinstance(expr, Conditional):
            return self._conditional(expr, site)
        if isinstance(expr, Operation):
            return _operation(expr.operator, [self.value(o, path, doc) for o in expr.operands], site)
        if isinstance(expr, ForExpr):
            return self._for(expr, site)
        return Unknown(_text(site), site)

    def _for(self, expr: ForExpr, site: Site) -> Value:
        """A ``for`` over a collection the folder gives: each element bound to the variables, the body evaluated.

        Maps are walked in key order, as Terraform does. The result has no place
        of its own to edit: its values are computed, so a value written in the
        body belongs to every element and is not kept as one element's site.
        """
        unknown = Unknown(_text(site), site)
        elements = _elements(self.value(expr.collection, site.path, site.doc))
        if elements is None:
            return unknown
        items: list[Value] = []
        grouped: dict[str, list[Value]] = {}
        outer = self._bindings[-1] if self._bindings else {}
        for key, element in elements:
            bound = {**outer, expr.value_var: element}
            if expr.key_var is not None:
                bound[expr.key_var] = key
            self._bindings.append(bound)
            try:
                if expr.condition is not None:
                    keep = self.value(expr.condition, site.path, site.doc)
                    if not (isinstance(keep, Known) and isinstance(keep.value, bool)):
                        return unknown
                    if not keep.value:
                        continue
                value = _detached(self.value(expr.value, site.path, site.doc), site)
                if _leaks(value, [name for name in (expr.key_var, expr.value_var) if name is not None]):
                    return unknown
                if expr.key is None:
                    items.append(value)
                    continue
                name = _key(self.value(expr.key, site.path, site.doc))
                if name is None or (name in grouped and not expr.grouped):
                    return unknown
                grouped.setdefault(name, []).append(value)
            finally:
                self._bindings.pop()
        if expr.key is None:
            return ListV(tuple(items))
        entries = tuple(Entry(name, ListV(tuple(values)) if expr.grouped else values[0], None, site.path, site.doc,
                              site.line) for name, values in grouped.items())
        return MapV(entries)

    def _conditional(self, expr: Conditional, site: Site) -> Value:
        """A known condition picks a branch; an unknown one between two maps gives the keys they agree on,
        and the others as keys that exist only under the condition (``cond ? {...} : {}`` in a merge)."""
        condition = self.value(expr.condition, site.path, site.doc)
        then = self.value(expr.then, site.path, site.doc)
        otherwise = self.value(expr.otherwise, site.path, site.doc)
        if isinstance(condition, Known) and isinstance(condition.value, bool):
            return then if condition.value else otherwise
        if not (isinstance(then, MapV) and isinstance(otherwise, MapV)) or then.open or otherwise.open:
            return then if _agree(then, otherwise) else Unknown(_text(site), site)
        why = Unknown(_text(Site(site.path, site.doc, expr.condition)), site)
        sure: list[Entry] = []
        maybe: list[Entry] = [*then.maybe, *otherwise.maybe]
        for entry in [*then.entries, *otherwise.entries]:
            if any(e.key == entry.key for e in sure + maybe):
                continue
            other = otherwise.entry(entry.key) if then.entry(entry.key) is entry else then.entry(entry.key)
            if other is not None and to_plain(other.value) == to_plain(entry.value):
                sure.append(entry)
            elif other is not None:
                sure.append(Entry(entry.key, why, entry.elem, entry.path, entry.doc, entry.at))
            else:
                maybe.append(entry)
        return MapV(tuple(sure), (), None, tuple(maybe), why, site)

    def _object(self, expr: ObjectExpr, site: Site) -> MapV:
        entries: list[Entry] = []
        for elem in expr.elems:
            key = elem.key
            if key is None and elem.key_expr is not None:  # a computed key: known when its value is
                key = _key(self.value(elem.key_expr, site.path, site.doc))
            if key is None:
                return MapV(tuple(entries), (site,), Unknown(_text(site), site), written=site)
            entries.append(Entry(key, self.value(elem.value, site.path, site.doc), elem, site.path, site.doc))
        return MapV(tuple(entries), (site,), written=site)

    def traverse(self, root: str, steps: tuple[str | int | None, ...]) -> Value:
        """A reference such as ``local.x.y``, ``module.vpc.vpc_cidr_block`` or ``path.module``."""
        shown = root + "".join(f".{s}" if isinstance(s, str) else f"[{s}]" if s is not None else "[…]"
                               for s in steps)
        base: Value
        if self._bindings and root in self._bindings[-1]:  # a variable of the ``for`` being evaluated
            base = self._bindings[-1][root]
            for step in steps:
                base = _index(base, step)
            return base if not isinstance(base, Unknown) else Unknown(shown, base.site, fails=base.fails)
        if not steps or steps[0] is None or not isinstance(steps[0], str):
            return Unknown(shown)
        first, rest = steps[0], steps[1:]
        if root == "local":
            base = self.local(first)
        elif root == "path" and first == "module" and not rest:
            return Known(str(self.folder))
        elif root == "module":
            base = self._module_output(first, rest[0] if rest else None)
            rest = rest[1:]
        elif root in {"var", "data", "each", "count", "self", "terraform", "path"}:
            return Unknown(shown)
        else:
            base = self._resource_attribute(root, first, rest[0] if rest else None)
            rest = rest[1:]
        for step in rest:
            base = _index(base, step)
        return base if not isinstance(base, Unknown) else Unknown(shown, base.site, fails=base.fails)

    def _module_output(self, name: str, output: str | int | None) -> Value:
        definition = self.module(name)
        if definition is None or not isinstance(output, str):
            return Unknown(f"module.{name}")
        if definition.argument("count") or definition.argument("for_each"):
            return Unknown(f"module.{name}.{output}")
        source = definition.argument("source")
        source_text = source.value.value if source and isinstance(source.value, StringExpr) else None
        for kind, outputs in _MODULE_OUTPUTS.items():
            if kind == "vpc" and source_text and _VPC_SOURCE.search(source_text) and output in outputs:
                attr = definition.argument(outputs[output])
                if attr is not None:
                    with self._outside():
                        return self.value(attr.value, attr.path, attr.doc)
        return Unknown(f"module.{name}.{output}")

    def _resource_attribute(self, kind: str, name: str, attribute: str | int | None) -> Value:
        """``aws_vpc.main.cidr_block`` is the resource's literal ``cidr_block`` argument, when written."""
        definition = self.resource(kind, name)
        shown = f"{kind}.{name}" + (f".{attribute}" if isinstance(attribute, str) else "")
        if definition is None or not isinstance(attribute, str):
            return Unknown(shown)
        if definition.argument("count") or definition.argument("for_each"):
            return Unknown(shown)
        attr = definition.argument(attribute)
        if attr is None:
            return Unknown(shown)
        with self._outside():
            value = self.value(attr.value, attr.path, attr.doc)
        return value if isinstance(value, Known) and isinstance(value.value, str) else Unknown(shown)

    def _call(self, call: Call, site: Site) -> Value:
        handler = _FUNCTIONS.get(call.name)
        if handler is None or call.expand:
            return Unknown(_text(site), site)
        args = [self.value(arg, site.path, site.doc) for arg in call.args]
        return handler(self, args, site)

    def _template(self, raw: str, site: Site | FileSite, quoted: bool, opaque: bool = False) -> Value:
        """A string template: its value (escapes resolved, references the folder defines substituted, the rest
        kept as written), and its source as written (``written``: escapes kept, so it can be written back).

        ``opaque`` keeps every interpolation as written (a templatefile's variables are not the folder's).
        """
        value: list[str] = []
        written: list[str] = []
        unresolved = False
        for piece in template_text.pieces(raw):
            if piece.kind is Kind.TEXT:
                text = unescape(piece.text) if quoted else piece.text
                value.append(text)
                written.append(text)
            elif piece.kind is Kind.ESCAPE:
                value.append(piece.text[1:])
                written.append(piece.text)
            else:
                text, exact = (piece.text, False) if piece.kind is Kind.DIRECTIVE or opaque else \
                    self._interpolated(piece.text)
                unresolved = unresolved or not exact
                value.append(text)
                written.append(piece.text)
        return Known("".join(value), site, "".join(written), unresolved)

    def _interpolated(self, text: str) -> tuple[str, bool]:
        """The text a ``${reference}`` stands for (itself when the folder does not give it), and whether that
        text is exactly Terraform's value."""
        inner = text[2:-1].strip().strip("~").strip()
        literal = _LITERAL.fullmatch(inner)  # ${"a"}, ${3}: the literal itself
        if literal is not None:
            return literal.group(1) if literal.group(1) is not None else literal.group(2), True
        if not _REFERENCE.match(inner):
            return text, False
        head = re.match(r"[A-Za-z_][\w-]*", inner)
        assert head is not None
        steps: list[str | int | None] = []
        for match in _STEP.finditer(inner[head.end():]):
            attr, index, key = match.groups()
            steps.append(attr if attr is not None else int(index) if index is not None else key)
        value = self.traverse(head.group(0), tuple(steps))
        if not isinstance(value, Known) or value.value is None:
            return text, False
        if isinstance(value.value, bool):
            return ("true" if value.value else "false"), True
        if isinstance(value.value, (int, float)):
            return _number_text(value.value), True
        return value.value, not value.unresolved


def _text(site: Site) -> str:
    """The expression as written, on one line."""
    return one_line(site.doc.source(site.expr.span))


def _located(value: Value, site: Site) -> Value:
    """A value reached through a reference keeps its own site; an unknown one names the reference."""
    if isinstance(value, Unknown):
        return Unknown(value.text if value.text else _text(site), site, fails=value.fails)
    return value


def _index(base: Value, step: str | int | None) -> Value:
    if isinstance(base, MapV) and isinstance(step, str):
        found = base.get(step)
        return found if found is not None else Unknown(step, fails=True)
    if isinstance(base, ListV) and isinstance(step, int):
        return base.items[step] if 0 <= step < len(base.items) else Unknown(str(step), fails=True)
    if isinstance(base, Unknown):
        return base
    return Unknown(str(step))


def _elements(collection: Value) -> list[tuple[Value, Value]] | None:
    """(key, value) of each element a ``for`` walks: a list by index, a map by key in lexical order; None when
    the collection, or which keys it has, is not known."""
    if isinstance(collection, ListV):
        return [(Known(index), item) for index, item in enumerate(collection.items)]
    if isinstance(collection, MapV) and collection.open is None and not collection.maybe:
        values = {entry.key: entry.value for entry in collection.entries}
        return [(Known(key), values[key]) for key in sorted(values)]
    return None


def _key(value: Value) -> str | None:
    """An object key as Terraform converts it to a string; None when it is not a known string, number or bool."""
    exact = _exact(value)
    if isinstance(exact, bool):
        return "true" if exact else "false"
    if isinstance(exact, (int, float)):
        return _number_text(exact)
    return exact if isinstance(exact, str) else None


def _number_text(number: int | float) -> str:
    return str(int(number)) if float(number).is_integer() else repr(float(number))


def _within(site: Site | FileSite | None, around: Site) -> bool:
    where = site.call if isinstance(site, FileSite) else site
    return where is not None and where.doc is around.doc and \
        around.expr.span.start <= where.expr.span.start and where.expr.span.end <= around.expr.span.end


def _agree(then: Value, otherwise: Value) -> bool:
    """Both branches of a conditional give the same value as Terraform would compute it, so the condition
    does not matter (``var.on ? local.parts : local.parts``). A ``fix`` that edits one branch's definition
    only makes them disagree, and its trial then refuses the rewrite."""
    if isinstance(then, Unknown) or isinstance(otherwise, Unknown):
        return False
    first, second = to_plain(then), to_plain(otherwise)
    return not isinstance(first, Unknown) and not isinstance(second, Unknown) and \
        _canonical(first) == _canonical(second)


def _detached(value: Value, around: Site) -> Value:
    """A value computed by a ``for``, without the places inside the ``for`` that every element shares."""
    if isinstance(value, Known):
        return replace(value, site=None) if _within(value.site, around) else value
    if isinstance(value, ListV):
        return ListV(tuple(_detached(item, around) for item in value.items),
                     None if _within(value.site, around) else value.site)
    if isinstance(value, MapV):
        def entries(found: tuple[Entry, ...]) -> tuple[Entry, ...]:
            return tuple(replace(e, value=_detached(e.value, around)) for e in found)
        return replace(value, entries=entries(value.entries), maybe=entries(value.maybe),
                       objects=tuple(o for o in value.objects if not _within(o, around)),
                       written=None if _within(value.written, around) else value.written)
    return value


def _leaks(value: Value, names: Iterable[str]) -> bool:
    """Whether a part of the value only Terraform knows is written with a ``for``'s variables: outside the
    ``for`` that text means nothing, so the ``for`` as a whole is unknown."""
    pattern = re.compile(r"(?<![\w.-])(?:" + "|".join(map(re.escape, names)) + r")(?![\w-])")
    if isinstance(value, Unknown):
        return pattern.search(value.text) is not None
    if isinstance(value, Known):
        return value.unresolved and isinstance(value.value, str) and pattern.search(value.value) is not None
    if isinstance(value, ListV):
        return any(_leaks(item, names) for item in value.items)
    return (value.open is not None and _leaks(value.open, names)) or \
        any(_leaks(e.value, names) for e in (*value.entries, *value.maybe))


def _exact(value: Value) -> object:
    """Plain data when Terraform's value is known to the last character (no ``${ }`` or ``%{ }`` left in a
    string); the Unknown that hides it otherwise."""
    if isinstance(value, Unknown):
        return value
    if isinstance(value, Known):
        return Unknown(one_line(str(value.value))) if value.unresolved else value.value
    if isinstance(value, ListV):
        items = [_exact(item) for item in value.items]
        return next((i for i in items if isinstance(i, Unknown)), items)
    if value.open is not None or value.maybe:
        return value.open or value.condition or Unknown("a map whose keys depend on a condition")
    plain = {e.key: _exact(e.value) for e in value.entries}
    return next((v for v in plain.values() if isinstance(v, Unknown)), plain)


def _canonical(plain: object) -> object:
    """Plain data in a form where Python's equality is Terraform's: 1 equals 1.0, true never equals 1."""
    if isinstance(plain, bool) or plain is None:
        return ("bool", plain)
    if isinstance(plain, (int, float)):
        return ("number", float(plain))
    if isinstance(plain, list):
        return ("list", tuple(_canonical(p) for p in plain))
    if isinstance(plain, dict):
        return ("map", tuple(sorted((k, _canonical(v)) for k, v in plain.items())))
    return ("string", plain)


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b}
_ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}


def _operation(operator: str, operands: list[Value], site: Site) -> Value:
    """``==``, ``!=``, ``&&``, ``||``, ``!``, comparisons and arithmetic of known values, as Terraform computes
    them; Unknown when an operand is not known to the last character, or the types do not fit."""
    plain = [_exact(o) for o in operands]
    unknown = Unknown(_text(site), site)
    if any(isinstance(p, Unknown) for p in plain):
        return unknown
    result: object = None
    if len(plain) == 1:
        (only,) = plain
        if operator == "!" and isinstance(only, bool):
            result = not only
        elif operator == "-" and isinstance(only, (int, float)) and not isinstance(only, bool):
            result = -only
        else:
            return unknown
        return Known(result, site)
    left, right = plain
    if operator in {"==", "!="}:
        return Known((_canonical(left) == _canonical(right)) == (operator == "=="), site)
    if operator in {"&&", "||"}:
        if not (isinstance(left, bool) and isinstance(right, bool)):
            return unknown
        return Known(left and right if operator == "&&" else left or right, site)
    numbers = [p for p in (left, right) if isinstance(p, (int, float)) and not isinstance(p, bool)]
    if len(numbers) != 2:
        return unknown
    a, b = float(numbers[0]), float(numbers[1])
    if operator in _COMPARE:
        return Known(_COMPARE[operator](a, b), site)
    if operator in _ARITHMETIC:
        number = _ARITHMETIC[operator](a, b)
    elif operator in {"/", "%"} and b != 0:
        number = a / b if operator == "/" else a - b * int(a / b)  # Terraform's % keeps the dividend's sign
    else:
        return unknown
    return Known(int(number) if number.is_integer() else number, site)


# --- functions ------------------------------------------------------------------------------------------------------

Handler = Callable[[Scope, list[Value], Site], Value]


def _merge(_scope: Scope, args: list[Value], site: Site) -> Value:
    entries: list[Entry] = []
    maybe: list[Entry] = []
    condition: Unknown | None = None
    objects: list[Site] = []
    open_: Unknown | None = None
    for arg in args:
        if isinstance(arg, Known) and arg.value is None:
            continue
        if isinstance(arg, Unknown):
            open_ = Unknown(arg.text, arg.site or site)
            entries = [Entry(e.key, open_, e.elem, e.path, e.doc, e.at) for e in entries]
            continue
        if not isinstance(arg, MapV):
            return Unknown(_text(site), site)
        if arg.open is not None:
            open_ = arg.open
            entries = [Entry(e.key, arg.open, e.elem, e.path, e.doc, e.at) for e in entries]
        if arg.maybe:
            condition = arg.condition
            shadowed = {m.key for m in arg.maybe}
            entries = [Entry(e.key, arg.condition or Unknown(e.key), e.elem, e.path, e.doc, e.at)
                       if e.key in shadowed else e for e in entries]
            maybe = [m for m in maybe if m.key not in shadowed]
            maybe += [m for m in arg.maybe if not any(e.key == m.key for e in entries)]
        entries = [e for e in entries if arg.entry(e.key) is None] + list(arg.entries)
        maybe = [m for m in maybe if arg.entry(m.key) is None]
        objects += arg.objects
    return MapV(tuple(entries), tuple(objects), open_, tuple(maybe), condition, site)


def _concat(_scope: Scope, args: list[Value], site: Site) -> Value:
    items: list[Value] = []
    for arg in args:
        if not isinstance(arg, ListV):
            return Unknown(_text(site), site)
        items += arg.items
    return ListV(tuple(items), None)


def _encode(scope: Scope, args: list[Value], site: Site) -> Value:
    if len(args) != 1:
        return Unknown(_text(site), site)
    plain = to_plain(args[0])
    if isinstance(plain, Unknown):
        return Unknown(_text(site), site)
    return Known(_json_source(plain), site,
                 unresolved=isinstance(_exact(args[0]), Unknown))


def _yamldecode(scope: Scope, args: list[Value], site: Site) -> Value:
    """The data of one YAML document known as text (a template read by ``templatefile()``, a local): a manifest
    decoded from it is read as the object Terraform passes on. ``${...}`` left in the text stays as written."""
    if len(args) != 1 or not isinstance(args[0], Known) or not isinstance(args[0].value, str):
        return Unknown(_text(site), site)
    try:
        docs = [doc for doc in yaml.safe_load_all(args[0].value) if doc is not None]
    except yaml.YAMLError:
        return Unknown(_text(site), site)
    return _from_data(docs[0], site) if len(docs) == 1 else Unknown(_text(site), site)


def _from_data(data: object, site: Site) -> Value:
    if isinstance(data, dict):
        return MapV(tuple(Entry(str(k), _from_data(v, site), None, None, None) for k, v in data.items()))
    if isinstance(data, list):
        return ListV(tuple(_from_data(item, site) for item in data), site)
    if data is None or isinstance(data, str | int | float | bool):
        return Known(data, site)
    return Known(str(data), site)  # a date or timestamp: Terraform's yamldecode gives its text


def _file(scope: Scope, args: list[Value], site: Site, template: bool) -> Value:
    if not args or not isinstance(args[0], Known) or not isinstance(args[0].value, str):
        return Unknown(_text(site), site)
    wanted = args[0].value
    folder = str(scope.folder)
    if not (wanted == folder or wanted.startswith(folder + "/")) or "${" in wanted:
        return Unknown(_text(site), site)
    path = Path(wanted)
    try:
        text = scope.read_text(path)
    except Refused as exc:  # outside the paths given, in .git, not a regular file, too large: never read
        written = os.path.normpath(wanted[len(folder) + 1:]) if wanted != folder else "."
        return Unknown(_refused(f"{'templatefile' if template else 'file'}() reads", written, exc.short), site,
                       refused=True)
    if text is None:
        return Unknown(_text(site), site)
    where = FileSite(path, site, template)
    if not template:  # literal text; ``written`` is template source like every other text value
        return Known(text, where, template_text.escaped(text))
    return scope._template(text, where, quoted=False, opaque=True)


def _refused(what: str, written: str, reason: str, width: int = MESSAGE_WIDTH) -> str:
    """``file() reads PATH, REASON``, the path shortened from the left so the reason always shows."""
    room = width - len(what) - len(reason) - 3
    shown = written if len(written) <= room else "…" + written[-max(room - 1, 8):]
    return f"{what} {shown}, {reason}"


def _join(_scope: Scope, args: list[Value], site: Site) -> Value:
    if len(args) == 2 and isinstance(args[0], Known) and isinstance(args[0].value, str) and isinstance(args[1], ListV):
        items = [i.value for i in args[1].items if isinstance(i, Known) and isinstance(i.value, str)]
        if len(items) == len(args[1].items):
            unresolved = args[0].unresolved or any(isinstance(i, Known) and i.unresolved for i in args[1].items)
            return Known(args[0].value.join(items), site, unresolved=unresolved)
    return Unknown(_text(site), site)


def _string_function(op: Callable[[str], str]) -> Handler:
    def handler(_scope: Scope, args: list[Value], site: Site) -> Value:
        if len(args) == 1 and isinstance(args[0], Known) and isinstance(args[0].value, str):
            return Known(op(args[0].value), site, unresolved=args[0].unresolved)
        return Unknown(_text(site), site)
    return handler


def _identity(_scope: Scope, args: list[Value], site: Site) -> Value:
    return args[0] if len(args) == 1 and not isinstance(args[0], Unknown) else Unknown(_text(site), site)


def _try(_scope: Scope, args: list[Value], site: Site) -> Value:
    """``try(a, b, ...)``: the first argument that is known (it evaluates without error, so Terraform takes it),
    after those Terraform surely rejects (a key the map surely lacks); an unknown one may or may not fail in
    Terraform, so the whole is then unknown."""
    for arg in args:
        if isinstance(arg, Unknown) and arg.fails:
            continue
        return arg if not isinstance(arg, Unknown) else Unknown(_text(site), site)
    return Unknown(_text(site), site, fails=True)


def _lookup(_scope: Scope, args: list[Value], site: Site) -> Value:
    """``lookup(map, key, default)``: the key's value when the map surely has it, the default when the map
    surely lacks it; unknown when the key, or whether the map holds it, is not known."""
    if len(args) in (2, 3) and isinstance(args[0], MapV) and isinstance(args[1], Known) \
            and isinstance(args[1].value, str) and not args[1].unresolved:
        found = args[0].get(args[1].value)
        if found is not None:
            return found
        if len(args) == 3:
            return args[2]
    return Unknown(_text(site), site)


def _coalesce(_scope: Scope, args: list[Value], site: Site) -> Value:
    """``coalesce(...)``: the first argument that is neither null nor an empty string; unknown as soon as an
    argument before it is not known to the last character."""
    for arg in args:
        if isinstance(arg, Known) and not arg.unresolved and arg.value in (None, ""):
            continue
        if isinstance(arg, Unknown) or (isinstance(arg, Known) and arg.unresolved):
            break
        return arg
    return Unknown(_text(site), site)


def _toset(args: list[Value], site: Site) -> Value:
    """A set of strings is ordered lexically (as ``for`` walks it) and holds each string once; other sets are
    taken in the order written, as before."""
    if len(args) != 1 or isinstance(args[0], Unknown):
        return Unknown(_text(site), site)
    value = args[0]
    if isinstance(value, ListV):
        plain = [_exact(item) for item in value.items]
        if all(isinstance(p, str) for p in plain):
            unique = {str(p): item for p, item in zip(plain, value.items, strict=True)}
            return ListV(tuple(unique[k] for k in sorted(unique)))
    return value


_FUNCTIONS: dict[str, Handler] = {
    "merge": _merge,
    "concat": _concat,
    "yamlencode": _encode,
    "jsonencode": _encode,
    "yamldecode": _yamldecode,
    "file": lambda scope, args, site: _file(scope, args, site, template=False),
    "templatefile": lambda scope, args, site: _file(scope, args, site, template=True),
    "join": _join,
    "trimspace": _string_function(str.strip),
    "chomp": _string_function(lambda s: s.rstrip("\r\n")),
    "tostring": _identity,
    "tolist": _identity,
    "toset": lambda scope, args, site: _toset(args, site),
    "tomap": _identity,
    "try": _try,
    "lookup": _lookup,
    "coalesce": _coalesce,
}


def to_plain(value: Value) -> object:
    """Plain data for an encoding; an unknown leaf becomes the ``${...}`` text Terraform would put there.

    Returns the Unknown itself when the value as a whole is unknown.
    """
    if isinstance(value, Unknown):
        return value
    if isinstance(value, Known):
        return value.value
    if isinstance(value, ListV):
        return [_leaf(to_plain(item)) for item in value.items]
    if value.open is not None or value.maybe:
        return value.open or value.condition or Unknown("a map whose keys depend on a condition")
    return {e.key: _leaf(to_plain(e.value)) for e in value.entries}


def _leaf(plain: object) -> object:
    return "${" + plain.text + "}" if isinstance(plain, Unknown) else plain


_KEPT = re.compile(r"eksproxygen0kept(\d+)0")


def _json_source(plain: object) -> str:
    """JSON text of ``plain`` as template source: JSON's escapes everywhere except inside ``${...}``, which
    stays as written. Escaping the quotes of ``${var.x ? "a" : ""}`` as ``\\"`` would make the interpolation
    end elsewhere for every reader of template text, and the whole document unreadable."""
    kept: list[str] = []

    def protect(item: object) -> object:
        if isinstance(item, str):
            pieces, last = [], 0
            for start, end in template_text.interpolations(item):
                pieces += [item[last:start], f"eksproxygen0kept{len(kept)}0"]
                kept.append(item[start:end])
                last = end
            return "".join(pieces) + item[last:] if pieces else item
        if isinstance(item, list):
            return [protect(i) for i in item]
        if isinstance(item, dict):
            return {protect(k): protect(v) for k, v in item.items()}
        return item

    text = json.dumps(protect(plain), indent=2, ensure_ascii=False)
    return _KEPT.sub(lambda m: kept[int(m.group(1))], text) if kept else text


def as_text(value: Value | None) -> str | None:
    """A string value as Terraform would compute it from what is known, or None."""
    return value.value if isinstance(value, Known) and isinstance(value.value, str) else None
