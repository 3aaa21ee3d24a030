"""What each released version of terraform-aws-eks does with a node group, read from the module's own sources.

``data/eks_module_versions.json`` is extracted from the module at every
release tag by ``tests/tools/extract_module_versions.py`` (never edited by
hand). It says, per release: which inputs the root module has, and for each
node-group map and each way a group can be written (``ami_type`` and
``platform`` set or not, a custom AMI or not) which user-data template the
node gets and which of the group's settings reach it. Verdicts follow the
releases a module call admits, so a rule that changed in 20.8.4 or 20.9.0 is
judged as that release does, not as its major does.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from .family import Family

Version = tuple[int, int, int]

_VERSION = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$")
_CONSTRAINT = re.compile(r"^\s*(=|!=|>=|<=|>|<|~>)?\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-[\w.]+)?\s*$")
META_ARGUMENTS = frozenset({"source", "version", "count", "for_each", "providers", "depends_on"})
OLDEST_SUPPORTED = (19, 0, 0)

# The template a user-data source stands for (a cloudinit_config data source, or a template file).
_TEMPLATES = (("al2023", Family.AL2023), ("bottlerocket", Family.BOTTLEROCKET), ("windows", Family.WINDOWS),
              ("linux", Family.AL2), ("al2", Family.AL2), ("userdata.sh", Family.AL2), ("workers_userdata", Family.AL2))
# The representative ami_type the extraction evaluated for each user-data type of the module's tables.
_REPRESENTATIVE = {"linux": "AL2_x86_64", "al2023": "AL2023_x86_64_STANDARD", "bottlerocket": "BOTTLEROCKET_x86_64",
                   "windows": "WINDOWS_CORE_2019_x86_64"}
_BY_FAMILY = {Family.AL2: "linux", Family.AL2023: "al2023", Family.BOTTLEROCKET: "bottlerocket",
              Family.WINDOWS: "windows"}


def parse(text: str) -> Version | None:
    match = _VERSION.match(text.strip())
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2) or 0), int(match.group(3) or 0)


def shown(version: str) -> str:
    return f"v{version}"


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    text = resources.files("eksproxy_gen.policy").joinpath("data/eks_module_versions.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@lru_cache(maxsize=1)
def released() -> tuple[str, ...]:
    """Every released version the table knows, oldest first."""
    return tuple(sorted(_table()["versions"], key=lambda v: parse(v) or (0, 0, 0)))


@cache
def key(version: str) -> Version:
    """A release's sort key; cached, since every folder compares the same few hundred releases."""
    return parse(version) or (0, 0, 0)


def newest(versions: frozenset[str] | set[str]) -> str:
    """The release ``terraform init`` installs among those a call admits."""
    return max(versions, key=key)


def span(versions: frozenset[str] | set[str]) -> str:
    """Versions for a message: ``v20.8.4``, ``v20.0.0 to v20.8.3``."""
    ordered = sorted(versions, key=key)
    if not ordered:
        return "no release"
    return shown(ordered[0]) if len(ordered) == 1 else f"{shown(ordered[0])} to {shown(ordered[-1])}"


# --- which releases a call can be ------------------------------------------------------------------------------------

@lru_cache(maxsize=256)
def constraint_versions(constraint: str) -> frozenset[str] | None:
    """The releases a version constraint admits (Terraform's operators, comma-separated); None if unreadable."""
    checks: list[tuple[str, Version, int]] = []
    for part in constraint.split(","):
        if not part.strip():
            continue
        match = _CONSTRAINT.match(part)
        if match is None:
            return None
        given = [g for g in match.groups()[1:] if g is not None]
        checks.append((match.group(1) or "=", (int(given[0]), int(given[1] if len(given) > 1 else 0),
                                               int(given[2] if len(given) > 2 else 0)), len(given)))
    return frozenset(v for v in released() if all(_admits(op, bound, n, key(v)) for op, bound, n in checks))


def _admits(op: str, bound: Version, segments: int, version: Version) -> bool:
    if op == "=":
        return version == bound
    if op == "!=":
        return version != bound
    if op == ">=":
        return version >= bound
    if op == ">":
        return version > bound
    if op == "<=":
        return version <= bound
    if op == "<":
        return version < bound
    # "~>": only the rightmost given segment may grow (~> 20.8 is >= 20.8.0, < 21.0.0; ~> 20.8.4 < 20.9.0)
    if version < bound:
        return False
    if segments == 3:
        return version[:2] == bound[:2]
    if segments == 2:
        return version[0] == bound[0]
    return True


def ref_versions(ref: str) -> frozenset[str] | None:
    """The release a git ref names when it is a version tag; None for a branch or commit."""
    version = parse(ref)
    if version is None:
        return None
    exact = [v for v in released() if key(v) == version]
    if exact:
        return frozenset(exact)
    newer = [v for v in released() if key(v)[0] == version[0]]
    if newer and version > key(newer[-1]):  # a release after the table: taken as the newest one known
        return frozenset({newer[-1]})
    return None


@lru_cache(maxsize=1)
def _variables_by_version() -> dict[str, frozenset[str]]:
    """The root module's input names at every release."""
    table = _table()["root_variables"]
    found: dict[str, set[str]] = {v: set() for v in released()}
    keyed = [(key(version), names) for version, names in found.items()]
    for name, runs in table.items():
        for first, last in runs:
            low, high = key(first), key(last)
            for at, names in keyed:
                if low <= at <= high:
                    names.add(name)
    return {v: frozenset(names) for v, names in found.items()}


@lru_cache(maxsize=1)
def every_input() -> frozenset[str]:
    """Every input the root module has had in any release."""
    return frozenset(_table()["root_variables"])


def accepting(arguments: set[str], candidates: frozenset[str]) -> frozenset[str]:
    """The candidates whose root module takes every argument given (Terraform rejects an unknown one)."""
    wanted = arguments - META_ARGUMENTS
    by_version = _variables_by_version()
    return frozenset(v for v in candidates if wanted <= by_version.get(v, frozenset()))


def declaring(variables: set[str]) -> frozenset[str]:
    """The releases whose root module declares exactly these inputs (a local copy's variables.tf)."""
    return frozenset(v for v, names in _variables_by_version().items() if names == variables)


def reading(group_keys: dict[str, set[str]], candidates: frozenset[str]) -> frozenset[str]:
    """The candidates whose root module reads exactly these keys from a group of each node-group map given (a
    local copy's node_groups.tf)."""
    table = _table()["group_keys"]

    def keys(map_name: str, version: str) -> set[str]:
        return {name for name, runs in table.get(map_name, {}).items()
                if any(key(first) <= key(version) <= key(last) for first, last in runs)}

    known = {m: names for m, names in group_keys.items() if m in table}
    if not known:
        return frozenset()
    return frozenset(v for v in candidates if all(keys(m, v) == names for m, names in known.items()))


def declaring_at_least(variables: set[str]) -> frozenset[str]:
    """The releases whose root module declares at least these inputs (a partial copy's variables.tf)."""
    return frozenset(v for v, names in _variables_by_version().items() if variables <= names)


def unsupported(versions: frozenset[str]) -> bool:
    """Every release is older than v19: worker_groups and node_groups, which eksproxy-gen does not read."""
    return bool(versions) and all(key(v) < OLDEST_SUPPORTED for v in versions)


def removed_inputs(arguments: set[str], versions: frozenset[str]) -> dict[str, frozenset[str]]:
    """Arguments the call gives that some admitted release does not have, with those releases."""
    by_version = _variables_by_version()
    found: dict[str, set[str]] = {}
    for version in versions:
        for name in arguments - META_ARGUMENTS - by_version.get(version, frozenset()):
            found.setdefault(name, set()).add(version)
    return {name: frozenset(found_in) for name, found_in in found.items()}


# --- what a group's settings become on the node -----------------------------------------------------------------------

@dataclass(frozen=True)
class Delivery:
    """What one release makes of a node group: the user-data template (None: no user data, or an error), the
    settings that reach the node, and whether ``pre_bootstrap_user_data`` is a shell part of its own.
    ``error`` completes "terraform-aws-eks vX ..." (the release is left out, so releases that agree read as one).
    ``blocked`` says that the release *knows* this group and lets nothing written in it reach a node: ``EMPTY``
    (it gives the group no user data at all) or ``REJECTED`` (a validation fails the call). That is a verdict on
    the group, never "the template cannot be told"; ``error`` without ``blocked`` is what eksproxy-gen cannot read.
    """

    template: Family | None
    inputs: frozenset[str] = frozenset()
    own_part: bool = False
    error: str = ""
    blocked: str = ""


EMPTY = "empty"
REJECTED = "rejected"


@lru_cache(maxsize=1)
def _eras_by_version() -> dict[str, dict[str, Any]]:
    """The declarations era of every release (its ami_type tables)."""
    return {v: era for era in _table()["eras"] for v in era["versions"]}


@lru_cache(maxsize=16)
def _user_data_by_version(map_name: str) -> dict[str, dict[str, Any]]:
    return {v: era for era in _table()["user_data"].get(map_name, []) for v in era["versions"]}


@dataclass(frozen=True)
class OwnAmi:
    """How a group pairs ``ami_id`` with ``enable_bootstrap_user_data``: releases read each on its own (v20's
    ``_user_data`` adds ``cloudinit_post_nodeadm`` parts only when enable_bootstrap_user_data is true, whatever
    ami_id is), so the table has a scenario for every pairing."""

    ami_id: bool = False
    bootstrap: bool = False

    @property
    def suffix(self) -> str:
        """The extraction's scenario suffix for this pairing."""
        return {(False, False): "", (True, True): "+custom_ami", (True, False): "+ami_id",
                (False, True): "+bootstrap_user_data"}[(self.ami_id, self.bootstrap)]

    def __str__(self) -> str:
        said = ["ami_id set" if self.ami_id else "no ami_id",
                f"enable_bootstrap_user_data = {'true' if self.bootstrap else 'false'}"]
        return " and ".join(said)


EKS_AMI = OwnAmi()
CUSTOM_AMI = OwnAmi(True, True)


def delivery(version: str, map_name: str, ami_type: str | None, platform: str | None,
             own: OwnAmi | bool) -> Delivery:
    """What ``version`` makes of a group of ``map_name`` written with these settings (``own``: a bool stands for
    ami_id and enable_bootstrap_user_data both set or both not)."""
    era = _user_data_by_version(map_name).get(version)
    if era is None:
        return Delivery(None, error=f"does not have {map_name}")
    if isinstance(own, bool):
        own = CUSTOM_AMI if own else EKS_AMI
    return _delivery(map_name, version, ami_type, platform, own)


@lru_cache(maxsize=4096)
def _delivery(map_name: str, version: str, ami_type: str | None, platform: str | None, own: OwnAmi) -> Delivery:
    era = _user_data_by_version(map_name)[version]
    selection = era["selection"]
    label = _label(version, selection, ami_type, platform)
    if isinstance(label, Delivery):
        return label
    wanted = label + own.suffix
    outcome = next((o for o in era["outcomes"] if wanted in o["when"]), None)
    if outcome is None:
        return Delivery(None, error="writes this group's user data in a way eksproxy-gen does not know")
    if outcome.get("error"):
        return Delivery(None, error=f"rejects it ({_one_line(outcome['error'])})", blocked=REJECTED)
    if outcome.get("user_data", "") is None:
        return Delivery(None, error="gives this group no user data at all", blocked=EMPTY)
    parts = outcome.get("parts") or []
    own_part = bool(parts) and parts[0].get("content") == "{{pre_bootstrap_user_data}}" and \
        parts[0].get("content_type") == "text/x-shellscript"
    return Delivery(_template(outcome.get("from")), frozenset(outcome.get("inputs") or ()), own_part)


def _label(version: str, selection: dict[str, Any], ami_type: str | None,
           platform: str | None) -> str | Delivery:
    """The scenario label of the extraction that stands for this group in ``version``, or why there is none.

    A release reads ``ami_type`` (through exact keys of its tables), ``platform``,
    or both, one winning when both are set. A ``platform`` a release does not
    read is dropped (v21) or rejected (self-managed 20.14 and later); the
    extraction recorded which, under the platform's own label.
    """
    labels = {w.split("+")[0] for o in _user_data_by_version_list(version, selection) for w in o}
    reads_ami, reads_platform = bool(selection.get("by_ami_type")), bool(selection.get("by_platform"))
    ami_label: str | None = None
    if ami_type is not None and reads_ami:
        kind = _table_kind(version, ami_type)
        if kind is not None:
            ami_label = f"ami_type={_REPRESENTATIVE[kind]}"
        elif not reads_platform:
            return Delivery(None, error=f"does not know ami_type {ami_type} (Terraform rejects it)")
    platform_label = f"platform={platform}" if platform is not None else None
    if platform_label and not reads_platform and platform_label in labels:
        rejected = _rejection(version, platform_label)
        if rejected:
            return Delivery(None, error=rejected, blocked=REJECTED)
        if ami_label is None:
            return platform_label  # dropped: as if unset, as the extraction recorded
    if ami_label and platform_label and f"{ami_label},{platform_label}" in labels:
        return f"{ami_label},{platform_label}"
    if ami_label and not (platform_label and reads_platform and selection.get("when_both_set") == "platform"):
        return ami_label
    if platform_label and reads_platform:
        return platform_label
    return "unset"


def first_reaching(after: str, map_name: str, ami_type: str | None, platform: str | None, own: OwnAmi | bool,
                   template: Family, setting: str) -> str | None:
    """The first release after ``after`` that gives a group written this way the ``template`` and passes
    ``setting`` on to its node, or None when no release eksproxy-gen knows does."""
    for version in released():
        if key(version) <= key(after):
            continue
        found = delivery(version, map_name, ami_type, platform, own)
        if found.template is template and setting in found.inputs:
            return version
    return None


def group_takes(map_name: str, name: str, version: str) -> bool:
    """Whether ``version``'s root module reads ``name`` from a group of ``map_name``, and so passes it to the
    node-group submodule, whose own input it is (the root hands every group setting on to that submodule)."""
    runs = _table()["group_keys"].get(map_name, {}).get(name, [])
    return any(key(first) <= key(version) <= key(last) for first, last in runs)


def _rejection(version: str, label: str) -> str:
    """Why ``version`` rejects a group written as ``label`` (a validation), or ""."""
    for map_name in ("self_managed_node_groups", "eks_managed_node_groups"):
        era = _user_data_by_version(map_name).get(version)
        for outcome in (era or {}).get("outcomes", []):
            if label in outcome["when"] and outcome.get("error"):
                return f"rejects it ({_one_line(outcome['error'])})"
    return ""


def _user_data_by_version_list(version: str, selection: dict[str, Any]) -> list[list[str]]:
    """Every scenario label the extraction evaluated in ``version``, for any node-group map."""
    found: list[list[str]] = []
    for map_name in ("eks_managed_node_groups", "self_managed_node_groups"):
        era = _user_data_by_version(map_name).get(version)
        if era is not None and era["selection"] == selection:
            found += [[w.split("+")[0] for w in o["when"]] for o in era["outcomes"]]
    return found


def _table_kind(version: str, ami_type: str) -> str | None:
    """The user-data type the release's ami_type tables give an ami_type (exact keys), or None when none has it.

    An ``ami_type`` with an interpolation (``AL2023_${var.arch}_STANDARD``) is
    every key it can spell; it has a type only when they all agree.
    """
    era = _eras_by_version().get(version)
    pattern = _pattern(ami_type)
    kinds: set[str | None] = set()
    for table in (era or {}).get("ami_type_maps", {}).values():
        for name, found in table.get("map", {}).items():
            if (name == ami_type or (pattern is not None and pattern.fullmatch(name))) and isinstance(found, str):
                kinds.add(_kind_of(found))
    return next(iter(kinds)) if len(kinds) == 1 else None


def _pattern(ami_type: str) -> re.Pattern[str] | None:
    if "${" not in ami_type:
        return None
    return re.compile(".+".join(re.escape(piece) for piece in re.split(r"\$\{[^}]*\}", ami_type)))


def _kind_of(found: str) -> str | None:
    """A table's value (``linux``, or a template path in v21) as a user-data type."""
    kind = found.rsplit("/", 1)[-1].split("_user_data")[0]
    if kind in _REPRESENTATIVE:
        return kind
    for name, family in _TEMPLATES:
        if name in found and family in _BY_FAMILY:
            return _BY_FAMILY[family]
    return None


def _template(source: object) -> Family | None:
    names = source if isinstance(source, list) else [source]
    for name in names:
        if not isinstance(name, str):
            continue
        for marker, family in _TEMPLATES:
            if marker in name:
                return family
    return None


def _one_line(text: str) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= 100 else flat[:99] + "…"
