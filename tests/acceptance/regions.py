"""Byte preservation: what is left of a file once every region fix may rewrite is taken out.

A rewrite may touch a node group's user-data attributes (``cloudinit_pre_nodeadm``,
``pre_bootstrap_user_data``, ``bootstrap_extra_args``, ...), wherever they are written (a group, a
defaults map, a local), a local that such an attribute reads, and in YAML (EC2NodeClass files, or YAML
inside a heredoc) a ``userData`` value or the Karpenter controller's ``controller.env``. Everything else
must stay byte for byte: the skeletons of a file before and after fix (the file without those regions,
and without blank lines just above them) must be equal.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from hclscan import scan

USER_DATA_ATTRIBUTES = frozenset({
    "cloudinit_pre_nodeadm", "cloudinit_post_nodeadm", "pre_bootstrap_user_data", "post_bootstrap_user_data",
    "bootstrap_extra_args", "user_data_template_path",
})
_LOCAL_REF = re.compile(r"\blocal\.([A-Za-z_][\w-]*)")
_YAML_KEY = re.compile(r"^(?P<indent>[ \t]*)(?:-[ \t]+)?(?P<key>[A-Za-z_][\w.-]*|\"[^\"]*\"|'[^']*')[ \t]*:(?:[ \t]|$)")


@dataclass
class Hunk:
    """Lines that differ outside the rewritable regions: 1-based line numbers before and after, and the text."""

    before_lines: tuple[int, int]
    after_lines: tuple[int, int]
    before: list[str]
    after: list[str]


def referenced_locals(tf_texts: list[str]) -> set[str]:
    """Names of locals read from user-data attributes in these files (fix may edit a value where it is defined)."""
    names: set[str] = set()
    for text in tf_texts:
        for attr in scan(text).attributes:
            if attr.name in USER_DATA_ATTRIBUTES:
                names.update(_LOCAL_REF.findall(text[attr.start:attr.end]))
    return names


def _hcl_spans(text: str, extra_names: set[str]) -> list[tuple[int, int]]:
    wanted = USER_DATA_ATTRIBUTES | extra_names
    return [(a.start, a.end) for a in scan(text).attributes if a.name in wanted]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _block_end(lines: list[str], index: int, indent: int) -> int:
    """The index after a YAML key's value: the next non-blank line indented no deeper than the key."""
    end = index + 1
    last = index + 1
    while end < len(lines):
        if lines[end].strip():
            if _indent(lines[end]) <= indent:
                break
            last = end + 1
        end += 1
    return last


def yaml_line_spans(lines: list[str]) -> list[tuple[int, int]]:
    """Line ranges of ``userData`` values and of ``env`` under ``controller`` (index ranges, end exclusive)."""
    spans: list[tuple[int, int]] = []
    parents: list[tuple[int, str]] = []
    for index, line in enumerate(lines):
        key = _YAML_KEY.match(line)
        if key is None:
            continue
        name = key.group("key").strip("\"'")
        column = key.start("key")
        while parents and parents[-1][0] >= column:
            parents.pop()
        parent = parents[-1][1] if parents else ""
        if name == "userData" or (name == "env" and parent == "controller"):
            spans.append((index, _block_end(lines, index, column)))
        parents.append((column, name))
    return spans


def skeleton(text: str, tf: bool, extra_names: set[str]) -> list[tuple[int, str]]:
    """The file's lines (numbered from 1) outside rewritable regions, with blank lines just above them dropped.

    A missing final newline is not told apart from a present one: appending a value to a file whose last
    line has none must add it.
    """
    lines = text.split("\n")
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    removed = [False] * len(lines)
    spans = yaml_line_spans(lines)
    if tf:
        for start, end in _hcl_spans(text, extra_names):
            first = text.count("\n", 0, start)
            last = text.count("\n", 0, end)
            whole = not text[starts[first]:start].strip() and not lines[last][end - starts[last]:].strip(" \t\r,")
            if whole:
                spans.append((first, last + 1))
    for first, end in spans:
        for index in range(first, end):
            removed[index] = True
        back = first - 1
        while back >= 0 and not lines[back].strip() and not removed[back]:
            removed[back] = True
            back -= 1
    kept = [(i + 1, line) for i, line in enumerate(lines) if not removed[i]]
    return _drop_emptied_numbered(kept)


def _drop_emptied_numbered(kept: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """A ``controller:`` key left with nothing under it (fix may create it for ``env``) is dropped too."""
    result: list[tuple[int, str]] = []
    for position, (number, line) in enumerate(kept):
        key = _YAML_KEY.match(line)
        if key and key.group("key") == "controller" and not line.split(":", 1)[1].strip():
            following = next((ln for _, ln in kept[position + 1:] if ln.strip()), "")
            if not following or _indent(following) <= key.start("key"):
                continue
        result.append((number, line))
    return result


def outside_hunks(before: str, after: str, tf: bool, extra_names: set[str]) -> list[Hunk]:
    """Where the two skeletons differ: changes fix made outside every region it may rewrite."""
    old = skeleton(before, tf, extra_names)
    new = skeleton(after, tf, extra_names)
    matcher = difflib.SequenceMatcher(None, [t for _, t in old], [t for _, t in new], autojunk=False)
    hunks: list[Hunk] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        b_lines = (old[i1][0], old[i2 - 1][0]) if i2 > i1 else (old[i1 - 1][0] if i1 else 0,) * 2
        a_lines = (new[j1][0], new[j2 - 1][0]) if j2 > j1 else (new[j1 - 1][0] if j1 else 0,) * 2
        hunks.append(Hunk(b_lines, a_lines, [t for _, t in old[i1:i2]], [t for _, t in new[j1:j2]]))
    return hunks


def drop_emptied_controllers(lines: list[str]) -> list[str]:
    """Plain lines without a ``controller:`` key left with nothing under it."""
    return [line for _, line in _drop_emptied_numbered(list(enumerate(lines)))]
