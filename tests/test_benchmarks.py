"""The benchmark's floors do the work they are named for, so the ratios printed beside them mean what they say."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import REPO, generate

FLOOR = REPO / "benchmarks" / "floor.py"


def test_the_floors_read_parse_and_stat_what_their_names_say(tmp_path: Path) -> None:
    files, _size = generate(tmp_path, stacks=30, eks=3, seed=5)

    def floor(kind: str) -> str:
        return subprocess.run([sys.executable, str(FLOOR), kind, str(tmp_path)], capture_output=True, text=True,
                              check=True).stdout

    assert floor("parse") == f"{files} files read, 3 parsed\n"
    assert floor("stat") == f"{1 + 30 + 30} folders and {files} files stat()ed\n"
