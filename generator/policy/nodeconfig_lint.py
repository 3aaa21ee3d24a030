"""A NodeConfig part checked against nodeadm's ``node.eks.aws/v1alpha1`` API before it reaches a node.

nodeadm decodes each ``application/node.eks.aws`` part as one YAML document
into Go types: a field it does not know is dropped without a word (the setting
never applies), a value of the wrong type fails the decode (the node never
joins), and documents after the first in a part are not read. The schema is
``data/nodeconfig_v1alpha1.json``, written from the public Go types of the
release it names.

Terraform interpolations are swapped for placeholders before parsing: quoted,
they are strings; bare, they stand for whatever scalar Terraform renders.
A part with ``%{ }`` directives is not validated (Terraform decides its lines).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from .catalog import (
    NODECONFIG_DOCUMENTS,
    NODECONFIG_KIND,
    NODECONFIG_TEMPLATED,
    NODECONFIG_TYPE,
    NODECONFIG_UNKNOWN_FIELD,
    NODECONFIG_YAML,
    Rule,
)
from .nodeconfig import LOADER, PLACEHOLDER, swap_interpolations, templated, yaml_problem

_SCALAR_TAGS = {"str": "string", "int": "integer", "bool": "boolean", "float": "number", "null": "null",
                "timestamp": "string"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a NodeConfig part: the rule, the 1-based line inside the part (0: none), what."""

    rule: Rule
    line: int
    message: str


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    text = resources.files("eksproxy_gen.policy").joinpath("data/nodeconfig_v1alpha1.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def lint(text: str) -> list[Problem]:
    """Every problem of one part's text, in the order they appear."""
    if templated(text):
        return [Problem(NODECONFIG_TEMPLATED, 0, "the part holds %{ } template directives, so which lines it has is "
                                      "Terraform's decision: eksproxy-gen did not validate it")]
    swapped = swap_interpolations(text)
    try:
        nodes = [n for n in yaml.compose_all(swapped, Loader=LOADER) if n is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return [Problem(NODECONFIG_YAML, mark.line + 1 if mark else 0,
                        f"the part is not valid YAML ({yaml_problem(exc)}); nodeadm cannot decode it and the node "
                        "never joins")]
    if not nodes:
        return [Problem(NODECONFIG_KIND, 0, "the part holds no YAML document; nodeadm fails to decode an empty part")]
    problems = _kind(nodes[0])
    if not problems:
        problems += _walk(nodes[0], schema()["root"], "")
    if len(nodes) > 1:
        problems.append(Problem(NODECONFIG_DOCUMENTS, nodes[1].start_mark.line + 1,
                                f"the part holds {len(nodes)} YAML documents; nodeadm decodes a part as one "
                                "document, so only the first is read: give each NodeConfig its own part"))
    return problems


def _kind(node: yaml.Node) -> list[Problem]:
    if not isinstance(node, yaml.MappingNode):
        return [Problem(NODECONFIG_TYPE, node.start_mark.line + 1, "the part is not a YAML mapping; nodeadm expects a "
                                                              "NodeConfig object and the node never joins")]
    fields = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
    found: list[Problem] = []
    root = schema()["types"][schema()["root"]]
    for name in ("apiVersion", "kind"):
        wanted = root[name]["value"]
        value = fields.get(name)
        if value is None:
            found.append(Problem(NODECONFIG_KIND, node.start_mark.line + 1, f"the part has no {name} (it must be "
                                                                       f"{wanted}); nodeadm fails to decode it"))
        elif not isinstance(value, yaml.ScalarNode) or value.value != wanted:
            shown = value.value if isinstance(value, yaml.ScalarNode) else "not a string"
            found.append(Problem(NODECONFIG_KIND, value.start_mark.line + 1,
                                 f"the part has {name} {shown}, not {wanted}; nodeadm fails to decode it"))
    return found


def _type_of(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    name = _SCALAR_TAGS.get(str(node.tag).rsplit(":", 1)[-1], "a value")
    return {"string": "a string", "integer": "a number", "number": "a number", "boolean": "a boolean",
            "null": "null"}.get(name, name)


def _scalar_fits(node: yaml.ScalarNode, wanted: str) -> bool:
    tag = _SCALAR_TAGS.get(str(node.tag).rsplit(":", 1)[-1], "")
    if PLACEHOLDER.fullmatch(node.value) and node.style is None:
        return True
    if wanted == "number":
        return tag in {"integer", "number"}
    return tag == wanted


def _walk(node: yaml.Node, wanted: str, path: str) -> list[Problem]:
    line = node.start_mark.line + 1
    if wanted == "any":
        return []
    if isinstance(node, yaml.ScalarNode) and _SCALAR_TAGS.get(str(node.tag).rsplit(":", 1)[-1]) == "null":
        return []
    if wanted in {"string", "boolean", "integer", "number"}:
        if isinstance(node, yaml.ScalarNode) and _scalar_fits(node, wanted):
            return []
        return [Problem(NODECONFIG_TYPE, line, f"{path} is {_type_of(node)} where nodeadm expects a {wanted}; decoding "
                                         "fails and the node never joins" + _quote_hint(node, wanted))]
    if wanted.startswith("list<"):
        if not isinstance(node, yaml.SequenceNode):
            return [Problem(NODECONFIG_TYPE, line, f"{path} is {_type_of(node)} where nodeadm expects a list; decoding "
                                             "fails and the node never joins")]
        inner = wanted[5:-1]
        return [p for i, item in enumerate(node.value) for p in _walk(item, inner, f"{path}[{i}]")]
    if not isinstance(node, yaml.MappingNode):
        return [Problem(NODECONFIG_TYPE, line, f"{path or 'the document'} is {_type_of(node)} where nodeadm expects a "
                                         "mapping; decoding fails and the node never joins")]
    if wanted.startswith("map<"):
        inner = wanted[4:-1]
        return [p for key, value in node.value for p in _walk(value, inner, f"{path}.{_key(key)}")]
    return _object(node, wanted, path)


def _object(node: yaml.MappingNode, type_name: str, path: str) -> list[Problem]:
    fields: dict[str, dict[str, Any]] = schema()["types"][type_name]
    problems: list[Problem] = []
    for key, value in node.value:
        name = _key(key)
        here = f"{path}.{name}" if path else name
        field = fields.get(name)
        if field is None:
            problems.append(Problem(NODECONFIG_UNKNOWN_FIELD, key.start_mark.line + 1,
                                    f"{here} is not a field nodeadm knows{_did_you_mean(name, list(fields))}; "
                                    "nodeadm drops it without a word, so the setting never applies"))
            continue
        problems += _walk(value, field["type"], here)
        keys = field.get("keys")
        if keys and isinstance(value, yaml.MappingNode):
            for gate, _ in value.value:
                if _key(gate) not in keys:
                    problems.append(Problem(NODECONFIG_UNKNOWN_FIELD, gate.start_mark.line + 1,
                                            f"{here}.{_key(gate)} is not a feature gate nodeadm knows"
                                            f"{_did_you_mean(_key(gate), keys)}; nodeadm ignores it"))
    return problems


def _key(node: yaml.Node) -> str:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else "?"


def _did_you_mean(name: str, known: list[str]) -> str:
    same_case = [k for k in known if k.lower() == name.lower()]
    close = same_case or difflib.get_close_matches(name, known, n=1, cutoff=0.75)
    return f" (did you mean {close[0]}?)" if close else ""


def _quote_hint(node: yaml.Node, wanted: str) -> str:
    if wanted == "string" and isinstance(node, yaml.ScalarNode):
        return f"; quote it: \"{node.value}\""
    return ""
