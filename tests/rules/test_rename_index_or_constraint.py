"""rename-index-or-constraint (MS041): renaming breaks code that names the old name."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import after_history, assert_renders, lines_flagged, lint

RULE = "rename-index-or-constraint"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE users RENAME CONSTRAINT user_email_key TO uq_users_email")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: Renaming constraint "user_email_key" of "users" to "uq_users_email" breaks code that names "user_email_key" (ON CONFLICT ON CONSTRAINT, error handlers) and models that still declare it under that name.
        # Code that names "user_email_key" at run time breaks at once: make it name neither
        # (ON CONFLICT (columns) instead of ON CONFLICT ON CONSTRAINT,
        # error handlers that accept both names),
        # deploy it first, and rename it in the models too.
        op.execute('ALTER TABLE "users" RENAME CONSTRAINT "user_email_key" TO "uq_users_email"')
        """,  # noqa: E501
        rule=RULE,
    )


def test_an_index_rename_keeps_its_schema(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER INDEX app.ix_user_email RENAME TO ix_users_email")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message == (
        'Renaming index "app"."ix_user_email" to "ix_users_email" breaks code that names '
        '"ix_user_email" (error handlers, query hints) and models that still declare it under '
        "that name."
    )
    assert finding.hint.splitlines()[-1] == (
        """op.execute('ALTER INDEX "app"."ix_user_email" RENAME TO "ix_users_email"')"""
    )


def test_a_schema_qualified_constraint_rename(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute('ALTER TABLE app.users RENAME CONSTRAINT "users_email_key" TO users_mail_key')
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith(
        'Renaming constraint "users_email_key" of "app"."users" to "users_mail_key"'
    )
    assert finding.hint.splitlines()[-1] == (
        """op.execute('ALTER TABLE "app"."users" RENAME CONSTRAINT "users_email_key" """
        """TO "users_mail_key"')"""
    )


def test_an_index_created_in_the_same_revision_has_no_users(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_index("ix_users_email_tmp", "users", ["email"])
    op.execute("ALTER INDEX ix_users_email_tmp RENAME TO ix_users_email")
    op.execute("ALTER INDEX ix_orders_user RENAME TO ix_orders_user_id")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]


def test_a_constraint_of_a_table_created_in_the_same_revision_has_no_users(
    tmp_path: Path,
) -> None:
    body = """\
def upgrade():
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.Text()),
        sa.UniqueConstraint("name", name="tags_name_uq"),
    )
    op.execute("ALTER TABLE tags RENAME CONSTRAINT tags_name_uq TO tags_name_key")
    op.create_unique_constraint("users_nick_uq", "users", ["nick"])
    op.execute("ALTER TABLE users RENAME CONSTRAINT users_nick_uq TO users_nick_key")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_both_halves_of_a_swap_keep_the_name_the_code_uses(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER INDEX ix_users_email RENAME TO ix_users_email_old")
    op.execute("ALTER INDEX ix_users_email_new RENAME TO ix_users_email")
    op.execute("DROP INDEX ix_users_email_old")
    op.drop_constraint("orders_total_check", "orders", type_="check")
    op.execute("ALTER TABLE orders RENAME CONSTRAINT orders_total_check2 TO orders_total_check")
    op.execute("ALTER TABLE orders RENAME CONSTRAINT orders_qty_check2 TO orders_qty_check")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [7]  # nothing freed its new name


def test_names_renamed_with_their_table_are_left_to_rename_table(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.rename_table("users", "customers")
    op.execute("ALTER INDEX users_pkey RENAME TO customers_pkey")
    op.execute("ALTER INDEX ix_users_email RENAME TO ix_customers_email")
    op.execute("ALTER TABLE customers RENAME CONSTRAINT users_email_key TO customers_email_key")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_tables_columns_and_downgrades_are_not_this_rule(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.rename_table("users", "customers")
    op.alter_column("orders", "total", new_column_name="total_cents")

def downgrade():
    op.execute("ALTER INDEX ix_users_email RENAME TO ix_user_email")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_alter_table_rename_of_a_known_index_is_an_index_rename(write_migration) -> None:
    before = """\
def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("email", sa.Text()))
    op.create_index("ix_user_email", "users", ["email"])
"""
    body = """\
def upgrade():
    op.execute("ALTER TABLE ix_user_email RENAME TO ix_users_email")
    op.execute("ALTER TABLE users RENAME TO customers")
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert finding.message.startswith('Renaming index "ix_user_email" to "ix_users_email"')
