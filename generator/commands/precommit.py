"""Whether the check hook runs, in this run of pre-commit, on every file the fix hook was given.

When both hooks run, the findings ``fix`` leaves would be printed twice, once
per hook, each with its own total. The fix hook's entry passes
``--leave-findings-to-check``; fix then leaves them to the check hook, but
only when it can tell for sure that the check hook judges the same files in
the same run, as the same plain ``eksproxy-gen check``. Otherwise (the fix
hook alone, ``SKIP``, a check hook kept for ``manual`` or ``pre-push``, one
whose ``files``, ``exclude`` or ``types`` leave out what this run was given,
one with options that hide findings, a configuration that cannot be read)
the findings left still print and still fail the commit: a gate never passes
because of a hook that does not run.

pre-commit tells a hook neither the stage it runs at nor which hooks run with
it (it exports ``PRE_COMMIT=1`` and, for some stages, refs; nothing else), so
the decision reads the repository's own ``.pre-commit-config.yaml`` as
pre-commit does (``pre_commit/clientlib.py``, ``repository.py`` and
``commands/run.py`` of pre-commit 4): the check hook must run at every stage
the fix hook runs at, and be given every file the fix hook was given.
"""

from __future__ import annotations

import os
import re
import shlex
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..formats.escape import printable
from ..pipeline.inputs import display_name

CHECK_HOOK = "eksproxy-gen-check"
FIX_HOOK = "eksproxy-gen-fix"
CONFIG = ".pre-commit-config.yaml"

# pre-commit's stages (``clientlib.STAGES``) and the old names it still maps to them (``clientlib._STAGES``)
STAGES = ("commit-msg", "post-checkout", "post-commit", "post-merge", "post-rewrite", "pre-commit",
          "pre-merge-commit", "pre-push", "pre-rebase", "prepare-commit-msg", "manual")
OLD_STAGE_NAMES = {"commit": "pre-commit", "merge-commit": "pre-merge-commit", "push": "pre-push"}
# What this repository's .pre-commit-hooks.yaml gives the check hook (a test keeps the two equal); a hook under
# ``repo: local`` states everything itself, with pre-commit's own defaults for what it leaves out.
MANIFEST = {"entry": "eksproxy-gen check --", "files": ".*", "exclude": r"\.terraform/.*$"}
LOCAL_DEFAULTS = {"files": "", "exclude": "^$"}
# check options that neither hide a finding nor lower the exit code
_KEPT_FLAGS = frozenset({"--no-cache", "--quiet", "-q", "--warn-unused-ignores"})
_KEPT_VALUES = {"--color": frozenset({"auto", "always", "never"}), "--fail-on": frozenset({"warning"})}


@dataclass(frozen=True)
class Named:
    """A path the fix hook was given, as pre-commit sees it: relative to the repository's root, ``/``-separated
    (None when it lies outside), and whether identify tags it ``file`` (not a folder, link or socket)."""

    relative: str | None
    shown: str
    is_file: bool


@dataclass(frozen=True)
class FixRun:
    """This run of the fix hook: the paths it was given, what ``SKIP`` names, and its own options the check
    hook does not get (``--proxy``, ``--config``, ...) or must match (``--fail-on warning``)."""

    named: tuple[Named, ...]
    skipped: frozenset[str] = frozenset()
    own_options: tuple[str, ...] = ()
    fail_on_warning: bool = False


@dataclass(frozen=True)
class Decision:
    """``leave``: the check hook reports what fix leaves. ``why``: when it does not, and the configuration names
    the check hook, why it does not run here (said, so findings shown twice or a failing fix hook is explained)."""

    leave: bool
    why: str = ""


def check_hook_runs(paths: Sequence[Path], own_options: Sequence[str] = (), fail_on_warning: bool = False,
                    start: Path | None = None, environ: Mapping[str, str] | None = None) -> Decision:
    """Whether the check hook of the repository around ``start`` (the working folder) runs on every one of
    ``paths`` in every stage the fix hook runs in, and ``SKIP`` does not name it."""
    top = _repository(start or Path.cwd())
    if top is None:
        return Decision(False)
    config = top / CONFIG
    try:
        if config.is_symlink() or not config.is_file():  # read only the repository's own file
            return Decision(False)
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return Decision(False, f"{CONFIG} cannot be read")
    env = os.environ if environ is None else environ
    skipped = frozenset(name.strip() for name in env.get("SKIP", "").split(",") if name.strip())
    run = FixRun(tuple(_named(path, top) for path in paths), skipped, tuple(own_options), fail_on_warning)
    return decide(data, run)


def decide(config: object, run: FixRun) -> Decision:
    """The decision, from the configuration as YAML loaded it and the facts of this run (no file is read)."""
    hooks = _hooks(config)
    checks = [(repo, hook) for repo, hook in hooks if hook.get("id") == CHECK_HOOK]
    if not checks or not isinstance(config, dict):
        return Decision(False)
    why = _cannot_tell(config, [hook for _, hook in checks], run)
    if why:
        return Decision(False, why)
    running = [(repo, hook) for repo, hook in checks if not _skipped(hook, run.skipped)]
    if not running:
        return Decision(False, "SKIP names it")
    fix_stages = _fix_stages(config, [hook for _, hook in hooks if hook.get("id") == FIX_HOOK], run.skipped)
    for stage in fix_stages:
        at_stage = [(repo, hook) for repo, hook in running if stage in _stages(hook, config)]
        if not at_stage:
            return Decision(False, f"it does not run at every stage the fix hook runs at (the check hook: "
                                   f"{_listed(_stages(running[0][1], config))}; the fix hook: {_listed(fix_stages)})")
        for named in run.named:
            reasons = [_left_out(named, hook, config, repo) for repo, hook in at_stage]
            if all(reasons):
                return Decision(False, reasons[0])
    return Decision(True)


def _cannot_tell(config: dict[object, object], checks: list[dict[str, object]], run: FixRun) -> str:
    """A reason why the check hook would not report what this fix run leaves, whatever the stage."""
    if not run.named:
        return "the fix hook was given no file, so which files the check hook gets cannot be told"
    if run.own_options:
        return f"the fix hook was given {', '.join(run.own_options)}, which the check hook does not get"
    for hook in checks:
        if not isinstance(hook.get("stages", []), list) or not isinstance(config.get("default_stages", []), list):
            return f"the stages in {CONFIG} cannot be read"
        command = _command(hook, run.fail_on_warning)
        if command:
            return command
        if hook.get("pass_filenames") is False:
            return "it is not given the file names (pass_filenames: false)"
    return ""


def _command(hook: dict[str, object], fail_on_warning: bool) -> str:
    """Why the check hook's command is not the plain ``eksproxy-gen check`` (empty when it is)."""
    entry = hook.get("entry", MANIFEST["entry"])
    args = hook.get("args", [])
    if not isinstance(entry, str) or not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        return "its entry or args cannot be read"
    try:
        words = [*shlex.split(entry), *args]
    except ValueError:
        return "its entry cannot be read"
    shown = printable(" ".join(words))
    if len(words) < 2 or os.path.basename(words[0]) != "eksproxy-gen" or words[1] != "check":
        return f"its command ({shown}) is not eksproxy-gen check"
    options, strict = words[2:], False
    while options and options[0] != "--":
        flag, _, inline = options[0].partition("=")
        if options[0] in _KEPT_FLAGS:
            options = options[1:]
            continue
        value = inline if inline else (options[1] if len(options) > 1 else "")
        if flag not in _KEPT_VALUES or value not in _KEPT_VALUES[flag]:
            return f"its command ({shown}) has options that can hide findings or pass on them"
        strict = strict or flag == "--fail-on"
        options = options[1:] if inline else options[2:]
    if options[1:]:
        return f"its command ({shown}) is given paths of its own"
    if fail_on_warning and not strict:
        return "the fix hook fails on warnings (--fail-on warning) and the check hook does not"
    return ""


def _left_out(named: Named, hook: dict[str, object], config: dict[object, object], repo: object) -> str:
    """Why pre-commit does not give the check hook this path (empty when it does), as its ``Classifier`` does."""
    if named.relative is None:
        return f"{named.shown} lies outside the repository"
    local = repo == "local"
    defaults = LOCAL_DEFAULTS if local else MANIFEST
    filters = (("the top-level files", config.get("files", ""), True),
               ("the top-level exclude", config.get("exclude", "^$"), False),
               ("its files", hook.get("files", defaults["files"]), True),
               ("its exclude", hook.get("exclude", defaults["exclude"]), False))
    for what, pattern, include in filters:
        if not isinstance(pattern, str):
            return f"{what} in {CONFIG} cannot be read"
        try:
            found = re.search(pattern, named.relative) is not None
        except re.error:
            return f"{what} in {CONFIG} is not a regular expression"
        if found != include:
            return f"{what} ({printable(pattern)}) leaves out {named.shown}"
    types, types_or, exclude_types = hook.get("types", ["file"]), hook.get("types_or", []), \
        hook.get("exclude_types", [])
    if not (isinstance(types, list) and set(types) <= {"file"} and types_or in ([], None)
            and exclude_types in ([], None)):
        return "its types, types_or or exclude_types cannot be evaluated without pre-commit's identify"
    if types and not named.is_file:
        return f"{named.shown} is not a regular file, so types: [file] leaves it out"
    return ""


def _fix_stages(config: dict[object, object], fixes: list[dict[str, object]], skipped: frozenset[str]) -> list[str]:
    """The stages this fix hook may be running at: those of its entries in the configuration that run, or, when
    it is not found there (another id, a local copy), every stage."""
    running = [hook for hook in fixes if not _skipped(hook, skipped)]
    if not running:
        return list(STAGES)
    found = {stage for hook in running for stage in _stages(hook, config)}
    return [stage for stage in STAGES if stage in found] + sorted(found - set(STAGES))


def _stages(hook: dict[str, object], config: dict[object, object]) -> list[str]:
    """A hook's stages as pre-commit settles them: its own, else ``default_stages``, else every stage (a
    hook of .pre-commit-hooks.yaml states none); old names mapped to new."""
    own = hook.get("stages") or config.get("default_stages", list(STAGES))
    return [OLD_STAGE_NAMES.get(str(stage), str(stage)) for stage in own] if isinstance(own, list) else []


def _skipped(hook: dict[str, object], skipped: frozenset[str]) -> bool:
    return hook.get("id") in skipped or (bool(hook.get("alias")) and hook.get("alias") in skipped)


def _hooks(config: object) -> list[tuple[object, dict[str, object]]]:
    """Every hook of the configuration with the ``repo`` it comes from."""
    if not isinstance(config, dict) or not isinstance(config.get("repos"), list):
        return []
    found: list[tuple[object, dict[str, object]]] = []
    for repo in config["repos"]:
        hooks = repo.get("hooks") if isinstance(repo, dict) else None
        if isinstance(hooks, list):
            found += [(repo.get("repo"), hook) for hook in hooks if isinstance(hook, dict)]
    return found


def _listed(stages: Sequence[str]) -> str:
    if set(stages) >= set(STAGES):
        return "every stage"
    return ", ".join(stages) if stages else "no stage"


def _named(path: Path, top: Path) -> Named:
    absolute = Path(os.path.abspath(path))
    shown = printable(display_name(path))
    relative = os.path.relpath(absolute, top)
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return Named(None, shown, False)
    try:
        mode = os.lstat(absolute).st_mode
    except OSError:
        return Named(relative.replace(os.sep, "/"), shown, False)
    is_file = not (stat.S_ISDIR(mode) or stat.S_ISLNK(mode) or stat.S_ISSOCK(mode))
    return Named(relative.replace(os.sep, "/"), shown, is_file)


def _repository(start: Path) -> Path | None:
    current = start.resolve()
    while True:
        if (current / ".git").exists():
            return current
        if current.parent == current:
            return None
        current = current.parent
