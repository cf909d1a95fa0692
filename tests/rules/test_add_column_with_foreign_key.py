"""add-column-with-foreign-key (MS022): ADD COLUMN ... REFERENCES checks every row locked."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import assert_renders, lines_flagged, lint

RULE = "add-column-with-foreign-key"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE orders ADD COLUMN user_id integer REFERENCES users (id)")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: Adding column "user_id" to "orders" with REFERENCES "users" checks every row while all reads and writes on "orders" (ACCESS EXCLUSIVE) and all writes (INSERT, UPDATE, DELETE) on "users" (SHARE ROW EXCLUSIVE) wait.
        op.execute("ALTER TABLE orders ADD COLUMN user_id integer")
        op.execute("ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID")
        with op.get_context().autocommit_block():  # validate in its own transaction
            op.execute('ALTER TABLE "orders" VALIDATE CONSTRAINT "orders_user_id_fkey"')
        """,  # noqa: E501
        rule=RULE,
    )


def test_schemas_name_actions_and_deferral_are_kept(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute(
        "ALTER TABLE app.orders ADD COLUMN user_id bigint NOT NULL DEFAULT 0 "
        "CONSTRAINT fk_user REFERENCES auth.users ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED"
    )
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: Adding column "user_id" to "app"."orders" with REFERENCES "auth"."users" checks every row while all reads and writes on "app"."orders" (ACCESS EXCLUSIVE) and all writes (INSERT, UPDATE, DELETE) on "auth"."users" (SHARE ROW EXCLUSIVE) wait.
        op.execute("ALTER TABLE app.orders ADD COLUMN user_id bigint NOT NULL DEFAULT 0")
        op.execute("ALTER TABLE app.orders ADD CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES auth.users ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED NOT VALID")
        with op.get_context().autocommit_block():  # validate in its own transaction
            op.execute('ALTER TABLE "app"."orders" VALIDATE CONSTRAINT "fk_user"')
        """,  # noqa: E501
        rule=RULE,
    )


def test_op_add_column_with_a_foreign_key_is_reported_once_by_the_fk_rule(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("orders", sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id")))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []
    assert len(lint(tmp_path, body, rule="add-foreign-key-validated")) == 1


def test_the_other_columns_of_the_statement_stay_in_the_first_step(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE orders ADD COLUMN note text, ADD COLUMN shop_id int REFERENCES shops")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.hint.startswith(
        'op.execute("ALTER TABLE orders ADD COLUMN note text, ADD COLUMN shop_id integer")\n'
        'op.execute("ALTER TABLE orders ADD CONSTRAINT orders_shop_id_fkey FOREIGN KEY '
        '(shop_id) REFERENCES shops NOT VALID")'
    )


def test_a_table_created_in_the_same_revision_is_empty(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("orders", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute("ALTER TABLE orders ADD COLUMN user_id integer REFERENCES users (id)")
    op.execute("ALTER TABLE invoices ADD COLUMN user_id integer REFERENCES users (id)")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]


def test_columns_without_references_and_table_level_keys_are_not_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE orders ADD COLUMN user_id integer NOT NULL DEFAULT 0")
    op.execute("ALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID")
    op.execute("CREATE TABLE refunds (order_id integer REFERENCES orders (id))")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_downgrade_that_restores_the_column_says_so(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_column("orders", "user_id")

def downgrade():
    op.execute("ALTER TABLE orders ADD COLUMN user_id integer REFERENCES users (id)")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('In downgrade(): Adding column "user_id" to "orders"')
