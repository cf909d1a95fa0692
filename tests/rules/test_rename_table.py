"""rename-table (MS002): renaming a table breaks the code still running during the deploy."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import FIRST_BODY_LINE, assert_renders, lines_flagged, lint

RULE = "rename-table"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.rename_table("customers", "clients")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: Renaming table "customers" to "clients" breaks the running application, which still queries "customers" (and takes an ACCESS EXCLUSIVE lock).
        # Rename, and keep the old name working with a view until no running code uses it:
        op.rename_table("customers", "clients")
        op.execute('CREATE VIEW "customers" AS SELECT * FROM "clients"')  # simple views are updatable
        # later revision, after the new code is everywhere:
        op.execute('DROP VIEW "customers"')
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_schema_qualified_table_keeps_its_schema_in_the_recipe(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.rename_table("customers", "clients", schema="app")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: Renaming table "app"."customers" to "app"."clients" breaks the running application, which still queries "app"."customers" (and takes an ACCESS EXCLUSIVE lock).
        # Rename, and keep the old name working with a view until no running code uses it:
        op.rename_table("customers", "clients", schema="app")
        op.execute('CREATE VIEW "app"."customers" AS SELECT * FROM "app"."clients"')  # simple views are updatable
        # later revision, after the new code is everywhere:
        op.execute('DROP VIEW "app"."customers"')
        """,  # noqa: E501
        rule=RULE,
    )


def test_raw_sql_rename_to_is_judged_like_rename_table(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE customers RENAME TO clients")
    op.execute("ALTER TABLE IF EXISTS orders RENAME TO purchases")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2, 3]


def test_renaming_an_index_a_sequence_a_view_or_a_column_is_no_table_rename(
    tmp_path: Path,
) -> None:
    body = """\
def upgrade():
    op.execute("ALTER INDEX ix_customers_email RENAME TO ix_clients_email")
    op.execute("ALTER SEQUENCE customers_id_seq RENAME TO clients_id_seq")
    op.execute("ALTER VIEW active_customers RENAME TO active_clients")
    op.alter_column("customers", "email", new_column_name="email_address")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_view_keeping_the_old_name_alive_is_fine(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.rename_table("customers", "clients")
    op.execute("CREATE OR REPLACE VIEW customers AS SELECT * FROM clients")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_view_in_another_schema_keeps_nothing_alive(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.rename_table("customers", "clients", schema="app")
    op.execute("CREATE VIEW customers AS SELECT * FROM app.clients")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2]


def test_a_view_in_the_same_schema_keeps_the_old_name_alive(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.rename_table("customers", "clients", schema="app")
    op.execute('CREATE VIEW "app"."customers" AS SELECT * FROM "app"."clients"')
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_new_table_under_the_old_name_still_breaks_the_running_code(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.rename_table("customers", "clients")
    op.create_table("customers", sa.Column("id", sa.Integer(), primary_key=True))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2]


def test_a_copy_renamed_into_the_place_of_the_table_it_replaces_is_a_swap(
    tmp_path: Path,
) -> None:
    """networking-odl copies its journal into ``opendaylightjournal_new`` (made by an
    earlier revision), drops the old table and renames the copy into its place: the running
    code's queries of the name reach the copy. Renaming it elsewhere is still a rename."""
    body = """\
def upgrade():
    op.execute("INSERT INTO journal_new (data) SELECT data FROM journal")
    op.drop_table("journal")
    op.rename_table("journal_new", "journal")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []
    elsewhere = body.replace('"journal_new", "journal")', '"journal_new", "journal_v2")')
    assert lines_flagged(tmp_path, elsewhere, rule=RULE) == [4]


def test_a_table_created_in_the_same_function_has_no_running_code(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("tmp_customers", sa.Column("id", sa.Integer(), primary_key=True))
    op.rename_table("tmp_customers", "customers")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_downgrade_that_renames_back_is_not_judged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.rename_table("customers", "clients")

def downgrade():
    op.rename_table("clients", "customers")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2]


def test_a_name_created_anew_gets_no_view_in_the_recipe(tmp_path: Path) -> None:
    """faraday renames ``action`` to ``oldaction`` and creates a new ``action``: a view by the
    old name would clash with it (DuplicateTable)."""
    body = """\
def upgrade():
    op.rename_table("action", "oldaction")
    op.create_table("action", sa.Column("id", sa.Integer(), primary_key=True))
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert "CREATE VIEW" not in finding.hint
    assert finding.hint.startswith('# "action" is created anew later in this revision')
    compile(finding.hint, "<hint>", "exec")


def test_the_view_comes_after_the_revisions_changes_to_the_renamed_tables_columns(
    tmp_path: Path,
) -> None:
    """invenio-jobs renames ``job`` and then drops one of its columns: a view made right
    after the rename selects that column, and PostgreSQL refuses the drop."""
    body = """\
def upgrade():
    op.rename_table("job", "jobs_job")
    op.drop_column("jobs_job", "default_args")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.hint.splitlines()[2:4] == [
        f"# after line {FIRST_BODY_LINE + 2}: PostgreSQL refuses to drop or retype a column a "
        "view selects",
        """op.execute('CREATE VIEW "job" AS SELECT * FROM "jobs_job"')  # simple views are """
        "updatable",
    ]
