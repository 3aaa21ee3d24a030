"""Settings for a file: the nearest ``.eksproxy-gen.toml`` above it, then command-line flags."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from . import fsguard
from .discover import SUFFIXES
from .errors import EksproxyError, UsageError
from .limits import deepest_line
from .policy.settings import SettingError, Settings, validate

CONFIG_NAME = ".eksproxy-gen.toml"
_LIST_KEYS = ("vpc_cidrs", "no_proxy")
_STR_KEYS = ("proxy", "service_cidr")


@dataclass(frozen=True)
class Overrides:
    """Values given on the command line; None means 'not given'."""

    proxy: str | None = None
    vpc_cidrs: tuple[str, ...] | None = None
    no_proxy: tuple[str, ...] | None = None
    service_cidr: str | None = None


class ConfigError(EksproxyError):
    """A ``.eksproxy-gen.toml`` found in the tree that cannot be used: the files it governs are not read."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.line = line
        self.message = message


class ConfigResolver:
    """Finds, reads and validates configuration once per folder.

    Command-line values and an explicit ``--config`` are checked up front (a
    usage error); a broken configuration file found in the tree is a
    ConfigError for the files below it only, so the rest is still read.
    """

    def __init__(self, overrides: Overrides, explicit: Path | None = None) -> None:
        self._overrides = overrides
        self._explicit = explicit
        self._by_config: dict[Path | None, Settings | ConfigError] = {}
        self._config_by_dir: dict[str, Path | None] = {}
        self._config_by_name: dict[str, Path | None] = {}
        self._regions: dict[Path, tuple[str, str]] = {}
        if explicit is not None and not explicit.is_file():
            raise UsageError(f"--config {explicit}: no such file")
        self._by_config[explicit] = self._load(explicit)

    def for_path(self, path: Path) -> Settings:
        config = self._explicit if self._explicit is not None else self._find(path)
        if config not in self._by_config:
            try:
                self._by_config[config] = self._load(config)
            except UsageError as exc:
                assert config is not None
                message = str(exc).removeprefix(f"{config}: ")
                self._by_config[config] = ConfigError(config, _line_of(message), message)
        found = self._by_config[config]
        if isinstance(found, ConfigError):
            raise found
        return found

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

    def _load(self, config: Path | None) -> Settings:
        values: dict[str, object] = {}
        if config is not None:
            values = read_config(config, None if config == self._explicit else self._regions[config])
        given = {key: getattr(self._overrides, key) for key in (*_STR_KEYS, *_LIST_KEYS)}
        given = {key: list(v) if isinstance(v, tuple) else v for key, v in given.items() if v is not None}
        values.update(given)
        where = " and ".join(filter(None, [str(config) if config is not None else "",
                                           "command line" if given else ""])) or "settings"
        try:
            return validate(proxy=_text(values, "proxy"), vpc_cidrs=_texts(values, "vpc_cidrs"),
                            no_proxy=_texts(values, "no_proxy"), service_cidr=_text(values, "service_cidr"),
                            source=where)
        except SettingError as exc:
            raise UsageError(str(exc)) from None


def _text(values: dict[str, object], key: str) -> str | None:
    """A string setting; read_config has already refused any other type."""
    value = values.get(key)
    return value if isinstance(value, str) else None


def _texts(values: dict[str, object], key: str) -> list[str]:
    value = values.get(key)
    return [str(v) for v in value] if isinstance(value, list) else []


def _line_of(message: str) -> int:
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


def read_config(path: Path, region: tuple[str, str] | None = None) -> dict[str, object]:
    """Read and type-check a config file; unknown keys are errors, so typos never go unnoticed.

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
        raise UsageError(f"{path}: {exc}") from None
    except RecursionError:
        raise UsageError(f"{path}: nested too deeply to read (line {deepest_line(text, '[{', ']}')})") from None
    except fsguard.Refused as exc:
        raise UsageError(f"{path}: {exc.message}; not read") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read ({exc})") from None

    def where(key: str) -> str:
        match = re.search(rf"^[ \t]*[\"']?{re.escape(key)}[\"']?[ \t]*=", text, re.M)
        return f" (line {text.count(chr(10), 0, match.start()) + 1})" if match else ""

    unknown = sorted(set(data) - set(_LIST_KEYS) - set(_STR_KEYS))
    if unknown:
        raise UsageError(f"{path}: unknown key {unknown[0]}{where(unknown[0])}; known keys are "
                         "proxy, vpc_cidrs, no_proxy, service_cidr")
    for key in _STR_KEYS:
        if key in data and not isinstance(data[key], str):
            raise UsageError(f"{path}: {key} must be a string{where(key)}")
    for key in _LIST_KEYS:
        if key in data and not (isinstance(data[key], list) and all(isinstance(v, str) for v in data[key])):
            raise UsageError(f"{path}: {key} must be a list of strings{where(key)}")
    return dict(data)
