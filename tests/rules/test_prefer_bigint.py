"""prefer-bigint (MS045): a key that counts up from a sequence is integer, and runs out."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import FIRST_BODY_LINE, assert_renders, lines_flagged, lint

RULE = "prefer-bigint"


def test_renders_the_users_own_column_with_bigint(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("note", sa.Text(), comment="free text"),
    )
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: Primary key "orders"."id" is serial: it runs out at 2,147,483,647, and widening it later rewrites the table and every column that refers to it.
        sa.Column("id", sa.BigInteger(), primary_key=True),  # in op.create_table("orders", ...)
        # and bigint in the foreign key columns that refer to it
        """,  # noqa: E501
        rule=RULE,
    )


def test_an_identity_key_keeps_its_identity_and_schema(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table(
        "orders",
        sa.Column("id", sa.SmallInteger(), sa.Identity(always=True), primary_key=True),
        schema="shop",
    )
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: Primary key "shop"."orders"."id" is smallint: it runs out at 32,767, and widening it later rewrites the table and every column that refers to it.
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), primary_key=True),  # in op.create_table("orders", ..., schema="shop")
        # and bigint in the foreign key columns that refer to it
        """,  # noqa: E501
        rule=RULE,
    )


def test_raw_sql_is_answered_in_sql(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("CREATE TABLE orders (id serial PRIMARY KEY, total integer NOT NULL)")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: Primary key "orders"."id" is serial: it runs out at 2,147,483,647, and widening it later rewrites the table and every column that refers to it.
        # in the SQL: "id" bigserial
        # and bigint in the foreign key columns that refer to it
        """,  # noqa: E501
        rule=RULE,
    )


def test_an_identity_key_in_raw_sql_keeps_its_identity(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("CREATE TABLE app.items (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY)")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('Primary key "app"."items"."id" is integer:')
    assert finding.hint.startswith('# in the SQL: "id" bigint GENERATED ALWAYS AS IDENTITY\n')


def test_a_non_key_integer_column_is_not_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("position", sa.SmallInteger()),
    )
    op.execute("CREATE TABLE counters (name text PRIMARY KEY, hits serial)")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_key_the_application_assigns_is_not_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table(
        "countries", sa.Column("id", sa.SmallInteger(), primary_key=True, autoincrement=False)
    )
    op.execute("CREATE TABLE currencies (id integer PRIMARY KEY, code text)")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_default_from_a_sequence_counts_up_like_serial(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("CREATE SEQUENCE orders_id_seq")
    op.execute(
        "CREATE TABLE orders (id integer DEFAULT nextval('orders_id_seq') PRIMARY KEY)"
    )
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [3]


def test_foreign_key_columns_of_a_composite_key_follow_their_referents(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table(
        "order_tags",
        sa.Column("order_id", sa.Integer(), sa.ForeignKey("orders.id"), primary_key=True),
        sa.Column("tag_id", sa.Integer(), sa.ForeignKey("tags.id"), primary_key=True),
    )
    op.execute(
        "CREATE TABLE profiles (user_id serial PRIMARY KEY REFERENCES users (id), bio text)"
    )
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_generated_column_another_table_refers_to_is_a_key(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("CREATE TABLE tickets (id uuid PRIMARY KEY, number serial UNIQUE)")
    op.execute("CREATE TABLE comments (id bigserial PRIMARY KEY, "
               "ticket_number integer REFERENCES tickets (number))")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.line - FIRST_BODY_LINE + 1 == 2
    assert finding.message.startswith('Key "tickets"."number" is serial:')


def test_bigint_keys_and_arrays_are_not_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("orders", sa.Column("id", sa.BigInteger(), primary_key=True))
    op.execute("CREATE TABLE events (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY)")
    op.execute("CREATE TABLE sessions (id bigserial PRIMARY KEY)")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_type_change_is_left_to_change_column_type(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("orders", "id", type_=sa.Integer(), existing_type=sa.BigInteger())
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_serial_key_added_to_an_existing_table_is_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE legacy_imports ADD COLUMN id serial PRIMARY KEY")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2]


def test_downgrade_is_not_judged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_table("orders")

def downgrade():
    op.create_table("orders", sa.Column("id", sa.Integer(), primary_key=True))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_key_defined_in_a_loop_gets_a_rebuilt_column(tmp_path: Path) -> None:
    body = """\
def upgrade():
    for name in ("orders", "invoices"):
        op.create_table(name, sa.Column("id", sa.Integer, primary_key=True))
"""
    findings = lint(tmp_path, body, rule=RULE)
    assert [f.message.split(" is ")[0] for f in findings] == [
        'Primary key "orders"."id"',
        'Primary key "invoices"."id"',
    ]
    assert findings[0].hint.splitlines()[0] == (
        'sa.Column("id", sa.BigInteger(), primary_key=True),  # in op.create_table("orders", ...)'
    )
