"""Inline suppressions: ``# migsafe: ignore[rule]`` and ``# migsafe: ignore-file[rule]``.

A line comment applies to its own line and to the line below it, so it can sit above a long
call. Rules may be named by name or code; an empty bracket list (or none) means every rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from migsafe.findings import Finding

_DIRECTIVE = re.compile(r"#\s*migsafe:\s*(ignore-file|ignore)\b(?:\[([^\]]*)\])?")
ALL = "*"


@dataclass
class Suppressions:
    by_line: dict[int, set[str]] = field(default_factory=dict)
    whole_file: set[str] = field(default_factory=set)

    @classmethod
    def parse(cls, source: str) -> Suppressions:
        result = cls()
        for number, line in enumerate(source.splitlines(), start=1):
            if "migsafe:" not in line:
                continue
            for kind, names in _DIRECTIVE.findall(line):
                rules = {n.strip() for n in names.split(",") if n.strip()} or {ALL}
                if kind == "ignore-file":
                    result.whole_file |= rules
                else:
                    for target in (number, number + 1):
                        result.by_line.setdefault(target, set()).update(rules)
        return result

    def hides(self, finding: Finding) -> bool:
        keys = {finding.rule, finding.code, ALL}
        return bool(keys & self.whole_file or keys & self.by_line.get(finding.line, set()))
