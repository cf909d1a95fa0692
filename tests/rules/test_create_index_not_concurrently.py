"""create-index-not-concurrently (MS004): a plain CREATE INDEX blocks all writes while it builds."""

from __future__ import annotations

from pathlib import Path

from tests.rules.envpy import PLAIN_ENV_PY
from tests.rules.envpy import findings as envpy_findings
from tests.rules.lint import after_history, assert_renders, lines_flagged, lint, lint_with_notices

RULE = "create-index-not-concurrently"


def recipe_call(tmp_path: Path, body: str) -> str:
    """The call the one finding's recipe puts inside the autocommit block."""
    (finding,) = lint(tmp_path, body, rule=RULE)
    hint = finding.hint.removeprefix(BATCH_NOTE + "\n")
    opening, call = hint.split("\n", 1)
    assert opening == "with op.get_context().autocommit_block():"
    return call.strip()


BATCH_NOTE = "# after the batch_alter_table() block (its operations run when it ends), not in it:"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_index("ix_users_email", "users", ["email"])
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: CREATE INDEX "ix_users_email" takes a SHARE lock on "users": all writes (INSERT, UPDATE, DELETE) to it wait until the index is built.
        with op.get_context().autocommit_block():
            op.create_index("ix_users_email", "users", ["email"], postgresql_concurrently=True)
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_schema_qualified_table_keeps_its_schema_in_the_recipe(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_index("ix_users_email", "users", ["email"], unique=True, schema="app")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: CREATE INDEX "ix_users_email" takes a SHARE lock on "app"."users": all writes (INSERT, UPDATE, DELETE) to it wait until the index is built.
        with op.get_context().autocommit_block():
            op.create_index("ix_users_email", "users", ["email"], unique=True, schema="app", postgresql_concurrently=True)
        """,  # noqa: E501
        rule=RULE,
    )


def test_an_index_built_concurrently_is_fine(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.get_context().autocommit_block():
        op.create_index("ix_users_email", "users", ["email"], unique=True,
                        postgresql_concurrently=True)
    op.execute("CREATE INDEX CONCURRENTLY ix_users_name ON users (name)")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_raw_sql_is_judged_like_alembic_operations(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("CREATE UNIQUE INDEX ix_orders_ref ON orders (reference)")
    op.execute("CREATE INDEX IF NOT EXISTS ix_orders_day ON app.orders (created_at)")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2, 3]


def test_each_statement_of_one_execute_is_judged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute(
        "CREATE INDEX ix_a ON orders (a); CREATE INDEX CONCURRENTLY ix_b ON orders (b);"
        "CREATE INDEX ix_c ON orders (c)"
    )
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2, 2]


def test_a_table_created_earlier_in_the_same_function_is_empty(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_index("ix_tags_slug", "tags", ["slug"])
    op.create_table("tags", sa.Column("slug", sa.Text()))
    op.create_index("ix_tags_name", "tags", ["slug"])
    op.execute("CREATE TABLE tag_counts AS SELECT slug, 0 AS n FROM tags")
    op.execute("CREATE INDEX ix_tag_counts_slug ON tag_counts (slug)")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2]


def test_a_table_of_the_same_name_in_another_schema_is_not_new(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("tags", sa.Column("slug", sa.Text()), schema="app")
    op.create_index("ix_tags_slug", "tags", ["slug"])
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [3]


def test_a_table_created_in_upgrade_is_live_in_downgrade(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("tags", sa.Column("slug", sa.Text()))

def downgrade():
    op.create_index("ix_tags_slug", "tags", ["slug"])
    op.drop_table("tags")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('In downgrade(): CREATE INDEX "ix_tags_slug"')


def test_a_batch_operation_gets_an_op_call_outside_the_batch(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.batch_alter_table("dag_run", schema=None) as batch_op:
        batch_op.create_index(op.f("idx_dag_run_queued"), ["state", "queued_at"], unique=False)
"""
    assert recipe_call(tmp_path, body) == (
        'op.create_index(op.f("idx_dag_run_queued"), "dag_run", ["state", "queued_at"], '
        "postgresql_concurrently=True)"
    )


def test_the_recipe_keeps_a_partial_unique_index_partial(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_index("uq_users_email", "users", ["email"], unique=True,
                    postgresql_where=sa.text("deleted_at IS NULL"))
"""
    assert recipe_call(tmp_path, body) == (
        'op.create_index("uq_users_email", "users", ["email"], unique=True, '
        'postgresql_where=sa.text("deleted_at IS NULL"), postgresql_concurrently=True)'
    )


def test_the_recipe_keeps_the_index_method_and_operator_class(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_index("ix_runs_params", "runs", ["params"], postgresql_using="gin",
                    postgresql_ops={"params": "jsonb_path_ops"}, if_not_exists=True)
"""
    assert recipe_call(tmp_path, body) == (
        'op.create_index("ix_runs_params", "runs", ["params"], if_not_exists=True, '
        'postgresql_using="gin", postgresql_ops={"params": "jsonb_path_ops"}, '
        "postgresql_concurrently=True)"
    )


def test_the_recipe_keeps_an_expression_column_an_expression(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_index("ix_users_lower_email", "users", [sa.text("lower(email)")])
"""
    assert recipe_call(tmp_path, body) == (
        'op.create_index("ix_users_lower_email", "users", [sa.text("lower(email)")], '
        "postgresql_concurrently=True)"
    )


def test_an_argument_that_is_not_a_literal_makes_the_recipe_sql(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_index("ix_jobs_open", "jobs", ["id"], postgresql_where=sa.column("done").is_(False))
"""
    assert recipe_call(tmp_path, body) == (
        'op.execute("CREATE INDEX CONCURRENTLY ix_jobs_open ON jobs (id) WHERE done IS FALSE")'
    )


def test_raw_sql_keeps_its_own_clauses_in_the_recipe(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("CREATE INDEX IF NOT EXISTS ix_pkg_name ON package USING gin (name gin_trgm_ops)")
"""
    assert recipe_call(tmp_path, body) == (
        'op.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_pkg_name ON package '
        'USING gin (name gin_trgm_ops)")'
    )


def test_postgresql_14_is_told_about_the_concurrent_build_bug(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_index("ix_users_email", "users", ["email"])
"""
    (on_14,) = lint(tmp_path, body, rule=RULE, pg_version=14)
    (on_15,) = lint(tmp_path, body, rule=RULE, pg_version=15)
    assert on_14.hint.splitlines()[0] == (
        "# PostgreSQL 14.0-14.3 could corrupt indexes built CONCURRENTLY: run 14.4 or later"
    )
    assert on_15.hint.startswith("with op.get_context().autocommit_block():")


def test_a_table_whose_create_table_could_not_be_rendered_is_still_new(tmp_path: Path) -> None:
    """vitrage's initial revision: SQLAlchemy refused a column of one create_table() (a type
    it does not take for autoincrement), so that table's DDL is unknown, but it is created
    there: its indexes meet no traffic, and the notice says what could not be rendered."""
    body = (
        "def upgrade():\n"
        "    op.create_table('changes', sa.Column('id', sa.Numeric(10, 2), primary_key=True,\n"
        "                    autoincrement=True), sa.Column('severity', sa.String(64)))\n"
        "    op.create_index('ix_changes_severity', 'changes', ['severity'])\n"
    )
    findings, (notice,) = lint_with_notices(tmp_path, body, rule=RULE)
    assert findings == []
    assert notice.message.startswith("CreateTableOp cannot be rendered: ArgumentError:")


def test_an_index_of_add_column_says_to_leave_its_flag_out(tmp_path: Path) -> None:
    """Kotti's ``Column(..., index=True)`` in add_column(): kept, it builds the index again."""
    body = """\
def upgrade():
    op.add_column("nodes", sa.Column("path", sa.Unicode(1000), index=True))
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.hint.endswith(
        "# and leave index=True out of the add_column() call, which builds it too"
    )
    compile(finding.hint, "<hint>", "exec")


def test_a_table_created_then_renamed_into_place_is_still_new(tmp_path: Path) -> None:
    """zuul builds ``zuul_build_new``, drops ``zuul_build`` and renames the new one into its
    place: its indexes and keys block nobody, whatever the name."""
    body = """\
def upgrade():
    op.create_table("zuul_build_new", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("uuid", sa.Text()))
    op.drop_table("zuul_build")
    op.rename_table("zuul_build_new", "zuul_build")
    op.create_index("zuul_build_uuid_idx", "zuul_build", ["uuid"])
    op.create_index("ix_zuul_ref_uuid", "zuul_ref", ["uuid"])
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [7]


def test_the_recipe_for_a_build_in_a_batch_block_says_to_move_it_after(tmp_path: Path) -> None:
    """prefect and dstack build indexes with ``batch_op.create_index()``: the block's
    operations run when it ends, an autocommit block at once, before the column exists."""
    body = """\
def upgrade():
    with op.batch_alter_table("t") as batch_op:
        batch_op.add_column(sa.Column("x", sa.Integer()))
        batch_op.create_index("ix_t_x", ["x"])
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.hint.splitlines()[0] == BATCH_NOTE


def test_the_recipe_says_what_an_autocommit_block_needs_from_env_py(tmp_path: Path) -> None:
    """solum's and vmware-nsx's env.py run every revision in one transaction: an autocommit
    block would commit the revisions before it too, so the recipe says to change that."""
    env_py = PLAIN_ENV_PY.replace(", transaction_per_migration=True", "")
    body = """\
def upgrade():
    op.create_index("ix_users_email", "users", ["email"])
"""
    (finding,) = envpy_findings(tmp_path, body, rule=RULE, env_py=env_py)
    assert finding.hint.splitlines()[-2:] == [
        "# autocommit_block() commits everything `alembic upgrade` did before it: first set",
        "# transaction_per_migration=True in env.py's context.configure()",
    ]
    (tmp_path / "again").mkdir()
    (kept,) = envpy_findings(tmp_path / "again", body, rule=RULE)
    assert "transaction_per_migration" not in kept.hint


def test_an_index_on_a_materialized_view_holds_up_its_refresh(write_migration) -> None:
    """taxhub indexes its materialized views: no row is written to one, what waits is its
    REFRESH."""
    before = """\
def upgrade():
    op.execute("CREATE MATERIALIZED VIEW vm_names AS SELECT 1 AS id, 'x' AS name")
"""
    body = """\
def upgrade():
    op.create_index("ix_vm_names_name", "vm_names", ["name"])
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert finding.message == (
        'CREATE INDEX "ix_vm_names_name" takes a SHARE lock on "vm_names": its REFRESH '
        "MATERIALIZED VIEW waits until the index is built."
    )


def test_the_lock_is_held_through_the_statements_after_it(tmp_path: Path) -> None:
    """mirrormanager2 builds 17 indexes in one transaction: the first build's lock stays
    until the migration commits, through the 16 after it."""
    body = """\
def upgrade():
    op.create_index("ix_a", "access_stat", ["requests"])
    op.create_index("ix_b", "file_detail", ["timestamp"])
"""
    first, second = lint(tmp_path, body, rule=RULE)
    assert first.message.endswith(
        "until the migration commits, after the 1 statement that follows it."
    )
    assert second.message.endswith("until the index is built.")
