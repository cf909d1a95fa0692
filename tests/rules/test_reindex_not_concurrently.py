"""reindex-not-concurrently (MS019): REINDEX blocks writes and the queries planned on it."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import assert_renders, lines_flagged, lint

RULE = "reindex-not-concurrently"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("REINDEX INDEX ix_users_email")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: REINDEX INDEX "ix_users_email" rebuilds the index under a SHARE lock on its table and an ACCESS EXCLUSIVE lock on the index: writes and every query planned on the table wait.
        with op.get_context().autocommit_block():  # CONCURRENTLY needs it
            op.execute('REINDEX INDEX CONCURRENTLY "ix_users_email"')
        """,  # noqa: E501
        rule=RULE,
    )


def test_postgresql_14_is_warned_of_the_concurrent_index_bug(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("REINDEX TABLE users")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: REINDEX TABLE "users" rebuilds each index under a SHARE lock on its table and an ACCESS EXCLUSIVE lock on the index: writes and every query planned on the table wait.
        # PostgreSQL 14.0-14.3 could corrupt indexes rebuilt CONCURRENTLY: run 14.4 or later
        with op.get_context().autocommit_block():  # CONCURRENTLY needs it
            op.execute('REINDEX TABLE CONCURRENTLY "users"')
        """,  # noqa: E501
        rule=RULE,
        pg_version=14,
    )


def test_before_postgresql_12_there_is_no_concurrent_form(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("REINDEX INDEX ix_users_email")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: REINDEX INDEX "ix_users_email" rebuilds the index under a SHARE lock on its table and an ACCESS EXCLUSIVE lock on the index: writes and every query planned on the table wait (PostgreSQL 11 has no REINDEX CONCURRENTLY).
        # PostgreSQL 11 has no REINDEX CONCURRENTLY (it came in 12); rebuild "ix_users_email" by hand,
        # each statement alone in an autocommit_block():
        #   CREATE INDEX CONCURRENTLY <new name> ON <its table> (<the same definition>);
        #   DROP INDEX CONCURRENTLY "ix_users_email";
        #   ALTER INDEX <new name> RENAME TO "ix_users_email";
        # An index behind a PRIMARY KEY or UNIQUE constraint cannot be dropped this way: for those
        # run the REINDEX at a quiet time, with a lock_timeout so that it gives up rather than queue.
        """,  # noqa: E501
        rule=RULE,
        pg_version=11,
    )


def test_a_schema_qualified_table_and_its_options_are_kept(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("REINDEX (VERBOSE) TABLE app.users")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('REINDEX TABLE "app"."users" rebuilds each index')
    assert finding.hint.endswith(
        """op.execute('REINDEX (VERBOSE) TABLE CONCURRENTLY "app"."users"')"""
    )


def test_concurrent_reindexes_are_not_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.get_context().autocommit_block():
        op.execute("REINDEX INDEX CONCURRENTLY ix_users_email")
        op.execute("REINDEX (CONCURRENTLY, VERBOSE) TABLE users")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_schemas_and_databases_are_flagged_but_not_system_catalogs(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("REINDEX SCHEMA app")
    op.execute("REINDEX DATABASE")
    op.execute("REINDEX SYSTEM")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2, 3]


def test_a_table_created_in_the_same_revision_has_no_traffic(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("tags", sa.Column("name", sa.Text()))
    op.create_index("ix_tags_name", "tags", ["name"])
    op.execute("REINDEX TABLE tags")
    op.execute("REINDEX INDEX ix_tags_name")
    op.create_index("ix_users_name", "users", ["name"])
    op.execute("REINDEX INDEX ix_users_name")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [7]


def test_other_statements_are_not_reindexes(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("VACUUM ANALYZE users")
    op.execute("ANALYZE users")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_downgrade_that_reindexes_says_so(tmp_path: Path) -> None:
    body = """\
def upgrade():
    pass

def downgrade():
    op.execute("REINDEX INDEX ix_users_email")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('In downgrade(): REINDEX INDEX "ix_users_email"')
