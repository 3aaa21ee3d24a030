"""The cache's files as the tests look into them and tamper with them (eksproxy-gen itself reads them only in cache.py).

An entry on disk is ``{"used": DAY, "data": CANONICAL_JSON, "sig": HMAC}``, a
tree snapshot ``{"format", "data": CANONICAL_JSON, "sig": HMAC}``; both are
signed with the folder's ``key``. ``signed`` re-signs data the way the cache
would, to build entries that are authentic but damaged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path
from typing import Any

from eksproxy_gen import cache as cache_module


def cache_dir() -> Path:
    return Path(os.environ["EKSPROXY_GEN_CACHE_DIR"])


def folder_file() -> Path:
    return cache_dir() / f"check-{cache_module.tool_fingerprint()}.json"


def snapshots() -> list[Path]:
    return sorted(cache_dir().glob("tree-*.json"))


def entries() -> dict[str, Any]:
    """The folder cache's entries by folder; empty when nothing was stored."""
    if not folder_file().exists():
        return {}
    entries: dict[str, Any] = json.loads(folder_file().read_text())["entries"]
    return entries


def entry_data(folder: Path | str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(entries()[str(folder)]["data"])
    return data


def _key() -> bytes:
    return bytes.fromhex((cache_dir() / cache_module.KEY_NAME).read_text().strip())


def _mac(text: str) -> str:
    return hmac.new(_key(), text.encode(), hashlib.sha256).hexdigest()


def signed_entry(folder: str, used: int, data: Any) -> dict[str, Any]:
    """An entry as the cache signs it, whatever ``data`` holds."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return {"used": used, "data": text, "sig": _mac(f"{folder}\0{used}\0{text}")}


def signed_snapshot(data: Any) -> dict[str, Any]:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return {"format": cache_module.FORMAT, "data": text, "sig": _mac(text)}


def rewrite_entries(change: Any) -> None:
    """Replace every entry of the folder cache by ``change(folder, entry)``, keeping the file's shape."""
    data = json.loads(folder_file().read_text())
    data["entries"] = {folder: change(folder, entry) for folder, entry in data["entries"].items()}
    folder_file().write_text(json.dumps(data))
