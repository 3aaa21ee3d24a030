"""Which module calls are terraform-aws-eks, and what of a call's source tells its release.

A module is recognised however its source is written: the public registry,
a private registry mirror, git in any URL form with query parameters in any
order, or a local copy of the module's source tree. The release decides what
the module does with a node group (policy/module_versions.py): a git ref that
is a tag names one, and a local copy's declared inputs tell which it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs

from . import fsguard

SUBMODULES = {"modules/eks-managed-node-group": "eks_managed", "modules/self-managed-node-group": "self_managed"}
_REGISTRY = re.compile(
    r"^(?:(?P<host>[A-Za-z0-9.-]+\.[A-Za-z]{2,}(?::\d+)?)/)?(?P<ns>[\w-]+)/eks/aws(?://(?P<sub>[^?]*))?$")
_GIT_REPO = re.compile(r"(?:^|[/:])terraform-aws-eks(?:\.git)?(?://(?P<sub>[^?]*))?/?$")


@dataclass(frozen=True)
class Source:
    """What a module source says: the kind of call, the git ref, and whether its arguments must confirm it."""

    kind: str
    ref: str | None = None
    needs_confirmation: bool = False



def classify(source: str, folder: Path) -> Source | None:
    """A terraform-aws-eks source ('root', 'eks_managed' or 'self_managed'), or None for any other module."""
    text = source.strip()
    if text.startswith(("./", "../", "/")) or text in {".", ".."}:
        kind = local_kind(text, folder)
        return Source(kind) if kind else None
    match = _REGISTRY.match(text)
    if match:
        kind = sub_kind(match.group("sub"))
        if kind is None:
            return None
        if match.group("ns") == "terraform-aws-modules":
            return Source(kind)
        return Source(kind, needs_confirmation=True) if match.group("host") else None
    return _git(text)


def _git(text: str) -> Source | None:
    text = text.removeprefix("git::")
    address, _, query = text.partition("?")
    match = _GIT_REPO.search(address)
    if not match:
        return None
    kind = sub_kind(match.group("sub"))
    if kind is None:
        return None
    refs = parse_qs(query).get("ref")
    return Source(kind, refs[-1] if refs else None)


def sub_kind(sub: str | None) -> str | None:
    if not sub or not sub.strip("/"):
        return "root"
    return SUBMODULES.get(sub.strip("/"))


def local_kind(source: str, folder: Path) -> str | None:
    """The kind of a local-path source: a copy of terraform-aws-eks, or one of its node-group submodules."""
    path, _, sub = source.partition("//")
    try:
        target = (folder / path).resolve() if not path.startswith("/") else Path(path)
    except (OSError, RuntimeError):
        return None
    if sub:
        return sub_kind(sub) if is_eks_root(target) or target.name == "terraform-aws-eks" else None
    for sub_path, kind in SUBMODULES.items():
        root = target.parent.parent
        if source.rstrip("/").endswith(sub_path) and (root.name == "terraform-aws-eks" or is_eks_root(root)):
            return kind
    if target.name == "terraform-aws-eks" or is_eks_root(target):
        return "root"
    return None


def is_eks_root(folder: Path) -> bool:
    """A copy of the module's own source tree: its internal module calls are not uses of the module."""
    try:
        return (folder / "node_groups.tf").is_file() and (folder / "modules" / "eks-managed-node-group").is_dir()
    except OSError:
        return False


def is_inside_eks_copy(folder: Path) -> bool:
    """The folder is a copy of terraform-aws-eks or one of its submodules."""
    try:
        resolved = folder.resolve()
    except (OSError, RuntimeError):
        return False
    if is_eks_root(resolved):
        return True
    return resolved.parent.name == "modules" and is_eks_root(resolved.parent.parent)


def copy_root(source: str, folder: Path) -> Path:
    """The folder of the copy of the whole module a local source points into (its release is the copy's)."""
    path, _, sub = source.partition("//")
    target = (folder / path).resolve()
    if not sub:
        for sub_path in SUBMODULES:
            if source.rstrip("/").endswith(sub_path):
                return target.parent.parent
    return target


_MODULE_BLOCK = re.compile(r'^module\s+"[^"]+"\s*\{', re.M)
_FOR_EACH = re.compile(r"^\s*for_each\s*=(.*)$", re.M)
_VARIABLE = re.compile(r"\bvar\.(\w+)")
_GROUP_KEY = re.compile(r'\beach\.value(?:\.(\w+)|\["(\w+)"\])|\blookup\(\s*each\.value\s*,\s*"(\w+)"')


def copy_group_keys(folder: Path) -> dict[str, set[str]] | None:
    """The keys a local copy's ``node_groups.tf`` reads from a group, per node-group map (the map a module block
    iterates with ``for_each``); None without a readable file.

    Releases that declare the same inputs can still differ here (v20.8.4 began
    passing a group's cloudinit_pre_nodeadm on), so a copy is told apart by
    what its own sources read, not only by its variables.tf.
    """
    try:
        text = fsguard.read_bytes(folder / "node_groups.tf").decode("utf-8", errors="replace")
    except OSError:
        return None
    found: dict[str, set[str]] = {}
    for start in _MODULE_BLOCK.finditer(text):
        body = _block(text, start.end())
        iterated = _FOR_EACH.search(body)
        for name in _VARIABLE.findall(iterated.group(1)) if iterated is not None else ():
            # every variable iterated is recorded; the caller keeps the node-group maps
            found.setdefault(name, set()).update("".join(k) for k in _GROUP_KEY.findall(body))
    return found


def _block(text: str, start: int) -> str:
    """The body of a block whose ``{`` ends just before ``start`` (braces of ``${...}`` are balanced too)."""
    depth = 1
    for at in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[at], 0)
        if depth == 0:
            return text[start:at]
    return text[start:]


def copy_inputs(folder: Path) -> set[str] | None:
    """The inputs a local copy of the module declares in its ``variables.tf``, which tell its release.

    A copy outside the paths given is not read (fsguard): None, as for a copy
    without a readable ``variables.tf``.
    """
    try:
        text = fsguard.read_bytes(folder / "variables.tf").decode("utf-8", errors="replace")
    except OSError:
        return None
    return set(re.findall(r'^\s*variable\s+"([^"]+)"', text, re.M))
