"""Which generated pieces resolve a target's findings: the link between the rules and what ``fix`` writes."""

from __future__ import annotations

from collections.abc import Callable

from .catalog import PACKAGE_MANAGER, PROXY_MISSING, RULES_BY_ID, Piece
from .family import Family

_FAMILY_PIECE = {Family.AL2: Piece.AL2_BLOCK, Family.BOTTLEROCKET: Piece.NETWORK}
_PARTS = frozenset({Piece.NODECONFIG, Piece.DNF})


def pieces_for(family: Family | None, rules: set[str], wants: Callable[[str], bool]) -> frozenset[Piece]:
    """The generated pieces a target of ``family`` needs for its flagged ``rules``; ``wants`` says which rules
    may be fixed.

    AL2 and Bottlerocket carry the whole set-up in one piece; on AL2023 each
    rule names the piece that resolves it (``Rule.fixed_by``), and a target
    with no proxy at all gets the dnf part too unless that rule is not wanted.
    """
    if family in _FAMILY_PIECE:
        return frozenset({_FAMILY_PIECE[family]})
    found = {piece for rule in rules if (piece := RULES_BY_ID[rule].fixed_by) is not None}
    if PROXY_MISSING.id in rules and wants(PACKAGE_MANAGER.id):
        found.add(Piece.DNF)
    return frozenset(found & _PARTS)
