"""Merges into the body of an existing heredoc: the AL2 script block and Bottlerocket's [settings.network].

Each merge takes the heredoc's lines and returns the new ones, keeping every
line it does not own byte for byte.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable

from .edits import CannotEdit
from .layout import common_indent
from .policy.facts import GENERATED_MARKER
from .policy.scripts import is_shell, proxy_cut, read_script
from .policy.values import dedent_heredoc, line_runs
from .toml_lines import value_comments


def merged_text(text: str, merge: Callable[[list[str]], list[str]]) -> str:
    """``merge`` applied to a text's lines; a final newline stays as it was."""
    lines = text.split("\n")
    trailing = lines[-1] == ""
    return "\n".join(merge(lines[:-1] if trailing else lines)) + ("\n" if trailing else "")


AL2_BEGIN = f"# >>> {GENERATED_MARKER}"
AL2_END = f"# <<< {GENERATED_MARKER}"
SHEBANG = "#!/bin/bash"


def merge_al2_script(block: str, notes: list[str], own_part: bool = True) -> Callable[[list[str]], list[str]]:
    """The AL2 script with the generated block in it, and the script's own proxy set-up cut out.

    The block replaces an earlier one in place, or goes after the ``#!`` line;
    a script without one gets ``#!/bin/bash`` first, since a shell part without
    it does not run at all (cloud-init: "Exec format error"); not where the
    module's template puts the script after a ``#!`` line of its own
    (``own_part`` false: self-managed groups, custom AMIs). The user's own
    proxy lines (exports, /etc/environment, drop-ins, yum.conf) would run after
    the block and override it, so they are cut as on AL2023, every other line
    kept byte for byte; when they cannot be cut exactly the group is refused.
    """
    def merge(lines: list[str]) -> list[str]:
        indent = common_indent(lines, "  ")
        new = [indent + ln if ln else ln for ln in block.rstrip("\n").split("\n")]
        starts = [i for i, ln in enumerate(lines) if ln.strip().startswith(AL2_BEGIN)]
        ends = [i for i, ln in enumerate(lines) if ln.strip().startswith(AL2_END)]
        if bool(starts) != bool(ends) or (starts and ends[0] < starts[0]):
            raise CannotEdit("an eksproxy-gen marker is present without its pair; remove the partial block")
        if starts:
            head, tail = lines[: starts[0]], lines[ends[0] + 1 :]
        else:
            at = 1 if lines and lines[0].strip().startswith("#!") else 0
            if at and not is_shell(lines[0]):
                raise CannotEdit(f"pre_bootstrap_user_data is not a shell script ({lines[0].strip()}), and the "
                                 "generated block is one: add the proxy to it by hand (`eksproxy-gen render "
                                 "--family al2` prints the block), or make it a bash script")
            head, tail = lines[:at], lines[at:]
        head, tail = _cut_proxy(head, tail, notes)
        if own_part and not (head and head[0].strip().startswith("#!")):
            own = [i for i, ln in enumerate([*head, *tail]) if ln.strip()]
            if own:
                notes.append(f"{SHEBANG} added as the first line of pre_bootstrap_user_data: cloud-init cannot run "
                             f"a script without one, so its own lines ({line_runs(own)} of the script) never ran; "
                             "they run at boot from now on, so review them")
            head = [indent + SHEBANG, *head]
        return head + new + tail
    return merge


def _cut_proxy(head: list[str], tail: list[str], notes: list[str]) -> tuple[list[str], list[str]]:
    """The script's lines around the block without its own proxy set-up; CannotEdit when it cannot be cut."""
    text = "\n".join([*head, *tail])
    facts = read_script(text)
    if not (facts.sets_proxy or facts.overwrites_etc_environment or facts.dropin_units or facts.writes_yum_conf):
        return head, tail
    cut = proxy_cut(text)
    if cut.whole:
        removed = set(cut.removable)
    elif cut.kept is not None:
        removed = set(cut.removable)
        notes.append(f"proxy lines cut from pre_bootstrap_user_data (lines {line_runs(cut.removable)} of the script); "
                     "its other commands are kept")
    else:
        why = f" because {cut.reason}" if cut.reason else ""
        raise CannotEdit(f"the script sets up the proxy itself on lines {line_runs(cut.removable)}, which would run "
                         f"after the generated block and override it, and they cannot be cut out exactly{why}; "
                         "remove them by hand")
    keep = [i not in removed for i in range(len(head) + len(tail))]
    return ([ln for i, ln in enumerate(head) if keep[i]],
            [ln for i, ln in enumerate(tail) if keep[len(head) + i]])




_NETWORK_HEADER = re.compile(r"^\s*\[\s*settings\.network\s*\]\s*(#.*)?$")


_ANY_HEADER = re.compile(r"^\s*\[")


_PROXY_KEY = re.compile(r"^\s*[\"']?(https-proxy|no-proxy)[\"']?\s*=")


def _defines_network(lines: list[str]) -> bool:
    try:
        data = tomllib.loads(dedent_heredoc("\n".join(lines)))
    except tomllib.TOMLDecodeError as exc:
        raise CannotEdit(f"bootstrap_extra_args is not valid TOML ({exc})") from None
    settings = data.get("settings")
    return isinstance(settings, dict) and "network" in settings


def merge_network_table(keys: str) -> Callable[[list[str]], list[str]]:
    """Put the generated keys first in ``[settings.network]``, dropping old proxy keys; or append the table."""
    def merge(lines: list[str]) -> list[str]:
        indent = common_indent(lines, "  ")
        new = [indent + ln for ln in keys.rstrip("\n").split("\n")]
        header = next((i for i, ln in enumerate(lines) if _NETWORK_HEADER.match(ln)), None)
        if header is None:
            if _defines_network(lines):
                raise CannotEdit("bootstrap_extra_args sets settings.network without a [settings.network] table "
                                 "header; add https-proxy and no-proxy there by hand")
            gap = [""] if lines and lines[-1].strip() else []
            return lines + gap + [indent + "[settings.network]"] + new
        body = lines[header + 1 :]
        kept: list[str] = []
        own: dict[str, tuple[list[str], str | None]] = {}
        i = 0
        while i < len(body) and not _ANY_HEADER.match(body[i]):
            line = body[i]
            key = _PROXY_KEY.match(line)
            if key is None:
                if GENERATED_MARKER not in line:
                    kept.append(line)
                i += 1
                continue
            spans, comments = value_comments("\n".join(body[i:]), key.end())
            inside = [c for at, c in comments if at < spans]
            after = next((c for at, c in comments if at == spans), None)
            earlier = own.get(key.group(1), ([], None))
            own[key.group(1)] = (earlier[0] + inside + ([earlier[1]] if earlier[1] else []), after)
            i += spans + 1
        return lines[: header + 1] + _with_comments(new, own, indent) + kept + body[i:]
    return merge


def _with_comments(new: list[str], own: dict[str, tuple[list[str], str | None]], indent: str) -> list[str]:
    """The generated key lines with the comments of the user's statements they replace: a comment after the
    value stays after the new value, comments inside a multi-line value become lines just above it."""
    out: list[str] = []
    for line in new:
        key = _PROXY_KEY.match(line)
        inside, after = own.get(key.group(1), ([], None)) if key else ([], None)
        out += [indent + comment for comment in inside]
        out.append(f"{line} {after}" if after else line)
    return out
