"""Planned edits: which characters of a file to replace, for each node group being fixed.

Edits only ever touch the bytes of the node group they fix. Generated parts
are placed beside the user's parts in the layout the list already uses, so the
user's parts keep every byte and terraform fmt keeps agreeing with the result.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from . import render
from .hcl import Attribute, Block, Document, ObjectElem, ObjectExpr, TupleExpr
from .model import NodeGroup, plain
from .policy import nodeconfig
from .policy.facts import Part
from .policy.groups import part_from_plain
from .policy.scripts import read_script

ATTRIBUTE = "cloudinit_pre_nodeadm"


@dataclass(frozen=True)
class Edit:
    """Replace text[start:end] with ``text``."""

    start: int
    end: int
    text: str


class CannotEdit(Exception):
    """The group cannot be rewritten safely; the message says why and what to do."""


def line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def line_indent(text: str, pos: int) -> str:
    start = line_start(text, pos)
    end = start
    while end < len(text) and text[end] in " \t":
        end += 1
    return text[start:end]


def replaceable(part: Part) -> bool:
    """Generated parts, proxy shell scripts and NodeConfig parts that hold nothing but environment."""
    if part.generated:
        return True
    if part.content is None:
        return False
    if part.is_nodeconfig:
        docs = nodeconfig.documents(part.content)
        return bool(docs) and all(_environment_only(path) for doc in docs for path in doc)
    return part.is_shell and read_script(part.content).sets_proxy


def _environment_only(path: tuple[str, ...]) -> bool:
    return path in {("apiVersion",), ("kind",), ("spec",), ("spec", "instance")} or \
        path[:3] == ("spec", "instance", "environment")


def plan_group(doc: Document, group: NodeGroup, parts: list[render.RenderedPart]) -> list[Edit]:
    """Edits that give the group the generated parts, in the place where terraform-aws-eks reads them.

    A v20 group without its own list gets the parts through the defaults map
    when it inherits the defaults' list, or when no group of the map has a list
    of its own (one edit then serves every group); otherwise in its own object.
    """
    if group.block is not None:
        existing_attr = group.block.body.attribute(ATTRIBUTE)
        if existing_attr is None:
            return [_insert_into_block(doc, group.block, parts)]
        return _rewrite_list(doc, existing_attr, parts)
    if group.obj is None or group.key_elem is None:
        raise CannotEdit("the node group is not a literal object")
    existing = group.obj.get(ATTRIBUTE)
    if existing is not None:
        return _rewrite_list(doc, existing, parts)
    if group.defaults is not None and (group.facts.inherits_parts or not group.siblings_own_parts):
        defaults_obj = group.defaults.value
        assert isinstance(defaults_obj, ObjectExpr)
        in_defaults = defaults_obj.get(ATTRIBUTE)
        if in_defaults is not None:
            return _rewrite_list(doc, in_defaults, parts)
        return [_insert_attribute(doc, group.defaults.span.start, defaults_obj, parts)]
    if group.facts.inherits_parts:
        raise CannotEdit(f"the group inherits {ATTRIBUTE} from a defaults map that is not a literal object")
    return [_insert_attribute(doc, group.key_elem.span.start, group.obj, parts)]


def _rewrite_list(doc: Document, attr: ObjectElem | Attribute, parts: list[render.RenderedPart]) -> list[Edit]:
    tup = attr.value
    if not isinstance(tup, TupleExpr):
        raise CannotEdit(f"{ATTRIBUTE} is not a literal list")
    items = tup.items
    if not items:
        indent = line_indent(doc.text, attr.span.start)
        text = render.attribute(parts, indent)
        return [Edit(tup.span.start, tup.span.end, text[text.index("[") :])]
    if not all(isinstance(i, ObjectExpr) for i in items):
        raise CannotEdit(f"{ATTRIBUTE} holds elements that are not literal objects")
    to_replace = [k for k, item in enumerate(items)
                  if isinstance(item, ObjectExpr) and replaceable(part_from_plain(plain(doc, item)))]
    at = to_replace[0] if to_replace else 0
    last = all(k in to_replace for k in range(at, len(items))) if to_replace else False
    first = items[0]
    if doc.text[line_start(doc.text, first.span.start) : first.span.start].strip() == "":
        indent = line_indent(doc.text, first.span.start)
        sep = ",\n" + indent
        elements = [render.element(p, indent) for p in parts]
    else:
        indent = line_indent(doc.text, tup.span.start)
        sep = ", "
        elements = [render.element(p, indent, None if last and i == len(parts) - 1 else indent + "  ")
                    for i, p in enumerate(parts)]
    joined = sep.join(elements)
    if not to_replace:
        return [Edit(first.span.start, first.span.start, joined + sep)]
    edits = [Edit(items[at].span.start, items[at].span.end, joined)]
    for k in to_replace[1:]:
        edits.append(Edit(items[k - 1].span.end, items[k].span.end, ""))
    return edits


def _insert_into_block(doc: Document, block: Block, parts: list[render.RenderedPart]) -> Edit:
    text = doc.text
    spans = [a.span for a in block.body.attributes] + [b.span for b in block.body.blocks]
    if not spans:
        raise CannotEdit("the module block is empty")
    indent = line_indent(text, min(s.start for s in spans))
    newline = text.find("\n", max(s.end for s in spans))
    if not 0 <= newline < block.span.end - 1:
        raise CannotEdit("the module block is written on one line")
    return Edit(newline, newline, "\n\n" + indent + render.attribute(parts, indent))


def _insert_attribute(doc: Document, anchor: int, obj: ObjectExpr, parts: list[render.RenderedPart]) -> Edit:
    text = doc.text
    base = line_indent(text, anchor)
    inner = text[obj.span.start : obj.span.end]
    if not obj.elems:
        indent = base + "  "
        return Edit(obj.span.start, obj.span.end,
                    "{\n" + indent + render.attribute(parts, indent) + "\n" + base + "}")
    if "\n" not in inner:
        return _expand_one_line(doc, obj, base, parts)
    last = obj.elems[-1]
    first = obj.elems[0]
    first_own_line = text[line_start(text, first.span.start) : first.span.start].strip() == ""
    indent = line_indent(text, first.span.start) if first_own_line else base + "  "
    newline = text.find("\n", last.span.end)
    closing = obj.span.end - 1
    attribute = render.attribute(parts, indent)
    if 0 <= newline < closing:
        return Edit(newline, newline, "\n\n" + indent + attribute)
    return Edit(last.span.end, closing, "\n\n" + indent + attribute + "\n" + base)


def _expand_one_line(doc: Document, obj: ObjectExpr, base: str, parts: list[render.RenderedPart]) -> Edit:
    """``{ a = 1, b = 2 }`` becomes one element a line, aligned as terraform fmt aligns them."""
    indent = base + "  "
    keys = [doc.source(e.key_span) for e in obj.elems]
    width = max(len(k) for k in keys)
    lines = [f"{indent}{key.ljust(width)} = {doc.source(e.value.span)}"
             for key, e in zip(keys, obj.elems, strict=True)]
    body = "\n".join(lines) + "\n\n" + indent + render.attribute(parts, indent)
    return Edit(obj.span.start, obj.span.end, "{\n" + body + "\n" + base + "}")


def splice(text: str, edits: list[Edit]) -> str:
    """Apply non-overlapping edits from last to first."""
    ordered = sorted(edits, key=lambda e: (e.start, e.end), reverse=True)
    for later, earlier in itertools.pairwise(ordered):
        if earlier.end > later.start:
            raise CannotEdit("overlapping edits")
    for edit in ordered:
        text = text[: edit.start] + edit.text + text[edit.end :]
    return text
