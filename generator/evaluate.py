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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .fsguard import Refused
from .hcl import (
    Block,
    Call,
    Conditional,
    Document,
    Expr,
    HeredocExpr,
    Literal,
    ObjectElem,
    ObjectExpr,
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
    """A value fully known: a string (interpolations that cannot be resolved stay as ``${...}``), number, bool, null."""

    value: str | int | float | bool | None
    site: Site | FileSite | None = None
    written: str | None = None

    @property
    def text(self) -> str | None:
        """A string as written, escapes resolved but references kept: what the node would see, before Terraform."""
        if self.written is not None:
            return self.written
        return self.value if isinstance(self.value, str) else None


@dataclass(frozen=True)
class Unknown:
    """A value only Terraform can compute; ``text`` is the expression that hides it, on one line."""

    text: str
    site: Site | None = None


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
class Definition:
    """A named piece of syntax of the folder: a ``locals`` attribute, a module or resource block."""

    path: Path
    doc: Document
    expr: Expr | None = None
    block: Block | None = None


# Outputs of common modules whose value is one of their literal arguments: module.vpc.vpc_cidr_block is the
# vpc module's ``cidr``. Anything not listed stays unknown.
_MODULE_OUTPUTS = {
    "vpc": {"vpc_cidr_block": "cidr", "vpc_secondary_cidr_blocks": "secondary_cidr_blocks"},
}
_VPC_SOURCE = re.compile(r"(?:^|/)terraform-aws-modules/vpc/aws(?://.*)?$|terraform-aws-vpc(?:\.git)?(?:\?.*)?$")
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
    _cache: dict[str, Value] = field(default_factory=dict)
    _resolving: set[str] = field(default_factory=set)
    _completed: set[tuple[str, ...]] = field(default_factory=set)

    def add_document(self, path: Path, doc: Document) -> None:
        for block in doc.body.blocks:
            if block.type == "locals":
                for attr in block.body.attributes:
                    self.locals.setdefault(attr.name, Definition(path, doc, expr=attr.value))
            elif block.type == "module" and block.labels:
                self.modules.setdefault(block.labels[0], Definition(path, doc, block=block))
            elif block.type == "resource" and len(block.labels) == 2:
                self.resources.setdefault((block.labels[0], block.labels[1]), Definition(path, doc, block=block))

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
            if expr.value is not None:
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
        return Unknown(_text(site), site)

    def _conditional(self, expr: Conditional, site: Site) -> Value:
        """A known condition picks a branch; an unknown one between two maps gives the keys they agree on,
        and the others as keys that exist only under the condition (``cond ? {...} : {}`` in a merge)."""
        condition = self.value(expr.condition, site.path, site.doc)
        then = self.value(expr.then, site.path, site.doc)
        otherwise = self.value(expr.otherwise, site.path, site.doc)
        if isinstance(condition, Known) and isinstance(condition.value, bool):
            return then if condition.value else otherwise
        if not (isinstance(then, MapV) and isinstance(otherwise, MapV)) or then.open or otherwise.open:
            return Unknown(_text(site), site)
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
            if key is None:
                return MapV(tuple(entries), (site,), Unknown(_text(site), site), written=site)
            entries.append(Entry(key, self.value(elem.value, site.path, site.doc), elem, site.path, site.doc))
        return MapV(tuple(entries), (site,), written=site)

    def traverse(self, root: str, steps: tuple[str | int | None, ...]) -> Value:
        """A reference such as ``local.x.y``, ``module.vpc.vpc_cidr_block`` or ``path.module``."""
        shown = root + "".join(f".{s}" if isinstance(s, str) else f"[{s}]" if s is not None else "[…]"
                               for s in steps)
        if not steps or steps[0] is None or not isinstance(steps[0], str):
            return Unknown(shown)
        first, rest = steps[0], steps[1:]
        base: Value
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
        return base if not isinstance(base, Unknown) else Unknown(shown, base.site)

    def _module_output(self, name: str, output: str | int | None) -> Value:
        if name not in self.modules:
            self._complete("module", name)
        definition = self.modules.get(name)
        if definition is None or definition.block is None or not isinstance(output, str):
            return Unknown(f"module.{name}")
        block = definition.block
        if block.body.attribute("count") or block.body.attribute("for_each"):
            return Unknown(f"module.{name}.{output}")
        source = block.body.attribute("source")
        source_text = source.value.value if source and isinstance(source.value, StringExpr) else None
        for kind, outputs in _MODULE_OUTPUTS.items():
            if kind == "vpc" and source_text and _VPC_SOURCE.search(source_text) and output in outputs:
                attr = block.body.attribute(outputs[output])
                if attr is not None:
                    return self.value(attr.value, definition.path, definition.doc)
        return Unknown(f"module.{name}.{output}")

    def _resource_attribute(self, kind: str, name: str, attribute: str | int | None) -> Value:
        """``aws_vpc.main.cidr_block`` is the resource's literal ``cidr_block`` argument, when written."""
        if (kind, name) not in self.resources:
            self._complete("resource", kind, name)
        definition = self.resources.get((kind, name))
        shown = f"{kind}.{name}" + (f".{attribute}" if isinstance(attribute, str) else "")
        if definition is None or definition.block is None or not isinstance(attribute, str):
            return Unknown(shown)
        block = definition.block
        if block.body.attribute("count") or block.body.attribute("for_each"):
            return Unknown(shown)
        attr = block.body.attribute(attribute)
        if attr is None:
            return Unknown(shown)
        value = self.value(attr.value, definition.path, definition.doc)
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
        for piece in template_text.pieces(raw):
            if piece.kind is Kind.TEXT:
                text = unescape(piece.text) if quoted else piece.text
                value.append(text)
                written.append(text)
            elif piece.kind is Kind.ESCAPE:
                value.append(piece.text[1:])
                written.append(piece.text)
            else:
                value.append(piece.text if piece.kind is Kind.DIRECTIVE or opaque else self._interpolated(piece.text))
                written.append(piece.text)
        return Known("".join(value), site, "".join(written))

    def _interpolated(self, text: str) -> str:
        inner = text[2:-1].strip().strip("~").strip()
        if not _REFERENCE.match(inner):
            return text
        head = re.match(r"[A-Za-z_][\w-]*", inner)
        assert head is not None
        steps: list[str | int | None] = []
        for match in _STEP.finditer(inner[head.end():]):
            attr, index, key = match.groups()
            steps.append(attr if attr is not None else int(index) if index is not None else key)
        value = self.traverse(head.group(0), tuple(steps))
        if isinstance(value, Known) and isinstance(value.value, bool):
            return "true" if value.value else "false"
        if isinstance(value, Known) and isinstance(value.value, (str, int, float)):
            return str(value.value)
        return text


def _text(site: Site) -> str:
    """The expression as written, on one line."""
    return one_line(site.doc.source(site.expr.span))


def _located(value: Value, site: Site) -> Value:
    """A value reached through a reference keeps its own site; an unknown one names the reference."""
    if isinstance(value, Unknown):
        return Unknown(value.text if value.text else _text(site), site)
    return value


def _index(base: Value, step: str | int | None) -> Value:
    if isinstance(base, MapV) and isinstance(step, str):
        found = base.get(step)
        return found if found is not None else Unknown(step)
    if isinstance(base, ListV) and isinstance(step, int) and 0 <= step < len(base.items):
        return base.items[step]
    if isinstance(base, Unknown):
        return base
    return Unknown(str(step))


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
    return Known(json.dumps(plain, indent=2, ensure_ascii=False), site)


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
        return Unknown(_refused(f"{'templatefile' if template else 'file'}() reads", written, exc.short), site)
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
            return Known(args[0].value.join(items), site)
    return Unknown(_text(site), site)


def _string_function(op: Callable[[str], str]) -> Handler:
    def handler(_scope: Scope, args: list[Value], site: Site) -> Value:
        if len(args) == 1 and isinstance(args[0], Known) and isinstance(args[0].value, str):
            return Known(op(args[0].value), site)
        return Unknown(_text(site), site)
    return handler


def _identity(_scope: Scope, args: list[Value], site: Site) -> Value:
    return args[0] if len(args) == 1 and not isinstance(args[0], Unknown) else Unknown(_text(site), site)


_FUNCTIONS: dict[str, Handler] = {
    "merge": _merge,
    "concat": _concat,
    "yamlencode": _encode,
    "jsonencode": _encode,
    "file": lambda scope, args, site: _file(scope, args, site, template=False),
    "templatefile": lambda scope, args, site: _file(scope, args, site, template=True),
    "join": _join,
    "trimspace": _string_function(str.strip),
    "chomp": _string_function(lambda s: s.rstrip("\r\n")),
    "tostring": _identity,
    "tolist": _identity,
    "toset": _identity,
    "tomap": _identity,
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


def as_text(value: Value | None) -> str | None:
    """A string value as Terraform would compute it from what is known, or None."""
    return value.value if isinstance(value, Known) and isinstance(value.value, str) else None
