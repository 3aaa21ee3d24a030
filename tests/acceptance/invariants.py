"""The invariants one acceptance run checks on one tree, each failure written out with file and line.

a. errors: exit 3 or 2, "internal error", a traceback, output that is not JSON, files eksproxy-gen could not read;
b. agreement: fix and check agree (a group fix reports fixed has no fixable error left; no group gains an error;
   a group fix did not touch keeps its findings; what fix says is left is what check finds after);
c. idempotence: a second fix changes no byte;
d. bytes: every change lies inside a region fix may rewrite (see regions.py);
e. fmt: a rewritten .tf file that passed ``terraform fmt -check`` before passes after;
f. lost: no NO_PROXY entry written before disappears unless fix's notes name it;
g. render: strings and heredocs fix did not generate render as before (see rendercheck.py).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import noproxy
import regions
import rendercheck
from render import Console, Placeholders

INVARIANTS = ("a-errors", "b-agreement", "c-idempotence", "d-bytes", "e-fmt", "f-lost-no-proxy", "g-render")
_NUMBERS_IN_PLACES = re.compile(r"(:\d+(-\d+)?\b|\blines? \d+(-\d+)?(, \d+(-\d+)?)*)")
_DROPPED = re.compile(r"no longer written: (.*?) \(add them")
_AT_BOOT = re.compile(r"filled at boot \((.*?)\) are replaced")
_YAML = (".yaml", ".yml")

Json = dict[str, Any]


@dataclass
class Problem:
    invariant: str
    file: str
    line: int
    detail: str
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> Json:
        return {"invariant": self.invariant, "file": self.file, "line": self.line, "detail": self.detail,
                **self.extra}


@dataclass
class Run:
    """One eksproxy-gen command: exit code, its JSON (None if unreadable), standard error, and seconds."""

    name: str
    code: int
    data: Json | None
    stderr: str
    seconds: float


GroupKey = tuple[str, str, str, str]


def group_key(finding: Json) -> GroupKey:
    return (finding.get("module_file") or finding["file"], finding["module"], finding.get("map") or "",
            finding.get("node_group") or "")


def _message(finding: Json) -> str:
    return _NUMBERS_IN_PLACES.sub(":N", finding["message"])


def errors_invariant(runs: list[Run]) -> list[Problem]:
    problems: list[Problem] = []
    for run in runs:
        if run.code in (2, 3) or run.data is None or "Traceback" in run.stderr:
            tail = " ".join(run.stderr.split())[-400:]
            problems.append(Problem("a-errors", "", 0, f"{run.name}: exit {run.code}"
                                    f"{'' if run.data is not None else ', output is not JSON'}: {tail}"))
        for error in (run.data or {}).get("errors", []):
            kind = "internal error" if "internal error" in error["message"] else "file not read"
            problems.append(Problem("a-errors", error["file"], error["line"],
                                    f"{run.name}: {kind}: {error['message']}"))
    return problems


def _by_group(findings: list[Json]) -> dict[GroupKey, list[Json]]:
    grouped: dict[GroupKey, list[Json]] = {}
    for finding in findings:
        grouped.setdefault(group_key(finding), []).append(finding)
    return grouped


def _resolve(fixed: Json, keys: set[GroupKey], modules: list[Json]) -> GroupKey | None:
    """The group key of a group fix reports fixed (fix names the group's file, findings its module's file)."""
    module, map_name, name = fixed["module"], fixed.get("map") or "", fixed.get("node_group") or ""
    for entry in modules:
        if entry["name"] != module:
            continue
        for group in entry["groups"]:
            if group["file"] == fixed["file"] and group["name"] == name and (group["map"] or "") == map_name:
                return (entry["file"], module, map_name, name)
    same = [k for k in keys if k[1:] == (module, map_name, name)]
    for pick in ([k for k in same if k[0] == fixed["file"]],
                 [k for k in same if os.path.dirname(k[0]) == os.path.dirname(fixed["file"])], same):
        if len(pick) == 1:
            return pick[0]
    return None


def agreement_invariant(configured: Json, fix: Json, after: Json, fixable: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    before_groups = _by_group(configured["findings"])
    after_groups = _by_group(after["findings"])
    keys = set(before_groups) | set(after_groups)
    fixed_keys: set[GroupKey] = set()
    for fixed in fix["fixed"]:
        key = _resolve(fixed, keys, configured["modules"] + after["modules"])
        if key is None:
            problems.append(Problem("b-agreement", fixed["file"], 0,
                                    f"fix reports {fixed['module']}.{fixed.get('node_group')} fixed, a group check "
                                    "never named"))
            continue
        fixed_keys.add(key)
        left = [f for f in after_groups.get(key, []) if f["severity"] == "error" and f["rule"] in fixable]
        for finding in left:
            problems.append(Problem("b-agreement", finding["file"], finding["line"],
                                    f"{finding['module']}.{finding.get('node_group')}: fix reports it fixed, "
                                    f"check after still finds {finding['rule']}: {finding['message']}"))
    for key in sorted(keys):
        had = {f["rule"] for f in before_groups.get(key, []) if f["severity"] == "error"}
        for finding in after_groups.get(key, []):
            if finding["severity"] == "error" and finding["rule"] not in had:
                problems.append(Problem("b-agreement", finding["file"], finding["line"],
                                        f"{key[1]}.{key[3]}: gained {finding['rule']} after fix: {finding['message']}"))
        if key in fixed_keys:
            continue
        old = Counter((f["rule"], _message(f)) for f in before_groups.get(key, []))
        new = Counter((f["rule"], _message(f)) for f in after_groups.get(key, []))
        if old != new:
            where = (before_groups.get(key) or after_groups[key])[0]
            problems.append(Problem("b-agreement", where["file"], where["line"],
                                    f"{key[1]}.{key[3]}: fix did not touch it, yet its findings changed",
                                    {"lost": sorted(map(list, (old - new).elements())),
                                     "gained": sorted(map(list, (new - old).elements()))}))
    said_left = Counter((f["rule"], f["file"], f["module"], f.get("node_group"), _message(f)) for f in fix["findings"]
                        if not (f["rule"] == "EKSP010" and f["message"].startswith("not rewritten")))
    found = Counter((f["rule"], f["file"], f["module"], f.get("node_group"), _message(f)) for f in after["findings"])
    if said_left != found:
        problems.append(Problem("b-agreement", "", 0, "what fix says is left differs from what check finds after",
                                {"only_fix": sorted(map(list, (said_left - found).elements()))[:20],
                                 "only_check": sorted(map(list, (found - said_left).elements()))[:20]}))
    return problems


def idempotence_invariant(first: dict[str, str], second: dict[str, str], fix2: Json | None) -> list[Problem]:
    problems = [Problem("c-idempotence", path, 0, "the second fix changed this file")
                for path in sorted(set(first) | set(second)) if first.get(path) != second.get(path)]
    if fix2 is not None and fix2.get("files_changed") and not problems:
        problems.append(Problem("c-idempotence", "", 0, f"the second fix reports changes: {fix2['files_changed']}"))
    return problems


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", "surrogateescape")


def _folder_tf(root: Path, rel: str) -> list[str]:
    folder = (root / rel).parent
    return [_read(p) for p in sorted(folder.glob("*.tf")) if p.is_file()]


def bytes_invariant(before_root: Path, after_root: Path, changed: list[str], added: list[str],
                    removed: list[str]) -> list[Problem]:
    problems = [Problem("d-bytes", path, 0, "fix created this file") for path in added]
    problems += [Problem("d-bytes", path, 0, "fix deleted this file") for path in removed]
    for rel in changed:
        before, after = _read(before_root / rel), _read(after_root / rel)
        if rel.endswith(".tf"):
            names = regions.referenced_locals(_folder_tf(before_root, rel) + _folder_tf(after_root, rel))
            hunks = regions.outside_hunks(before, after, True, names)
        elif rel.endswith(_YAML):
            hunks = regions.outside_hunks(before, after, False, set())
        else:
            if not _read_by_user_data(before_root, rel):
                problems.append(Problem("d-bytes", rel, 0, "fix changed a file no user-data attribute reads"))
            continue
        for hunk in hunks:
            problems.append(Problem("d-bytes", rel, hunk.before_lines[0],
                                    f"changed outside a user-data region (before lines {hunk.before_lines[0]}-"
                                    f"{hunk.before_lines[1]}, after lines {hunk.after_lines[0]}-{hunk.after_lines[1]})",
                                    {"before": hunk.before[:12], "after": hunk.after[:12]}))
    return problems


def _read_by_user_data(root: Path, rel: str) -> bool:
    """Whether a .tf file in the file's folder or above names it (fix edits a template where it is defined)."""
    name = os.path.basename(rel)
    folder = (root / rel).parent
    while True:
        for tf in folder.glob("*.tf"):
            if name in _read(tf):
                return True
        if folder == root or root not in folder.parents:
            return False
        folder = folder.parent


def fmt_clean(terraform: str, path: Path) -> bool:
    env = {"TF_CLI_CONFIG_FILE": "/dev/null", "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "HOME": str(path.parent), "CHECKPOINT_DISABLE": "1"}
    proc = subprocess.run([terraform, "fmt", "-check", "-list=false", str(path)], env=env, capture_output=True,
                          text=True, check=False, timeout=120)
    return proc.returncode == 0


@dataclass
class FmtCounts:
    clean_before: int = 0
    clean_after: int = 0
    files: int = 0


def fmt_invariant(terraform: str, before_root: Path, after_root: Path, changed: list[str],
                  counts: FmtCounts) -> list[Problem]:
    problems: list[Problem] = []
    for rel in changed:
        if not rel.endswith(".tf"):
            continue
        counts.files += 1
        before = fmt_clean(terraform, before_root / rel)
        after = fmt_clean(terraform, after_root / rel)
        counts.clean_before += before
        counts.clean_after += after
        if before and not after:
            problems.append(Problem("e-fmt", rel, 0, "terraform fmt -check passed before fix and fails after"))
    return problems


def named_in_notes(notes: list[Json]) -> set[str]:
    """NO_PROXY entries fix's notes say it drops (or replaces by vpc_cidrs) on purpose."""
    named: set[str] = set()
    for note in notes:
        for pattern in (_DROPPED, _AT_BOOT):
            for found in pattern.finditer(note["note"]):
                named.update(noproxy.split_entries(found.group(1)))
    return named


def lost_invariant(before_root: Path, after_root: Path, changed: list[str], notes: list[Json]) -> list[Problem]:
    named = named_in_notes(notes)
    problems: list[Problem] = []
    for rel in changed:
        before, after = _read(before_root / rel), _read(after_root / rel)
        lost = noproxy.entries(before) - noproxy.entries(after) - named
        for entry in sorted(lost):
            line = next((i + 1 for i, ln in enumerate(before.split("\n")) if entry in ln.lower()), 0)
            problems.append(Problem("f-lost-no-proxy", rel, line, f"NO_PROXY entry {entry} is gone after fix, and "
                                    "no note of fix names it", {"entry": entry}))
    return problems


@dataclass
class RenderCounts:
    compared: int = 0
    unrenderable: int = 0
    console_runs: int = 0


def render_invariant(console: Console, before_root: Path, after_root: Path, changed: list[str], notes: list[Json],
                     counts: RenderCounts) -> list[Problem]:
    holders = Placeholders()
    problems: list[Problem] = []
    cut_notes = [n for n in notes if "proxy lines cut" in n["note"]]
    shebang_notes = [n for n in notes if f"{rendercheck.SHEBANG} added as the first line" in n["note"]]
    for rel in changed:
        if not rel.endswith(".tf"):
            continue
        told = rendercheck.Told(cut=any(n["file"] == rel or rel in n["note"] for n in cut_notes),
                                shebang=any(n["file"] == rel for n in shebang_notes))
        result = rendercheck.check_file(rel, _read(before_root / rel), _read(after_root / rel), told, console,
                                        holders)
        counts.compared += result.compared
        counts.unrenderable += result.unrenderable
        for mismatch in result.mismatches:
            problems.append(Problem("g-render", mismatch.file, mismatch.line, f"{mismatch.kind}: {mismatch.detail}",
                                    {"before": mismatch.before[:2000], "after": mismatch.after[:2000]}))
    counts.console_runs = console.runs
    return problems
