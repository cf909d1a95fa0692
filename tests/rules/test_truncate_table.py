"""truncate-table (MS036): TRUNCATE empties a live table under an ACCESS EXCLUSIVE lock."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import after_history, assert_renders, lines_flagged, lint

RULE = "truncate-table"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("TRUNCATE TABLE sessions")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: TRUNCATE "sessions" takes an ACCESS EXCLUSIVE lock (all reads and writes wait) and deletes every row, while the running code still reads it.
        # The running code still reads "sessions": if the rows must go, delete them in batches
        # (no lock on reads), or drop the table in a later revision, once no code reads it.
        with op.get_context().autocommit_block():  # each batch commits on its own
            batch = sa.text('DELETE FROM "sessions" WHERE "id" IN (SELECT "id" FROM "sessions" ORDER BY "id" LIMIT 1000)')
            while op.get_bind().execute(batch).rowcount:
                pass
        """,  # noqa: E501
        rule=RULE,
    )


def test_several_tables_with_cascade_are_one_finding(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("TRUNCATE app.carts, cart_items CASCADE")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message == (
        'TRUNCATE "app"."carts", "cart_items" takes an ACCESS EXCLUSIVE lock (all reads and '
        "writes wait) and deletes every row, with the rows of every table that refers to them, "
        "while the running code still reads them."
    )
    assert [line for line in finding.hint.splitlines() if "sa.text" in line] == [
        '    batch = sa.text(\'DELETE FROM "app"."carts" WHERE "id" IN (SELECT "id" FROM '
        '"app"."carts" ORDER BY "id" LIMIT 1000)\')',
        '    batch = sa.text(\'DELETE FROM "cart_items" WHERE "id" IN (SELECT "id" FROM '
        '"cart_items" ORDER BY "id" LIMIT 1000)\')',
    ]


def test_sqlalchemy_text_is_judged_like_a_string(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute(sa.text("TRUNCATE sessions RESTART IDENTITY"))
    op.get_bind().execute(sa.text("TRUNCATE carts"))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2, 3]


def test_a_table_created_in_the_same_revision_has_no_traffic(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("imports", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute("INSERT INTO imports (id) SELECT id FROM users")
    op.execute("TRUNCATE imports, sessions")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('TRUNCATE "sessions" takes')


def test_a_table_dropped_afterwards_is_left_to_drop_table(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("TRUNCATE legacy_sessions")
    op.drop_table("legacy_sessions")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_reload_in_the_same_transaction_is_never_seen_empty(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("TRUNCATE countries")
    op.execute("INSERT INTO countries (code) VALUES ('fr'), ('de')")
    op.execute("TRUNCATE cities")
    with op.get_context().autocommit_block():
        op.execute("INSERT INTO cities (code) VALUES ('paris')")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]


def test_cascade_empties_the_referring_tables_for_good(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("TRUNCATE regions CASCADE")
    op.execute("INSERT INTO regions (code) VALUES ('eu')")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2]


def test_the_version_table_is_never_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("TRUNCATE alembic_version")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_downgrade_that_truncates_says_so(tmp_path: Path) -> None:
    body = """\
def upgrade():
    pass

def downgrade():
    op.execute("TRUNCATE sessions")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('In downgrade(): TRUNCATE "sessions"')


def test_a_downgrade_that_empties_a_table_before_dropping_it_is_left_to_the_drop(
    tmp_path: Path,
) -> None:
    body = """\
def upgrade():
    op.create_table("imports", sa.Column("id", sa.Integer(), primary_key=True))

def downgrade():
    op.execute("TRUNCATE imports")
    op.drop_table("imports")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_the_batches_go_by_the_primary_key_the_history_made(write_migration) -> None:
    before = """\
def upgrade():
    op.create_table("sessions", sa.Column("token", sa.Text(), primary_key=True))
"""
    body = """\
def upgrade():
    op.execute("TRUNCATE sessions")
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert '(SELECT "token" FROM "sessions" ORDER BY "token" LIMIT 1000)' in finding.hint
