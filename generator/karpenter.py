"""Karpenter in a folder: EC2NodeClass manifests and the Karpenter chart's controller environment, with positions.

Node classes are read wherever they are written: plain YAML files, a
``kubectl_manifest``'s ``yaml_body`` (heredoc or ``yamlencode`` of an object),
a ``kubernetes_manifest``'s ``manifest`` (object or ``yamldecode`` of a
heredoc), a ``local_file``'s ``content`` (a manifest written for ``kubectl``).
The controller is a ``helm_release`` of the ``karpenter`` chart; its
environment comes from ``values`` (heredocs, ``yamlencode``, files) and
``set`` entries. YAML written as text keeps its place in the file, so a fix
can edit it; an HCL object is judged but not rewritten.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from . import yaml_text
from .evaluate import Argument, Definition, Scope, Unknown, Value, as_text, to_plain
from .hcl import Call, Document, Expr, HeredocExpr, ObjectExpr, TupleExpr
from .policy import nodeconfig, template_text
from .policy.controller import ControllerFacts
from .policy.facts import NODECONFIG, Opaque, Origin, Part
from .policy.nodeclass import NodeClassFacts
from .policy.values import one_line
from .userdata import is_mime, split

KIND = "EC2NodeClass"
GROUP = "karpenter.k8s.aws/"
CHART = "karpenter"
SHELL = "text/x-shellscript"

Display = Callable[[Path], str]


@dataclass(frozen=True)
class YamlPlace:
    """YAML text inside a file: ``text`` starts at ``offset`` of the file's (LF) text, on 1-based ``first_line``."""

    path: Path
    offset: int
    text: str
    first_line: int

    def line(self, index: int) -> int:
        """The file line of the text's 0-based line ``index``."""
        return self.first_line + index


@dataclass(frozen=True)
class NodeClass:
    """A node class, and where its YAML is (None for an HCL object, which is judged but not edited)."""

    facts: NodeClassFacts
    place: YamlPlace | None = None
    spec: yaml.MappingNode | None = None
    why_not_editable: str = ""


@dataclass(frozen=True)
class Controller:
    """A Karpenter ``helm_release``; ``place`` is its values heredoc when there is exactly one to edit."""

    facts: ControllerFacts
    place: YamlPlace | None = None
    root: yaml.Node | None = None
    why_not_editable: str = ""


# --- YAML text ------------------------------------------------------------------------------------------------------

def nodeclasses_in_yaml(place: YamlPlace, display: Display, owner: str = KIND, owner_line: int = 0,
                        owner_file: str | None = None) -> list[NodeClass]:
    """Every EC2NodeClass document of a YAML text (none when the text is not YAML).

    A node class in a YAML file is its own owner (``EC2NodeClass.NAME``); one in a
    Terraform resource is owned by the resource (``kubectl_manifest.X.NAME``),
    whose block may be in another file than the YAML (an override file's).
    """
    file = display(place.path)
    try:
        docs = yaml_text.documents(place.text)
    except yaml_text.YamlTextError as exc:
        unread = _unreadable_nodeclass(place, exc, file, owner, owner_line, owner_file)
        return [unread] if unread is not None and owner != KIND else []
    found: list[NodeClass] = []
    for doc in (item for root in docs for item in _listed(root)):
        if not _is_nodeclass(doc):
            continue
        name_node = yaml_text.value_at(doc, "metadata", "name")
        name = yaml_text.scalar(name_node, place.text) or "?"
        anchor = name_node if name_node is not None else doc
        line = place.line(anchor.start_mark.line)
        spec = yaml_text.value_at(doc, "spec")
        spec = spec if isinstance(spec, yaml.MappingNode) else None
        api = yaml_text.scalar(yaml_text.value_at(doc, "apiVersion"), place.text) or ""
        facts = NodeClassFacts(owner, owner_file or file, owner_line or place.line(doc.start_mark.line), name, file,
                               line, api)
        if spec is not None:
            facts = _spec_facts(facts, spec, place)
        editable = "" if spec is not None and not spec.flow_style else "spec is not a block mapping"
        found.append(NodeClass(facts, place, spec, editable))
    return found


_KIND_LINE = re.compile(r"^[ \t]*kind:[ \t]*[\"']?EC2NodeClass[\"']?[ \t]*$", re.M)
_NAME_LINE = re.compile(r"^[ \t]+name:[ \t]*[\"']?([\w.-]+)", re.M)
_FAMILY_LINE = re.compile(r"^[ \t]+amiFamily:[ \t]*[\"']?(\w+)[\"']?[ \t]*$", re.M)


def _unreadable_nodeclass(place: YamlPlace, error: yaml_text.YamlTextError, file: str, owner: str,
                          owner_line: int, owner_file: str | None) -> NodeClass | None:
    """A node class in Terraform whose YAML is YAML only once Terraform fills in its ``${...}`` (an
    ``indent(4, yamlencode(...))`` where keys belong): judged as one whose user data only Terraform can compute,
    never passed over as if the resource held no node class."""
    kind = _KIND_LINE.search(place.text)
    if kind is None:
        return None
    name = _NAME_LINE.search(place.text, kind.end())
    family = _FAMILY_LINE.search(place.text)
    # the parser stops at the token after the one it cannot place: the interpolation is on the line it names
    # or on one before it
    lines = place.text.splitlines()
    index = min(max(error.line - 1, 0), len(lines) - 1)
    culprit = next((i for i in range(index, max(index - 3, -1), -1) if template_text.interpolations(lines[i])),
                   index)
    spans = template_text.interpolations(lines[culprit]) if lines else []
    shown = lines[culprit][spans[0][0]:spans[0][1]] if spans else "${...}"
    hidden = Opaque("its YAML", f"broken up by {shown}", f"{file}:{place.line(culprit)}")
    line = place.line(place.text.count("\n", 0, name.start()) if name else place.text.count("\n", 0, kind.start()))
    facts = NodeClassFacts(owner, owner_file or file, owner_line or place.line(0), name.group(1) if name else "?",
                           file, line, GROUP, ami_family=family.group(1) if family else hidden, user_data=hidden,
                           parts=hidden)
    return NodeClass(facts, None, None, f"its YAML does not parse as written ({error.message})")


def _listed(doc: yaml.Node) -> list[yaml.Node]:
    """A document, or the objects of a ``kind: List`` (what ``kubectl get -o yaml`` writes, ``kubectl apply``
    takes): each item is applied as if it were a document of its own."""
    kind = yaml_text.value_at(doc, "kind")
    items = yaml_text.value_at(doc, "items")
    if isinstance(kind, yaml.ScalarNode) and kind.value == "List" and isinstance(items, yaml.SequenceNode):
        return [item for item in items.value if isinstance(item, yaml.MappingNode)]
    return [doc]


def _is_nodeclass(doc: yaml.Node) -> bool:
    kind = yaml_text.value_at(doc, "kind")
    api = yaml_text.value_at(doc, "apiVersion")
    return (isinstance(kind, yaml.ScalarNode) and kind.value == KIND and isinstance(api, yaml.ScalarNode)
            and str(api.value).startswith(GROUP))


def _spec_facts(facts: NodeClassFacts, spec: yaml.MappingNode, place: YamlPlace) -> NodeClassFacts:
    family = yaml_text.scalar(yaml_text.value_at(spec, "amiFamily"), place.text)
    terms = yaml_text.value_at(spec, "amiSelectorTerms")
    alias = None
    if isinstance(terms, yaml.SequenceNode):
        for term in terms.value:
            alias = alias or yaml_text.scalar(yaml_text.value_at(term, "alias"), place.text)
    facts = replace(facts, ami_family=_maybe_opaque("amiFamily", family), alias=_maybe_opaque("alias", alias))
    node = yaml_text.value_at(spec, "userData")
    if node is None:
        return facts
    text = yaml_text.scalar(node, place.text)
    if text is None:
        return replace(facts, user_data=Opaque("spec.userData", "not a string", facts.file))
    origin = Origin(facts.file, place.line(yaml_text.first_content_line(node))) if isinstance(node, yaml.ScalarNode) \
        and node.style == "|" else None
    return with_user_data(facts, text, origin)


def _maybe_opaque(setting: str, value: str | None) -> str | Opaque | None:
    if value is not None and "${" in value:
        return Opaque(setting, value)
    return value


def with_user_data(facts: NodeClassFacts, text: str, origin: Origin | None) -> NodeClassFacts:
    """The facts with ``userData``: as text, and as the parts Karpenter passes on (for AL2023)."""
    if nodeconfig.templated(text):
        opaque = Opaque("spec.userData", "a template with %{ } directives", facts.file)
        return replace(facts, user_data=opaque, parts=opaque)
    if not text.strip():  # an empty userData adds no part
        return replace(facts, user_data=text, user_data_origin=origin, parts=())
    mime = is_mime(text)
    if mime:
        document = split(text)
        if document is None:
            opaque = Opaque("spec.userData", "a MIME document without a boundary", facts.file)
            return replace(facts, user_data=opaque, parts=opaque, mime=True)
        parts = tuple(_part(p.content_type, p.content, _filename(p.headers), origin, p.first_line)
                      for p in document.parts)
        return replace(facts, user_data=text, user_data_origin=origin, parts=parts, mime=True)
    kind = NODECONFIG if _is_mapping(text) else SHELL
    return replace(facts, user_data=text, user_data_origin=origin, parts=(_part(kind, text, None, origin, 0),))


def _part(content_type: str | None, content: str, filename: str | None, origin: Origin | None, line: int) -> Part:
    where = Origin(origin.file, origin.first_line + line) if origin is not None else None
    return Part(content_type, content, filename, where.first_line if where else 0, where)


def _filename(headers: dict[str, str]) -> str | None:
    match = re.search(r'filename\s*=\s*"?([^";]+)"?', headers.get("content-disposition", ""))
    return match.group(1) if match else None


def _is_mapping(text: str) -> bool:
    """Karpenter takes user data that parses as a YAML mapping for a bare NodeConfig."""
    docs = nodeconfig.read(text)
    return docs.error is None and not docs.templated and len(docs.items) >= 1 and isinstance(docs.items[0], dict)


# --- Terraform ------------------------------------------------------------------------------------------------------

# Resources that carry a manifest, and the argument holding it: a ``local_file`` written for ``kubectl apply -f``
# by a ``null_resource`` is a node class as much as a ``kubectl_manifest`` is.
MANIFEST_ATTRIBUTES = {"kubectl_manifest": "yaml_body", "kubernetes_manifest": "manifest", "local_file": "content"}
_ENCODERS = ("yamlencode", "jsonencode")  # of an object written in Terraform: fix cannot add YAML text there
# Data sources that split a text into the documents a ``kubectl_manifest`` applies with ``for_each``.
DOCUMENTS_ATTRIBUTES = {"kubectl_file_documents": "content"}


def nodeclasses_in_terraform(resources: list[Definition], scope: Scope, display: Display) -> list[NodeClass]:
    """Node classes in Terraform resources (and ``kubectl_file_documents`` data), each with the override blocks
    Terraform merges into it."""
    found: list[NodeClass] = []
    for resource in resources:
        block = resource.block
        if block is None or block.type not in ("resource", "data") or len(block.labels) != 2:
            continue
        kind, name = block.labels
        if block.type == "resource" and kind == "helm_release":
            found += _chart_nodeclasses(resource, display)
            continue
        attr_name = MANIFEST_ATTRIBUTES.get(kind) if block.type == "resource" else DOCUMENTS_ATTRIBUTES.get(kind)
        attr = resource.argument(attr_name) if attr_name else None
        if attr is None:
            continue
        owner = f"{kind}.{name}" if block.type == "resource" else f"data.{kind}.{name}"
        line = resource.doc.line_of(block.span.start)
        place = _heredoc_place(attr.doc, attr.path, attr.value)
        if place is not None:
            found += nodeclasses_in_yaml(place, display, owner, line, display(resource.path))
            continue
        written = attr.value  # yamldecode() of a text read elsewhere (templatefile(), a local): the text decides
        if isinstance(written, Call) and written.name == "yamldecode" and len(written.args) == 1:
            written = written.args[0]
        plain = _plain(scope.value(written, attr.path, attr.doc))
        as_object = isinstance(written, ObjectExpr) or (isinstance(written, Call) and written.name in _ENCODERS)
        elsewhere = "" if as_object else \
            "its manifest is computed (file(), templatefile() or a reference), not written here as YAML text"
        for data in _objects(plain):
            if data.get("kind") == KIND and str(data.get("apiVersion", "")).startswith(GROUP):
                nodeclass = _from_object(data, owner, display(resource.path), line, display(attr.path), attr.line)
                found.append(replace(nodeclass,
                                     why_not_editable=_in_json(attr) or elsewhere or nodeclass.why_not_editable))
    return found


def _objects(plain: object) -> list[dict[str, object]]:
    """The Kubernetes objects of a manifest Terraform computes: an object, or every document of a YAML text (the
    items of a ``kind: List`` each count as one)."""
    if isinstance(plain, str):
        try:
            plain = list(nodeconfig.load_documents(plain))
        except yaml.YAMLError:
            return []
    found: list[dict[str, object]] = []
    for item in plain if isinstance(plain, list) else [plain]:
        if isinstance(item, dict) and item.get("kind") == "List" and isinstance(item.get("items"), list):
            found += [listed for listed in item["items"] if isinstance(listed, dict)]
        elif isinstance(item, dict):
            found.append(item)
    return found


def _chart_nodeclasses(resource: Definition, display: Display) -> list[NodeClass]:
    """A chart that templates a node class from its values (``ec2NodeClass:``, as karpenter-resources charts do)."""
    values = resource.argument("values")
    if values is None or not isinstance(values.value, TupleExpr) or resource.block is None:
        return []
    owner = f"helm_release.{resource.block.labels[1]}"
    return _values_nodeclasses(values, display, owner, display(resource.path),
                               resource.doc.line_of(resource.block.span.start), resource.block.labels[1])


def modules_nodeclasses(modules: list[Definition], display: Display) -> list[NodeClass]:
    """Node classes in ``karpenter_resources_helm_config`` of a module call (aws-ia/eks-data-addons)."""
    found: list[NodeClass] = []
    for module in modules:
        attr = module.argument("karpenter_resources_helm_config")
        if attr is None or not isinstance(attr.value, ObjectExpr) or module.block is None or not module.block.labels:
            continue
        owner, line = f"module.{module.block.labels[0]}", module.doc.line_of(module.block.span.start)
        for elem in attr.value.elems:
            config = elem.value if isinstance(elem.value, ObjectExpr) else None
            values = config.get("values") if config is not None else None
            if values is not None and isinstance(values.value, TupleExpr) and elem.key:
                where = Argument("values", values.value, attr.path, attr.doc, values.span)
                found += _values_nodeclasses(where, display, owner, display(module.path), line, elem.key)
    return found


def _values_nodeclasses(values: Argument, display: Display, owner: str, owner_file: str, owner_line: int,
                        default_name: str) -> list[NodeClass]:
    found: list[NodeClass] = []
    assert isinstance(values.value, TupleExpr)
    for item in values.value.items:
        place = _heredoc_place(values.doc, values.path, item)
        if place is None:
            continue
        try:
            roots = yaml_text.documents(place.text)
        except yaml_text.YamlTextError:
            continue
        for root in roots:
            found_key = yaml_text.child(root, "ec2NodeClass")
            if found_key is None or not isinstance(found_key[1], yaml.MappingNode):
                continue
            spec = found_key[1]
            name = yaml_text.scalar(yaml_text.value_at(root, "name"), place.text) or default_name
            file = display(values.path)
            facts = NodeClassFacts(owner, owner_file, owner_line, name, file,
                                   place.line(found_key[0].start_mark.line), GROUP + "v1")
            editable = "" if not spec.flow_style and spec.value else "ec2NodeClass is not a block mapping"
            found.append(NodeClass(_spec_facts(facts, spec, place), place, spec, editable))
    return found


def _heredoc_place(doc: Document, path: Path, expr: Expr) -> YamlPlace | None:
    """The heredoc holding YAML: the attribute itself, or the argument of ``yamldecode(<<-EOT ...)``."""
    if isinstance(expr, Call) and expr.name == "yamldecode" and len(expr.args) == 1:
        expr = expr.args[0]
    if not isinstance(expr, HeredocExpr):
        return None
    start = doc.text.index("\n", expr.span.start) + 1
    return YamlPlace(path, start, expr.body, doc.line_of(start))


def _plain(value: Value | None) -> object:
    if isinstance(value, Unknown) or value is None:
        return None
    plain = to_plain(value)
    return None if isinstance(plain, Unknown) else plain


def _load_yaml(text: str) -> object:
    """The one YAML document of a text, its ``${ }`` kept as written; None when it is not one YAML document."""
    try:
        docs = nodeconfig.load_documents(text)
    except yaml.YAMLError:
        return None
    return docs[0] if len(docs) == 1 else None


def _from_object(data: dict[str, object], owner: str, owner_file: str, owner_line: int, file: str,
                 line: int) -> NodeClass:
    metadata = data.get("metadata")
    name = str(metadata.get("name", "?")) if isinstance(metadata, dict) else "?"
    spec = data.get("spec") if isinstance(data.get("spec"), dict) else {}
    assert isinstance(spec, dict)
    family = spec.get("amiFamily")
    terms = spec.get("amiSelectorTerms")
    alias = next((t.get("alias") for t in terms if isinstance(t, dict) and t.get("alias")), None) \
        if isinstance(terms, list) else None
    facts = NodeClassFacts(owner, owner_file, owner_line, name, file, line, str(data.get("apiVersion", "")),
                           ami_family=_maybe_opaque("amiFamily", family if isinstance(family, str) else None),
                           alias=_maybe_opaque("alias", alias if isinstance(alias, str) else None))
    user_data = spec.get("userData")
    if isinstance(user_data, str):
        facts = with_user_data(facts, user_data, None)
    return NodeClass(facts, None, None, "it is written as a Terraform object, not as YAML text")


# --- the controller -------------------------------------------------------------------------------------------------

def controllers_in_terraform(resources: list[Definition], scope: Scope, display: Display) -> list[Controller]:
    found: list[Controller] = []
    for resource in resources:
        block = resource.block
        if block is None or block.type != "resource" or block.labels[:1] != ("helm_release",) \
                or len(block.labels) != 2:
            continue
        if not _is_karpenter_chart(resource, scope):
            continue
        found.append(_controller(resource, scope, display))
    return found


def _is_karpenter_chart(resource: Definition, scope: Scope) -> bool:
    chart = resource.argument("chart")
    text = as_text(scope.value(chart.value, chart.path, chart.doc) if chart else None) or ""
    return text == CHART or text.endswith("/" + CHART)


def _controller(resource: Definition, scope: Scope, display: Display) -> Controller:
    assert resource.block is not None
    owner, line = f"helm_release.{resource.block.labels[1]}", resource.doc.line_of(resource.block.span.start)
    file = display(resource.path)
    env: dict[str, str] = {}
    env_from = False
    place: YamlPlace | None = None
    root: yaml.Node | None = None
    why = ""
    values = resource.argument("values")
    items: tuple[Expr, ...] = ()
    if values is not None:
        if not isinstance(values.value, TupleExpr):
            return Controller(ControllerFacts(owner, file, line, _opaque(values.value, values, display)))
        items = values.value.items
    heredocs = [item for item in items if isinstance(item, HeredocExpr)]
    for item in items:
        assert values is not None
        data, opaque = _values_data(item, values, scope)
        if opaque:
            return Controller(ControllerFacts(owner, file, line, _opaque(item, values, display)))
        controller = data.get("controller") if isinstance(data, dict) else None
        if isinstance(controller, dict) and isinstance(controller.get("env"), str):  # a ${...} only Terraform knows
            return Controller(ControllerFacts(owner, file, line, _opaque(item, values, display)))
        if isinstance(controller, dict):
            env_from = env_from or bool(controller.get("envFrom"))
            for entry in controller.get("env") or []:
                if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                    if "valueFrom" in entry:  # from a ConfigMap or Secret: only the cluster knows the value
                        env_from = True
                    else:
                        env[entry["name"]] = str(entry.get("value", ""))
    env.update(_set_entries(resource, scope))
    if values is not None and _in_json(values):
        why = _in_json(values)
    elif len(heredocs) == 1 and len(items) == 1 and values is not None:
        place = _heredoc_place(values.doc, values.path, heredocs[0])
        try:
            docs = yaml_text.documents(place.text) if place else []
            root = docs[0] if docs else None
        except yaml_text.YamlTextError as exc:
            why = f"its values are not YAML eksproxy-gen can edit ({exc.message})"
    else:
        why = "its values are not one heredoc; add controller.env by hand"
    facts = ControllerFacts(owner, file, line, env, env_from)
    return Controller(facts, place if not why else None, root, why)


def _values_data(item: Expr, values: Argument, scope: Scope) -> tuple[object, bool]:
    value = scope.value(item, values.path, values.doc)
    if (text := as_text(value)) is not None:
        return _load_yaml(text), False
    plain = _plain(value)
    if isinstance(plain, dict):
        return plain, False
    return None, True


def _set_entries(resource: Definition, scope: Scope) -> dict[str, str]:
    """``set { name = "controller.env[0].name" value = ... }`` blocks (and ``set = [...]``), as env entries."""
    names: dict[str, str] = {}
    values: dict[str, str] = {}
    pairs: list[tuple[object, object]] = []
    for sub in resource.blocks("set"):
        name_attr, value_attr = sub.block.body.attribute("name"), sub.block.body.attribute("value")
        if name_attr and value_attr:
            pairs.append((_plain(scope.value(name_attr.value, sub.path, sub.doc)),
                          _plain(scope.value(value_attr.value, sub.path, sub.doc))))
    attr = resource.argument("set")
    if attr is not None:
        listed = _plain(scope.value(attr.value, attr.path, attr.doc))
        if isinstance(listed, list):
            pairs += [(item.get("name"), item.get("value")) for item in listed if isinstance(item, dict)]
    for name, value in pairs:
        match = re.fullmatch(r"controller\.env\[(\d+)\]\.(name|value)", str(name))
        if match and value is not None:
            # helm's --set syntax: a comma separates list items unless escaped
            (names if match.group(2) == "name" else values)[match.group(1)] = str(value).replace("\\,", ",")
    return {names[i]: values.get(i, "") for i in names}


def _in_json(argument: Argument) -> str:
    """Why an argument written in Terraform's JSON syntax is not edited; empty for one in native syntax."""
    if not argument.path.name.endswith(".json"):
        return ""
    return (f"{argument.name} is written in {argument.path.name}, in Terraform's JSON syntax, which eksproxy-gen "
            "reads but does not rewrite")


def _opaque(expr: Expr, where: Argument, display: Display) -> Opaque:
    text = one_line(where.doc.source(expr.span))
    return Opaque("values", text, f"{display(where.path)}:{where.doc.line_of(expr.span.start)}")
