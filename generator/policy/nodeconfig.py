"""NodeConfig documents (``application/node.eks.aws`` parts) read with a YAML parser.

The parts are Terraform templates: ``${...}`` interpolations are swapped for
placeholders before parsing and put back after, so they read as the strings
Terraform will render. A part with ``%{ }`` directives is not read at all:
which of its lines survive is Terraform's decision, not ours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from ..limits import MAX_ALIAS_NODES, MAX_NESTING
from . import template_text

KIND = "NodeConfig"
_PLACEHOLDER = "eksproxygen0interp{}0"
PLACEHOLDER = re.compile(r"eksproxygen0interp(\d+)0")

Environment = dict[str, dict[str, str]]

class YamlTooLarge(yaml.YAMLError):
    """A YAML document whose aliases expand past MAX_ALIAS_NODES, that nests past MAX_NESTING, or that holds
    itself; ``problem`` and ``problem_mark`` as PyYAML's own errors have them, so every caller reports it alike."""

    def __init__(self, problem: str, mark: yaml.Mark | None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = mark


def _measured(node: yaml.Node | None) -> yaml.Node | None:
    if node is not None:
        measure(node)
    return node


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing documents that would expand or recurse past the limits (see measure)."""

    def get_node(self) -> yaml.Node | None:
        return _measured(super().get_node())

    def get_single_node(self) -> yaml.Node | None:
        return _measured(super().get_single_node())


LOADER: type[yaml.SafeLoader | yaml.CSafeLoader] = _BoundedLoader

if hasattr(yaml, "CSafeLoader"):

    class _BoundedCLoader(yaml.CSafeLoader):
        """The same with libyaml's parser, several times faster: what eksproxy-gen uses when it is installed."""

        def get_node(self) -> yaml.Node | None:
            return _measured(super().get_node())

        def get_single_node(self) -> yaml.Node | None:
            return _measured(super().get_single_node())

    LOADER = _BoundedCLoader


def measure(root: yaml.Node) -> None:
    """Raise YamlTooLarge when a composed document, aliases expanded, nests or grows past the limits.

    Composing shares an alias's node, so it costs nothing; what expands is what
    comes after (building Python objects, walking the nodes), which is why
    every document is measured here, in the one loader, once composed. The
    walk is iterative, with a memo per node, so measuring a billion-laughs
    document costs as little as composing it: each node's (nodes it expands
    to, depth) is computed once, from its children's.
    """
    sizes: dict[int, tuple[int, int]] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            open_nodes.discard(key)
            size = 1 + sum(sizes[id(c)][0] for c in children)
            depth = 1 + max((sizes[id(c)][1] for c in children), default=0)
            sizes[key] = (size, depth)
            if depth > MAX_NESTING:
                raise YamlTooLarge(f"it nests more than {MAX_NESTING} levels deep", node.start_mark)
            if size - len(sizes) > MAX_ALIAS_NODES:
                raise YamlTooLarge(f"its aliases expand to more than {MAX_ALIAS_NODES:,} nodes (a YAML alias "
                                   "bomb?)", node.start_mark)
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise YamlTooLarge("an alias refers to a collection that holds it", node.start_mark)
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [item for pair in node.value for item in pair]
    return []


@dataclass(frozen=True)
class Documents:
    """The YAML documents of a part. ``error`` is a YAML syntax error; ``templated`` means it was not read."""

    items: tuple[object, ...] = ()
    error: str | None = None
    templated: bool = False


def _swap(text: str) -> tuple[str, list[str]]:
    pieces: list[str] = []
    swapped: list[str] = []
    last = 0
    for start, end in template_text.interpolations(text):
        pieces.append(text[last:start])
        pieces.append(_PLACEHOLDER.format(len(swapped)))
        swapped.append(text[start:end])
        last = end
    pieces.append(text[last:])
    return "".join(pieces), swapped


def swap_interpolations(text: str) -> str:
    """The text with each ``${...}`` replaced by a placeholder a YAML parser reads as a plain string."""
    return _swap(text)[0]


def templated(text: str) -> bool:
    """Whether a text holds ``%{ }`` directives (``%%{`` is an escaped, literal ``%{``): Terraform picks its lines."""
    return template_text.has_directives(text)


def read(text: str) -> Documents:
    if templated(text):
        return Documents(templated=True)
    try:
        return Documents(load_documents(text))
    except yaml.YAMLError as exc:
        return Documents(error=yaml_problem(exc))


def yaml_problem(exc: yaml.YAMLError) -> str:
    """What PyYAML says is wrong, in one line."""
    return str(getattr(exc, "problem", None) or str(exc).split("\n")[0])


def load_documents(text: str) -> tuple[object, ...]:
    """The YAML documents of a text whose ``${ }`` interpolations are kept as written; raises yaml.YAMLError."""
    swapped_text, swapped = _swap(text)
    docs = yaml.load_all(swapped_text, Loader=LOADER)
    return tuple(_restore(d, swapped) for d in docs if d is not None)


def _restore(node: object, swapped: list[str]) -> object:
    if isinstance(node, str):
        return PLACEHOLDER.sub(lambda m: swapped[int(m.group(1))], node)
    if isinstance(node, list):
        return [_restore(item, swapped) for item in node]
    if isinstance(node, dict):
        return {_restore(k, swapped): _restore(v, swapped) for k, v in node.items()}
    return node


def is_nodeconfig(doc: object) -> bool:
    return isinstance(doc, dict) and doc.get("kind", KIND) == KIND


def merged(documents: list[object]) -> dict[str, object]:
    """The one config nodeadm acts on: documents merged in order, maps key by key, the later value winning.

    Inside a map an empty string is a value like any other, so it replaces an
    earlier one; ``spec.kubelet.flags`` lists are joined, every other list and
    scalar is replaced whole (nodeadm's merge, measured with a real nodeadm).
    """
    result: dict[str, object] = {}
    for doc in documents:
        if isinstance(doc, dict):
            result = _merge_maps(result, doc, ())
    return result


_JOINED_LISTS = {("spec", "kubelet", "flags")}


def _merge_maps(base: dict[str, object], later: dict[object, object], path: tuple[str, ...]) -> dict[str, object]:
    out = dict(base)
    for key, value in later.items():
        name = str(key)
        here = (*path, name)
        earlier = out.get(name)
        if isinstance(value, dict):
            out[name] = _merge_maps(earlier if isinstance(earlier, dict) else {}, value, here)
        elif here in _JOINED_LISTS and isinstance(earlier, list) and isinstance(value, list):
            out[name] = [*earlier, *value]
        else:
            out[name] = value
    return out


def environment(docs: Documents) -> Environment:
    """``spec.instance.environment`` of the part's NodeConfig (nodeadm reads the first document of a part)."""
    env: Environment = {}
    for doc in docs.items[:1]:
        if not is_nodeconfig(doc):
            continue
        assert isinstance(doc, dict)
        spec = doc.get("spec")
        instance = spec.get("instance") if isinstance(spec, dict) else None
        units = instance.get("environment") if isinstance(instance, dict) else None
        if not isinstance(units, dict):
            continue
        for unit, values in units.items():
            if isinstance(values, dict):
                env.setdefault(str(unit), {}).update({str(k): _scalar(v) for k, v in values.items()})
    return env


def _scalar(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def holds_only(docs: Documents, keys: frozenset[str]) -> bool:
    """Every document is a NodeConfig whose only settings are ``spec.instance.environment`` entries in ``keys``."""
    if not docs.items:
        return False
    for doc in docs.items:
        if not isinstance(doc, dict) or not is_nodeconfig(doc) or set(doc) - {"apiVersion", "kind", "spec"}:
            return False
        spec = doc.get("spec") or {}
        if not isinstance(spec, dict) or set(spec) - {"instance"}:
            return False
        instance = spec.get("instance") or {}
        if not isinstance(instance, dict) or set(instance) - {"environment"}:
            return False
        units = instance.get("environment") or {}
        if not isinstance(units, dict):
            return False
        for values in units.values():
            if not isinstance(values, dict) or set(map(str, values)) - keys:
                return False
    return True
