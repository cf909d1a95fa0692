"""lock-table (MS033): an explicit LOCK TABLE in a migration."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import assert_renders, lines_flagged, lint

RULE = "lock-table"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
    op.execute("UPDATE users SET email = lower(email) WHERE email <> lower(email)")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: LOCK TABLE "users" IN ACCESS EXCLUSIVE MODE holds that lock until the migration commits: all reads and writes of it wait for every statement after it.
        # Let each statement take the lock it needs, as late as possible, and give up rather
        # than queue the application's queries behind a lock that is not free:
        op.execute("SET LOCAL lock_timeout = '5s'")
        # If writes must stop while the migration reads "users", SHARE MODE lets reads go on:
        op.execute('LOCK TABLE "users" IN SHARE MODE')
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_schema_qualified_table_keeps_its_schema(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("LOCK TABLE app.users, app.teams IN SHARE MODE")
    op.execute("INSERT INTO app.audit (n) SELECT count(*) FROM app.users")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: LOCK TABLE "app"."users", "app"."teams" IN SHARE MODE holds that lock on each until the migration commits: all writes (INSERT, UPDATE, DELETE) of them wait for every statement after it.
        # Let each statement take the lock it needs, as late as possible, and give up rather
        # than queue the application's queries behind a lock that is not free:
        op.execute("SET LOCAL lock_timeout = '5s'")
        """,  # noqa: E501
        rule=RULE,
    )


def test_lock_without_a_mode_is_access_exclusive(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("LOCK users")
    op.execute("SELECT 1")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('LOCK TABLE "users" IN ACCESS EXCLUSIVE MODE')


def test_modes_that_block_no_reads_or_writes_are_not_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("LOCK TABLE users IN ACCESS SHARE MODE")
    op.execute("LOCK TABLE users IN ROW EXCLUSIVE MODE")
    op.execute("LOCK TABLE users IN SHARE UPDATE EXCLUSIVE MODE")
    op.execute("LOCK TABLE users IN SHARE MODE")
    op.execute("SELECT 1")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]


def test_outside_a_transaction_postgresql_refuses_any_mode(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.get_context().autocommit_block():
        op.execute("LOCK TABLE users IN ACCESS SHARE MODE")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.endswith("where PostgreSQL refuses it: the migration fails.")
    assert finding.hint.startswith("# LOCK TABLE works only in a transaction")


def test_a_lock_the_next_statement_takes_anyway_holds_nothing_longer(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
    op.add_column("users", sa.Column("nickname", sa.Text()))
    op.execute("LOCK TABLE teams IN ACCESS EXCLUSIVE MODE")
    op.create_index("ix_teams_name", "teams", ["name"])
    op.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
    op.add_column("invoices", sa.Column("note", sa.Text()))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4, 6]


def test_a_table_created_in_the_same_function_or_alembics_table_is_not_flagged(
    tmp_path: Path,
) -> None:
    body = """\
def upgrade():
    op.create_table("tags", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute("LOCK TABLE tags IN ACCESS EXCLUSIVE MODE")
    op.execute("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE")
    op.execute("LOCK TABLE tags, users IN ACCESS EXCLUSIVE MODE")
    op.execute("SELECT 1")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('LOCK TABLE "users" IN')


def test_a_downgrade_that_locks_says_so(tmp_path: Path) -> None:
    body = """\
def upgrade():
    pass

def downgrade():
    op.execute("LOCK TABLE users IN EXCLUSIVE MODE")
    op.execute("SELECT 1")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('In downgrade(): LOCK TABLE "users" IN EXCLUSIVE MODE')
