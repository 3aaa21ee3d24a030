"""Bytes on disk <-> the LF-only text the parser and planner work on, and back, losslessly."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import fsguard

BOM = b"\xef\xbb\xbf"


class SourceError(Exception):
    """A file that cannot be read as UTF-8 Terraform text; ``line`` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(frozen=True)
class SourceFile:
    path: Path
    raw: bytes
    text: str
    bom: bool
    crlf: bool
    mixed_newlines: bool

    def encode(self, text: str) -> bytes:
        """Turn edited LF text back into bytes with this file's newline style and BOM."""
        if self.crlf:
            text = text.replace("\n", "\r\n")
        data = text.encode("utf-8")
        return BOM + data if self.bom else data


def read_source(path: Path) -> SourceFile:
    """A file's text, read through the guard: fsguard.Refused (an OSError) when it may not be read."""
    return source_from_bytes(path, fsguard.read_bytes(path))


def source_from_bytes(path: Path, raw: bytes) -> SourceFile:
    """Decode a file's bytes; raise SourceError naming the line of the first byte that is not UTF-8."""
    bom = raw.startswith(BOM)
    body = raw[len(BOM):] if bom else raw
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body[: exc.start].count(b"\n") + 1
        raise SourceError(line, f"not UTF-8 text (byte 0x{body[exc.start]:02x})") from None
    crlf_count = text.count("\r\n")
    lf_count = text.count("\n")
    crlf = crlf_count > 0 and crlf_count == lf_count
    mixed = 0 < crlf_count < lf_count
    return SourceFile(path, raw, text.replace("\r\n", "\n"), bom, crlf, mixed)


def encoding_error(raw: bytes) -> SourceError | None:
    """Why a file's bytes are not UTF-8 text, naming the line; None when they are (cheap: no copy is kept)."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        body_start = len(BOM) if raw.startswith(BOM) else 0
        if exc.start < body_start:
            return None
        return SourceError(raw[: exc.start].count(b"\n") + 1, f"not UTF-8 text (byte 0x{raw[exc.start]:02x})")
    return None
