"""Who else reads a local that a fix rewrites.

``fix`` writes the generated parts where a group's value is defined, which
may be a ``local`` (``cloudinit_pre_nodeadm = local.common_parts``). The
trial judges every boot target before and after, but a local can also feed a
bastion's ``cloudinit_config``, an output or a launch template of its own:
those would silently change with the fix. So a rewrite of a local is allowed
only while every reader of it, followed through other locals, is a locals
block or the owner of a boot target of the folder.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..hcl import Document
from .analysis import FolderResult

# a top-level block, as terraform fmt writes it: at the start of a line, type then quoted labels
_HEADER = re.compile(r'^(resource|data|module|output|locals|variable|check|import|moved)((?:[ \t]+"[^"\n]*")*)[ \t]*\{',
                     re.M)
_ASSIGNED = re.compile(r"^[ \t]+([A-Za-z_][\w-]*)[ \t]*=", re.M)


@dataclass(frozen=True)
class Reader:
    """A block outside the targets that reads a rewritten local: how a message names it, and where it is."""

    local: str
    block: str
    file: str
    line: int
    via: str | None = None  # the local it reads, when not ``local`` itself but one built from it


def changed_locals(before: FolderResult, after: FolderResult, paths: Iterable[Path]) -> set[str]:
    """The names of the locals whose written value differs between the two results, in the files rewritten."""
    names: set[str] = set()
    for path in paths:
        old, new = before.loaded.get(path), after.loaded.get(path)
        if old is None or new is None:
            continue
        was, now = _locals(old.doc), _locals(new.doc)
        names |= {name for name in was.keys() | now.keys() if was.get(name) != now.get(name)}
    return names


def _locals(doc: Document) -> dict[str, str]:
    return {attr.name: doc.source(attr.value.span) for block in doc.body.blocks if block.type == "locals"
            for attr in block.body.attributes}


def outside_readers(names: set[str], files: list[Path], text_of: Callable[[Path], str | None],
                    owners: set[str], display: Callable[[Path], str]) -> list[Reader]:
    """Every block other than a locals block or a target's owner (``eks`` for ``module "eks"``,
    ``kubectl_manifest.x``) that reads one of ``names``, followed through the locals that read them."""
    pending: list[tuple[str, str]] = [(name, name) for name in sorted(names)]  # (local, the rewritten one)
    seen = set(names)
    found: list[Reader] = []
    texts: Mapping[Path, str] = {path: text for path in files if (text := text_of(path)) is not None}
    while pending:
        name, origin = pending.pop()
        reference = re.compile(rf"(?<![\w.-])local\.{re.escape(name)}(?![\w-])")
        for path, text in texts.items():
            headers = list(_HEADER.finditer(text))
            for match in reference.finditer(text):
                header = next((h for h in reversed(headers) if h.start() < match.start()), None)
                line = text.count("\n", 0, match.start()) + 1
                if header is None:  # JSON syntax, or a layout the header pattern does not know: assume a reader
                    found.append(Reader(origin, f"a block of {display(path)}", display(path), line,
                                        None if name == origin else name))
                    continue
                kind, labels = header.group(1), re.findall(r'"([^"\n]*)"', header.group(2))
                if kind == "locals":
                    assigned = [a for a in _ASSIGNED.finditer(text, header.end(), match.start())]
                    via = assigned[-1].group(1) if assigned else None
                    if via is not None and via not in seen:
                        seen.add(via)
                        pending.append((via, origin))
                    continue
                block = labels[0] if kind == "module" and labels else ".".join(labels)
                if kind in ("module", "resource") and block in owners:
                    continue
                shown = ".".join([kind, *labels]) if kind != "resource" else ".".join(labels)
                found.append(Reader(origin, shown, display(path), line, None if name == origin else name))
    return found
