"""Inline suppressions: ``# migsafe: ignore[rule]`` and ``# migsafe: ignore-file[rule]``.

A line comment applies to its own line and to the line below it, so it can sit above a long
call. Rules may be named by name or code (in any case), several separated by commas; an empty
bracket list (or none) means every rule. The names are kept as written: the caller asks
which of them name no rule (``unknown``), so that a typo does not silently suppress nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from migsafe.findings import Finding

_DIRECTIVE = re.compile(r"#\s*migsafe:\s*(ignore-file|ignore)\b(?:\[([^\]]*)\])?")
ALL = "*"


@dataclass
class Suppressions:
    by_line: dict[int, set[str]] = field(default_factory=dict)  # lowercased names and codes
    whole_file: set[str] = field(default_factory=set)
    named: list[tuple[int, str]] = field(default_factory=list)  # (line, name as written)

    @classmethod
    def parse(cls, source: str) -> Suppressions:
        result = cls()
        for number, line in enumerate(source.splitlines(), start=1):
            if "migsafe:" not in line:
                continue
            for kind, names in _DIRECTIVE.findall(line):
                written = [n.strip() for n in names.split(",") if n.strip()]
                result.named += [(number, name) for name in written]
                rules = {name.lower() for name in written} if names.strip() else {ALL}
                if kind == "ignore-file":
                    result.whole_file |= rules
                else:
                    for target in (number, number + 1):
                        result.by_line.setdefault(target, set()).update(rules)
        return result

    def hides(self, finding: Finding) -> bool:
        keys = {finding.rule, finding.code.lower(), ALL}
        return bool(keys & self.whole_file or keys & self.by_line.get(finding.line, set()))

    def unknown(self, known: Iterable[str]) -> Iterator[tuple[int, str]]:
        """``(line, name)`` of every suppressed name that is not in ``known`` (lowercase
        rule names and codes)."""
        known = set(known)
        return ((line, name) for line, name in self.named if name.lower() not in known)
