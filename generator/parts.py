"""The one builder of generated user-data parts, for every target that takes parts (node groups, node classes).

Given a target's current parts and the pieces it needs, it decides what becomes
of each part (kept byte for byte, replaced, cut, or left for the user), where
the generated parts go, which NO_PROXY entries they carry over, and renders
them. Where the parts are written (a Terraform list, a MIME document in YAML)
is the planner's business; what they are is decided here, once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import templates
from .edits import CannotEdit
from .policy import nodeconfig
from .policy.bottlerocket import read_network
from .policy.catalog import Piece
from .policy.expected import Carry, carry_over
from .policy.facts import ModuleFacts, Part
from .policy.scripts import PROXY_VARS, proxy_cut, read_script
from .policy.settings import Settings
from .policy.values import line_runs, split_no_proxy

_PROXY_KEYS = frozenset(PROXY_VARS)
@dataclass
class Layout:
    """What becomes of the current parts: which go, which are cut, where the generated ones go."""

    remove: set[int] = field(default_factory=set)
    cuts: dict[int, str] = field(default_factory=dict)
    insert_at: int = 0
    units: list[str] = field(default_factory=list)
    carried: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    keep_dnf: bool = False


@dataclass(frozen=True)
class PartsPlan:
    """The layout of a target's parts and the generated parts that go in at ``layout.insert_at``."""

    layout: Layout
    generated: tuple[templates.RenderedPart, ...]
    notes: tuple[str, ...]

    @property
    def left_message(self) -> str:
        return "; ".join(self.layout.left)


def plan_parts(parts: tuple[Part, ...], wanted: frozenset[Piece], cluster: ModuleFacts,
               settings: Settings) -> PartsPlan:
    """The parts a target gets for the ``wanted`` pieces: the layout of its own parts and the generated ones."""
    notes: list[str] = []
    layout = plan_layout(parts, wanted, cluster, settings, notes)
    generated: list[templates.RenderedPart] = []
    if Piece.NODECONFIG in wanted or any(p.generated and p.is_nodeconfig for p in parts):
        generated.append(templates.nodeconfig_part(cluster, settings, tuple(layout.carried), tuple(layout.units)))
    if Piece.DNF in wanted or layout.keep_dnf:
        generated.append(templates.dnf_part(settings))
    return PartsPlan(layout, tuple(generated), tuple(notes))


def plan_layout(parts: tuple[Part, ...], wanted: frozenset[Piece], module: ModuleFacts, settings: Settings,
                notes: list[str]) -> Layout:
    """What becomes of each current part when the ``wanted`` pieces are generated; ``notes`` gets what to tell."""
    layout = Layout()
    touch_proxy = Piece.NODECONFIG in wanted
    replaced_at: list[int] = []
    after: int = 0
    old_no_proxy: list[str] = []
    for index, part in enumerate(parts):
        text = part.text or ""
        if part.generated:
            if part.is_nodeconfig or touch_proxy or Piece.DNF in wanted:
                layout.remove.add(index)
                replaced_at.append(index)
                layout.keep_dnf |= part.is_shell
            continue
        if not touch_proxy:
            continue
        if part.is_nodeconfig:
            docs = nodeconfig.read(text)
            units = nodeconfig.environment(docs)
            if nodeconfig.holds_only(docs, _PROXY_KEYS):
                layout.remove.add(index)
                replaced_at.append(index)
                old_no_proxy += _no_proxy_of(units)
            elif any(var in values for values in units.values() for var in PROXY_VARS):
                # kept, but the generated part comes after it and wins every key it sets: carry its entries
                after = index + 1
                old_no_proxy += _no_proxy_of(units)
                layout.units += [u for u, values in units.items()
                                 if u != "default" and u not in layout.units and any(v in values for v in PROXY_VARS)]
        elif part.is_shell or part.content_type is None:
            facts = read_script(text)
            # every entry a script lists is the user's, whether the script is replaced, cut or kept whole
            old_no_proxy += [e for var in ("NO_PROXY", "no_proxy") for e in split_no_proxy(facts.env.get(var, ""))]
            if not (facts.sets_proxy or facts.overwrites_etc_environment or facts.dropin_units):
                continue
            cut = proxy_cut(text)
            if cut.whole:
                layout.remove.add(index)
                replaced_at.append(index)
            elif cut.kept is not None:
                layout.cuts[index] = cut.kept
                notes.append(f"proxy lines cut from a shell part ({_lines(part, cut.removable)}); "
                             "its other commands are kept")
            elif cut.removable:
                why = f" because {cut.reason}" if cut.reason else ""
                layout.left.append(f"a shell part also does other work and its proxy lines cannot be cut out "
                                   f"exactly{why}: {_removal(part, text, cut.removable)}")
    layout.insert_at = max(min(replaced_at) if replaced_at else 0, after)
    if touch_proxy:
        layout.carried = list(no_proxy_union(old_no_proxy, module, settings, notes))
    return layout


def _no_proxy_of(env: dict[str, dict[str, str]]) -> list[str]:
    found: list[str] = []
    for values in env.values():
        found += split_no_proxy(values.get("NO_PROXY", values.get("no_proxy", "")))
    return found


def _lines(part: Part, indexes: tuple[int, ...]) -> str:
    """Lines of a part as ``file lines N-M`` (``file line N`` for one), or as line numbers inside the part when
    it has no file position."""
    word = "line" if len(indexes) == 1 else "lines"
    if part.origin is None:
        return f"{word} {line_runs(indexes)} of the part"
    return f"{part.origin.file} {word} {line_runs(indexes, part.origin.line)}"


_TOKEN = re.compile(r"""("(?:[^"\\]|\\.)*"|'[^']*')|(&&|\|\||;|\|)|([^"'&|;]+|[&|])""")
_ASSIGNMENTS = re.compile(
    r"""^(?:(?:export|declare\s+-x)\s+)?(?:[A-Za-z_][A-Za-z0-9_]*=(?:"[^"]*"|'[^']*'|\S*)(?:\s+|$))+""")


def _removal(part: Part, text: str, removable: tuple[int, ...]) -> str:
    """What to remove by hand, never a whole line that also does other work: such a line is named with the
    command that must stay (``export HTTPS_PROXY=... && dnf install -y jq``)."""
    lines = text.split("\n")
    others = {index: work for index in removable if (work := _other_work(lines[index]))}
    whole = tuple(index for index in removable if index not in others)
    mixed = [f"the proxy set-up from {_lines(part, (index,))}, which also runs `{work}` (keep that)"
             for index, work in others.items()]
    if not whole:
        return "remove by hand " + "; and ".join(mixed)
    return "; and ".join([f"remove {_lines(part, whole)} by hand", *mixed])


def _other_work(line: str) -> str:
    """The commands of a line that are not proxy set-up, or "" when the line is one command (``proxy_cut`` told
    it is proxy set-up).

    A line is split at ``&&``, ``||``, ``;`` and ``|`` outside quotes: a command
    that only assigns variables, or names the proxy, is proxy set-up; so are the
    assignments before a command that run it with them set (``HTTPS_PROXY=...
    curl ...``), but not the command itself.
    """
    commands: list[tuple[str, str]] = [("", "")]  # (the separator before it, the command)
    for quoted, separator, plain in _TOKEN.findall(line.split(" #", 1)[0]):
        if separator:
            commands.append((separator, ""))
        else:
            commands[-1] = (commands[-1][0], commands[-1][1] + (quoted or plain))
    work: list[tuple[str, str]] = []
    for separator, command in ((sep, c.strip()) for sep, c in commands):
        assigned = _ASSIGNMENTS.match(command)
        rest = command[assigned.end():].strip() if assigned else command
        if rest and (assigned or not re.search(r"proxy", command, re.I)):
            work.append((separator, rest))
    if len(commands) == 1 and (not work or work[0][1] == commands[0][1].strip()):
        return ""
    return "".join(f" {separator} {rest}" if i else rest for i, (separator, rest) in enumerate(work))


def no_proxy_union(current: list[str], cluster: ModuleFacts, settings: Settings, notes: list[str]) -> tuple[str, ...]:
    """The entries, beyond the required ones, that generated NO_PROXY keeps from the list it replaces.

    The one rule for every place a NO_PROXY list lives (NodeConfig, the AL2
    script, Bottlerocket's ``no-proxy``, the Karpenter controller's
    ``controller.env``): the generated list is the union of
    the required entries and the user's, never a replacement; only a blanket
    ``.amazonaws.com`` and a reference to the module itself are dropped, and
    ``notes`` names what is kept and what is dropped.
    """
    return carried(settings, notes, carry_over(list(dict.fromkeys(current)), cluster, settings))


def al2_piece(current_no_proxy: list[str], cluster: ModuleFacts, settings: Settings, notes: list[str]) -> str:
    """The marked AL2 block, its NO_PROXY the union of the required entries and the script's own."""
    return templates.al2_block(cluster, settings, no_proxy_union(current_no_proxy, cluster, settings, notes))


def network_piece(current_toml: str | None, cluster: ModuleFacts, settings: Settings, notes: list[str]) -> str:
    """The Bottlerocket ``[settings.network]`` keys, ``no-proxy`` the union of the required entries and the TOML's."""
    network = read_network(current_toml)
    if network.computed:
        key, expression = network.computed[0]
        raise CannotEdit(f"[settings.network] {key} is {expression}, which only Terraform can compute; a rewrite "
                         "would drop what it renders to: add the proxy by hand")
    current = network.no_proxy or ()
    return templates.bottlerocket_keys(cluster, settings, no_proxy_union(list(current), cluster, settings, notes))


def carried(settings: Settings, notes: list[str], carry: Carry) -> tuple[str, ...]:
    """NO_PROXY entries of the replaced configuration that go on in the generated one; refuse to lose any."""
    if carry.unknowable and not settings.vpc_cidrs:
        raise CannotEdit(f"the proxy set-up being replaced fills NO_PROXY entries at boot "
                         f"({', '.join(carry.unknowable[:3])}), which generated settings cannot; set vpc_cidrs "
                         "(and no_proxy) in .eksproxy-gen.toml to say what they are, then run fix again")
    if carry.unknowable:
        notes.append(f"NO_PROXY entries filled at boot ({', '.join(carry.unknowable[:3])}) are replaced by the "
                     "configured vpc_cidrs")
    if carry.dropped:
        notes.append(f"NO_PROXY entries no longer written: {', '.join(carry.dropped)} (add them to no_proxy in "
                     ".eksproxy-gen.toml to keep them)")
    if carry.kept:
        notes.append(f"NO_PROXY entries kept from the replaced set-up: {', '.join(carry.kept)}")
    return carry.kept
