"""drop-not-null (MS040): the running code may read NULLs it does not expect."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import after_history, assert_renders, lines_flagged, lint

RULE = "drop-not-null"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("users", "phone", existing_type=sa.Text(), nullable=True)
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: DROP NOT NULL on "users"."phone" lets NULLs in: the running code may read a NULL it does not expect once new code writes one.
        # Harmless by itself: the risk is the old code reading a NULL the new code wrote.
        # Ship code that copes with a NULL "phone" (Mapped[... | None], reads that
        # handle None) before any code writes one; then the change is safe at any time:
        op.alter_column("users", "phone", nullable=True)
        """,  # noqa: E501
        rule=RULE,
    )


def test_raw_sql_on_a_schema_qualified_table(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE app.users ALTER COLUMN phone DROP NOT NULL")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('DROP NOT NULL on "app"."users"."phone" lets NULLs in')
    assert finding.hint.splitlines()[-1] == (
        'op.alter_column("users", "phone", nullable=True, schema="app")'
    )


def test_batch_mode_is_judged_like_op(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.alter_column("fax", existing_type=sa.Text(), nullable=True)
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [3]


def test_a_column_already_nullable_is_not_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("users", "phone", existing_type=sa.Text(), existing_nullable=True,
                    nullable=True, type_=sa.String(40))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_column_added_in_the_revision_has_no_running_code(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("phone", sa.Text(), nullable=False, server_default=""))
    op.alter_column("users", "phone", existing_type=sa.Text(), nullable=True)
    op.alter_column("users", "fax", existing_type=sa.Text(), nullable=True)
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]


def test_a_table_created_in_the_revision_has_no_running_code(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("tags", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("name", sa.Text(), nullable=False))
    op.alter_column("tags", "name", existing_type=sa.Text(), nullable=True)
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_column_or_table_dropped_later_is_left_to_the_drop_rules(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("users", "legacy", existing_type=sa.Text(), nullable=True)
    op.drop_column("users", "legacy")
    op.execute("ALTER TABLE sessions ALTER COLUMN token DROP NOT NULL")
    op.drop_table("sessions")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_downgrade_that_undoes_set_not_null_is_the_rollback(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("users", "email", existing_type=sa.Text(), nullable=False)

def downgrade():
    op.alter_column("users", "email", existing_type=sa.Text(), nullable=True)
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_the_earlier_revisions_tell_which_columns_are_nullable(write_migration) -> None:
    before = """\
def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("phone", sa.Text(), nullable=True),
                    sa.Column("email", sa.Text(), nullable=False))
"""
    body = """\
def upgrade():
    op.execute("ALTER TABLE users ALTER COLUMN phone DROP NOT NULL")
    op.execute("ALTER TABLE users ALTER COLUMN email DROP NOT NULL")
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert finding.message.startswith('DROP NOT NULL on "users"."email"')


def test_a_call_that_renames_the_column_too_keeps_the_rename(tmp_path: Path) -> None:
    """airflow 0032: execution_date becomes logical_date, nullable, in one alter_column."""
    body = """\
def upgrade():
    op.alter_column("dag_run", "execution_date", new_column_name="logical_date",
                    existing_type=sa.TIMESTAMP(), nullable=True)
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert '"execution_date" (renamed to "logical_date") lets NULLs in' in finding.message
    assert finding.hint.endswith(
        'op.alter_column("dag_run", "execution_date", nullable=True, '
        'new_column_name="logical_date")'
    )


def test_a_primary_key_column_keeps_not_null(write_migration) -> None:
    """privacyidea's ``alter_column("tokenrealm", "id", nullable=True)``: PostgreSQL refuses
    DROP NOT NULL on a primary key column, so no NULL ever gets in; and a later SET NOT NULL
    on it scans nothing, the column never stopped being NOT NULL."""
    before = """\
def upgrade():
    op.create_table("tokenrealm", sa.Column("id", sa.Integer(), primary_key=True))
"""
    body = """\
def upgrade():
    op.alter_column("tokenrealm", "id", existing_type=sa.Integer(), nullable=True)

def downgrade():
    op.alter_column("tokenrealm", "id", existing_type=sa.Integer(), nullable=False)
"""
    assert after_history(write_migration, before, body, rule=RULE) == []
    assert after_history(write_migration, before, body, rule="set-not-null") == []
