"""add-column-volatile-default (MS013): a default computed per row rewrites the whole table."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import (
    after_history,
    assert_recipe_is_python,
    assert_renders,
    lines_flagged,
    lint,
)

RULE = "add-column-volatile-default"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("token", sa.Uuid(), nullable=False,
                                     server_default=sa.text("gen_random_uuid()")))
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: Adding column "token" to "users" with the volatile default gen_random_uuid() rewrites the table under an ACCESS EXCLUSIVE lock.
        # add the column without a default, then set the default for new rows only:
        op.add_column("users", sa.Column("token", sa.Uuid(), nullable=True))
        op.alter_column("users", "token", server_default=sa.text("gen_random_uuid()"))
        # backfill existing rows in batches: UPDATE "users" SET token = ... WHERE id BETWEEN ...
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_schema_qualified_table_keeps_its_schema_in_the_recipe(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("seen_at", sa.DateTime(), nullable=True,
                                     server_default=sa.text("clock_timestamp()")), schema="app")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: Adding column "seen_at" to "app"."users" with the volatile default clock_timestamp() rewrites the table under an ACCESS EXCLUSIVE lock.
        # add the column without a default, then set the default for new rows only:
        op.add_column("users", sa.Column("seen_at", sa.DateTime(), nullable=True), schema="app")
        op.alter_column("users", "seen_at", server_default=sa.text("clock_timestamp()"), schema="app")
        # backfill existing rows in batches: UPDATE "app"."users" SET seen_at = ... WHERE id BETWEEN ...
        """,  # noqa: E501
        rule=RULE,
    )


def test_now_and_txid_current_are_evaluated_once(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("a", sa.DateTime(), server_default=sa.func.now()))
    op.add_column("users", sa.Column("b", sa.DateTime(), server_default=sa.text("now()")))
    op.add_column("users", sa.Column("c", sa.DateTime(), server_default=sa.func.localtimestamp()))
    op.add_column("users", sa.Column("d", sa.BigInteger(), server_default=sa.func.txid_current()))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_volatile_built_ins_are_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("a", sa.DateTime(), server_default=sa.func.clock_timestamp()))
    op.add_column("users", sa.Column("b", sa.Float(), server_default=sa.text("random()")))
    op.add_column("users", sa.Column("c", sa.Text(), server_default=sa.text("md5(random()::text)")))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2, 3, 4]


def test_a_function_of_the_users_own_counts_as_volatile(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("a", sa.Text(), server_default=sa.text("my_token()")))
    op.add_column("users", sa.Column("b", sa.Text(), server_default=sa.text("public.lower('X')")))
    op.add_column("users", sa.Column("c", sa.Text(), server_default=sa.text("pg_catalog.now()")))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2, 3]


def test_a_constant_default_rewrites_only_before_postgresql_11(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("active", sa.Boolean(), nullable=False,
                                     server_default=sa.true()))
    op.add_column("users", sa.Column("created_at", sa.DateTime(), server_default=sa.func.now()))
    op.add_column("users", sa.Column("note", sa.Text(), server_default=sa.text("NULL")))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []
    assert lines_flagged(tmp_path, body, rule=RULE, pg_version=10) == [2, 4]


def test_the_recipe_keeps_a_string_default_a_string(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("plan", sa.String(20), nullable=False, server_default="free"))
"""
    (finding,) = lint(tmp_path, body, rule=RULE, pg_version=10)
    assert 'op.alter_column("users", "plan", server_default="free")' in finding.hint


def test_sequences_and_stored_generated_columns_rewrite(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("seq", sa.BigInteger(), sa.Identity()))
    op.add_column("users", sa.Column("total", sa.Integer(), sa.Computed("a + b", persisted=True)))
    op.add_column("users", sa.Column("legacy_id", sa.Integer(), primary_key=True))
    op.execute("ALTER TABLE users ADD COLUMN n bigserial")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2, 3, 4, 5]


def test_raw_sql_is_judged_like_alembic_operations(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid()")
    op.execute("ALTER TABLE users ADD COLUMN created_at timestamptz DEFAULT now()")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert 'server_default=sa.text("gen_random_uuid()")' in finding.hint


def test_the_recipe_for_raw_sql_is_valid_python(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid()")
"""
    assert_recipe_is_python(tmp_path, body, rule=RULE)


def test_setting_the_default_after_adding_the_column_is_not_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("token", sa.Uuid(), nullable=True))
    op.alter_column("users", "token", server_default=sa.text("gen_random_uuid()"))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_table_created_earlier_in_the_function_is_empty(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("api_keys", sa.Column("id", sa.Integer(), primary_key=True))
    op.add_column("api_keys", sa.Column("token", sa.Uuid(),
                                        server_default=sa.text("gen_random_uuid()")))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_batch_operation_is_judged_like_a_plain_one(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.batch_alter_table("runs") as batch_op:
        batch_op.add_column(sa.Column("run_uuid", sa.String(32), nullable=False,
                                      server_default=sa.text("md5(random()::text)")))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [3]


def test_a_downgrade_that_adds_a_volatile_default_says_so(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_column("users", "token")

def downgrade():
    op.add_column("users", sa.Column("token", sa.UUID(), autoincrement=False, nullable=False,
                                     server_default=sa.text("gen_random_uuid()")))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('In downgrade(): Adding column "token"')


def test_a_virtual_generated_column_is_computed_on_read(tmp_path: Path) -> None:
    """PostgreSQL 18: without STORED a generated column is VIRTUAL; no rewrite."""
    body = """\
def upgrade():
    op.execute("ALTER TABLE users ADD COLUMN total int GENERATED ALWAYS AS (a + b) VIRTUAL")
    op.execute("ALTER TABLE users ADD COLUMN sum int GENERATED ALWAYS AS (a + b)")
    op.execute("ALTER TABLE users ADD COLUMN kept int GENERATED ALWAYS AS (a + b) STORED")
"""
    assert lines_flagged(tmp_path, body, rule=RULE, pg_version=18) == [4]


def test_a_sequence_column_gets_numbered_without_a_rewrite(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE app.users ADD COLUMN n bigserial")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.hint.splitlines()[:4] == [
        "# add the column plain, give new rows their numbers, number the old rows in batches:",
        'op.add_column("users", sa.Column("n", sa.BIGINT(), nullable=True), schema="app")',
        # in the table's schema, as SERIAL makes it (indico's went to public)
        'op.execute("CREATE SEQUENCE IF NOT EXISTS app.users_n_seq")',
        'op.alter_column("users", "n",',
    ]
    assert "nextval('app.users_n_seq')" in finding.hint
    assert "ADD GENERATED BY DEFAULT AS IDENTITY" in finding.hint


def test_a_stored_generated_column_is_told_about_virtual_ones(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("total", sa.Integer(), sa.Computed("a + b", persisted=True)))
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.hint.startswith("# PostgreSQL 18: a VIRTUAL generated column")


def test_the_backfill_ranges_over_the_table_s_key_not_the_new_column(write_migration) -> None:
    """lemur adds a serial ``id`` itself: batches by ``id`` would match nothing, all NULL.
    A table whose key the history made batches by that key."""
    before = """\
def upgrade():
    op.create_table("roles_users", sa.Column("user_id", sa.Integer()))
    op.create_table("certs", sa.Column("name", sa.Text(), primary_key=True))
"""
    body = """\
def upgrade():
    op.add_column("roles_users", sa.Column("id", sa.Integer(), sa.Identity()))
    op.add_column("certs", sa.Column("uid", sa.Text(), server_default=sa.text("gen_random_uuid()")))
"""
    keyless, keyed = after_history(write_migration, before, body, rule=RULE)
    assert "<a unique column> BETWEEN" in keyless.hint
    assert 'WHERE "name" BETWEEN' in keyed.hint
