"""set-tablespace (MS030): SET TABLESPACE on a table or an index that already exists."""

from __future__ import annotations

from pathlib import Path

from migsafe.command import check
from migsafe.config import Settings
from tests.conftest import migration_source
from tests.rules.lint import assert_renders, lines_flagged, lint

RULE = "set-tablespace"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE events SET TABLESPACE archive")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: SET TABLESPACE "archive" copies the whole table "events" under an ACCESS EXCLUSIVE lock: all reads and writes wait until the copy is done.
        # Outside migrations: pg_repack moves "events" and its indexes online (ACCESS EXCLUSIVE only for a moment,
        # at the start and at the end), or run the ALTER in a maintenance window:
        #   pg_repack --table=events --tablespace=archive --moveidx --dbname=DBNAME
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_schema_qualified_index_keeps_its_schema_in_the_recipe(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER INDEX app.ix_events_at SET TABLESPACE fast")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: ALTER INDEX "app"."ix_events_at" SET TABLESPACE "fast" copies the index under an ACCESS EXCLUSIVE lock on it: all reads and writes of its table wait until the copy is done (planning a query locks every index of its table).
        with op.get_context().autocommit_block():  # CONCURRENTLY: not in a transaction
            op.execute('REINDEX (TABLESPACE "fast") INDEX CONCURRENTLY "app"."ix_events_at"')
        """,  # noqa: E501
        rule=RULE,
    )


def test_before_postgresql_14_an_index_moves_with_pg_repack(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER INDEX ix_events_at SET TABLESPACE fast")
"""
    (old,) = lint(tmp_path, body, rule=RULE, pg_version=13)
    (new,) = lint(tmp_path, body, rule=RULE, pg_version=14)
    assert "REINDEX" not in old.hint.replace("has no REINDEX", "")
    assert "pg_repack --index=ix_events_at --tablespace=fast" in old.hint
    assert "REINDEX (TABLESPACE" in new.hint


def test_a_table_created_in_the_same_function_has_no_traffic(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("events", sa.Column("id", sa.Integer(), primary_key=True),
                    postgresql_tablespace="fast")
    op.execute("ALTER TABLE events SET TABLESPACE archive")
    op.create_index("ix_events_id", "events", ["id"], postgresql_tablespace="fast")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_an_index_created_in_the_same_function_is_not_used_yet(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_index("ix_users_email", "users", ["email"])
    op.execute("ALTER INDEX ix_users_email SET TABLESPACE fast")
    op.execute("ALTER INDEX ix_users_name SET TABLESPACE fast")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]


def test_a_materialized_view_and_all_in_tablespace_are_copied_too(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER MATERIALIZED VIEW daily_totals SET TABLESPACE archive")
    op.execute("ALTER TABLE ALL IN TABLESPACE fast SET TABLESPACE archive")
    op.execute("ALTER INDEX ALL IN TABLESPACE fast SET TABLESPACE archive")
    op.execute("ALTER TABLE events SET (fillfactor = 70)")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2, 3, 4]
    view, tables, indexes = lint(tmp_path, body, rule=RULE)
    assert 'materialized view "daily_totals"' in view.message
    assert "pg_repack" not in view.hint
    assert "copies every table there" in tables.message
    assert "--index=INDEX" in indexes.hint


def test_a_downgrade_that_moves_a_table_says_so(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE events SET TABLESPACE archive")

def downgrade():
    op.execute("ALTER TABLE events SET TABLESPACE pg_default")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2, 5]
    assert lint(tmp_path, body, rule=RULE)[1].message.startswith("In downgrade(): SET TABLESPACE")


def test_the_index_of_a_table_an_earlier_revision_made_names_its_table(tmp_path: Path) -> None:
    first = """\
def upgrade():
    op.create_table("events", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("at", sa.DateTime()))
    op.create_index("ix_events_at", "events", ["at"])
"""
    second = """\
def upgrade():
    op.execute("ALTER INDEX ix_events_at SET TABLESPACE fast")
"""
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "r1.py").write_text(migration_source(first, revision="r1"))
    (versions / "r2.py").write_text(migration_source(second, revision="r2", down_revision="r1"))
    result = check(versions, Settings(pg_version=16))
    (finding,) = [f for f in result.findings if f.rule == RULE]
    assert 'all reads and writes of "events" wait' in finding.message
