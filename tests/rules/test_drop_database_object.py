"""drop-database-object (MS043): a view, function, type, sequence or schema the code still
running during the deploy uses."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import FIRST_BODY_LINE, after_history, assert_renders, lines_flagged, lint

RULE = "drop-database-object"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("DROP VIEW active_users")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: Dropping view "active_users" breaks running code that still queries it: each such statement fails until the new code is deployed.
        # A contract step, after the deploy: no code then running may use "active_users".
        # 1. deploy code that no longer queries it
        # 2. then, in a later revision (this one, if that code is out already):
        op.execute("DROP VIEW active_users")
        """,  # noqa: E501
        rule=RULE,
    )


def test_several_objects_and_schemas_are_named_as_sql(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute('DROP FUNCTION IF EXISTS app.order_total(integer), "Tax"()')
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message == (
        'Dropping functions "app"."order_total", "Tax" breaks running code that still calls '
        "them: each such statement fails until the new code is deployed."
    )
    assert finding.hint.splitlines()[1:] == [
        "# 1. deploy code that no longer calls them",
        "# 2. then, in a later revision (this one, if that code is out already):",
        """op.execute('DROP FUNCTION IF EXISTS app.order_total(integer), "Tax"()')""",
    ]


def test_every_kind_of_object_is_judged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("DROP MATERIALIZED VIEW order_stats")
    op.execute("DROP TYPE order_status")
    op.execute("DROP DOMAIN email_address")
    op.execute("DROP SEQUENCE invoice_number_seq")
    op.execute("DROP SCHEMA legacy CASCADE")
    op.execute("DROP EXTENSION pg_trgm")
    op.execute("DROP PROCEDURE archive_orders(integer)")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2, 3, 4, 5, 6, 7, 8]


def test_sqlalchemy_drops_are_judged_like_raw_sql(tmp_path: Path) -> None:
    body = """\
def upgrade():
    sa.Enum(name="order_status").drop(op.get_bind())
    op.execute(sa.schema.DropSequence(sa.Sequence("invoice_number_seq", schema="billing")))
"""
    first, second = lint(tmp_path, body, rule=RULE)
    assert first.message.startswith('Dropping type "order_status" breaks')
    assert second.message.startswith('Dropping sequence "billing"."invoice_number_seq" breaks')


def test_an_object_replaced_in_the_same_revision_is_still_there(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("DROP VIEW active_users")
    op.execute("CREATE VIEW active_users AS SELECT id, email FROM users WHERE active")
    op.execute("DROP MATERIALIZED VIEW app.order_stats")
    op.execute("CREATE MATERIALIZED VIEW app.order_stats AS SELECT count(*) FROM orders")
    op.execute("DROP FUNCTION order_total(integer)")
    op.execute("CREATE FUNCTION order_total(bigint) RETURNS bigint AS 'SELECT $1' LANGUAGE sql")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_an_object_the_revision_created_has_no_running_code(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("CREATE SEQUENCE import_seq")
    op.execute("CREATE TYPE import_state AS ENUM ('new', 'done')")
    op.execute("DROP TYPE import_state")
    op.execute("DROP SEQUENCE import_seq")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_the_old_type_alembic_postgresql_enum_renames_aside_is_not_flagged(
    tmp_path: Path,
) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TYPE public.status RENAME TO status_old")
    op.execute("CREATE TYPE public.status AS ENUM ('new', 'paid', 'done')")
    op.execute("ALTER TABLE orders ALTER COLUMN status TYPE public.status "
               "USING status::text::public.status")
    op.execute("DROP TYPE public.status_old")
    op.execute("DROP TYPE kind_old")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [7]


def test_a_trigger_function_goes_with_its_trigger(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("DROP TRIGGER IF EXISTS trg_users_audit ON users")
    op.execute("DROP FUNCTION users_audit()")
    op.execute("DROP FUNCTION order_total(integer)")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]
    without_trigger = """\
def upgrade():
    op.execute("DROP FUNCTION users_audit()")
"""
    assert lines_flagged(tmp_path, without_trigger, rule=RULE) == [2]


def test_tables_indexes_and_triggers_are_other_rules(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("DROP TABLE legacy_sessions")
    op.execute("DROP INDEX ix_users_email")
    op.execute("DROP TRIGGER trg_users_audit ON users")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_downgrade_dropping_what_the_upgrade_created_is_the_rollback(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("CREATE VIEW active_users AS SELECT id FROM users WHERE active")

def downgrade():
    op.execute("DROP VIEW active_users")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def history(write_migration, before: str, body: str) -> list[int]:
    """The lines the rule flags in ``body``, a revision after ``before`` (which made the
    schema)."""
    findings = after_history(write_migration, before, body, rule=RULE)
    return [f.line - FIRST_BODY_LINE + 1 for f in findings]


BEFORE = """\
def upgrade():
    op.execute("CREATE TYPE order_status AS ENUM ('new', 'done')")
    op.execute("CREATE SEQUENCE invoice_number_seq")
    op.create_table("orders", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("status", sa.Enum(name="order_status", create_type=False)),
                    sa.Column("invoice", sa.Integer(),
                              server_default=sa.text("nextval('invoice_number_seq')")))
    op.execute("CREATE TYPE unused_kind AS ENUM ('a')")
"""


def test_a_type_or_sequence_whose_columns_are_gone_has_no_user_left(write_migration) -> None:
    body = """\
def upgrade():
    op.drop_column("orders", "status")
    op.alter_column("orders", "invoice", server_default=None)
    op.execute("DROP TYPE order_status")
    op.execute("DROP SEQUENCE invoice_number_seq")
    op.execute("DROP TYPE unused_kind")
"""
    assert history(write_migration, BEFORE, body) == []


def test_a_type_or_sequence_a_column_still_uses_is_flagged(write_migration) -> None:
    body = """\
def upgrade():
    op.execute("DROP TYPE order_status CASCADE")
    op.execute("DROP SEQUENCE invoice_number_seq CASCADE")
"""
    assert history(write_migration, BEFORE, body) == [2, 3]
