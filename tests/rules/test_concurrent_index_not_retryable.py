"""concurrent-index-not-retryable (MS044): a concurrent index build a failed deploy leaves
behind (INVALID, when the build itself failed) makes the re-run fail."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.rules.lint import FIRST_BODY_LINE, after_history, assert_renders, lines_flagged, lint

RULE = "concurrent-index-not-retryable"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.get_context().autocommit_block():
        op.create_index("ix_orders_user_id", "orders", ["user_id"], postgresql_concurrently=True)
"""
    assert_renders(
        tmp_path,
        body,
        """\
        3: CREATE INDEX CONCURRENTLY "ix_orders_user_id" on "orders" has no IF NOT EXISTS: after a failed deploy the index (maybe INVALID) stays, and running the revision again fails with "already exists".
        with op.get_context().autocommit_block():
            # what a failed run left goes first: the index, INVALID if its build failed
            op.drop_index("ix_orders_user_id", table_name="orders", postgresql_concurrently=True, if_exists=True)
            op.create_index("ix_orders_user_id", "orders", ["user_id"], postgresql_concurrently=True)
        # or keep a valid index an earlier run built, dropping only an INVALID one:
        # from migsafe.runtime import create_index_concurrently
        # create_index_concurrently("ix_orders_user_id", "orders", ["user_id"])
        """,  # noqa: E501
        rule=RULE,
    )


def test_the_recipe_passes_the_rule(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.get_context().autocommit_block():
        op.create_index(op.f("ix_users_email"), "users", ["email"], unique=True, schema="app",
                        postgresql_concurrently=True, postgresql_where=sa.text("active"))
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    recipe = finding.hint.split("\n# or keep")[0]
    assert recipe.splitlines()[2:] == [
        '    op.drop_index("ix_users_email", table_name="users", schema="app", '
        "postgresql_concurrently=True, if_exists=True)",
        '    op.create_index(op.f("ix_users_email"), "users", ["email"], unique=True, '
        'schema="app", postgresql_where=sa.text("active"), postgresql_concurrently=True)',
    ]
    fixed = "def upgrade():\n" + "\n".join(f"    {line}" for line in recipe.splitlines())
    assert lines_flagged(tmp_path, fixed, rule=RULE) == []


def test_raw_sql_keeps_the_users_statement_and_its_schema(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.get_context().autocommit_block():
        op.execute("CREATE UNIQUE INDEX CONCURRENTLY ix_users_email ON app.users (lower(email))")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith(
        'CREATE INDEX CONCURRENTLY "ix_users_email" on "app"."users" has no IF NOT EXISTS'
    )
    assert finding.hint.splitlines() == [
        "with op.get_context().autocommit_block():",
        "    # what a failed run left goes first: the index, INVALID if its build failed",
        """    op.execute('DROP INDEX CONCURRENTLY IF EXISTS "app"."ix_users_email"')""",
        '    op.execute("CREATE UNIQUE INDEX CONCURRENTLY ix_users_email ON app.users '
        '(lower(email))")',
    ]


def test_if_not_exists_lets_the_re_run_go_on(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.get_context().autocommit_block():
        op.create_index("ix_a", "users", ["a"], postgresql_concurrently=True, if_not_exists=True)
        op.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_b ON users (b)")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_drop_if_exists_earlier_in_the_function_clears_the_way(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_a")
        op.execute("DROP INDEX CONCURRENTLY ix_b")
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_other")
    op.execute("SELECT 1")
    with op.get_context().autocommit_block():
        op.execute("CREATE INDEX CONCURRENTLY ix_a ON users (a)")
        op.execute("CREATE INDEX CONCURRENTLY ix_b ON users (b)")
        op.execute("CREATE INDEX CONCURRENTLY ix_c ON users (c)")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [9, 10]


def test_only_builds_outside_a_transaction_on_live_tables_with_a_name(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("tags", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("name", sa.Text()))
    with op.get_context().autocommit_block():
        op.create_index("ix_tags_name", "tags", ["name"], postgresql_concurrently=True)
        op.execute("CREATE INDEX CONCURRENTLY ON users (email)")
        op.create_index("ix_users_name", "users", ["name"])
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_migsafes_helper_keeps_a_valid_index_unless_told_not_to(tmp_path: Path) -> None:
    body = """\
def upgrade():
    from migsafe.runtime import create_index_concurrently

    create_index_concurrently("ix_orders_user_id", "orders", ["user_id"], schema="shop")
    create_index_concurrently("ix_orders_total", "orders", ["total"], if_not_exists=False)
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.line - FIRST_BODY_LINE + 1 == 5
    assert finding.hint.splitlines()[-1] == (
        '# create_index_concurrently("ix_orders_total", "orders", ["total"])'
    )


def test_a_downgrade_that_builds_an_index_again_says_so(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.get_context().autocommit_block():
        op.drop_index("ix_users_email", table_name="users", postgresql_concurrently=True)

def downgrade():
    with op.get_context().autocommit_block():
        op.create_index("ix_users_email", "users", ["email"], postgresql_concurrently=True)
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [7]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('In downgrade(): CREATE INDEX CONCURRENTLY "ix_users_email"')


def test_sql_written_over_several_lines_is_one_line_of_the_recipe(tmp_path: Path) -> None:
    body = '''\
def upgrade():
    with op.get_context().autocommit_block():
        op.execute("""
            CREATE INDEX CONCURRENTLY
            trgm_ix_flow_name
            ON flow USING gin (name gin_trgm_ops);
        """)
'''
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.hint.splitlines()[-1] == (
        '    op.execute("CREATE INDEX CONCURRENTLY trgm_ix_flow_name ON flow USING gin '
        '(name gin_trgm_ops)")'
    )
    ast.parse(finding.hint)


def test_a_build_after_a_look_at_the_existing_indexes_builds_only_what_is_missing(
    write_migration,
) -> None:
    """langflow's retry-safe form: reflect the indexes, drop INVALID ones, build the others."""
    table = 'def upgrade():\n    op.create_table("message", sa.Column("flow_id", sa.Text()))\n'
    body = """\
def upgrade():
    existing = {i["name"] for i in sa.inspect(op.get_bind()).get_indexes("message")}
    with op.get_context().autocommit_block():
        if "ix_message_flow" not in existing:
            op.create_index("ix_message_flow", "message", ["flow_id"], postgresql_concurrently=True)

def downgrade():
    with op.get_context().autocommit_block():
        op.create_index("ix_message_flow", "message", ["flow_id"], postgresql_concurrently=True)
"""
    flagged = after_history(write_migration, table, body, rule=RULE)
    assert [f.message.startswith("In downgrade():") for f in flagged] == [True]  # looks at nothing
