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
    named: list[tuple[int, str]] = field(default_factory=list)  # (line, name as written)
    # each directive: its line, the lines it covers (None: the file), its lowercased names
    directives: list[tuple[int, tuple[int, ...] | None, frozenset[str]]] = field(
        default_factory=list
    )
    used: set[int] = field(default_factory=set)  # indices of directives that hid a finding

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
                covered = None if kind == "ignore-file" else (number, number + 1)
                result.directives.append((number, covered, frozenset(rules)))
        return result

    def hides(self, finding: Finding) -> bool:
        keys = {finding.rule, finding.code.lower(), ALL}
        hidden = False
        at = {finding.line, finding.called_at}  # the helper's line, or the call of it
        for index, (_, lines, rules) in enumerate(self.directives):
            if keys & rules and (lines is None or not at.isdisjoint(lines)):
                self.used.add(index)
                hidden = True
        return hidden

    def unused(self) -> Iterator[int]:
        """The lines of the directives that hid no finding (``--report-unused-ignores``)."""
        return (line for index, (line, _, _) in enumerate(self.directives)
                if index not in self.used)  # fmt: skip

    def unknown(self, known: Iterable[str]) -> Iterator[tuple[int, str]]:
        """``(line, name)`` of every suppressed name that is not in ``known`` (lowercase
        rule names and codes)."""
        known = set(known)
        return ((line, name) for line, name in self.named if name.lower() not in known)
