"""Acceptance over real Terraform: run eksproxy-gen on every tree of a corpus and check its invariants.

    python tests/acceptance/accept.py --corpus /work/corpus --out DIR [--eksproxy-gen PATH] [--only NAME ...]
    python tests/acceptance/accept.py --compare DIR_A DIR_B

For each tree (a folder of the corpus), in a fresh temporary copy: ``check`` before; ``check`` again with a
fixed ``.eksproxy-gen.toml`` at the copy's root; ``fix``; ``check`` after; a second ``fix``. Then the
invariants of invariants.py, counted per tree and in total. Writes DIR/<tree>/ (before.json,
configured.json, fix.json, after.json, fix2.json, diff.patch, problems.json) and DIR/summary.json and
DIR/summary.txt. ``--compare`` prints what differs between two runs (findings, fixed groups, refusals and
each tree's diff), so a refactor can be shown to change nothing. The corpus itself is never modified and
nothing of it is kept here; see README.md beside this file for how it is built.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import invariants
from invariants import INVARIANTS, FmtCounts, Json, Problem, RenderCounts, Run
from render import Console, find_terraform

PROXY = "http://proxy.corp.example:3128"
SETTINGS = f'proxy = "{PROXY}"\nvpc_cidrs = ["10.0.0.0/16"]\n'
SETTINGS_FILE = ".eksproxy-gen.toml"
_REASON_DETAILS = re.compile(r"(\S+\.(tf|ya?ml|tpl|sh)(:\d+)?|\b\d+\b|\"[^\"]*\"|`[^`]*`)")


@dataclass
class TreeResult:
    name: str
    seconds: float
    problems: list[Problem]
    modules: int = 0
    groups: int = 0
    findings: Counter[str] = field(default_factory=Counter)
    findings_after: Counter[str] = field(default_factory=Counter)
    fixed: int = 0
    refusals: Counter[str] = field(default_factory=Counter)
    files_changed: int = 0
    fmt: FmtCounts = field(default_factory=FmtCounts)
    render: RenderCounts = field(default_factory=RenderCounts)

    def counts(self) -> dict[str, int]:
        return {name: sum(1 for p in self.problems if p.invariant == name) for name in INVARIANTS}


def default_tool() -> str:
    beside = Path(sys.executable).parent / "eksproxy-gen"
    return str(beside) if beside.exists() else (shutil.which("eksproxy-gen") or "eksproxy-gen")


def run_tool(tool: str, name: str, args: list[str], cwd: Path, env: dict[str, str]) -> Run:
    started = time.monotonic()
    try:
        proc = subprocess.run([tool, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Run(name, -1, None, f"could not run {tool}: {exc}", time.monotonic() - started)
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        data = None
    return Run(name, proc.returncode, data, proc.stderr, time.monotonic() - started)


def snapshot(root: Path) -> dict[str, str]:
    """Every file under root (links as their target text), by relative path, as a content hash."""
    found: dict[str, str] = {}
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in files:
            path = Path(folder) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                found[rel] = "link:" + os.readlink(path)
                continue
            found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def unified(before_root: Path, after_root: Path, changed: list[str]) -> str:
    out: list[str] = []
    for rel in changed:
        old = (before_root / rel).read_bytes().decode("utf-8", "replace").splitlines(keepends=True)
        new = (after_root / rel).read_bytes().decode("utf-8", "replace").splitlines(keepends=True)
        out += difflib.unified_diff(old, new, f"a/{rel}", f"b/{rel}")
    return "".join(out)


def refusal_reason(message: str) -> str:
    """A refusal's reason without the names, numbers and places that differ between groups."""
    text = message.removeprefix("not rewritten: ")
    return _REASON_DETAILS.sub("…", text)[:160]


def run_tree(tree: Path, out: Path, tool: str, terraform: str, fixable: set[str]) -> TreeResult:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="eksproxy-accept-") as tmp:
        copy = Path(tmp) / tree.name
        shutil.copytree(tree, copy, symlinks=True)
        env = {**os.environ, "NO_COLOR": "1", "EKSPROXY_GEN_CACHE_DIR": str(Path(tmp) / "cache")}
        env.pop("GITHUB_STEP_SUMMARY", None)
        json_args = ["--format", "json", "--no-cache", "."]
        before = run_tool(tool, "check before", ["check", *json_args], copy, env)
        (copy / SETTINGS_FILE).write_text(SETTINGS, encoding="utf-8")
        configured = run_tool(tool, "check with settings", ["check", *json_args], copy, env)
        state0 = snapshot(copy)
        fix = run_tool(tool, "fix", ["fix", *json_args], copy, env)
        state1 = snapshot(copy)
        fixed = Path(tmp) / "fixed"
        for rel in sorted(p for p in state1 if state0.get(p) != state1[p]):
            (fixed / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(copy / rel, fixed / rel, follow_symlinks=False)
        after = run_tool(tool, "check after", ["check", *json_args], copy, env)
        fix2 = run_tool(tool, "second fix", ["fix", *json_args], copy, env)
        state2 = snapshot(copy)
        changed = sorted(p for p in state0.keys() & state1.keys() if state0[p] != state1[p])
        added = sorted(state1.keys() - state0.keys())
        removed = sorted(state0.keys() - state1.keys())
        runs = [before, configured, fix, after, fix2]
        result = TreeResult(tree.name, 0.0, invariants.errors_invariant(runs))
        (out / tree.name).mkdir(parents=True, exist_ok=True)
        for run, file in zip(runs, ("before", "configured", "fix", "after", "fix2"), strict=True):
            (out / tree.name / f"{file}.json").write_text(json.dumps(
                {"exit": run.code, "seconds": round(run.seconds, 3), "stderr": run.stderr[-4000:],
                 "report": run.data}, indent=2), encoding="utf-8")
        (out / tree.name / "diff.patch").write_text(unified(tree, fixed, changed), encoding="utf-8")
        if configured.data and fix.data and after.data:
            result.problems += invariants.agreement_invariant(configured.data, fix.data, after.data, fixable)
        result.problems += invariants.idempotence_invariant(state1, state2, fix2.data)
        result.problems += invariants.bytes_invariant(tree, fixed, changed, added, removed)
        result.problems += invariants.fmt_invariant(terraform, tree, fixed, changed, result.fmt)
        notes = fix.data.get("notes", []) if fix.data else []
        result.problems += invariants.lost_invariant(tree, fixed, changed, notes)
        result.problems += invariants.render_invariant(Console(terraform), tree, fixed, changed, notes,
                                                       result.render)
        _tally(result, before.data, after.data, fix.data, changed)
    result.seconds = time.monotonic() - started
    (out / tree.name / "problems.json").write_text(json.dumps(
        {"tree": tree.name, "counts": result.counts(), "problems": [p.as_dict() for p in result.problems]},
        indent=2), encoding="utf-8")
    return result


def _tally(result: TreeResult, before: Json | None, after: Json | None, fix: Json | None, changed: list[str]) -> None:
    if before:
        result.modules = len(before["modules"])
        module_groups = sum(len(m["groups"]) for m in before["modules"])
        others = {(f["module_file"], f["module"], f["node_group"]) for f in before["findings"]
                  if not any(f["module"] == m["name"] and f["module_file"] == m["file"] for m in before["modules"])}
        result.groups = module_groups + len(others)
        result.findings = Counter(f["rule"] for f in before["findings"])
    if after:
        result.findings_after = Counter(f["rule"] for f in after["findings"])
    if fix:
        result.fixed = len(fix["fixed"])
        result.refusals = Counter(refusal_reason(f["message"]) for f in fix["findings"]
                                  if f["rule"] == "EKSP010" and f["message"].startswith("not rewritten"))
    result.files_changed = len(changed)


def fixable_rules(tool: str) -> set[str]:
    proc = subprocess.run([tool, "rules", "--format", "json"], capture_output=True, text=True, check=True)
    data = json.loads(proc.stdout)
    rules = data["rules"] if isinstance(data, dict) else data
    return {r["id"] for r in rules if r.get("fixable")}


def summarize(results: list[TreeResult], seconds: float, console_runs: int) -> Json:
    totals: Counter[str] = Counter()
    for r in results:
        totals.update(r.counts())
    findings: Counter[str] = Counter()
    findings_after: Counter[str] = Counter()
    refusals: Counter[str] = Counter()
    for r in results:
        findings.update(r.findings)
        findings_after.update(r.findings_after)
        refusals.update(r.refusals)
    return {
        "trees": len(results),
        "modules": sum(r.modules for r in results),
        "groups": sum(r.groups for r in results),
        "findings_by_rule": dict(sorted(findings.items())),
        "findings_after_by_rule": dict(sorted(findings_after.items())),
        "groups_fixed": sum(r.fixed for r in results),
        "refusals_by_reason": dict(refusals.most_common()),
        "files_changed": sum(r.files_changed for r in results),
        "tf_files_rewritten": sum(r.fmt.files for r in results),
        "fmt_clean_before": sum(r.fmt.clean_before for r in results),
        "fmt_clean_after": sum(r.fmt.clean_after for r in results),
        "templates_rendered": sum(r.render.compared for r in results),
        "templates_unrenderable": sum(r.render.unrenderable for r in results),
        "terraform_console_runs": console_runs,
        "problems": {
            "internal_or_parse_errors": totals["a-errors"],
            "agreement_failures": totals["b-agreement"],
            "idempotence_failures": totals["c-idempotence"],
            "bytes_outside_groups": totals["d-bytes"],
            "fmt_regressions": totals["e-fmt"],
            "lost_no_proxy_entries": totals["f-lost-no-proxy"],
            "render_mismatches": totals["g-render"],
        },
        "per_tree": {r.name: {"seconds": round(r.seconds, 2), "modules": r.modules, "groups": r.groups,
                              "fixed": r.fixed, "files_changed": r.files_changed, **r.counts()} for r in results},
        "seconds": round(seconds, 1),
    }


def summary_text(summary: Json) -> str:
    lines = [f"trees {summary['trees']}, modules {summary['modules']}, groups {summary['groups']}, "
             f"groups fixed {summary['groups_fixed']}, files changed {summary['files_changed']} "
             f"({summary['tf_files_rewritten']} .tf: fmt-clean {summary['fmt_clean_before']} before, "
             f"{summary['fmt_clean_after']} after)",
             f"templates rendered {summary['templates_rendered']} "
             f"(unrenderable {summary['templates_unrenderable']}) in {summary['terraform_console_runs']} "
             f"terraform console runs; time {summary['seconds']} s",
             "findings by rule (before): " + ", ".join(f"{k} {v}" for k, v in summary["findings_by_rule"].items()),
             "findings by rule (after fix): "
             + ", ".join(f"{k} {v}" for k, v in summary["findings_after_by_rule"].items()),
             "refusals by reason:"]
    lines += [f"  {count:4d}  {reason}" for reason, count in summary["refusals_by_reason"].items()] or ["  none"]
    lines.append("problems: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in summary["problems"].items()))
    lines.append("per tree (trees with problems):")
    for name, tree in summary["per_tree"].items():
        bad = {k: v for k, v in tree.items() if k in INVARIANTS and v}
        if bad:
            lines.append(f"  {name}: " + ", ".join(f"{k} {v}" for k, v in bad.items()))
    return "\n".join(lines) + "\n"


def accept(corpus: Path, out: Path, tool: str, only: list[str], jobs: int) -> int:
    terraform = find_terraform()
    if terraform is None:
        print("terraform is not on PATH: it is the fmt and render oracle", file=sys.stderr)
        return 2
    trees = sorted(p for p in corpus.iterdir() if p.is_dir() and not p.name.startswith("."))
    if only:
        unknown = sorted(set(only) - {p.name for p in trees})
        if unknown:
            print(f"no such tree in {corpus}: {', '.join(unknown)}", file=sys.stderr)
            return 2
        trees = [p for p in trees if p.name in only]
    out.mkdir(parents=True, exist_ok=True)
    fixable = fixable_rules(tool)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(lambda tree: run_tree(tree, out, tool, terraform, fixable), trees))
    summary = summarize(results, time.monotonic() - started, sum(r.render.console_runs for r in results))
    (out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    text = summary_text(summary)
    (out / "summary.txt").write_text(text, encoding="utf-8")
    print(text, end="")
    return 1 if any(summary["problems"].values()) else 0


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _tree_view(folder: Path) -> dict[str, list[str]]:
    """What must not change across a refactor, as sorted lines: findings, fixed groups, refusals, notes."""
    view: dict[str, list[str]] = {}
    before = (_load(folder / "before.json") or {}).get("report") or {}
    fix = (_load(folder / "fix.json") or {}).get("report") or {}
    after = (_load(folder / "after.json") or {}).get("report") or {}
    view["findings before"] = sorted(f"{f['file']}:{f['line']} {f['rule']} {f['module']}.{f['node_group']} "
                                     f"{f['message']}" for f in before.get("findings", []))
    view["findings after"] = sorted(f"{f['file']}:{f['line']} {f['rule']} {f['module']}.{f['node_group']} "
                                    f"{f['message']}" for f in after.get("findings", []))
    view["fixed groups"] = sorted(f"{g['file']} {g['module']}.{g['node_group']} {','.join(g['rules'])} "
                                  f"complete={g['complete']}" for g in fix.get("fixed", []))
    view["refusals"] = sorted(f"{f['file']}:{f['line']} {f['module']}.{f['node_group']} {f['message']}"
                              for f in fix.get("findings", []) if f["rule"] == "EKSP010")
    view["notes"] = sorted(f"{n['file']}: {n['note']}" for n in fix.get("notes", []))
    return view


def compare(first: Path, second: Path) -> int:
    names = sorted({p.name for p in first.iterdir() if p.is_dir()} | {p.name for p in second.iterdir() if p.is_dir()})
    differences = 0
    for name in names:
        a, b = first / name, second / name
        if not a.is_dir() or not b.is_dir():
            print(f"== {name}: only in {first if a.is_dir() else second}")
            differences += 1
            continue
        view_a, view_b = _tree_view(a), _tree_view(b)
        for part in view_a:
            if view_a[part] != view_b[part]:
                differences += 1
                print(f"== {name}: {part} differ")
                sys.stdout.writelines(line + "\n" for line in difflib.unified_diff(
                    view_a[part], view_b[part], f"{first}/{name}", f"{second}/{name}", lineterm="", n=0))
        patch_a = (a / "diff.patch").read_text(encoding="utf-8") if (a / "diff.patch").exists() else ""
        patch_b = (b / "diff.patch").read_text(encoding="utf-8") if (b / "diff.patch").exists() else ""
        if patch_a != patch_b:
            differences += 1
            print(f"== {name}: diff.patch differs (the rewrites changed)")
            sys.stdout.writelines(line + "\n" for line in difflib.unified_diff(
                patch_a.splitlines(), patch_b.splitlines(), f"{first}/{name}/diff.patch",
                f"{second}/{name}/diff.patch", lineterm="", n=1))
    print(f"{len(names)} trees compared, {differences} differences")
    return 1 if differences else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, help="folder holding one folder per tree")
    parser.add_argument("--out", type=Path, help="folder for the results")
    parser.add_argument("--eksproxy-gen", dest="tool", default=None, help="the eksproxy-gen command to test")
    parser.add_argument("--only", nargs="+", action="extend", default=[], metavar="NAME", help="only these trees")
    parser.add_argument("--jobs", type=int, default=2, help="trees checked at once (default 2)")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("DIR_A", "DIR_B"),
                        help="print what differs between two runs' results")
    args = parser.parse_args(argv)
    if args.compare:
        return compare(*args.compare)
    if args.corpus is None or args.out is None:
        parser.error("--corpus and --out are needed (or --compare DIR_A DIR_B)")
    return accept(args.corpus, args.out, args.tool or default_tool(), args.only, args.jobs)


if __name__ == "__main__":
    sys.exit(main())
