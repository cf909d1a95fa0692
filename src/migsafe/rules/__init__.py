"""The rule catalogue: every module in this package is one rule (see ``migsafe.rule``)."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from types import ModuleType

from migsafe.rule import Rule


@cache
def rule_modules() -> tuple[ModuleType, ...]:
    """All rule modules, ordered by rule code."""
    modules = [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in pkgutil.iter_modules(__path__)
        if not info.name.startswith("_")
    ]
    return tuple(sorted(modules, key=lambda m: m.RULE.code))


def all_rules() -> tuple[Rule, ...]:
    return tuple(module.RULE for module in rule_modules())


def find_rule(key: str) -> Rule | None:
    """A rule by code (``MS004``) or name (``create-index-not-concurrently``)."""
    key = key.strip().lower()
    for rule in all_rules():
        if key in (rule.code.lower(), rule.name):
            return rule
    return None
