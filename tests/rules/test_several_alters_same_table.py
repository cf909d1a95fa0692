"""several-alters-same-table (MS024): separate ALTER TABLE statements on one live table."""

from __future__ import annotations

from pathlib import Path

from migsafe.rules import enabled_rules
from tests.rules.lint import assert_renders, lines_flagged, lint

RULE = "several-alters-same-table"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("orders", "total", type_=sa.BigInteger(), existing_type=sa.Integer(),
                    schema="shop")
    op.add_column("orders", sa.Column("note", sa.Text()), schema="shop")
    op.alter_column("orders", "user_id", nullable=False, existing_type=sa.Integer(),
                    schema="shop")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        5: 2 separate ALTER TABLE statements on "shop"."orders" (lines 10 and 13) each make a pass over its rows (a table rewrite, a full-table scan) while reads and writes wait on its ACCESS EXCLUSIVE lock: one ALTER TABLE with all their subcommands makes one pass.
        # instead of the separate statements at lines 10, 12 and 13:
        op.execute("ALTER TABLE shop.orders ALTER COLUMN total TYPE bigint, ADD COLUMN note text, ALTER COLUMN user_id SET NOT NULL")
        """,  # noqa: E501
        rule=RULE,
    )


def test_the_rule_is_opt_in(tmp_path: Path) -> None:
    assert RULE not in enabled_rules(None, [], [])
    assert RULE in enabled_rules(None, ["MS024"], [])


def test_one_alter_column_rendering_two_statements_is_one_finding(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("orders", "total", type_=sa.BigInteger(), nullable=False,
                    existing_type=sa.Integer())
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('2 separate ALTER TABLE statements on "orders" (line 10)')
    assert finding.hint.endswith(
        'op.execute("ALTER TABLE orders ALTER COLUMN total TYPE bigint, '
        'ALTER COLUMN total SET NOT NULL")'
    )


def test_raw_sql_is_judged_like_alembic_operations(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE orders ADD CONSTRAINT ck_total CHECK (total >= 0)")
    op.execute("ALTER TABLE orders ADD CONSTRAINT uq_ref UNIQUE (ref)")
    op.execute("ALTER TABLE orders SET TABLESPACE fast")
    op.execute("ALTER TABLE orders SET LOGGED")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert (
        "(lines 10 and 13) each make a pass over its rows (a full-table scan, a table "
        "rewrite)" in finding.message
    )
    assert finding.hint.endswith(
        'op.execute("ALTER TABLE orders ADD CONSTRAINT ck_total CHECK (total >= 0), '
        'ADD CONSTRAINT uq_ref UNIQUE (ref), SET TABLESPACE fast, SET LOGGED")'
    )


def test_index_builds_and_foreign_key_checks_run_on_their_own_anyway(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_unique_constraint("uq_orders_ref", "orders", ["ref"])
    op.create_primary_key("pk_orders", "orders", ["id"])
    op.execute("ALTER TABLE orders ADD CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users")
    op.execute("ALTER TABLE orders VALIDATE CONSTRAINT fk_tenant")
    op.execute("ALTER TABLE orders SET TABLESPACE fast")
    op.alter_column("orders", "total", type_=sa.BigInteger(), existing_type=sa.Integer())
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_catalog_only_changes_in_one_transaction_are_not_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("orders", sa.Column("note", sa.Text()))
    op.add_column("orders", sa.Column("paid", sa.Boolean(), server_default=sa.false()))
    op.drop_column("orders", "legacy")
    op.alter_column("orders", "total", type_=sa.BigInteger(), existing_type=sa.Integer())
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_outside_a_transaction_each_statement_queues_for_the_lock(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.get_context().autocommit_block():
        op.add_column("orders", sa.Column("note", sa.Text()))
        op.add_column("orders", sa.Column("paid_at", sa.DateTime()))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert "run outside a transaction: each queues for its own ACCESS EXCLUSIVE" in finding.message
    assert finding.hint.endswith(
        'op.execute("ALTER TABLE orders ADD COLUMN note text, ADD COLUMN paid_at timestamp")'
    )


def test_statements_in_different_transactions_are_not_combined(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("orders", "total", type_=sa.BigInteger(), existing_type=sa.Integer())
    with op.get_context().autocommit_block():
        op.execute("VACUUM ANALYZE orders")
    op.alter_column("orders", "user_id", nullable=False, existing_type=sa.Integer())
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_backfill_between_them_keeps_them_apart(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("orders", "total", type_=sa.BigInteger(), existing_type=sa.Integer())
    op.execute("UPDATE orders SET user_id = 0 WHERE user_id IS NULL")
    op.alter_column("orders", "user_id", nullable=False, existing_type=sa.Integer())
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_an_index_the_second_statement_needs_keeps_them_apart(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.get_context().autocommit_block():
        op.add_column("orders", sa.Column("ref", sa.Text()))
        op.create_index("ix_orders_ref", "orders", ["ref"], unique=True,
                        postgresql_concurrently=True)
        op.execute("ALTER TABLE orders ADD CONSTRAINT uq_ref UNIQUE USING INDEX ix_orders_ref")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_other_tables_and_new_tables_are_not_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("refunds", sa.Column("id", sa.Integer()), sa.Column("total", sa.Integer()))
    op.alter_column("refunds", "total", type_=sa.BigInteger(), existing_type=sa.Integer())
    op.alter_column("refunds", "id", nullable=False, existing_type=sa.Integer())
    op.alter_column("orders", "total", type_=sa.BigInteger(), existing_type=sa.Integer())
    op.alter_column("users", "id", type_=sa.BigInteger(), existing_type=sa.Integer())
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_binary_coercible_type_change_makes_no_pass(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("users", "name", type_=sa.String(200), existing_type=sa.String(100))
    op.alter_column("users", "email", nullable=False, existing_type=sa.Text())
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []
    narrowing = body.replace("existing_type=sa.String(100)", "existing_type=sa.Text()")
    assert lines_flagged(tmp_path, narrowing, rule=RULE) == [3]


def test_a_not_valid_constraint_makes_no_pass(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_check_constraint("ck_total", "orders", "total >= 0", postgresql_not_valid=True)
    op.alter_column("orders", "user_id", nullable=False, existing_type=sa.Integer())
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_set_not_null_proven_by_a_check_scans_nothing_on_postgresql_12(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_check_constraint("ck_email", "users", "email IS NOT NULL")
    op.alter_column("users", "email", nullable=False, existing_type=sa.Text())
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []
    assert lines_flagged(tmp_path, body, rule=RULE, pg_version=11) == [3]


def test_a_volatile_default_rewrites_but_a_constant_one_does_not(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("token", sa.Uuid(),
                                     server_default=sa.text("gen_random_uuid()")))
    op.add_column("users", sa.Column("kind", sa.Text(), server_default="user"))
    op.alter_column("users", "id", type_=sa.BigInteger(), existing_type=sa.Integer())
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]
    assert lines_flagged(tmp_path, body, rule=RULE, pg_version=10) == [4]


def test_a_downgrade_says_so(tmp_path: Path) -> None:
    body = """\
def upgrade():
    pass

def downgrade():
    op.alter_column("orders", "total", type_=sa.Integer(), existing_type=sa.BigInteger())
    op.create_check_constraint("ck_orders_total", "orders", "total >= 0")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith("In downgrade(): 2 separate ALTER TABLE statements")
    assert lines_flagged(tmp_path, body, rule=RULE) == [6]
