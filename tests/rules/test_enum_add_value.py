"""enum-add-value (MS026): ALTER TYPE ... ADD VALUE inside the migration's transaction."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import assert_renders, lines_flagged, lint

RULE = "enum-add-value"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TYPE order_status ADD VALUE 'refunded'")
    op.execute("UPDATE orders SET status = 'refunded' WHERE refunded_at IS NOT NULL")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        3: 'refunded' is the value ALTER TYPE order_status added at line 10, in the same transaction: PostgreSQL refuses to use a new enum value before it is committed ("unsafe use of new value") and the migration fails.
        with op.get_context().autocommit_block():  # the value is committed before anything uses it
            op.execute("ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'refunded'")
        """,  # noqa: E501
        rule=RULE,
    )


def test_before_postgresql_12_the_add_itself_fails_in_a_transaction(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TYPE app.\\"Order\\" ADD VALUE 'it''s' BEFORE 'paid'")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: ALTER TYPE app."Order" ADD VALUE 'it''s' cannot run inside a transaction block on PostgreSQL 11 (before 12): PostgreSQL rejects it and the migration fails.
        with op.get_context().autocommit_block():  # the value is committed before anything uses it
            op.execute("ALTER TYPE app.\\"Order\\" ADD VALUE IF NOT EXISTS 'it''s' BEFORE 'paid'")
        """,  # noqa: E501
        rule=RULE,
        pg_version=11,
    )
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_reserved_word_as_type_name_is_quoted_in_the_recipe(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute('ALTER TYPE "order" ADD VALUE \\'x\\' AFTER \\'y\\'')
"""
    (finding,) = lint(tmp_path, body, rule=RULE, pg_version=11)
    assert finding.hint.endswith(
        """op.execute("ALTER TYPE \\"order\\" ADD VALUE IF NOT EXISTS 'x' AFTER 'y'")"""
    )


def test_on_postgresql_12_and_later_adding_alone_is_fine(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TYPE order_status ADD VALUE 'refunded'")
    op.execute("UPDATE orders SET note = 'refund' WHERE refunded_at IS NOT NULL")
"""
    assert lines_flagged(tmp_path, body, rule=RULE, pg_version=12) == []
    assert lines_flagged(tmp_path, body, rule=RULE, pg_version=11) == [2]


def test_an_autocommit_block_commits_the_value_before_its_use(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.get_context().autocommit_block():
        op.execute("ALTER TYPE order_status ADD VALUE 'refunded'")
    op.execute("UPDATE orders SET status = 'refunded' WHERE refunded_at IS NOT NULL")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []
    assert lines_flagged(tmp_path, body, rule=RULE, pg_version=11) == []


def test_a_use_in_an_alembic_operation_is_recognised(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TYPE order_status ADD VALUE 'draft'")
    op.alter_column("orders", "status", server_default="draft", schema="shop")
    op.create_check_constraint("ck_orders_status", "orders", "status <> 'draft'")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [3, 4]


def test_an_enum_created_in_the_same_transaction_takes_new_values(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("CREATE TYPE app.order_status AS ENUM ('new', 'paid')")
    op.execute("ALTER TYPE order_status ADD VALUE 'refunded'")
    op.execute("ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'refunded'")
    op.execute("ALTER TYPE other_status ADD VALUE 'refunded'")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []
    assert lines_flagged(tmp_path, body, rule=RULE, pg_version=11) == [5]


def test_renaming_a_value_and_other_literals_are_near_misses(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TYPE order_status RENAME VALUE 'paid' TO 'settled'")
    op.execute("UPDATE orders SET status = 'settled' WHERE status IS NULL")
    op.execute("ALTER TYPE order_status ADD VALUE 'refunded' AFTER 'settled'")
    op.execute("UPDATE orders SET status = 'paid' WHERE status IS NULL")
    op.execute("COMMENT ON TYPE order_status IS 'refunded'")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_use_after_an_explicit_commit_is_in_another_transaction(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TYPE order_status ADD VALUE 'refunded'")
    op.execute("COMMIT")
    op.execute("BEGIN")
    op.execute("UPDATE orders SET status = 'refunded' WHERE refunded_at IS NOT NULL")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_each_use_is_flagged_once(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TYPE order_status ADD VALUE 'refunded'")
    op.execute("ALTER TYPE order_kind ADD VALUE 'refunded'")
    op.execute("INSERT INTO orders (status) VALUES ('refunded')")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]


def test_a_downgrade_that_adds_a_value_says_so(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("DELETE FROM pg_enum WHERE enumlabel = 'x'")

def downgrade():
    op.execute("ALTER TYPE order_status ADD VALUE 'x'")
"""
    (finding,) = lint(tmp_path, body, rule=RULE, pg_version=11)
    assert finding.message.startswith("In downgrade(): ALTER TYPE order_status ADD VALUE 'x'")
    assert lines_flagged(tmp_path, body, rule=RULE, pg_version=11) == [5]
