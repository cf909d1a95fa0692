"""unbatched-update (MS035): an UPDATE or DELETE of every row of a live table at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.lint import after_history, assert_renders, lines_flagged, lint, rendered

RULE = "unbatched-update"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("UPDATE users SET email = lower(email)")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: UPDATE of "users" (SET email) changes every row (no WHERE) in one transaction: each stays locked until the migration commits (the application's writes to it wait), and the table bloats with a dead copy of each.
        from migsafe.runtime import batched_update

        with op.get_context().autocommit_block():  # each batch commits on its own
            batched_update(op.get_bind(), "users", "email = lower(email)")
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_delete_of_every_row_is_written_as_batches_of_the_key(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("DELETE FROM app.sessions WHERE TRUE")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert rendered(finding).splitlines() == [
        '2: DELETE FROM "app"."sessions" removes every row (WHERE TRUE) in one transaction: '
        "each stays locked until the migration commits (the application's writes to it wait), "
        "and their space stays dead until VACUUM.",
        "with op.get_context().autocommit_block():  # each batch commits on its own",
        '    batch = sa.text(\'DELETE FROM "app"."sessions" WHERE "id" IN (SELECT "id" FROM '
        '"app"."sessions" WHERE TRUE ORDER BY "id" LIMIT 1000)\')',
        "    while op.get_bind().execute(batch).rowcount:",
        "        pass",
    ]


def test_a_schema_qualified_table_keeps_its_schema_in_the_recipe(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("UPDATE app.users SET active = true")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith(
        'UPDATE of "app"."users" (SET active) changes every row (no WHERE)'
    )
    assert finding.hint.splitlines()[-1] == (
        '    batched_update(op.get_bind(), "users", "active = TRUE", schema="app")'
    )


def test_sqlalchemy_core_updates_are_judged_like_raw_sql(tmp_path: Path) -> None:
    body = """\
def upgrade():
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("active", sa.Boolean))
    op.execute(users.update().values(active=True))
    op.execute(users.update().where(users.c.id == 3).values(active=False))
    op.execute(users.delete())
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [3, 5]


def test_a_where_that_picks_rows_is_not_every_row(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("UPDATE users SET email = lower(email) WHERE id = 42")
    op.execute("UPDATE users SET role = 'member' WHERE role = 'user'")
    op.execute("DELETE FROM sessions WHERE expires_at < now()")
    op.execute("DELETE FROM sessions WHERE id IN (SELECT id FROM sessions LIMIT 1000)")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_backfill_of_a_column_just_added_matches_every_row(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("email_lower", sa.Text()))
    op.execute("UPDATE users SET email_lower = lower(email) WHERE email_lower IS NULL")
    op.add_column("users", sa.Column("plan", sa.Text(), server_default="free"))
    op.execute("UPDATE users SET plan = 'pro' WHERE plan IS NULL")
    op.execute("UPDATE users SET nickname = name WHERE nickname IS NULL")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [3]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert '(WHERE "email_lower" IS NULL, a column added just before)' in finding.message
    assert finding.hint.splitlines()[-1] == (
        '    batched_update(op.get_bind(), "users", "email_lower = lower(email)", '
        'where="email_lower IS NULL")'
    )


def test_a_table_created_in_the_same_revision_has_no_traffic(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("tags", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("name", sa.Text()))
    op.execute("UPDATE tags SET name = 'none'")
    op.execute("DELETE FROM tags")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_batched_update_is_what_the_rule_asks_for(tmp_path: Path) -> None:
    body = """\
def upgrade():
    from migsafe.runtime import batched_update

    with op.get_context().autocommit_block():
        batched_update(op.get_bind(), "users", "email = lower(email)")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_in_an_autocommit_block_the_rows_stay_locked_until_the_statement_ends(
    tmp_path: Path,
) -> None:
    body = """\
def upgrade():
    with op.get_context().autocommit_block():
        op.execute("UPDATE users SET email = lower(email)")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert "each stays locked until the statement ends" in finding.message
    assert rendered(finding).splitlines()[1:] == [
        "from migsafe.runtime import batched_update",
        "",
        'batched_update(op.get_bind(), "users", "email = lower(email)")',
    ]


def test_a_downgrade_that_updates_every_row_says_so(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("UPDATE users SET role = 'member' WHERE role = 'user'")

def downgrade():
    op.execute("UPDATE users SET role = 'user'")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith(
        'In downgrade(): UPDATE of "users" (SET role) changes every row'
    )


def test_the_version_table_is_never_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("UPDATE alembic_version SET version_num = 'a1'")
    op.execute("DELETE FROM alembic_version_legacy")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_the_recipe_batches_by_the_primary_key_the_history_made(write_migration) -> None:
    before = """\
def upgrade():
    op.create_table("countries", sa.Column("code", sa.Text(), primary_key=True),
                    sa.Column("name", sa.Text()))
"""
    body = """\
def upgrade():
    op.execute("UPDATE countries SET name = upper(name)")
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert finding.hint.splitlines()[-1] == (
        '    batched_update(op.get_bind(), "countries", "name = upper(name)", key="code")'
    )


@pytest.mark.parametrize(
    ("columns", "last_line"),
    [
        (  # a unique NOT NULL column is a key too
            'sa.Column("email", sa.Text(), nullable=False, unique=True), '
            'sa.Column("name", sa.Text())',
            '    batched_update(op.get_bind(), "members", "name = upper(name)", key="email")',
        ),
        (  # faraday's roles_users: no one-column key at all
            'sa.Column("user_id", sa.Integer()), sa.Column("name", sa.Text())',
            '    batched_update(op.get_bind(), "members", "name = upper(name)")  # "members" '
            "has no one-column key (unique and NOT NULL) to batch by: add one first, or write "
            "the batches by hand",
        ),
        (  # zou's id, added without NOT NULL: all NULL, nothing to range over
            'sa.Column("id", sa.Integer(), unique=True), sa.Column("name", sa.Text())',
            '    batched_update(op.get_bind(), "members", "name = upper(name)")  # "members" '
            "has no one-column key (unique and NOT NULL) to batch by: add one first, or write "
            "the batches by hand",
        ),
    ],
    ids=["unique-not-null", "no-key", "nullable-unique"],
)
def test_the_recipe_batches_only_by_a_real_key(write_migration, columns, last_line) -> None:
    before = f"""\
def upgrade():
    op.create_table("members", {columns})
"""
    body = """\
def upgrade():
    op.execute("UPDATE members SET name = upper(name)")
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert finding.hint.splitlines()[-1] == last_line


def test_a_table_emptied_for_a_required_column_is_left_alone(tmp_path: Path) -> None:
    """optuna v2.4.0.a, airflow 0047: the rows go so that a NOT NULL column without a default
    can be added in the same transaction; batches outside it would let rows in between."""
    body = """\
def upgrade():
    op.execute("DELETE FROM trial_values")
    op.add_column("trial_values", sa.Column("objective", sa.Integer(), nullable=False))
    op.execute("DELETE FROM dag_code")
    op.add_column("dag_code", sa.Column("note", sa.Text()))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]


def test_a_key_made_earlier_in_the_revision_is_the_batch_key(write_migration) -> None:
    """ckanext-files makes ``file_id`` the primary key of ``files_owner``, then updates every
    row: the batches range over ``file_id``, as the table is by then."""
    before = """\
def upgrade():
    op.create_table("files_owner", sa.Column("file_id", sa.Text(), nullable=False),
                    sa.Column("owner", sa.Text()))
"""
    body = """\
def upgrade():
    op.create_primary_key("files_owner_pkey", "files_owner", ["file_id"])
    op.execute("UPDATE files_owner SET owner = lower(owner)")
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert finding.hint.splitlines()[-1] == (
        '    batched_update(op.get_bind(), "files_owner", "owner = lower(owner)", key="file_id")'
    )


def test_a_time_the_migration_takes_from_the_clock_is_the_clocks_sql(tmp_path: Path) -> None:
    """invenio-oauthclient binds ``datetime.utcnow()``: the recipe must not hard-code the
    moment migsafe ran the migration."""
    body = """\
from datetime import datetime, timezone


def upgrade():
    now = datetime.utcnow()
    op.execute(sa.text("UPDATE users SET created = :now").bindparams(now=now))
    op.execute(sa.text("UPDATE users SET seen = :now").bindparams(now=datetime.now(timezone.utc)))
    op.execute("UPDATE users SET born = '2019-01-02 03:04:05.678'")
"""
    created, seen, born = (
        finding.hint.splitlines()[-1] for finding in lint(tmp_path, body, rule=RULE)
    )
    assert created.endswith('"users", "created = timezone(\'utc\', now())")')
    assert seen.endswith('"users", "seen = now()")')
    assert born.endswith('"users", "born = \'2019-01-02 03:04:05.678\'")')


def test_a_timestamp_after_an_escaped_quote_is_left_alone() -> None:
    """Inside a longer string constant a clock time is text, not a value to replace."""
    from datetime import datetime, timezone

    from migsafe.clock_times import as_clock_sql

    now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=5).isoformat(sep=" ")
    inside = f"UPDATE t SET note = 'x''{now}'"
    assert as_clock_sql(inside) == inside
    assert as_clock_sql(f"UPDATE t SET at = '{now}'") == "UPDATE t SET at = timezone('utc', now())"
