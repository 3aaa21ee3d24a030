"""The least work a run of eksproxy-gen can do with the components the project is built on, for comparison.

    python benchmarks/floor.py parse TREE   # Typer imported, python-hcl2's parser loaded, every file read,
                                           # the files that name the module parsed on as many cores as check
                                           # uses at most (8), even where it would not; nothing judged
    python benchmarks/floor.py stat TREE    # Typer imported, every folder and file stat()ed; nothing else

``parse`` is the floor of a cold ``check``, ``stat`` of a warm one (a re-scan
must at least see that no file changed). benchmarks/run.py times both beside
grep, so the speed targets can be read against what is reachable at all.
"""

from __future__ import annotations

import gc

gc.disable()  # as eksproxy-gen's start-up runs

import importlib.util  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402


def walk(folder: str, files: list[str], folders: list[str]) -> None:
    folders.append(folder)
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if not entry.name.startswith("."):
                    walk(entry.path, files, folders)
            elif entry.name.endswith((".tf", ".tofu")):
                files.append(entry.path)


def parser() -> object:
    """python-hcl2's grammar and post-lexer in Lark, loaded as eksproxy-gen loads them (from Lark's cache)."""
    from lark import Lark

    spec = importlib.util.find_spec("hcl2")
    assert spec is not None and spec.submodule_search_locations
    folder = Path(next(iter(spec.submodule_search_locations)))
    post = importlib.util.spec_from_file_location("floor_postlexer", folder / "postlexer.py")
    assert post is not None and post.loader is not None
    module = importlib.util.module_from_spec(post)
    post.loader.exec_module(module)
    return Lark((folder / "hcl2.lark").read_text(encoding="utf-8"), parser="lalr", cache=True,
                propagate_positions=False, postlex=module.PostLexer())


def parse_floor(tree: str) -> None:
    import typer  # noqa: F401  (the command line is built on it)

    hcl = parser()
    files: list[str] = []
    walk(tree, files, [])
    texts = []
    for name in files:
        with open(name, "rb") as handle:
            raw = handle.read()
        if b"terraform-aws-modules/eks" in raw:
            texts.append(raw.decode("utf-8") + "\n")
    count = max(1, min(len(os.sched_getaffinity(0)), 8, len(texts)))
    children = []
    for worker in range(1, count):
        child = os.fork()
        if child == 0:
            for text in texts[worker::count]:
                hcl.parse(text)  # type: ignore[attr-defined]
            os._exit(0)
        children.append(child)
    for text in texts[::count]:
        hcl.parse(text)  # type: ignore[attr-defined]
    if any(os.waitpid(child, 0)[1] for child in children):
        sys.exit("a worker's parse failed")
    print(f"{len(files)} files read, {len(texts)} parsed")


def stat_floor(tree: str) -> None:
    import typer  # noqa: F401

    files: list[str] = []
    folders: list[str] = []
    walk(tree, files, folders)
    for path in (*folders, *files):
        os.stat(path)
    print(f"{len(folders)} folders and {len(files)} files stat()ed")


if __name__ == "__main__":
    {"parse": parse_floor, "stat": stat_floor}[sys.argv[1]](sys.argv[2])
