"""Which module calls are terraform-aws-eks, and which major version a call can be.

A module is recognised however its source is written: the public registry,
a private registry mirror, git in any URL form with query parameters in any
order, or a local copy of the module's source tree. The major version decides
the user-data template of a node group whose ``ami_type`` is unset, so it is
only taken as known when the source or ``version`` pins it to one major.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs

from . import fsguard

SUBMODULES = {"modules/eks-managed-node-group": "eks_managed", "modules/self-managed-node-group": "self_managed"}
MAX_MAJOR = 40
_REGISTRY = re.compile(
    r"^(?:(?P<host>[A-Za-z0-9.-]+\.[A-Za-z]{2,}(?::\d+)?)/)?(?P<ns>[\w-]+)/eks/aws(?://(?P<sub>[^?]*))?$")
_GIT_REPO = re.compile(r"(?:^|[/:])terraform-aws-eks(?:\.git)?(?://(?P<sub>[^?]*))?/?$")
_TAG = re.compile(r"^v?(\d+)(?:\.\d+){0,2}(?:-[\w.]+)?$")
_CONSTRAINT = re.compile(r"^\s*(=|!=|>=|<=|>|<|~>)?\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-[\w.]+)?\s*$")


@dataclass(frozen=True)
class Source:
    """What a module source says: the kind of call, the git ref, and whether its arguments must confirm it."""

    kind: str
    ref: str | None = None
    needs_confirmation: bool = False

    @property
    def ref_major(self) -> int | None:
        match = _TAG.match(self.ref or "")
        return int(match.group(1)) if match else None


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


def constraint_majors(constraint: str) -> frozenset[int] | None:
    """The majors a version constraint admits (of those the module has had), or None if it cannot be read."""
    low, high = 0, 10**6
    pins: set[int] = set()
    for part in constraint.split(","):
        match = _CONSTRAINT.match(part)
        if not match:
            return None
        op = match.group(1) or "="
        major = int(match.group(2))
        minor = match.group(3)
        patch = match.group(4)
        if op == "=":
            pins.add(major)
        elif op == ">=" or op == ">":
            low = max(low, major)
        elif op == "<":
            high = min(high, major - 1 if not (minor and int(minor)) and not (patch and int(patch)) else major)
        elif op == "<=":
            high = min(high, major)
        elif op == "~>":
            low = max(low, major)
            if minor is not None:
                high = min(high, major)
    majors = set(range(low, min(high, MAX_MAJOR) + 1))
    if pins:
        majors &= pins
    return frozenset(majors)


def copy_majors(folder: Path) -> frozenset[int] | None:
    """The majors a local copy of the module can be, from the inputs its ``variables.tf`` declares.

    A copy outside the paths given is not read (fsguard): None, as for a copy
    whose inputs do not tell.
    """
    try:
        text = fsguard.read_bytes(folder / "variables.tf").decode("utf-8", errors="replace")
    except OSError:
        return None
    if re.search(r'variable\s+"kubernetes_version"', text):
        return frozenset(range(21, MAX_MAJOR + 1))
    if re.search(r'variable\s+"access_entries"', text):
        return frozenset({20})
    if re.search(r'variable\s+"cluster_version"', text):
        return frozenset(range(0, 20))
    return None
