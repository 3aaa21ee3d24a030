"""Which files to read: Terraform files under the given paths, and which of them can call the EKS module.

A module's ``source`` must be a literal string, so a file whose bytes name no
terraform-aws-eks source (and no local path to a copy of it) cannot hold a
call of the module: such files are parsed only when another file refers to
one of their ``locals``. The test for that reads bytes and costs no parse.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from . import fsguard, module_source

SUFFIXES = (".tf", ".tofu")
JSON_SUFFIXES = (".tf.json", ".tofu.json")  # Terraform's JSON syntax: read as part of a folder's configuration
YAML_SUFFIXES = (".yaml", ".yml")
_KARPENTER_YAML = b"EC2NodeClass"
SKIP_DIRS = {".terraform", ".git", ".terragrunt-cache"}
_SOURCE = re.compile(rb'source[ \t]*=[ \t]*"([^"\n]*)"')  # a literal first: the search skips ahead by it
_EKS_NAMES = (b"/eks/aws", b"terraform-aws-eks")
_NODE_GROUP_SOURCE = re.compile(rb'source[ \t]*=[ \t]*"[^"\n]*node[-_]?group', re.I)
# Resources whose manifest can be a node class written elsewhere (templatefile(), file(), a local, a data source's
# documents): their own bytes need not spell EC2NodeClass, so a file holding one is always parsed.
_MANIFEST_CARRIERS = (b"kubectl_manifest", b"kubernetes_manifest", b"local_file", b"kubectl_file_documents")
# A chart (HCL ``chart =`` or JSON ``"chart":``) that is not a plain literal: a local or variable may name karpenter.
_COMPUTED_CHART = re.compile(rb'\bchart"?[ \t]*[=:][ \t]*(?!"[^"$\n]*")')


@dataclass
class Walked:
    """What a walk looked at besides the files it yields: enough to tell later that none of it changed.

    A folder's time stamp changes when a file in it is added, removed or
    renamed; a YAML file left out for its content must be looked at again
    only if its own state changes.
    """

    folders: list[str] = field(default_factory=list)
    yaml_left_out: list[str] = field(default_factory=list)
    helm_templates: list[tuple[str, int]] = field(default_factory=list)  # node-class YAML with {{: path, line
    unjudged: list[tuple[str, int, str]] = field(default_factory=list)  # manifests of EKS nodes: path, line, why
    json_files: list[Path] = field(default_factory=list)
    refused: list[tuple[Path, str]] = field(default_factory=list)
    skip: Callable[[str, bool, str], bool] | None = None  # (path, is_dir, root walked): leave it out
    left_out: list[tuple[str, bool, str]] = field(default_factory=list)  # what ``skip`` left out: path, is_dir, root


def terraform_files(paths: list[Path], walked: Walked) -> Iterator[Path]:
    """Files given directly are taken as they are; folders are walked, skipping ``.terraform/``.

    A file reached twice (named twice, or through a symbolic link) is read once.
    ``walked`` collects the folders listed, the YAML files read and left out,
    the ``.tf.json`` files met (read only with their folder's ``.tf`` files: a
    folder of JSON alone is machine-written and not checked), and what could not
    be listed or may not be read (fsguard), each with the reason: a tree that
    cannot be read whole must never pass as a clean one.
    """
    seen: set[tuple[int, int]] = set()
    for path in paths:
        for found, key in _walk(path, walked):
            if key not in seen:
                seen.add(key)
                yield found


def _identity(stat: os.stat_result) -> tuple[int, int]:
    return stat.st_dev, stat.st_ino


def _walk(path: Path, walked: Walked) -> Iterator[tuple[Path, tuple[int, int]]]:
    if not path.is_dir():
        why = refusal(str(path))
        if why is not None:
            walked.refused.append((path, why))
            return
        try:
            yield path, _identity(path.stat())
        except OSError:
            yield path, (-1, hash(str(path)))
        return
    stack = [str(path)]
    while stack:
        folder = stack.pop()
        walked.folders.append(folder)
        try:
            device = os.stat(folder).st_dev
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            walked.refused.append((Path(folder), f"cannot be listed ({exc.strerror or exc}); its files were not read"))
            continue
        subfolders: list[str] = []
        names: list[str] = []
        for entry in entries:
            try:
                if walked.skip is not None and _left_out(entry, walked, str(path)):
                    continue
                if entry.is_dir(follow_symlinks=False):  # a linked folder is not walked: links can loop
                    if entry.name not in SKIP_DIRS:
                        subfolders.append(entry.path)
                elif entry.name.endswith(JSON_SUFFIXES):  # read with the folder's .tf files, never alone
                    if _entry_refusal(entry) is None and entry.is_file():
                        names.append(entry.name)
                    if entry.name.endswith(".tf.json"):
                        walked.json_files.append(Path(entry.path))
                elif entry.name.endswith(".json"):  # a JSON manifest is not read, but a node class in it is said
                    if _entry_refusal(entry) is None and entry.is_file():
                        _json_manifest(entry.path, walked)
                elif entry.name.endswith((*SUFFIXES, *YAML_SUFFIXES)):
                    why = _entry_refusal(entry)
                    if why is not None:
                        walked.refused.append((Path(entry.path), why))
                        continue
                    if not entry.is_file():
                        continue  # a link to nothing
                    if entry.name.endswith(SUFFIXES):
                        names.append(entry.name)
                    elif not _holds_nodeclass(entry.path, walked):
                        walked.yaml_left_out.append(entry.path)
                        continue
                    # a link is known by what it points at; a plain file by its folder's device and its inode
                    key = _identity(entry.stat()) if entry.is_symlink() else (device, entry.inode())
                    yield Path(entry.path), key
            except OSError:
                continue
        remember(str(Path(folder)), names)
        stack.extend(reversed(subfolders))


def _left_out(entry: os.DirEntry[str], walked: Walked, root: str) -> bool:
    """The exclusion hook, asked about folders and the files the walk would read; what it leaves out is kept, so
    a run that judges nothing can say what was left out, and why, instead of "no Terraform files"."""
    is_dir = entry.is_dir(follow_symlinks=False)
    if not is_dir and not entry.name.endswith((*SUFFIXES, *YAML_SUFFIXES, ".json")):
        return False
    assert walked.skip is not None
    if not walked.skip(entry.path, is_dir, root):
        return False
    walked.left_out.append((entry.path, is_dir, root))
    return True


def terraform_below(path: str, is_dir: bool) -> list[str]:
    """The Terraform files (``*.tf``, ``*.tofu``) a left-out path holds: itself, or those below the folder (not
    through linked folders, nor in ``.terraform/``, ``.git/``, ``.terragrunt-cache/``), sorted."""
    if not is_dir:
        return [path] if path.endswith(SUFFIXES) else []
    found: list[str] = []
    stack = [path]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        if entry.name not in SKIP_DIRS:
                            stack.append(entry.path)
                    elif entry.name.endswith(SUFFIXES) and entry.is_file():
                        found.append(entry.path)
        except OSError:
            continue
    return sorted(found)


def refusal(path: str) -> str | None:
    """Why a file may not be read (fsguard: outside the paths given, in .git, not a regular file); None if it may.

    A path that does not exist is no refusal: whoever reads it says so.
    """
    try:
        real = fsguard.check(path)
        what = fsguard.kind(os.stat(real).st_mode)
    except fsguard.Refused as exc:
        return f"{exc.message}; not read"
    except OSError:
        return None
    return None if what is None else f"is {what}, not a regular file; not read"


def _entry_refusal(entry: os.DirEntry[str]) -> str | None:
    """refusal() for a folder entry; a plain regular file in a walked folder costs no system call."""
    if entry.is_symlink():
        return refusal(entry.path)
    if entry.is_file(follow_symlinks=False):
        return None
    what = fsguard.kind(entry.stat(follow_symlinks=False).st_mode)
    return None if what is None else f"is {what}, not a regular file; not read"


def _holds_nodeclass(path: str, walked: Walked) -> bool:
    """A YAML file worth reading: it names a Karpenter node class and is not a Helm template.

    One that may not be read (too large) is reported, since it could hold one.
    A Helm template (``{{``, even inside a quoted value: only Helm knows what
    it renders to) is left out but kept with the line of its first ``{{``,
    so the run says a node class was not judged instead of passing it.
    """
    try:
        raw = fsguard.read_bytes(path)
    except fsguard.Refused as exc:
        walked.refused.append((Path(path), f"{exc.message}; not read"))
        return False
    except OSError:
        return False
    if _KARPENTER_YAML not in raw:
        auto = _auto_mode_line(raw)
        if auto:
            walked.unjudged.append((path, auto, _AUTO_MODE_WHY))
        return False
    braces = raw.find(b"{{")
    if braces >= 0:
        walked.helm_templates.append((path, raw.count(b"\n", 0, braces) + 1))
        return False
    return True


_AUTO_MODE_KIND = re.compile(rb"""^[ \t]*"?kind"?[ \t]*:[ \t]*["']?NodeClass["']?[ \t]*,?[ \t]*\r?$""", re.M)
_JSON_NODECLASS = re.compile(rb'"kind"[ \t]*:[ \t]*"EC2NodeClass"')


AUTO_MODE_ADVICE = ("EKS Auto Mode nodes take no user data and eksproxy-gen has no rules for them: set "
                    "spec.advancedNetworking.httpsProxy and noProxy of a custom NodeClass by hand (the built-in "
                    "node pools take no proxy)")
_AUTO_MODE_WHY = f"an EKS Auto Mode NodeClass (eks.amazonaws.com) is written here; {AUTO_MODE_ADVICE}"


def _auto_mode_line(raw: bytes) -> int:
    """The line of an EKS Auto Mode ``kind: NodeClass`` (YAML or JSON), 0 when the bytes hold none."""
    if b"eks.amazonaws.com" not in raw:
        return 0
    kind = _AUTO_MODE_KIND.search(raw)
    return raw.count(b"\n", 0, kind.start()) + 1 if kind else 0


def _json_manifest(path: str, walked: Walked) -> None:
    """A ``*.json`` file (not Terraform's) that writes a node class: kubectl applies it, eksproxy-gen does not read
    it, so it is said to be not judged. Its state is kept, as a left-out YAML file's is: an edit must be seen."""
    walked.yaml_left_out.append(path)
    try:
        raw = fsguard.read_bytes(path)
    except (fsguard.Refused, OSError):  # a JSON file is never read as Terraform: one too large is no error
        return
    kind = _JSON_NODECLASS.search(raw)
    if kind is not None:
        walked.unjudged.append((path, raw.count(b"\n", 0, kind.start()) + 1,
                                "an EC2NodeClass is written here in a JSON manifest: eksproxy-gen reads node "
                                "classes from *.yaml, *.yml and Terraform; write it as YAML to have it judged"))
    elif line := _auto_mode_line(raw):
        walked.unjudged.append((path, line, _AUTO_MODE_WHY))


def is_override(name: str) -> bool:
    """``override.tf``, ``*_override.tf`` (and ``.tofu``, ``.tf.json``, ``.tofu.json``): Terraform merges such a
    file into the configuration after the folder's other files, in the order of their names."""
    for suffix in (*JSON_SUFFIXES, *SUFFIXES):
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            return stem == "override" or stem.endswith("_override")
    return False


def remember(folder: str, names: list[str]) -> None:
    """A walked folder's Terraform files (``folder`` spelt as ``str(Path)`` does), so it is listed once."""
    _listed[folder] = tuple(names)


_listed: dict[str, tuple[str, ...]] = {}


def folder_files(folder: Path) -> list[Path]:
    """The Terraform files of one folder (a Terraform module is one folder, not its subfolders)."""
    return [folder / name for name in folder_names(str(folder))]


def folder_names(folder: str) -> tuple[str, ...]:
    """The names of a folder's Terraform files (native and JSON syntax), sorted; ``folder`` spelt as
    ``str(Path)`` does."""
    names = _listed.get(folder)
    if names is None:
        names = _listed[folder] = _folder_names(folder)
    return names


def forget() -> None:
    """Start a run from what is on disk now: folder listings and local module checks are kept per run."""
    _local_is_eks.cache_clear()
    _listed.clear()


def _folder_names(folder: str) -> tuple[str, ...]:
    """The folder's Terraform files that may be read: a link leading outside the paths given is left out."""
    try:
        with os.scandir(folder) as entries:
            return tuple(sorted(e.name for e in entries if e.name.endswith((*SUFFIXES, *JSON_SUFFIXES))
                                and e.is_file() and (not e.is_symlink() or refusal(e.path) is None)))
    except OSError:
        return ()


def sources(raw: bytes) -> list[bytes]:
    """Every ``source = "..."`` of a file, found from its bytes (``resource`` blocks skipped cheaply)."""
    found: list[bytes] = []
    match = _SOURCE.search(raw)
    while match:
        at = match.start()
        if at == 0 or raw[at - 1] in b" \t\n{;":
            found.append(match.group(1))
        match = _SOURCE.search(raw, at + 6)  # not from the end: another may start inside what this one matched
    return found


NO_PREFILTER_ENV = "EKSPROXY_GEN_NO_PREFILTER"


def might_call_eks(raw: bytes, folder: Path) -> bool:
    """True unless the bytes prove the file holds nothing eksproxy-gen judges.

    That is a terraform-aws-eks module call, a Karpenter node class, or a
    release of the Karpenter chart. Bytes alone never prove a verdict where
    the thing judged is written in another file: a resource that carries a
    manifest (it may come from ``templatefile()``) and a ``helm_release``
    whose chart is not a literal are always parsed. ``EKSPROXY_GEN_NO_PREFILTER=1`` turns the
    test off (every file is parsed): the oracle the pre-filter is tested against.
    """
    if os.environ.get(NO_PREFILTER_ENV):
        return True
    if _KARPENTER_YAML in raw or b"ec2NodeClass" in raw or (b"helm_release" in raw and b"karpenter" in raw):
        return True
    if any(carrier in raw for carrier in _MANIFEST_CARRIERS):  # its manifest may come from file(), a local, ...
        return True
    if b"helm_release" in raw and _COMPUTED_CHART.search(raw):  # the chart's name may be "karpenter" elsewhere
        return True
    if b"aws_eks_node_group" in raw or b"enable_karpenter" in raw:  # not judged, which must be said (not_judged.py)
        return True
    if b"module" not in raw or b"source" not in raw:
        return False
    if b"node_groups" in raw or _NODE_GROUP_SOURCE.search(raw):  # a module of node groups, maybe a wrapper
        return True
    if any(name in raw for name in _EKS_NAMES):
        return True
    for source in sources(raw):
        if b"${" in source or b"\\" in source:
            return True
        local = source.startswith((b"./", b"../", b"/")) or source in (b".", b"..")
        if local and _local_is_eks(source.decode("utf-8", "replace"), str(folder)):
            return True
    return False


@lru_cache(maxsize=4096)
def _local_is_eks(source: str, folder: str) -> bool:
    return module_source.local_kind(source, Path(folder)) is not None


def outside_dependencies(folder: Path, contents: list[bytes]) -> set[Path]:
    """Paths outside the folder's own files that decide whether its module calls are terraform-aws-eks.

    A folder is a copy of the module when it holds ``node_groups.tf`` and
    ``modules/eks-managed-node-group``, and a submodule of a copy when it sits in
    the ``modules`` folder of one; a local source is judged by the same marks in
    its folder (``variables.tf`` there tells the copy's version). A cached
    verdict stays valid only while these do not change.
    """
    roots: list[Path] = []
    if "node_groups.tf" in folder_names(str(folder)):
        roots.append(folder)
    if folder.parent.name == "modules":
        roots.append(folder.parent.parent)
    for raw in contents:
        if b"source" not in raw:
            continue
        for written in sources(raw):
            source = written.decode("utf-8", "replace")
            if source.startswith(("./", "../", "/")) or source in {".", ".."}:
                target = folder / source.partition("//")[0]
                roots += [target, target.parent.parent]
    found: set[Path] = set()
    for root in roots:
        found |= {root / "node_groups.tf", root / "variables.tf", root / "modules" / "eks-managed-node-group"}
    return {path for path in found if fsguard.trackable(path)}  # the cache reads them: never outside, or a FIFO
