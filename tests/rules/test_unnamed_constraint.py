"""unnamed-constraint (MS052, opt-in): a constraint created without a name."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.rules.lint import FIRST_BODY_LINE, assert_renders, lines_flagged, lint

RULE = "unnamed-constraint"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_foreign_key(None, "orders", "users", ["user_id"], ["id"])
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: FOREIGN KEY (user_id) on "orders" has no name: PostgreSQL calls it "orders_user_id_fkey", a name no migration says, so op.drop_constraint(None, ...) cannot drop it.
        op.create_foreign_key(op.f("orders_user_id_fkey"), "orders", "users", ["user_id"], ["id"])
        # or name them all: MetaData(naming_convention=...), as in migsafe init's models.py
        # ({"pk": "%(table_name)s_pkey", "fk": "%(table_name)s_%(column_0_N_name)s_fkey", ...})
        """,  # noqa: E501
        rule=RULE,
    )


def test_create_table_names_each_constraint_where_the_user_declared_it(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("code", sa.Text(), unique=True),
        sa.Column("user_id", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="CASCADE")),
        sa.Column("qty", sa.Integer(), sa.CheckConstraint("qty > 0")),
        schema="shop",
    )
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message == (
        '3 constraints on "shop"."orders" have no name (CHECK (qty > 0), UNIQUE (code), '
        "FOREIGN KEY (user_id)): PostgreSQL names them, but no migration says those names, "
        "so op.drop_constraint(None, ...) cannot drop them."
    )
    assert finding.hint.splitlines()[:4] == [
        '# in op.create_table("orders", ...):',
        'sa.CheckConstraint("qty > 0", name=op.f("orders_qty_check")),  # in sa.Column("qty", ...)',
        'sa.UniqueConstraint("code", name=op.f("orders_code_key")),  # instead of unique=True on "code"',  # noqa: E501
        'sa.ForeignKey("users.id", name=op.f("orders_user_id_fkey"), ondelete="CASCADE"),  # in sa.Column("user_id", ...)',  # noqa: E501
    ]


def test_table_constraints_of_create_table_stay_table_constraints(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table(
        "lines",
        sa.Column("order_id", sa.Integer()),
        sa.Column("n", sa.Integer()),
        sa.Column("product_id", sa.Integer()),
        sa.ForeignKeyConstraint(["order_id", "n"], ["slots.order_id", "slots.n"]),
        sa.ForeignKeyConstraint(["product_id"], ["app.products.id"], ondelete="SET NULL"),
        sa.UniqueConstraint("order_id", "n"),
    )
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.hint.splitlines()[1:4] == [
        'sa.ForeignKeyConstraint(["order_id", "n"], ["slots.order_id", "slots.n"], '
        'name=op.f("lines_order_id_n_fkey")),',
        'sa.ForeignKeyConstraint(["product_id"], ["app.products.id"], '
        'name=op.f("lines_product_id_fkey"), ondelete="SET NULL"),',
        'sa.UniqueConstraint("order_id", "n", name=op.f("lines_order_id_n_key")),',
    ]


def test_add_column_recipes_are_valid_python(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("orders", sa.Column("code", sa.Text(), unique=True), schema="app")
    op.add_column("orders", sa.Column("shop_id", sa.Integer(), sa.ForeignKey("shops.id")))
"""
    code, shop = lint(tmp_path, body, rule=RULE)
    assert code.hint.splitlines()[:2] == [
        '# instead of unique=True, after op.add_column("orders", ...):',
        'op.create_unique_constraint(op.f("orders_code_key"), "orders", ["code"], schema="app")',
    ]
    assert shop.hint.splitlines()[0] == (
        'sa.ForeignKey("shops.id", name=op.f("orders_shop_id_fkey")),  # in sa.Column("shop_id", ...)'  # noqa: E501
    )
    for finding in (code, shop):
        ast.parse(finding.hint)


def test_raw_sql_gets_the_name_postgresql_gives_it(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE app.orders ADD CHECK (qty > 0 AND price >= 0)")
    op.execute("ALTER TABLE orders ADD COLUMN email text UNIQUE")
"""
    both, email = lint(tmp_path, body, rule=RULE)
    assert both.message.startswith('CHECK (qty > 0 AND price >= 0) on "app"."orders" has no name')
    assert both.hint.splitlines()[0] == (
        '# in the SQL: CONSTRAINT "orders_check" CHECK (qty > 0 AND price >= 0)'
    )
    assert '"orders_email_key"' in email.message


def test_named_constraints_are_not_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_foreign_key(op.f("orders_user_id_fkey"), "orders", "users", ["user_id"], ["id"])
    op.create_unique_constraint("uq_orders_code", "orders", ["code"])
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer()),
        sa.Column("name", sa.Text()),
        sa.UniqueConstraint("name", name="tags_name_key"),
    )
    op.execute("ALTER TABLE orders ADD CONSTRAINT orders_qty_check CHECK (qty > 0)")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_naming_convention_that_named_the_constraint_is_enough(tmp_path: Path) -> None:
    body = """\
def upgrade():
    metadata = sa.MetaData(naming_convention={"uq": "uq_%(table_name)s_%(column_0_name)s",
                                              "fk": "fk_%(table_name)s_%(column_0_name)s"})
    sa.Table("users", metadata, sa.Column("id", sa.Integer(), primary_key=True))
    table = sa.Table(
        "tags",
        metadata,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.Text(), unique=True),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("users.id")),
    )
    table.create(op.get_bind())
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_primary_keys_and_the_version_table_are_not_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer(), primary_key=True))
    op.create_primary_key(None, "events", ["id"])
    op.create_table(
        "alembic_version",
        sa.Column("version_num", sa.String(32), primary_key=True),
        sa.UniqueConstraint("version_num"),
    )
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_constraint_made_from_an_index_takes_its_name(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE orders ADD UNIQUE USING INDEX orders_code_idx")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_batch_operations_are_flagged_with_their_own_call(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.batch_alter_table("orders") as batch_op:
        batch_op.create_unique_constraint(None, ["code"])
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.line - FIRST_BODY_LINE + 1 == 3
    assert finding.hint.splitlines()[0] == (
        'batch_op.create_unique_constraint(op.f("orders_code_key"), ["code"])'
    )


def test_a_long_name_is_shortened_as_postgresql_does(tmp_path: Path) -> None:
    table = "customer_subscription_renewal_reminders"
    column = "subscription_plan_identifier_reference"
    body = f"""\
def upgrade():
    op.create_unique_constraint(None, "{table}", ["{column}"])
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    name = "customer_subscription_renewal_subscription_plan_identifier__key"
    assert len(name) == 63
    assert f'PostgreSQL calls it "{name}"' in finding.message


def test_the_downgrade_is_not_judged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_constraint("orders_code_key", "orders", type_="unique")

def downgrade():
    op.create_unique_constraint(None, "orders", ["code"])
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_scratch_table_dropped_in_the_same_revision_is_not_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("import_rows", sa.Column("code", sa.Text(), unique=True))
    op.execute("INSERT INTO orders (code) SELECT code FROM import_rows")
    op.drop_table("import_rows")
    op.create_table("imports", sa.Column("code", sa.Text(), unique=True))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]


def test_a_unique_on_the_primary_keys_columns_is_no_constraint_of_its_own(
    tmp_path: Path,
) -> None:
    """nbgrader declares its primary key ``unique=True`` as well, and aim a UNIQUE twice:
    PostgreSQL makes one constraint of each pair, so only the second UNIQUE's first copy is
    unnamed."""
    body = """\
def upgrade():
    op.create_table("course", sa.Column("id", sa.String(128), unique=True, primary_key=True))
    op.create_table("tag", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("name", sa.Text()),
                    sa.UniqueConstraint("name"), sa.UniqueConstraint("name"))
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('UNIQUE (name) on "tag" has no name')
