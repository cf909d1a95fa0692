"""work-after-access-exclusive-lock (MS025): slow work while an ACCESS EXCLUSIVE lock taken
earlier in the same transaction is held."""

from __future__ import annotations

from pathlib import Path

from migsafe import command
from tests.rules import envpy
from tests.rules.lint import (
    FIRST_BODY_LINE,
    after_history,
    assert_renders,
    lines_flagged,
    lint,
    lint_with_notices,
)

RULE = "work-after-access-exclusive-lock"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("orders", sa.Column("tenant_id", sa.Integer()), schema="shop")
    op.create_index("ix_orders_tenant_id", "orders", ["tenant_id"], schema="shop")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        3: Building index "ix_orders_tenant_id" on "shop"."orders" runs while the ACCESS EXCLUSIVE lock taken on "shop"."orders" at line 10 is held: all reads and writes of it wait until it is done and the migration commits.
        op.add_column("orders", sa.Column("tenant_id", sa.Integer()), schema="shop")
        with op.get_context().autocommit_block():  # commits first: the lock of line 10 is released
            op.create_index("ix_orders_tenant_id", "orders", ["tenant_id"], schema="shop", postgresql_concurrently=True)
        # (or run it before line 10 if it does not need that change, or in its own revision)
        """,  # noqa: E501
        rule=RULE,
    )


def test_work_on_another_table_keeps_the_locked_one_waiting(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE orders RENAME COLUMN total TO total_cents")
    op.execute("ALTER TABLE users VALIDATE CONSTRAINT ck_users_email")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message == (
        'ALTER TABLE "users" (a validation scan) runs while the ACCESS EXCLUSIVE lock '
        'taken on "orders" at line 10 is held: all reads and writes of "orders" wait until it '
        "is done and the migration commits."
    )
    assert 'op.execute("ALTER TABLE users VALIDATE CONSTRAINT ck_users_email")' in finding.hint


def test_a_statement_that_locks_its_own_table_anyway_is_not_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("orders", sa.Column("note", sa.Text()))
    op.alter_column("orders", "total", type_=sa.BigInteger(), existing_type=sa.Integer())
    op.alter_column("users", "id", type_=sa.BigInteger(), existing_type=sa.Integer())
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]


def test_the_lock_on_the_works_own_table_is_the_one_named(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("note", sa.Text()))
    op.add_column("orders", sa.Column("tenant_id", sa.Integer()))
    op.create_foreign_key("fk_orders_tenant", "orders", "tenants", ["tenant_id"], ["id"])
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith(
        'ALTER TABLE "orders" (a validation scan) runs while the ACCESS EXCLUSIVE lock '
        'taken on "orders" at line 11 is held'
    )


def test_cheap_follow_ups_are_not_work(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("orders", sa.Column("note", sa.Text()))
    op.add_column("users", sa.Column("kind", sa.Text(), server_default="user"))
    op.drop_column("users", "legacy")
    op.create_check_constraint("ck_total", "orders", "total >= 0", postgresql_not_valid=True)
    op.execute("COMMENT ON TABLE orders IS 'orders'")
    op.drop_index("ix_users_legacy", table_name="users")
    op.execute("SELECT 1")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []
    assert lines_flagged(tmp_path, body, rule=RULE, pg_version=10) == [3]


def test_data_changes_are_left_to_data_change_with_ddl(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("orders", sa.Column("note", sa.Text()))
    op.execute("UPDATE orders SET note = ''")
    op.execute("INSERT INTO audit SELECT id FROM orders")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []
    assert len(lint(tmp_path, body, rule="data-change-with-ddl")) == 2


def test_work_before_the_lock_or_in_another_transaction_is_not_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_index("ix_orders_created_at", "orders", ["created_at"])
    op.add_column("orders", sa.Column("tenant_id", sa.Integer()))
    with op.get_context().autocommit_block():
        op.create_index("ix_orders_tenant_id", "orders", ["tenant_id"],
                        postgresql_concurrently=True)
    op.create_index("ix_orders_note", "orders", ["note"])
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_statements_in_an_autocommit_block_each_commit(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.get_context().autocommit_block():
        op.add_column("orders", sa.Column("tenant_id", sa.Integer()))
        op.create_index("ix_orders_tenant_id", "orders", ["tenant_id"])
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_tables_created_in_the_revision_have_no_traffic(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("refunds", sa.Column("id", sa.Integer()), sa.Column("order_id", sa.Integer()))
    op.add_column("refunds", sa.Column("note", sa.Text()))
    op.create_index("ix_refunds_order_id", "refunds", ["order_id"])
    op.create_index("ix_orders_user_id", "orders", ["user_id"])
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_lock_table_and_the_version_table_are_not_lock_sources(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
    op.execute("ALTER TABLE alembic_version ALTER COLUMN version_num TYPE varchar(64)")
    op.create_index("ix_orders_user_id", "orders", ["user_id"])
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_other_slow_statements_count_as_work(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("TRUNCATE sessions")
    op.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY order_totals")
    op.execute("REFRESH MATERIALIZED VIEW order_totals WITH NO DATA")
    op.execute("CREATE TABLE orders_copy AS SELECT * FROM orders")
    op.execute("REINDEX TABLE orders")
    op.execute("CLUSTER orders USING ix_orders_user_id")
    op.execute("CREATE INDEX ix_users_email ON users (email)")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [3]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message == (
        'REFRESH MATERIALIZED VIEW "order_totals" runs while the ACCESS EXCLUSIVE lock taken on '
        '"sessions" at line 10 is held, as do 4 more slow statements after it (lines 13, 14, '
        '15 and 16): all reads and writes of "sessions" wait until they are done and the '
        "migration commits."
    )
    assert (
        finding.hint.splitlines()[3]
        == "    # and the same for the slow work at lines 13, 14, 15 and 16"
    )


def test_a_downgrade_says_so(tmp_path: Path) -> None:
    body = """\
def upgrade():
    pass

def downgrade():
    op.drop_column("orders", "tenant_id")
    op.create_index("ix_orders_user_id", "orders", ["user_id"])
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('In downgrade(): Building index "ix_orders_user_id"')
    assert lines_flagged(tmp_path, body, rule=RULE) == [6]


def test_a_batch_operation_is_one_finding_with_its_statements_as_sql(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("orders", sa.Column("note", sa.Text()))
    with op.batch_alter_table("users") as batch_op:
        batch_op.alter_column("id", type_=sa.BigInteger(), nullable=False,
                              existing_type=sa.Integer())
"""
    assert_renders(
        tmp_path,
        body,
        """\
        4: ALTER TABLE "users" (a table rewrite) runs while the ACCESS EXCLUSIVE lock taken on "orders" at line 10 is held: all reads and writes of "orders" wait until it is done and the migration commits.
        op.add_column("orders", sa.Column("note", sa.Text()))
        with op.get_context().autocommit_block():  # commits first: the lock of line 10 is released
            op.execute("ALTER TABLE users ALTER COLUMN id TYPE BIGINT")
            op.execute("ALTER TABLE users ALTER COLUMN id SET NOT NULL")
        # (or run it before line 10 if it does not need that change, or in its own revision)
        """,  # noqa: E501
        rule=RULE,
    )


def test_one_finding_per_held_lock_at_its_first_slow_statement(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("orders", sa.Column("ref", sa.Text()))
    op.add_column("users", sa.Column("ref", sa.Text()))
    op.create_index("ix_users_ref", "users", ["ref"])
    op.create_index("ix_orders_ref", "orders", ["ref"])
    op.create_index("ix_orders_ref_2", "orders", ["ref", "id"])
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4, 5]
    first, second = lint(tmp_path, body, rule=RULE)
    assert 'lock taken on "users" at line 11 is held: all reads' in first.message
    assert 'lock taken on "orders" at line 10 is held, as does 1 more slow' in second.message


def test_one_call_that_locks_and_works_is_split_not_repeated(tmp_path: Path) -> None:
    """A batch add_column with a ForeignKey renders ADD COLUMN, then ADD FOREIGN KEY (a
    validation scan under the ADD COLUMN's lock): each goes to its own side of the recipe."""
    body = """\
def upgrade():
    with op.batch_alter_table("code_evaluators") as batch_op:
        batch_op.add_column(sa.Column("language", sa.Text(), sa.ForeignKey("languages.name")))
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    lines = finding.hint.splitlines()
    assert lines[0] == 'op.execute("ALTER TABLE code_evaluators ADD COLUMN language TEXT")'
    assert lines[1] == "with op.get_context().autocommit_block():  " + (
        f"# commits first: the lock of line {finding.line} is released"
    )
    assert lines[2].startswith('    op.execute("ALTER TABLE code_evaluators ADD FOREIGN KEY')
    assert sum("ADD COLUMN" in line for line in lines) == 1


def test_sql_with_a_type_of_a_module_not_installed_says_what_to_write(write_migration) -> None:
    """The recipe's SQL names a stood-in type (migsafe_unknown."UUIDType"), which cannot run
    as written: a line under it says so."""
    path = write_migration(
        "from myapp_not_installed.types import UUIDType\n\n"
        "def upgrade():\n"
        "    with op.batch_alter_table('orders') as batch_op:\n"
        "        batch_op.add_column(sa.Column('owner', UUIDType(), sa.ForeignKey('users.id')))\n"
    )
    (finding,) = [f for f in command.check([path]).findings if f.rule == RULE]
    assert 'migsafe_unknown."UUIDType"' in finding.hint
    assert finding.hint.splitlines()[-1] == (
        "# migsafe_unknown.UUIDType: the type the script names, from a module migsafe could not "
        "import; write it as the script does"
    )


def test_a_type_change_to_a_stood_in_type_is_not_called_a_rewrite(tmp_path: Path) -> None:
    """gnocchi's ``UUIDType(binary=True)`` from sqlalchemy_utils, not installed: whether the
    change rewrites the table cannot be told (change-column-type says so)."""
    body = (
        "from sqlalchemy_utils_not_installed import UUIDType\n\n\n"
        "def upgrade():\n"
        '    op.alter_column("metric", "id", type_=UUIDType(binary=True))\n'
        '    op.alter_column("resource", "user_id", type_=UUIDType(binary=True))\n'
    )
    findings, _ = lint_with_notices(tmp_path, body, rule=RULE)
    assert findings == []


def test_a_drop_index_holds_its_table_until_commit(tmp_path: Path) -> None:
    """skyline drops an index of ``revoked_token``, then builds one on another table: the
    DROP INDEX's ACCESS EXCLUSIVE lock on its table is held meanwhile."""
    body = """\
def upgrade():
    op.drop_index("ix_revoked_token_digest", table_name="revoked_token")
    op.create_index("ix_settings_key", "settings", ["key"])
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith(
        'Building index "ix_settings_key" on "settings" runs while the ACCESS EXCLUSIVE lock '
        'taken on "revoked_token" at line'
    )


def test_an_index_of_an_added_column_is_built_concurrently_in_the_recipe(tmp_path: Path) -> None:
    """Kotti's ``add_column("nodes", sa.Column("path", ..., index=True))`` renders the ADD
    COLUMN and the index from one call: out of the transaction, the index can be built
    concurrently, as create-index-not-concurrently asks."""
    body = """\
def upgrade():
    op.add_column("nodes", sa.Column("path", sa.Unicode(1000), index=True))
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert 'op.execute("CREATE INDEX CONCURRENTLY ix_nodes_path ON nodes (path)")' in (finding.hint)


def test_the_recipe_says_what_stays_between_the_lock_and_the_work(tmp_path: Path) -> None:
    """lemur adds ``sensitive``, then ``source_id``, then the foreign key on ``source_id``:
    the recipe keeps the line between, which the key needs, and says so."""
    body = """\
def upgrade():
    op.add_column("certificates", sa.Column("sensitive", sa.Boolean()))
    op.add_column("certificates", sa.Column("source_id", sa.Integer()))
    op.create_foreign_key("fk_source", "certificates", "sources", ["source_id"], ["id"])
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    lines = finding.hint.splitlines()
    assert lines[1] == f"# ... and what line {FIRST_BODY_LINE + 2} does, as before ..."
    compile(finding.hint, "<hint>", "exec")


def test_a_lock_on_a_table_dropped_next_is_not_the_one_held(tmp_path: Path) -> None:
    """fittrackee's downgrade drops an index of ``users_data_export``, then the table, then
    scans ``users``: nobody reads the dropped table after the commit."""
    body = """\
def upgrade():
    op.drop_index("ix_users_data_export_user_id", table_name="users_data_export")
    op.drop_table("users_data_export")
    op.create_index("ix_users_email", "users", ["email"])
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_lock_taken_by_a_rename_names_the_table_both_ways(tmp_path: Path) -> None:
    """fides renames ``backfill_history`` and indexes it under its new name: one table."""
    body = """\
def upgrade():
    op.rename_table("backfill_history", "tasks")
    op.create_index("ix_tasks_completed_at", "tasks", ["completed_at"])
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message == (
        'Building index "ix_tasks_completed_at" on "tasks" runs while the ACCESS EXCLUSIVE '
        'lock taken on "backfill_history" (renamed "tasks" there) at line '
        f"{FIRST_BODY_LINE + 1} is held: all reads and writes of it wait until it is done and "
        "the migration commits."
    )


def test_a_zone_change_in_a_utc_session_is_no_rewrite(tmp_path: Path) -> None:
    """airflow 2.10's 0027 sets ``timezone=UTC`` before turning its timestamps into
    timestamptz: change-column-type sees no rewrite there, and neither does this rule."""
    body = """\
def upgrade():
    op.execute("SET timezone = 'UTC'")
    op.add_column("chart", sa.Column("x", sa.Text()))
    op.alter_column("dag", "last_scheduler_run", existing_type=sa.DateTime(),
                    type_=sa.DateTime(timezone=True))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_loops_statements_are_counted_each(tmp_path: Path) -> None:
    """networking-bgpvpn makes the same three changes to four tables in a loop: under the
    first table's lock run the other tables' statements, each one of them, from two lines."""
    body = """\
def upgrade():
    for t in ("t1", "t2", "t3"):
        op.alter_column(t, "pid", nullable=False, existing_type=sa.BigInteger())
        op.create_unique_constraint(f"uq_{t}_pid", t, ["pid"])
"""
    first = lint(tmp_path, body, rule=RULE)[0]
    not_null, unique = FIRST_BODY_LINE + 2, FIRST_BODY_LINE + 3
    assert first.message.startswith('ALTER TABLE "t2" (a full-table scan) runs while the')
    # t2's UNIQUE, t3's SET NOT NULL and UNIQUE: three statements, from two lines
    assert f"as do 3 more slow statements after it (lines {not_null} and {unique})" in (
        first.message
    )


def test_a_key_dropped_and_added_back_is_added_not_valid_not_after_a_commit(
    tmp_path: Path,
) -> None:
    """celery-director drops its key and adds it back with ON DELETE CASCADE: committing
    before the add would leave the table without a key (rows written then skip the check,
    and a failed add leaves none). The key goes back NOT VALID, and is validated after the
    commit, which locks no reads or writes."""
    body = """\
def upgrade():
    op.drop_constraint("fk_tasks_workflow_id", "tasks", type_="foreignkey")
    op.create_foreign_key("fk_tasks_workflow_id", "tasks", "workflows", ["workflow_id"],
                          ["id"], ondelete="CASCADE")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.hint.splitlines()[1:] == [
        "# NOT VALID: it no longer reads the rows while the lock of line "
        f"{FIRST_BODY_LINE + 1} is held",
        'op.create_foreign_key("fk_tasks_workflow_id", "tasks", "workflows", ["workflow_id"],',
        '                      ["id"], ondelete="CASCADE", postgresql_not_valid=True)',
        "with op.get_context().autocommit_block():  # commits first; VALIDATE locks no reads "
        "or writes",
        """    op.execute('ALTER TABLE "tasks" VALIDATE CONSTRAINT "fk_tasks_workflow_id"')""",
    ]


def test_an_unnamed_key_is_added_not_valid_and_validated_by_postgresqls_name(
    tmp_path: Path,
) -> None:
    """ironic adds a column and an unnamed key on it: the recipe moved the validated add into
    an autocommit block, which add-foreign-key-validated then flagged again."""
    body = """\
def upgrade():
    op.add_column("nodes", sa.Column("allocation_id", sa.Integer(), nullable=True))
    op.create_foreign_key(None, "nodes", "allocations", ["allocation_id"], ["id"])
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.hint.splitlines()[2:] == [
        'op.create_foreign_key(None, "nodes", "allocations", ["allocation_id"], ["id"], '
        "postgresql_not_valid=True)",
        "with op.get_context().autocommit_block():  # commits first; VALIDATE locks no reads "
        "or writes",
        """    op.execute('ALTER TABLE "nodes" VALIDATE CONSTRAINT "nodes_allocation_id_fkey"')""",
    ]


def test_a_key_added_back_in_a_batch_block_is_added_not_valid_as_sql_in_order(
    tmp_path: Path,
) -> None:
    """argilla and dstack add their key back with ``batch_op.create_foreign_key``, which runs
    when the batch_alter_table() block ends: a recipe keeping that call beside the VALIDATE
    would validate before the key exists. The recipe writes the add as SQL, in order."""
    body = """\
def upgrade():
    with op.batch_alter_table("tasks") as batch_op:
        batch_op.drop_constraint("fk_tasks_workflow_id", type_="foreignkey")
        batch_op.create_foreign_key("fk_tasks_workflow_id", "workflows", ["workflow_id"],
                                    ["id"], ondelete="CASCADE")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert "batch_op" not in finding.hint
    assert finding.hint.splitlines()[-3:] == [
        'op.execute("ALTER TABLE tasks ADD CONSTRAINT fk_tasks_workflow_id '
        'FOREIGN KEY(workflow_id) REFERENCES workflows (id) ON DELETE CASCADE NOT VALID")',
        "with op.get_context().autocommit_block():  # commits first; VALIDATE locks no reads "
        "or writes",
        """    op.execute('ALTER TABLE "tasks" VALIDATE CONSTRAINT "fk_tasks_workflow_id"')""",
    ]


def test_nothing_is_held_on_a_connection_in_autocommit(tmp_path: Path) -> None:
    """privacyidea's env.py runs every statement on its own: the ADD COLUMN's lock is gone
    when the index build starts."""
    body = """\
def upgrade():
    op.add_column("orders", sa.Column("note", sa.Text()))
    op.create_index("ix_orders_total", "orders", ["total"])
"""
    assert envpy.findings(tmp_path, body, rule=RULE, env_py=envpy.AUTOCOMMIT_ENV_PY) == []
    assert len(envpy.findings(tmp_path, body, rule=RULE)) == 1


def test_a_key_dropped_locks_the_table_it_refers_to_from_that_line(write_migration) -> None:
    """octavia drops ``fk_listener_pool_id`` (its triggers on ``pool`` go too: ACCESS
    EXCLUSIVE on ``pool``), then adds a column to ``pool`` and validates a key: the lock on
    ``pool`` dates from the drop."""
    before = """\
def upgrade():
    op.create_table("pool", sa.Column("id", sa.String(36), primary_key=True))
    op.create_table("load_balancer", sa.Column("id", sa.String(36), primary_key=True))
    op.create_table("listener", sa.Column("id", sa.String(36), primary_key=True),
                    sa.Column("pool_id", sa.String(36),
                              sa.ForeignKey("pool.id", name="fk_listener_pool_id")))
"""
    body = """\
def upgrade():
    op.drop_constraint("fk_listener_pool_id", "listener", type_="foreignkey")
    op.add_column("pool", sa.Column("load_balancer_id", sa.String(36),
                                    sa.ForeignKey("load_balancer.id"), nullable=True))
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    # both tables the drop locks are named (ckanext-harvest's left CKAN's ``package`` out)
    assert (
        f'ACCESS EXCLUSIVE lock taken on "pool" and "listener" at line {FIRST_BODY_LINE + 1} '
        "is held: all reads and writes of them wait"
    ) in finding.message


def test_a_call_in_a_loop_is_not_quoted_out_of_it(tmp_path: Path) -> None:
    """taas drops each key of a table in a loop, then adds one: the recipe cannot quote
    ``op.drop_constraint(fk, ...)`` without its loop (``fk`` would not be defined), nor a
    loop's ALTER as the call to make NOT VALID; it writes the SQL they ran."""
    body = """\
def upgrade():
    for fk in ["fk_tasks_a", "fk_tasks_b"]:
        op.drop_constraint(fk, "tasks", type_="foreignkey")
    for table in ["tasks"]:
        op.create_foreign_key("fk_tasks_workflow_id", table, "workflows", ["workflow_id"],
                              ["id"])
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    recipe = finding.hint
    assert "fk," not in recipe and "table," not in recipe, recipe
    assert recipe.splitlines()[0] == 'op.execute("ALTER TABLE tasks DROP CONSTRAINT fk_tasks_a")'
    compiled = compile(recipe, "<recipe>", "exec")
    assert {"fk", "table"}.isdisjoint(compiled.co_names)
    assert "ADD CONSTRAINT fk_tasks_workflow_id FOREIGN KEY(workflow_id) REFERENCES " in recipe
    assert "NOT VALID" in recipe


def test_a_widening_the_downgrade_narrows_in_sql_is_no_work(tmp_path: Path) -> None:
    """indico widens prices in SQL and narrows them back in SQL: the old type is the one
    the downgrade sets, so the upgrade's second ALTER rewrites nothing (it was called "a
    table rewrite" under the first one's lock); the downgrade's narrowing does rewrite."""
    body = """\
def upgrade():
    op.execute("ALTER TABLE forms ALTER COLUMN price TYPE numeric(11,2)")
    op.execute("ALTER TABLE registrations ALTER COLUMN price TYPE numeric(11,2)")

def downgrade():
    op.execute("ALTER TABLE forms ALTER COLUMN price TYPE numeric(8,2)")
    op.execute("ALTER TABLE registrations ALTER COLUMN price TYPE numeric(8,2)")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [7]  # the downgrade's second


def test_keys_added_back_with_more_work_after_them_are_added_not_valid_too(
    tmp_path: Path,
) -> None:
    """ckanext-harvest drops its keys and adds them back with ON DELETE CASCADE, three in
    one revision: with more than one, the recipe committed after the drop and added the key
    back validated in an autocommit block (a window without the key, and a validating scan)."""
    body = """\\
def upgrade():
    op.drop_constraint("fk_a", "items", type_="foreignkey")
    op.create_foreign_key("fk_a", "items", "jobs", ["job_id"], ["id"], ondelete="CASCADE")
    op.create_foreign_key("fk_b", "items", "sources", ["source_id"], ["id"])
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert "autocommit_block():  # commits first; VALIDATE locks no reads" in finding.hint
    assert "postgresql_not_valid=True" in finding.hint
    assert finding.hint.splitlines()[-1] == (
        f"# and the same for the slow work at line {FIRST_BODY_LINE + 4}"
    )


def test_work_between_a_key_dropped_and_added_back_is_not_committed_apart(
    write_migration,
) -> None:
    """invenio-accounts drops its role table's primary key CASCADE (the foreign key of
    ``accounts_userrole`` goes with it), retypes both columns, and adds the keys back: the
    recipe ran each retype in an autocommit block, which commits the tables without their
    keys in between. It says to keep the work in the transaction instead."""
    before = """\
def upgrade():
    op.create_table("accounts_role", sa.Column("id", sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint("id", name="pk_accounts_role"))
    op.create_table("accounts_userrole", sa.Column("role_id", sa.Integer(),
                    sa.ForeignKey("accounts_role.id", name="fk_userrole_role")))
"""
    body = """\
def upgrade():
    op.execute("ALTER TABLE accounts_role DROP CONSTRAINT pk_accounts_role CASCADE")
    op.alter_column("accounts_userrole", "role_id", existing_type=sa.Integer,
                    type_=sa.String(80))
    op.alter_column("accounts_role", "id", existing_type=sa.Integer, type_=sa.String(80))
    op.create_primary_key("pk_accounts_role", "accounts_role", ["id"])
    op.create_foreign_key("fk_userrole_role", "accounts_userrole", "accounts_role",
                          ["role_id"], ["id"])
"""
    findings = after_history(write_migration, before, body, rule=RULE)
    assert [f.line for f in findings] == [FIRST_BODY_LINE + 2, FIRST_BODY_LINE + 4]
    for finding in findings:
        assert "autocommit_block():  # commits first" not in finding.hint
        assert (
            f'# "pk_accounts_role" (dropped at line {FIRST_BODY_LINE + 1}) is added back at '
            f"line {FIRST_BODY_LINE + 5}: a commit"
        ) in finding.hint, finding.hint


def test_a_key_added_in_the_place_of_one_dropped_has_its_index_built_first(
    write_migration,
) -> None:
    """A primary key added, under another table's lock, in the place of one the transaction
    dropped: committing before the add leaves the table without a key. Its index is built
    before, CONCURRENTLY under a name of its own, and the key added on it here."""
    before = """\
def upgrade():
    op.create_table("a", sa.Column("x", sa.Integer()))
    op.create_table("b", sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("code", sa.Text(), nullable=False),
                    sa.PrimaryKeyConstraint("id", name="b_pkey"))
"""
    body = """\
def upgrade():
    op.alter_column("a", "x", existing_type=sa.Integer, type_=sa.BigInteger)
    op.drop_constraint("b_pkey", "b", type_="primary")
    op.create_primary_key("b_pkey", "b", ["code"])
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert finding.line == FIRST_BODY_LINE + 3
    assert "autocommit_block():  # commits first" not in finding.hint
    assert '#         op.create_index("b_pkey_new", "b", ["code"], unique=True,' in finding.hint
    assert finding.hint.splitlines()[-1] == (
        'op.execute(\'ALTER TABLE "b" ADD CONSTRAINT "b_pkey" PRIMARY KEY USING INDEX '
        '"b_pkey_new"\')'
    ), finding.hint
