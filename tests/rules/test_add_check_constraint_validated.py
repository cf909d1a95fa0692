"""add-check-constraint-validated (MS017): a CHECK proved on every row under a full lock."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import assert_renders, lines_flagged, lint

RULE = "add-check-constraint-validated"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_check_constraint("ck_orders_total_positive", "orders", "total >= 0")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: CHECK constraint "ck_orders_total_positive" on "orders" is validated as it is added: every row is checked under an ACCESS EXCLUSIVE lock while all reads and writes wait.
        op.create_check_constraint("ck_orders_total_positive", "orders", "total >= 0",
                                   postgresql_not_valid=True)
        with op.get_context().autocommit_block():  # validate in its own transaction
            op.execute('ALTER TABLE "orders" VALIDATE CONSTRAINT "ck_orders_total_positive"')
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_schema_qualified_table_keeps_its_schema_in_the_recipe(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_check_constraint("ck_orders_state", "orders", "state <> 'void'", schema="app")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: CHECK constraint "ck_orders_state" on "app"."orders" is validated as it is added: every row is checked under an ACCESS EXCLUSIVE lock while all reads and writes wait.
        op.create_check_constraint("ck_orders_state", "orders", "state <> 'void'",
                                   postgresql_not_valid=True, schema="app")
        with op.get_context().autocommit_block():  # validate in its own transaction
            op.execute('ALTER TABLE "app"."orders" VALIDATE CONSTRAINT "ck_orders_state"')
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_check_declared_in_add_column_keeps_the_column_in_the_recipe(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("orders", sa.Column("qty", sa.Integer(), sa.CheckConstraint("qty > 0", name="ck_qty"),
                                      nullable=False, server_default="1"))
"""  # noqa: E501
    assert_renders(
        tmp_path,
        body,
        """\
        2: CHECK constraint "ck_qty" on column "qty" of "orders" is validated as it is added: every row is checked under an ACCESS EXCLUSIVE lock while all reads and writes wait.
        op.execute("ALTER TABLE orders ADD COLUMN qty integer DEFAULT '1' NOT NULL")
        op.create_check_constraint("ck_qty", "orders", "qty > 0",
                                   postgresql_not_valid=True)
        with op.get_context().autocommit_block():  # validate in its own transaction
            op.execute('ALTER TABLE "orders" VALIDATE CONSTRAINT "ck_qty"')
        """,  # noqa: E501
        rule=RULE,
    )


def test_raw_sql_is_judged_like_alembic_operations(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE orders ADD CONSTRAINT ck_total CHECK (total >= 0)")
    op.execute("ALTER TABLE app.orders ADD CHECK (total >= 0)")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2, 3]
    unnamed = lint(tmp_path, body, rule=RULE)[1]
    assert unnamed.message.startswith(
        'CHECK constraint "orders_total_check" (unnamed: PostgreSQL\'s name for it) on '
        '"app"."orders"'
    )


def test_not_valid_checks_are_not_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_check_constraint("ck_total", "orders", "total >= 0", postgresql_not_valid=True)
    op.execute("ALTER TABLE orders ADD CONSTRAINT ck_qty CHECK (qty > 0) NOT VALID")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_not_enforced_checks_scan_nothing(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE orders ADD CONSTRAINT ck_qty CHECK (qty > 0) NOT ENFORCED")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_table_created_in_the_same_revision_is_empty(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("refunds", sa.Column("amount", sa.Integer()))
    op.create_check_constraint("ck_amount", "refunds", "amount > 0")
    op.create_check_constraint("ck_total", "orders", "total >= 0")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]


def test_other_constraints_are_other_rules(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_unique_constraint("uq_orders_ref", "orders", ["ref"])
    op.create_foreign_key("fk_orders_user", "orders", "users", ["user_id"], ["id"])
    op.add_column("orders", sa.Column("note", sa.Text(), nullable=True))
    op.execute("ALTER DOMAIN positive ADD CONSTRAINT ck_positive CHECK (VALUE > 0)")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_downgrade_that_restores_a_check_says_so(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_constraint("ck_total", "orders", type_="check")

def downgrade():
    op.create_check_constraint("ck_total", "orders", "total >= 0")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('In downgrade(): CHECK constraint "ck_total"')
