"""Planned edits: which characters of which files to replace so that one flagged node group gets the proxy.

Edits touch only the syntax the group's settings are made of, wherever it is
written: the group's object, a ``local`` in another file, the v20 defaults map,
or a template read with ``file()``. Generated parts are placed in the layout
the list already uses, so every byte of the user's own parts is kept and
terraform fmt keeps agreeing with the result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import render
from .edits import CannotEdit, Edit, line_indent, line_start
from .evaluate import FileSite, Known, ListV, MapV, Site
from .hcl import Block, Document, HeredocExpr, ObjectExpr, TupleExpr
from .merge import merge_marked_block, merge_network_table, merged_text
from .model import PARTS, ModuleCall, NodeGroup
from .policy import nodeconfig
from .policy.expected import Carry, carry_over
from .policy.facts import GENERATED_MARKER, ModuleFacts, Part
from .policy.family import ami_family
from .policy.judge import current_no_proxy
from .policy.scripts import PROXY_VARS, proxy_cut, read_script
from .policy.settings import Settings
from .policy.values import split_no_proxy

AL2_BEGIN = f"# >>> {GENERATED_MARKER}"
AL2_END = f"# <<< {GENERATED_MARKER}"
_PROXY_KEYS = frozenset(PROXY_VARS)

# Which generated piece resolves which rule, per AMI family.
NODECONFIG, DNF, AL2_BLOCK, NETWORK = "nodeconfig", "dnf", "al2 block", "network"
_AL2023_COMPONENTS = {"EKSP001": NODECONFIG, "EKSP002": NODECONFIG, "EKSP003": NODECONFIG, "EKSP004": NODECONFIG,
                      "EKSP005": NODECONFIG, "EKSP006": NODECONFIG, "EKSP007": NODECONFIG, "EKSP011": NODECONFIG,
                      "EKSP014": NODECONFIG, "EKSP013": DNF}


def components(family: str, rules: set[str], wants: Callable[[str], bool]) -> frozenset[str]:
    """The generated pieces a group needs for its flagged ``rules``; ``wants`` says which rules may be fixed."""
    if family == "AL2":
        return frozenset({AL2_BLOCK})
    if family == "BOTTLEROCKET":
        return frozenset({NETWORK})
    found = {_AL2023_COMPONENTS[r] for r in rules if r in _AL2023_COMPONENTS}
    if "EKSP001" in rules and wants("EKSP013"):
        found.add(DNF)
    return frozenset(found)


@dataclass(frozen=True)
class FileEdit:
    """An edit of one file. A ``realign`` edit changes nothing itself: it marks the start of a line that
    becomes a multi-line value, whose neighbours are re-aligned once every edit of the file is made."""

    path: Path
    edit: Edit
    realign: bool = False


def realign_at(path: Path, text: str, pos: int) -> FileEdit:
    return FileEdit(path, Edit(line_start(text, pos), line_start(text, pos), ""), realign=True)


@dataclass(frozen=True)
class Plan:
    """The edits for one group; ``notes`` say what the user should know; ``left_message`` what it left in place."""

    edits: tuple[FileEdit, ...]
    notes: tuple[str, ...] = ()
    left_message: str = ""

    @property
    def leaves(self) -> frozenset[str]:
        """The rules it knowingly leaves: proxy lines it could not cut stay harmful lines of a shell part."""
        return frozenset({"EKSP014"}) if self.left_message else frozenset()


@dataclass
class Context:
    """What planning one group needs beyond the group: its module, settings and neighbours."""

    module: ModuleCall
    settings: Settings
    wanted: frozenset[str]
    display: Callable[[Path], str]
    text_of: Callable[[Path], str]
    shared_ok: Callable[[NodeGroup, str], bool] = lambda _group, _setting: False
    notes: list[str] = field(default_factory=list)


def plan_group(ctx: Context, group: NodeGroup) -> Plan:
    """The edits that give one flagged group a working proxy, by AMI family."""
    family = ami_family(ctx.module.facts, group.facts).name
    if family == "AL2023":
        return _al2023(ctx, group)
    if family == "AL2":
        carry = carry_over(current_no_proxy(group.facts), ctx.module.facts, ctx.settings)
        extra = carried(ctx.settings, ctx.notes, carry)
        block = render.al2_block(ctx.module.facts, ctx.settings, extra)
        edits = _text_setting(ctx, group, "pre_bootstrap_user_data", merge_marked_block(block, AL2_BEGIN, AL2_END),
                              "#!/bin/bash\n" + block)
        return Plan(edits, tuple(ctx.notes))
    if family == "BOTTLEROCKET":
        keys = render.bottlerocket_keys(ctx.module.facts, ctx.settings)
        edits = _text_setting(ctx, group, "bootstrap_extra_args", merge_network_table(keys),
                              "[settings.network]\n" + keys)
        return Plan(edits, tuple(ctx.notes))
    raise CannotEdit(f"eksproxy-gen does not write proxy settings for {family or 'an unknown AMI family'}")


# --- AL2023: the parts list ---------------------------------------------------------------------------------------

@dataclass
class Layout:
    """What becomes of the current parts: which go, which are cut, where the generated ones go."""

    remove: set[int] = field(default_factory=set)
    cuts: dict[int, str] = field(default_factory=dict)
    insert_at: int = 0
    units: list[str] = field(default_factory=list)
    carried: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    keep_dnf: bool = False


def _al2023(ctx: Context, group: NodeGroup) -> Plan:
    parts = group.facts.parts
    if not isinstance(parts, tuple):
        raise CannotEdit(f"{PARTS} cannot be read")
    layout = plan_layout(parts, ctx.wanted, ctx.module.facts, ctx.settings, ctx.notes)
    generated: list[render.RenderedPart] = []
    if NODECONFIG in ctx.wanted or any(p.generated and p.is_nodeconfig for p in parts):
        generated.append(render.nodeconfig_part(ctx.module.facts, ctx.settings, tuple(layout.carried),
                                                tuple(layout.units)))
    if DNF in ctx.wanted or layout.keep_dnf:
        generated.append(render.dnf_part(ctx.settings))
    value, inherited = group.setting(PARTS)
    if value is None or (isinstance(value, Known) and value.value is None):
        edits = _insert_parts(ctx, group, generated)
    elif isinstance(value, ListV) and value.site is not None and isinstance(value.site.expr, TupleExpr):
        if inherited and not ctx.shared_ok(group, PARTS):
            edits = _own_copy(ctx, group, value, layout, generated)
        else:
            edits = _list_edits(value.site, value, layout, generated)
            edits += _cut_edits(ctx, value, layout)
    else:
        raise CannotEdit(f"{PARTS} is built by an expression; add the parts printed by `eksproxy-gen render` "
                         "where it is defined")
    return Plan(tuple(edits), tuple(ctx.notes), "; ".join(layout.left))


def plan_layout(parts: tuple[Part, ...], wanted: frozenset[str], module: ModuleFacts, settings: Settings,
                notes: list[str]) -> Layout:
    """What becomes of each current part when the ``wanted`` pieces are generated; ``notes`` gets what to tell."""
    layout = Layout()
    touch_proxy = NODECONFIG in wanted
    replaced_at: list[int] = []
    after: int = 0
    old_no_proxy: list[str] = []
    for index, part in enumerate(parts):
        text = part.text or ""
        if part.generated:
            if part.is_nodeconfig or touch_proxy or DNF in wanted:
                layout.remove.add(index)
                replaced_at.append(index)
                layout.keep_dnf |= part.is_shell
            continue
        if not touch_proxy:
            continue
        if part.is_nodeconfig:
            docs = nodeconfig.read(text)
            units = nodeconfig.environment(docs)
            if nodeconfig.holds_only(docs, _PROXY_KEYS):
                layout.remove.add(index)
                replaced_at.append(index)
                old_no_proxy += _no_proxy_of(units)
            elif any(var in values for values in units.values() for var in PROXY_VARS):
                after = index + 1
                layout.units += [u for u, values in units.items()
                                 if u != "default" and u not in layout.units and any(v in values for v in PROXY_VARS)]
        elif part.is_shell or part.content_type is None:
            facts = read_script(text)
            if not (facts.sets_proxy or facts.overwrites_etc_environment or facts.dropin_units):
                continue
            cut = proxy_cut(text)
            env = facts.env
            if cut.whole:
                layout.remove.add(index)
                replaced_at.append(index)
                old_no_proxy += split_no_proxy(env.get("NO_PROXY", env.get("no_proxy", "")))
            elif cut.kept is not None:
                layout.cuts[index] = cut.kept
                old_no_proxy += split_no_proxy(env.get("NO_PROXY", env.get("no_proxy", "")))
                notes.append(f"proxy lines cut from a shell part ({_lines(part, cut.removable)}); "
                                 "its other commands are kept")
            elif cut.removable:
                why = f" because {cut.reason}" if cut.reason else ""
                layout.left.append(f"a shell part also does other work and its proxy lines cannot be cut out "
                                   f"exactly{why}: remove {_lines(part, cut.removable)} by hand")
    layout.insert_at = max(min(replaced_at) if replaced_at else 0, after)
    if touch_proxy:
        carry = carry_over(list(dict.fromkeys(old_no_proxy)), module, settings)
        layout.carried = list(carried(settings, notes, carry))
    return layout


def _no_proxy_of(env: dict[str, dict[str, str]]) -> list[str]:
    found: list[str] = []
    for values in env.values():
        found += split_no_proxy(values.get("NO_PROXY", values.get("no_proxy", "")))
    return found


def _lines(part: Part, indexes: tuple[int, ...]) -> str:
    """Lines of a part as ``file:N-M``, or as line numbers inside the part when it has no file position."""
    spans: list[tuple[int, int]] = []
    for index in indexes:
        if spans and spans[-1][1] == index - 1:
            spans[-1] = (spans[-1][0], index)
        else:
            spans.append((index, index))
    if part.origin is None:
        shown = ", ".join(f"{a + 1}" if a == b else f"{a + 1}-{b + 1}" for a, b in spans)
        return f"lines {shown} of the part"
    origin = part.origin
    shown = ", ".join(f"{origin.line(a)}" if a == b else f"{origin.line(a)}-{origin.line(b)}" for a, b in spans)
    return f"{origin.file} lines {shown}"


def carried(settings: Settings, notes: list[str], carry: Carry) -> tuple[str, ...]:
    """NO_PROXY entries of the replaced configuration that go on in the generated one; refuse to lose any."""
    if carry.unknowable and not settings.vpc_cidrs:
        raise CannotEdit(f"the proxy set-up being replaced fills NO_PROXY entries at boot "
                         f"({', '.join(carry.unknowable[:3])}), which generated settings cannot; set vpc_cidrs "
                         "(and no_proxy) in .eksproxy-gen.toml to say what they are, then run fix again")
    if carry.unknowable:
        notes.append(f"NO_PROXY entries filled at boot ({', '.join(carry.unknowable[:3])}) are replaced by the "
                         "configured vpc_cidrs")
    if carry.dropped:
        notes.append(f"NO_PROXY entries no longer written: {', '.join(carry.dropped)} (add them to no_proxy in "
                         ".eksproxy-gen.toml to keep them)")
    if carry.kept:
        notes.append(f"NO_PROXY entries kept from the replaced set-up: {', '.join(carry.kept)}")
    return carry.kept


def _cut_edits(ctx: Context, value: ListV, layout: Layout) -> list[FileEdit]:
    """Rewrite the heredoc of each shell part whose proxy lines are cut; everything else in it stays."""
    edits: list[FileEdit] = []
    for index, kept in layout.cuts.items():
        item = value.items[index]
        content = item.get("content") if isinstance(item, MapV) else None
        if not isinstance(content, Known):
            raise CannotEdit("a shell part to cut is not written where eksproxy-gen can edit it")
        edits.append(_replace_text(ctx, content, kept))
    return edits


def _replace_text(ctx: Context, value: Known, text: str) -> FileEdit:
    """Replace a text value where it is written: a heredoc body, or the whole file a file() call reads."""
    site = value.site
    if isinstance(site, FileSite):
        original = ctx.text_of(site.path)
        ctx.notes.append(f"edited {ctx.display(site.path)}, the file the shell part is read from")
        return FileEdit(site.path, Edit(0, len(original), text))
    if isinstance(site, Site) and isinstance(site.expr, HeredocExpr) and site.expr.trim:
        doc, expr = site.doc, site.expr
        source = doc.source(expr.span)
        opener, _, rest = source.partition("\n")
        closing = rest[rest.rfind("\n") + 1 :] if "\n" in rest else rest
        indent = _body_indent(expr.body)
        body = "".join((indent + line if line else "") + "\n" for line in text.rstrip("\n").split("\n"))
        return FileEdit(site.path, Edit(expr.span.start, expr.span.end, f"{opener}\n{body}{closing}"))
    raise CannotEdit("the shell part is not a <<- heredoc or a file; cut its proxy lines by hand")


def _body_indent(body: str) -> str:
    widths = [line[: len(line) - len(line.lstrip(" \t"))] for line in body.split("\n") if line.strip()]
    return min(widths, key=len) if widths else ""


def _elements(doc: Document, tup: TupleExpr, generated: list[render.RenderedPart],
              followed: bool) -> tuple[str, str]:
    """The generated elements' text in the list's layout, and the separator between elements."""
    first = tup.items[0]
    if doc.text[line_start(doc.text, first.span.start) : first.span.start].strip() == "":
        indent = line_indent(doc.text, first.span.start)
        sep = ",\n" + indent
        return sep.join(render.element(p, indent) for p in generated), sep
    indent = line_indent(doc.text, tup.span.start)
    texts = [render.element(p, indent, None if not followed and i == len(generated) - 1 else indent + "  ")
             for i, p in enumerate(generated)]
    return ", ".join(texts), ", "


def _list_edits(site: Site, value: ListV, layout: Layout, generated: list[render.RenderedPart]) -> list[FileEdit]:
    doc, tup = site.doc, site.expr
    assert isinstance(tup, TupleExpr)
    items = tup.items
    assert len(items) == len(value.items), "a literal list's value has one item per element"
    if not items:
        if not generated:
            return []
        attr_start = line_start(doc.text, tup.span.start)
        indent = line_indent(doc.text, tup.span.start)
        text = render.attribute(generated, indent)
        fresh = [FileEdit(site.path, Edit(tup.span.start, tup.span.end, text[text.index("[") :]))]
        if "\n" not in doc.source(tup.span):
            fresh.append(realign_at(site.path, doc.text, attr_start))
        return fresh
    at = layout.insert_at
    remaining = [k for k in range(len(items)) if k not in layout.remove]
    if not remaining and not generated:
        return [FileEdit(site.path, Edit(tup.span.start, tup.span.end, "[]"))]
    followed = any(k >= at for k in remaining)
    edits: list[Edit] = []
    if generated:
        joined, sep = _elements(doc, tup, generated, followed)
        if at in layout.remove:
            edits.append(Edit(items[at].span.start, items[at].span.end, joined))
        elif at < len(items):
            edits.append(Edit(items[at].span.start, items[at].span.start, joined + sep))
        else:
            edits.append(Edit(items[-1].span.end, items[-1].span.end, sep + joined))
    for k in sorted(layout.remove):
        if generated and k == at:
            continue
        if k > 0:
            edits.append(Edit(items[k - 1].span.end, items[k].span.end, ""))
        elif len(items) > 1:
            edits.append(Edit(items[0].span.start, items[1].span.start, ""))
        else:
            edits.append(Edit(items[0].span.start, items[0].span.end, ""))
    last_kept = remaining[-1] if remaining else -1
    generated_last = bool(generated) and at > last_kept
    edits += _closing_indents(doc, tup, remaining, last_kept if not generated_last else None)
    return [FileEdit(site.path, e) for e in edits]


def _closing_indents(doc: Document, tup: TupleExpr, kept: list[int], last: int | None) -> list[Edit]:
    """``[{ … }, { … }]`` layout: terraform fmt indents a ``}`` one level deeper when ``, {`` follows it.

    An element that becomes the last, or stops being the last, has its closing
    brace moved to match.
    """
    items = tup.items
    first = items[0]
    if doc.text[line_start(doc.text, first.span.start) : first.span.start].strip() == "":
        return []
    base = line_indent(doc.text, tup.span.start)
    edits: list[Edit] = []
    for k in kept:
        followed_now = k != last
        followed_before = k != len(items) - 1
        if followed_now == followed_before:
            continue
        closing = items[k].span.end - 1
        start = line_start(doc.text, closing)
        if doc.text[start:closing].strip():
            continue
        wanted = base + "  " if followed_now else base
        if doc.text[start:closing] != wanted:
            edits.append(Edit(start, closing, wanted))
    return edits


def _own_copy(ctx: Context, group: NodeGroup, inherited: ListV, layout: Layout,
              generated: list[render.RenderedPart]) -> list[FileEdit]:
    """A group that inherits its parts gets its own list: the generated parts and the inherited parts it keeps."""
    site = inherited.site
    assert site is not None and isinstance(site.expr, TupleExpr)
    kept: list[str] = []
    for index, expr in enumerate(site.expr.items):
        if index in layout.remove:
            continue
        if index in layout.cuts:
            raise CannotEdit(f"the group inherits {PARTS} from the defaults map and a part there needs its proxy "
                             "lines cut; cut them there by hand")
        kept.append(_reindented(site.doc, expr.span.start, expr.span.end))
    at = min(layout.insert_at, len(kept))
    own = [render.element(p, "") for p in generated]
    elements = kept[:at] + own + kept[at:]
    ctx.notes.append(f"{group.facts.name} gets its own {PARTS}, carrying the parts it inherited from the defaults map")
    return _insert_attribute_text(ctx, group, PARTS, lambda indent: render.list_attribute(PARTS, elements, indent))


def _reindented(doc: Document, start: int, end: int) -> str:
    """An element's text with its continuation lines made relative to the element's first line."""
    text = doc.text[start:end]
    base = line_indent(doc.text, start)
    if "<<EOT" in text or ("<<" in text and "<<-" not in text):
        raise CannotEdit("an inherited part uses a <<EOT heredoc whose text would change if moved; copy it by hand")
    lines = text.split("\n")
    return "\n".join([lines[0]] + [ln[len(base):] if ln.startswith(base) else ln.lstrip() for ln in lines[1:]])


def _insert_parts(ctx: Context, group: NodeGroup, generated: list[render.RenderedPart]) -> list[FileEdit]:
    if not generated:
        return []
    return _insert_attribute_text(ctx, group, PARTS, lambda indent: render.attribute(generated, indent))


def _insert_attribute_text(ctx: Context, group: NodeGroup, setting: str,
                           attribute: Callable[[str], str]) -> list[FileEdit]:
    """Add ``name = …`` to where the group's own settings are written (or the defaults map, when shared)."""
    if group.block is not None:
        return [FileEdit(ctx.module.path, _insert_into_block(ctx.module.doc, group.block, attribute))]
    defaults = group.defaults
    if isinstance(defaults, MapV) and defaults.site is not None and ctx.shared_ok(group, setting):
        site = defaults.site
        assert isinstance(site.expr, ObjectExpr)
        ctx.notes.append("the parts go into the defaults map, which every group of the module inherits")
        return _insert_attribute(site, attribute)
    if group.value is None or not group.value.objects:
        raise CannotEdit("the node group is not written as a literal object")
    site = group.value.objects[-1]
    if site.path != group.home:
        ctx.notes.append(f"edited {ctx.display(site.path)}:{site.line}, where the group's settings are written")
    return _insert_attribute(site, attribute)


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


def _insert_attribute(site: Site, attribute_text: Callable[[str], str]) -> list[FileEdit]:
    doc, obj = site.doc, site.expr
    assert isinstance(obj, ObjectExpr)
    text = doc.text
    base = line_indent(text, obj.span.start)
    inner = text[obj.span.start : obj.span.end]
    if not obj.elems:
        indent = base + "  "
        edit = Edit(obj.span.start, obj.span.end, "{\n" + indent + attribute_text(indent) + "\n" + base + "}")
        edits = [FileEdit(site.path, edit)]
        return edits + ([realign_at(site.path, text, obj.span.start)] if "\n" not in inner else [])
    if "\n" not in inner:
        return [FileEdit(site.path, _expand_one_line(doc, obj, base, attribute_text)),
                realign_at(site.path, text, obj.span.start)]
    last = obj.elems[-1]
    first = obj.elems[0]
    first_own_line = text[line_start(text, first.span.start) : first.span.start].strip() == ""
    indent = line_indent(text, first.span.start) if first_own_line else base + "  "
    newline = text.find("\n", last.span.end)
    closing = obj.span.end - 1
    attribute = attribute_text(indent)
    if 0 <= newline < closing:
        return [FileEdit(site.path, Edit(newline, newline, "\n\n" + indent + attribute))]
    return [FileEdit(site.path, Edit(last.span.end, closing, "\n\n" + indent + attribute + "\n" + base))]


def _expand_one_line(doc: Document, obj: ObjectExpr, base: str, attribute_text: Callable[[str], str]) -> Edit:
    """``{ a = 1, b = 2 }`` becomes one element a line, aligned as terraform fmt aligns them."""
    indent = base + "  "
    keys = [doc.source(e.key_span) for e in obj.elems]
    width = max(len(k) for k in keys)
    lines = [f"{indent}{key.ljust(width)} = {doc.source(e.value.span)}"
             for key, e in zip(keys, obj.elems, strict=True)]
    body = "\n".join(lines) + "\n\n" + indent + attribute_text(indent)
    return Edit(obj.span.start, obj.span.end, "{\n" + body + "\n" + base + "}")


# --- AL2 and Bottlerocket: a heredoc setting ------------------------------------------------------------------------

def _text_setting(ctx: Context, group: NodeGroup, name: str, merge: Callable[[list[str]], list[str]],
                  fresh: str) -> tuple[FileEdit, ...]:
    """Edits for a heredoc setting (``pre_bootstrap_user_data``, ``bootstrap_extra_args``) of a group.

    ``merge`` turns the existing text's lines into the new ones; ``fresh`` is the
    text when the setting is absent.
    """
    value, inherited = group.setting(name)
    if value is None or (isinstance(value, Known) and value.value is None):
        edits = _insert_attribute_text(ctx, group, name,
                                       lambda indent: render.heredoc_attribute(name, fresh, indent))
        return tuple(edits)
    if inherited and not ctx.shared_ok(group, name):
        raise CannotEdit(f"the group inherits {name} from the defaults map, which other groups share; add the "
                         "proxy there by hand")
    if not isinstance(value, Known) or value.text is None:
        raise CannotEdit(f"{name} cannot be read")
    return (_merge_text(ctx, value, name, merge),)


def _merge_text(ctx: Context, value: Known, name: str, merge: Callable[[list[str]], list[str]]) -> FileEdit:
    site = value.site
    if isinstance(site, FileSite):
        original = ctx.text_of(site.path)
        text = merged_text(original, merge)
        if site.template and "${" in text.replace(original, ""):
            raise CannotEdit(f"{ctx.display(site.path)} is a template and the settings are Terraform references")
        ctx.notes.append(f"edited {ctx.display(site.path)}, the file {name} is read from")
        return FileEdit(site.path, Edit(0, len(original), text))
    if not isinstance(site, Site) or not isinstance(site.expr, HeredocExpr):
        raise CannotEdit(f"{name} is not a heredoc (<<-EOT); rewrite it as one so eksproxy-gen can merge into it")
    doc, expr = site.doc, site.expr
    source = doc.source(expr.span)
    opener, _, rest = source.partition("\n")
    closing = rest[rest.rfind("\n") + 1 :] if "\n" in rest else rest
    lines = expr.body.split("\n")[:-1] if expr.body else []
    new_lines = merge(lines)
    if new_lines == lines:
        return FileEdit(site.path, Edit(expr.span.start, expr.span.start, ""))
    body = "".join(line + "\n" for line in new_lines)
    if site.path != ctx.module.path:
        ctx.notes.append(f"edited {ctx.display(site.path)}:{site.line}, where {name} is written")
    return FileEdit(site.path, Edit(expr.span.start, expr.span.end, f"{opener}\n{body}{closing}"))
