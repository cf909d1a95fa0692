"""Rule documentation as text: `migsafe rules`, `migsafe explain` and docs/rules.md share it."""

from __future__ import annotations

import textwrap

from migsafe.rule import Rule
from migsafe.rules import all_rules, find_rule


def rule_table() -> str:
    rules = all_rules()
    width = max(len(r.name) for r in rules)
    return "\n".join(f"{r.code}  {r.name:<{width}}  {r.severity!s:<7}  {r.summary}" for r in rules)


def explain_rule(key: str) -> str | None:
    rule = find_rule(key)
    return None if rule is None else rule_text(rule)


def rule_text(rule: Rule) -> str:
    parts = [
        f"{rule.code} {rule.name} ({rule.severity})",
        "",
        rule.summary,
        "",
        "Why is this bad?",
        textwrap.fill(rule.why, 88),
    ]
    if rule.bad:
        parts += ["", "Example:", "", textwrap.indent(rule.bad[0].rstrip(), "    ")]
    if rule.good:
        parts += ["", "Use instead:", "", textwrap.indent(rule.good[0].rstrip(), "    ")]
    return "\n".join(parts)
