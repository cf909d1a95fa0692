"""Offline capture: the script really runs, every statement keeps its operation and line."""

from __future__ import annotations

from pathlib import Path

from alembic.operations import ops

from migsafe.capture import capture
from migsafe.project import read_script
from migsafe.sql import statements


def capture_body(write_migration, body: str):
    path = write_migration(body)
    upgrade, downgrade = capture(read_script(path))
    return path, upgrade, downgrade


def line_of(path: Path, fragment: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if fragment in line:
            return number
    raise AssertionError(fragment)


def test_loops_and_helpers_keep_the_issuing_line(write_migration) -> None:
    body = """
def add_index(column):
    op.create_index(f"ix_t_{column}", "t", [column])  # helper

def upgrade():
    for column in ("a", "b"):
        add_index(column)
"""
    path, upgrade, _ = capture_body(write_migration, body)
    sqls = [e.sql for e in upgrade.emitted]
    assert sqls == ["CREATE INDEX ix_t_a ON t (a);", "CREATE INDEX ix_t_b ON t (b);"]
    assert {e.line for e in upgrade.emitted} == {line_of(path, "# helper")}
    assert all(isinstance(e.operation, ops.CreateIndexOp) for e in upgrade.emitted)


def test_batch_alter_table_operations_keep_their_own_lines(write_migration) -> None:
    body = """
def upgrade():
    with op.batch_alter_table("t") as batch_op:
        batch_op.add_column(sa.Column("x", sa.Integer()))  # add
        batch_op.alter_column("y", new_column_name="z")  # rename
"""
    path, upgrade, _ = capture_body(write_migration, body)
    assert [(e.sql, e.line) for e in upgrade.emitted] == [
        ("ALTER TABLE t ADD COLUMN x INTEGER;", line_of(path, "# add")),
        ("ALTER TABLE t RENAME y TO z;", line_of(path, "# rename")),
    ]


def test_autocommit_block_runs_outside_the_transaction(write_migration) -> None:
    body = """
def upgrade():
    op.add_column("t", sa.Column("x", sa.Integer()))
    with op.get_context().autocommit_block():
        op.create_index("ix_t_x", "t", ["x"], postgresql_concurrently=True)
    op.execute("ANALYZE t")
"""
    _, upgrade, _ = capture_body(write_migration, body)
    parsed, problems = statements(upgrade.emitted)
    assert problems == []
    assert [(s.sql, s.in_transaction) for s in parsed] == [
        ("ALTER TABLE t ADD COLUMN x INTEGER", True),
        ("COMMIT", False),
        ("CREATE INDEX CONCURRENTLY ix_t_x ON t (x)", False),
        ("BEGIN", True),
        ("ANALYZE t", True),
    ]


def test_raw_sql_strings_and_text_are_split_into_statements(write_migration) -> None:
    body = """
def upgrade():
    op.execute("UPDATE t SET a = 1; ALTER TABLE t ALTER COLUMN a SET NOT NULL")
    op.execute(sa.text("DELETE FROM t WHERE a IS NULL"))
"""
    _, upgrade, _ = capture_body(write_migration, body)
    parsed, _ = statements(upgrade.emitted)
    assert [s.sql for s in parsed] == [
        "UPDATE t SET a = 1",
        "ALTER TABLE t ALTER COLUMN a SET NOT NULL",
        "DELETE FROM t WHERE a IS NULL",
    ]
    assert [s.table for s in parsed] == ["t", "t", "t"]


def test_script_reading_from_the_database_falls_back_to_source(write_migration) -> None:
    body = """
def upgrade():
    rows = op.get_bind().execute(sa.text("SELECT id FROM t")).fetchall()
    op.create_index("ix_t_a", "t", ["a"])
    for row in rows:
        op.execute(f"UPDATE t SET a = {row.id}")
"""
    path, upgrade, _ = capture_body(write_migration, body)
    assert upgrade.fallback_reason is not None
    assert "op.get_bind()" in upgrade.fallback_reason
    assert f"line {line_of(path, 'fetchall')}" in upgrade.fallback_reason
    # the op call with literal arguments is still captured; the one using `row` cannot be
    assert [(e.sql, e.line) for e in upgrade.emitted] == [
        ("CREATE INDEX ix_t_a ON t (a);", line_of(path, "create_index"))
    ]


def test_import_failure_is_reported_and_source_is_read(write_migration) -> None:
    body = """
import not_a_real_module_xyz

def upgrade():
    op.drop_column("t", "a")
"""
    _, upgrade, _ = capture_body(write_migration, body)
    assert "not_a_real_module_xyz" in upgrade.fallback_reason
    assert [e.sql for e in upgrade.emitted] == ["ALTER TABLE t DROP COLUMN a;"]


def test_unrenderable_operation_does_not_stop_the_script(write_migration) -> None:
    body = """
def upgrade():
    op.drop_constraint(None, "t", type_="foreignkey")
    op.drop_column("t", "a")
"""
    _, upgrade, _ = capture_body(write_migration, body)
    first, second = upgrade.emitted
    assert first.sql is None and "no name" in first.error
    assert second.sql == "ALTER TABLE t DROP COLUMN a;"


def test_missing_downgrade_function_captures_nothing(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text(
        "from alembic import op\nrevision = 'x'\ndown_revision = None\n"
        "def upgrade():\n    op.drop_table('t')\n"
    )
    upgrade, downgrade = capture(read_script(path))
    assert [item.sql for item in upgrade.emitted] == ["DROP TABLE t;"]
    assert downgrade.emitted == [] and downgrade.fallback_reason is None
