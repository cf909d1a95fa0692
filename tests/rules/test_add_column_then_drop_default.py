"""add-column-then-drop-default (MS063): the running code's inserts leave the new column out."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import assert_renders, lines_flagged

RULE = "add-column-then-drop-default"


def test_renders_the_later_revision_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("trial_values", sa.Column("value_type", sa.Text(), nullable=False,
                                            server_default="FINITE"))
    op.alter_column("trial_values", "value_type", server_default=None)
"""
    assert_renders(
        tmp_path,
        body,
        """\
        4: "trial_values"."value_type" is added NOT NULL and its default dropped in the same revision: the running code does not know the column, and its inserts fail until the new code is deployed.
        # This revision: keep the server default, so the running code's inserts still work.
        # A later revision, after the deploy of code that always writes "value_type":
        op.alter_column("trial_values", "value_type", server_default=None)
        """,  # noqa: E501
        rule=RULE,
    )


def test_sql_batch_mode_and_a_schema_are_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE app.orders ADD COLUMN status text NOT NULL DEFAULT 'new'")
    op.execute("ALTER TABLE app.orders ALTER COLUMN status DROP DEFAULT")
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("tier", sa.Text(), nullable=False, server_default="a"))
        batch_op.alter_column("tier", server_default=None)
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [3, 6]


def test_set_default_null_drops_it_too(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("orders", sa.Column("status", sa.Text(), nullable=False, server_default="a"))
    op.execute("ALTER TABLE orders ALTER COLUMN status SET DEFAULT NULL")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [3]


def test_a_column_made_not_null_after_the_backfill_counts(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("orders", sa.Column("status", sa.Text(), server_default="a"))
    op.alter_column("orders", "status", nullable=False)
    op.alter_column("orders", "status", server_default=None)
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]


def test_a_nullable_column_keeps_working_inserts(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("orders", sa.Column("status", sa.Text(), server_default="a"))
    op.alter_column("orders", "status", server_default=None)
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_new_default_is_no_drop(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("orders", sa.Column("status", sa.Text(), nullable=False, server_default="a"))
    op.alter_column("orders", "status", server_default="b")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_table_created_in_the_same_revision_has_no_running_code(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("payments", sa.Column("id", sa.BigInteger(), primary_key=True))
    op.add_column("payments", sa.Column("status", sa.Text(), nullable=False,
                                        server_default="new"))
    op.alter_column("payments", "status", server_default=None)
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_an_existing_column_is_change_column_defaults_concern(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("orders", "status", server_default=None)
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_downgrade_is_not_judged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    pass

def downgrade():
    op.add_column("orders", sa.Column("status", sa.Text(), nullable=False, server_default="a"))
    op.alter_column("orders", "status", server_default=None)
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []
