"""foreign-key-without-index (MS053, opt-in): a foreign key's referencing columns have no
index."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import FIRST_BODY_LINE, after_history, assert_renders, lines_flagged, rendered

RULE = "foreign-key-without-index"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), sa.ForeignKey("users.id"), nullable=False),
    )
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: The foreign key "orders"("user_id") has no index that starts with its columns: each DELETE from "users" scans "orders" for the rows that refer to it.
        op.create_index(op.f("orders_user_id_idx"), "orders", ["user_id"])
        """,  # noqa: E501
        rule=RULE,
    )


BEFORE = """\
def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer(), primary_key=True))
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer()),
        sa.Column("shop_id", sa.Integer()),
        schema="app",
    )
    op.create_index("orders_shop_id_created_idx", "orders", ["shop_id", "id"], schema="app")
"""


def test_an_existing_table_gets_a_concurrent_index(write_migration) -> None:
    body = """\
def upgrade():
    op.create_foreign_key("orders_user_id_fkey", "orders", "users", ["user_id"], ["id"],
                          source_schema="app")
"""
    (finding,) = after_history(write_migration, BEFORE, body, rule=RULE)
    assert rendered(finding).splitlines() == [
        f"{finding.line - FIRST_BODY_LINE + 1}: "
        'The foreign key "app"."orders"("user_id") has no index that starts with its columns: '
        'each DELETE from "users" scans "app"."orders" for the rows that refer to it.',
        "with op.get_context().autocommit_block():",
        '    op.create_index(op.f("orders_user_id_idx"), "orders", ["user_id"], '
        'postgresql_concurrently=True, schema="app")',
    ]


def test_an_index_from_an_earlier_revision_serves(write_migration) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE app.orders ADD CONSTRAINT orders_shop_id_fkey "
               "FOREIGN KEY (shop_id) REFERENCES users (id)")
"""
    assert after_history(write_migration, BEFORE, body, rule=RULE) == []


def test_an_index_created_later_in_the_revision_serves(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id")),
    )
    op.create_index("orders_user_id_idx", "orders", ["user_id"])
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_composite_index_serves_when_its_leading_columns_match(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table(
        "lines",
        sa.Column("order_id", sa.Integer()),
        sa.Column("n", sa.Integer()),
        sa.Column("product_id", sa.Integer(), sa.ForeignKey("products.id")),
        sa.ForeignKeyConstraint(["order_id", "n"], ["slots.order_id", "slots.n"]),
    )
    op.create_index("lines_n_order_idx", "lines", ["n", "order_id", "product_id"])
    op.create_index("lines_order_product_idx", "lines", ["order_id", "product_id"])
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2]  # product_id is never leading


def test_the_primary_key_and_unique_constraints_serve(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table(
        "memberships",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("team_id", sa.Integer(), sa.ForeignKey("teams.id"), primary_key=True),
    )
    op.execute(
        "CREATE TABLE profiles (user_id int UNIQUE REFERENCES users, "
        "photo_id int REFERENCES photos)"
    )
"""
    flagged = lines_flagged(tmp_path, body, rule=RULE)
    assert flagged == [2, 7]  # team_id is second in the key; photo_id has no index


def test_a_partial_or_expression_index_does_not_serve(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users (id))")
    op.execute("CREATE INDEX orders_open_idx ON orders (user_id) WHERE status = 'open'")
    op.execute("CREATE INDEX orders_abs_idx ON orders (abs(user_id))")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2]


def test_a_key_dropped_again_in_the_revision_is_not_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer()),
    )
    op.create_foreign_key("fk_user", "orders", "users", ["user_id"], ["id"])
    op.drop_constraint("fk_user", "orders", type_="foreignkey")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_table_the_history_does_not_show_is_not_judged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_foreign_key("fk_user", "orders", "users", ["user_id"], ["id"])
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []  # its indexes are unknown


def test_the_downgrade_is_not_judged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    pass

def downgrade():
    op.create_table("orders", sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id")))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []
