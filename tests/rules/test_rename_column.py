"""rename-column (MS001): renaming a column breaks the code still running during the deploy."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import assert_renders, lines_flagged, lint, lint_with_notices

RULE = "rename-column"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("users", "email", new_column_name="email_address")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: Renaming column "email" of "users" to "email_address" breaks the running application, which still uses "email" (and takes an ACCESS EXCLUSIVE lock).
        # Expand and contract instead of renaming in place:
        # 1. this revision: add the new column; the application writes both columns
        op.add_column("users", sa.Column("email_address", ...))  # same type as "email"
        # 2. backfill in batches:  UPDATE "users" SET "email_address" = "email" WHERE "email_address" IS NULL ...
        # 3. deploy code that reads "email_address", then drop "email" in a later revision:
        op.drop_column("users", "email")
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_schema_qualified_table_keeps_its_schema_in_the_recipe(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("users", "email", new_column_name="email_address", schema="app")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: Renaming column "email" of "app"."users" to "email_address" breaks the running application, which still uses "email" (and takes an ACCESS EXCLUSIVE lock).
        # Expand and contract instead of renaming in place:
        # 1. this revision: add the new column; the application writes both columns
        op.add_column("users", sa.Column("email_address", ...), schema="app")  # same type as "email"
        # 2. backfill in batches:  UPDATE "app"."users" SET "email_address" = "email" WHERE "email_address" IS NULL ...
        # 3. deploy code that reads "email_address", then drop "email" in a later revision:
        op.drop_column("users", "email", schema="app")
        """,  # noqa: E501
        rule=RULE,
    )


def test_mixed_case_columns_stay_quoted_in_the_backfill(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("users", "fullName", new_column_name="displayName")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert 'UPDATE "users" SET "displayName" = "fullName" WHERE "displayName" IS NULL' in (
        finding.hint
    )


def test_raw_sql_without_the_column_keyword_is_a_column_rename(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE users RENAME email TO email_address")
    op.execute("ALTER TABLE IF EXISTS users RENAME COLUMN name TO full_name")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2, 3]


def test_renaming_the_table_an_index_or_a_constraint_is_no_column_rename(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE users RENAME TO accounts")
    op.execute("ALTER INDEX ix_users_email RENAME TO ix_users_mail")
    op.execute("ALTER TABLE users RENAME CONSTRAINT uq_users_email TO uq_users_mail")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_rename_in_batch_mode_is_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("email", new_column_name="email_address")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [3]


def test_a_rename_combined_with_a_type_change_is_flagged_once(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("users", "email", new_column_name="email_address",
                    existing_type=sa.String(50), type_=sa.Text())
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2]


def test_a_table_created_in_the_same_function_has_no_running_code(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("accounts", sa.Column("mail", sa.Text()))
    op.alter_column("accounts", "mail", new_column_name="email")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_column_added_in_the_same_function_has_no_running_code(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("mail", sa.Text()))
    op.alter_column("users", "mail", new_column_name="email")
    op.alter_column("users", "name", new_column_name="full_name")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]


def test_a_column_added_to_another_table_proves_nothing(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("staff", sa.Column("mail", sa.Text()))
    op.alter_column("users", "mail", new_column_name="email")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [3]


def test_a_downgrade_that_renames_back_is_not_judged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("users", "email", new_column_name="email_address")

def downgrade():
    op.alter_column("users", "email_address", new_column_name="email")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2]


def test_a_column_renamed_aside_and_added_again_in_the_same_transaction(tmp_path: Path) -> None:
    """fides swaps a column's type by renaming it aside, adding a new one under its name and
    filling it: when the transaction commits, the running code finds its column. Renamed
    aside with a commit in between, it does not."""
    body = """\
def upgrade():
    op.alter_column("t", "kind", new_column_name="kind_old")
    op.add_column("t", sa.Column("kind", sa.Text()))
    op.execute("UPDATE t SET kind = kind_old::text")
    op.alter_column("t", "label", new_column_name="label_old")
    op.execute("COMMIT")
    op.add_column("t", sa.Column("label", sa.Text()))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]


def test_a_column_renamed_aside_and_added_back_empty_is_flagged(tmp_path: Path) -> None:
    """knowledge-repo renames ``username`` to ``identifier`` and adds ``username`` back,
    filling nothing: the running code finds its column, and every user's name in it is
    NULL. A function whose rows read were not followed may fill it unseen."""
    body = """\
def upgrade():
    op.alter_column("users", "username", new_column_name="identifier")
    op.add_column("users", sa.Column("username", sa.String(500)))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2]
    unseen = body + '    op.get_bind().execute(sa.text("SELECT id FROM users")).fetchall()\n'
    findings, notes = lint_with_notices(tmp_path, unseen, rule=RULE)
    assert findings == [] and len(notes) == 1
