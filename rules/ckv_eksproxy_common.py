"""Glue between checkov and eksproxy-gen's policy; defines no check itself.

checkov execs every ``.py`` under ``--external-checks-dir`` by its bare file
name, so this file is ``ckv_eksproxy_common`` and the policy package is loaded
from *outside* the rules folder: ``<site-packages>/eksproxy_gen`` when
installed, ``<repo>/generator`` in a source checkout. Only the standard
library, checkov and its bundled ``hcl2`` (bc-python-hcl2) are imported here.

checkov renders values before a check sees them (heredocs lose their newlines,
``%{ }`` directives are garbled), so the module block is re-read from its file
as written and handed to ``eksproxy_gen.policy.module.evaluate_module`` in the
same plain form the CLI builds. Nothing here decides what is right or wrong.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import importlib.util
import os
import re
import sys
import types
from pathlib import Path
from typing import Any

from checkov.common.bridgecrew.severities import BcSeverities, Severities
from checkov.common.models.enums import CheckCategories, CheckResult

GUIDELINE_BASE = "https://github.com/eksproxy-gen/eksproxy-gen/blob/main/rules/RULES.md"
CATEGORIES = [CheckCategories.NETWORKING]
SUPPORTED = ["module"]
_META_KEYS = {"__start_line__", "__end_line__"}


# --- the policy package -------------------------------------------------------------------------------------------

def _package_dir() -> Path:
    """eksproxy_gen's folder: installed next to rules/, or <repo>/generator in a source checkout."""
    here = Path(os.path.abspath(__file__)).parents[1]
    return here if (here / "policy").is_dir() else here / "generator"


def _load_policy() -> tuple[Any, str | None]:
    """(namespace of the modules the checks use, None) or (None, why it could not be loaded)."""
    try:
        try:
            importlib.import_module("eksproxy_gen.policy")
        except ImportError:
            folder = _package_dir()
            spec = importlib.util.spec_from_file_location(
                "eksproxy_gen", folder / "__init__.py", submodule_search_locations=[str(folder)])
            if spec is None or spec.loader is None:
                raise ImportError(f"no eksproxy_gen package in {folder}") from None
            package = importlib.util.module_from_spec(spec)
            sys.modules["eksproxy_gen"] = package
            try:
                spec.loader.exec_module(package)
            except BaseException:
                sys.modules.pop("eksproxy_gen", None)
                raise
        names = ("config", "discover", "errors", "filters", "policy.facts", "policy.groups", "policy.module",
                 "policy.rules")
        mods = {name.rsplit(".", 1)[-1]: importlib.import_module(f"eksproxy_gen.{name}") for name in names}
        return types.SimpleNamespace(**mods), None
    except Exception as exc:  # a broken install must fail the checks, not hide them
        return None, f"{type(exc).__name__}: {exc}"


POLICY, POLICY_ERROR = _load_policy()


def _rule(rule_id: str) -> Any:
    return POLICY.rules.RULES_BY_ID.get(rule_id) if POLICY else None


def name(rule_id: str) -> str:
    rule = _rule(rule_id)
    return f"{rule.title} (eksproxy-gen {rule_id})" if rule else f"eksproxy-gen {rule_id}"


def guideline(rule_id: str) -> str:
    """The rule's section of rules/RULES.md (the policy's own link when it has one)."""
    rule = _rule(rule_id)
    if rule is not None and isinstance(getattr(rule, "help_uri", None), str):
        return rule.help_uri
    return f"{GUIDELINE_BASE}#{rule.doc_anchor if rule else rule_id.lower()}"


def severity(rule_id: str) -> Any:
    rule = _rule(rule_id)
    low = rule is not None and rule.severity.value == "warning"
    return Severities[BcSeverities.LOW if low else BcSeverities.HIGH]


# --- one check's verdict ------------------------------------------------------------------------------------------

def judge(check: Any, rule_id: str, conf: dict[str, Any]) -> CheckResult:
    """The verdict of ``rule_id`` on one module call; never raises (checkov drops a check that does)."""
    try:
        if POLICY is None:
            raise RuntimeError(f"cannot load the eksproxy_gen policy package: {POLICY_ERROR}")
        path = module_file(check, conf)
        outcome = evaluate(path, int(conf["__start_line__"]))
        if outcome is None:
            return CheckResult.UNKNOWN
        if isinstance(outcome, str):
            check.details.append(outcome)
            return CheckResult.FAILED
        mine = [f for f in outcome if f.rule == rule_id]
        for finding in mine:
            where = "" if finding.file == path else f" in {os.path.basename(finding.file)}"
            check.details.append(f"{finding.node_group or 'module.' + finding.module} (line {finding.line}{where}): "
                                 f"{finding.message}")
        return CheckResult.FAILED if mine else CheckResult.PASSED
    except Exception as exc:
        check.details.append(f"eksproxy-gen rule crashed: {type(exc).__name__}: {exc}")
        return CheckResult.FAILED


_EVALUATED: dict[tuple[object, ...], Any] = {}


def evaluate(path: str, start: int) -> list[Any] | str | None:
    """Findings of the module call at ``start`` (all rules), a configuration problem as text, or None if not EKS.

    Cached per file version, so the checks of one module call share one evaluation.
    """
    key = (path, *_stamp(path), start)
    if key not in _EVALUATED:
        _EVALUATED[key] = _evaluate(path, start)
    return _EVALUATED[key]


def _stamp(path: str) -> tuple[int, int]:
    stat = os.stat(path)
    return stat.st_mtime_ns, stat.st_size


def _evaluate(path: str, start: int) -> list[Any] | str | None:
    block = Block.module_at(path, start)
    folder = Path(path).parent
    local_kind = functools.partial(POLICY.groups.local_kind, folder=folder)
    source = block.args.get("source")
    if not isinstance(source, str) or POLICY.groups.classify_source(source, local_kind)[0] is None:
        return None
    try:
        settings = POLICY.config.ConfigResolver(POLICY.config.Overrides()).for_path(Path(path))
    except POLICY.errors.UsageError as exc:
        return f"eksproxy-gen configuration problem: {exc}"
    args = dict(block.args)
    homes: dict[str, tuple[Block, str]] = {}  # group map -> the locals block (and name) that holds it
    for attr in POLICY.groups.GROUP_MAPS:
        name = POLICY.groups.local_reference(args.get(attr))
        local = _folder_locals(folder).get(name) if name else None
        if local is not None and isinstance(local.args.get(name), dict):
            args[attr] = local.args[name]
            homes[attr] = (local, name)

    def group_line(attr: str, group: str) -> int:
        home, name = homes.get(attr, (block, attr))
        return home.keys.get((name, group), start)

    def attr_line(attr: str) -> int:
        home, name = homes.get(attr, (block, attr))
        return home.keys.get((name,), start)

    found = POLICY.module.evaluate_module(block.label, path, start, args, settings, local_kind=local_kind,
                                          group_line=group_line, attr_line=attr_line)
    elsewhere = {group: home.path for attr, (home, _) in homes.items() for group in args[attr]}
    found = [dataclasses.replace(f, file=elsewhere[f.node_group]) if f.node_group in elsewhere else f
             for f in found]
    return [f for f in found if not _ignored(f, path, start)]


def _ignored(finding: Any, module_path: str, module_line: int) -> bool:
    """``# eksproxy-gen:ignore RULE`` on the module's line or on the finding's (group's) line, as the CLI reads it.

    checkov's own ``#checkov:skip`` silences a check for a whole module call;
    this comment silences one rule for one node group, in both tools.
    """
    def directives(file: str) -> dict[int, Any]:
        return POLICY.filters.suppressions("\n".join(_parsed(file)[0]))

    return POLICY.filters.suppression_for(finding, module_line, directives(module_path),
                                          directives(finding.file)) is not None


def module_file(check: Any, conf: dict[str, Any]) -> str:
    """Absolute path of the file holding the module block: the graph vertex of the same address and line.

    checkov names the file relative to the scanned folder (``/sub/main.tf``);
    several vertices may end with that (``/x/sub/main.tf``), and the scanned
    folder's own file is the shortest of them.
    """
    rel = check.entity_path.rsplit(":module:", 1)[0]
    graph = getattr(check, "graph", None)
    found: list[str] = []
    if graph is not None and hasattr(graph, "node_indices"):
        for index in graph.node_indices():
            attrs = graph[index]
            attrs = attrs[1] if isinstance(attrs, tuple) else attrs
            if not isinstance(attrs, dict) or attrs.get("block_type_") != "module":
                continue
            path = attrs.get("file_path_") or ""
            if attrs.get("__address__") == conf.get("__address__") and \
                    attrs.get("__start_line__") == conf.get("__start_line__") and path.endswith(rel):
                found.append(path)
    if found:
        return min(found, key=len)
    if rel and os.path.isfile(rel.lstrip("/")):
        return os.path.abspath(rel.lstrip("/"))
    raise FileNotFoundError(f"cannot find the file of {check.entity_path} in checkov's graph")


# --- the module block as written ----------------------------------------------------------------------------------

_PARSED: dict[tuple[object, ...], tuple[list[str], dict[str, Any]]] = {}


def _parsed(path: str) -> tuple[list[str], dict[str, Any]]:
    """The file's lines and bc-python-hcl2's parse of it, once per file version."""
    key = (path, *_stamp(path))
    if key not in _PARSED:
        import hcl2  # bc-python-hcl2, a checkov dependency; imported late so a bad install is reported per check

        with open(path, encoding="utf-8-sig") as handle:
            text = handle.read().replace("\r\n", "\n")
        _PARSED[key] = (text.split("\n"), hcl2.loads(text))
    return _PARSED[key]


class Block:
    """A top-level block as written: its label, arguments in the policy's plain form, and the line of each key.

    ``keys`` maps (argument,) and (argument, key, ...) to the line the key is written on.
    """

    def __init__(self, path: str, label: str, body: dict[str, Any], lines: list[str]) -> None:
        self.path = path
        self.label = label
        start = int(body["__start_line__"])
        scan = _Scanner("\n".join(lines[start - 1:int(body.get("__end_line__", start))]), start)
        self.args = {k: _plain(v[0] if isinstance(v, list) and len(v) == 1 else v, scan, (k,))
                     for k, v in body.items() if k not in _META_KEYS}
        self.keys = scan.keys

    @classmethod
    def module_at(cls, path: str, start: int) -> Block:
        lines, doc = _parsed(path)
        for entry in doc.get("module", []):
            for label, body in entry.items():
                if isinstance(body, dict) and body.get("__start_line__") == start:
                    return cls(path, label, body, lines)
        raise LookupError(f"no module block starts at line {start} of {path}")


def _folder_locals(folder: Path) -> dict[str, Block]:
    """``local.NAME`` -> the locals block defining it, from every Terraform file of the folder (as the CLI reads)."""
    found: dict[str, Block] = {}
    suffixes = POLICY.discover.SUFFIXES
    for path in sorted(p for p in folder.iterdir() if p.name.endswith(suffixes) and p.is_file()):
        try:
            lines, doc = _parsed(str(path))
        except Exception:  # a sibling that does not parse is not this module's problem, as in the CLI
            continue
        for body in doc.get("locals", []):
            block = Block(str(path), "locals", body, lines)
            found.update({name: block for name in block.args})
    return found


_TEMPLATE = re.compile(r"(?<![$%])[$%]\{")
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
Path_ = tuple[str | int | None, ...]


def _plain(value: Any, scan: _Scanner, path: Path_) -> Any:
    """bc-python-hcl2's value -> the CLI's plain form (eksproxy_gen.model.plain).

    Expressions become ``${`` + their text as written + ``}`` (bc-python-hcl2
    re-prints them, e.g. with other quotes), heredocs their text as written,
    quoted strings without interpolation are unescaped, numbers are their text.
    """
    if isinstance(value, dict):
        keys = {k: k if _TEMPLATE.search(k) else _unescape(k) for k in value if k not in _META_KEYS}
        return {key: _plain(value[k], scan, (*path, key)) for k, key in keys.items()}
    if isinstance(value, list):
        return [_plain(v, scan, (*path, i)) for i, v in enumerate(value)]
    raw = scan.values.get(path)
    if value is None or isinstance(value, bool):
        return value
    if raw is not None and not raw.startswith(('"', "<<")):
        return raw if _NUMBER.fullmatch(raw) else "${" + raw + "}"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if text in scan.heredocs:
        return scan.heredocs[text]
    return text if _TEMPLATE.search(text) else _unescape(text)


def _unescape(raw: str) -> str:
    """Quoted-string escapes, which bc-python-hcl2 keeps as written (``\\"`` stays two characters)."""
    return re.sub(r"\\([ntr\"\\])", lambda m: _ESCAPES[m.group(1)], raw)


class _Frame:
    """An open bracket: the key (or list index) it is the value of, and for lists the current item."""

    def __init__(self, char: str, label: str | int | None) -> None:
        self.char = char
        self.label = label
        self.index = 0


class _Scanner:
    """Walks a block's text once, as an HCL lexer would, without evaluating anything.

    ``keys`` maps a key's path below the block body -- (argument,), (argument,
    key, ...), list items by index -- to the line it is written on; ``values``
    maps the same paths to the value's text as written; ``heredocs`` maps
    bc-python-hcl2's rendering of each heredoc (which drops the last newline and
    does not dedent around blank lines) to the text Terraform and the CLI see.
    """

    _HEREDOC = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\n")
    _IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")

    def __init__(self, text: str, first_line: int) -> None:
        self.text = text
        self.line = first_line
        self.keys: dict[Path_, int] = {}
        self.values: dict[Path_, str] = {}
        self.heredocs: dict[str, str] = {}
        self._stack: list[_Frame] = []
        self._pending: dict[int, tuple[Path_, int, bool]] = {}  # depth -> path, start, whether a newline ends it
        self._walk()

    def _path(self, label: str | int | None) -> Path_:
        return (*(frame.label for frame in self._stack[1:]), label)

    def _open_value(self, label: str | int | None, start: int, newline_ends: bool) -> None:
        if self._stack:
            self._pending[len(self._stack)] = (self._path(label), start, newline_ends)

    def _close_value(self, end: int, at_newline: bool = False) -> None:
        depth = len(self._stack)
        if depth not in self._pending or (at_newline and not self._pending[depth][2]):
            return
        path, start, _ = self._pending.pop(depth)
        self.values.setdefault(path, self.text[start:end].strip())

    def _walk(self) -> None:
        text, i, stack = self.text, 0, self._stack
        candidate: tuple[str, int] | None = None  # a key-like token at the start of an element
        assigned: str | None = None  # the key whose "=" or ":" came just before
        at_start = True
        while i < len(text):
            ch = text[i]
            if ch == "\n":
                self._close_value(i, at_newline=True)
                self.line += 1
                i += 1
                at_start, candidate = True, None
                continue
            if ch in " \t\r":
                i += 1
                continue
            if ch == "#" or text.startswith("//", i):
                self._close_value(i, at_newline=True)
                end = text.find("\n", i)
                i = len(text) if end < 0 else end
                continue
            if text.startswith("/*", i):
                end = text.find("*/", i + 2)
                end = len(text) if end < 0 else end + 2
                self.line += text.count("\n", i, end)
                i = end
                continue
            heredoc = self._HEREDOC.match(text, i)
            if heredoc:
                i = self._heredoc(heredoc)
                at_start, candidate, assigned = False, None, None
                continue
            token: str | None = None
            if ch == '"':
                end = self._string_end(i)
                token = _unescape(text[i + 1:end - 1])
                self.line += text.count("\n", i, end)
                i = end
            elif self._IDENT.match(text, i):
                match = self._IDENT.match(text, i)
                token = match.group(0) if match else ""
                i = match.end() if match else i + 1
            if token is not None:
                candidate = (token, self.line) if at_start else None
                at_start, assigned = False, None
                continue
            if ch in "{[(":
                label = assigned if assigned is not None else (
                    stack[-1].index if stack and stack[-1].char == "[" else None)
                stack.append(_Frame(ch, label))
                if ch == "[":
                    self._open_value(0, i + 1, newline_ends=False)
                at_start, candidate, assigned = ch == "{", None, None
            elif ch in "}])":
                self._close_value(i)
                self._pending.pop(len(stack), None)
                if stack:
                    stack.pop()
                at_start, candidate, assigned = False, None, None
            elif ch == ",":
                self._close_value(i)
                if stack and stack[-1].char == "[":
                    stack[-1].index += 1
                    self._open_value(stack[-1].index, i + 1, newline_ends=False)
                at_start, candidate, assigned = True, None, None
            elif ch in "=:" and candidate and not text.startswith(("==", "=>"), i):
                if stack:
                    self.keys.setdefault(self._path(candidate[0]), candidate[1])
                    self._open_value(candidate[0], i + 1, newline_ends=True)
                assigned, candidate, at_start = candidate[0], None, False
            else:
                at_start, candidate, assigned = False, None, None
            i += 1
        self._close_value(len(text), at_newline=True)

    def _string_end(self, i: int) -> int:
        """Index just past the quoted string starting at i, across ``${ }`` / ``%{ }`` with nested strings."""
        text, j = self.text, i + 1
        while j < len(text):
            if text[j] == "\\":
                j += 2
            elif text.startswith(("$${", "%%{"), j):
                j += 3
            elif text.startswith(("${", "%{"), j):
                j = self._template_end(j + 2)
            elif text[j] == '"':
                return j + 1
            elif text[j] == "\n":  # unterminated: let the line count carry on
                return j
            else:
                j += 1
        return j

    def _template_end(self, j: int) -> int:
        text, depth = self.text, 1
        while j < len(text) and depth:
            if text[j] == '"':
                j = self._string_end(j)
                continue
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        return j

    def _heredoc(self, match: re.Match[str]) -> int:
        trim, marker = match.group(1) == "-", match.group(2)
        closing = re.compile(r"^[ \t]*" + re.escape(marker) + r"[ \t]*$", re.M)
        end = closing.search(self.text, match.end())
        if end is None:
            return match.end()
        raw = self.text[match.end():end.start()]
        self.line += self.text.count("\n", match.start(), end.end())
        body = raw  # every line with its newline: the CLI's HeredocExpr.body
        bc_text = raw[:-1] if raw.endswith("\n") else raw
        if trim:
            body = POLICY.facts.dedent_heredoc(body)
            bc_lines = bc_text.split("\n")
            cut = min(len(ln) - len(ln.lstrip(" ")) for ln in bc_lines)
            bc_text = "\n".join(ln[cut:] for ln in bc_lines)
        self.heredocs.setdefault(bc_text, body)
        return end.end()
