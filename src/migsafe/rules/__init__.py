"""The rule catalogue: every module in this package is one rule about a revision, every module
in ``history/`` one rule about the revision graph (see ``migsafe.rule``)."""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from collections.abc import Iterable
from functools import cache
from types import ModuleType

from migsafe.errors import MigsafeError
from migsafe.findings import Finding
from migsafe.project import History
from migsafe.rule import Rule


@cache
def rule_modules() -> tuple[ModuleType, ...]:
    """All rule modules, ordered by rule code."""
    revision_rules = _modules_in(__name__, __path__)
    return tuple(sorted((*revision_rules, *history_rule_modules()), key=lambda m: m.RULE.code))


@cache
def history_rule_modules() -> tuple[ModuleType, ...]:
    """The rules about the graph alone: cheap to load (no SQL parser)."""
    from migsafe.rules import history

    return _modules_in(history.__name__, history.__path__)


def _modules_in(package: str, path: Iterable[str]) -> tuple[ModuleType, ...]:
    return tuple(
        importlib.import_module(f"{package}.{info.name}")
        for info in pkgutil.iter_modules(path)
        if not info.name.startswith("_") and not info.ispkg
    )


def all_rules() -> tuple[Rule, ...]:
    return tuple(module.RULE for module in rule_modules())


def find_rule(key: str) -> Rule | None:
    """A rule by code (``MS004``) or name (``create-index-not-concurrently``)."""
    key = key.strip().lower()
    for rule in all_rules():
        if key in (rule.code.lower(), rule.name):
            return rule
    return None


def rule_keys() -> set[str]:
    """Every rule's name and code, lowercase: what a suppression may name."""
    return {key for rule in all_rules() for key in (rule.name, rule.code.lower())}


def closest_rule(name: str) -> str:
    """``" (did you mean 'x'?)"`` for the rule name or code nearest to ``name``, or ``""``."""
    match = difflib.get_close_matches(name.strip().lower(), sorted(rule_keys()), n=1, cutoff=0.5)
    return f" (did you mean {match[0]!r}?)" if match else ""


class UnknownRule(MigsafeError):
    """A rule name or code that names no rule; the message says where and what is close."""


def resolve_rules(names: Iterable[str], where: str) -> frozenset[str]:
    """Rule names for ``names`` (names or codes, any case, comma-separated lists allowed)."""
    found = set()
    for entry in names:
        for name in filter(None, (n.strip() for n in entry.split(","))):
            rule = find_rule(name)
            if rule is None:
                raise UnknownRule(f"{where}: no rule named {name!r}{closest_rule(name)}; "
                                  "`migsafe rules` lists them")  # fmt: skip
            found.add(rule.name)
    return frozenset(found)


def history_findings(history: History, ignore: frozenset[str] = frozenset()) -> list[Finding]:
    """What the rules about the revision graph (``check_history``) find, after the inline
    suppressions of the files they name; ``ignore`` holds rule names."""
    from migsafe.suppress import Suppressions

    suppressions = {script.path: Suppressions.parse(script.source) for script in history.heads}
    return [
        finding
        for module in history_rule_modules()
        if module.RULE.name not in ignore
        for finding in module.check_history(history)
        if not suppressions.get(finding.path, Suppressions()).hides(finding)
    ]
