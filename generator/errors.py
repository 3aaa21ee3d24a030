"""Errors the tool expects, each mapped to an exit code in one place (main.py)."""

from __future__ import annotations


class EksproxyError(Exception):
    """Base of every error that is reported to the user without a traceback."""

    exit_code = 1


class UsageError(EksproxyError):
    """Bad flags, settings or configuration: nothing was read or written (exit 2)."""

    exit_code = 2


class ParseError(EksproxyError):
    """A Terraform file that python-hcl2 cannot parse; ``line`` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
