"""add-column-not-null-without-default (MS009): a NOT NULL column that existing rows cannot fill."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import (
    assert_recipe_is_python,
    assert_renders,
    lines_flagged,
    lint,
    lint_with_notices,
)

RULE = "add-column-not-null-without-default"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("tenant_id", sa.Integer(), nullable=False))
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: Adding NOT NULL column "tenant_id" to "users" without a default fails as soon as the table has a row.
        # either give it a constant server default (instant on PostgreSQL >= 11):
        op.add_column("users", sa.Column("tenant_id", sa.Integer(), nullable=False, server_default=...))
        # or add it nullable, backfill in batches, then enforce NOT NULL (see set-not-null):
        op.add_column("users", sa.Column("tenant_id", sa.Integer(), nullable=True))
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_schema_qualified_table_keeps_its_schema_in_the_recipe(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("name", sa.String(50), nullable=False), schema="app")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: Adding NOT NULL column "name" to "app"."users" without a default fails as soon as the table has a row.
        # either give it a constant server default (instant on PostgreSQL >= 11):
        op.add_column("users", sa.Column("name", sa.String(length=50), nullable=False, server_default=...), schema="app")
        # or add it nullable, backfill in batches, then enforce NOT NULL (see set-not-null):
        op.add_column("users", sa.Column("name", sa.String(length=50), nullable=True), schema="app")
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_constant_server_default_fills_the_existing_rows(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("is_admin", sa.Boolean(), nullable=False,
                                     server_default=sa.false()))
    op.add_column("users", sa.Column("plan", sa.String(20), nullable=False, server_default="free"))
    op.add_column("users", sa.Column("score", sa.Integer(), nullable=False, server_default="0"))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []
    assert lines_flagged(tmp_path, body, rule=RULE, pg_version=10) == []


def test_a_python_side_default_never_reaches_the_database(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("is_admin", sa.Boolean(), nullable=False, default=False))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2]


def test_a_null_server_default_fills_nothing(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("score", sa.Integer(), nullable=False,
                                     server_default=sa.null()))
    op.execute("ALTER TABLE users ADD COLUMN rank int NOT NULL DEFAULT NULL::int")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2, 4]


def test_identity_serial_and_generated_columns_fill_themselves(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("seq", sa.BigInteger(), sa.Identity(), nullable=False))
    op.add_column("users", sa.Column("total", sa.Integer(), sa.Computed("a + b", persisted=True),
                                     nullable=False))
    op.add_column("users", sa.Column("legacy_id", sa.Integer(), primary_key=True))
    op.execute("ALTER TABLE users ADD COLUMN n bigserial NOT NULL")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_primary_key_column_of_a_type_without_a_sequence_is_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE users ADD COLUMN code text PRIMARY KEY")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2]


def test_a_nullable_column_is_not_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("tenant_id", sa.Integer(), nullable=True))
    op.add_column("users", sa.Column("nickname", sa.Text()))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_raw_sql_is_judged_like_alembic_operations(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE users ADD COLUMN tenant_id integer NOT NULL")
    op.execute("ALTER TABLE users ADD COLUMN plan text NOT NULL DEFAULT 'free'")
    op.execute("ALTER TABLE users ADD COLUMN a int, ADD COLUMN b int NOT NULL")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2, 4]


def test_the_recipe_for_raw_sql_is_valid_python(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE users ADD COLUMN tenant_id integer NOT NULL")
"""
    assert_recipe_is_python(tmp_path, body, rule=RULE)


def test_a_batch_operation_is_judged_like_a_plain_one(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.batch_alter_table("task_instance", schema=None) as batch_op:
        batch_op.add_column(sa.Column("try_number", sa.Integer(), nullable=False))
        batch_op.add_column(sa.Column("pool_slots", sa.Integer(), nullable=False,
                                      server_default="1"))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [3]


def test_a_table_created_earlier_in_the_function_is_empty(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer(), primary_key=True), schema="app")
    op.add_column("users", sa.Column("tenant_id", sa.Integer(), nullable=False), schema="app")
    op.add_column("users", sa.Column("tenant_id", sa.Integer(), nullable=False))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]


def test_a_downgrade_that_restores_a_dropped_column_says_so(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_column("users", "legacy_id")

def downgrade():
    op.add_column("users", sa.Column("legacy_id", sa.INTEGER(), autoincrement=False,
                                     nullable=False))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('In downgrade(): Adding NOT NULL column "legacy_id"')


def test_a_table_emptied_in_the_same_transaction_has_no_row_to_fail_on(tmp_path: Path) -> None:
    """faraday deletes every agent schedule, then adds a required column: no row is left.
    After a commit, other sessions may have added rows again."""
    body = """\
def upgrade():
    op.execute("DELETE FROM agent_schedule")
    op.add_column("agent_schedule", sa.Column("executor_id", sa.Integer(), nullable=False))
    op.execute("TRUNCATE executor")
    with op.get_context().autocommit_block():
        pass
    op.add_column("executor", sa.Column("parameters", sa.JSON(), nullable=False))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [7]


def test_a_column_made_not_null_before_anything_fills_it_fails_the_same(tmp_path: Path) -> None:
    """rucio adds ``purge_replicas`` with a Python-side default only, then a CHECK (IS NOT
    NULL): every existing row holds NULL, so the CHECK (like a SET NOT NULL) fails on the
    first row; set-not-null and add-check-constraint-validated, whose recipes would fail as
    well, leave it to this rule. A backfill between, or a server default, fills it."""
    body = """\
def upgrade():
    op.add_column("rules", sa.Column("purge", sa.Boolean(), default=False))
    op.create_check_constraint("rules_purge_nn", "rules", "PURGE IS NOT NULL")
    op.add_column("rules", sa.Column("other", sa.Boolean()))
    op.alter_column("rules", "other", nullable=False)
    op.add_column("rules", sa.Column("filled", sa.Boolean()))
    op.execute("UPDATE rules SET filled = false")
    op.alter_column("rules", "filled", nullable=False)
    op.add_column("rules", sa.Column("defaulted", sa.Boolean(), server_default=sa.false()))
    op.alter_column("rules", "defaulted", nullable=False)
"""
    findings = lint(tmp_path, body, rule=RULE)
    assert [f.line - findings[0].line for f in findings] == [0, 2]
    assert findings[0].message == (
        'Column "purge" of "rules" is added without a default at line '
        f"{findings[0].line - 1}, and nothing fills it before it is made NOT NULL here: this "
        "fails as soon as the table has a row."
    )
    assert lint(tmp_path, body, rule="add-check-constraint-validated") == []
    set_not_null = [f.line for f in lint(tmp_path, body, rule="set-not-null")]
    assert set_not_null == [findings[1].line + 3, findings[1].line + 5]


def test_a_column_made_part_of_a_primary_key_before_anything_fills_it_fails(
    tmp_path: Path,
) -> None:
    """taxhub's downgrade adds ``id_nom`` and makes it part of the table's primary key (NOT
    NULL) with nothing written into it: "column id_nom contains null values" on the first
    row; add-unique-constraint said only that the key's index is built under a lock."""
    body = """\
def downgrade():
    op.execute("ALTER TABLE cor_nom_liste ADD id_nom int")
    op.execute("ALTER TABLE cor_nom_liste DROP CONSTRAINT cor_nom_liste_pkey")
    op.execute("ALTER TABLE cor_nom_liste ADD CONSTRAINT cor_nom_liste_pkey "
               "PRIMARY KEY (id_nom, id_liste)")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert "nothing fills it before it is made part of the primary key here" in finding.message


def test_a_backfill_the_capture_cannot_see_may_fill_it(tmp_path: Path) -> None:
    """neutron fills ``standard_attr_id`` in a loop over the rows it reads (none, offline);
    zenml through a Session of a module not installed: either may be the backfill."""
    for fill in (
        "for row in op.get_bind().execute(sa.text('SELECT id FROM rules')):\n"
        "        op.execute(f'UPDATE rules SET other = true WHERE id = {row.id}')",
        "import not_installed_app\n    not_installed_app.Session().fill('rules')",
    ):
        body = f"""\
def upgrade():
    op.add_column("rules", sa.Column("other", sa.Boolean()))
    {fill}
    op.alter_column("rules", "other", nullable=False)
"""
        findings, notices = lint_with_notices(tmp_path, body, rule=RULE)
        assert findings == [] and len(notices) == 1, fill
