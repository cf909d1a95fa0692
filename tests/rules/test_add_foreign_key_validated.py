"""add-foreign-key-validated (MS010): a foreign key checked while writes to both tables wait."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import assert_renders, lines_flagged, lint

RULE = "add-foreign-key-validated"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_foreign_key("fk_orders_user_id_users", "orders", "users", ["user_id"], ["id"])
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: Foreign key "fk_orders_user_id_users" on "orders" is validated as it is added: all writes (INSERT, UPDATE, DELETE) on "orders" and "users" wait (SHARE ROW EXCLUSIVE) while every row is checked.
        op.create_foreign_key("fk_orders_user_id_users", "orders", "users", ["user_id"], ["id"],
                              postgresql_not_valid=True)
        # then, in a separate transaction (a later revision, or after an autocommit_block):
        op.execute('ALTER TABLE "orders" VALIDATE CONSTRAINT "fk_orders_user_id_users"')
        """,  # noqa: E501
        rule=RULE,
    )


def test_schema_qualified_tables_keep_their_schemas_in_the_recipe(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_foreign_key("fk_orders_user_id_users", "orders", "users", ["user_id"], ["id"],
                          source_schema="app", referent_schema="auth")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: Foreign key "fk_orders_user_id_users" on "app"."orders" is validated as it is added: all writes (INSERT, UPDATE, DELETE) on "app"."orders" and "auth"."users" wait (SHARE ROW EXCLUSIVE) while every row is checked.
        op.create_foreign_key("fk_orders_user_id_users", "orders", "users", ["user_id"], ["id"],
                              postgresql_not_valid=True, source_schema="app", referent_schema="auth")
        # then, in a separate transaction (a later revision, or after an autocommit_block):
        op.execute('ALTER TABLE "app"."orders" VALIDATE CONSTRAINT "fk_orders_user_id_users"')
        """,  # noqa: E501
        rule=RULE,
    )


def test_the_recipe_keeps_the_keys_actions_and_deferral(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_foreign_key("fk_items_order_id", "items", "orders", ["order_id"], ["id"],
                          ondelete="CASCADE", onupdate="SET NULL", deferrable=True,
                          initially="DEFERRED")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert (
        'postgresql_not_valid=True, ondelete="CASCADE", onupdate="SET NULL", deferrable=True, '
        'initially="DEFERRED")' in finding.hint
    )


def test_a_key_added_not_valid_is_not_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_foreign_key("fk_a", "orders", "users", ["user_id"], ["id"],
                          postgresql_not_valid=True)
    op.execute("ALTER TABLE orders ADD CONSTRAINT fk_b FOREIGN KEY (shop_id) "
               "REFERENCES shops (id) NOT VALID")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_validating_in_the_transaction_that_added_it_is_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_foreign_key("fk_a", "orders", "users", ["user_id"], ["id"],
                          postgresql_not_valid=True)
    op.execute("ALTER TABLE orders VALIDATE CONSTRAINT fk_a")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith(
        'Foreign key "fk_a" on "orders" is validated in the transaction that added it NOT VALID'
    )


def test_validating_after_a_commit_is_not_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_foreign_key("fk_a", "orders", "users", ["user_id"], ["id"],
                          postgresql_not_valid=True, source_schema="app")
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE app.orders VALIDATE CONSTRAINT fk_a")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_validating_another_tables_key_of_the_same_name_is_not_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_foreign_key("fk_user", "orders", "users", ["user_id"], ["id"],
                          postgresql_not_valid=True)
    op.execute("ALTER TABLE invoices VALIDATE CONSTRAINT fk_user")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_raw_sql_is_judged_like_alembic_operations(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE orders ADD CONSTRAINT fk_a FOREIGN KEY (user_id) REFERENCES users (id)")
    op.execute("ALTER TABLE orders ADD FOREIGN KEY (shop_id) REFERENCES shops (id)")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2, 3]


def test_a_key_on_a_column_added_in_the_same_alter_is_not_validated(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE orders ADD COLUMN user_id int REFERENCES users (id)")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_alembic_adds_a_columns_foreign_key_as_a_validated_constraint(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("package", sa.Column("owner_org", sa.Integer(), sa.ForeignKey("group.id")))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2]


def test_keys_of_a_table_created_in_the_function_are_not_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table(
        "items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("order_id", sa.Integer(), sa.ForeignKey("orders.id", ondelete="CASCADE")),
    )
    op.create_foreign_key("fk_items_user_id", "items", "users", ["user_id"], ["id"])
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_key_from_an_existing_table_to_a_new_one_is_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("regions", sa.Column("id", sa.Integer(), primary_key=True))
    op.create_foreign_key("fk_orders_region_id", "orders", "regions", ["region_id"], ["id"])
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [3]


def test_a_batch_operation_is_judged_like_a_plain_one(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.batch_alter_table("task_instance") as batch_op:
        batch_op.create_foreign_key("task_instance_dag_run_fkey", "dag_run",
                                    ["dag_id", "run_id"], ["dag_id", "run_id"],
                                    ondelete="CASCADE")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [3]


def test_a_downgrade_that_restores_a_dropped_key_says_so(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_constraint("fk_orders_user_id_users", "orders", type_="foreignkey")

def downgrade():
    op.create_foreign_key("fk_orders_user_id_users", "orders", "users", ["user_id"], ["id"])
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('In downgrade(): Foreign key "fk_orders_user_id_users"')


def test_an_unnamed_key_is_called_what_postgresql_calls_it(tmp_path: Path) -> None:
    """zun's ``create_foreign_key(constraint_name=None, ...)``: PostgreSQL names the key
    ``volume_mapping_volume_id_fkey``, the name later revisions drop it by; the recipe keeps
    that name, and the message does not pass it off as the migration's."""
    body = """\
def upgrade():
    op.create_foreign_key(None, "volume_mapping", "volume", ["volume_id"], ["id"])
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith(
        'Foreign key "volume_mapping_volume_id_fkey" (unnamed: PostgreSQL\'s name for it) on '
        '"volume_mapping" is validated'
    )
    assert 'op.create_foreign_key("volume_mapping_volume_id_fkey", "volume_mapping"' in (
        finding.hint
    )


def test_a_key_to_its_own_table_names_that_table_once(tmp_path: Path) -> None:
    """networking-sfc's ``sfc_path_nodes.previous_node_id``: a tree of rows."""
    body = """\
def upgrade():
    op.create_foreign_key(
        "fk_nodes_previous", "sfc_path_nodes", "sfc_path_nodes", ["previous_node_id"], ["id"]
    )
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert 'all writes (INSERT, UPDATE, DELETE) on "sfc_path_nodes" wait' in finding.message


def test_a_key_that_came_with_its_column_keeps_the_column_in_the_recipe(tmp_path: Path) -> None:
    """invenio-accounts adds ``user_id`` with its ForeignKey in one add_column(): replacing
    that call by the recipe must still add the column."""
    body = """\
def upgrade():
    op.add_column("accounts_user_session_activity",
                  sa.Column("user_id", sa.Integer(), sa.ForeignKey("accounts_user.id")))
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.hint.startswith(
        'op.add_column("accounts_user_session_activity", sa.Column("user_id", sa.Integer()))'
        "  # without its ForeignKey\nop.create_foreign_key("
    )
    compile(finding.hint, "<hint>", "exec")


def test_a_table_made_in_the_same_function_is_not_said_to_wait(tmp_path: Path) -> None:
    """placement makes ``consumer_types`` and adds a key to it from ``consumers``: no other
    session sees the new table until the commit, so only ``consumers``' writes wait."""
    body = """\
def upgrade():
    op.create_table("consumer_types", sa.Column("id", sa.Integer(), primary_key=True))
    op.add_column("consumers", sa.Column("consumer_type_id", sa.Integer()))
    op.create_foreign_key(None, "consumers", "consumer_types", ["consumer_type_id"], ["id"])
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert 'all writes (INSERT, UPDATE, DELETE) on "consumers" wait' in finding.message


def test_a_key_added_in_a_batch_block_goes_after_it(tmp_path: Path) -> None:
    """timesketch adds a column and its foreign key in one ``batch_alter_table()`` block:
    the recipe's ``op.create_foreign_key()`` runs at once, before the block's ADD COLUMN
    (run as the block ends), so it says to go after the block."""
    body = """\
def upgrade():
    with op.batch_alter_table("facet", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sketch_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(None, "sketch", ["sketch_id"], ["id"])
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.hint.splitlines()[0] == (
        "# after the batch_alter_table() block (its operations run when it ends), not in it:"
    )
