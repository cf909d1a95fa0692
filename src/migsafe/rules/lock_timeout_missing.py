"""lock-timeout-missing: a migration that waits for a lock makes every query wait behind it."""

from __future__ import annotations

from collections.abc import Iterator

from migsafe.findings import Finding, Severity
from migsafe.locks import LockMode
from migsafe.revision import RevisionContext
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule

RULE = Rule(
    code="MS058",
    name="lock-timeout-missing",
    severity=Severity.WARNING,
    category=Category.LOCKING,
    help="Set lock_timeout for every migration in env.py (migsafe init does), or in the revision.",
    references=(
        PG_DOCS + "runtime-config-client.html#GUC-LOCK-TIMEOUT",
        PG_DOCS + "explicit-locking.html#LOCKING-TABLES",
    ),
    directions=(UPGRADE, DOWNGRADE),
    since="0.2.0",
    summary="A lock that blocks writes is requested with no lock_timeout set.",
    why=(
        "A schema change waits for its lock behind every transaction already using the table, "
        "and every query that comes after waits behind the schema change: one slow report "
        "turns an ALTER that would take a millisecond into minutes of errors. With "
        "lock_timeout the migration gives up instead (and can be retried); "
        "migsafe.runtime.retry_on_lock_timeout does that. migsafe reads env.py and "
        "alembic.ini: a timeout they set for every migration counts, `SET lock_timeout = 0` "
        "does not."
    ),
    fix="""\
# for every migration, in env.py (what migsafe init writes), or first thing in upgrade():
op.execute("SET lock_timeout = '5s'")""",
    bad=(),
    good=(),
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    """The first statement of each function that asks for a lock blocking writes on a table
    that has traffic, with no lock_timeout in force: one finding says it for the function.
    Without env.py (a file checked alone) nothing can be told, and nothing is said."""
    if rev.environment.lock_timeout is None:
        return
    judged: set[str] = set()
    for stmt in rev.statements(RULE):
        if stmt.direction in judged or stmt.node is None:
            continue
        schema = rev.schema_at(stmt)
        blocking = [
            (table, mode)
            for table, mode in rev.tables_locked(stmt)
            if mode >= LockMode.SHARE
            and not rev.is_new_table(stmt, table)
            # a table the history dropped (aim's downgrade makes a key to one it makes
            # only further down): the statement fails, object-does-not-exist says so
            and not (schema is not None and schema.dropped(table.key))
        ]
        if not blocking or rev.setting_before(stmt, "lock_timeout"):
            continue
        table, mode = max(blocking, key=lambda locked: locked[1])
        judged.add(stmt.direction)
        yield rev.finding(
            RULE,
            stmt,
            f"{table.sql} is locked {mode.label} with no lock_timeout set: if a transaction "
            f"holds the table, this migration waits and {mode.blocks} queue behind it until "
            "it gets the lock.",
        )
