"""YAML inside a file (a ``.yaml`` file, or a Terraform heredoc), read with positions and edited by splicing.

A round-trip dump, even a comment-keeping one, re-indents sequences and
re-wraps scalars somewhere in a real file; an edit here changes only the
bytes of one value (or adds one key), so the rest of the file stays as it
was. Terraform interpolations (``${...}``) are masked with characters of the
same length before parsing, so every position read from the YAML parser is a
position in the file itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from .policy.nodeconfig import LOADER, templated, yaml_problem
from .policy.template_text import interpolations


class YamlTextError(Exception):
    """The text cannot be read as YAML; ``line`` is 1-based within the text."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message, self.line = message, line


def masked(text: str) -> str:
    """The text with each ``${...}`` replaced by as many ``x`` as it has characters (newlines kept)."""
    pieces: list[str] = []
    last = 0
    for start, end in interpolations(text):
        pieces.append(text[last:start])
        pieces.append(re.sub(r"[^\n]", "x", text[start:end]))
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def documents(text: str) -> list[yaml.Node]:
    """The documents of a YAML text, as position-carrying nodes; YamlTextError when it is not YAML."""
    if templated(text):
        raise YamlTextError("it holds %{ } template directives, so which lines it has is Terraform's decision", 1)
    try:
        return [node for node in yaml.compose_all(masked(text), Loader=LOADER) if node is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise YamlTextError(f"it is not valid YAML ({yaml_problem(exc)})", mark.line + 1 if mark else 1) from None


def child(node: yaml.Node, key: str) -> tuple[yaml.ScalarNode, yaml.Node] | None:
    """The key node and value node of ``key`` in a mapping node; None when absent or not a mapping."""
    if not isinstance(node, yaml.MappingNode):
        return None
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return key_node, value_node
    return None


def value_at(node: yaml.Node, *keys: str) -> yaml.Node | None:
    for key in keys:
        found = child(node, key)
        if found is None:
            return None
        node = found[1]
    return node


def scalar(node: yaml.Node | None, text: str) -> str | None:
    """A scalar's value as written in the file (interpolations unmasked); None for anything else."""
    if not isinstance(node, yaml.ScalarNode):
        return None
    if node.style in ("|", ">"):
        lines = block_lines(node, text)
        return "".join(line + "\n" for line in lines) if node.style == "|" else yaml.safe_load(
            text[node.start_mark.index:node.end_mark.index])
    raw = text[node.start_mark.index:node.end_mark.index]
    if "${" not in raw:
        return str(node.value)
    loaded = yaml.safe_load(raw) if node.style else raw
    return loaded if isinstance(loaded, str) else str(node.value)


def block_indent(node: yaml.ScalarNode, text: str) -> int:
    """The indentation of a block scalar's content lines, as YAML takes it: from an indentation indicator
    (``|2``: two more than the line holding it), or else from the first content line with text."""
    header = text[node.start_mark.index:].split("\n", 1)[0]
    given = re.match(r"[|>][+-]?([1-9])", header)
    if given is not None:
        line_start = text.rfind("\n", 0, node.start_mark.index) + 1
        holder = text[line_start:node.start_mark.index]
        return len(holder) - len(holder.lstrip(" ")) + int(given.group(1))
    for line in _content_lines(node, text):
        if line.strip():
            return len(line) - len(line.lstrip(" "))
    return node.start_mark.column + 2


def _content_lines(node: yaml.ScalarNode, text: str) -> list[str]:
    start = text.index("\n", node.start_mark.index) + 1 if "\n" in text[node.start_mark.index:] else len(text)
    end = node.end_mark.index
    body = text[start:end]
    lines = body.split("\n")
    if lines and lines[-1].strip() == "":
        lines = lines[:-1]
    return lines


def block_lines(node: yaml.ScalarNode, text: str) -> list[str]:
    """A literal block scalar's lines with its indentation removed (trailing blank lines dropped)."""
    indent = block_indent(node, text)
    # a blank line keeps the spaces beyond the block's indentation: they are content
    lines = [line[indent:] for line in _content_lines(node, text)]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def first_content_line(node: yaml.ScalarNode) -> int:
    """The 0-based line (in the text) of a block scalar's first content line, or of a flow scalar itself."""
    return node.start_mark.line + 1 if node.style in ("|", ">") else node.start_mark.line


@dataclass(frozen=True)
class Splice:
    """Replace ``text[start:end]`` with ``new``."""

    start: int
    end: int
    new: str


def set_block_scalar(text: str, mapping: yaml.MappingNode, key: str, value: str) -> Splice:
    """The splice that makes ``key`` of ``mapping`` a literal block scalar holding ``value``.

    An existing block scalar keeps its indicator line and indentation (a
    folded one becomes literal, or the script's lines would be joined);
    another scalar becomes ``|``; an absent key is added after the mapping's
    last line, at the indentation of its keys.
    """
    found = child(mapping, key)
    body_lines = value.rstrip("\n").split("\n")
    if found is not None:
        key_node, node = found
        if not isinstance(node, yaml.ScalarNode):
            raise YamlTextError(f"{key} is not a string", node.start_mark.line + 1)
        if node.style in ("|", ">"):
            indicator = node.start_mark.index
            start = text.index("\n", indicator) + 1
            column = block_indent(node, text)
            header = text[indicator + 1:start]
            if not re.match(r"[+-]?[1-9]", header):
                header = _indentation_indicator(body_lines, column - key_node.start_mark.column) + header
            body = _indented(body_lines, " " * column)
            return Splice(indicator, _block_end(text, node), "|" + header + body)
        indent = " " * (key_node.start_mark.column + 2)
        start, end = node.start_mark.index, node.end_mark.index
        space = "" if text[start - 1] in " \t" else " "  # an empty value follows the colon directly
        return Splice(start, end, space + "|" + _indentation_indicator(body_lines, 2) + "\n"
                      + _indented(body_lines, indent).rstrip("\n"))
    keys = [k for k, _ in mapping.value]
    if not keys:
        raise YamlTextError("the mapping is empty or written in flow style ({ })", mapping.start_mark.line + 1)
    column = keys[0].start_mark.column
    if mapping.flow_style:
        raise YamlTextError("the mapping is written in flow style ({ })", mapping.start_mark.line + 1)
    at = end_of(text, mapping)
    indent = " " * column
    lead = "" if at == 0 or text[at - 1] == "\n" else "\n"
    return Splice(at, at, f"{lead}{indent}{key}: |{_indentation_indicator(body_lines, 2)}\n"
                  + _indented(body_lines, indent + "  "))


def _indentation_indicator(lines: list[str], relative: int) -> str:
    """``|2`` rather than ``|`` when the first line with text starts with a blank: YAML would otherwise take
    that line's indentation as the block's, and read a different value (or none)."""
    first = next((line for line in lines if line.strip()), "")
    return str(relative) if first[:1] in (" ", "\t") and 0 < relative < 10 else ""


def _indented(lines: list[str], indent: str) -> str:
    return "".join((indent + line if line else "") + "\n" for line in lines)


def _block_end(text: str, node: yaml.ScalarNode) -> int:
    """Where a block scalar's content ends: after its last non-blank content line."""
    start = text.index("\n", node.start_mark.index) + 1
    end = node.end_mark.index
    body = text[start:end]
    stripped = body.rstrip(" \n")
    return start + len(stripped) + (1 if len(stripped) < len(body) else 0) if stripped else start


def end_of(text: str, node: yaml.Node) -> int:
    """The start of the line after a node's last content (blank lines and comments after it excluded).

    A collection's own end mark lies at the next token, which may be lines
    further on; its last scalar's end does not.
    """
    while isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(last, tuple) else last
    if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
        return _block_end(text, node)
    newline = text.find("\n", node.end_mark.index)
    return len(text) if newline < 0 else newline + 1
