"""The rule catalogue: every module in this package is one rule about a revision, every module
in ``history/`` one rule about the revision graph (see ``migsafe.rule``)."""

from __future__ import annotations

import difflib
import importlib
import pkgutil
import re
from collections.abc import Iterable
from dataclasses import replace
from functools import cache
from types import ModuleType

from migsafe.config import Settings
from migsafe.errors import MigsafeError
from migsafe.findings import Finding, Severity
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


@cache
def rule_keys() -> frozenset[str]:
    """Every rule's name and code, lowercase: what a suppression may name."""
    return frozenset(key for rule in all_rules() for key in (rule.name, rule.code.lower()))


def closest_rule(name: str) -> str:
    """``" (did you mean 'x'?)"`` for the rule name or code nearest to ``name``, or ``""``."""
    match = difflib.get_close_matches(name.strip().lower(), sorted(rule_keys()), n=1, cutoff=0.5)
    if not match:
        return ""
    found = match[0]
    shown = found.upper() if re.fullmatch(r"ms\d+", found) else found  # MS069, as codes are
    return f" (did you mean {shown!r}?)"


class UnknownRule(MigsafeError):
    """A rule name or code that names no rule; the message says where and what is close."""


def rules_matching(key: str) -> list[Rule]:
    """The rules ``key`` names: a name or a code (any case), a code prefix (``MS01``), or
    ``ALL``."""
    key = key.strip().lower()
    if key == "all":
        return list(all_rules())
    exact = find_rule(key)
    if exact is not None:
        return [exact]
    return [r for r in all_rules() if key.startswith("ms") and r.code.lower().startswith(key)]


def resolve_rules(names: Iterable[str], where: str) -> frozenset[str]:
    """Rule names for ``names`` (names, codes, code prefixes or ``ALL``, any case,
    comma-separated lists allowed)."""
    found = set()
    for entry in names:
        for name in filter(None, (n.strip() for n in entry.split(","))):
            matched = rules_matching(name)
            if not matched:
                raise UnknownRule(f"{where}: no rule named {name!r}{closest_rule(name)}; "
                                  "`migsafe rules` lists them")  # fmt: skip
            found.update(rule.name for rule in matched)
    return frozenset(found)


def enabled_rules(
    select: Iterable[str] | None, extend_select: Iterable[str], ignore: Iterable[str]
) -> frozenset[str]:
    """The names of the rules that run: those ``select`` names (default: every rule that
    is not opt-in), those ``extend_select`` adds, less those ``ignore`` names."""
    if select is None:
        chosen = {rule.name for rule in all_rules() if not rule.opt_in}
    else:
        chosen = set(resolve_rules(select, "select"))
        if not chosen:  # ``--select "$RULES"`` with the variable unset: no rule would run
            raise UnknownRule(
                "select names no rule, so nothing would be checked: leave it out for the "
                "default rules, or name some (--select MS004,rename-column)"
            )
    chosen |= resolve_rules(extend_select, "extend-select")
    return frozenset(chosen - resolve_rules(ignore, "ignore"))


def in_effect(settings: Settings) -> Settings:
    """``settings`` with the rule selection resolved: ``ignore`` holds the name of every rule
    that does not run, ``severity`` rule names. Raises UnknownRule for a name that is no
    rule."""
    enabled = enabled_rules(settings.select, settings.extend_select, settings.ignore)
    severity = tuple(
        (name, level)
        for key, level in settings.severity
        for name in resolve_rules([key], "severity")
    )
    ignored = frozenset(rule.name for rule in all_rules()) - enabled
    return replace(settings, ignore=ignored, severity=severity)


def history_findings(
    history: History,
    ignore: frozenset[str] = frozenset(),
    severity: tuple[tuple[str, Severity], ...] = (),
) -> list[Finding]:
    """What the rules about the revision graph (``check_history``) find, after the inline
    suppressions of the files they name; ``ignore`` holds rule names, ``severity`` the
    project's levels for them (as ``in_effect`` resolves them)."""
    from migsafe.suppress import Suppressions

    suppressions = {
        script.path: Suppressions.parse(script.source, script.tree) for script in history.heads
    }
    levels = dict(severity)
    return [
        replace(finding, severity=levels.get(finding.rule, finding.severity))
        for module in history_rule_modules()
        if module.RULE.name not in ignore
        for finding in module.check_history(history)
        if not suppressions.get(finding.path, Suppressions()).hides(finding)
    ]
