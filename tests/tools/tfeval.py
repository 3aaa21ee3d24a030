"""A small symbolic evaluator for Terraform modules, for the module-version extractor.

To say what a release of terraform-aws-eks puts in a node's user data, the extractor runs the
release's own code: the root module's node-group call, the node-group submodule and its
``_user_data`` module, down to the launch template's ``user_data``. Terraform itself cannot do
that here (the code needs the AWS and cloudinit providers, which cannot be downloaded), so this
module evaluates the expressions the way Terraform would, lazily, for one node group whose
settings are given. Values a plan only learns from AWS (the cluster's endpoint, an AMI id) come
out as ``Unknown``; the user-data settings under study are ``Text`` made of named ``Input``
markers, so the result shows which of them end up where. Where the module's logic depends on an
unknown value, or uses a construct this evaluator does not model, it raises instead of guessing.
"""

from __future__ import annotations

import ipaddress
import json
import posixpath
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import hcl2
from hclexpr import (
    Binary,
    Call,
    Cond,
    Expr,
    For,
    GetAttr,
    If,
    Index,
    Lit,
    ObjectE,
    Splat,
    Template,
    TemplateFor,
    TupleE,
    Unary,
    Var,
    parse_template,
    parse_value,
    unquote,
)

# ----------------------------------------------------------------------------------------------
# Values
# ----------------------------------------------------------------------------------------------


class EvalError(Exception):
    """A dynamic error Terraform would raise (missing key, null where a value is needed); try() catches it."""


class HardError(Exception):
    """An error in a value Terraform evaluates on its own (a local, a module argument, a count, an output):
    it fails the plan, and a try() in an expression that refers to that value does not catch it."""


class Undecidable(Exception):
    """The module's logic branches on a value only known at apply time; the evaluator cannot follow it."""


class Unsupported(Exception):
    """A construct this evaluator does not model (a new function, a missing file); fix the evaluator."""


@dataclass(frozen=True)
class Unknown:
    """A value Terraform only learns during apply (an ARN, the cluster endpoint)."""


UNKNOWN = Unknown()


@dataclass(frozen=True)
class Input:
    """A user-data setting of the node group under study, standing for a non-empty string."""

    name: str


@dataclass(frozen=True)
class Mark:
    """Where a piece of text came from (a template file, a cloudinit_config data source)."""

    name: str


@dataclass(frozen=True)
class Text:
    """A string that holds inputs or unknown values, kept as its pieces."""

    parts: tuple[str | Input | Mark | Unknown, ...]

    def literal(self) -> str:
        return "".join(p for p in self.parts if isinstance(p, str))

    def nonempty(self) -> bool:
        return any(isinstance(p, Input) or (isinstance(p, str) and p) for p in self.parts)


@dataclass(frozen=True)
class Mime:
    """The rendered output of a ``cloudinit_config`` data source: its parts, in order."""

    source: str
    parts: tuple[tuple[object, object], ...]  # (content_type, content)


def text_of(pieces: Iterable[object]) -> str | Text | Unknown:
    """Join template pieces; plain text when every piece is known, else a Text."""
    flat: list[str | Input | Mark | Unknown] = []
    for piece in pieces:
        if isinstance(piece, Text):
            flat.extend(piece.parts)
        elif isinstance(piece, str | Input | Mark | Unknown):
            flat.append(piece)
        else:
            raise Unsupported(f"cannot join {piece!r} into text")
    if all(isinstance(p, str) for p in flat):
        return "".join(p for p in flat if isinstance(p, str))
    merged: list[str | Input | Mark | Unknown] = []
    for p in flat:
        if isinstance(p, str) and merged and isinstance(merged[-1], str):
            merged[-1] = merged[-1] + p
        elif not (isinstance(p, str) and not p):
            merged.append(p)
    return Text(tuple(merged))


# ----------------------------------------------------------------------------------------------
# Source trees and parsed modules
# ----------------------------------------------------------------------------------------------


class Tree:
    """The files of one release: ``read`` a path, ``files`` under a folder."""

    def __init__(self, paths: dict[str, str], reader: Callable[[str], str]) -> None:
        self.paths = paths  # path -> blob id
        self._reader = reader

    def read(self, path: str) -> str | None:
        blob = self.paths.get(path)
        return None if blob is None else self._reader(blob)

    def blob(self, path: str) -> str | None:
        return self.paths.get(path)

    def files(self, folder: str, suffix: str) -> list[str]:
        prefix = f"{folder}/" if folder else ""
        return sorted(p for p in self.paths if p.startswith(prefix) and "/" not in p[len(prefix):]
                      and p.endswith(suffix))


@dataclass
class Body:
    attrs: dict[str, object]
    blocks: list[tuple[str, tuple[str, ...], Body]]

    def block(self, kind: str) -> list[tuple[tuple[str, ...], Body]]:
        return [(labels, body) for k, labels, body in self.blocks if k == kind]


def _body(raw: dict[str, Any]) -> Body:
    attrs: dict[str, object] = {}
    blocks: list[tuple[str, tuple[str, ...], Body]] = []
    for key, value in raw.items():
        if key.startswith("__"):
            continue
        found = list(_blocks(value, ())) if isinstance(value, list) and value and all(
            isinstance(v, dict) for v in value) else []
        if found and all(b is not None for b in found):
            blocks.extend((unquote(key), labels, body) for labels, body in found)  # type: ignore[misc]
        else:
            attrs[unquote(key)] = value
    return Body(attrs, blocks)


def _blocks(items: list[Any], labels: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Body] | None]:
    for item in items:
        if not isinstance(item, dict):
            yield None
        elif item.get("__is_block__"):
            yield labels, _body(item)
        else:
            keys = [k for k in item if not k.startswith("__")]
            if len(keys) == 1 and isinstance(item[keys[0]], dict) and keys[0].startswith('"'):
                yield from _blocks([item[keys[0]]], (*labels, unquote(keys[0])))
            else:
                yield None


_PARSED: dict[str, dict[str, Any]] = {}


def parse_file(tree: Tree, path: str) -> dict[str, Any]:
    """A .tf file parsed by python-hcl2, cached by its blob (most files are the same in many releases)."""
    blob = tree.blob(path)
    if blob is None:
        raise Unsupported(f"{path} does not exist")
    if blob not in _PARSED:
        text = tree.read(path) or ""
        try:
            _PARSED[blob] = hcl2.loads(text)
        except Exception as err:  # python-hcl2 raises several types; any failure is fatal here
            raise Unsupported(f"python-hcl2 cannot parse {path}: {err}") from err
    return _PARSED[blob]


@dataclass
class Module:
    """The declarations of one Terraform module folder (shared by every release whose files are the same)."""

    folder: str
    variables: dict[str, Body] = field(default_factory=dict)
    locals: dict[str, object] = field(default_factory=dict)
    resources: dict[tuple[str, str], Body] = field(default_factory=dict)
    data: dict[tuple[str, str], Body] = field(default_factory=dict)
    modules: dict[str, Body] = field(default_factory=dict)
    outputs: dict[str, Body] = field(default_factory=dict)

    @classmethod
    def load(cls, tree: Tree, folder: str) -> Module:
        files = tree.files(folder, ".tf")
        key = (folder, tuple(tree.blob(p) or "" for p in files))
        cached = _MODULES.get(key)
        if cached is not None:
            return cached
        module = cls(folder)
        _MODULES[key] = module
        for path in tree.files(folder, ".tf"):
            doc = _body(parse_file(tree, path))
            for kind, labels, body in doc.blocks:
                if kind == "variable":
                    module.variables[labels[0]] = body
                elif kind == "locals":
                    module.locals.update(body.attrs)
                    for name, _, inner in body.blocks:  # python-hcl2 reads a local holding objects as a block
                        module.locals[name] = _object_value(inner)
                elif kind == "resource":
                    module.resources[(labels[0], labels[1])] = body
                elif kind == "data":
                    module.data[(labels[0], labels[1])] = body
                elif kind == "module":
                    module.modules[labels[0]] = body
                elif kind == "output":
                    module.outputs[labels[0]] = body
        return module


def _object_value(body: Body) -> dict[str, object]:
    value: dict[str, object] = dict(body.attrs)
    for name, _, inner in body.blocks:
        value[name] = _object_value(inner)
    return value


_MODULES: dict[tuple[str, tuple[str, ...]], Module] = {}
_EXPRS: dict[int, tuple[object, Expr]] = {}


def expr(raw: object) -> Expr:
    """The expression tree of a raw python-hcl2 value (cached: the same value is evaluated many times)."""
    hit = _EXPRS.get(id(raw))
    if hit is not None and hit[0] is raw:
        return hit[1]
    node = parse_value(raw)
    _EXPRS[id(raw)] = (raw, node)
    return node


# ----------------------------------------------------------------------------------------------
# Evaluation
# ----------------------------------------------------------------------------------------------

_META = {"source", "version", "for_each", "count", "providers", "depends_on"}
_TEMPLATES: dict[str, Template] = {}


class Instance:
    """A module instance: its folder's declarations and the arguments its caller gave it."""

    def __init__(self, module: Module, tree: Tree, args: dict[str, Callable[[], object]], label: str) -> None:
        self.module = module
        self.tree = tree
        self.args = args
        self.label = label
        self._vars: dict[str, object] = {}
        self._locals: dict[str, object] = {}
        self._children: dict[str, Instance] = {}
        self._busy: set[str] = set()

    def var(self, name: str) -> object:
        if name not in self._vars:
            try:
                self._vars[name] = self._variable(name)
            except EvalError as err:
                raise HardError(f"{self.label}: var.{name}: {err}") from err
        return self._vars[name]

    def _variable(self, name: str) -> object:
        decl = self.module.variables.get(name)
        if decl is None:
            raise Unsupported(f"{self.label}: var.{name} is not declared")
        default = evaluate(expr(decl.attrs["default"]), Scope(self)) if "default" in decl.attrs else None
        if name in self.args:
            value = self.args[name]()
            nullable = decl.attrs.get("nullable", True)
            if value is None and nullable is False:
                value = default
        elif "default" in decl.attrs:
            value = default
        else:
            raise EvalError("required and not given")
        if "type" in decl.attrs and value is not None:
            value = convert(value, expr(decl.attrs["type"]))
        return value

    def arguments(self) -> None:
        """Evaluate every argument the caller gives, as Terraform does whether or not the module reads it;
        an argument whose value depends on apply-time data is skipped."""
        for name in sorted(self.args):
            if name in self.module.variables:
                try:
                    self.var(name)
                except Undecidable:
                    continue

    def local(self, name: str) -> object:
        if name not in self._locals:
            if name not in self.module.locals:
                raise Unsupported(f"{self.label}: local.{name} is not declared")
            if name in self._busy:
                raise Unsupported(f"{self.label}: local.{name} refers to itself")
            self._busy.add(name)
            try:
                self._locals[name] = evaluate(expr(self.module.locals[name]), Scope(self))
            except EvalError as err:
                raise HardError(f"{self.label}: local.{name}: {err}") from err
            finally:
                self._busy.discard(name)
        return self._locals[name]

    def child(self, name: str, bindings: dict[str, object] | None = None) -> Instance:
        """The instance of ``module "name"`` called from here (one instance per bindings for for_each)."""
        key = name + json.dumps(_plain(bindings or {}), sort_keys=True, default=repr)
        if key not in self._children:
            block = self.module.modules.get(name)
            if block is None:
                raise Unsupported(f"{self.label}: module.{name} is not declared")
            source = block.attrs.get("source")
            folder = evaluate(expr(source), Scope(self))
            if not isinstance(folder, str) or not folder.startswith("."):
                raise Unsupported(f"{self.label}: module.{name} has a non-local source {folder!r}")
            path = posixpath.normpath(posixpath.join(self.module.folder or ".", folder))
            path = "" if path == "." else path
            scope = Scope(self, dict(bindings or {}))
            args = {k: _thunk(expr(v), scope) for k, v in block.attrs.items() if k not in _META}
            self._children[key] = Instance(Module.load(self.tree, path), self.tree, args,
                                           f"{self.label}.module.{name}")
        return self._children[key]

    def validations(self) -> list[str]:
        """The error messages of variable validations that fail (those that cannot be decided are skipped)."""
        failed = []
        for name, decl in sorted(self.module.variables.items()):
            for _, rule in decl.block("validation"):
                if name not in self.args:
                    continue
                try:
                    ok = evaluate(expr(rule.attrs["condition"]), Scope(self))
                except (Undecidable, EvalError):
                    continue
                if ok is False:
                    message = evaluate(expr(rule.attrs.get("error_message", '"invalid value"')), Scope(self))
                    failed.append(f"var.{name}: {message}")
        return failed


def _thunk(node: Expr, scope: Scope) -> Callable[[], object]:
    return lambda: evaluate(node, scope)


def _plain(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value if isinstance(value, str | int | float | bool) or value is None else repr(value)


@dataclass
class Scope:
    instance: Instance | None
    bindings: dict[str, object] = field(default_factory=dict)

    def bind(self, **names: object) -> Scope:
        return Scope(self.instance, {**self.bindings, **names})


@dataclass(frozen=True)
class _Namespace:
    kind: str
    scope: Scope
    path: tuple[str, ...] = ()


def evaluate(node: Expr, scope: Scope) -> object:
    if isinstance(node, Lit):
        return node.value
    if isinstance(node, Template):
        return _render(node, scope)
    if isinstance(node, Var):
        return _variable(node.name, scope)
    if isinstance(node, GetAttr):
        return _attribute(evaluate(node.obj, scope), node.name)
    if isinstance(node, Index):
        return _index(evaluate(node.obj, scope), evaluate(node.key, scope))
    if isinstance(node, Splat):
        base = evaluate(node.obj, scope)
        if isinstance(base, Unknown | _Namespace | BlockRef):
            return UNKNOWN
        items = base if isinstance(base, list) else [] if base is None else [base]
        splatted = []
        for item in items:
            for name in node.rest:
                item = _attribute(item, name)
            splatted.append(item)
        return splatted
    if isinstance(node, Call):
        return _call(node, scope)
    if isinstance(node, Unary):
        value = evaluate(node.operand, scope)
        if isinstance(value, Unknown):
            return UNKNOWN
        if node.op == "!":
            if not isinstance(value, bool):
                raise EvalError(f"! needs a bool, not {value!r}")
            return not value
        if not isinstance(value, int | float):
            raise EvalError(f"- needs a number, not {value!r}")
        return -value
    if isinstance(node, Binary):
        return _binary(node, scope)
    if isinstance(node, Cond):
        test = evaluate(node.test, scope)
        if not isinstance(test, bool):
            raise Undecidable(f"a condition is {test!r}")
        return evaluate(node.then if test else node.other, scope)
    if isinstance(node, TupleE):
        return [evaluate(item, scope) for item in node.items]
    if isinstance(node, ObjectE):
        out: dict[str, object] = {}
        for key_node, value_node in node.items:
            key = evaluate(key_node, scope)
            if not isinstance(key, str):
                raise Undecidable(f"an object key is {key!r}")
            out[key] = evaluate(value_node, scope)
        return out
    if isinstance(node, For):
        return _for(node, scope)
    raise Unsupported(f"cannot evaluate {node!r}")


def _variable(name: str, scope: Scope) -> object:
    if name in scope.bindings:
        return scope.bindings[name]
    if name in ("var", "local", "module", "data", "path", "terraform"):
        return _Namespace(name, scope)
    if scope.instance is None:
        raise EvalError(f"the template's variables have no {name!r}")
    return _Namespace("resource", scope, (name,))


def _attribute(base: object, name: str) -> object:
    if isinstance(base, _Namespace):
        return _namespace_attribute(base, name)
    if isinstance(base, _ModuleRef):
        return base.output(name)
    if isinstance(base, BlockInstance):
        return block_attribute(base, name)
    if isinstance(base, BlockRef):
        return UNKNOWN if base.mode == "resource" else block_attribute(base, name)
    if isinstance(base, Unknown):
        return UNKNOWN
    if isinstance(base, dict):
        if name not in base:
            raise EvalError(f"no attribute {name!r}")
        return base[name]
    if base is None:
        raise EvalError(f"attribute {name!r} of null")
    raise EvalError(f"attribute {name!r} of {type(base).__name__}")


def _namespace_attribute(ns: _Namespace, name: str) -> object:
    instance = ns.scope.instance
    if instance is None:
        raise Unsupported(f"{ns.kind}.{name} in a template")
    if ns.kind == "var":
        return instance.var(name)
    if ns.kind == "local":
        return instance.local(name)
    if ns.kind == "path":
        return instance.module.folder or "." if name == "module" else UNKNOWN
    if ns.kind == "terraform":
        return "default"
    if ns.kind == "module":
        if name not in instance.module.modules:
            raise Unsupported(f"{instance.label}: module.{name} is not declared")
        return _ModuleRef(instance, name)
    if ns.kind == "data" and not ns.path:
        return _Namespace("data", ns.scope, (name,))
    if ns.kind == "data":
        key = (ns.path[0], name)
        if key not in instance.module.data:
            raise Unsupported(f"{instance.label}: data.{key[0]}.{name} is not declared")
        return BlockRef(instance, "data", key)
    if ns.kind == "resource" and len(ns.path) == 1:
        return BlockRef(instance, "resource", (ns.path[0], name))
    raise Unsupported(f"{ns.kind}.{'.'.join((*ns.path, name))}")


@dataclass(frozen=True)
class _ModuleRef:
    instance: Instance
    name: str

    def output(self, name: str) -> object:
        child = self.instance.child(self.name)
        block = child.module.outputs.get(name)
        if block is None:
            raise Unsupported(f"{child.label}: output {name} is not declared")
        try:
            return evaluate(expr(block.attrs["value"]), Scope(child))
        except EvalError as err:
            raise HardError(f"{child.label}: output {name}: {err}") from err


@dataclass(frozen=True)
class BlockRef:
    instance: Instance
    mode: str
    key: tuple[str, str]


@dataclass(frozen=True)
class BlockInstance:
    ref: BlockRef
    bindings: tuple[tuple[str, object], ...]


def _index(base: object, key: object) -> object:
    if isinstance(base, BlockRef):
        if base.mode == "resource" or base.key[0] != "cloudinit_config":
            return UNKNOWN  # a resource's attributes are only known after apply
        return _block_instance(base, key)
    if isinstance(base, Unknown) or isinstance(key, Unknown):
        return UNKNOWN
    if isinstance(base, list):
        if not isinstance(key, int) or isinstance(key, bool):
            raise EvalError(f"a list index is {key!r}")
        if not 0 <= key < len(base):
            raise EvalError(f"index {key} out of range")
        return base[key]
    if isinstance(base, dict):
        if isinstance(key, Text):
            raise Undecidable(f"a map key is {key!r}")
        if not isinstance(key, str):
            raise EvalError(f"a map key is {key!r}")
        if key not in base:
            raise EvalError(f"no key {key!r}")
        return base[key]
    if isinstance(base, _Namespace | _ModuleRef):
        raise Unsupported(f"cannot index {base!r}")
    raise EvalError(f"cannot index {type(base).__name__}")


def _block_instance(ref: BlockRef, key: object) -> object:
    body = (ref.instance.module.data if ref.mode == "data" else ref.instance.module.resources)[ref.key]
    scope = Scope(ref.instance)
    if "count" in body.attrs:
        count = _meta(ref, body, "count", scope)
        if not isinstance(count, int) or isinstance(count, bool):
            raise Undecidable(f"{ref.key} count is {count!r}")
        if not isinstance(key, int) or not 0 <= key < count:
            raise EvalError(f"{ref.mode} {'.'.join(ref.key)}[{key!r}] does not exist (count = {count})")
        return BlockInstance(ref, (("count", {"index": key}),))
    if "for_each" in body.attrs:
        each = _meta(ref, body, "for_each", scope)
        if not isinstance(each, dict):
            raise Undecidable(f"{ref.key} for_each is {each!r}")
        if key not in each:
            raise EvalError(f"{ref.mode} {'.'.join(ref.key)}[{key!r}] does not exist")
        return BlockInstance(ref, (("each", {"key": key, "value": each[key]}),))
    raise EvalError(f"{'.'.join(ref.key)} has no count or for_each")


def _meta(ref: BlockRef, body: Body, name: str, scope: Scope) -> object:
    """A block's count or for_each: evaluated on its own, so its errors fail the plan."""
    try:
        return evaluate(expr(body.attrs[name]), scope)
    except EvalError as err:
        raise HardError(f"{ref.instance.label}: {ref.mode} {'.'.join(ref.key)} {name}: {err}") from err


def block_attribute(block: BlockInstance | BlockRef, name: str) -> object:
    """An attribute of a resource or data source instance; only cloudinit_config's rendered output is computed."""
    ref = block.ref if isinstance(block, BlockInstance) else block
    body = (ref.instance.module.data if ref.mode == "data" else ref.instance.module.resources)[ref.key]
    bindings = dict(block.bindings) if isinstance(block, BlockInstance) else {}
    scope = Scope(ref.instance, bindings)
    if ref.mode == "data" and ref.key[0] == "cloudinit_config" and name == "rendered":
        return _cloudinit(ref, body, scope)
    if ref.mode == "resource" and name in body.attrs and name.startswith("user_data"):
        return evaluate(expr(body.attrs[name]), scope)
    return UNKNOWN


def _cloudinit(ref: BlockRef, body: Body, scope: Scope) -> Mime:
    parts: list[tuple[object, object]] = []
    for kind, labels, inner in body.blocks:
        if kind == "part":
            parts.append(_part(inner, scope))
        elif kind == "dynamic" and labels == ("part",):
            iterator = inner.attrs.get("iterator")
            name = "part" if iterator is None else str(evaluate(expr(iterator), scope))
            collection = evaluate(expr(inner.attrs["for_each"]), scope)
            items = _items(collection)
            for _, content in inner.block("content"):
                for key, value in items:
                    parts.append(_part(content, scope.bind(**{name: {"key": key, "value": value}})))
    return Mime(f"data.cloudinit_config.{ref.key[1]}", tuple(parts))


def _part(body: Body, scope: Scope) -> tuple[object, object]:
    content_type = evaluate(expr(body.attrs["content_type"]), scope) if "content_type" in body.attrs else None
    return content_type, evaluate(expr(body.attrs["content"]), scope)


def _items(collection: object) -> list[tuple[object, object]]:
    if isinstance(collection, dict):
        return sorted(collection.items(), key=lambda kv: _sort_key(kv[0]))
    if isinstance(collection, list):
        return list(enumerate(collection))
    if isinstance(collection, Unknown):
        raise Undecidable("a for_each collection is unknown")
    raise EvalError(f"cannot iterate {collection!r}")


def _sort_key(key: object) -> tuple[int, object]:
    return (0, key) if isinstance(key, int) else (1, str(key))


def _binary(node: Binary, scope: Scope) -> object:
    if node.op in ("&&", "||"):
        left = evaluate(node.left, scope)
        decisive = node.op == "||"
        if left is decisive:
            return decisive
        right = evaluate(node.right, scope)
        if right is decisive:
            return decisive
        if isinstance(left, Unknown) or isinstance(right, Unknown):
            return UNKNOWN
        if not isinstance(left, bool) or not isinstance(right, bool):
            raise EvalError(f"{node.op} needs bools, not {left!r} and {right!r}")
        return right
    left = evaluate(node.left, scope)
    right = evaluate(node.right, scope)
    if node.op in ("==", "!="):
        same = _equal(left, right)
        if isinstance(same, Unknown):
            return UNKNOWN
        return same if node.op == "==" else not same
    if isinstance(left, Unknown) or isinstance(right, Unknown):
        return UNKNOWN
    if not isinstance(left, int | float) or not isinstance(right, int | float):
        raise EvalError(f"{node.op} needs numbers, not {left!r} and {right!r}")
    ops: dict[str, Callable[[float, float], object]] = {
        "<": lambda a, b: a < b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b,
        "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b,
        "%": lambda a, b: a % b,
    }
    return ops[node.op](left, right)


def _equal(left: object, right: object) -> bool | Unknown:
    if isinstance(left, Unknown) or isinstance(right, Unknown):
        return UNKNOWN
    for a, b in ((left, right), (right, left)):
        if isinstance(a, Text | Mime):
            if b == "" or b is None:
                return not (isinstance(a, Mime) or a.nonempty()) and b == ""
            if isinstance(b, str):
                raise Undecidable(f"comparing an input with {b!r}")
            return a == b
    return left == right


def _for(node: For, scope: Scope) -> object:
    collection = evaluate(node.collection, scope)
    if isinstance(collection, Unknown):
        return UNKNOWN
    out_list: list[object] = []
    out_map: dict[str, object] = {}
    for key, value in _items(collection):
        names = {node.value_var: value}
        if node.key_var:
            names[node.key_var] = key
        inner = scope.bind(**names)
        if node.condition is not None:
            keep = evaluate(node.condition, inner)
            if not isinstance(keep, bool):
                raise Undecidable(f"a for filter is {keep!r}")
            if not keep:
                continue
        if node.key is None:
            out_list.append(evaluate(node.value, inner))
        else:
            k = evaluate(node.key, inner)
            if not isinstance(k, str | int):
                raise Undecidable(f"a for key is {k!r}")
            out_map[str(k)] = evaluate(node.value, inner)
    return out_list if node.key is None else out_map


def _render(template: Template, scope: Scope) -> object:
    pieces: list[object] = []
    for part in template.parts:
        if isinstance(part, str):
            pieces.append(part)
        elif isinstance(part, If):
            test = evaluate(part.test, scope)
            if not isinstance(test, bool):
                raise Undecidable(f"a template condition is {test!r}")
            pieces.append(_render(part.then if test else part.other, scope))
        elif isinstance(part, TemplateFor):
            for key, value in _items(evaluate(part.collection, scope)):
                names = {part.value_var: value, **({part.key_var: key} if part.key_var else {})}
                pieces.append(_render(part.body, scope.bind(**names)))
        else:
            value = evaluate(part, scope)
            if value is None:
                raise EvalError("a template interpolates null")
            if isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, int | float):
                value = str(value)
            if not isinstance(value, str | Text | Unknown):
                raise EvalError(f"a template interpolates {type(value).__name__}")
            pieces.append(value)
    return text_of(pieces)


# ----------------------------------------------------------------------------------------------
# Functions
# ----------------------------------------------------------------------------------------------


def _call(node: Call, scope: Scope) -> object:
    name = node.name
    if name == "try":
        for arg in node.args:
            try:
                return evaluate(arg, scope)
            except EvalError:
                continue
        raise EvalError("no try() argument could be evaluated")
    if name == "can":
        try:
            evaluate(node.args[0], scope)
        except EvalError:
            return False
        return True
    args = [evaluate(a, scope) for a in node.args]
    if node.expand:
        *head, last = args
        if not isinstance(last, list):
            raise Undecidable("an expanded argument is not a list")
        args = [*head, *last]
    if name == "templatefile":
        return _templatefile(args, scope)
    function = _FUNCTIONS.get(name)
    if function is None:
        raise Unsupported(f"function {name}() is not modelled")
    if name not in _UNKNOWN_AWARE and any(isinstance(a, Unknown) for a in args):
        return UNKNOWN
    return function(*args)


def _templatefile(args: list[object], scope: Scope) -> object:
    path, variables = args
    if not isinstance(path, str) or not isinstance(variables, dict):
        raise Undecidable(f"templatefile({path!r}, ...)")
    path = posixpath.normpath(path)
    instance = scope.instance
    if instance is None:
        raise Unsupported("templatefile in a template")
    blob = instance.tree.blob(path)
    if blob is None:
        raise EvalError(f"template {path} does not exist")
    if blob not in _TEMPLATES:
        _TEMPLATES[blob] = parse_template(instance.tree.read(path) or "")
    rendered = _render(_TEMPLATES[blob], Scope(None, dict(variables)))
    return text_of([Mark(f"template {posixpath.basename(path)}"), rendered])


def _coalesce(*args: object) -> object:
    for arg in args:
        if isinstance(arg, Unknown):
            return UNKNOWN
        if arg is not None and arg != "":
            return arg
    raise EvalError("coalesce() found no non-empty value")


def _coalescelist(*args: object) -> object:
    for arg in args:
        if isinstance(arg, Unknown):
            return UNKNOWN
        if isinstance(arg, list) and arg:
            return arg
    raise EvalError("coalescelist() found no non-empty list")


def _length(value: object) -> object:
    if isinstance(value, str | list | dict):
        return len(value)
    if isinstance(value, Text):
        # an input stands for a non-empty string of unknown length: long enough for any "> n" test
        return len(value.literal()) + 1000 * sum(isinstance(p, Input) for p in value.parts)
    raise EvalError(f"length() of {value!r}")


def _concat(*lists: object) -> object:
    out: list[object] = []
    for item in lists:
        if not isinstance(item, list):
            raise EvalError(f"concat() of {item!r}")
        out.extend(item)
    return out


def _merge(*maps: object) -> object:
    out: dict[str, object] = {}
    for item in maps:
        if item is None:
            continue
        if not isinstance(item, dict):
            raise EvalError(f"merge() of {item!r}")
        out.update(item)
    return out


def _lookup(mapping: object, key: object, *default: object) -> object:
    if not isinstance(mapping, dict):
        raise EvalError(f"lookup() in {mapping!r}")
    if not isinstance(key, str):
        raise Undecidable(f"lookup() key {key!r}")
    if key in mapping:
        return mapping[key]
    if default:
        return default[0]
    raise EvalError(f"lookup() found no {key!r}")


def _startswith(value: object, prefix: object) -> object:
    if isinstance(value, str) and isinstance(prefix, str):
        return value.startswith(prefix)
    raise EvalError(f"startswith({value!r}, {prefix!r})")


def _join(separator: object, items: object) -> object:
    if not isinstance(separator, str) or not isinstance(items, list):
        raise EvalError("join() arguments")
    pieces: list[object] = []
    for i, item in enumerate(items):
        if i:
            pieces.append(separator)
        pieces.append(item)
    return text_of(pieces)


def _cidrhost(prefix: object, number: object) -> object:
    if not isinstance(prefix, str) or not isinstance(number, int):
        raise EvalError("cidrhost() arguments")
    try:
        network = ipaddress.ip_network(prefix, strict=False)
    except ValueError as err:
        raise EvalError(f"cidrhost(): {err}") from err
    return str(network[number])


def _flatten(items: object) -> object:
    if not isinstance(items, list):
        raise EvalError("flatten() of a non-list")
    out: list[object] = []
    for item in items:
        if isinstance(item, list):
            inner = _flatten(item)
            assert isinstance(inner, list)
            out.extend(inner)
        else:
            out.append(item)
    return out


def _formatlist(spec: object, *lists: object) -> object:
    if not isinstance(spec, str) or not all(isinstance(x, list) for x in lists):
        raise EvalError("formatlist() arguments")
    columns = [x for x in lists if isinstance(x, list)]
    return [text_of(_format_pieces(spec, tuple(row))) for row in zip(*columns, strict=True)]


def _element(items: object, index: object) -> object:
    if not isinstance(items, list) or not isinstance(index, int) or not items:
        raise EvalError("element() arguments")
    return items[index % len(items)]


def _identity(value: object, *_: object) -> object:
    return value


def _range(*bounds: object) -> object:
    numbers = [b for b in bounds if isinstance(b, int)]
    if len(numbers) != len(bounds):
        raise EvalError("range() arguments")
    return list(range(*numbers))


def _compact(items: object) -> object:
    if not isinstance(items, list):
        raise EvalError("compact() of a non-list")
    return [i for i in items if i is not None and i != ""]


def _contains(items: object, value: object) -> object:
    if not isinstance(items, list):
        raise EvalError("contains() of a non-list")
    return value in items


def _keys(mapping: object) -> object:
    if not isinstance(mapping, dict):
        raise EvalError("keys() of a non-map")
    return sorted(mapping)


def _values(mapping: object) -> object:
    if not isinstance(mapping, dict):
        raise EvalError("values() of a non-map")
    return [mapping[k] for k in sorted(mapping)]


def _distinct(items: object) -> object:
    if not isinstance(items, list):
        raise EvalError("distinct() of a non-list")
    out: list[object] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def _one(items: object) -> object:
    if not isinstance(items, list) or len(items) > 1:
        raise EvalError("one() of more than one element")
    return items[0] if items else None


def _format(spec: object, *args: object) -> object:
    if not isinstance(spec, str):
        raise EvalError("format() spec")
    return text_of(_format_pieces(spec, args))


def _format_pieces(spec: str, args: tuple[object, ...]) -> list[object]:
    pieces: list[object] = []
    rest = list(args)
    chunks = spec.split("%")
    pieces.append(chunks[0])
    for chunk in chunks[1:]:
        if not chunk or chunk[0] not in "sdv":
            raise Unsupported(f"format() verb in {spec!r}")
        value = rest.pop(0)
        pieces.append(str(value) if isinstance(value, int | float) else value)
        pieces.append(chunk[1:])
    return pieces


def _replace(value: object, old: object, new: object) -> object:
    if not all(isinstance(x, str) for x in (value, old, new)):
        raise Undecidable("replace() of an input")
    assert isinstance(value, str) and isinstance(old, str) and isinstance(new, str)
    if old.startswith("/") and old.endswith("/"):
        raise Unsupported("replace() with a regular expression")
    return value.replace(old, new)


def _trim(value: object, *_: object) -> object:
    if isinstance(value, str):
        return value.strip()
    raise Undecidable("trim of an input")


def _encode(value: object) -> object:
    try:
        return json.dumps(value, sort_keys=True)
    except TypeError:
        return UNKNOWN


_FUNCTIONS: dict[str, Callable[..., object]] = {
    "coalesce": _coalesce, "coalescelist": _coalescelist, "length": _length, "concat": _concat, "merge": _merge,
    "lookup": _lookup, "startswith": _startswith, "join": _join, "cidrhost": _cidrhost, "flatten": _flatten,
    "formatlist": _formatlist, "element": _element, "range": _range, "compact": _compact, "contains": _contains,
    "keys": _keys, "values": _values, "distinct": _distinct, "one": _one, "format": _format, "replace": _replace,
    "trimspace": _trim, "base64encode": _identity, "base64decode": _identity, "base64gzip": _identity,
    "tostring": _identity, "tolist": _identity, "tomap": _identity, "toset": _identity, "tonumber": _identity,
    "tobool": _identity, "nonsensitive": _identity, "sensitive": _identity, "jsonencode": _encode,
    "yamlencode": _encode, "lower": lambda v: v.lower() if isinstance(v, str) else UNKNOWN,
    "upper": lambda v: v.upper() if isinstance(v, str) else UNKNOWN,
}
# functions that decide themselves what an unknown argument means
_UNKNOWN_AWARE = {"coalesce", "coalescelist"}


# ----------------------------------------------------------------------------------------------
# Type conversion (what Terraform does to a value passed into a typed variable)
# ----------------------------------------------------------------------------------------------


def convert(value: object, type_node: Expr) -> object:
    """Apply a variable's type: objects keep only their declared attributes, missing optional ones are null
    (or the optional default); maps and lists convert their elements. Other types pass unchanged."""
    if isinstance(value, Unknown) or value is None:
        return value
    if isinstance(type_node, Call) and type_node.name in ("map", "list", "set") and type_node.args:
        element = type_node.args[0]
        if isinstance(value, dict) and type_node.name == "map":
            return {k: convert(v, element) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v, element) for v in value]
        return value
    if isinstance(type_node, Call) and type_node.name == "object" and isinstance(value, dict):
        spec = type_node.args[0]
        if not isinstance(spec, ObjectE):
            raise Unsupported(f"object type {spec!r}")
        out: dict[str, object] = {}
        for key_node, attr_type in spec.items:
            key = key_node.value if isinstance(key_node, Lit) else None
            if not isinstance(key, str):
                raise Unsupported(f"object attribute {key_node!r}")
            optional = isinstance(attr_type, Call) and attr_type.name == "optional"
            inner = attr_type.args[0] if isinstance(attr_type, Call) and optional else attr_type
            if key in value and value[key] is not None:
                out[key] = convert(value[key], inner)
            elif optional and isinstance(attr_type, Call) and len(attr_type.args) > 1:
                out[key] = convert(evaluate(attr_type.args[1], Scope(None)), inner)
            elif optional or key in value:
                out[key] = None
            else:
                raise EvalError(f"attribute {key!r} is required")
        return out
    return value


def object_attributes(type_node: Expr) -> dict[str, object] | None:
    """The attributes of ``map(object({...}))`` (name -> {"optional", "default"}), or None for other types."""
    if not (isinstance(type_node, Call) and type_node.name == "map" and type_node.args):
        return None
    inner = type_node.args[0]
    if not (isinstance(inner, Call) and inner.name == "object" and inner.args and isinstance(inner.args[0], ObjectE)):
        return None
    out: dict[str, object] = {}
    for key_node, attr_type in inner.args[0].items:
        name = key_node.value if isinstance(key_node, Lit) else None
        if not isinstance(name, str):
            raise Unsupported(f"object attribute {key_node!r}")
        optional = isinstance(attr_type, Call) and attr_type.name == "optional"
        entry: dict[str, object] = {"optional": optional}
        if isinstance(attr_type, Call) and optional and len(attr_type.args) > 1:
            entry["default"] = evaluate(attr_type.args[1], Scope(None))
        out[name] = entry
    return out
