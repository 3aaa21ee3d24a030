"""The files a command reads, each with its settings, resolved before any file is read."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..config import CONFIG_NAME, ConfigError, ConfigResolver
from ..discover import SUFFIXES, Walked, forget, terraform_below, terraform_files
from ..errors import UsageError
from ..formats.text import plural
from ..pipeline.inputs import display_name
from ..policy.settings import Settings
from ..report import NOT_JUDGED, FileError, Notice, Report
from ..walk_filter import GIT_RULES, LeftOut, WalkFilter


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
    walk_filter: WalkFilter | None = None

    def say_if_empty(self, paths: list[Path], report: Report) -> None:
        """A run that found nothing to read says so, instead of reporting a clean tree; node classes in Helm
        templates are said to be not judged, in every run.

        When Terraform files were there but ``exclude``, git's ignore rules or
        a vendored module's examples left every one out, the report gets a
        notice per cause, naming it and the files: every format shows them as
        it shows what is not judged, so a change that makes the gate read
        nothing never passes for a clean tree.
        """
        report.notices += self.template_notices()
        if self.files or self.errors or self.settings_errors or self.walked.helm_templates or self.walked.unjudged:
            return
        if self.walk_filter is not None:
            notices = left_out_notices(paths, self.walked, self.walk_filter)
            if notices:
                report.notices += notices
                return
        where = ", ".join(str(p) for p in paths)
        message = f"eksproxy-gen: warning: no Terraform files (*.tf, *.tofu) in {where}"
        if self.walked.json_files:
            message += f"; {len(self.walked.json_files)} *.tf.json file(s) found, which eksproxy-gen does not read"
        print(message, file=sys.stderr)

    def template_notices(self) -> list[Notice]:
        """A Helm template that names EC2NodeClass is not judged: say so, at its first ``{{``.

        Only Helm can render it, and what a value turns into decides the
        verdict; a run that read only such files must not pass as clean.
        """
        return [Notice(display_name(Path(path)), line, "not judged: a Helm template names EC2NodeClass here; only "
                                                        "Helm can render it: check the rendered manifests "
                                                        "(helm template ... > rendered.yaml)", NOT_JUDGED)
                for path, line in self.walked.helm_templates] + [
            Notice(display_name(Path(path)), line, f"not judged: {why}", NOT_JUDGED)
            for path, line, why in self.walked.unjudged]


def collect(paths: list[Path], resolver: ConfigResolver) -> Collected:
    """All files with their settings, so bad settings are known before anything is read."""
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise UsageError(f"no such file or folder: {missing[0]}")
    forget()
    out = Collected(walked=Walked(skip=resolver.skips), walk_filter=resolver.walk_filter)
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


def left_out_notices(paths: list[Path], walked: Walked, walk: WalkFilter) -> list[Notice]:
    """One notice per cause that left Terraform files out of a run that judged none, with the files it left out.

    What the walk left out is in ``walked``; a named file left out never
    reached the walk (``widened`` drops it), so it is asked about again.
    """
    causes: dict[LeftOut, list[str]] = {}
    ignored: dict[str, list[str]] = {}  # by git, per root walked: which rule is asked once, for them all
    for named in paths:
        if named.is_file() and named.name.endswith(SUFFIXES) and (why := walk.named_why(named)) is not None:
            causes.setdefault(why, []).append(os.path.abspath(named))
    for path, is_dir, root in walked.left_out:
        files = terraform_below(path, is_dir)
        found = walk.why(path, is_dir, root) if files else None
        if found is not None and found.how == GIT_RULES:
            ignored.setdefault(root, []).extend(files)
        elif found is not None:
            causes.setdefault(found, []).extend(files)
    for root, files in ignored.items():
        rules = walk.git_rules(root, files)
        unnamed = LeftOut(GIT_RULES, display_name(Path(root)))
        for name in files:
            causes.setdefault(rules.get(os.path.normpath(name), unnamed), []).append(name)
    return [Notice(why.file, why.line, f"0 files judged; {plural(len(files), 'Terraform file')} left out {why.how}: "
                                       f"{_some(files)}", NOT_JUDGED)
            for why, files in causes.items()]


def _some(files: list[str], shown: int = 3) -> str:
    names = [display_name(Path(name)) for name in dict.fromkeys(files)]
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "")


def governed(paths: list[Path]) -> list[Path]:
    """Each path to read; a settings file given as a path stands for its folder, and every folder below it.

    pre-commit passes a changed ``.eksproxy-gen.toml`` like any other file
    name: a new proxy changes what every group it governs needs, so the hooks
    must judge (and fix) those groups, not read the settings file as Terraform.
    """
    return [path.parent if path.name == CONFIG_NAME and path.is_file() else path for path in paths]
