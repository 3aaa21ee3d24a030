#!/usr/bin/env python3
"""Extract what each release of terraform-aws-eks does with a node group's settings, from the module's own sources.

eksproxy-gen judges a node group by what the module version that will run does with its
inputs: which arguments exist, what a group inherits from ``*_node_group_defaults``, which
user-data template it gets and what of ``cloudinit_pre_nodeadm`` / ``pre_bootstrap_user_data`` /
``bootstrap_extra_args`` reaches the node. Those answers changed between minor releases, so they
are read from every release tag rather than written down by hand per major version.

Usage (the repository is a clone, bare or not, of terraform-aws-modules/terraform-aws-eks)::

    python tests/tools/extract_module_versions.py --repo <git dir> \\
        --output generator/policy/data/eks_module_versions.json

How the facts are found, per release (every ``vX.Y.Z`` tag from v17.0.0; a pre-release tag only
where its version has no final release):

* Declarations (root variables, the node-group maps' types and object attributes, the
  submodules' variable defaults) are read from the ``.tf`` files with python-hcl2.
* Pass-through (which group keys the root module hands to the node-group submodule, whether the
  ``*_defaults`` map is consulted, the fallback) is read from the expressions of the root
  module's node-group call (``try(each.value.k, var.defaults.k, fallback)`` and friends).
* Behaviour (the user data a node ends up with) is *evaluated*: tfeval.py runs the release's
  own Terraform code for one node group, from the root module down to the launch template, for a
  set of scenarios (ami_type / platform set or not, custom AMI with bootstrap user data or not).

The output is deterministic: the same repository gives the same bytes. It holds

* ``versions``: every release, sorted (registry form, no ``v``);
* ``eras``: runs of consecutive releases whose declarations are identical, each with the
  ``versions`` it covers: the node-group maps and defaults maps that exist, per map its type and
  ``key_facts`` (see ``key_fact``), the submodules' defaults, the ami_type tables, the templates;
* ``user_data``: per node-group map, runs of releases whose evaluated behaviour is identical:
  whether the launch template is created, the user data of each scenario (``outcomes``) and
  which setting selects the format (``selection``); ``scenarios`` in the file explains them;
* ``root_variables``, ``group_keys``, ``group_attributes``: name -> list of ``[first, last]``
  ranges of releases (inclusive, in ``versions`` order) where the name exists; these change
  with almost every release, so they are kept out of the eras.

Most files are the same in many releases, so each is parsed once (by blob); a full run over
the ~260 releases takes about four minutes, almost all of it python-hcl2 parsing.

Anything the extractor does not understand (a new function, a new kind of expression) stops it
with an error naming the release, instead of producing a guess.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hclexpr import Call, Expr, GetAttr, Index, Lit, ObjectE, ParseError, Var, show, walk
from tfeval import (
    UNKNOWN,
    BlockInstance,
    BlockRef,
    EvalError,
    HardError,
    Input,
    Instance,
    Mark,
    Mime,
    Module,
    Scope,
    Text,
    Tree,
    Undecidable,
    Unknown,
    Unsupported,
    block_attribute,
    evaluate,
    expr,
    object_attributes,
)

FIRST = (17, 0, 0)
SOURCE = "https://github.com/terraform-aws-modules/terraform-aws-eks"

# The node-group maps of the root module, old and new; fargate profiles carry no user data.
GROUP_MAPS = ("eks_managed_node_groups", "self_managed_node_groups", "node_groups", "worker_groups",
              "worker_groups_launch_template", "fargate_profiles")
DEFAULTS_MAPS = ("eks_managed_node_group_defaults", "self_managed_node_group_defaults", "node_groups_defaults",
                 "workers_group_defaults", "fargate_profile_defaults")
USER_DATA_MAPS = GROUP_MAPS[:-1]
SUBMODULES = ("eks-managed-node-group", "self-managed-node-group")

# The group settings eksproxy-gen reads or writes, with the v17 names of the same ideas.
KEY_FACTS = ("cloudinit_pre_nodeadm", "cloudinit_post_nodeadm", "pre_bootstrap_user_data",
             "post_bootstrap_user_data", "bootstrap_extra_args", "user_data_template_path", "ami_type", "ami_id",
             "platform", "enable_bootstrap_user_data", "use_custom_launch_template", "create_launch_template",
             "launch_template_id", "ami_release_version", "create",
             "pre_userdata", "additional_userdata", "kubelet_extra_args", "userdata_template_file",
             "ami_is_eks_optimized", "bootstrap_env")

# Scenario inputs: each stands for a non-empty value the user gives, so the result shows where it goes.
STRING_INPUTS = ("pre_bootstrap_user_data", "post_bootstrap_user_data", "bootstrap_extra_args", "pre_userdata",
                 "additional_userdata", "kubelet_extra_args")
PART_INPUTS = {"cloudinit_pre_nodeadm": "application/node.eks.aws", "cloudinit_post_nodeadm": "text/x-shellscript"}
AMI_TYPES = ("AL2_x86_64", "AL2023_x86_64_STANDARD", "BOTTLEROCKET_x86_64", "WINDOWS_CORE_2019_x86_64")
PLATFORMS = ("linux", "al2023", "bottlerocket", "windows")
BOTH = ("AL2023_x86_64_STANDARD", "bottlerocket")
CUSTOM_AMI = "ami-0123456789abcdef0"
CUSTOM = "+custom_ami"  # scenario suffix: ami_id set and enable_bootstrap_user_data = true
# Every way a group can pair ami_id with enable_bootstrap_user_data, as (suffix, ami_id set, bootstrap = true):
# releases decide on either alone (v20's _user_data adds cloudinit_post_nodeadm only when
# enable_bootstrap_user_data is true, whatever ami_id is), so each pairing is evaluated.
SETUPS = (("", False, False), (CUSTOM, True, True), ("+ami_id", True, False), ("+bootstrap_user_data", False, True))
GROUP = "ng"
_META = {"source", "version", "for_each", "count", "providers", "depends_on"}


# ----------------------------------------------------------------------------------------------
# The repository
# ----------------------------------------------------------------------------------------------


class Repo:
    """Read-only access to a git repository through ``git`` (one long-lived ``cat-file --batch``)."""

    def __init__(self, git_dir: Path) -> None:
        self.git_dir = git_dir
        self._batch: subprocess.Popen[bytes] | None = None
        self._blobs: dict[str, str] = {}

    def git(self, *args: str) -> str:
        return subprocess.run(["git", "--git-dir", str(self.git_dir), *args], check=True, capture_output=True,
                              text=True).stdout

    def releases(self) -> list[tuple[str, str]]:
        """(version, tag) of every release from v17.0.0, sorted; a pre-release only where no final exists."""
        finals: dict[tuple[int, int, int], str] = {}
        pre: dict[tuple[int, int, int], list[tuple[str, str]]] = {}
        for tag in self.git("tag", "--list").split():
            m = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?", tag)
            if not m:
                continue
            core = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
            if core < FIRST:
                continue
            if m.group(4) is None:
                finals[core] = tag
            else:
                pre.setdefault(core, []).append((m.group(4), tag))
        out: list[tuple[tuple[int, int, int], str, str]] = []
        for core, tag in finals.items():
            out.append((core, "", tag))
        for core, tags in pre.items():
            if core not in finals:
                suffix, tag = max(tags, key=lambda st: _prerelease_key(st[0]))
                out.append((core, suffix, tag))
        out.sort(key=lambda item: (item[0], item[1] == "", _prerelease_key(item[1])))
        return [(".".join(map(str, core)) + (f"-{suffix}" if suffix else ""), tag) for core, suffix, tag in out]

    def tree(self, tag: str) -> Tree:
        paths: dict[str, str] = {}
        for line in self.git("ls-tree", "-r", f"{tag}^{{tree}}").splitlines():
            meta, path = line.split("\t", 1)
            _, kind, blob = meta.split()
            if kind == "blob" and path.endswith((".tf", ".tpl")) and not path.startswith(("examples/", "tests/")):
                paths[path] = blob
        return Tree(paths, self.read)

    def read(self, blob: str) -> str:
        if blob not in self._blobs:
            if self._batch is None:
                self._batch = subprocess.Popen(["git", "--git-dir", str(self.git_dir), "cat-file", "--batch"],
                                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            assert self._batch.stdin is not None and self._batch.stdout is not None
            self._batch.stdin.write(blob.encode() + b"\n")
            self._batch.stdin.flush()
            header = self._batch.stdout.readline().split()
            size = int(header[2])
            data = self._batch.stdout.read(size + 1)[:size]
            self._blobs[blob] = data.decode("utf-8", errors="replace")
        return self._blobs[blob]

    def close(self) -> None:
        if self._batch is not None:
            assert self._batch.stdin is not None
            self._batch.stdin.close()
            self._batch.wait()
            self._batch = None


def _prerelease_key(suffix: str) -> tuple[tuple[int, object], ...]:
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"[.-]", suffix) if p)


# ----------------------------------------------------------------------------------------------
# Declarations and pass-through (read, not evaluated)
# ----------------------------------------------------------------------------------------------


def literal(value: object) -> object:
    """A value for the JSON file: plain JSON when known, ``{"computed": true}`` when Terraform learns it at apply."""
    if isinstance(value, Unknown):
        return {"computed": True}
    if isinstance(value, Text):
        return {"text": render(value)}
    if isinstance(value, dict):
        return {k: literal(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [literal(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise Unsupported(f"cannot store {value!r}")


def static(node: Expr, instance: Instance | None = None) -> object:
    """A fallback or default as JSON: its value when it is a constant; else ``{"expression": text}``, with the
    ``value`` it has when nothing else is set if the module's own defaults decide it."""
    try:
        return literal(evaluate(node, Scope(None)))
    except (EvalError, HardError, Undecidable, Unsupported):
        pass
    out: dict[str, object] = {"expression": show(node)}
    if instance is not None:
        try:
            value = evaluate(node, Scope(instance))
        except (EvalError, HardError, Undecidable, Unsupported):
            return out
        if known(value):
            out["value"] = literal(value)
    return out


def known(value: object) -> bool:
    """Whether a value is fully known (no apply-time part, no module handle)."""
    if isinstance(value, dict):
        return all(known(v) for v in value.values())
    if isinstance(value, list):
        return all(known(v) for v in value)
    return value is None or isinstance(value, str | int | float | bool)


def refs_var(node: Expr, name: str) -> bool:
    return any(isinstance(n, GetAttr) and n.obj == Var("var") and n.name == name for n in walk(node))


def depends_on_var(module: Module, node: Expr, name: str, seen: set[str] | None = None) -> bool:
    """Whether an expression reads ``var.name``, directly or through the module's locals."""
    seen = set() if seen is None else seen
    if refs_var(node, name):
        return True
    for n in walk(node):
        if isinstance(n, GetAttr) and n.obj == Var("local") and n.name not in seen and n.name in module.locals:
            seen.add(n.name)
            if depends_on_var(module, expr(module.locals[n.name]), name, seen):
                return True
    return False


def group_value(node: Expr, group: Expr) -> Iterator[str]:
    """The keys read from the group value ``group`` (``g.k``, ``g["k"]``, ``lookup(g, "k", ...)``) in node."""
    for n in walk(node):
        if isinstance(n, GetAttr) and n.obj == group:
            yield n.name
        elif isinstance(n, Index) and n.obj == group and isinstance(n.key, Lit) and isinstance(n.key.value, str):
            yield n.key.value
        elif (isinstance(n, Call) and n.name == "lookup" and len(n.args) >= 2 and n.args[0] == group
              and isinstance(n.args[1], Lit) and isinstance(n.args[1].value, str)):
            yield n.args[1].value


def fallback(node: Expr, group: Expr, key: str) -> tuple[Expr | None, str | None]:
    """The fallback used for ``key`` when the group does not set it, and the defaults map consulted, if any."""
    for n in walk(node):
        if isinstance(n, Call) and n.name == "try" and any(key in group_value(a, group) for a in n.args[:1]):
            defaults = [_defaults_map(a, key) for a in n.args[1:]]
            rest = [a for a, d in zip(n.args[1:], defaults, strict=True) if d is None]
            return (rest[-1] if rest else None), next((d for d in defaults if d), None)
        if (isinstance(n, Call) and n.name == "lookup" and len(n.args) == 3 and n.args[0] == group
                and n.args[1] == Lit(key)):
            inner: Expr | None = n.args[2]
            defaults_name = None
            if (isinstance(inner, Call) and inner.name == "lookup" and len(inner.args) == 3
                    and isinstance(inner.args[0], GetAttr) and inner.args[0].obj == Var("var")):
                defaults_name = inner.args[0].name
                inner = inner.args[2]
            elif inner is not None and _defaults_map(inner, key):
                defaults_name = _defaults_map(inner, key)
                inner = None
            return inner, defaults_name
    return None, None


def _defaults_map(node: Expr, key: str) -> str | None:
    """``var.X.key`` / ``var.X["key"]`` / ``local.X["key"]``: the name X of the defaults map consulted."""
    named = (isinstance(node, GetAttr) and node.name == key) or (isinstance(node, Index) and node.key == Lit(key))
    base = node.obj if isinstance(node, GetAttr | Index) else None
    if not named or not isinstance(base, GetAttr):
        return None
    if base.obj in (Var("var"), Var("local")) and "default" in base.name:
        return str(base.name)
    return None


@dataclass
class Consumer:
    """Where a node-group map is turned into node groups: a module called per group, a module given the whole
    map, or the root module itself (v17 worker groups)."""

    kind: str
    module: str | None = None
    argument: str | None = None


def consumer(root: Module, map_name: str) -> Consumer:
    for name, block in sorted(root.modules.items()):
        if "for_each" in block.attrs and refs_var(expr(block.attrs["for_each"]), map_name):
            return Consumer("for_each", name)
    for name, block in sorted(root.modules.items()):
        for arg, value in block.attrs.items():
            if arg not in _META and refs_var(expr(value), map_name):
                return Consumer("argument", name, arg)
    return Consumer("root")


def pass_through(tree: Tree, root: Module, map_name: str) -> dict[str, dict[str, object]]:
    """For every group key the module reads: the submodule argument it feeds, the defaults map consulted (if
    any) and the fallback when neither the group nor the defaults set it."""
    found = consumer(root, map_name)
    root_instance, handler = instantiate(tree, root, map_name, {})
    keys: dict[str, dict[str, object]] = {}
    if found.kind == "for_each":
        group: Expr = GetAttr(Var("each"), "value")
        block = root.modules[found.module or ""]
        for arg, raw in block.attrs.items():
            if arg in _META:
                continue
            node = expr(raw)
            for key in group_value(node, group):
                if key in keys:
                    continue
                default, defaults_name = fallback(node, group, key)
                keys[key] = {"argument": arg, "defaults": defaults_name}
                if default is not None:
                    keys[key]["fallback"] = static(default)
        return keys
    if found.kind == "argument":
        child = Module.load(tree, _child_folder(root, found.module or ""))
        return _merged_pass_through(child, found.argument or map_name, handler)
    return _root_pass_through(root, map_name, root_instance)


def _child_folder(module: Module, name: str) -> str:
    source = evaluate(expr(module.modules[name].attrs["source"]), Scope(None))
    assert isinstance(source, str)
    return re.sub(r"^\./", "", source).rstrip("/")


def _merged_pass_through(child: Module, variable: str, instance: Instance | None) -> dict[str, dict[str, object]]:
    """v17 ``node_groups``: groups are ``merge({built-in defaults}, var.node_groups_defaults, group)``, then read
    as ``each.value["k"]`` or ``lookup(each.value, "k", fallback)``."""
    keys: dict[str, dict[str, object]] = {}
    merged_defaults = None
    for name, raw in child.locals.items():
        node = expr(raw)
        if refs_var(node, variable):
            for n in walk(node):
                if isinstance(n, Call) and n.name == "merge" and any(
                        isinstance(a, GetAttr) and a.obj == Var("var") and "default" in a.name for a in n.args):
                    base = n.args[0]
                    found_var = next(a.name for a in n.args if isinstance(a, GetAttr) and "default" in a.name)
                    merged_defaults = (name, found_var, base)
    defaults_var: str | None = None
    base_items: dict[Expr, Expr] = {}
    if merged_defaults is not None:  # v17 fargate profiles have no defaults map
        _, defaults_var, base = merged_defaults
        base_items = dict(base.items) if isinstance(base, ObjectE) else {}
    for key_node, value in base_items.items():
        if isinstance(key_node, Lit) and isinstance(key_node.value, str):
            keys[key_node.value] = {"defaults": defaults_var, "fallback": static(value, instance)}
    group = GetAttr(Var("each"), "value")
    for body in [*child.resources.values(), *child.data.values()]:
        for node in _body_exprs(body):
            for key in group_value(node, group):
                if key not in keys:
                    default, _ = fallback(node, group, key)
                    keys[key] = {"defaults": defaults_var}
                    if default is not None:
                        keys[key]["fallback"] = static(default, instance)
    return keys


def _root_pass_through(root: Module, map_name: str, instance: Instance) -> dict[str, dict[str, object]]:
    """v17 worker groups: read in the root module as ``lookup(var.worker_groups[i], "k", local.defaults["k"])``."""
    keys: dict[str, dict[str, object]] = {}
    bodies = [*(expr(v) for v in root.locals.values())]
    for body in [*root.resources.values(), *root.data.values()]:
        bodies.extend(_body_exprs(body))
    defaults_local = None
    for node in bodies:
        for n in walk(node):
            if isinstance(n, Index) and n.obj == GetAttr(Var("var"), map_name):
                group = n
                for key in group_value(node, group):
                    if key in keys:
                        continue
                    default, defaults_name = fallback(node, group, key)
                    if defaults_name:
                        defaults_local = defaults_name
                    keys[key] = {"defaults": defaults_name}
                    if default is not None:
                        keys[key]["fallback"] = static(default, instance)
    if defaults_local and defaults_local in root.locals:
        # local.workers_group_defaults = merge(local.workers_group_defaults_defaults, var.workers_group_defaults)
        merged = expr(root.locals[defaults_local])
        if isinstance(merged, Call) and merged.name == "merge":
            variables = [a.name for a in merged.args if isinstance(a, GetAttr) and a.obj == Var("var")]
            builtin = [a.name for a in merged.args if isinstance(a, GetAttr) and a.obj == Var("local")]
            table = expr(root.locals[builtin[0]]) if builtin else None
            builtin_items = dict(table.items) if isinstance(table, ObjectE) else {}
            for entry in keys.values():
                if entry["defaults"] == defaults_local:
                    entry["defaults"] = variables[0] if variables else defaults_local
            for key, entry in keys.items():
                builtin_default = builtin_items.get(Lit(key))
                if builtin_default is not None and isinstance(entry.get("fallback", {}), dict):
                    entry["fallback"] = static(builtin_default, instance)
    return keys


def _body_exprs(body: object) -> Iterator[Expr]:
    attrs = getattr(body, "attrs", {})
    for value in attrs.values():
        yield expr(value)
    for _, _, inner in getattr(body, "blocks", []):
        yield from _body_exprs(inner)


# ----------------------------------------------------------------------------------------------
# Behaviour (evaluated)
# ----------------------------------------------------------------------------------------------


def text_input(name: str) -> Text:
    return Text((Input(name),))


def scenario_group(ami_type: str | None, platform: str | None, ami_id: bool,
                   bootstrap: bool | None = None) -> dict[str, object]:
    """One node group: every user-data setting given (as a named input), the AMI selection of the case."""
    group: dict[str, object] = {name: text_input(name) for name in STRING_INPUTS}
    for name, content_type in PART_INPUTS.items():
        group[name] = [{"content": text_input(name), "content_type": content_type}]
    group["create_launch_template"] = True
    if ami_type is not None:
        group["ami_type"] = ami_type
    if platform is not None:
        group["platform"] = platform
    if ami_id:
        group["ami_id"] = CUSTOM_AMI
    if ami_id if bootstrap is None else bootstrap:
        group["enable_bootstrap_user_data"] = True
    return group


def cases() -> list[tuple[str, str | None, str | None]]:
    """(label, ami_type, platform) of each AMI selection tried; ``unset`` sets neither."""
    out: list[tuple[str, str | None, str | None]] = [("unset", None, None)]
    out += [(f"ami_type={t}", t, None) for t in AMI_TYPES]
    out += [(f"platform={p}", None, p) for p in PLATFORMS]
    out.append((f"ami_type={BOTH[0]},platform={BOTH[1]}", *BOTH))
    return out


@dataclass
class Run:
    """One evaluation: the root module instance and the node-group instance that builds the launch template."""

    root: Instance
    group: Instance | None
    launch_template: BlockInstance | None  # None when no launch template is created
    reason: str = ""


def instantiate(tree: Tree, root_module: Module, map_name: str, group: dict[str, object],
                defaults: dict[str, object] | None = None) -> tuple[Instance, Instance | None]:
    """The root module with one node group in ``map_name``, and the module instance that handles it (None when
    the root does not iterate the group, e.g. ``create = false``)."""
    declared = root_module.variables[map_name]
    default = evaluate(expr(declared.attrs["default"]), Scope(None)) if "default" in declared.attrs else {}
    container: object = [group] if isinstance(default, list) else {GROUP: group}
    given: dict[str, object] = {name: UNKNOWN for name, decl in root_module.variables.items()
                                if "default" not in decl.attrs}  # required inputs: the user's values
    given[map_name] = container
    if defaults is not None:
        for name in DEFAULTS_MAPS:
            if name in root_module.variables:
                given[name] = defaults
    root = Instance(root_module, tree, {k: _constant(v) for k, v in given.items()}, "root")
    found = consumer(root_module, map_name)
    if found.kind == "for_each":
        block = root_module.modules[found.module or ""]
        each = evaluate(expr(block.attrs["for_each"]), Scope(root))
        if not isinstance(each, dict) or GROUP not in each:
            return root, None
        return root, root.child(found.module or "", {"each": {"key": GROUP, "value": each[GROUP]}})
    if found.kind == "argument":
        return root, root.child(found.module or "")
    return root, root


def _constant(value: object) -> Callable[[], object]:
    return lambda: value


def run(tree: Tree, root_module: Module, map_name: str, group: dict[str, object]) -> Run:
    """Evaluate the release for one node group in ``map_name``: which launch template it gets."""
    root, instance = instantiate(tree, root_module, map_name, group)
    if instance is None:
        return Run(root, None, None, "the node group is not created")
    found = consumer(root_module, map_name)
    candidates = [key for key in sorted(instance.module.resources)
                  if key[0] in ("aws_launch_template", "aws_launch_configuration")]
    if found.kind == "root":
        candidates = [key for key in candidates if any(
            depends_on_var(instance.module, expr(instance.module.resources[key].attrs[meta]), map_name)
            for meta in ("count", "for_each") if meta in instance.module.resources[key].attrs)]
    if len(candidates) != 1:
        raise Unsupported(f"{map_name}: expected one launch template resource, found {candidates}")
    kind, name = candidates[0]
    ref = evaluate(GetAttr(Var(kind), name), Scope(instance))
    body = instance.module.resources[candidates[0]]
    assert isinstance(ref, BlockRef)
    if "count" in body.attrs:
        count = evaluate(expr(body.attrs["count"]), Scope(instance))
        if not isinstance(count, int):
            raise Undecidable(f"{kind}.{name} count is {count!r}")
        if count == 0:
            return Run(root, instance, None, f"{kind}.{name} is not created")
        return Run(root, instance, BlockInstance(ref, (("count", {"index": 0}),)))
    if "for_each" in body.attrs:
        each_map = evaluate(expr(body.attrs["for_each"]), Scope(instance))
        if not isinstance(each_map, dict):
            raise Undecidable(f"{kind}.{name} for_each is {each_map!r}")
        if GROUP not in each_map:
            return Run(root, instance, None, f"{kind}.{name} is not created")
        return Run(root, instance, BlockInstance(ref, (("each", {"key": GROUP, "value": each_map[GROUP]}),)))
    return Run(root, instance, BlockInstance(ref, ()))


def user_data(tree: Tree, root_module: Module, map_name: str, group: dict[str, object]) -> dict[str, object]:
    """What the node's user data is for one scenario, or the error Terraform would stop with."""
    try:
        result = run(tree, root_module, map_name, group)
        _arguments(result.root)
        failed = _validations(result.root)
        if failed:
            return {"error": "; ".join(failed)}
        if result.launch_template is None:
            return {"launch_template": False}
        value: object = None
        for attribute in ("user_data", "user_data_base64"):
            value = block_attribute(result.launch_template, attribute)
            if value is not UNKNOWN:
                break
        return describe(value)
    except (EvalError, HardError) as err:
        return {"error": str(err)}


def _arguments(instance: Instance) -> None:
    for child in list(instance._children.values()):
        child.arguments()
        _arguments(child)


def _validations(instance: Instance) -> list[str]:
    failed = instance.validations()
    for child in instance._children.values():
        failed.extend(_validations(child))
    return failed


def render(value: Text | str) -> str:
    if isinstance(value, str):
        return value
    out = []
    for part in value.parts:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, Input):
            out.append("{{" + part.name + "}}")
        elif isinstance(part, Unknown):
            out.append("{{computed}}")
    return "".join(out)


def _marks(value: object) -> list[str]:
    return [p.name for p in value.parts if isinstance(p, Mark)] if isinstance(value, Text) else []


def _inputs(value: object) -> list[str]:
    return [str(p.name) for p in value.parts if isinstance(p, Input)] if isinstance(value, Text) else []


def describe(value: object) -> dict[str, object]:
    """The launch template's user data, with each user input shown as ``{{name}}`` and computed values as
    ``{{computed}}``. ``inputs`` lists the inputs that reach it, in order; a MIME part that is exactly one
    input is ``verbatim`` (a shell part without its own ``#!`` line does not run); ``shebang`` is the
    interpreter line the module itself puts first, if any."""
    if value is None or value == "" or (isinstance(value, Text) and not render(value)):
        return {"user_data": None, **({"from": _marks(value)} if _marks(value) else {})}
    if isinstance(value, Mime):
        parts = []
        inputs: list[str] = []
        for content_type, content in value.parts:
            if not isinstance(content, Text | str):
                raise Unsupported(f"a MIME part holds {content!r}")
            part: dict[str, object] = {"content_type": content_type, "content": render(content)}
            if _marks(content):
                part["from"] = _marks(content)
            if isinstance(content, Text) and [p for p in content.parts if not isinstance(p, Mark)] == [
                    Input(n) for n in _inputs(content)] and len(_inputs(content)) == 1:
                part["verbatim"] = True
            parts.append(part)
            inputs += _inputs(content)
        return {"format": "mime", "from": value.source, "parts": parts, "inputs": _unique(inputs)}
    if isinstance(value, Text | str):
        text = render(value)
        first = text.split("\n", 1)[0]
        return {"format": "text", "from": _marks(value), "text": text,
                "shebang": first if first.startswith("#!") else None, "inputs": _unique(_inputs(value))}
    if isinstance(value, Unknown):
        return {"user_data": {"computed": True}}
    raise Unsupported(f"user data is {value!r}")


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def composition(tree: Tree, root_module: Module, map_name: str) -> dict[str, object]:
    """For each case (ami_type / platform) and each pairing of ami_id with enable_bootstrap_user_data: the user data
    the node gets.
    Identical outcomes are listed once with every scenario that gives them."""
    outcomes: dict[str, dict[str, object]] = {}
    for label, ami_type, platform in cases():
        for suffix, ami_id, bootstrap in SETUPS:
            scenario = label + suffix
            result = user_data(tree, root_module, map_name, scenario_group(ami_type, platform, ami_id, bootstrap))
            key = json.dumps(result, sort_keys=True)
            outcomes.setdefault(key, {"when": [], **result})
            when = outcomes[key]["when"]
            assert isinstance(when, list)
            when.append(scenario)
    given = {*STRING_INPUTS, *PART_INPUTS}
    listed = []
    for outcome in outcomes.values():
        if "inputs" in outcome:
            inputs = outcome["inputs"]
            assert isinstance(inputs, list)
            outcome["ignored"] = sorted(given - set(inputs) - _unknown_to(tree, root_module, map_name))
        listed.append(outcome)
    return {"outcomes": listed, "selection": _selection(listed)}


def _unknown_to(tree: Tree, root_module: Module, map_name: str) -> set[str]:
    """Inputs the group cannot even express (no such key is read): left out of ``ignored``."""
    return {name for name in (*STRING_INPUTS, *PART_INPUTS) if name not in pass_through(tree, root_module, map_name)}


def _selection(outcomes: list[dict[str, object]]) -> dict[str, object]:
    """Which setting picks the user-data format: compare the outcomes of the ami_type and platform cases."""
    by_case: dict[str, str] = {}
    for outcome in outcomes:
        when = outcome["when"]
        assert isinstance(when, list)
        for scenario in when:
            if "+" not in scenario:
                by_case[scenario] = json.dumps({k: v for k, v in outcome.items() if k != "when"}, sort_keys=True)
    ami = {by_case[f"ami_type={t}"] for t in AMI_TYPES}
    platform = {by_case[f"platform={p}"] for p in PLATFORMS}
    both = by_case[f"ami_type={BOTH[0]},platform={BOTH[1]}"]
    wins = ("ami_type" if both == by_case[f"ami_type={BOTH[0]}"] else
            "platform" if both == by_case[f"platform={BOTH[1]}"] else None)
    return {"by_ami_type": len(ami) > 1, "by_platform": len(platform) > 1,
            "when_both_set": wins if len(ami) > 1 and len(platform) > 1 else None}


def launch_template_switches(tree: Tree, root_module: Module, map_name: str) -> dict[str, object]:
    """Whether the module creates the launch template (the only place its user data goes) by default, and
    which settings turn it off."""
    base = scenario_group(AMI_TYPES[1], None, False)
    base.pop("create_launch_template")
    out: dict[str, object] = {}
    for label, change in (("default", {}), ("create_launch_template=false", {"create_launch_template": False}),
                          ("use_custom_launch_template=false", {"use_custom_launch_template": False}),
                          ("create=false", {"create": False})):
        try:
            result = run(tree, root_module, map_name, {**base, **change})
            out[label] = result.launch_template is not None
        except (EvalError, HardError) as err:
            out[label] = {"error": str(err)}
    return out


def unset_values(tree: Tree, root_module: Module, map_name: str, keys: dict[str, dict[str, object]]) -> dict[
        str, object]:
    """The value each key-fact argument of the node-group submodule gets when neither the group nor the
    defaults map sets it (the root's fallback, then the submodule variable's default where null is not
    accepted)."""
    found = consumer(root_module, map_name)
    if found.kind != "for_each":
        return {}
    _, group = instantiate(tree, root_module, map_name, {})
    if group is None:
        return {}
    out: dict[str, object] = {}
    for key in KEY_FACTS:
        entry = keys.get(key)
        if entry is None or not isinstance(entry.get("argument"), str):
            continue
        try:
            out[key] = literal(group.var(str(entry["argument"])))
        except (EvalError, HardError) as err:
            out[key] = {"error": str(err)}
    return out


# ----------------------------------------------------------------------------------------------
# The facts of one release
# ----------------------------------------------------------------------------------------------


@dataclass
class Release:
    version: str
    root_variables: list[str]
    group_keys: dict[str, list[str]]
    group_attributes: dict[str, list[str]]
    facts: dict[str, object]


def release_facts(tree: Tree, version: str) -> Release:
    root = Module.load(tree, "")
    variables = sorted(root.variables)
    maps: dict[str, object] = {}
    group_keys: dict[str, list[str]] = {}
    group_attributes: dict[str, list[str]] = {}
    user_data_facts: dict[str, object] = {}
    for map_name in GROUP_MAPS:
        if map_name not in root.variables:
            continue
        declared = root.variables[map_name]
        attributes = object_attributes(expr(declared.attrs["type"])) if "type" in declared.attrs else None
        keys = pass_through(tree, root, map_name)
        group_keys[map_name] = sorted(keys)
        if attributes is not None:
            group_attributes[map_name] = sorted(attributes)
        found = consumer(root, map_name)
        defaults = sorted({str(e["defaults"]) for e in keys.values() if e.get("defaults")})
        entry: dict[str, object] = {
            "handled_by": _handled_by(root, found),
            "type": show(expr(declared.attrs["type"])) if attributes is None and "type" in declared.attrs
            else "map(object)",
            "defaults_map": defaults[0] if len(defaults) == 1 else defaults or None,
        }
        if attributes is not None:
            entry["attribute_defaults"] = {k: literal(v["default"]) for k, v in sorted(attributes.items())
                                           if isinstance(v, dict) and "default" in v}
            entry["unknown_keys"] = "dropped: the map is typed, Terraform keeps only the declared attributes"
        unset = unset_values(tree, root, map_name, keys)
        entry["key_facts"] = {key: key_fact(key, keys.get(key, {"read": False}), attributes, unset)
                              for key in KEY_FACTS if key in keys or (attributes is not None and key in attributes)}
        if map_name in USER_DATA_MAPS:
            user_data_facts[map_name] = {
                "launch_template": launch_template_switches(tree, root, map_name),
                **composition(tree, root, map_name),
            }
        maps[map_name] = entry
    facts: dict[str, object] = {
        "node_group_maps": sorted(m for m in GROUP_MAPS if m in root.variables),
        "defaults_maps": sorted(m for m in DEFAULTS_MAPS if m in root.variables),
        "node_groups": maps,
        "submodules": submodule_facts(tree),
        "ami_type_maps": ami_type_maps(tree),
        "templates": sorted(p for p in tree.paths if p.endswith(".tpl") and "kubeconfig" not in p
                            and "aws_auth" not in p),
        "user_data": user_data_facts,
    }
    return Release(version, variables, group_keys, group_attributes, facts)


def key_fact(key: str, found: dict[str, object], attributes: dict[str, object] | None,
             unset: dict[str, object]) -> dict[str, object]:
    """One key as the root module reads it: ``argument`` (when the submodule argument has another name),
    ``defaults`` (the defaults map consulted), ``fallback`` (when neither sets it; absent when the key is read
    without one), ``attribute`` (typed maps: whether the object declares it; if not, it is dropped) and
    ``unset`` (what the submodule argument ends up as when the key is not set anywhere)."""
    fact: dict[str, object] = {}
    if found.get("read") is False:
        fact["read"] = False  # declared by the typed map, but the root module does not pass it on
    if found.get("argument") not in (None, key):
        fact["argument"] = found["argument"]
    if found.get("defaults"):
        fact["defaults"] = found["defaults"]
    if "fallback" in found:
        fact["fallback"] = found["fallback"]
    if attributes is not None:
        fact["attribute"] = key in attributes
    if key in unset:
        fact["unset"] = unset[key]
    return fact


def _handled_by(root: Module, found: Consumer) -> str:
    if found.kind == "root":
        return "the root module"
    folder = _child_folder(root, found.module or "")
    if found.kind == "for_each":
        return f"module.{found.module} ({folder}), one instance per group"
    return f"module.{found.module} ({folder}), given the whole map as {found.argument}"


def submodule_facts(tree: Tree) -> dict[str, object]:
    """The node-group submodules' own declarations for the key facts, and what they give ``_user_data``."""
    out: dict[str, object] = {}
    for name in SUBMODULES:
        folder = f"modules/{name}"
        if not tree.files(folder, ".tf"):
            continue
        module = Module.load(tree, folder)
        variables: dict[str, object] = {}
        for key in KEY_FACTS:
            decl = module.variables.get(key)
            if decl is None:
                continue
            entry: dict[str, object] = {"default": static(expr(decl.attrs["default"]))
                                        if "default" in decl.attrs else {"required": True}}
            if decl.attrs.get("nullable") is False:
                entry["nullable"] = False
            checks = [show(expr(rule.attrs["condition"])) for _, rule in decl.block("validation")]
            if checks:
                entry["validation"] = checks
            variables[key] = entry
        call = module.modules.get("user_data")
        passes = {}
        if call is not None:
            for arg in ("platform", "ami_type", "enable_bootstrap_user_data", "is_eks_managed_node_group"):
                if arg in call.attrs:
                    passes[arg] = show(expr(call.attrs[arg]))
        out[name] = {"variables": variables, "user_data_module_gets": passes}
    return out


def ami_type_maps(tree: Tree) -> dict[str, object]:
    """The tables that turn an ``ami_type`` into a user-data format or template (exact keys: an ami_type that is
    not a key takes the fallback of the expression that reads the table, or fails)."""
    out: dict[str, object] = {}
    for folder in ("modules/_user_data", *(f"modules/{s}" for s in SUBMODULES)):
        if not tree.files(folder, ".tf"):
            continue
        module = Module.load(tree, folder)
        instance = Instance(module, tree, {}, folder)
        for name in sorted(module.locals):
            if not name.startswith("ami_type_to_user_data"):
                continue
            table = evaluate(expr(module.locals[name]), Scope(instance))
            if not isinstance(table, dict):
                raise Unsupported(f"{folder}: local.{name} is not a map")
            readers = [f"{n} = {show(expr(v))}" for n, v in sorted(module.locals.items())
                       if any(isinstance(x, GetAttr) and x.obj == Var("local") and x.name == name
                              for x in walk(expr(v)))]
            out[f"{folder}: local.{name}"] = {
                "map": {k: (v.rsplit("/", 1)[-1] if isinstance(v, str) else literal(v)) for k, v in table.items()},
                "read_by": readers,
            }
    return out


# ----------------------------------------------------------------------------------------------
# Eras and the output file
# ----------------------------------------------------------------------------------------------


def ranges(versions: list[str], present: dict[str, set[str]]) -> dict[str, list[list[str]]]:
    """name -> [[first, last], ...]: the runs of consecutive releases in which the name exists."""
    out: dict[str, list[list[str]]] = {}
    for name in sorted(present):
        runs: list[list[str]] = []
        for version in versions:
            if version in present[name]:
                if runs and runs[-1][1] == _previous(versions, version):
                    runs[-1][1] = version
                else:
                    runs.append([version, version])
        out[name] = runs
    return out


def _previous(versions: list[str], version: str) -> str | None:
    i = versions.index(version)
    return versions[i - 1] if i else None


def build(repo: Repo, progress: bool = False) -> dict[str, object]:
    releases = repo.releases()
    if not releases:
        raise SystemExit("no release tags (vX.Y.Z, from v17.0.0) in the repository")
    versions = [v for v, _ in releases]
    per_release: list[Release] = []
    memo: dict[str, Release] = {}
    for version, tag in releases:
        tree = repo.tree(tag)
        fingerprint = hashlib.sha256(json.dumps(sorted(tree.paths.items())).encode()).hexdigest()
        try:
            if fingerprint in memo:  # the same module files as an earlier release
                release = dataclasses.replace(memo[fingerprint], version=version)
            else:
                release = memo[fingerprint] = release_facts(tree, version)
        except (Unsupported, Undecidable, ParseError) as err:
            raise SystemExit(f"{tag}: the extractor cannot read this release: {err}") from err
        per_release.append(release)
        if progress:
            print(f"{tag}", file=sys.stderr, flush=True)
    eras = _eras([(r.version, {k: v for k, v in r.facts.items() if k != "user_data"}) for r in per_release])
    behaviour: dict[str, list[dict[str, object]]] = {}
    for map_name in USER_DATA_MAPS:
        present = [(r.version, r.facts["user_data"][map_name]) for r in per_release  # type: ignore[index]
                   if map_name in r.facts["user_data"]]  # type: ignore[operator]
        if present:
            behaviour[map_name] = _eras(present)
    root_vars: dict[str, set[str]] = {}
    keys: dict[str, dict[str, set[str]]] = {}
    attributes: dict[str, dict[str, set[str]]] = {}
    for release in per_release:
        for name in release.root_variables:
            root_vars.setdefault(name, set()).add(release.version)
        for map_name, names in release.group_keys.items():
            for name in names:
                keys.setdefault(map_name, {}).setdefault(name, set()).add(release.version)
        for map_name, names in release.group_attributes.items():
            for name in names:
                attributes.setdefault(map_name, {}).setdefault(name, set()).add(release.version)
    return {
        "about": ABOUT,
        "source": SOURCE,
        "scenarios": SCENARIOS,
        "versions": versions,
        "eras": eras,
        "user_data": behaviour,
        "root_variables": ranges(versions, root_vars),
        "group_keys": {m: ranges(versions, names) for m, names in sorted(keys.items())},
        "group_attributes": {m: ranges(versions, names) for m, names in sorted(attributes.items())},
    }


def _eras(facts: list[tuple[str, object]]) -> list[dict[str, object]]:
    """Consecutive releases with equal facts, as one era listing its versions."""
    eras: list[dict[str, object]] = []
    previous: object = None
    for version, value in facts:
        if eras and value == previous:
            covered = eras[-1]["versions"]
            assert isinstance(covered, list)
            covered.append(version)
        else:
            assert isinstance(value, dict)
            eras.append({"versions": [version], **value})
        previous = value
    return eras


ABOUT = (
    "What each release of terraform-aws-modules/terraform-aws-eks does with a node group's settings, extracted "
    "from the module's sources at every release tag by tests/tools/extract_module_versions.py (do not edit by "
    "hand: re-run it). Versions are registry versions (the git tag without its v). 'eras' hold what the root "
    "module declares and passes to its node-group submodules; 'user_data' holds, per node-group map, the user "
    "data the node's launch template gets, evaluated from the module's code for the scenarios described in "
    "'scenarios'. Both group consecutive releases with identical facts into one era that lists its versions. "
    "'root_variables', 'group_keys' (the keys the root module reads from a group) and 'group_attributes' (the "
    "attributes a typed node-group map declares; other keys are dropped) give, per name, the inclusive "
    "[first, last] runs of releases in which it exists."
)
SCENARIOS = {
    "group": ("every user-data setting is given a non-empty value: pre_bootstrap_user_data, "
              "post_bootstrap_user_data, bootstrap_extra_args, the v17 pre_userdata, additional_userdata and "
              "kubelet_extra_args, and one part each in cloudinit_pre_nodeadm (application/node.eks.aws) and "
              "cloudinit_post_nodeadm (text/x-shellscript); create_launch_template = true"),
    "labels": ("'unset' sets neither ami_type nor platform; 'ami_type=X' / 'platform=Y' set one; "
               "'ami_type=X,platform=Y' both; a '+custom_ami' suffix adds ami_id and "
               "enable_bootstrap_user_data = true, '+ami_id' ami_id alone, '+bootstrap_user_data' "
               "enable_bootstrap_user_data = true alone"),
    "texts": ("{{name}} is the value of the group setting of that name, {{computed}} a value Terraform only "
              "learns when it applies (the cluster endpoint, ...); everything else is literal"),
    "inputs": "the settings that reach the user data, in order; 'ignored' lists those given that do not",
    "launch_template": ("whether the module creates the launch template that carries its user data, by default "
                        "(with the settings above but create_launch_template unset) and with one switch off"),
    "selection": ("by_ami_type / by_platform: whether changing that setting alone changes the user data; "
                  "when_both_set: which one wins when both are set and disagree"),
}


def dumps(value: object, level: int = 0, width: int = 118) -> str:
    """JSON with one key per line but short lists of plain values on as few lines as fit ``width``: the
    file stays readable and diffs between extractions stay small."""
    pad = " " * level
    if isinstance(value, dict):
        if not value:
            return "{}"
        if all(not isinstance(v, dict | list) for v in value.values()):
            inline = json.dumps(value, ensure_ascii=False)
            if len(pad) + len(inline) <= width:
                return inline
        items = [f"{pad} {json.dumps(k, ensure_ascii=False)}: {dumps(v, level + 1, width)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        if all(not isinstance(v, dict | list) for v in value):
            words = [json.dumps(v, ensure_ascii=False) for v in value]
            lines: list[str] = []
            for word in words:
                if lines and len(pad) + len(lines[-1]) + len(word) + 2 <= width:
                    lines[-1] += f", {word}"
                else:
                    lines.append(word)
            if len(lines) == 1:
                return f"[{lines[0]}]"
            return "[\n" + ",\n".join(f"{pad} {line}" for line in lines) + "\n" + pad + "]"
        return "[\n" + ",\n".join(f"{pad} {dumps(v, level + 1, width)}" for v in value) + "\n" + pad + "]"
    return json.dumps(value, ensure_ascii=False)


def summary(table: dict[str, object]) -> str:
    eras = table["eras"]
    assert isinstance(eras, list)
    lines = [f"{len(table['versions'])} releases in {len(eras)} eras:"]  # type: ignore[arg-type]
    lines += [_span(era) for era in eras]
    behaviour = table["user_data"]
    assert isinstance(behaviour, dict)
    for map_name, map_eras in behaviour.items():
        lines.append(f"user data of {map_name}: {len(map_eras)} eras")
        lines += [_span(era) for era in map_eras]
    return "\n".join(lines)


def _span(era: dict[str, object]) -> str:
    covered = era["versions"]
    assert isinstance(covered, list)
    span = covered[0] if len(covered) == 1 else f"{covered[0]} .. {covered[-1]}"
    return f"  {span} ({len(covered)} release{'s' if len(covered) > 1 else ''})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--repo", required=True, type=Path, help="git directory of terraform-aws-eks")
    parser.add_argument("--output", required=True, type=Path, help="where to write the JSON table")
    parser.add_argument("--progress", action="store_true", help="name each release on stderr as it is read")
    args = parser.parse_args(argv)
    git_dir = args.repo / ".git" if (args.repo / ".git").exists() else args.repo
    repo = Repo(git_dir)
    try:
        table = build(repo, progress=args.progress)
    finally:
        repo.close()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(dumps(table) + "\n", encoding="utf-8")
    print(summary(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
