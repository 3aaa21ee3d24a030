"""The render invariant: every string and heredoc fix did not generate renders as it did before.

Templates of a rewritten file are lined up before and after by their source text. Identical ones render
identically; the others are rendered by Terraform (see render.py) and must give the same text, or the
same text with whole proxy lines removed where fix's notes say it cut proxy lines. Generated pieces carry
the ``eksproxy-gen:generated`` marker: a part object holding a marked template is left out whole, a marked
block inside a user's script (between ``>>>`` and ``<<<`` marker lines) or a marked TOML line with the
settings after it is taken out of the rendered text before comparing. A template that disappears is
accepted only as part of a whole part that did nothing but set up the proxy.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

import regions
from hclscan import Scan, Template, line_of, scan
from render import Console, Placeholders, Rendered, renderable

MARKER = "eksproxy-gen:generated"
SHEBANG = "#!/bin/bash"
_PROXY_LINE = re.compile(
    r"(?i)(https?_proxy|no_proxy|https?-proxy|no-proxy|\bproxy\s*=|/etc/environment|yum\.conf|dnf\.conf|"
    r"\.service\.d|drop-in|systemctl|EnvironmentFile|Environment=|proxy)")
_NEUTRAL_LINE = re.compile(
    r"^\s*(?:|#.*|set -[a-z]+(?: [a-z]+)*|---|[A-Z_]{2,}|apiVersion:\s*node\.eks\.aws/\S+|kind:\s*NodeConfig|"
    r"[A-Za-z_][\w-]*:|\[Service\]|\[settings\.network\]|[a-z]+/[a-z0-9.+-]+|NodeConfig|node\.eks\.aws/\S+|"
    r"[\w.-]+\.(?:sh|ya?ml|conf|cfg))\s*$")
_TOML_PROXY_KEY = re.compile(r"^\s*(https-proxy|no-proxy|http-proxy)\s*=")


@dataclass(frozen=True)
class Told:
    """What fix's notes say it did to a file's user text: cut proxy lines, added a #! line to a script."""

    cut: bool = False
    shebang: bool = False


@dataclass
class Mismatch:
    file: str
    line: int
    kind: str
    detail: str
    before: str = ""
    after: str = ""


@dataclass
class FileRender:
    """What the render check found in one file: mismatches, how many templates it rendered, what it could not."""

    mismatches: list[Mismatch] = field(default_factory=list)
    compared: int = 0
    unrenderable: int = 0


def strip_generated(text: str) -> str:
    """The rendered text without generated blocks and marked lines (with the TOML settings after a marker)."""
    out: list[str] = []
    inside = False
    after_marker = False
    for line in text.split("\n"):
        if MARKER in line and ">>>" in line:
            inside = True
            continue
        if inside:
            if MARKER in line and "<<<" in line:
                inside = False
            continue
        if MARKER in line:
            after_marker = True
            continue
        if after_marker and _TOML_PROXY_KEY.match(line):
            continue
        after_marker = False
        out.append(line)
    return "\n".join(out)


def is_proxy_line(line: str) -> bool:
    return bool(_PROXY_LINE.search(line))


def _line_changes(before: str, after: str) -> tuple[list[str], list[str]]:
    """The lines ``after`` lacks and the lines it has in their place or in addition."""
    old, new = before.split("\n"), after.split("\n")
    removed: list[str] = []
    added: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op in ("delete", "replace"):
            removed += old[i1:i2]
        if op in ("insert", "replace"):
            added += new[j1:j2]
    return removed, added


def _generated_objects(parsed: Scan) -> set[int]:
    text = parsed.text
    return {t.obj for t in parsed.templates if t.obj >= 0 and t.attrs and t.attrs[-1] == "content"
            and MARKER in text[t.start:t.end] and not _marked_inside(text[t.start:t.end])}


def _marked_inside(source: str) -> bool:
    """A template whose marker is an inserted block or TOML line, not a whole generated part."""
    return ">>>" in source or bool(re.search(r"#[^\n]*" + MARKER + r"[^\n]*\n\s*(https-proxy|no-proxy)\s*=", source))


def _units(parsed: Scan) -> list[Template]:
    generated = _generated_objects(parsed)
    return [t for t in parsed.templates if t.obj not in generated]


@dataclass
class _Side:
    text: str
    units: list[Template]
    sources: list[str]


def _items(side: _Side) -> list[tuple[tuple[str, ...], list[int]]]:
    """Templates grouped by the part object holding them, so whole parts line up before and after."""
    items: list[tuple[tuple[str, ...], list[int]]] = []
    for index, template in enumerate(side.units):
        if items and template.obj >= 0 and side.units[items[-1][1][-1]].obj == template.obj:
            key, members = items[-1]
            items[-1] = ((*key, side.sources[index]), [*members, index])
        else:
            items.append(((side.sources[index],), [index]))
    return items


def _item_score(old_units: list[int], new_units: list[int], old_r: dict[int, Rendered],
                new_r: dict[int, Rendered], told: Told) -> float:
    """How much of an old part a new one keeps: 1 per template kept whole, 0.5 per template much alike."""
    score = 0.0
    for i in old_units:
        candidates = [(j, new_r[j]) for j in new_units]
        found = _match(old_r[i], candidates, told)
        if found is not None:
            score += 0.5 if found[1] else 1.0
    return score


def _pair_items(olds: list[list[int]], news: list[list[int]], old_r: dict[int, Rendered],
                new_r: dict[int, Rendered], told: Told) -> list[tuple[list[int], list[int]]]:
    """Old parts paired with the new parts that keep most of them (best pairs first); unpaired ones get none."""
    scores = sorted(((_item_score(o, n, old_r, new_r, told), -a, -b), a, b)
                    for a, o in enumerate(olds) for b, n in enumerate(news))
    paired: dict[int, int] = {}
    used: set[int] = set()
    for (score, _, _), a, b in reversed(scores):
        if score <= 0 or a in paired or b in used:
            continue
        paired[a] = b
        used.add(b)
    return [(units, news[paired[a]] if a in paired else []) for a, units in enumerate(olds)]


def check_file(display: str, before: str, after: str, told: Told, console: Console,
               holders: Placeholders) -> FileRender:
    """Compare every non-generated template of one rewritten file, rendering those that changed."""
    result = FileRender()
    old_scan, new_scan = scan(before), scan(after)
    old = _Side(before, _units(old_scan), [])
    new = _Side(after, _units(new_scan), [])
    old.sources = [before[t.start:t.end] for t in old.units]
    new.sources = [after[t.start:t.end] for t in new.units]
    old_items, new_items = _items(old), _items(new)
    matcher = difflib.SequenceMatcher(None, [k for k, _ in old_items], [k for k, _ in new_items], autojunk=False)
    regions = [([units for _, units in old_items[i1:i2]], [units for _, units in new_items[j1:j2]])
               for op, i1, i2, j1, j2 in matcher.get_opcodes() if op != "equal"]
    todo_old = [i for olds, _ in regions for units in olds for i in units]
    todo_new = [j for _, news in regions for units in news for j in units]
    rendered = console.render([renderable(before, old.units[i], holders) for i in todo_old]
                              + [renderable(after, new.units[j], holders) for j in todo_new])
    old_r = dict(zip(todo_old, rendered[:len(todo_old)], strict=True))
    new_r = dict(zip(todo_new, rendered[len(todo_old):], strict=True))
    result.compared = len(rendered)
    result.unrenderable = sum(1 for r in rendered if r.text is None)
    vanished: list[int] = []
    for olds, news in regions:
        for old_units, new_units in _pair_items(olds, news, old_r, new_r, told):
            free = list(new_units)
            for i in old_units:
                match = _match(old_r[i], [(j, new_r[j]) for j in free], told)
                if match is None:
                    vanished.append(i)
                    continue
                j, problem = match
                free.remove(j)
                if problem:
                    result.mismatches.append(Mismatch(display, line_of(before, old.units[i].start), "render",
                                                      problem, old_r[i].text or "",
                                                      strip_generated(new_r[j].text or "")))
    _judge_vanished(display, old, old_scan, new_scan, vanished, old_r, result)
    return result


_ENV_NAME = re.compile(r"^\s*-?\s*name:\s*[\"']?([A-Za-z_]+)[\"']?\s*$")
_ENV_VALUE = re.compile(r"^\s*value:\s*(.*?)\s*$")
_PROXY_VARS = {"http_proxy", "https_proxy", "no_proxy"}


@dataclass
class _YamlParts:
    """A rendered text split into what fix must keep as it is and the YAML values it may rewrite."""

    core: str
    env: list[tuple[str, str]]
    user_data: list[str]


def _split_yaml(text: str) -> _YamlParts:
    """The rendered text without ``userData`` values and ``controller.env`` (fix writes there), and those values."""
    lines = text.split("\n")
    spans = regions.yaml_line_spans(lines)
    if not spans:
        return _YamlParts(text, [], [])
    dropped: set[int] = set()
    pairs: list[tuple[str, str]] = []
    user_data: list[str] = []
    for first, end in spans:
        dropped.update(range(first, end))
        if lines[first].lstrip(" -").startswith("userData"):
            user_data += [ln.strip() for ln in lines[first + 1:end] if ln.strip()]
            continue
        name = ""
        for line in lines[first:end]:
            named, valued = _ENV_NAME.match(line), _ENV_VALUE.match(line)
            if named:
                name = named.group(1)
            elif valued and name:
                pairs.append((name, valued.group(1)))
                name = ""
    kept = [line for i, line in enumerate(lines) if i not in dropped]
    return _YamlParts("\n".join(regions.drop_emptied_controllers(kept)), pairs, user_data)


def _compare(old_text: str, new_text: str, told: Told) -> str | None:
    """None when ``new_text`` (a rendered after-template) keeps everything of ``old_text``; else what it lost."""
    marked = MARKER in new_text
    old_parts, new_parts = _split_yaml(old_text), _split_yaml(strip_generated(new_text))
    old_core, new_core = old_parts.core, new_parts.core
    lost_env = [pair for pair in old_parts.env if pair not in new_parts.env and pair[0].lower() not in _PROXY_VARS]
    if lost_env:
        return f"controller.env entries lost: {lost_env[:3]}"
    lost_user_data = [ln for ln in old_parts.user_data if ln not in new_parts.user_data and not is_proxy_line(ln)]
    if lost_user_data:
        return f"userData lines lost: {lost_user_data[:3]}"
    if old_core == new_core:
        return None
    removed, added = _line_changes(old_core, new_core)
    added = [ln for ln in added if not (marked and ln.strip() in ("", "[settings.network]"))
             and not (told.shebang and ln.strip() == SHEBANG)]
    if added:
        return f"lines added or changed: {added[:3]}"
    if all(_TOML_PROXY_KEY.match(ln) for ln in removed if ln.strip()) and marked:
        return None
    unexplained = [ln for ln in removed if ln.strip() and not is_proxy_line(ln)]
    if unexplained:
        return f"lines removed that do not set up the proxy: {unexplained[:3]}"
    if not told.cut:
        return f"proxy lines removed without a note saying fix cut them: {removed[:3]}"
    return None


def _match(old: Rendered, candidates: list[tuple[int, Rendered]], told: Told) -> tuple[int, str] | None:
    """The first after-template that keeps all of ``old``; else the most alike one (60 %) with what it lost."""
    if old.text is None:
        for j, new in candidates:
            if new.text is None:
                return j, ""
        return None
    for j, new in candidates:
        if new.text is not None and _compare(old.text, new.text, told) is None:
            return j, ""
    best: tuple[float, int, str] = (0.0, -1, "")
    core_old = _split_yaml(old.text).core
    for j, new in candidates:
        if new.text is None:
            continue
        core_new = _split_yaml(strip_generated(new.text)).core
        ratio = difflib.SequenceMatcher(None, core_old, core_new, autojunk=False).ratio()
        if ratio > best[0]:
            best = (ratio, j, _compare(old.text, new.text, told) or "")
    if best[0] < 0.6:
        return None
    return best[1], f"renders differently after fix: {best[2]}"


def _judge_vanished(display: str, old: _Side, old_scan: Scan, new_scan: Scan, vanished: list[int],
                    old_r: dict[int, Rendered], result: FileRender) -> None:
    """Templates with no counterpart after fix: fine only as a whole proxy-only part that was replaced."""
    by_object: dict[int, list[int]] = {}
    for i in vanished:
        by_object.setdefault(old.units[i].obj, []).append(i)
    for obj, indexes in by_object.items():
        members = [k for k, t in enumerate(old.units) if t.obj == obj]
        whole = obj >= 0 and sorted(members) == sorted(indexes)
        texts = [old_r[i].text or "" for i in indexes]
        lines = [ln for text in texts for ln in text.split("\n") if ln.strip()]
        proxy = any(is_proxy_line(ln) for ln in lines)
        other = [ln for ln in lines if not is_proxy_line(ln) and not _NEUTRAL_LINE.match(ln)]
        if whole and proxy and not other:
            continue
        for i in indexes:
            template = old.units[i]
            why = ("a string of a part that also did other work disappeared" if whole and proxy
                   else "a string disappeared or changed" if not whole else "a part with no proxy set-up disappeared")
            result.mismatches.append(Mismatch(display, line_of(old.text, template.start), "vanished",
                                              f"{why}: {other[:3] if whole else ''}".rstrip(": []"),
                                              old_r[i].text or old.text[template.start:template.end], ""))
