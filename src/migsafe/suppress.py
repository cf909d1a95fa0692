"""Inline suppressions: ``# migsafe: ignore[rule]`` and ``# migsafe: ignore-file[rule]``.

A line comment applies to its own line and to the line below it, so it can sit above a long
call. Rules may be named by name or code (codes in any case), several separated by commas; an
empty bracket list (or none) means every rule. A name that is no rule is reported with its
line and the closest rule, so a typo does not silently suppress nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from migsafe.findings import Diagnostic, Finding
from migsafe.rules import closest_rule, find_rule

_DIRECTIVE = re.compile(r"#\s*migsafe:\s*(ignore-file|ignore)\b(?:\[([^\]]*)\])?")
ALL = "*"


@dataclass
class Suppressions:
    by_line: dict[int, set[str]] = field(default_factory=dict)
    whole_file: set[str] = field(default_factory=set)
    unknown: list[tuple[int, str]] = field(default_factory=list)  # (line, name as written)

    @classmethod
    def parse(cls, source: str) -> Suppressions:
        result = cls()
        for number, line in enumerate(source.splitlines(), start=1):
            if "migsafe:" not in line:
                continue
            for kind, names in _DIRECTIVE.findall(line):
                rules = result._rule_names(number, names) if names.strip() else {ALL}
                if kind == "ignore-file":
                    result.whole_file |= rules
                else:
                    for target in (number, number + 1):
                        result.by_line.setdefault(target, set()).update(rules)
        return result

    def _rule_names(self, line: int, names: str) -> set[str]:
        found = set()
        for name in filter(None, (n.strip() for n in names.split(","))):
            rule = find_rule(name)
            if rule is None:
                self.unknown.append((line, name))
            else:
                found.add(rule.name)
        return found

    def hides(self, finding: Finding) -> bool:
        keys = {finding.rule, ALL}
        return bool(keys & self.whole_file or keys & self.by_line.get(finding.line, set()))

    def unknown_rules(self, path: Path) -> list[Diagnostic]:
        """A warning for every suppressed name that is no rule."""
        return [
            Diagnostic(
                path,
                f"# migsafe: ignore names no rule {name!r}{closest_rule(name)}",
                fatal=False,
                line=line,
            )
            for line, name in self.unknown
        ]
