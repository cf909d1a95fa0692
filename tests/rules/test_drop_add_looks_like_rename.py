"""drop-add-looks-like-rename (MS003): dropping one column and adding another loses the data."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import after_history, assert_renders, lines_flagged, lint_with_notices

RULE = "drop-add-looks-like-rename"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_column("users", "fullname")
    op.add_column("users", sa.Column("full_name", sa.Text(), nullable=True))
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: Column "fullname" of "users" is dropped and "full_name" added (line 11): if this is a rename, every value in "fullname" is lost.
        # If "full_name" is "fullname" renamed, keep the data: add, copy, drop later.
        op.add_column("users", sa.Column("full_name", ...))
        op.execute('UPDATE "users" SET "full_name" = "fullname"')  # in batches on big tables
        # drop "fullname" in a later revision, once no running code reads it
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_schema_qualified_table_keeps_its_schema_in_the_recipe(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_column("users", "fullname", schema="app")
    op.add_column("users", sa.Column("full_name", sa.Text(), nullable=True), schema="app")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: Column "fullname" of "app"."users" is dropped and "full_name" added (line 11): if this is a rename, every value in "fullname" is lost.
        # If "full_name" is "fullname" renamed, keep the data: add, copy, drop later.
        op.add_column("users", sa.Column("full_name", ...), schema="app")
        op.execute('UPDATE "app"."users" SET "full_name" = "fullname"')  # in batches on big tables
        # drop "fullname" in a later revision, once no running code reads it
        """,  # noqa: E501
        rule=RULE,
    )


def test_add_then_drop_as_autogenerate_writes_it_is_flagged_at_the_drop(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("full_name", sa.Text(), nullable=True))
    op.drop_column("users", "fullname")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [3]


def test_a_drop_and_an_add_on_different_tables_are_unrelated(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_column("users", "fullname")
    op.add_column("accounts", sa.Column("full_name", sa.Text()))
    op.drop_column("orders", "note", schema="app")
    op.add_column("orders", sa.Column("notes", sa.Text()))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_one_drop_and_two_adds_are_no_rename_to_point_at(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_column("users", "fullname")
    op.add_column("users", sa.Column("first_name", sa.Text()))
    op.add_column("users", sa.Column("last_name", sa.Text()))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_dropping_and_re_adding_the_same_name_is_a_type_change_not_a_rename(
    tmp_path: Path,
) -> None:
    body = """\
def upgrade():
    op.drop_column("users", "age")
    op.add_column("users", sa.Column("age", sa.Integer()))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_batch_mode_is_judged_like_plain_operations(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("full_name", sa.Text(), nullable=True))
        batch_op.drop_column("fullname")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]


def test_raw_sql_dropping_and_adding_in_one_statement_is_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE users DROP COLUMN fullname, ADD COLUMN full_name text")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2]


def test_copying_the_data_before_the_drop_keeps_it(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("full_name", sa.Text(), nullable=True))
    op.execute("UPDATE users SET full_name = coalesce(fullname, '')")
    op.drop_column("users", "fullname")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_copying_with_a_sqlalchemy_update_keeps_the_data(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("full_name", sa.Text(), nullable=True))
    users = sa.table("users", sa.column("fullname"), sa.column("full_name"))
    op.execute(users.update().values(full_name=users.c.fullname))
    op.drop_column("users", "fullname")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_filling_the_new_column_with_a_constant_copies_nothing(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("full_name", sa.Text(), nullable=True))
    op.execute("UPDATE users SET full_name = ''")
    op.drop_column("users", "fullname")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]


def test_copying_on_another_table_keeps_nothing(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("full_name", sa.Text(), nullable=True))
    op.execute("UPDATE staff SET full_name = fullname")
    op.drop_column("users", "fullname")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]


def test_a_table_created_in_the_same_function_has_no_data(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("users", sa.Column("fullname", sa.Text()))
    op.drop_column("users", "fullname")
    op.add_column("users", sa.Column("full_name", sa.Text()))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_the_downgrade_that_reverses_it_is_not_judged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("full_name", sa.Text(), nullable=True))
    op.drop_column("users", "fullname")

def downgrade():
    op.add_column("users", sa.Column("fullname", sa.TEXT(), autoincrement=False, nullable=True))
    op.drop_column("users", "full_name")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [3]


def test_columns_of_different_kinds_are_no_rename(write_migration) -> None:
    """dstack drops ``removed`` (a boolean) and adds ``replica_num`` (a count): no rename;
    copying one into the other, as the recipe would, fails. A varchar made text may be."""
    before = """\
def upgrade():
    op.create_table("jobs", sa.Column("id", sa.Integer()), sa.Column("removed", sa.Boolean()),
                    sa.Column("title", sa.String(64)))
"""
    body = """\
def upgrade():
    op.drop_column("jobs", "removed")
    op.add_column("jobs", sa.Column("replica_num", sa.Integer(), server_default="0"))
"""
    assert after_history(write_migration, before, body, rule=RULE) == []
    text = body.replace('"removed"', '"title"').replace(
        'sa.Column("replica_num", sa.Integer(), server_default="0")', 'sa.Column("name", sa.Text())'
    )
    assert [f.line for f in after_history(write_migration, before, text, rule=RULE)] == [10]


def test_nothing_is_said_when_upgrade_was_not_captured_to_its_end(tmp_path: Path) -> None:
    """The copy may come after the point the capture reached."""
    body = """\
def upgrade():
    op.drop_column("users", "email")
    op.add_column("users", sa.Column("mail", sa.Text()))
    raise RuntimeError("needs the application's settings")
"""
    findings, notices = lint_with_notices(tmp_path, body, rule=RULE)
    assert findings == [] and "RuntimeError" in notices[0].message


def test_values_carried_over_by_a_condition_are_not_lost(tmp_path: Path) -> None:
    """zenml sets ``private`` from ``scope`` (``SET private = TRUE WHERE scope = 'user'``)
    before dropping ``scope``."""
    body = """\
def upgrade():
    op.add_column("secret", sa.Column("private", sa.Boolean(), server_default="false"))
    op.execute("UPDATE secret SET private = TRUE WHERE scope = 'user'")
    op.drop_column("secret", "scope")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_sql_that_could_not_be_read_may_hold_the_copy(tmp_path: Path) -> None:
    """zenml copies with MySQL's backticks, which PostgreSQL's parser rejects
    (sql-does-not-parse says so): whether the data was copied cannot be told."""
    body = """\
def upgrade():
    op.add_column("action", sa.Column("project_id", sa.Integer()))
    op.execute("UPDATE `action` SET project_id = workspace_id")
    op.drop_column("action", "workspace_id")
"""
    findings, _ = lint_with_notices(tmp_path, body, rule=RULE)
    assert findings == []


def test_a_copy_of_each_row_read_cannot_be_told(tmp_path: Path) -> None:
    """mindsdb reads every row and writes each one's value into the new column: offline the
    read gives no rows, so no write is seen, which says nothing about a copy."""
    body = """\
def upgrade():
    op.add_column("predictor", sa.Column("data_integration_ref", sa.JSON()))
    conn = op.get_bind()
    for row in conn.execute(sa.text("SELECT id, data_integration_id FROM predictor")):
        conn.execute(sa.text("UPDATE predictor SET data_integration_ref = :r WHERE id = :i"),
                     {"r": row[1], "i": row[0]})
    op.drop_column("predictor", "data_integration_id")
"""
    findings, notices = lint_with_notices(tmp_path, body, rule=RULE)
    assert findings == [] and "reads rows" in notices[0].message


def test_a_new_column_filled_from_other_columns_is_no_lost_rename(tmp_path: Path) -> None:
    """pypn-ref-geo drops a cached ``geojson_4326`` and fills ``geom_4326`` from ``geom``:
    the new values are the revision's own. Filled with a constant, it may still be a
    rename whose values were lost."""
    body = """\
def upgrade():
    op.drop_column("areas", "geojson_4326")
    op.add_column("areas", sa.Column("geom_4326", sa.Text()))
    op.execute("UPDATE areas SET geom_4326 = upper(geom)")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []
    constant = body.replace("upper(geom)", "'none'")
    assert lines_flagged(tmp_path, constant, rule=RULE) == [2]
