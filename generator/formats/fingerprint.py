"""One identity per finding for tools that track findings across runs (SARIF, GitLab code quality)."""

from __future__ import annotations

import hashlib
import re

from ..policy.catalog import Finding


def fingerprint(f: Finding) -> str:
    """Stable across edits that move lines, and distinct for each finding of a group (one per missing entry)."""
    message = re.sub(r":\d+", "", f.message)
    key = "\0".join([f.rule, f.module_file, f.module, f.map, f.node_group or "", message])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
