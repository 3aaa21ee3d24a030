"""Time eksproxy-gen, checkov (its own environment) and grep on the same synthetic trees, in one run.

    python benchmarks/run.py [--sizes 375,750,1500] [--runs 5] [--checkov .venv-checkov-3.3.30/bin/checkov]

eksproxy-gen is measured as users install it: the project is installed (not
in editable mode, whose import hook costs every run about 15 ms) into a
temporary virtual environment, unless ``--tool`` names an installed script.
Prints, for each size, the median wall time and peak memory (of the command's
largest process: forked workers are not added up) of every command,
and the ratios the speed targets are stated in, beside the floors of
benchmarks/floor.py: the least a run can cost with Typer and python-hcl2.
Nothing is asserted: the figures are for people to read (see README "Performance").
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402


@dataclass
class Timing:
    seconds: float
    peak_mb: float


def once(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int]:
    """Wall time and peak resident memory (KB) of one run of a command: its own or its largest child's."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss


def measure(commands: dict[str, tuple[list[str], Path]], env: dict[str, str], runs: int) -> dict[str, Timing]:
    """Median wall time and largest peak memory of each command, timed in ``runs`` rounds of one run each.

    Rounds, not one command's runs in a row: this machine's speed drifts, and a
    drift then reaches grep, the floors and eksproxy-gen alike, so their ratios hold.
    """
    times: dict[str, list[float]] = {name: [] for name in commands}
    peaks = dict.fromkeys(commands, 0)
    for _ in range(runs):
        for name, (command, cwd) in commands.items():
            seconds, peak = once(command, env, cwd)
            times[name].append(seconds)
            peaks[name] = max(peaks[name], peak)
    return {name: Timing(statistics.median(times[name]), peaks[name] / 1024) for name in commands}


def install(venv: Path) -> str:
    """The project installed from this checkout into a new virtual environment, as pip installs it for users."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(REPO)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "compileall", "-q", str(venv / "lib")], check=True)
    return str(venv / "bin" / "eksproxy-gen")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="375,750,1500", help="numbers of stacks, comma-separated")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--checkov", default=str(REPO / ".venv-checkov-3.3.30" / "bin" / "checkov"))
    parser.add_argument("--checkov-runs", type=int, default=2)
    parser.add_argument("--tool", help="an installed eksproxy-gen script (default: install the project afresh)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="eksproxy-bench-"))
    tool = args.tool or install(work / "venv")
    cache = work / "cache"
    env = {**os.environ, "EKSPROXY_GEN_CACHE_DIR": str(cache), "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
           "EKSPROXY_GEN": tool, "NO_COLOR": "1"}
    rules = REPO / "generator" / "rules"
    checkov = Path(args.checkov)
    try:
        print(f"{'stacks':>6} {'files':>6} {'MB':>5}  {'command':<34} {'median s':>9} {'peak MB':>8}")
        for size in (int(s) for s in args.sizes.split(",")):
            tree = work / f"tree-{size}"
            files, total = generate(tree, size, max(1, size // 15))
            none_tree = work / f"no-eks-{size}"
            generate(none_tree, size, 0)
            timings: dict[str, Timing] = {}
            shape = f"{size:>6} {files:>6} {total / 1e6:>5.1f}"

            def show(measured: dict[str, Timing], timings: dict[str, Timing] = timings, shape: str = shape) -> None:
                timings.update(measured)
                for name, t in measured.items():
                    print(f"{shape}  {name:<34} {t.seconds:>9.3f} {t.peak_mb:>8.1f}", flush=True)

            shutil.rmtree(cache, ignore_errors=True)
            once([tool, "check", "-q", "."], env, tree)
            time.sleep(2.1)  # past the window in which a cached file's time stamp cannot be trusted
            once([tool, "check", "-q", "."], env, tree)  # stores the snapshot the warm runs are answered from
            python = str(Path(tool).parent / "python")
            show(measure({
                "grep -rl eks_managed_node_groups": (["grep", "-rl", "eks_managed_node_groups", "."], tree),
                "check (cold, --no-cache)": ([tool, "check", "-q", "--no-cache", "."], tree),
                "check (warm cache)": ([tool, "check", "-q", "."], tree),
                "fix --check (cold, --no-cache)": ([tool, "fix", "--check", "-q", "--no-cache", "--proxy",
                                                    "http://proxy:3128", "."], tree),
                "--help": ([tool, "--help"], tree),
                "check, same stacks, no EKS (cold)": ([tool, "check", "-q", "--no-cache", "."], none_tree),
                "floor: Typer + python-hcl2 parse": ([python, str(HERE / "floor.py"), "parse", "."], tree),
                "floor: Typer + stat every path": ([python, str(HERE / "floor.py"), "stat", "."], tree),
            }, env, args.runs))
            if checkov.exists():
                # our checks run eksproxy-gen; a cache folder that cannot exist keeps every run of it cold,
                # as in a fresh CI job (the snapshot stored above would otherwise answer it)
                cold = {**env, "EKSPROXY_GEN_CACHE_DIR": "/dev/null/cache"}
                base = [str(checkov), "-d", ".", "--framework", "terraform", "--skip-download", "--quiet",
                        "--compact", "-o", "json"]
                show(measure({
                    "checkov, one built-in check": ([*base, "--check", "CKV_AWS_24"], tree),
                    "checkov, built-in + our rules": ([*base, "--check", "CKV_AWS_24,CKV_EKSPROXY_*",
                                                       "--external-checks-dir", str(rules)], tree),
                }, cold, args.checkov_runs))
            grep = timings["grep -rl eks_managed_node_groups"].seconds
            cold = timings["check (cold, --no-cache)"].seconds
            print(f"       ratios: cold check / grep = {cold / grep:.1f} (its floor: "
                  f"{timings['floor: Typer + python-hcl2 parse'].seconds / grep:.1f}); warm check / grep = "
                  f"{timings['check (warm cache)'].seconds / grep:.1f} (its floor: "
                  f"{timings['floor: Typer + stat every path'].seconds / grep:.1f}); fix --check / check = "
                  f"{timings['fix --check (cold, --no-cache)'].seconds / cold:.2f}", end="")
            if checkov.exists():
                alone = timings["checkov, one built-in check"].seconds
                both = timings["checkov, built-in + our rules"].seconds
                print(f"; checkov with our rules / check = {both / cold:.1f}; our rules add "
                      f"{(both - alone) / alone * 100:.1f} % to checkov", end="")
            print(flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
