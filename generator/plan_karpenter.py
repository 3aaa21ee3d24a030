"""Planned edits for Karpenter: a node class's ``userData``, and the controller's ``controller.env``.

The new ``userData`` is built with the node groups' rules (the same parts, the
same decisions about which of the user's parts go and where the generated
ones stand) and written as a literal block scalar where the YAML is, so every
other byte of the file, heredoc or YAML document stays as it was. For AL2023
the user data becomes (or stays) a MIME document: Karpenter keeps its parts in
order and adds its own NodeConfig last.
"""

from __future__ import annotations

from collections.abc import Callable

import yaml

from . import templates, yaml_text
from .discover import SUFFIXES
from .edits import CannotEdit, Edit
from .karpenter import Controller, NodeClass, YamlPlace
from .merge import SHEBANG, merge_al2_script, merge_network_table, merged_text
from .parts import Layout, al2_piece, network_piece, no_proxy_union, plan_parts
from .plan import FileEdit, Plan
from .policy.catalog import Piece
from .policy.facts import NODECONFIG as NODECONFIG_TYPE
from .policy.facts import ModuleFacts, Opaque, Part
from .policy.family import Family
from .policy.judge import current_no_proxy
from .policy.nodeclass import boot_facts, nodeclass_family
from .policy.scripts import PROXY_VARS
from .policy.settings import Settings
from .policy.values import split_no_proxy
from .userdata import BOUNDARY, ReadDocument, part_text, split
from .userdata import document as mime_document

SHELL_TYPE = 'text/x-shellscript; charset="us-ascii"'


def plan_nodeclass(nodeclass: NodeClass, settings: Settings, wanted: frozenset[Piece]) -> Plan:
    """The edit that gives one node class a working proxy; CannotEdit says why there is none."""
    facts, place, spec = nodeclass.facts, nodeclass.place, nodeclass.spec
    if place is None or spec is None or nodeclass.why_not_editable:
        flag = {Family.AL2: " --family al2", Family.BOTTLEROCKET: " --family bottlerocket"}.get(
            nodeclass_family(facts).family or Family.AL2023, "")
        raise CannotEdit(f"{nodeclass.why_not_editable or 'it cannot be edited'}; add the user data printed by "
                         f"`eksproxy-gen render{flag} --format mime` to spec.userData by hand")
    _check_settings(settings, place.path.name.endswith(SUFFIXES))
    family = nodeclass_family(facts).family
    module = facts.cluster
    notes: list[str] = []
    if family is Family.AL2023:
        text, left = _al2023(facts.parts, facts.user_data, facts.mime, wanted, settings, module, notes)
    elif family is Family.BOTTLEROCKET:
        current = facts.user_data if isinstance(facts.user_data, str) else None
        keys = network_piece(current, module, settings, notes)
        text, left = _merged(facts.user_data, merge_network_table(keys), "[settings.network]\n" + keys), ""
    elif family is Family.AL2:
        if facts.mime:
            raise CannotEdit("spec.userData is a MIME document; add the proxy block printed by `eksproxy-gen "
                             "render` to its shell part by hand")
        group = boot_facts(facts, family)
        block = al2_piece(current_no_proxy(group), module, settings, notes)
        text, left = _merged(facts.user_data, merge_al2_script(block, notes), f"{SHEBANG}\n" + block), ""
    else:
        raise CannotEdit(f"eksproxy-gen does not write user data for {family or 'an unknown AMI family'}")
    edit = _set_user_data(place, spec, text)
    return Plan((edit,), tuple(notes), left)


def _check_settings(settings: Settings, in_terraform: bool) -> None:
    values = [settings.proxy or "", settings.service_cidr or "", *settings.vpc_cidrs, *settings.no_proxy]
    if not in_terraform and any("${" in v for v in values):
        raise CannotEdit("the settings hold Terraform references (tf:...), which a YAML file applied with kubectl "
                         "cannot resolve; give literal values for this folder (a .eksproxy-gen.toml next to it)")


def _merged(current: str | Opaque | None, merge: Callable[[list[str]], list[str]], fresh: str) -> str:
    if not isinstance(current, str) or not current.strip():
        return fresh
    return merged_text(current, merge)


def _al2023(parts: tuple[Part, ...] | Opaque, current: str | Opaque | None, mime: bool, wanted: frozenset[Piece],
            settings: Settings, module: ModuleFacts, notes: list[str]) -> tuple[str, str]:
    """The new user data, and what it knowingly leaves for the user (proxy lines it could not cut)."""
    if not isinstance(parts, tuple):
        raise CannotEdit("spec.userData cannot be read")
    built = plan_parts(parts, wanted, module, settings)
    notes += built.notes
    layout, generated = built.layout, list(built.generated)
    if mime and isinstance(current, str):
        document = split(current)
        if document is None:
            raise CannotEdit("spec.userData is a MIME document without a boundary")
        return _into_document(current, document, parts, layout, generated), built.left_message
    kept = [_own_part(BOUNDARY, part, layout.cuts.get(index, part.text or ""))
            for index, part in enumerate(parts) if index not in layout.remove]
    texts = [part_text(BOUNDARY, g.content_type, g.content, g.filename) for g in generated]
    at = min(layout.insert_at, len(kept))
    return mime_document(BOUNDARY, kept[:at] + texts + kept[at:]), built.left_message


def _own_part(boundary: str, part: Part, content: str) -> str:
    """A part that was the whole user data (a bare NodeConfig or script), as a MIME part with ``content``."""
    content_type = NODECONFIG_TYPE if part.is_nodeconfig else SHELL_TYPE
    return part_text(boundary, content_type, content)


def _into_document(current: str, document: ReadDocument, parts: tuple[Part, ...], layout: Layout,
                   generated: list[templates.RenderedPart]) -> str:
    """The user's document with generated parts in place: only whole parts are removed or added."""
    lines = current.split("\n")
    bounds = [*document.part_starts, document.end]
    pieces: list[str] = ["\n".join(lines[: bounds[0]]) + "\n" if bounds[0] else ""]
    texts = [part_text(document.boundary, g.content_type, g.content, g.filename) for g in generated]
    for index in range(len(document.parts)):
        if index == layout.insert_at:
            pieces += texts
        if index in layout.remove:
            continue
        start, content, end = bounds[index], document.parts[index].first_line, bounds[index + 1]
        if index in layout.cuts:
            # the part's headers stay; its content becomes what is left once the proxy lines are cut
            pieces.append("".join(line + "\n" for line in lines[start:content]) + layout.cuts[index] + "\n")
            continue
        pieces.append("".join(line + "\n" for line in lines[start:end]))
    if layout.insert_at >= len(document.parts):
        pieces += texts
    pieces.append("\n".join(lines[document.end:]))
    return "".join(pieces)


def _set_user_data(place: YamlPlace, spec: yaml.MappingNode, text: str) -> FileEdit:
    try:
        splice = yaml_text.set_block_scalar(place.text, spec, "userData", text)
    except yaml_text.YamlTextError as exc:
        raise CannotEdit(f"spec.userData cannot be written: {exc.message}") from None
    return FileEdit(place.path, Edit(place.offset + splice.start, place.offset + splice.end, splice.new))


# --- the controller ---------------------------------------------------------------------------------------------------



def plan_controller(controller: Controller, settings: Settings) -> Plan:
    """The six proxy variables in ``controller.env`` of the chart values heredoc.

    What the list already holds is completed, never replaced: a missing
    variable is added (the proxy ones with the proxy the list already uses),
    and NO_PROXY and no_proxy become the union of the required entries and the
    user's own, so a corporate domain or an endpoint host the user listed is
    kept (``no_proxy_union``, as for every NO_PROXY list fix writes).
    """
    place, root = controller.place, controller.root
    if place is None or controller.why_not_editable:
        raise CannotEdit(controller.why_not_editable or "its values cannot be edited")
    env = dict(controller.facts.env) if isinstance(controller.facts.env, dict) else {}
    written = _env_items(root)
    outside = [name for name in PROXY_VARS if name in env and name not in written]
    if outside:
        raise CannotEdit(f"controller.env's {outside[0]} is set outside the values heredoc (a set block), which "
                         "Helm applies over the values; set the proxy variables there by hand")
    text = place.text
    proxy = next((_source(text, written[name][1]) for name in _PROXY_FIRST if name in env), None)
    if proxy is None:
        if settings.proxy is None:
            raise CannotEdit("no proxy is configured")
        proxy = f'"{settings.proxy}"'
    module, notes = controller.facts.module, list[str]()
    # a list written with valueFrom comes from the cluster: it is neither read nor rewritten here
    lists = [name for name in _NO_PROXY_VARS if name in written and written[name][1] is not None]
    for name in lists:
        node = written[name][1]
        if not isinstance(node, yaml.ScalarNode) or node.style in ("|", ">"):
            raise CannotEdit(f"controller.env's {name} is not a one-line string; write it on one line, or add the "
                             "entries the EKSP026 findings name by hand")
        if _templated(text[node.start_mark.index:node.end_mark.index]):
            raise CannotEdit(f"controller.env's {name} is built by a Terraform expression, which eksproxy-gen does "
                             "not rewrite; add the entries the EKSP026 findings name where it is defined")
    current = [entry for name in lists for entry in split_no_proxy(env.get(name, ""))]
    no_proxy = templates.no_proxy(module, settings, no_proxy_union(current, module, settings, notes))
    edits: list[FileEdit] = []
    completed = [name for name in lists if env.get(name) != no_proxy]
    for name in completed:
        node = written[name][1]
        assert isinstance(node, yaml.ScalarNode)
        edits.append(FileEdit(place.path, Edit(place.offset + node.start_mark.index,
                                               place.offset + node.end_mark.index, f'"{no_proxy}"')))
    added = [name for name in PROXY_VARS if name not in written]
    if added:
        edits.append(_add_env(place, root, [(name, f'"{no_proxy}"' if name in _NO_PROXY_VARS else proxy)
                                            for name in added]))
    if not written.keys() & set(PROXY_VARS):
        notes.insert(0, "added the proxy to controller.env")
    else:
        done = ([f"added {', '.join(added)}"] if added else []) + [f"{name} completed" for name in completed]
        notes.insert(0, f"completed the proxy in controller.env: {'; '.join(done)}")
    return Plan(tuple(edits), tuple(notes))


_PROXY_FIRST = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")
_NO_PROXY_VARS = ("NO_PROXY", "no_proxy")


def _env_items(root: yaml.Node | None) -> dict[str, tuple[yaml.MappingNode, yaml.Node | None]]:
    """The entries of ``controller.env`` in the heredoc by name: each entry and its ``value`` node (None for one
    that has none, such as a ``valueFrom``)."""
    env = yaml_text.value_at(root, "controller", "env") if root is not None else None
    found: dict[str, tuple[yaml.MappingNode, yaml.Node | None]] = {}
    for item in env.value if isinstance(env, yaml.SequenceNode) else []:
        name = yaml_text.child(item, "name")
        if isinstance(item, yaml.MappingNode) and name is not None and isinstance(name[1], yaml.ScalarNode):
            value = yaml_text.child(item, "value")
            found.setdefault(str(name[1].value), (item, value[1] if value is not None else None))
    return found


def _source(text: str, node: yaml.Node | None) -> str:
    """A value as written in the heredoc, to be written again as it is (``${var.proxy_url}`` stays a reference)."""
    if not isinstance(node, yaml.ScalarNode):
        raise CannotEdit("controller.env's proxy variable has no plain value to copy; add the others by hand")
    written = text[node.start_mark.index:node.end_mark.index]
    if node.style in ('"', "'"):
        return written
    if '"' in written or "\\" in written:
        raise CannotEdit("controller.env's proxy variable is written in a way eksproxy-gen does not copy; add the "
                         "other proxy variables by hand")
    return f'"{written}"'


def _templated(written: str) -> bool:
    return "${" in written or "%{" in written


def _add_env(place: YamlPlace, root: yaml.Node | None, entries: list[tuple[str, str]]) -> FileEdit:
    """New ``controller.env`` entries (values as YAML text), at the end of the list or where it belongs."""
    text = place.text

    def items(indent: str) -> str:
        return "".join(f"{indent}- name: {name}\n{indent}  value: {value}\n" for name, value in entries)

    def env_key(indent: str) -> str:
        return f"{indent}env:\n" + items(indent + "  ")

    def controller_key(indent: str) -> str:
        return f"{indent}controller:\n" + env_key(indent + "  ")

    if root is None or (isinstance(root, yaml.MappingNode) and not root.value):
        return _append(place, len(text.rstrip(" \n")) + 1 if text.strip() else 0, controller_key(_indent_of(text)))
    if not isinstance(root, yaml.MappingNode) or root.flow_style:
        raise CannotEdit("the chart values are not a block mapping")
    column = root.value[0][0].start_mark.column
    controller = yaml_text.child(root, "controller")
    if controller is None:
        return _append(place, yaml_text.end_of(text, root), controller_key(" " * column))
    node = controller[1]
    if not isinstance(node, yaml.MappingNode) or node.flow_style or not node.value:
        raise CannotEdit("controller in the chart values is not a block mapping; add controller.env by hand")
    inner = node.value[0][0].start_mark.column
    env = yaml_text.child(node, "env")
    if env is None:
        return _append(place, yaml_text.end_of(text, node), env_key(" " * inner))
    if not isinstance(env[1], yaml.SequenceNode) or env[1].flow_style:
        raise CannotEdit("controller.env is not a block list; add the proxy variables by hand")
    first = env[1].value[0] if env[1].value else None
    dash = first.start_mark.column - 2 if first is not None else inner + 2
    return _append(place, yaml_text.end_of(text, env[1]), items(" " * dash))


def _indent_of(text: str) -> str:
    for line in text.split("\n"):
        if line.strip():
            return line[: len(line) - len(line.lstrip(" "))]
    return ""


def _append(place: YamlPlace, at: int, new: str) -> FileEdit:
    text = place.text
    lead = "" if at == 0 or text[at - 1] == "\n" else "\n"
    return FileEdit(place.path, Edit(place.offset + at, place.offset + at, lead + new))
