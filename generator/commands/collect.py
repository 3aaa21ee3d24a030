"""The files a command reads, each with its settings, resolved before any file is read."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..config import CONFIG_NAME, ConfigError, ConfigResolver
from ..discover import Walked, forget, terraform_files
from ..errors import UsageError
from ..pipeline.inputs import display_name
from ..policy.settings import Settings
from ..report import FileError


@dataclass
class Collected:
    """Files with their settings, one error per settings file that could not be used, and what was not read.

    ``settings_errors`` stop the run (exit 2: no gate runs on settings it did
    not mean). ``errors`` hold every folder that could not be listed and every
    file that may not be read (fsguard): such files never reach a reader or
    the cache, the others are still judged, and the run fails on them.
    """

    files: list[tuple[Path, Settings]] = field(default_factory=list)
    settings_errors: list[FileError] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    walked: Walked = field(default_factory=Walked)
    settings_files: list[str] = field(default_factory=list)
    settings_absent: list[str] = field(default_factory=list)

    def say_if_empty(self, paths: list[Path]) -> None:
        """A run that found nothing to read says so, instead of reporting a clean tree."""
        if self.files or self.errors or self.settings_errors:
            return
        where = ", ".join(str(p) for p in paths)
        message = f"eksproxy-gen: warning: no Terraform files (*.tf, *.tofu) in {where}"
        if self.walked.json_files:
            message += f"; {len(self.walked.json_files)} *.tf.json file(s) found, which eksproxy-gen does not read"
        print(message, file=sys.stderr)


def collect(paths: list[Path], resolver: ConfigResolver) -> Collected:
    """All files with their settings, so bad settings are known before anything is read."""
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise UsageError(f"no such file or folder: {missing[0]}")
    forget()
    out = Collected(walked=Walked(skip=resolver.skips))
    broken: set[Path] = set()
    for path in terraform_files(governed(paths), out.walked):
        try:
            out.files.append((path, resolver.for_path(path)))
        except ConfigError as exc:
            if exc.path not in broken:
                broken.add(exc.path)
                out.settings_errors.append(FileError(display_name(exc.path), exc.line,
                                            f"{exc.message}; the Terraform files it governs were not read"))
    for path, why in out.walked.refused:
        out.errors.append(FileError(display_name(path), 1, why))
    out.settings_files, out.settings_absent = resolver.consulted()
    return out


def governed(paths: list[Path]) -> list[Path]:
    """Each path to read; a settings file given as a path stands for its folder, and every folder below it.

    pre-commit passes a changed ``.eksproxy-gen.toml`` like any other file
    name: a new proxy changes what every group it governs needs, so the hooks
    must judge (and fix) those groups, not read the settings file as Terraform.
    """
    return [path.parent if path.name == CONFIG_NAME and path.is_file() else path for path in paths]
