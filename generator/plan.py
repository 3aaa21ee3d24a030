"""Planned edits: which characters of a file to replace, for each node group being fixed.

Edits only ever touch the bytes of the node group they fix. Generated parts
are placed beside the user's parts in the layout the list already uses, so the
user's parts keep every byte and terraform fmt keeps agreeing with the result.
"""

from __future__ import annotations

from collections.abc import Callable

from . import render
from .edits import CannotEdit, Edit, line_indent, line_start, realign_around
from .hcl import Attribute, Block, Document, Expr, HeredocExpr, ObjectElem, ObjectExpr, TupleExpr
from .merge import merge_marked_block, merge_network_table
from .model import ModuleCall, NodeGroup, plain
from .policy import nodeconfig
from .policy.evaluate import ami_family
from .policy.facts import GENERATED_MARKER, Part
from .policy.groups import part_from_plain
from .policy.scripts import read_script
from .policy.settings import Settings

ATTRIBUTE = "cloudinit_pre_nodeadm"
AL2_BEGIN = f"# >>> {GENERATED_MARKER}"
AL2_END = f"# <<< {GENERATED_MARKER}"


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
    """Edits that give an AL2023 group the generated parts, where terraform-aws-eks reads them.

    A v20 group without its own list gets the parts through the defaults map
    when it inherits the defaults' list, or when no group of the map has a list
    of its own (one edit then serves every group); otherwise in its own object.
    """
    def attribute(indent: str) -> str:
        return render.attribute(parts, indent)

    if group.block is not None:
        existing_attr = group.block.body.attribute(ATTRIBUTE)
        if existing_attr is None:
            return [_insert_into_block(doc, group.block, attribute)]
        return _rewrite_list(doc, existing_attr, parts)
    obj, key_elem = _literal_group(group)
    existing = obj.get(ATTRIBUTE)
    if existing is not None:
        return _rewrite_list(doc, existing, parts)
    if group.defaults is not None and (group.facts.inherits_parts or not group.siblings_own_parts):
        defaults_obj = group.defaults.value
        assert isinstance(defaults_obj, ObjectExpr)
        in_defaults = defaults_obj.get(ATTRIBUTE)
        if in_defaults is not None:
            return _rewrite_list(doc, in_defaults, parts)
        return [_insert_attribute(doc, group.defaults.span.start, defaults_obj, attribute)]
    if group.facts.inherits_parts:
        raise CannotEdit(f"the group inherits {ATTRIBUTE} from a defaults map that is not a literal object")
    return [_insert_attribute(doc, key_elem.span.start, obj, attribute)]


def _literal_group(group: NodeGroup) -> tuple[ObjectExpr, ObjectElem]:
    if group.obj is None or group.key_elem is None:
        raise CannotEdit("the node group is not a literal object")
    return group.obj, group.key_elem


def plan_text_attribute(doc: Document, group: NodeGroup, name: str,
                        merge: Callable[[list[str]], list[str]], fresh: str) -> list[Edit]:
    """Edits for a heredoc setting (``pre_bootstrap_user_data``, ``bootstrap_extra_args``) of a group.

    ``merge`` turns the heredoc's body lines into the new ones; ``fresh`` is the
    body when the setting is absent.
    """
    def attribute(indent: str) -> str:
        return render.heredoc_attribute(name, fresh, indent)

    if group.block is not None:
        existing_attr = group.block.body.attribute(name)
        if existing_attr is None:
            return [_insert_into_block(doc, group.block, attribute)]
        return [_merge_heredoc(doc, existing_attr.value, name, merge)]
    obj, key_elem = _literal_group(group)
    existing = obj.get(name)
    if existing is not None:
        return [_merge_heredoc(doc, existing.value, name, merge)]
    if group.defaults is not None and isinstance(group.defaults.value, ObjectExpr) and \
            group.defaults.value.get(name) is not None:
        raise CannotEdit(f"the group inherits {name} from the defaults map; add the proxy there by hand")
    return [_insert_attribute(doc, key_elem.span.start, obj, attribute)]


def _merge_heredoc(doc: Document, value: Expr, name: str, merge: Callable[[list[str]], list[str]]) -> Edit:
    if not isinstance(value, HeredocExpr):
        raise CannotEdit(f"{name} is not a heredoc (<<-EOT); rewrite it as one so eksproxy-gen can merge into it")
    source = doc.source(value.span)
    opener, _, rest = source.partition("\n")
    closing = rest[rest.rfind("\n") + 1 :] if "\n" in rest else rest
    lines = value.body.split("\n")[:-1] if value.body else []
    new_lines = merge(lines)
    if new_lines == lines:
        return Edit(value.span.start, value.span.start, "")
    body = "".join(line + "\n" for line in new_lines)
    return Edit(value.span.start, value.span.end, f"{opener}\n{body}{closing}")


def _rewrite_list(doc: Document, attr: ObjectElem | Attribute, parts: list[render.RenderedPart]) -> list[Edit]:
    tup = attr.value
    if not isinstance(tup, TupleExpr):
        raise CannotEdit(f"{ATTRIBUTE} is not a literal list")
    items = tup.items
    if not items:
        indent = line_indent(doc.text, attr.span.start)
        text = render.attribute(parts, indent)
        edits = [Edit(tup.span.start, tup.span.end, text[text.index("[") :])]
        if "\n" not in doc.source(tup.span):
            edits += realign_around(doc.text, line_start(doc.text, attr.span.start))
        return edits
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


def _insert_into_block(doc: Document, block: Block, attribute: Callable[[str], str]) -> Edit:
    text = doc.text
    spans = [a.span for a in block.body.attributes] + [b.span for b in block.body.blocks]
    if not spans:
        raise CannotEdit("the module block is empty")
    indent = line_indent(text, min(s.start for s in spans))
    newline = text.find("\n", max(s.end for s in spans))
    if not 0 <= newline < block.span.end - 1:
        raise CannotEdit("the module block is written on one line")
    return Edit(newline, newline, "\n\n" + indent + attribute(indent))


def _insert_attribute(doc: Document, anchor: int, obj: ObjectExpr, attribute_text: Callable[[str], str]) -> Edit:
    text = doc.text
    base = line_indent(text, anchor)
    inner = text[obj.span.start : obj.span.end]
    if not obj.elems:
        indent = base + "  "
        return Edit(obj.span.start, obj.span.end, "{\n" + indent + attribute_text(indent) + "\n" + base + "}")
    if "\n" not in inner:
        return _expand_one_line(doc, obj, base, attribute_text)
    last = obj.elems[-1]
    first = obj.elems[0]
    first_own_line = text[line_start(text, first.span.start) : first.span.start].strip() == ""
    indent = line_indent(text, first.span.start) if first_own_line else base + "  "
    newline = text.find("\n", last.span.end)
    closing = obj.span.end - 1
    attribute = attribute_text(indent)
    if 0 <= newline < closing:
        return Edit(newline, newline, "\n\n" + indent + attribute)
    return Edit(last.span.end, closing, "\n\n" + indent + attribute + "\n" + base)


def _expand_one_line(doc: Document, obj: ObjectExpr, base: str, attribute_text: Callable[[str], str]) -> Edit:
    """``{ a = 1, b = 2 }`` becomes one element a line, aligned as terraform fmt aligns them."""
    indent = base + "  "
    keys = [doc.source(e.key_span) for e in obj.elems]
    width = max(len(k) for k in keys)
    lines = [f"{indent}{key.ljust(width)} = {doc.source(e.value.span)}"
             for key, e in zip(keys, obj.elems, strict=True)]
    body = "\n".join(lines) + "\n\n" + indent + attribute_text(indent)
    return Edit(obj.span.start, obj.span.end, "{\n" + body + "\n" + base + "}")


def plan_fix(doc: Document, module: ModuleCall, group: NodeGroup, settings: Settings) -> list[Edit]:
    """The edits that give one flagged group a working proxy, by AMI family."""
    family = ami_family(group.facts, module.facts.major)
    if family == "AL2023":
        return plan_group(doc, group, render.al2023_parts(module.facts, settings))
    if family == "AL2":
        block = render.al2_block(module.facts, settings)
        return plan_text_attribute(doc, group, "pre_bootstrap_user_data",
                                   merge_marked_block(block, AL2_BEGIN, AL2_END), "#!/bin/bash\n" + block)
    if family == "BOTTLEROCKET":
        keys = render.bottlerocket_keys(module.facts, settings)
        return plan_text_attribute(doc, group, "bootstrap_extra_args", merge_network_table(keys),
                                   "[settings.network]\n" + keys)
    raise CannotEdit(f"eksproxy-gen does not write proxy settings for {family} node groups")
