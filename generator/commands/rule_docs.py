"""``eksproxy-gen rules`` and ``eksproxy-gen rule ID``: the rule table, and one rule's documentation."""

from __future__ import annotations

import json
import re
from importlib import resources

from ..errors import UsageError
from ..policy.catalog import RULES, RULES_BY_ID, Rule


def as_dict(rule: Rule) -> dict[str, object]:
    return {"id": rule.id, "slug": rule.slug, "severity": rule.severity.value, "title": rule.title,
            "fixable": rule.fixable, "checkov_id": rule.checkov_id, "help_uri": rule.help_uri}


def list_rules(output_format: str) -> int:
    if output_format == "json":
        print(json.dumps([as_dict(rule) for rule in RULES], indent=2))
        return 0
    width = max(len(r.slug) for r in RULES)
    for rule in RULES:
        fix = "fix" if rule.fixable else "   "
        print(f"{rule.id}  {rule.severity.value:<7}  {fix}  {rule.slug:<{width}}  {rule.title}")
    return 0


def show_rule(rule_id: str) -> int:
    wanted = rule_id.strip()
    rule = RULES_BY_ID.get(wanted.upper()) or next((r for r in RULES_BY_ID.values() if r.slug == wanted.lower()),
                                                   None)
    if rule is None:
        raise UsageError(f"no rule {rule_id}; `eksproxy-gen rules` lists them")
    print(documentation(rule))
    return 0


def documentation(rule: Rule) -> str:
    """The rule's section of RULES.md, as shipped with the package."""
    text = resources.files("eksproxy_gen.rules").joinpath("RULES.md").read_text(encoding="utf-8")
    match = re.search(rf"^## {rule.id}\b.*?(?=^## |\Z)", text, re.S | re.M)
    body = match.group(0).strip() if match else f"## {rule.id} {rule.slug}\n\n{rule.title}."
    return f"{body}\n\nOnline: {rule.help_uri}"
