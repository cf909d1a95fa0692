"""drop-index-not-concurrently (MS006): DROP INDEX locks its table against reads and writes."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import after_history, assert_renders, lines_flagged, lint

RULE = "drop-index-not-concurrently"


def recipe_calls(tmp_path: Path, body: str) -> list[str]:
    """The calls the one finding's recipe puts inside the autocommit block."""
    (finding,) = lint(tmp_path, body, rule=RULE)
    lines = finding.hint.splitlines()
    if lines[0].startswith("# after the batch_alter_table() block"):
        lines = lines[1:]  # a batch operation: the recipe goes after its block
    opening, *calls = lines
    assert opening == "with op.get_context().autocommit_block():"
    return [call.strip() for call in calls]


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_index("ix_users_email", table_name="users")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: DROP INDEX "ix_users_email" takes an ACCESS EXCLUSIVE lock on "users": all reads and writes queue behind it until running queries finish.
        with op.get_context().autocommit_block():
            op.drop_index("ix_users_email", table_name="users", postgresql_concurrently=True)
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_schema_qualified_table_keeps_its_schema_in_the_recipe(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_index("ix_users_email", table_name="users", schema="app")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: DROP INDEX "app"."ix_users_email" takes an ACCESS EXCLUSIVE lock on "app"."users": all reads and writes queue behind it until running queries finish.
        with op.get_context().autocommit_block():
            op.drop_index("ix_users_email", table_name="users", schema="app", postgresql_concurrently=True)
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_drop_concurrently_is_fine(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.get_context().autocommit_block():
        op.drop_index("ix_users_email", table_name="users", postgresql_concurrently=True)
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_users_name")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_raw_sql_gets_one_quoted_drop_per_index(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute('DROP INDEX IF EXISTS ix_runs_status, app."IX_Runs_Start"')
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2]
    assert recipe_calls(tmp_path, body) == [
        """op.execute('DROP INDEX CONCURRENTLY IF EXISTS "ix_runs_status"')""",
        """op.execute('DROP INDEX CONCURRENTLY IF EXISTS "app"."IX_Runs_Start"')""",
    ]


def test_an_index_created_earlier_in_the_same_function_is_unused(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_index("ix_users_email", table_name="users")
    op.create_index("ix_users_email", "users", ["email", "org_id"])
    op.create_index("ix_tmp", "users", ["name"])
    op.execute("DROP INDEX ix_tmp")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2]


def test_a_table_dropped_later_in_the_same_function_is_locked_anyway(tmp_path: Path) -> None:
    body = """\
def downgrade():
    op.drop_index(op.f("ix_task_map_dag_id"), table_name="task_map")
    op.drop_table("task_map")
    op.drop_index("ix_log_dttm", table_name="log")
    op.execute("DROP TABLE log")

def upgrade():
    pass
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_table_dropped_later_in_another_schema_is_not_the_same_table(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_index("ix_log_dttm", table_name="log", schema="audit")
    op.drop_table("log")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2]


def test_a_table_dropped_only_in_the_other_function_is_still_live(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_index("ix_log_dttm", table_name="log")

def downgrade():
    op.drop_table("log")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2]


def test_a_downgrade_that_drops_an_index_says_so(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.get_context().autocommit_block():
        op.create_index("ix_users_email", "users", ["email"], postgresql_concurrently=True)

def downgrade():
    op.drop_index("ix_users_email", table_name="users")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [6]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('In downgrade(): DROP INDEX "ix_users_email"')


def test_a_batch_operation_gets_an_op_call_with_its_table(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.batch_alter_table("dag_run", schema=None) as batch_op:
        batch_op.drop_index("idx_dag_run_queued")
"""
    assert recipe_calls(tmp_path, body) == [
        'op.drop_index("idx_dag_run_queued", table_name="dag_run", postgresql_concurrently=True)'
    ]


def test_the_recipe_keeps_op_f_and_if_exists(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_index(op.f("ix_runs_name"), table_name="runs", if_exists=True)
"""
    assert recipe_calls(tmp_path, body) == [
        'op.drop_index(op.f("ix_runs_name"), table_name="runs", if_exists=True, '
        "postgresql_concurrently=True)"
    ]


def test_a_downgrade_finds_the_table_of_an_index_its_upgrade_created(tmp_path: Path) -> None:
    """buildbot's downgrade drops, by name alone, the index its upgrade created: the table
    it locks is the one the upgrade built it on (and lock-timeout-missing finds it too)."""
    body = """\
def upgrade():
    with op.get_context().autocommit_block():
        op.create_index("builders_projectid", "builders", ["projectid"],
                        postgresql_concurrently=True)

def downgrade():
    op.drop_index("builders_projectid")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert 'takes an ACCESS EXCLUSIVE lock on "builders"' in finding.message


def test_an_index_named_without_its_table_keeps_the_alembic_call(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_index("ix_users_email")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: DROP INDEX "ix_users_email" takes an ACCESS EXCLUSIVE lock: all reads and writes queue behind it until running queries finish.
        with op.get_context().autocommit_block():
            op.drop_index("ix_users_email", postgresql_concurrently=True)
        """,  # noqa: E501
        rule=RULE,
    )


def test_an_index_that_went_with_its_table_takes_no_lock(write_migration) -> None:
    """buildbot's downgrade drops the table ``projects``, then its index: the index went
    with the table, so PostgreSQL answers "does not exist" and locks nothing."""
    before = """\
def upgrade():
    op.create_table("projects", sa.Column("id", sa.Integer()), sa.Column("name_hash", sa.Text()))
    op.create_index("projects_name_hash", "projects", ["name_hash"], unique=True)
"""
    body = """\
def upgrade():
    op.drop_table("projects")
    op.drop_index("projects_name_hash")
    op.drop_index("ix_users_email")  # a table the history does not know: flagged
"""
    findings = after_history(write_migration, before, body, rule=RULE)
    assert [f.message.split(" takes")[0] for f in findings] == ['DROP INDEX "ix_users_email"']


def test_a_table_already_locked_in_the_transaction_waits_for_nobody(tmp_path: Path) -> None:
    """networking-l2gw renames ``tenant_id``, then drops its index: the rename holds ACCESS
    EXCLUSIVE already, and is the statement reported. After a commit, the lock is gone."""
    body = """\
def upgrade():
    op.alter_column("l2gateways", "tenant_id", new_column_name="project_id")
    op.drop_index("ix_l2gateways_tenant_id", table_name="l2gateways")
    with op.get_context().autocommit_block():
        pass
    op.drop_index("ix_l2gateways_name", table_name="l2gateways")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [6]


def test_each_of_several_drops_on_one_table_is_flagged(tmp_path: Path) -> None:
    """CKAN's autogenerated sync drops three indexes of ``rating``: each gets its recipe."""
    body = """\
def upgrade():
    op.drop_index("idx_rating_id", table_name="rating")
    op.drop_index("idx_rating_user_id", table_name="rating")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2, 3]


def test_an_index_built_before_a_commit_is_dropped_from_a_live_table(tmp_path: Path) -> None:
    """prefect's downgrade builds an index in an autocommit block, then drops it: by then
    the table is free again, and the DROP locks it. Built in the same transaction, the
    build holds the table already."""
    body = """\
def upgrade():
    with op.get_context().autocommit_block():
        op.create_index("ix_flow_run_tmp", "flow_run", ["id"], postgresql_concurrently=True)
    op.drop_index("ix_flow_run_tmp", table_name="flow_run")
    op.create_index("ix_flow_run_other", "flow_run", ["state"])
    op.drop_index("ix_flow_run_other", table_name="flow_run")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]


def test_an_index_whose_columns_are_dropped_after_it_gains_nothing_concurrently(
    write_migration,
) -> None:
    """mage-ai's downgrade drops the index, then its column, which takes the table's
    ACCESS EXCLUSIVE lock and would drop the index anyway. One dropped column is enough
    (PostgreSQL drops every index on it); an index on columns left in place keeps the
    finding."""
    before = """\
def upgrade():
    op.create_table("pipeline_schedule", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("token", sa.Text()), sa.Column("name", sa.Text()))
    op.create_index("ix_token", "pipeline_schedule", ["token"])
    op.create_index("ix_token_name", "pipeline_schedule", ["token", "name"])
    op.create_index("ix_name", "pipeline_schedule", ["name"])
"""
    body = """\
def upgrade():
    op.drop_index("ix_token", table_name="pipeline_schedule")
    op.drop_index("ix_token_name", table_name="pipeline_schedule")
    op.drop_index("ix_name", table_name="pipeline_schedule")
    op.drop_column("pipeline_schedule", "token")
"""
    findings = after_history(write_migration, before, body, rule=RULE)
    assert [f.message.split(" takes")[0] for f in findings] == ['DROP INDEX "ix_name"']
