"""The shape of a rule: its words, its examples and the recipe it offers.

A rule module under ``migsafe.rules`` holds a ``RULE`` and either ``check(revision)`` for
rules about one revision (``migsafe.revision`` is what they judge) or ``check_history(history)``
for rules about the revision graph (under ``migsafe.rules.history``). This module is light on
purpose: the graph rules, and commands that only need rule names, import nothing heavier.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migsafe.clock_times import as_clock_sql
from migsafe.findings import Finding, Severity

# Where each rule's page is published: docs/rules/<name>.md of migsafe's repository.
RULE_PAGE_URL = "https://github.com/migsafe/migsafe/blob/main/docs/rules/{name}.md"
PG_DOCS = "https://www.postgresql.org/docs/current/"


class Category(str, enum.Enum):
    """What kind of harm a rule is about; the rule reference is grouped by it."""

    LOCKING = "locking"  # a lock or a rewrite that stalls traffic on a live table
    COMPATIBILITY = "compatibility"  # the code still running during a deploy breaks
    ROLLBACK = "rollback"  # the way back does not work
    HISTORY = "history"  # the revision graph itself
    SCHEMA = "schema"  # a type or a shape that costs later (opt-in opinions)

    def __str__(self) -> str:
        return self.value


UPGRADE, DOWNGRADE = "upgrade", "downgrade"


@dataclass(frozen=True)
class Rule:
    """Everything a user reads about a rule; ``fix`` is Alembic code with ``{placeholders}``.

    ``directions`` are the migration functions the rule judges: lock and transaction rules
    judge ``downgrade()`` too, since a rollback runs it against the live database.
    ``opt_in`` rules run only when selected (opinions, not hazards). A rule whose recipe
    ``rewrites_batch_blocks`` places its statements around a ``batch_alter_table()`` block
    itself; other recipes with an ``autocommit_block()`` there are told to go after it. A
    rule whose findings say the statement ``fails`` (on a table with rows, or on every
    database) is one no maintenance window makes safe: the runbook says to rewrite it. A
    rule about tables an earlier revision made (a batch block recreating one) gives that
    revision as its examples' ``history``: they are checked after it.
    """

    code: str
    name: str
    severity: Severity
    category: Category
    summary: str  # the hazard, in one line
    help: str  # what to do instead, in one line
    why: str
    fix: str
    bad: tuple[str, ...]
    good: tuple[str, ...]
    references: tuple[str, ...] = ()  # pages of PostgreSQL's documentation
    directions: tuple[str, ...] = (UPGRADE,)
    opt_in: bool = False
    since: str = "0.1.0"
    rewrites_batch_blocks: bool = False
    fails: bool = False
    history: str = ""  # a revision the examples are checked after (the tables they change)

    @property
    def url(self) -> str:
        return RULE_PAGE_URL.format(name=self.name)

    def hint(self, **values: Any) -> str:
        return filled(self.fix, **values)

    def finding(
        self,
        path: Path,
        line: int,
        revision: str | None,
        message: str,
        end_line: int | None = None,
        column: int | None = None,
        /,
        **hint_values: Any,
    ) -> Finding:
        """A finding of this rule at ``path:line`` (of ``revision``; None for env.py), its
        recipe filled in with ``hint_values`` (positional-only above: any name serves)."""
        return Finding(
            code=self.code,
            rule=self.name,
            severity=self.severity,
            path=path,
            line=line,
            revision=revision,
            message=message,
            hint=self.hint(**hint_values),
            help=self.help,
            url=self.url,
            end_line=end_line,
            column=column,
        )


class PyStr(str):
    """A string whose repr is a double-quoted Python literal, as formatters write them; a
    character that cannot stand in one as it is (a line break, a NUL byte: monasca's
    ``server_default='\\0' * 20``) is escaped as Python escapes it."""

    def __repr__(self) -> str:
        return '"' + "".join(_escaped(character) for character in self) + '"'


def _escaped(character: str) -> str:
    if character in '"\\':
        return "\\" + character
    return character if character.isprintable() else repr(character)[1:-1]


def filled(template: str, **values: Any) -> str:
    """A recipe template with the user's names in it: ``{name!r}`` gives Python source,
    double-quoted, ``{name}`` the text as it is."""
    return template.format(**{k: _as_code(v) for k, v in values.items()}).strip()


def _as_code(value: Any) -> Any:
    if isinstance(value, str):
        return PyStr(value)
    if isinstance(value, list):
        return [_as_code(v) for v in value]
    return value


def py_literal(value: Any) -> str:
    """``value`` as Python source, strings double-quoted."""
    return repr(_as_code(value))


def sql_code(sql: str) -> str:
    """SQL as a Python string literal on one line, for ``op.execute(...)`` in a recipe:
    double-quoted, or single-quoted when that spares the escapes of double-quoted names. SQL
    written over several lines is joined into one (its line breaks escaped instead, when a
    string constant might hold one). A time the migration took from the clock while migsafe
    ran it is written as the clock's SQL (``migsafe.clock_times``)."""
    sql = as_clock_sql(sql)
    if "\n" in sql or "\r" in sql:
        if "'" in sql or "$" in sql:  # a constant may hold the line break: keep it
            return py_literal(sql).replace("\r", "\\r").replace("\n", "\\n")
        sql = " ".join(sql.split())
    if '"' in sql and "'" not in sql and "\\" not in sql:
        return f"'{sql}'"
    return py_literal(sql)
