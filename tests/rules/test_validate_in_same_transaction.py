"""validate-in-same-transaction (MS018): VALIDATE while the ADD's lock is still held."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import FIRST_BODY_LINE, assert_renders, lines_flagged, lint

RULE = "validate-in-same-transaction"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_check_constraint("ck_orders_total", "orders", "total >= 0", postgresql_not_valid=True)
    op.execute('ALTER TABLE "orders" VALIDATE CONSTRAINT "ck_orders_total"')
"""
    assert_renders(
        tmp_path,
        body,
        f"""\
        3: Constraint "ck_orders_total" on "orders" is validated in the transaction that added it NOT VALID (line {FIRST_BODY_LINE + 1}): the ACCESS EXCLUSIVE lock of the ADD is still held, so all reads and writes wait for the whole scan.
        # the ADD ... NOT VALID stays where it is; commit it before validating:
        with op.get_context().autocommit_block():  # commits the ADD, releasing its lock
            op.execute('ALTER TABLE "orders" VALIDATE CONSTRAINT "ck_orders_total"')
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_schema_qualified_table_keeps_its_schema_in_the_recipe(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE app.orders ADD CONSTRAINT ck_total CHECK (total >= 0) NOT VALID")
    op.execute("ALTER TABLE app.orders VALIDATE CONSTRAINT ck_total")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('Constraint "ck_total" on "app"."orders" is validated')
    assert finding.hint.endswith(
        """op.execute('ALTER TABLE "app"."orders" VALIDATE CONSTRAINT "ck_total"')"""
    )


def test_validating_after_an_autocommit_block_or_a_commit_is_the_recipe(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_check_constraint("ck_total", "orders", "total >= 0", postgresql_not_valid=True)
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE orders VALIDATE CONSTRAINT ck_total")
    op.create_check_constraint("ck_qty", "orders", "qty > 0", postgresql_not_valid=True)
    op.execute("COMMIT")
    op.execute("BEGIN")
    op.execute("ALTER TABLE orders VALIDATE CONSTRAINT ck_qty")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_one_execute_with_both_statements_is_one_transaction(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute(
        "ALTER TABLE orders ADD CONSTRAINT ck_total CHECK (total >= 0) NOT VALID; "
        "ALTER TABLE orders VALIDATE CONSTRAINT ck_total"
    )
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2]


def test_a_postgresql_18_not_null_not_valid_is_a_constraint_too(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE orders ADD CONSTRAINT nn_total NOT NULL total NOT VALID")
    op.execute("ALTER TABLE orders VALIDATE CONSTRAINT nn_total")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [3]


def test_foreign_keys_are_add_foreign_key_validated_s(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_foreign_key("fk_orders_user", "orders", "users", ["user_id"], ["id"],
                          postgresql_not_valid=True)
    op.execute("ALTER TABLE orders VALIDATE CONSTRAINT fk_orders_user")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []
    assert len(lint(tmp_path, body, rule="add-foreign-key-validated")) == 1


def test_a_constraint_of_an_earlier_revision_or_another_table_is_not_this_add(
    tmp_path: Path,
) -> None:
    body = """\
def upgrade():
    op.create_check_constraint("ck_total", "invoices", "total >= 0", postgresql_not_valid=True)
    op.execute("ALTER TABLE orders VALIDATE CONSTRAINT ck_total")
    op.execute("ALTER TABLE orders VALIDATE CONSTRAINT ck_from_last_release")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_table_created_in_the_same_revision_is_empty(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("refunds", sa.Column("amount", sa.Integer()))
    op.create_check_constraint("ck_amount", "refunds", "amount > 0", postgresql_not_valid=True)
    op.execute("ALTER TABLE refunds VALIDATE CONSTRAINT ck_amount")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_downgrade_that_validates_in_its_own_transaction_says_so(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_constraint("ck_total", "orders", type_="check")

def downgrade():
    op.create_check_constraint("ck_total", "orders", "total >= 0", postgresql_not_valid=True)
    op.execute("ALTER TABLE orders VALIDATE CONSTRAINT ck_total")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [6]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('In downgrade(): Constraint "ck_total"')
