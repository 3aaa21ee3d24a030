"""``fix`` for Karpenter node classes and controllers, after the node groups of the same folder.

Plans are made on the folder as the node-group fixes left it, and judged the
same way: the folder is analysed again with every edit in place; a node class
or controller is accepted only when it comes out free of the errors it was
fixed for and nothing else in the folder changes its findings. When the set
fails, plans are tried one by one, so one bad plan costs only itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..edits import CannotEdit, Edit, splice
from ..filters import RuleFilter
from ..plan import Plan, components
from ..plan_karpenter import plan_controller, plan_nodeclass
from ..policy.karpenter import nodeclass_family
from ..policy.rules import Severity
from .accept import Trial, accept_in_order
from .analysis import ControllerResult, FolderResult, NodeClassResult, analyse
from .verify import comparable
from .visible import Visible, visible

Judged = NodeClassResult | ControllerResult


@dataclass(frozen=True)
class KarpenterFix:
    """What happened to one node class or controller: its plan (None when refused) and why it was refused."""

    target: Judged
    plan: Plan | None
    why: str = ""


@dataclass(frozen=True)
class KarpenterOutcome:
    texts: dict[Path, str]
    after: FolderResult
    seen: Visible
    fixes: tuple[KarpenterFix, ...]


def fix_karpenter(texts: dict[Path, str], after: FolderResult, seen: Visible, rule_filter: RuleFilter,
                  reported: Callable[[Judged], bool]) -> KarpenterOutcome:
    """Add the Karpenter edits to the node groups' ``texts`` (``after`` is the folder with those in place).

    ``seen`` holds only findings that are selected and not silenced, so a target with none fixable is left alone.
    """
    targets = [t for t in after.karpenter if reported(t) and any(f.fixable for f in seen.of(t))]
    if not targets:
        return KarpenterOutcome(texts, after, seen, ())
    planned: list[tuple[Judged, Plan]] = []
    fixes: list[KarpenterFix] = []
    for target in targets:
        try:
            planned.append((target, _plan(target, seen, rule_filter, after)))
        except CannotEdit as exc:
            fixes.append(KarpenterFix(target, None, str(exc)))
    accepted, refused, (new_texts, final, final_seen) = accept_in_order(
        planned, lambda trial: _judge(after, seen, texts, trial, rule_filter))
    fixes += [KarpenterFix(target, None, why) for (target, _plan), why in refused]
    return KarpenterOutcome(new_texts, final, final_seen, (*fixes, *(KarpenterFix(t, p) for t, p in accepted)))


def _plan(target: Judged, seen: Visible, rule_filter: RuleFilter, folder: FolderResult) -> Plan:
    settings = folder.input.settings
    rules = {f.rule for f in seen.of(target) if f.fixable}
    if isinstance(target, NodeClassResult):
        family, _ = nodeclass_family(target.nodeclass.facts)
        wanted = components(family or "", rules, lambda rule: rule_filter.keeps(rule)
                            and not seen.silenced(target, rule))
        return plan_nodeclass(target.nodeclass, settings, wanted)
    return plan_controller(target.controller, settings)


def _judge(after: FolderResult, seen: Visible, texts: dict[Path, str], planned: list[tuple[Judged, Plan]],
           rule_filter: RuleFilter) -> Trial | str:
    """The folder with these plans applied, or why the last of them is refused."""
    if not planned:
        return texts, after, seen
    by_file: dict[Path, list[Edit]] = {}
    for _target, plan in planned:
        for file_edit in plan.edits:
            by_file.setdefault(file_edit.path, []).append(file_edit.edit)
    new_texts = dict(texts)
    try:
        for path, edits in by_file.items():
            new_texts[path] = splice(after.text(path), edits)
    except CannotEdit as exc:
        return f"its edits overlap another fix ({exc})"
    final = analyse(after.input.with_texts(new_texts), reuse=after.loaded)
    final_seen = visible(final, rule_filter)
    for path in by_file:
        if path in final.errors:
            return f"the rewritten {final.errors[path].file} would not parse ({final.errors[path].message})"
    fixing = {target.key: plan for target, plan in planned}
    now = {t.key: t for t in final.karpenter}
    for target in after.karpenter:
        current = now.get(target.key)
        if current is None:
            return "after the rewrite it could no longer be found"
        fixed_by = fixing.get(target.key)
        if fixed_by is not None:
            had = {f.rule for f in seen.of(target)}
            left = [f for f in final_seen.of(current) if f.severity is Severity.ERROR and f.rule not in fixed_by.leaves
                    and (f.fixable or f.rule not in had)]
            if left:
                return f"after the rewrite it would still be flagged ({left[0].rule}: {left[0].message})"
        elif comparable(seen.of(target)) != comparable(final_seen.of(current)):
            return "the edit would also change another node class or controller"
    groups_now = {g.key: g for g in final.groups}
    for group in after.groups:
        if comparable(seen.of(group)) != comparable(final_seen.of(groups_now.get(group.key))):
            return "the edit would also change a node group"
    return new_texts, final, final_seen
