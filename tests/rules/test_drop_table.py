"""drop-table (MS038): the code still running during the deploy queries the table."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import FIRST_BODY_LINE, assert_renders, lines_flagged, lint, lint_with_notices

RULE = "drop-table"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_table("legacy_sessions")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: Dropping table "legacy_sessions" breaks the running application, which still queries it until the new code is deployed.
        # A contract step, after the deploy: no code then running may use "legacy_sessions".
        # 1. deploy code without it: its model, relationships to it, queries of it
        # 2. then, in a later revision (this one, if that code is out already):
        op.drop_table("legacy_sessions")
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_schema_qualified_table_keeps_its_schema_in_the_recipe(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_table("legacy_sessions", schema="app")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: Dropping table "app"."legacy_sessions" breaks the running application, which still queries it until the new code is deployed.
        # A contract step, after the deploy: no code then running may use "app"."legacy_sessions".
        # 1. deploy code without it: its model, relationships to it, queries of it
        # 2. then, in a later revision (this one, if that code is out already):
        op.drop_table("legacy_sessions", schema="app")
        """,  # noqa: E501
        rule=RULE,
    )


def test_raw_sql_naming_several_tables_is_one_finding(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("DROP TABLE IF EXISTS changeset, app.changemask CASCADE")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2]


def test_a_table_created_in_the_same_revision_has_no_running_code(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("import_batch", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute("INSERT INTO import_batch (id) VALUES (1)")
    op.drop_table("import_batch")
    op.drop_table("import_log")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]


def test_a_table_copied_into_place_is_still_there(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("_tmp_users", sa.Column("id", sa.Integer(), primary_key=True))
    op.drop_table("users")
    op.rename_table("_tmp_users", "users")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_table_created_anew_loses_its_rows_unless_they_are_put_back(tmp_path: Path) -> None:
    """nova drops ``share_mapping`` and creates it again: the running code still finds the
    table, but not a row of it. Rows put back from a copy kept aside are not lost."""
    body = """\
def upgrade():
    op.drop_table("cache")
    op.create_table("cache", sa.Column("key", sa.Text(), primary_key=True))
    op.execute("CREATE TABLE sessions_copy AS SELECT * FROM sessions")
    op.drop_table("sessions")
    op.create_table("sessions", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute("INSERT INTO sessions SELECT id FROM sessions_copy")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.line - FIRST_BODY_LINE + 1 == 2
    assert finding.message.startswith('Table "cache" is dropped and created anew at line')
    assert finding.message.endswith(
        "every row it held is lost, and nothing in the revision puts them back."
    )
    assert 'op.rename_table("cache", "cache_old")' in finding.hint
    compile(finding.hint, "<hint>", "exec")


def test_a_name_the_revision_renamed_a_table_to_is_not_known_to_running_code(
    tmp_path: Path,
) -> None:
    body = """\
def upgrade():
    op.rename_table("users", "users_old")
    op.drop_table("users_old")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_version_tables_are_never_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_table("alembic_version_legacy")
    op.execute("DROP TABLE IF EXISTS migrate_version")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_views_and_other_objects_are_not_tables(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("DROP VIEW active_users")
    op.execute("DROP INDEX ix_users_email")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_downgrade_that_drops_what_the_upgrade_created_is_the_rollback(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("tags", sa.Column("id", sa.Integer(), primary_key=True))

def downgrade():
    op.drop_table("tags")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_table_alembic_batch_mode_left_behind_is_bookkeeping(tmp_path: Path) -> None:
    """open-webui drops ``_alembic_tmp_tag`` in case a failed batch run left it."""
    body = """\
def upgrade():
    op.execute("DROP TABLE IF EXISTS _alembic_tmp_tag")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_rows_put_back_where_the_capture_cannot_see_may_be_there(tmp_path: Path) -> None:
    """Kotti fills the new ``images`` through its own session (kotti is not installed, so
    that call is stood in): no claim that the rows are lost."""
    body = """\
from myapp_not_installed import DBSession

def upgrade():
    op.drop_table("images")
    op.create_table("images", sa.Column("id", sa.Integer(), primary_key=True))
    DBSession.execute("INSERT INTO images (id) SELECT id FROM files")
"""
    findings, _ = lint_with_notices(tmp_path, body, rule=RULE)
    assert [f.message for f in findings if "created anew" in f.message] == []


def test_a_table_no_database_of_the_history_holds_dropped_if_it_exists_is_left_alone(
    write_migration,
) -> None:
    """galaxy clears scratch tables a failed run may have left (DROP TABLE IF EXISTS) before
    making them again: the history never made them, no running code queries them."""
    from tests.rules.lint import after_history

    before = 'def upgrade():\n    op.create_table("dataset", sa.Column("id", sa.Integer()))\n'
    body = """\
def upgrade():
    op.execute("DROP TABLE IF EXISTS duplicate_datasets_by_uuid")
    op.execute("DROP TABLE IF EXISTS dataset")
"""
    findings = after_history(write_migration, before, body, rule=RULE)
    assert [f.message.split(" breaks")[0] for f in findings] == ['Dropping table "dataset"']
