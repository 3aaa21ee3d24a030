"""The render oracle: Terraform itself says what a string or heredoc renders to.

References that only a plan could evaluate (``var.x``, ``module.y.z``, ``local.q``, function calls of
them) are replaced, consistently on both sides, by unique literal placeholders, so the text around them,
``$${`` / ``%%{`` escapes and ``%{ }`` directives with literal conditions render as Terraform renders them.
Many templates go to one ``terraform console`` run: each becomes a local of a throw-away configuration in
an empty folder and the console prints them all, base64-encoded, as one JSON list (the console prints only
the last value it reads from a pipe, and reads one line per expression, so a heredoc cannot be fed
directly). A configuration that fails is split in halves until the template at fault is found.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

from hclscan import Template

_LITERAL = re.compile(r'\s*(?:"(?:[^"\\$%]|\\.)*"|-?\d+(?:\.\d+)?|true|false|null)\s*\Z', re.S)
_DIRECTIVE = re.compile(r"(?P<open>%\{~?)\s*(?P<word>if|for|else|endif|endfor)\b(?P<rest>.*?)(?P<close>~?\})\Z", re.S)
_FOR = re.compile(r"\s*(?P<vars>[A-Za-z_][\w-]*(?:\s*,\s*[A-Za-z_][\w-]*)?)\s+in\s+(?P<coll>.*?)\s*\Z", re.S)


class Placeholders:
    """One placeholder per distinct expression text, shared by the before and after sides of a tree."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}

    def of(self, expression: str) -> str:
        key = " ".join(expression.split())
        number = self._ids.setdefault(key, len(self._ids))
        return f"__EG{number}__"


def renderable(text: str, template: Template, holders: Placeholders) -> str:
    """The template's source with every non-literal interpolation replaced by a literal placeholder."""
    pieces: list[str] = []
    at = template.start
    for part in template.parts:
        pieces.append(text[at:part.start])
        pieces.append(_substitute(text[part.start:part.end], part.kind, holders))
        at = part.end
    pieces.append(text[at:template.end])
    return "".join(pieces)


def _substitute(source: str, kind: str, holders: Placeholders) -> str:
    if kind == "$":
        opener = "${~" if source.startswith("${~") else "${"
        closer = "~}" if source.endswith("~}") and len(source) > len(opener) + 1 else "}"
        inner = source[len(opener):len(source) - len(closer)]
        if _LITERAL.match(inner):
            return source
        return f'{opener}"{holders.of(inner)}"{closer}'
    directive = _DIRECTIVE.match(source)
    if directive is None:
        return source
    word, rest = directive.group("word"), directive.group("rest")
    if word == "if" and not _LITERAL.match(rest):
        holders.of(rest)
        rest = " true "
    elif word == "for":
        loop = _FOR.match(rest)
        if loop and not _LITERAL.match(loop.group("coll")):
            name = holders.of(loop.group("coll"))
            two = "," in loop.group("vars")
            collection = f'{{"{name}" = "{name}"}}' if two else f'["{name}"]'
            rest = f" {loop.group('vars')} in {collection} "
    return f"{directive.group('open')}{word}{rest}{directive.group('close')}"


@dataclass
class Rendered:
    text: str | None
    error: str = ""


class Console:
    """Renders batches of template sources with terraform console; counts the runs it made."""

    def __init__(self, terraform: str) -> None:
        self.terraform = terraform
        self.runs = 0

    def render(self, sources: list[str]) -> list[Rendered]:
        if not sources:
            return []
        with tempfile.TemporaryDirectory(prefix="eksproxy-accept-tf-") as folder:
            return self._render(folder, sources)

    def _render(self, folder: str, sources: list[str]) -> list[Rendered]:
        ok, values, error = self._run(folder, sources)
        if ok:
            return [Rendered(v) for v in values]
        if len(sources) == 1:
            return [Rendered(None, error)]
        half = len(sources) // 2
        return self._render(folder, sources[:half]) + self._render(folder, sources[half:])

    def _run(self, folder: str, sources: list[str]) -> tuple[bool, list[str], str]:
        body = "".join(f"  e{i} = tostring(\n{source}\n  )\n" for i, source in enumerate(sources))
        with open(os.path.join(folder, "main.tf"), "w", encoding="utf-8") as handle:
            handle.write("locals {\n" + body + "}\n")
        refs = ", ".join(f"local.e{i}" for i in range(len(sources)))
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": folder, "TF_CLI_CONFIG_FILE": "/dev/null",
               "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
        self.runs += 1
        proc = subprocess.run([self.terraform, "console", "-no-color"], input=f"base64encode(jsonencode([{refs}]))\n",
                              capture_output=True, text=True, cwd=folder, env=env, timeout=300, check=False)
        if proc.returncode != 0:
            return False, [], " ".join((proc.stderr or proc.stdout).split())[:400]
        out = proc.stdout.strip()
        try:
            values = json.loads(base64.b64decode(json.loads(out)))
        except (ValueError, TypeError) as exc:
            return False, [], f"unreadable console output: {exc}"
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            return False, [], "the console rendered something other than strings"
        return True, values, ""


def find_terraform() -> str | None:
    return shutil.which("terraform")
