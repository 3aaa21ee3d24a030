"""Whether the repository's pre-commit configuration runs the check hook after the fix hook.

When both hooks run, the findings ``fix`` leaves would be printed twice, once
per hook, each with its own total. The fix hook's entry passes
``--leave-findings-to-check``; fix then leaves them to the check hook, but
only when this repository's ``.pre-commit-config.yaml`` really runs it (and
``SKIP`` does not name it): with the fix hook alone, the findings left still
print and still fail the commit.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

CHECK_HOOK = "eksproxy-gen-check"
CONFIG = ".pre-commit-config.yaml"


def check_hook_runs(start: Path | None = None) -> bool:
    """True when the git repository around ``start`` (the working folder) configures the check hook and
    this run of pre-commit does not skip it."""
    top = _repository(start or Path.cwd())
    if top is None:
        return False
    config = top / CONFIG
    try:
        if config.is_symlink() or not config.is_file():  # read only the repository's own file
            return False
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    skipped = {name.strip() for name in os.environ.get("SKIP", "").split(",")}
    return CHECK_HOOK not in skipped and any(hook_id == CHECK_HOOK for hook_id in _hook_ids(data))


def _hook_ids(data: object) -> list[object]:
    if not isinstance(data, dict) or not isinstance(data.get("repos"), list):
        return []
    ids: list[object] = []
    for repo in data["repos"]:
        hooks = repo.get("hooks") if isinstance(repo, dict) else None
        if isinstance(hooks, list):
            ids += [hook.get("id") for hook in hooks if isinstance(hook, dict)]
    return ids


def _repository(start: Path) -> Path | None:
    current = start.resolve()
    while True:
        if (current / ".git").exists():
            return current
        if current.parent == current:
            return None
        current = current.parent
