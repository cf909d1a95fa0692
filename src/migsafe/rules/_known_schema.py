"""The statements of a revision that meet a schema known whole: where a rule may say that an
object is there (object-already-exists) or is not (object-does-not-exist) on every database
the history migrated, not only on an empty one."""

from __future__ import annotations

import re
from collections.abc import Iterator

from migsafe.catalog import Catalog
from migsafe.findings import Finding
from migsafe.revision import RevisionContext
from migsafe.rule import DOWNGRADE, Rule
from migsafe.sql import Statement, clipped

# a query of the database's own catalog: what exists, asked as SQL (not as reflection)
_CATALOG = re.compile(
    r"\b(information_schema|pg_catalog|pg_(constraint|class|index|indexes|"
    r"tables|type|enum|attribute|namespace|proc|trigger))\b",
    re.I,
)


def on_known_schema(rev: RevisionContext, rule: Rule) -> Iterator[tuple[Catalog, Statement]]:
    """The statements ``rule`` judges, with the schema before the revision (which recorded,
    as each statement was captured, what it found there or not), where that schema is known:
    every revision before was captured to its end, from one base; the statement comes before
    any operation of its function that could not be rendered, is outside a try/except, and
    (in a downgrade) follows an upgrade captured to its end."""
    schema = rev.schema_before
    if schema is None or not schema.exact:
        return  # a revision not captured to its end may have made or dropped anything
    if schema.bases + rev.script.starts_a_history > 1:
        return  # another history (another base: prefect 2's versions for SQLite) may run
        # on another database
    guarded = rev.script.guarded_lines
    unrendered: set[str] = set()  # the functions with an operation not rendered so far
    asked = {  # the first line of each function that read the catalog through the bind
        capture.function: min(r.line for r in capture.reads if _CATALOG.search(r.sql))
        for capture in (rev.upgrade_capture, rev.downgrade_capture)
        if any(_CATALOG.search(r.sql) for r in capture.reads)
    }
    for stmt in rev.statements(rule):
        if stmt.node is None:
            unrendered.add(stmt.direction)
        if stmt.direction in unrendered or stmt.line in guarded:
            continue  # what an operation not rendered did is not known (mwdb's drop by None)
        if stmt.line >= asked.get(stmt.direction, stmt.line + 1):
            continue  # it branches on what the catalog holds, answered as empty (cloudkitty)
        if stmt.direction == DOWNGRADE and not rev.upgrade_capture.exact:
            continue
        yield schema, stmt


def missing_on_known_schema(
    rev: RevisionContext, stmt: Statement, rule: Rule
) -> list[tuple[str, str]]:
    """What ``stmt`` (a statement ``rule`` judges) names that is not there, where
    object-does-not-exist says so (see ``on_known_schema``): for the rules that must not
    judge a statement that fails."""
    for schema, known in on_known_schema(rev, rule):
        if known is stmt:
            return schema.missing_for(stmt.node)
    return []


def aborted_transactions(
    rev: RevisionContext, rule: Rule, fragment: str, **hint_values: str
) -> Iterator[Finding]:
    """A finding of ``rule`` for each statement PostgreSQL refuses (``fragment`` in why)
    that the migration ran in a try block inside its transaction: its handler takes the
    error, but PostgreSQL has aborted the transaction, and every statement after it fails
    ("current transaction is aborted"), the revision with them. Not where env.py runs each
    statement on its own (privacyidea)."""
    if rev.environment.autocommit:
        return
    for capture in (rev.upgrade_capture, rev.downgrade_capture):
        for refused in capture.recorder.refused:
            if refused.in_transaction and fragment in refused.why:
                yield rev.finding(
                    rule,
                    refused.line,
                    f"{clipped(refused.sql)} fails on PostgreSQL ({refused.why}): the "
                    "migration's try block takes the error, but PostgreSQL has aborted the "
                    "transaction, so every statement after it fails (current transaction is "
                    "aborted), and the revision with them.",
                    **hint_values,
                )
