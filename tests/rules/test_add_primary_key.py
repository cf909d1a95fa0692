"""add-primary-key (MS023): ADD PRIMARY KEY USING INDEX scans nullable key columns."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import assert_renders, lines_flagged, lint

RULE = "add-primary-key"

ATTACH = """\
    with op.get_context().autocommit_block():
        op.create_index("pk_orders", "orders", {columns}, unique=True, postgresql_concurrently=True)
    op.execute('ALTER TABLE orders ADD CONSTRAINT "pk_orders" PRIMARY KEY USING INDEX "pk_orders"')
"""


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = "def upgrade():\n" + ATTACH.format(columns='["id"]')
    assert_renders(
        tmp_path,
        body,
        """\
        4: ADD PRIMARY KEY USING INDEX "pk_orders" makes "id" of "orders" NOT NULL: unless it is NOT NULL already, PostgreSQL scans the whole table for NULLs under an ACCESS EXCLUSIVE lock while all reads and writes wait.
        op.create_check_constraint("ck_orders_id_not_null", "orders", '"id" IS NOT NULL',
                                   postgresql_not_valid=True)
        with op.get_context().autocommit_block():  # validate in its own transaction
            op.execute('ALTER TABLE "orders" VALIDATE CONSTRAINT "ck_orders_id_not_null"')
        op.alter_column("orders", "id", nullable=False)  # no scan: the CHECK proves it
        op.execute('ALTER TABLE orders ADD CONSTRAINT "pk_orders" PRIMARY KEY USING INDEX "pk_orders"')  # now without a scan
        op.drop_constraint("ck_orders_id_not_null", "orders", type_="check")
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_schema_qualified_table_keeps_its_schema_in_the_recipe(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("CREATE UNIQUE INDEX CONCURRENTLY pk_orders ON app.orders (id)")
    op.execute("ALTER TABLE app.orders ADD PRIMARY KEY USING INDEX pk_orders")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('ADD PRIMARY KEY USING INDEX "pk_orders" makes "id" of "app"')
    assert """postgresql_not_valid=True, schema="app")""" in finding.hint
    assert """VALIDATE CONSTRAINT "ck_orders_id_not_null"')""" in finding.hint
    assert """op.alter_column("orders", "id", nullable=False, schema="app")""" in finding.hint


def test_columns_known_not_null_are_left_out(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("orders", "id", existing_type=sa.Integer(), nullable=False)
    op.add_column("orders", sa.Column("shop_id", sa.Integer(), nullable=True))
""" + ATTACH.format(columns='["shop_id", "id"]')
    (finding,) = lint(tmp_path, body, rule=RULE)
    # shop_id was just added nullable: no "unless", and id (set NOT NULL above) is not named
    assert finding.message.startswith(
        'ADD PRIMARY KEY USING INDEX "pk_orders" makes "shop_id" of "orders" NOT NULL: '
        "PostgreSQL scans"
    )
    assert '"id"' not in finding.hint.replace('"pk_orders"', "")


def test_columns_added_not_null_need_no_scan(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("orders", sa.Column("uid", sa.Uuid(), nullable=False, server_default="0"))
""" + ATTACH.format(columns='["uid"]')
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_the_recipe_applied_is_not_flagged_from_postgresql_12_on(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_check_constraint("ck_orders_id_not_null", "orders", '"id" IS NOT NULL',
                               postgresql_not_valid=True)
    with op.get_context().autocommit_block():
        op.execute('ALTER TABLE "orders" VALIDATE CONSTRAINT "ck_orders_id_not_null"')
""" + ATTACH.format(columns='["id"]')
    assert lines_flagged(tmp_path, body, rule=RULE) == []
    assert lines_flagged(tmp_path, body, rule=RULE, pg_version=11) == [8]


def test_before_postgresql_12_nothing_skips_the_scan(tmp_path: Path) -> None:
    body = "def upgrade():\n" + ATTACH.format(columns='["id"]')
    assert_renders(
        tmp_path,
        body,
        """\
        4: ADD PRIMARY KEY USING INDEX "pk_orders" makes "id" of "orders" NOT NULL: unless it is NOT NULL already, PostgreSQL scans the whole table for NULLs under an ACCESS EXCLUSIVE lock while all reads and writes wait (PostgreSQL 11 cannot skip the scan).
        # PostgreSQL 11 cannot prove NOT NULL without the scan (12 can, with a validated CHECK):
        # run it at a quiet time, and give up rather than queue:
        op.execute("SET LOCAL lock_timeout = '5s'")
        op.execute('ALTER TABLE orders ADD CONSTRAINT "pk_orders" PRIMARY KEY USING INDEX "pk_orders"')
        """,  # noqa: E501
        rule=RULE,
        pg_version=11,
    )


def test_a_primary_key_that_builds_its_index_is_add_unique_constraint_s(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_primary_key("pk_orders", "orders", ["id"])
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []
    assert len(lint(tmp_path, body, rule="add-unique-constraint")) == 1


def test_an_index_migsafe_does_not_know_or_of_another_table_is_not_judged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_index("pk_orders", "invoices", ["id"], unique=True)
    op.execute('ALTER TABLE orders ADD CONSTRAINT "pk_orders" PRIMARY KEY USING INDEX "pk_orders"')
    op.execute('ALTER TABLE orders ADD PRIMARY KEY USING INDEX "ix_from_last_release"')
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_table_created_in_the_same_revision_is_empty(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("orders", sa.Column("id", sa.Integer()))
""" + ATTACH.format(columns='["id"]')
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_downgrade_that_restores_the_key_says_so(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_constraint("pk_orders", "orders", type_="primary")

def downgrade():
""" + ATTACH.format(columns='["id"]')
    assert lines_flagged(tmp_path, body, rule=RULE) == [7]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('In downgrade(): ADD PRIMARY KEY USING INDEX "pk_orders"')
