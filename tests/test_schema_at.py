"""``RevisionContext.schema_at``: the schema each statement meets, asked for in any order.

Rules ask for statements out of order (the start of a function at each DROP INDEX); the
context rebuilds from copies it keeps along the way, and each answer must be the one a walk
from the start gives."""

from __future__ import annotations

import random

from alembic.config import Config

from migsafe.capture import OfflineCapturer
from migsafe.project import read_script
from migsafe.revision import RevisionContext
from migsafe.sql import statements

TABLES = 90  # many of the copies kept (one every 8 statements)


def _context(write_migration) -> RevisionContext:
    upgrade = "\n".join(
        f"    op.create_table('t{n}', sa.Column('id', sa.Integer, primary_key=True))\n"
        f"    op.create_index('ix_t{n}', 't{n}', ['id'])"
        for n in range(TABLES)
    )
    downgrade = "\n".join(f"    op.drop_table('t{n}')" for n in reversed(range(TABLES)))
    script = read_script(
        write_migration(f"def upgrade():\n{upgrade}\n\ndef downgrade():\n{downgrade}\n")
    )
    with OfflineCapturer(Config(), 15) as capturer:
        captured = capturer.capture(script)
    up, _ = statements(captured.upgrade.judged, "upgrade", 15)
    down, _ = statements(captured.downgrade.judged, "downgrade", 15)
    return RevisionContext(
        script, up, down, captured.upgrade, captured.downgrade, 15, captured.schema_before
    )


def _seen(context: RevisionContext, stmt) -> tuple[frozenset, frozenset]:
    schema = context.schema_at(stmt)
    return frozenset(schema.tables), frozenset(schema.indexes)


def test_each_statement_meets_the_same_schema_asked_in_any_order(write_migration) -> None:
    in_order = _context(write_migration)
    every = [*in_order.upgrade, *in_order.downgrade]
    assert len(every) == 3 * TABLES
    expected = [_seen(in_order, stmt) for stmt in every]
    names = [{name for _, name in tables} - {"alembic_version"} for tables, _ in expected]
    assert names[2 * TABLES - 1] == {f"t{n}" for n in range(TABLES)}  # the last index's
    assert names[-1] == {"t0"}  # the last DROP TABLE's
    shuffled = _context(write_migration)
    positions = [*range(len(every))] * 2
    random.Random(7).shuffle(positions)
    again = [*shuffled.upgrade, *shuffled.downgrade]
    for at in [*positions, 0, len(every) - 1, 0]:
        assert _seen(shuffled, again[at]) == expected[at], at
