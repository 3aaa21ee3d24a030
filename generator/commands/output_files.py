"""``-o/--output-file [FORMAT:]FILE``: which format goes into which file, decided before anything is read.

``FORMAT:FILE`` writes that format there, as well as the report on stdout;
FORMAT must be one the command writes (a word before a colon that names
none is a mistake, not a file name: write ``./a:b`` for such a file). A FILE
without a prefix gets the report instead of stdout, in the ``--format``
chosen, unless its extension says otherwise: ``.sarif`` is SARIF, ``.json``
JSON, ``.txt``/``.log`` text, each written as well as stdout when it is not
the ``--format``. An extension that names a format the command does not
write, or contradicts the prefix (``json:out.sarif``), is refused: a CI job
that uploads ``results.sarif`` must never find text in it. GitLab's report
is JSON too, so it is chosen only by its prefix (``gitlab:report.json``).
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import UsageError

# the format an extension names, and the formats whose content fits a file of that extension
_NAMED = {".sarif": "sarif", ".json": "json", ".txt": "text", ".text": "text", ".log": "text"}
_FITTING = {".sarif": {"sarif"}, ".json": {"json", "gitlab", "sarif"}, ".txt": {"text", "github"},
            ".text": {"text", "github"}, ".log": {"text", "github"}}
_FOREIGN = {".xml", ".junit", ".html", ".htm", ".csv", ".tsv", ".yaml", ".yml", ".md", ".toml", ".pdf"}
_PREFIX = re.compile(r"([A-Za-z][A-Za-z0-9_-]*):(.*)", re.S)
ALL_FORMATS = ("text", "json", "sarif", "github", "gitlab")


def output_files(specs: list[str], main_format: str, formats: tuple[str, ...], command: str
                 ) -> tuple[tuple[str | None, Path], ...]:
    """(format, path) per ``-o``; a format of None puts the main report there instead of on stdout."""
    return tuple(_one(spec, main_format, formats, command) for spec in specs)


def _one(spec: str, main_format: str, formats: tuple[str, ...], command: str) -> tuple[str | None, Path]:
    written = ", ".join(formats)
    match = _PREFIX.fullmatch(spec)
    if match is not None:
        name, rest = match.group(1), match.group(2)
        if name not in formats:
            what = f"{command} does not write {name}" if name in ALL_FORMATS else f"{name} is not a format"
            raise UsageError(f"--output-file {spec}: {what} (formats: {written}); a file whose name holds a colon "
                             f"is written ./{spec}")
        if not rest:
            raise UsageError(f"--output-file {spec}: no file name after {name}:")
        _refuse_foreign(spec, Path(rest), written)
        fitting = _FITTING.get(_extension(Path(rest)))
        if fitting is not None and name not in fitting:
            raise UsageError(f"--output-file {spec}: a {_extension(Path(rest))} file cannot hold the {name} format; "
                             "name the file after its format")
        return name, Path(rest)
    path = Path(spec)
    _refuse_foreign(spec, path, written)
    extension = _extension(path)
    fitting = _FITTING.get(extension)
    if fitting is None or main_format in fitting:
        return None, path
    named = _NAMED[extension]
    if named not in formats:
        raise UsageError(f"--output-file {spec}: {command} does not write {named} (formats: {written})")
    return named, path


def _refuse_foreign(spec: str, path: Path, written: str) -> None:
    if _extension(path) in _FOREIGN:
        raise UsageError(f"--output-file {spec}: eksproxy-gen writes no {_extension(path)[1:]} report "
                         f"(formats: {written})")


def _extension(path: Path) -> str:
    return path.suffix.lower()
