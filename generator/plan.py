"""Planned edits: which characters of which files to replace so that one flagged node group gets the proxy.

Edits touch only the syntax the group's settings are made of, wherever it is
written: the group's object, a ``local`` in another file, the v20 defaults map,
or a template read with ``file()``. What the parts are is decided by
``parts.py``; how new text is laid out so terraform fmt keeps agreeing is
decided by ``layout.py``; every byte of the user's own parts is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from . import layout as fmt
from . import templates
from .edits import CannotEdit, Edit
from .evaluate import FileSite, Known, ListV, MapV, Site
from .hcl import Block, Document, HeredocExpr, ObjectExpr, TupleExpr
from .merge import SHEBANG, merge_al2_script, merge_network_table, merged_text
from .model import PARTS, POST_PARTS, ModuleCall, NodeGroup
from .parts import Layout, al2_piece, network_piece, plan_parts
from .policy import template_text
from .policy.catalog import HARMFUL_SCRIPT, Piece
from .policy.coverage import analyse
from .policy.delivery import ami_family
from .policy.family import Family
from .policy.judge import current_no_proxy
from .policy.settings import Settings
from .policy.template_text import has_interpolations


@dataclass(frozen=True)
class FileEdit:
    """An edit of one file. A ``realign`` edit changes nothing itself: it marks the start of a line that
    becomes a multi-line value, whose neighbours are re-aligned once every edit of the file is made."""

    path: Path
    edit: Edit
    realign: bool = False


def realign_at(path: Path, text: str, pos: int) -> FileEdit:
    return FileEdit(path, Edit(fmt.line_start(text, pos), fmt.line_start(text, pos), ""), realign=True)


@dataclass(frozen=True)
class Plan:
    """The edits for one group; ``notes`` say what the user should know; ``left_message`` what it left in place."""

    edits: tuple[FileEdit, ...]
    notes: tuple[str, ...] = ()
    left_message: str = ""

    @property
    def leaves(self) -> frozenset[str]:
        """The rules it knowingly leaves: proxy lines it could not cut stay harmful lines of a shell part."""
        return frozenset({HARMFUL_SCRIPT.id}) if self.left_message else frozenset()


@dataclass
class Context:
    """What planning one group needs beyond the group: its module, settings and neighbours."""

    module: ModuleCall
    settings: Settings
    wanted: frozenset[Piece]
    display: Callable[[Path], str]
    text_of: Callable[[Path], str]
    shared_ok: Callable[[NodeGroup, str], bool] = lambda _group, _setting: False
    notes: list[str] = field(default_factory=list)


def plan_group(ctx: Context, group: NodeGroup) -> Plan:
    """The edits that give one flagged group a working proxy, by AMI family."""
    verdict = ami_family(ctx.module.facts, group.facts)
    family = verdict.family
    if family is Family.AL2023:
        return _al2023(ctx, group)
    if family is Family.AL2:
        block = al2_piece(current_no_proxy(group.facts), ctx.module.facts, ctx.settings, ctx.notes)
        # a script that is a part of its own needs a #! line; one the module's template runs after its own does not
        edits = _text_setting(ctx, group, "pre_bootstrap_user_data",
                              merge_al2_script(block, ctx.notes, verdict.own_part),
                              (f"{SHEBANG}\n" if verdict.own_part else "") + block, block)
        return Plan(edits, tuple(ctx.notes))
    if family is Family.BOTTLEROCKET:
        current = group.facts.bootstrap_extra_args
        keys = network_piece(current if isinstance(current, str) else None, ctx.module.facts, ctx.settings,
                             ctx.notes)
        edits = _text_setting(ctx, group, "bootstrap_extra_args", merge_network_table(keys),
                              "[settings.network]\n" + keys, keys)
        return Plan(edits, tuple(ctx.notes))
    raise CannotEdit(f"eksproxy-gen does not write proxy settings for {family or 'an unknown AMI family'}")


# --- AL2023: the parts list ---------------------------------------------------------------------------------------

def _al2023(ctx: Context, group: NodeGroup) -> Plan:
    parts = group.facts.parts
    if not isinstance(parts, tuple):
        raise CannotEdit(f"{PARTS} cannot be read")
    post = group.facts.post_parts
    delivered = ami_family(ctx.module.facts, group.facts).delivered  # post parts reach the node only where the
    if Piece.NODECONFIG in ctx.wanted and delivered is not None and POST_PARTS in delivered and \
            isinstance(post, tuple) and analyse(post).any_proxy:  # release puts them in the user data
        raise CannotEdit("the proxy is set in cloudinit_post_nodeadm, which nodeadm merges after anything in "
                         f"{PARTS}, so a generated part there could not take effect; correct the proxy in "
                         "cloudinit_post_nodeadm by hand")
    built = plan_parts(parts, ctx.wanted, ctx.module.facts, ctx.settings)
    ctx.notes += built.notes
    layout, generated = built.layout, list(built.generated)
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
    return Plan(tuple(edits), tuple(ctx.notes), built.left_message)


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
        written = text if site.template else template_text.literal(text)
        if written is None:
            raise CannotEdit(f"{ctx.display(site.path)} would have to hold Terraform interpolations; cut its proxy "
                             "lines by hand")
        ctx.notes.append(f"edited {ctx.display(site.path)}, the file the shell part is read from")
        return FileEdit(site.path, Edit(0, len(original), written))
    if isinstance(site, Site) and isinstance(site.expr, HeredocExpr) and site.expr.trim:
        doc, expr = site.doc, site.expr
        source = doc.source(expr.span)
        opener, _, rest = source.partition("\n")
        closing = rest[rest.rfind("\n") + 1 :] if "\n" in rest else rest
        indent = fmt.common_indent(expr.body.split("\n"))
        body = "".join((indent + line if line else "") + "\n" for line in text.rstrip("\n").split("\n"))
        return FileEdit(site.path, Edit(expr.span.start, expr.span.end, f"{opener}\n{body}{closing}"))
    raise CannotEdit("the shell part is not a <<- heredoc or a file; cut its proxy lines by hand")


def _list_edits(site: Site, value: ListV, layout: Layout, generated: list[templates.RenderedPart]) -> list[FileEdit]:
    doc, tup = site.doc, site.expr
    assert isinstance(tup, TupleExpr)
    items = tup.items
    assert len(items) == len(value.items), "a literal list's value has one item per element"
    if not items:
        if not generated:
            return []
        attr_start = fmt.line_start(doc.text, tup.span.start)
        indent = fmt.line_indent(doc.text, tup.span.start)
        text = templates.attribute(generated, indent)
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
        joined, sep = fmt.joined_elements(doc, tup, [partial(templates.element, part) for part in generated], followed)
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
    edits += fmt.closing_indents(doc, tup, remaining, last_kept if not generated_last else None)
    return [FileEdit(site.path, e) for e in edits]


def _own_copy(ctx: Context, group: NodeGroup, inherited: ListV, layout: Layout,
              generated: list[templates.RenderedPart]) -> list[FileEdit]:
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
    own = [templates.element(p, "") for p in generated]
    elements = kept[:at] + own + kept[at:]
    ctx.notes.append(f"{group.facts.name} gets its own {PARTS}, carrying the parts it inherited from the defaults map")
    return _insert_attribute_text(ctx, group, PARTS, lambda indent: templates.list_attribute(PARTS, elements, indent))


def _reindented(doc: Document, start: int, end: int) -> str:
    """An element's text with its continuation lines made relative to the element's first line."""
    text = doc.text[start:end]
    if "<<EOT" in text or ("<<" in text and "<<-" not in text):
        raise CannotEdit("an inherited part uses a <<EOT heredoc whose text would change if moved; copy it by hand")
    moved = fmt.relative_lines(doc.text, start, end)
    if moved is None:
        raise CannotEdit("an inherited part has lines indented less than its first line, whose text would change "
                         "if moved; copy it by hand")
    return moved


def _insert_parts(ctx: Context, group: NodeGroup, generated: list[templates.RenderedPart]) -> list[FileEdit]:
    if not generated:
        return []
    return _insert_attribute_text(ctx, group, PARTS, lambda indent: templates.attribute(generated, indent))


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
    indent = fmt.line_indent(text, min(s.start for s in spans))
    newline = text.find("\n", max(s.end for s in spans))
    if not 0 <= newline < block.span.end - 1:
        raise CannotEdit("the module block is written on one line")
    return Edit(newline, newline, "\n\n" + indent + attribute(indent))


def _insert_attribute(site: Site, attribute_text: Callable[[str], str]) -> list[FileEdit]:
    doc, obj = site.doc, site.expr
    assert isinstance(obj, ObjectExpr)
    text = doc.text
    base = fmt.line_indent(text, obj.span.start)
    inner = text[obj.span.start : obj.span.end]
    if not obj.elems:
        indent = fmt.member_indent(doc, obj)
        edit = Edit(obj.span.start, obj.span.end, "{\n" + indent + attribute_text(indent) + "\n" + base + "}")
        edits = [FileEdit(site.path, edit)]
        return edits + ([realign_at(site.path, text, obj.span.start)] if "\n" not in inner else [])
    if "\n" not in inner:
        return [FileEdit(site.path, fmt.opened_object(doc, obj, attribute_text)),
                realign_at(site.path, text, obj.span.start)]
    last = obj.elems[-1]
    indent = fmt.member_indent(doc, obj)
    newline = text.find("\n", last.span.end)
    closing = obj.span.end - 1
    attribute = attribute_text(indent)
    if 0 <= newline < closing:
        return [FileEdit(site.path, Edit(newline, newline, "\n\n" + indent + attribute))]
    return [FileEdit(site.path, Edit(last.span.end, closing, "\n\n" + indent + attribute + "\n" + base))]


# --- AL2 and Bottlerocket: a heredoc setting ------------------------------------------------------------------------

def _text_setting(ctx: Context, group: NodeGroup, name: str, merge: Callable[[list[str]], list[str]],
                  fresh: str, generated: str) -> tuple[FileEdit, ...]:
    """Edits for a heredoc setting (``pre_bootstrap_user_data``, ``bootstrap_extra_args``) of a group.

    ``merge`` turns the existing text's lines into the new ones; ``fresh`` is the
    text when the setting is absent; ``generated`` is what the merge writes.
    """
    value, inherited = group.setting(name)
    if value is None or (isinstance(value, Known) and value.value is None):
        edits = _insert_attribute_text(ctx, group, name,
                                       lambda indent: templates.heredoc_attribute(name, fresh, indent))
        return tuple(edits)
    if inherited and not ctx.shared_ok(group, name):
        raise CannotEdit(f"the group inherits {name} from the defaults map, which other groups share; add the "
                         "proxy there by hand")
    if not isinstance(value, Known) or value.text is None:
        raise CannotEdit(f"{name} cannot be read")
    return (_merge_text(ctx, value, name, merge, generated),)


def _merge_text(ctx: Context, value: Known, name: str, merge: Callable[[list[str]], list[str]],
                generated: str) -> FileEdit:
    site = value.site
    if isinstance(site, FileSite):
        if has_interpolations(generated):
            kind = "templatefile() template, whose variables are not the folder's" if site.template \
                else "file read with file(), which Terraform does not interpolate"
            raise CannotEdit(f"{ctx.display(site.path)} is a {kind}, and the settings are Terraform references "
                             "(tf:...); give literal settings for this folder, or add the proxy there by hand")
        original = ctx.text_of(site.path)
        text = merged_text(original, merge)
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
