"""Settings for a file: the nearest ``.eksproxy-gen.toml`` above it, then command-line flags.

A settings file holds the values the generated text needs (proxy, CIDRs,
NO_PROXY entries) and what a run reports (``select``, ``ignore``,
``fail_on``) and reads (``exclude``), under the flags' own names. Any problem
with a settings file is a settings error (exit 2) that names the file and
the line of the key, so no run ever goes on with settings it did not mean.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import fsguard
from .discover import SUFFIXES
from .errors import UsageError
from .filters import RuleFilter
from .limits import deepest_line
from .policy.settings import SettingError, Settings, validate
from .toml_lines import top_level_lines

if TYPE_CHECKING:
    from .walk_filter import WalkFilter

CONFIG_NAME = ".eksproxy-gen.toml"
_LIST_KEYS = ("vpc_cidrs", "no_proxy")
_STR_KEYS = ("proxy", "service_cidr")
_RULE_KEYS = ("select", "ignore")
FAIL_ON_VALUES = ("error", "warning")
KNOWN_KEYS = (*_STR_KEYS, *_LIST_KEYS, *_RULE_KEYS, "fail_on", "exclude")


@dataclass(frozen=True)
class Overrides:
    """Values given on the command line; None means 'not given'."""

    proxy: str | None = None
    vpc_cidrs: tuple[str, ...] | None = None
    no_proxy: tuple[str, ...] | None = None
    service_cidr: str | None = None


@dataclass(frozen=True)
class RuleChoice:
    """What a settings file says about the rules reported, when a run fails, and what is not walked.

    ``select`` and ``ignore`` are comma-separated as the flags take them, and
    None where the file says nothing; ``exclude`` globs are relative to ``base``,
    the settings file's folder.
    """

    select: str | None = None
    ignore: str | None = None
    fail_on: str | None = None
    exclude: tuple[str, ...] = ()
    base: Path | None = None
    source: Path | None = None


class ConfigError(UsageError):
    """A settings file that cannot be used: a settings error (exit 2) naming the file and the line of the key."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.line = line
        self.message = message

    def __str__(self) -> str:
        return f"{shown_path(self.path)}:{self.line}: {self.message}"


class _Problem(Exception):
    """A problem in a settings file, and the line it is on."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def shown_path(path: Path) -> str:
    """A path as messages show it: relative to the working folder when below it."""
    text = os.path.abspath(path)
    cwd = os.getcwd()
    if text == cwd:
        return "."
    prefix = cwd.rstrip(os.sep) + os.sep
    return text[len(prefix):] if text.startswith(prefix) else text


_Loaded = tuple[Settings, RuleChoice]


class ConfigResolver:
    """Finds, reads and validates configuration once per folder.

    Command-line values are checked up front; a settings file that cannot be
    used is a ConfigError, raised for the first file it governs, so the command
    stops before anything is read or written.
    """

    def __init__(self, overrides: Overrides, explicit: Path | None = None) -> None:
        self._overrides = overrides
        self._explicit = explicit
        self._by_config: dict[Path | None, _Loaded | ConfigError] = {}
        self._config_by_dir: dict[str, Path | None] = {}
        self._config_by_name: dict[str, Path | None] = {}
        self._regions: dict[Path, tuple[str, str]] = {}
        self._walk_filter: WalkFilter | None = None
        given = self._given()
        try:
            validate(proxy=_text(given, "proxy"), vpc_cidrs=_texts(given, "vpc_cidrs"),
                     no_proxy=_texts(given, "no_proxy"), service_cidr=_text(given, "service_cidr"),
                     source="command line")
        except SettingError as exc:
            raise UsageError(str(exc)) from None
        if explicit is not None and not explicit.is_file():
            raise UsageError(f"--config {explicit}: no such file")
        self._remember(explicit)
        found = self._by_config[explicit]
        if isinstance(found, ConfigError):
            raise found

    def for_path(self, path: Path) -> Settings:
        return self._loaded(path)[0]

    def choice_for(self, path: Path) -> RuleChoice:
        """The settings file's say about rules, fail_on and exclude for a file or folder."""
        return self._loaded(path)[1]

    def config_for(self, path: Path) -> Path | None:
        """The settings file that governs a file or folder (None: the command line alone)."""
        return self._explicit if self._explicit is not None else self._find(path)

    def _loaded(self, path: Path) -> _Loaded:
        config = self.config_for(path)
        self._remember(config)
        found = self._by_config[config]
        if isinstance(found, ConfigError):
            raise found
        return found

    def _remember(self, config: Path | None) -> None:
        if config not in self._by_config:
            try:
                self._by_config[config] = self._load(config)
            except _Problem as exc:
                assert config is not None
                self._by_config[config] = ConfigError(config, exc.line, exc.message)

    def skips(self, path: str, is_dir: bool, root: str) -> bool:
        """Whether the walk below ``root`` leaves ``path`` out: excluded, ignored by git, or a vendored module's."""
        return self.walk_filter(path, is_dir, root)

    @property
    def walk_filter(self) -> WalkFilter:
        if self._walk_filter is None:
            from .walk_filter import WalkFilter

            self._walk_filter = WalkFilter(self)
        return self._walk_filter

    def consulted(self) -> tuple[list[str], list[str]]:
        """The settings files used, and the paths where one was looked for and none found.

        This run's settings depend on nothing else: a settings file appearing in
        one of those folders, or one of these changing, changes them.
        """
        found = {str(path) for path in self._config_by_dir.values() if path is not None}
        if self._explicit is not None:
            found.add(str(self._explicit))
        absent = [os.path.join(folder, CONFIG_NAME) for folder, path in self._config_by_dir.items()
                  if path is None or os.path.dirname(path) != folder]
        return sorted(found), absent

    def _find(self, path: Path) -> Path | None:
        """The nearest settings file above a file, looked up once per folder."""
        text = str(path)
        key = text if not text.endswith(SUFFIXES) and os.path.isdir(text) else os.path.dirname(text) or "."
        if key in self._config_by_name:
            return self._config_by_name[key]
        found = self._search(Path(os.path.abspath(key)))
        self._config_by_name[key] = found
        return found

    def _search(self, folder: Path) -> Path | None:
        """Walk up from a folder to the nearest settings file, remembering every folder passed.

        The walk ends at the repository's root: the first folder upward that
        holds ``.git`` (a folder, or a worktree's file). Outside any repository
        a settings file counts only at or below the root the path was given
        under (fsguard), so one in a parent folder of a checkout, or a
        world-writable ``/tmp/.eksproxy-gen.toml``, never decides which proxy
        ``fix`` writes.
        """
        trail: list[str] = []
        found: Path | None = None
        current = str(folder)
        while True:
            if current in self._config_by_dir:
                found = self._config_by_dir[current]
                break
            trail.append(current)
            candidate = os.path.join(current, CONFIG_NAME)
            if os.path.lexists(candidate):
                region = _region(current, str(folder))
                if region is not None:
                    found = Path(candidate)
                    self._regions[found] = region
                break
            parent = os.path.dirname(current)
            if parent == current or os.path.lexists(os.path.join(current, fsguard.GIT)):
                break
            current = parent
        for visited in trail:
            self._config_by_dir[visited] = found
        return found

    def _given(self) -> dict[str, object]:
        given = {key: getattr(self._overrides, key) for key in (*_STR_KEYS, *_LIST_KEYS)}
        return {key: list(v) if isinstance(v, tuple) else v for key, v in given.items() if v is not None}

    def _load(self, config: Path | None) -> _Loaded:
        """Settings and rule choice of one settings file (None: none), the command line's values winning."""
        if config is None:
            values: dict[str, object] = {}
            lines: dict[str, int] = {}
        else:
            values, lines = read_config(config, None if config == self._explicit else self._regions[config])
        given = self._given()
        source = str(config) if config is not None else "settings"
        for key in (*_STR_KEYS, *_LIST_KEYS):  # one at a time, so the message names the line of the key
            if key in values and key not in given:
                _validated({key: values[key]}, source, lines.get(key, 1))
        values.update(given)
        where = " and ".join(filter(None, [str(config) if config is not None else "",
                                           "command line" if given else ""])) or "settings"
        settings = _validated(values, where, 1)
        return settings, _choice(values, config)


def _validated(values: dict[str, object], source: str, line: int) -> Settings:
    try:
        return validate(proxy=_text(values, "proxy"), vpc_cidrs=_texts(values, "vpc_cidrs"),
                        no_proxy=_texts(values, "no_proxy"), service_cidr=_text(values, "service_cidr"),
                        source=source)
    except SettingError as exc:
        raise _Problem(str(exc).removeprefix(f"{source}: "), line) from None


def _choice(values: dict[str, object], config: Path | None) -> RuleChoice:
    def joined(key: str) -> str | None:
        value = values.get(key)
        return ",".join(value) if isinstance(value, list) else value if isinstance(value, str) else None

    fail_on = values.get("fail_on")
    exclude = values.get("exclude")
    return RuleChoice(joined("select"), joined("ignore"), fail_on if isinstance(fail_on, str) else None,
                      tuple(exclude) if isinstance(exclude, list) else (),
                      None if config is None else Path(os.path.abspath(config)).parent, config)


def _text(values: dict[str, object], key: str) -> str | None:
    """A string setting; read_config has already refused any other type."""
    value = values.get(key)
    return value if isinstance(value, str) else None


def _texts(values: dict[str, object], key: str) -> list[str]:
    value = values.get(key)
    return [str(v) for v in value] if isinstance(value, list) else []


def _toml_line(message: str) -> int:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else 1


def _region(folder: str, start: str) -> tuple[str, str] | None:
    """Where a settings file in ``folder`` may lie for files in ``start``, and what to call outside it.

    The repository's root is the nearest folder at or above ``folder`` that
    holds ``.git``; outside any repository, the outermost root ``start`` lies
    under, and then only if ``folder`` lies under it too. None: not usable.
    """
    current = folder
    while True:
        if os.path.lexists(os.path.join(current, fsguard.GIT)):
            return os.path.realpath(current), "outside the repository"
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    bound = fsguard.outermost_root(start)
    if bound is None or not fsguard.inside(os.path.realpath(folder), bound):
        return None
    return bound, "outside the paths given"


def read_config(path: Path, region: tuple[str, str] | None = None) -> tuple[dict[str, object], dict[str, int]]:
    """A settings file's values, type-checked, and the line of each key; unknown keys are errors, so typos
    never go unnoticed. Raises ``_Problem`` with the line it concerns.

    It is read through fsguard: a regular file within the size limit, and,
    for one found by looking upward, inside ``region`` (its repository, or
    the root given, and what to call outside it). A settings file given with
    ``--config`` may lie anywhere.
    """
    within, outside = region if region is not None else (os.sep, "")
    try:
        raw = fsguard.read_bytes(path, (within,), outside)
        text = raw.decode("utf-8-sig")
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _Problem(str(exc), _toml_line(str(exc))) from None
    except RecursionError:
        raise _Problem("nested too deeply to read", deepest_line(text, "[{", "]}")) from None
    except fsguard.Refused as exc:
        raise _Problem(f"{exc.message}; not read") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _Problem(f"cannot read ({exc})") from None
    lines = top_level_lines(text)

    def problem(key: str, message: str) -> _Problem:
        return _Problem(message, lines.get(key, 1))

    unknown = sorted(set(data) - set(KNOWN_KEYS), key=lambda k: lines.get(k, 0))
    if unknown:
        raise problem(unknown[0], f"unknown key {unknown[0]}; known keys are {', '.join(KNOWN_KEYS)}")
    for key in _STR_KEYS:
        if key in data and not isinstance(data[key], str):
            raise problem(key, f"{key} must be a string")
    for key in (*_LIST_KEYS, "exclude"):
        if key in data and not _strings(data[key]):
            raise problem(key, f"{key} must be a list of strings")
    for key in _RULE_KEYS:
        value = data.get(key)
        if value is None:
            continue
        if not (isinstance(value, str) or _strings(value)):
            raise problem(key, f"{key} must be a list of rule ids or prefixes, e.g. [\"EKSP006\", \"EKSP01\"]")
        try:
            RuleFilter.parse(",".join(value) if isinstance(value, list) else value, None)
        except ValueError as exc:
            raise problem(key, f"{key}: {exc}") from None
    if "fail_on" in data and data["fail_on"] not in FAIL_ON_VALUES:
        raise problem("fail_on", f"fail_on must be one of {', '.join(repr(v) for v in FAIL_ON_VALUES)}")
    for pattern in data.get("exclude") or []:
        if not pattern.strip() or pattern.startswith("!"):
            raise problem("exclude", f"exclude: {pattern!r} is not a glob of files or folders to leave out "
                                     "(empty, or a '!' pattern, which exclude does not take)")
    return dict(data), lines


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)
