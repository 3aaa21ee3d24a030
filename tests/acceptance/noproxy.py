"""Every NO_PROXY entry written in a file, whatever the notation, so entries a rewrite loses can be named.

Covers shell (``export NO_PROXY=a,b``), systemd (``Environment="NO_PROXY=a,b"``), env files, YAML
(``NO_PROXY: "a,b"``, and ``- name: NO_PROXY`` / ``value: ...`` pairs), Bottlerocket TOML
(``no-proxy = ["a", "b"]``), and Terraform (``no_proxy = "a,b"``, lists, ``{ name = "NO_PROXY", value = ... }``).
"""

from __future__ import annotations

import re

_KEY = re.compile(r"(?i)(?<![A-Za-z0-9_])(no_proxy|no-proxy|noproxy)(?![A-Za-z0-9_])")
_NAME_BEFORE = re.compile(r"""(?i)\bname["']?\s*[:=]\s*["']?$""")
_VALUE_KEY = re.compile(r"""(?i)(?<![A-Za-z0-9_])value["']?\s*[:=]\s*""")
_ASSIGN = re.compile(r"""["']?\s*(?:=|:)\s*""")
_INTERPOLATION = re.compile(r"\$\{[^}]*\}")
_ENTRY = re.compile(r"^(?:\$\{[^}]*\}|[A-Za-z0-9_.*:/\[\]-]+)$")


def _value_after(text: str, at: int) -> str:
    """The value written after a NO_PROXY key that ends at ``at``: to the end of the line, or a whole list."""
    assign = _ASSIGN.match(text, at)
    if assign is None:
        return ""
    start = assign.end()
    if start < len(text) and text[start] == "[":
        depth = 0
        for i in range(start, len(text)):
            if text[i] == "[":
                depth += 1
            elif text[i] == "]":
                depth -= 1
                if depth == 0:
                    return text[start:i + 1]
        return text[start:]
    end = text.find("\n", start)
    return text[start:] if end < 0 else text[start:end]


def _paired_value(text: str, key_start: int, key_end: int) -> str | None:
    """For ``name: NO_PROXY`` / ``name = "NO_PROXY"``, the ``value`` written beside it (same line or the next three)."""
    line_start = text.rfind("\n", 0, key_start) + 1
    if not _NAME_BEFORE.search(text[line_start:key_start]):
        return None
    window_end = key_end
    for _ in range(4):
        nxt = text.find("\n", window_end + 1)
        window_end = len(text) if nxt < 0 else nxt
    found = _VALUE_KEY.search(text, key_end, window_end)
    if found is None:
        return ""
    end = text.find("\n", found.end())
    value = text[found.end():] if end < 0 else text[found.end():end]
    return value.split("}", 1)[0] if "{" not in value else value


def split_entries(value: str) -> list[str]:
    """The entries of a written value: interpolations kept whole, quotes, brackets and escapes dropped."""
    holders: list[str] = []

    def hold(match: re.Match[str]) -> str:
        holders.append(match.group(0))
        return f"\0{len(holders) - 1}\0"

    masked = _INTERPOLATION.sub(hold, value)
    masked = masked.replace("\\n", " ").replace("\\", " ")
    entries: list[str] = []
    for raw in re.split(r"[,\s;\"'\[\]()=]+", masked):
        token = re.sub(r"\0(\d+)\0", lambda m: holders[int(m.group(1))], raw).strip("`")
        if not token or token.startswith(("$NO_PROXY", "$no_proxy", "${NO_PROXY", "${no_proxy")):
            continue
        if not _ENTRY.match(token):
            continue
        if not (any(ch in token for ch in ".:/") or token.lower() == "localhost" or token.startswith("${")):
            continue
        entries.append(token.lower())
    return entries


def entries(text: str) -> set[str]:
    """Every NO_PROXY entry the text writes."""
    found: set[str] = set()
    for key in _KEY.finditer(text):
        paired = _paired_value(text, key.start(), key.end())
        value = paired if paired is not None else _value_after(text, key.end())
        found.update(split_entries(value))
    return found
