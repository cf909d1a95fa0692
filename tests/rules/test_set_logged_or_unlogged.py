"""set-logged-or-unlogged (MS031): SET LOGGED / SET UNLOGGED on a table that already exists."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import assert_renders, lines_flagged, lint

RULE = "set-logged-or-unlogged"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE events SET LOGGED")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: SET LOGGED rewrites "events" into the WAL under an ACCESS EXCLUSIVE lock: all reads and writes wait until the copy is done.
        # No online form: in a maintenance window, outside migrations, or build a logged
        # copy of "events", fill it in batches and swap the names in one short transaction.
        # A table a revision creates gets its persistence when it is created:
        op.create_table("events", ...)
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_schema_qualified_table_keeps_its_schema_in_the_recipe(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE app.events SET UNLOGGED")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: SET UNLOGGED rewrites "app"."events" under an ACCESS EXCLUSIVE lock: all reads and writes wait until the copy is done, and from then on a crash empties it and standbys cannot read it.
        # No online form: in a maintenance window, outside migrations, or build an unlogged
        # copy of "app"."events", fill it in batches and swap the names in one short transaction.
        # A table a revision creates gets its persistence when it is created:
        op.create_table("events", ..., prefixes=["UNLOGGED"], schema="app")
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_table_created_in_the_same_function_is_rewritten_while_empty(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("staging", sa.Column("id", sa.Integer()), prefixes=["UNLOGGED"])
    op.execute("INSERT INTO staging SELECT id FROM events")
    op.execute("ALTER TABLE staging SET LOGGED")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_table_of_the_same_name_in_another_schema_is_not_the_new_one(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("staging", sa.Column("id", sa.Integer()), schema="app")
    op.execute("ALTER TABLE staging SET LOGGED")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [3]


def test_each_change_of_persistence_is_one_finding(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE events SET UNLOGGED, SET LOGGED")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2, 2]


def test_other_alter_table_forms_are_not_this_rule(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE events SET (fillfactor = 70)")
    op.execute("ALTER TABLE events SET WITHOUT CLUSTER")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_table_the_upgrade_created_is_live_when_the_downgrade_runs(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("staging", sa.Column("id", sa.Integer()), prefixes=["UNLOGGED"])

def downgrade():
    op.execute("ALTER TABLE staging SET LOGGED")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith("In downgrade(): SET LOGGED")
