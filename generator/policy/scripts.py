"""What a shell part of user data does about the proxy, judged from its text.

These are patterns, not a shell parser: they recognise the hand-written proxy
script people copy between node groups and its usual variants. ``proxy_cut``
says which lines of a script only set up the proxy, so a fix can remove exactly
those and keep the script's other work; when that cannot be told line by line,
it says so and nothing is cut.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .values import bare_credentials

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")
_ASSIGN = re.compile(
    r"""(?:^|[\s;"'])(?:export\s+)?(HTTPS?_PROXY|https?_proxy|NO_PROXY|no_proxy)(\+?)="""
    r"""("[^"\n]*"|'[^'\n]*'|[^\s;"']*)""",
    re.M)
_SHELL_ASSIGN = re.compile(r"""^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=("[^"\n]*"|'[^'\n]*'|[^\s;]*)""", re.M)
_SHELL_REF = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
_DROPIN = re.compile(r"/etc/systemd/system/([A-Za-z0-9@_.-]+?)\.service\.d\b")
_OVERWRITE_ENV = re.compile(r"(?:(?<!>)>\s*/etc/environment\b|\btee\s+(?!-a)(?:--?\w+\s+)*/etc/environment\b)")
_SET_X = re.compile(r"^\s*set\s+-[A-Za-z]*x|^#!\S*\s+-[A-Za-z]*x|^\s*set\s+-o\s+xtrace", re.M)
_CREDENTIALS = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@\"']+:[^\s/\"']+@")
_HEREDOC_START = re.compile(r"<<-?\s*['\"]?([A-Za-z_][A-Za-z0-9_]*)['\"]?")
_PROXY_WORD = re.compile(r"\b(?:HTTPS?_PROXY|NO_PROXY|https?_proxy|no_proxy)\b|\bproxy\s*=", re.I)
_PROXY_TARGETS = re.compile(r"/etc/environment\b|/etc/yum\.conf\b|/etc/dnf/dnf\.conf\b|/etc/profile\.d/[\w.-]*proxy")
_DROPIN_UNITS = {"containerd", "nodeadm", "kubelet", "docker", "sandbox-image"}
_SUPPORT = re.compile(r"^\s*systemctl\s+(?:daemon-reload|(?:try-)?restart\s+[\w@. -]+)\s*$")
_SHELLS = re.compile(r"^\s*#!\s*(?:\S*/)?(?:env\s+)?(?:ba|da|k|z)?sh\b")
_NEUTRAL = re.compile(r"^\s*(?:#.*|set\s+-[A-Za-z]+(?:\s+-?o\s+\w+)*|set\s+-o\s+\w+)?\s*$")


@dataclass(frozen=True)
class ScriptFacts:
    env: dict[str, str] = field(default_factory=dict)
    dropin_units: frozenset[str] = frozenset()
    overwrites_etc_environment: bool = False
    writes_yum_conf: bool = False
    writes_dnf_conf: bool = False
    set_x: bool = False
    has_credentials: bool = False

    @property
    def sets_proxy(self) -> bool:
        return any(var in self.env for var in PROXY_VARS if var.lower() != "no_proxy")


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _expand(value: str, shell_vars: dict[str, str], passes: int = 3) -> str:
    """Expand ``$NAME`` / ``${NAME}`` from plain assignments; command substitutions stay as written."""
    def one(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        known = shell_vars.get(name)
        return known if known is not None and "$(" not in known and "`" not in known else match.group(0)

    for _ in range(passes):
        value = _SHELL_REF.sub(one, value)
    return value


_LINE_HEAD = re.compile(r"^[ \t]*(?:export[ \t]+|declare[ \t]+-x[ \t]+)?")
_WORD_ASSIGN = re.compile(r"""([A-Za-z_][A-Za-z0-9_]*)=("[^"\n]*"|'[^'\n]*'|[^\s;]*)(?:[ \t]+|(?=[;\n]|$))""")


def assignments(text: str) -> list[tuple[str, str]]:
    """Every ``NAME=value`` a line assigns at its start, ``export A=1 B=2`` giving both, values unquoted."""
    found: list[tuple[str, str]] = []
    for line in text.split("\n"):
        at = _LINE_HEAD.match(line)
        pos = at.end() if at else 0
        while (match := _WORD_ASSIGN.match(line, pos)) is not None:
            found.append((match.group(1), _unquote(match.group(2))))
            pos = match.end()
    return found


_STATEMENT_ASSIGN = re.compile(
    r"""(?:^|(?<=[;&|({\n]))[ \t]*(?:export[ \t]+|declare[ \t]+-x[ \t]+)?((?:[A-Za-z_][A-Za-z0-9_]*\+?="""
    r"""(?:"[^"\n]*"|'[^'\n]*'|[^\s;&|]*)[ \t]*)+)""", re.M)
_ONE_ASSIGN = re.compile(r"""([A-Za-z_][A-Za-z0-9_]*)(\+?)=("[^"\n]*"|'[^'\n]*'|[^\s;&|]*)""")


def _timeline(text: str) -> list[tuple[int, str, str]]:
    """(offset, name, value) of each plain assignment, in the order the shell runs straight-line code, each value
    expanded with the variables as they stand at that point.

    A NO_PROXY built up over several assignments (``NO_PROXY=a; NO_PROXY="$NO_PROXY,b"``, ``NO_PROXY+=",c"``)
    is read as the shell builds it: ``$NO_PROXY`` in the second assignment is the first's value, not the last's.
    Statements separated by ``;``, ``&&`` or new lines are each read.
    """
    found: list[tuple[int, str, str]] = []
    current: dict[str, str] = {}
    for statement in _STATEMENT_ASSIGN.finditer(text):
        for one in _ONE_ASSIGN.finditer(statement.group(1)):
            value = _expand(_unquote(one.group(3)), current, passes=1)
            if one.group(2):
                value = current.get(one.group(1), "$" + one.group(1)) + value
            current[one.group(1)] = value
            found.append((statement.start(1) + one.start(), one.group(1), value))
    return found


def read_script(text: str) -> ScriptFacts:
    timeline = sorted(_timeline(text))
    env: dict[str, str] = {}
    before: dict[str, str] = {}  # the shell variables as straight-line code has set them before the match
    step = 0
    for match in _ASSIGN.finditer(text):
        while step < len(timeline) and timeline[step][0] < match.start(1):
            before[timeline[step][1]] = timeline[step][2]
            step += 1
        name, value = match.group(1), _expand(_unquote(match.group(3)), before)
        if match.group(2):
            value = before.get(name, env.get(name, "$" + name)) + value
        env[name] = value
    return ScriptFacts(
        env=env,
        dropin_units=frozenset(_DROPIN.findall(text)),
        overwrites_etc_environment=_OVERWRITE_ENV.search(text) is not None,
        writes_yum_conf="/etc/yum.conf" in text,
        writes_dnf_conf="/etc/dnf/dnf.conf" in text and "proxy" in text,
        set_x=_SET_X.search(text) is not None,
        has_credentials=_holds_credentials(text),
    )


def _holds_credentials(text: str) -> bool:
    """A proxy URL with a user and password, with its scheme or without one (``user:pass@host:3128``)."""
    return _CREDENTIALS.search(text) is not None or bare_credentials(text)


def harmful_lines(text: str) -> list[tuple[int, str]]:
    """(0-based line, what is wrong) for the first line of each harm a script does on an AL2023 node, in order."""
    found: list[tuple[int, str]] = []
    creds = _holds_credentials(text)
    for index, line in enumerate(text.split("\n")):
        if _OVERWRITE_ENV.search(line):
            found.append((index, "overwrites /etc/environment, dropping what the AMI and other tools put there"))
        if "/etc/yum.conf" in line:
            found.append((index, "writes /etc/yum.conf, which dnf on AL2023 does not read (use /etc/dnf/dnf.conf)"))
        if re.search(r"/etc/systemd/system/nodeadm\.service\.d\b", line):
            found.append((index, "writes a drop-in for nodeadm.service, a unit that does not exist"))
        if creds and _SET_X.search(line):
            found.append((index, "traces commands (set -x) while the script holds proxy credentials, so they "
                                 "reach the console log"))
    first: dict[str, tuple[int, str]] = {}
    for index, why in found:
        first.setdefault(why, (index, why))
    return sorted(first.values())


@dataclass(frozen=True)
class Cut:
    """The outcome of cutting the proxy set-up out of a script.

    ``whole`` means the script does nothing else (it can be replaced as a whole);
    ``kept`` is the text without the proxy lines when they can be cut exactly;
    otherwise ``removable`` lists the 0-based lines a person should remove.
    """

    whole: bool
    kept: str | None
    removable: tuple[int, ...]
    reason: str = ""


@dataclass
class _Unit:
    """A command and, for a heredoc, its body lines: cut or kept together."""

    lines: list[int]
    text: str
    kind: str = "other"


def _units(lines: list[str]) -> list[_Unit]:
    units: list[_Unit] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        start = _HEREDOC_START.search(line) if "<<" in line else None
        if start and not line.lstrip().startswith("#"):
            marker = start.group(1)
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == marker), None)
            if end is not None:
                units.append(_Unit(list(range(i, end + 1)), "\n".join(lines[i : end + 1])))
                i = end + 1
                continue
        members = [i]
        while lines[members[-1]].rstrip().endswith("\\") and members[-1] + 1 < len(lines):
            members.append(members[-1] + 1)
        units.append(_Unit(members, "\n".join(lines[j] for j in members)))
        i = members[-1] + 1
    return units


def _prefixes_a_command(text: str) -> bool:
    """``HTTPS_PROXY=... curl ...``: assignments that only set the environment of the command after them."""
    joined = re.sub(r"\\\n", " ", text).strip()
    if joined.startswith(("export ", "declare ", "readonly ", "local ")):
        return False
    pos = 0
    while (match := _WORD_ASSIGN.match(joined, pos)) is not None and match.end() > pos:
        pos = match.end()
    rest = joined[pos:].strip()
    return pos > 0 and bool(rest) and not rest.startswith(("#", ";", "&", "|"))


def _classify(unit: _Unit) -> str:
    text = unit.text
    first = text.split("\n")[0]
    if _NEUTRAL.match(text) or first.startswith("#!"):
        return "neutral"
    if _prefixes_a_command(text):
        return "mixed" if _PROXY_WORD.search(first) else "other"
    if _chained(first):
        return "mixed" if _PROXY_WORD.search(first) or _PROXY_TARGETS.search(first) else "other"
    if _SUPPORT.match(text):
        return "support"
    dropins = set(_DROPIN.findall(text))
    if dropins and dropins <= _DROPIN_UNITS and ("proxy" in text.lower() or "EnvironmentFile" in text
                                                 or re.match(r"^\s*mkdir\s+-p\s+[\s\\/\w.@-]*$", text, re.S)):
        return "proxy"
    if _PROXY_TARGETS.search(text) and (_PROXY_WORD.search(text) or _OVERWRITE_ENV.search(text)):
        return "proxy"
    if re.match(r"^\s*(?:export\s+)?(?:HTTPS?_PROXY|https?_proxy|NO_PROXY|no_proxy)=", first):
        return "proxy"
    return "other"


def _chained(line: str) -> bool:
    """A line that runs several commands (``a && b``, ``a; b``, ``a || b``): it cannot be cut in part."""
    bare = re.sub(r"'[^']*'|\"(?:[^\"\\]|\\.)*\"", "", line)
    return bool(re.search(r"&&|\|\||;", bare.split("#", 1)[0]))


def is_shell(text: str) -> bool:
    """Whether a script runs in a shell: no ``#!`` line (the template or a shell runs it), or one naming a shell."""
    first = text.lstrip("\n").split("\n", 1)[0]
    return not first.strip().startswith("#!") or _SHELLS.match(first) is not None


def proxy_cut(text: str) -> Cut:
    """Which lines of ``text`` only set up the proxy, and whether they can be cut out exactly."""
    lines = text.split("\n")
    units = _units(lines)
    for unit in units:
        unit.kind = _classify(unit)
    if not is_shell(text):
        found = tuple(i for u in units if u.kind in ("proxy", "mixed") for i in u.lines)
        return Cut(False, None, found, "it is not a shell script, and only a shell script's lines can be told apart")
    _mark_helper_variables(units)
    others = [u for u in units if u.kind == "other"]
    proxy = [u for u in units if u.kind == "proxy"]
    mixed = [u for u in units if u.kind == "mixed"]
    if mixed:
        lines_of = tuple(i for u in [*proxy, *mixed] for i in u.lines)
        return Cut(False, None, tuple(sorted(lines_of)), "a line does proxy set-up and other work together")
    if not proxy:
        return Cut(False, None, ())
    if not others:
        return Cut(True, None, tuple(i for u in units if u.kind in {"proxy", "support"} for i in u.lines))
    uses_systemd = any("systemctl" in u.text or "/etc/systemd" in u.text for u in others)
    cut_units = [u for u in units if u.kind == "proxy" or (u.kind == "support" and not uses_systemd)]
    removed = {i for u in cut_units for i in u.lines}
    removable = tuple(sorted(removed))
    states = structure(lines)
    inside = [u for u in cut_units if not _standalone(u, lines, states)]
    if inside:
        return Cut(False, None, removable, f"line {inside[0].lines[0] + 1} is part of a larger command (inside an "
                                           "if, a loop, a function or a quoted string, or joined to the line before "
                                           "or after it by &&, || or |), which would not parse or would mean "
                                           "something else without it")
    removed_vars = {name for u in cut_units for name, _value in assignments(u.text)}
    kept_text = "\n".join(line for i, line in enumerate(lines) if i not in removed)
    used = {m.group(1) or m.group(2) for m in _SHELL_REF.finditer(kept_text)}
    if removed_vars & used:
        shown = ", ".join(sorted(removed_vars & used))
        return Cut(False, None, removable, f"its other commands use {shown}, which the proxy lines set")
    facts = read_script(kept_text)
    if facts.overwrites_etc_environment or facts.dropin_units & _DROPIN_UNITS or facts.writes_yum_conf:
        return Cut(False, None, removable, "proxy set-up is mixed into lines that do other work")
    return Cut(False, kept_text, removable)


@dataclass(frozen=True)
class LineState:
    """Where a line of a shell script stands: what a cut of whole lines must respect.

    ``depth`` counts the compound commands, groups and parentheses open where
    the line starts (``if``/``while``/``for``/``case``/``{``/``(``/``$(``);
    ``quoted`` is true when it starts inside a quoted string or a heredoc's
    body; ``continues`` when its command goes on in the next line (a trailing
    ``\\``, ``&&``, ``||`` or ``|``, or a quote left open).
    """

    depth: int
    quoted: bool
    continues: bool


_OPENERS = {"if", "while", "until", "for", "select", "case", "{"}
_CLOSERS = {"fi", "done", "esac", "}"}
_COMMAND_AGAIN = {"then", "do", "else", "elif", "!", "time"}
_OPERATORS = ("&&", "||", ";;", "<<-", "<<", "$(", ";", "|", "&", "(", ")")


def structure(lines: list[str]) -> list[LineState]:
    """Each line's place in the script's nesting, from a small lexer of the shell's syntax.

    Not a shell parser: it knows quotes, escapes, comments, heredocs, the
    compound-command keywords at the start of a command, and the operators
    that join commands, which is what tells a whole top-level command from a
    piece of a larger one.
    """
    states: list[LineState] = []
    stack: list[str] = []
    quote: str | None = None
    heredocs: list[tuple[str, bool]] = []
    body: tuple[str, bool] | None = None
    for line in lines:
        if body is not None:
            ends = (line.lstrip("\t") if body[1] else line) == body[0]
            states.append(LineState(len(stack), True, not ends))
            if ends:
                body = heredocs.pop(0) if heredocs else None
            continue
        depth, quoted = len(stack), quote is not None
        command = not quoted
        last = ""
        i, word = 0, ""

        def finish(text: str, at_command: bool) -> bool:
            """Close a word; whether the next word starts a command."""
            if not text:
                return at_command
            top = stack[-1] if stack else ""
            if top == "case":
                if text == "esac":
                    stack.pop()
                return False
            if at_command and text in _OPENERS:
                stack.append(text)
                return True
            if at_command and text in _CLOSERS:
                if stack and stack[-1] not in ("(", "$("):
                    stack.pop()
                return False
            return at_command and text in _COMMAND_AGAIN
        while i < len(line):
            char = line[i]
            if quote is not None:
                if char == "\\" and quote != "'":
                    i += 2
                    continue
                if char == quote:
                    quote = None
                i += 1
                continue
            if char in "'\"`":
                quote = char
                word += char
                i += 1
                continue
            if char == "\\":
                if i + 1 == len(line):
                    last = "\\"
                    break
                word += line[i:i + 2]
                i += 2
                continue
            if char == "#" and not word:
                break
            if char == "$" and line.startswith("${", i):
                end = line.find("}", i)
                word += line[i:end + 1] if end >= 0 else line[i:]
                i = end + 1 if end >= 0 else len(line)
                continue
            operator = next((op for op in _OPERATORS if line.startswith(op, i)), None)
            if operator is not None and not (operator == "&" and line.startswith("&>", i)):
                named = word
                command = finish(word, command)
                word = ""
                last = operator
                i += len(operator)
                if operator in ("<<", "<<-"):
                    match = re.match(r"\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1", line[i:])
                    if match:
                        heredocs.append((match.group(2), operator == "<<-"))
                        i += match.end()
                    continue
                if operator == "$(" or (operator == "(" and command):
                    stack.append(operator)
                    command = True
                elif operator == "(":  # a function's name(), not a subshell
                    if line.startswith(")", i):
                        i += 1
                    command = bool(named)
                elif operator == ")":
                    if stack and stack[-1] in ("(", "$("):
                        stack.pop()
                    command = False
                else:
                    command = True
                continue
            if char in " \t":
                command = finish(word, command)
                if word:
                    last = word
                word = ""
                i += 1
                continue
            word += char
            i += 1
        command = finish(word, command)
        if word:
            last = word
        continues = quote is not None or last in ("\\", "&&", "||", "|")
        states.append(LineState(depth, quoted, continues))
        if heredocs:
            body = heredocs.pop(0)
    return states


def _standalone(unit: _Unit, lines: list[str], states: list[LineState]) -> bool:
    """Whether a unit is a whole command at the top level: cutting its lines leaves the script's syntax, and the
    meaning of every other line, as it was."""
    first, end = unit.lines[0], unit.lines[-1]
    if states[first].depth or states[first].quoted or states[end].continues:
        return False
    if end + 1 < len(states) and states[end + 1].depth:
        return False  # the unit opened something it does not close
    before = next((i for i in range(first - 1, -1, -1)
                   if lines[i].strip() and not lines[i].lstrip().startswith("#")), None)
    return before is None or not states[before].continues


def _mark_helper_variables(units: list[_Unit]) -> None:
    """Assignments used only by proxy lines (the proxy URL, an IMDS token, the VPC CIDR) belong to the proxy."""
    changed = True
    while changed:
        changed = False
        for unit in units:
            if unit.kind != "other":
                continue
            match = _SHELL_ASSIGN.match(unit.text)
            if not match or "\n" in unit.text.strip():
                continue
            name = match.group(1)
            users = [u for u in units if u is not unit and re.search(r"\$\{?" + re.escape(name) + r"\b", u.text)]
            if users and all(u.kind == "proxy" for u in users):
                unit.kind = "proxy"
                changed = True
