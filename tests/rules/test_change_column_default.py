"""change-column-default (MS042, opt-in notice): the running code's inserts that leave the
column out store something else."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import after_history, assert_renders, lines_flagged, lint

RULE = "change-column-default"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("orders", "status", server_default="pending")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: SET DEFAULT 'pending' on "orders"."status" changes what the running code's inserts that leave it out store.
        # The running code's inserts that leave "status" out get the new default at once.
        # If they must not, deploy code that sets "status" itself first (a Python-side
        # default= on the model), then change it:
        op.alter_column("orders", "status", server_default="pending")
        """,  # noqa: E501
        rule=RULE,
    )


def test_drop_default_in_sql_on_a_schema_qualified_table(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE app.orders ALTER COLUMN status DROP DEFAULT")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message == (
        'DROP DEFAULT on "app"."orders"."status": the running code\'s inserts that leave it out '
        "store NULL from now on (or fail, if it is NOT NULL)."
    )
    assert finding.hint.splitlines()[-1] == (
        'op.alter_column("orders", "status", server_default=None, schema="app")'
    )


def test_an_sql_default_is_rendered_as_sa_text(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("orders", "created_at", server_default=sa.func.now())
    op.alter_column("orders", "n", server_default=sa.text("0"))
"""
    now, zero = lint(tmp_path, body, rule=RULE)
    assert now.message.startswith('SET DEFAULT now() on "orders"."created_at"')
    assert now.hint.splitlines()[-1] == (
        'op.alter_column("orders", "created_at", server_default=sa.text("now()"))'
    )
    assert (
        zero.hint.splitlines()[-1] == 'op.alter_column("orders", "n", server_default=sa.text("0"))'
    )


def test_what_the_call_says_of_the_column_is_used(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("orders", "status", existing_server_default="new",
                    existing_nullable=False, server_default=None)
    op.alter_column("orders", "note", existing_nullable=True, server_default=None)
"""
    status, note = lint(tmp_path, body, rule=RULE)
    assert status.message == (
        'DROP DEFAULT on "orders"."status" (was \'new\'): the running code\'s inserts that '
        "leave it out fail from now on (it is NOT NULL)."
    )
    assert '# The running code\'s inserts that leave "status" out fail at once.' in status.hint
    assert note.message.endswith("store NULL from now on.")


def test_a_default_that_stays_the_same_is_not_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("orders", "status", existing_server_default="new", server_default="new",
                    type_=sa.String(40))
    op.alter_column("orders", "at", existing_server_default=sa.text("now()"),
                    server_default=sa.func.now(), nullable=False)
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_column_added_in_the_revision_has_no_running_code(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("orders", sa.Column("status", sa.Text(), nullable=False,
                                      server_default="pending"))
    op.alter_column("orders", "status", server_default=None)
    op.alter_column("orders", "kind", server_default=None)
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]


def test_a_table_created_in_the_revision_has_no_running_code(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("tags", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("name", sa.Text()))
    op.alter_column("tags", "name", server_default="")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_other_column_changes_are_not_this_rule(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("orders", "status", existing_type=sa.Text(), nullable=True)
    op.alter_column("orders", "total", type_=sa.BigInteger())

def downgrade():
    op.alter_column("orders", "status", server_default=None)
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_the_earlier_revisions_tell_the_default_it_had(write_migration) -> None:
    before = """\
def upgrade():
    op.create_table("orders", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("status", sa.Text(), nullable=False, server_default="new"),
                    sa.Column("kind", sa.Text(), server_default="a"))
"""
    body = """\
def upgrade():
    op.alter_column("orders", "status", server_default=None)
    op.alter_column("orders", "kind", server_default="a")
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert finding.message == (
        'DROP DEFAULT on "orders"."status" (was \'new\'): the running code\'s inserts that '
        "leave it out fail from now on (it is NOT NULL)."
    )


def test_a_column_or_table_dropped_later_is_left_to_the_drop_rules(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("orders", "legacy", server_default=None)
    op.drop_column("orders", "legacy")
    op.execute("ALTER TABLE sessions ALTER COLUMN token SET DEFAULT ''")
    op.drop_table("sessions")
    op.execute("ALTER TABLE alembic_version ALTER COLUMN version_num DROP DEFAULT")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []
