"""Benchmark: `check` and `fix --check` over a large tree, against parsing alone, measured in the same run.

Run: python tests/bench_check.py [copies]. Prints times and ratios; asserts nothing (speed is shown, not tested).
The baseline is python-hcl2 parsing the same files, the floor any python-hcl2-based linter pays.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import hcl2

FIXTURES = Path(__file__).parent / "fixtures"
SOURCES = ["shapes.tf", "handwritten.tf", "partial.tf", "correct.tf", "not_eks.tf"]


def build_tree(root: Path, copies: int) -> list[Path]:
    files = []
    for i in range(copies):
        folder = root / f"stack{i:03d}"
        folder.mkdir(parents=True)
        for name in SOURCES:
            files.append(Path(shutil.copy(FIXTURES / name, folder / name)))
    return files


def best_of(runs: int, action) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    copies = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = build_tree(root, copies)
        hcl2.parses_to_tree(files[0].read_text())

        def parse_all() -> None:
            for path in files:
                hcl2.parses_to_tree(path.read_text(encoding="utf-8"))

        def cli(*args: str) -> None:
            subprocess.run([sys.executable, "-m", "eksproxy_gen", *args], capture_output=True, check=False)

        baseline = best_of(3, parse_all)
        startup = best_of(3, lambda: cli("check", str(files[-1])))
        check = best_of(3, lambda: cli("check", str(root)))
        dry_fix = best_of(3, lambda: cli("fix", "--check", "--proxy", "http://p:3128", "--vpc-cidr", "10.0.0.0/16",
                                         str(root)))
    print(f"{len(files)} files ({copies} folders)")
    print(f"baseline: python-hcl2 parse of every file, in-process: {baseline:.2f} s")
    print(f"eksproxy-gen check on one file (process start-up):  {startup:.2f} s")
    print(f"eksproxy-gen check on the tree:   {check:.2f} s = {check / baseline:.2f}x baseline")
    print(f"eksproxy-gen fix --check:         {dry_fix:.2f} s = {dry_fix / baseline:.2f}x baseline "
          "(plans, renders, re-parses and re-checks every rewritten file)")


if __name__ == "__main__":
    main()
