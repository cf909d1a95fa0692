"""Inline suppressions: ``# migsafe: ignore[rule]`` and ``# migsafe: ignore-file[rule]``.

A comment on a line of its own applies to the line below it, so it can sit above a long
call; one after code, to that line, or, at the end of a statement written over several
lines (a multi-line ``op.execute()``), to every line of it. Only comments count: the same
text inside a string is no directive. Rules may be named by name or code (in any case),
several separated by commas; an empty bracket list (or none) means every rule. The names
are kept as written: the caller asks which of them name no rule (``unknown``), so that a
typo does not silently suppress nothing.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
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
    def parse(cls, source: str, tree: ast.Module | None = None) -> Suppressions:
        """The directives of ``source``; ``tree``, its syntax tree where the caller has it
        (a migration script's), spares parsing it again."""
        result = cls()
        if "migsafe:" not in source:
            return result
        ends = _statement_ends(source, tree)
        for number, comment, alone in _comments(source):
            for kind, names in _DIRECTIVE.findall(comment):
                written = [n.strip() for n in names.split(",") if n.strip()]
                result.named += [(number, name) for name in written]
                rules = {name.lower() for name in written} if names.strip() else {ALL}
                first = ends.get(number, number)  # the statement it ends, from its start
                lines = (number, number + 1) if alone else tuple(range(first, number + 1))
                covered = None if kind == "ignore-file" else lines
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


def _comments(source: str) -> Iterator[tuple[int, str, bool]]:
    """``(line, text, alone on its line)`` of every comment; of every line, where the
    source does not tokenize (the file is reported for that anyway)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        for number, line in enumerate(source.splitlines(), start=1):
            yield number, line, True
        return
    for token in tokens:
        if token.type == tokenize.COMMENT and "migsafe:" in token.string:
            alone = not token.line[: token.start[1]].strip()
            yield token.start[0], token.string, alone


def _statement_ends(source: str, tree: ast.Module | None) -> dict[int, int]:
    """For each simple statement written over several lines, its last line -> its first."""
    if tree is None:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            return {}
    return {
        node.end_lineno: node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.stmt) and not hasattr(node, "body")
        and node.end_lineno is not None and node.end_lineno > node.lineno
    }  # fmt: skip
