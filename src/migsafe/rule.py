"""The shape of a rule: its words, its examples and the recipe it offers.

A rule module under ``migsafe.rules`` holds a ``RULE`` and either ``check(revision)`` for
rules about one revision (``migsafe.revision`` is what they judge) or ``check_history(history)``
for rules about the revision graph (under ``migsafe.rules.history``). This module is light on
purpose: the graph rules, and commands that only need rule names, import nothing heavier.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from migsafe.findings import Severity


@dataclass(frozen=True)
class Rule:
    """Everything a user reads about a rule; ``fix`` is Alembic code with ``{placeholders}``."""

    code: str
    name: str
    severity: Severity
    summary: str
    why: str
    fix: str
    bad: tuple[str, ...]
    good: tuple[str, ...]

    def hint(self, **values: Any) -> str:
        return self.fix.format(**{k: _as_code(v) for k, v in values.items()}).strip()


class PyStr(str):
    """A string whose repr is a double-quoted Python literal, as formatters write them."""

    def __repr__(self) -> str:
        return '"' + self.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _as_code(value: Any) -> Any:
    if isinstance(value, str):
        return PyStr(value)
    if isinstance(value, list):
        return [_as_code(v) for v in value]
    return value


def py_literal(value: Any) -> str:
    """``value`` as Python source, strings double-quoted."""
    return repr(_as_code(value))
