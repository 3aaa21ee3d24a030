"""Mutation testing of eksproxy-gen with mutmut: how many deliberate small bugs the in-process tests catch.

mutmut (3.x) copies the package it mutates into ``mutants/`` and needs the
folder's name to be the import name; here the package lives in ``generator/``
and is imported as ``eksproxy_gen`` (and two of its folders are symbolic
links). So every run happens in a copy: ``generator/`` dereferenced as
``eksproxy_gen/``, with tests/, benchmarks/, examples/, rules/ and
pyproject.toml beside it, and a ``setup.cfg`` naming what to mutate and which
tests to run. Only tests that call eksproxy-gen in their own process can see
a mutant; tests that run the installed console script in a subprocess are
left out (``IN_PROCESS`` and ``DESELECT`` below; mutmut's clean run fails
loudly if one slips in).

Run it with a Python that has mutmut and the project's dependencies but not
eksproxy-gen itself (mutmut must import its copy, not an installed one)::

    python -m venv .venv-mutmut
    .venv-mutmut/bin/pip install mutmut -r <(python tests/tools/mutation.py --requirements)
    .venv-mutmut/bin/python tests/tools/mutation.py --work /tmp/mutation --max-children 1

It prints the score per group of modules (killed / total, then survivors,
timeouts and mutants no test reaches, by module) and keeps the copy, so that
``mutmut results`` and ``mutmut show NAME`` can be run in it. ``--group``
chooses other modules (``NAME=PATH[:FUNCTION],...``, paths under generator/),
``--sample N`` scores a seeded random sample of N mutants per group, and
``--score-only`` prints the score of a copy already run.
"""

from __future__ import annotations

import argparse
import fnmatch
import importlib.util
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = "eksproxy_gen"
COPIED = ("tests", "benchmarks", "examples", "rules")

# The groups scored by default: the policy, the trial-and-accept routine of fix, the result cache and the layout.
GROUPS = {
    "policy": ("policy/*.py",),
    "trial": ("pipeline/trial.py",),
    "cache": ("cache.py",),
    "layout": ("layout.py",),
}

# Test files (or single tests) whose tests call eksproxy-gen in-process (main.main, the pipelines, the modules).
IN_PROCESS = (
    "tests/test_al2_block.py", "tests/test_cache.py", "tests/test_check.py", "tests/test_conditional_keys.py",
    "tests/test_escaping.py", "tests/test_families.py", "tests/test_fix.py", "tests/test_fix_trial.py",
    "tests/test_gates_fixes.py", "tests/test_gates_settings.py", "tests/test_gates_toml_lines.py",
    "tests/test_generated_parts.py", "tests/test_hcl.py", "tests/test_invariants.py", "tests/test_karpenter.py",
    "tests/test_language.py", "tests/test_layout.py", "tests/test_module_semantics.py",
    "tests/test_module_versions.py", "tests/test_never_silent.py", "tests/test_no_proxy_union.py",
    "tests/test_nodeconfig_lint.py", "tests/test_outputs.py", "tests/test_policy_tables.py",
    "tests/test_policy_units.py", "tests/test_refusals.py", "tests/test_rendering_kept.py",
    "tests/test_script_cuts.py", "tests/test_secrets.py", "tests/test_settings.py",
    "tests/test_shapes2_controller.py", "tests/test_shapes2_leftovers.py", "tests/test_shapes2_notices.py",
    "tests/test_shapes2_verdicts.py", "tests/test_speed_safety.py", "tests/test_template_text.py",
    "tests/test_trust.py", "tests/test_userdata.py",
    "tests/test_shapes2_port.py::test_a_url_is_reported_exactly_when_it_has_no_port_and_never_shows_its_password",
    "tests/test_hostile.py::test_fault_injection_an_edit_saved_just_before_the_rename_is_kept",
    "tests/test_hostile.py::test_fault_injection_ctrl_c_while_writing_finishes_the_folder_and_lists_what_was_rewritten",
    "tests/test_precommit.py::test_a_settings_file_given_as_a_path_stands_for_every_folder_below_it",
)
# Tests of those files that run the console script (or a copy of the package) in a subprocess.
DESELECT = (
    "tests/test_cache.py::test_a_changed_tool_never_answers_with_the_old_versions_report",
    "tests/test_escaping.py::test_a_real_ci_log_gets_no_workflow_command_from_a_name",
    "tests/test_gates_settings.py::test_a_named_file_stands_for_every_terraform_file_of_its_folder",
    "tests/test_gates_settings.py::test_show_settings_prints_the_effective_settings_and_where_each_comes_from",
    "tests/test_gates_settings.py::test_show_settings_of_a_broken_settings_file_is_a_settings_error",
    "tests/test_outputs.py::test_terminal_gets_colour_and_a_table_unless_no_color",
    "tests/test_outputs.py::test_piped_output_is_plain",
    "tests/test_outputs.py::test_progress_bar_only_on_a_terminal_and_only_for_large_trees",
    "tests/test_refusals.py::test_a_full_disk_leaves_the_file_and_no_temporary_file",
    "tests/test_refusals.py::test_a_writable_file_in_a_folder_that_cannot_take_a_temporary_file_is_written_in_place",
    "tests/test_secrets.py::test_the_console_script_hides_the_password_everywhere",
    "tests/test_speed_safety.py::test_concurrent_runs_share_one_cache_safely",
    "tests/test_speed_safety.py::test_only_the_console_entry_defers_collection_and_it_resumes_once_the_parser_is_loaded",
)

# mutmut's exit codes of a mutant's test run, as its ``results`` command names them.
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", 36: "timeout",
          24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout", 37: "caught by type check"}


# Added to the copy's conftest.py: a mutant's tests run quickest first (by the durations mutmut measured), so
# that with pytest -x the first test that catches it comes soon; a mutant no test catches runs them all anyway.
QUICKEST_FIRST = """

def pytest_collection_modifyitems(items):
    import json, pathlib
    stats = pathlib.Path("mutmut-stats.json")
    if stats.exists():
        durations = json.loads(stats.read_text())["duration_by_test"]
        items.sort(key=lambda item: durations.get(item.nodeid, 0.0))
"""


@dataclass(frozen=True)
class Spec:
    """Mutants of one module (a path under generator/, a glob allowed), or of one function of it."""

    path: str
    function: str | None = None

    def module(self) -> str:
        return PACKAGE + "." + self.path.removesuffix(".py").replace("/", ".")

    def patterns(self) -> tuple[str, ...]:
        """Globs over mutmut's mutant names: ``eksproxy_gen.plan.x__closing_indents__mutmut_3`` for a function,
        ``eksproxy_gen.cache.xǁResultCacheǁget__mutmut_1`` for a method."""
        if self.function is None:
            return (f"{self.module()}.x*__mutmut_*",)
        return (f"{self.module()}.x_{self.function}__mutmut_*", f"{self.module()}.xǁ*ǁ{self.function}__mutmut_*")


@dataclass
class Tally:
    statuses: Counter[str] = field(default_factory=Counter)
    survivors: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    def line(self) -> str:
        killed, total = self.statuses["killed"], self.total
        score = f"{100 * killed / total:5.1f}%" if total else "  n/a"
        others = ", ".join(f"{n} {s}" for s, n in sorted(self.statuses.items()) if s != "killed")
        return f"{killed:5d}/{total:<5d} {score}  {others}"


def parse_groups(values: list[str]) -> dict[str, tuple[Spec, ...]]:
    if not values:
        return {name: tuple(Spec(p) for p in paths) for name, paths in GROUPS.items()}
    groups: dict[str, tuple[Spec, ...]] = {}
    for value in values:
        name, sep, specs = value.partition("=")
        if not sep or not name or not specs:
            raise SystemExit(f"--group {value!r}: expected NAME=PATH[:FUNCTION],... (paths under generator/)")
        groups[name] = tuple(Spec(*s.split(":", 1)) for s in specs.split(","))
    return groups


def group_of(mutant: str, groups: dict[str, tuple[Spec, ...]]) -> str | None:
    for name, specs in groups.items():
        if any(fnmatch.fnmatchcase(mutant, p) for spec in specs for p in spec.patterns()):
            return name
    return None


def check_interpreter() -> None:
    """mutmut present; eksproxy-gen absent (the tests must import the mutated copy, never an installed package)."""
    if importlib.util.find_spec("mutmut") is None or mutmut_command() is None:
        raise SystemExit("mutmut is not installed in this Python: pip install mutmut (and the project's "
                         "dependencies: pip install -r <(python tests/tools/mutation.py --requirements))")
    if importlib.util.find_spec(PACKAGE) is not None:
        raise SystemExit(f"{PACKAGE} is installed in this Python ({sys.prefix}); mutmut's tests would import it "
                         "instead of the mutants: use a virtualenv with mutmut and the dependencies only")


def mutmut_command() -> str | None:
    beside = Path(sys.executable).parent / "mutmut"
    return str(beside) if beside.exists() else shutil.which("mutmut")


def requirements(source: Path) -> list[str]:
    """The runtime and test dependencies from pyproject.toml, which the mutation run's Python needs."""
    project = tomllib.loads((source / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [*project["dependencies"], *project["optional-dependencies"]["test"]]


def build_copy(source: Path, work: Path, groups: dict[str, tuple[Spec, ...]], tests: list[str],
               deselect: list[str]) -> None:
    """The tree as mutmut needs it: the package under its import name, links dereferenced, and setup.cfg."""
    for name in (PACKAGE, "mutants", *COPIED):
        shutil.rmtree(work / name, ignore_errors=True)
    ignore = shutil.ignore_patterns("__pycache__", ".hypothesis")
    shutil.copytree(source / "generator", work / PACKAGE, symlinks=False, ignore=ignore)
    for name in COPIED:
        if (source / name).is_dir():
            shutil.copytree(source / name, work / name, symlinks=False, ignore=ignore)
    shutil.copy2(source / "pyproject.toml", work / "pyproject.toml")
    if "mutmut" in tomllib.loads((work / "pyproject.toml").read_text(encoding="utf-8")).get("tool", {}):
        raise SystemExit("pyproject.toml has a [tool.mutmut] table, which mutmut would read instead of setup.cfg")
    paths = sorted({f"{PACKAGE}/{spec.path}" for specs in groups.values() for spec in specs})
    args = ["-p", "no:cacheprovider", "--hypothesis-seed=0", *(f"--deselect={d}" for d in deselect)]
    config = ["[mutmut]", f"source_paths = {PACKAGE}", "only_mutate =", *(f"    {p}" for p in paths),
              "pytest_add_cli_args =", *(f"    {a}" for a in args),
              "pytest_add_cli_args_test_selection =", *(f"    {t}" for t in tests),
              "also_copy =", *(f"    {name}/" for name in COPIED if name != "tests")]
    (work / "setup.cfg").write_text("\n".join(config) + "\n", encoding="utf-8")
    with (work / "tests" / "conftest.py").open("a", encoding="utf-8") as conftest:
        conftest.write(QUICKEST_FIRST)


def mutant_names(work: Path) -> list[str]:
    names: list[str] = []
    for meta in sorted((work / "mutants").rglob("*.py.meta")):
        names += json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
    return names


def results(work: Path) -> dict[str, int | None]:
    found: dict[str, int | None] = {}
    for meta in sorted((work / "mutants").rglob("*.py.meta")):
        found.update(json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"])
    return found


def sample(names: list[str], groups: dict[str, tuple[Spec, ...]], size: int, seed: int) -> list[str]:
    """``size`` mutants of each group, the same ones for the same names and seed."""
    chosen: list[str] = []
    for group in groups:
        members = sorted(n for n in names if group_of(n, groups) == group)
        chosen += sorted(random.Random(f"{seed}:{group}").sample(members, min(size, len(members))))
    return chosen


def run_mutmut(work: Path, max_children: int | None, names: list[str], quiet: bool = False) -> int:
    command = [str(mutmut_command()), "run"]
    if max_children is not None:
        command += ["--max-children", str(max_children)]
    output = subprocess.DEVNULL if quiet else None
    return subprocess.run([*command, *names], cwd=work, check=False, stdout=output, stderr=output).returncode


def score(work: Path, groups: dict[str, tuple[Spec, ...]], chosen: set[str] | None) -> dict[str, dict[str, Tally]]:
    """Statuses by group and module, of the mutants chosen (all of the groups' mutants when None)."""
    by_group: dict[str, dict[str, Tally]] = {name: {} for name in groups}
    for mutant, code in results(work).items():
        group = group_of(mutant, groups)
        if group is None or (chosen is not None and mutant not in chosen):
            continue
        module = mutant.split(".x_")[0].split(".xǁ")[0]
        status = "not checked" if code is None else STATUS.get(code, "suspicious")
        for tally in (by_group[group].setdefault(module, Tally()), by_group[group].setdefault("", Tally())):
            tally.statuses[status] += 1
            if status == "survived":
                tally.survivors.append(mutant)
    return by_group


def report(by_group: dict[str, dict[str, Tally]]) -> str:
    lines = ["mutation score (killed/total; survived, timeouts, no tests and others said apart)"]
    for group, tallies in by_group.items():
        lines.append(f"{group:10s} {tallies.get('', Tally()).line()}")
        lines += [f"    {module:40s} {tally.line()}" for module, tally in sorted(tallies.items()) if module]
    lines.append("survivors (mutmut show NAME in the work folder):")
    for tallies in by_group.values():
        lines += [f"    {name}" for name in sorted(tallies.get("", Tally()).survivors)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=REPO, help="the tree to test (default: this checkout)")
    parser.add_argument("--work", type=Path, help="the folder for the copy (default: a new temporary folder)")
    parser.add_argument("--group", action="append", default=[], help="NAME=PATH[:FUNCTION],... under generator/")
    parser.add_argument("--tests", nargs="+", default=list(IN_PROCESS), help="test files or node ids to run")
    parser.add_argument("--deselect", nargs="*", default=list(DESELECT), help="node ids left out")
    parser.add_argument("--max-children", type=int, help="mutants tested at once (mutmut's default: one per CPU)")
    parser.add_argument("--sample", type=int, help="score a seeded random sample of this many mutants per group")
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--only", action="append", default=[], help="run only this group now (with --resume: "
                                                                     "one group after another in one copy)")
    parser.add_argument("--resume", action="store_true", help="keep the copy in --work and the results in it")
    parser.add_argument("--score-only", action="store_true", help="print the score of --work, already run")
    parser.add_argument("--requirements", action="store_true", help="print the dependencies the run needs")
    args = parser.parse_args(argv)
    source: Path = args.source.resolve()
    if args.requirements:
        print("\n".join(requirements(source)))
        return 0
    groups = parse_groups(args.group)
    if unknown := set(args.only) - set(groups):
        raise SystemExit(f"--only {', '.join(sorted(unknown))}: not a group ({', '.join(groups)})")
    if (args.resume or args.score_only) and not (args.work and (args.work / "mutants").is_dir()):
        raise SystemExit("--resume and --score-only need the --work folder of an earlier run")
    work: Path = (args.work or Path(tempfile.mkdtemp(prefix="eksproxy-gen-mutation-"))).resolve()
    if not args.score_only:
        check_interpreter()
        if not args.resume:
            work.mkdir(parents=True, exist_ok=True)
            build_copy(source, work, groups, args.tests, args.deselect)
        if args.sample and not mutant_names(work):
            # mutmut generates the mutants, collects which tests reach which function (kept for the next run),
            # then stops, having found no mutant of this name; the sample is then chosen by name.
            run_mutmut(work, args.max_children, ["generate-only"], quiet=True)
            if not mutant_names(work):
                print(f"mutmut generated no mutants in {work}", file=sys.stderr)
                return 1
        started = time.monotonic()
        code = run_mutmut(work, args.max_children, to_run(work, groups, args.only, args.sample, args.seed))
        print(f"mutmut ran for {(time.monotonic() - started) / 60:.1f} minutes")
        if code != 0:
            print(f"mutmut run failed (exit {code}) in {work}", file=sys.stderr)
            return code
    chosen = set(sample(mutant_names(work), groups, args.sample, args.seed)) if args.sample else None
    print(report(score(work, groups, chosen)))
    print(f"work folder: {work}")
    return 0


def to_run(work: Path, groups: dict[str, tuple[Spec, ...]], only: list[str], size: int | None,
           seed: int) -> list[str]:
    """The names (or globs) to give ``mutmut run``; none means every mutant of the modules in setup.cfg."""
    selected = {name: specs for name, specs in groups.items() if not only or name in only}
    if size:
        return sample(mutant_names(work), selected, size, seed)
    specs = [spec for group in selected.values() for spec in group]
    if not only and not any(spec.function for spec in specs):
        return []
    return [pattern for spec in specs for pattern in spec.patterns()]


if __name__ == "__main__":
    sys.exit(main())
