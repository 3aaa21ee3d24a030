"""Read ``spec.instance.environment`` out of NodeConfig YAML without a YAML library.

NodeConfig parts are Terraform templates (``${...}``, ``%{ if }``), so they are
not YAML until Terraform renders them; a tolerant reader of block mappings
(plus one-line flow mappings) is both enough and safer here than PyYAML.
"""

from __future__ import annotations

import re

_KEY = re.compile(
    r"""^(?P<indent>[ ]*)(?:-\s+)?(?P<q>["']?)(?P<key>[^"'#:{}\[\]][^"'#:]*?)(?P=q)\s*:(?:\s+(?P<value>.*))?$""")

Environment = dict[str, dict[str, str]]


def documents(text: str) -> list[dict[tuple[str, ...], str]]:
    """Each YAML document as a map of key path -> scalar text ("" for a mapping or list)."""
    docs: list[dict[tuple[str, ...], str]] = [{}]
    stack: list[tuple[int, str]] = []
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.rstrip()
        stripped = line.strip()
        if line.startswith("---") or line.startswith("..."):
            docs.append({})
            stack = []
            continue
        if not stripped or stripped.startswith("#") or stripped.startswith("%{"):
            continue
        match = _KEY.match(line)
        if not match:
            continue
        indent = len(match.group("indent"))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        key = match.group("key").strip()
        value = _strip_comment(match.group("value") or "")
        path = (*[k for _, k in stack], key)
        if not value:
            docs[-1].setdefault(path, "")
            stack.append((indent, key))
        elif value.startswith("{"):
            for sub_key, sub_value in _flow_map(value).items():
                docs[-1][(*path, *sub_key)] = sub_value
        else:
            docs[-1][path] = _unquote(value)
    return [d for d in docs if d]


def environment(text: str) -> Environment:
    """``spec.instance.environment`` of every NodeConfig document in text, merged in order."""
    env: Environment = {}
    for doc in documents(text):
        if doc.get(("kind",), "NodeConfig") != "NodeConfig":
            continue
        for path, value in doc.items():
            if len(path) == 5 and path[:3] == ("spec", "instance", "environment"):
                env.setdefault(path[3], {})[path[4]] = value
    return env


def _strip_comment(value: str) -> str:
    quote = ""
    for i, ch in enumerate(value):
        if ch in "\"'" and (not quote or quote == ch):
            quote = "" if quote else ch
        elif ch == "#" and not quote and (i == 0 or value[i - 1] in " \t"):
            return value[:i].rstrip()
    return value.strip()


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        inner = value[1:-1]
        return inner.replace('\\"', '"') if value[0] == '"' else inner.replace("''", "'")
    return value


def _flow_map(text: str) -> dict[tuple[str, ...], str]:
    """``{a: 1, b: {c: 2}}`` -> {("a",): "1", ("b", "c"): "2"}; tolerant of odd input."""
    inner = text.strip()
    if inner.startswith("{") and inner.endswith("}"):
        inner = inner[1:-1]
    out: dict[tuple[str, ...], str] = {}
    for item in _split_top(inner):
        key, sep, value = item.partition(":")
        if not sep:
            continue
        key = _unquote(key.strip())
        value = value.strip()
        if value.startswith("{"):
            for sub, sub_value in _flow_map(value).items():
                out[(key, *sub)] = sub_value
        else:
            out[(key,)] = _unquote(value)
    return out


def _split_top(text: str) -> list[str]:
    parts, depth, quote, current = [], 0, "", []
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]
