"""concurrently-in-transaction (MS005): PostgreSQL refuses CONCURRENTLY inside a transaction."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.rules import envpy
from tests.rules.lint import assert_renders, lines_flagged, lint

RULE = "concurrently-in-transaction"


def test_renders_the_recipe_with_the_users_own_call(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_index("ix_users_email", "users", ["email"], postgresql_concurrently=True)
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: CREATE INDEX CONCURRENTLY cannot run inside a transaction block: PostgreSQL rejects it and the migration fails.
        with op.get_context().autocommit_block():
            op.create_index("ix_users_email", "users", ["email"], postgresql_concurrently=True)
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_schema_qualified_table_keeps_its_schema_in_the_recipe(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_index("ix_users_email", table_name="users", schema="app", postgresql_concurrently=True)
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: DROP INDEX CONCURRENTLY cannot run inside a transaction block: PostgreSQL rejects it and the migration fails.
        with op.get_context().autocommit_block():
            op.drop_index("ix_users_email", table_name="users", schema="app", postgresql_concurrently=True)
        """,  # noqa: E501
        rule=RULE,
    )


def test_concurrently_inside_an_autocommit_block_is_fine(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.get_context().autocommit_block():
        op.create_index("ix_users_email", "users", ["email"], postgresql_concurrently=True)
        op.drop_index("ix_users_mail", table_name="users", postgresql_concurrently=True)
        op.execute("REINDEX INDEX CONCURRENTLY ix_users_name")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_every_concurrently_form_in_raw_sql_is_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_users_email")
    op.execute("REINDEX TABLE CONCURRENTLY users")
    op.execute("ALTER TABLE events DETACH PARTITION events_2020 CONCURRENTLY")
    op.execute(sa.text("CREATE UNIQUE INDEX CONCURRENTLY ix_users_name ON users (name)"))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2, 3, 4, 5]


def test_what_may_run_in_a_transaction_is_not_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY daily_totals")
    op.execute("ALTER TABLE events DETACH PARTITION events_2020")
    op.create_index("ix_users_email", "users", ["email"])
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_commit_of_its_own_ends_the_transaction_until_the_next_begin(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("COMMIT")
    op.execute("CREATE INDEX CONCURRENTLY ix_users_email ON users (email)")
    op.execute("BEGIN")
    op.execute("CREATE INDEX CONCURRENTLY ix_users_name ON users (name)")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]


def test_one_execute_of_several_statements_is_one_transaction_even_in_autocommit(
    tmp_path: Path,
) -> None:
    body = """\
def upgrade():
    with op.get_context().autocommit_block():
        op.execute(
            "CREATE INDEX CONCURRENTLY ix_a ON orders (a);"
            "CREATE INDEX CONCURRENTLY ix_b ON orders (b)"
        )
"""
    assert_renders(
        tmp_path,
        body,
        """\
        3: CREATE INDEX CONCURRENTLY shares one op.execute() with other statements: PostgreSQL runs them as one transaction block, rejects it and the migration fails.
        with op.get_context().autocommit_block():
            op.execute("CREATE INDEX CONCURRENTLY ix_a ON orders (a)")
            op.execute("CREATE INDEX CONCURRENTLY ix_b ON orders (b)")
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_commit_inside_a_text_of_several_statements_does_not_help(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("COMMIT; DROP INDEX CONCURRENTLY ix_users_email; BEGIN")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.hint == textwrap.dedent("""\
        with op.get_context().autocommit_block():
            op.execute("DROP INDEX CONCURRENTLY ix_users_email")""")


def test_a_batch_operation_gets_a_recipe_outside_the_batch(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.create_index("ix_users_email", ["email"], postgresql_concurrently=True)
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.hint == textwrap.dedent("""\
        # after the batch_alter_table() block (its operations run when it ends), not in it:
        with op.get_context().autocommit_block():
            op.execute("CREATE INDEX CONCURRENTLY ix_users_email ON users (email)")""")


def test_a_batch_inside_an_autocommit_block_is_fine(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.get_context().autocommit_block():
        with op.batch_alter_table("users") as batch_op:
            batch_op.create_index("ix_users_email", ["email"], postgresql_concurrently=True)
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_an_autocommit_block_inside_a_batch_does_not_help(tmp_path: Path) -> None:
    """Alembic runs a batch's operations when the batch_alter_table() block ends: here back
    in the transaction, after the autocommit block inside it is over."""
    body = """\
def upgrade():
    with op.batch_alter_table("users") as batch_op:
        with op.get_context().autocommit_block():
            batch_op.create_index("ix_users_email", ["email"], postgresql_concurrently=True)
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]


def test_a_downgrade_that_drops_concurrently_says_so(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.get_context().autocommit_block():
        op.create_index("ix_users_email", "users", ["email"], postgresql_concurrently=True)

def downgrade():
    op.drop_index("ix_users_email", table_name="users", postgresql_concurrently=True)
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [6]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith("In downgrade(): DROP INDEX CONCURRENTLY")


def test_a_call_over_several_lines_keeps_its_shape_in_the_recipe(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_index(
        "ix_users_email", "users", ["email"],
        postgresql_concurrently=True,
    )
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.hint == textwrap.dedent("""\
        with op.get_context().autocommit_block():
            op.create_index(
                "ix_users_email", "users", ["email"],
                postgresql_concurrently=True,
            )""")


def test_an_env_py_that_runs_in_autocommit_runs_each_statement_on_its_own(
    tmp_path: Path,
) -> None:
    """privacyidea's env.py sets ``isolation_level="AUTOCOMMIT"`` on its connection:
    Alembic's transaction begins nothing, and CONCURRENTLY runs where it is written."""
    body = """\
def upgrade():
    op.create_index("ix_users_email", "users", ["email"], postgresql_concurrently=True)
"""
    assert envpy.findings(tmp_path, body, rule=RULE, env_py=envpy.AUTOCOMMIT_ENV_PY) == []
    assert len(envpy.findings(tmp_path, body, rule=RULE)) == 1
