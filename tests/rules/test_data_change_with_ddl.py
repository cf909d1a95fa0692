"""data-change-with-ddl (MS034): a backfill in the transaction of a schema change on a live
table holds the schema change's lock, or its rows stay locked while the lock is waited for."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import (
    FIRST_BODY_LINE,
    after_history,
    assert_renders,
    lines_flagged,
    lint,
    lint_with_notices,
)

RULE = "data-change-with-ddl"


def line(body_line: int) -> int:
    """A line of a test's body as the written file numbers it (messages name file lines)."""
    return FIRST_BODY_LINE + body_line - 1


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("email_lower", sa.Text()))
    op.execute("UPDATE users SET email_lower = lower(email)")
"""
    assert_renders(
        tmp_path,
        body,
        f"""\
        3: UPDATE of "users" runs while the ACCESS EXCLUSIVE lock taken on "users" at line {line(2)} is held: all reads and writes of it wait until the UPDATE is done and the migration commits.
        # In a transaction of its own, apart from the schema change's (or in a revision of its own):
        from migsafe.runtime import batched_update

        with op.get_context().autocommit_block():  # each batch commits on its own
            batched_update(op.get_bind(), "users", "email_lower = lower(email)")
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_backfill_before_the_schema_change_keeps_its_rows_locked(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("UPDATE app.orders SET status = 'new' WHERE status IS NULL")
    op.alter_column("orders", "status", existing_type=sa.Text(), nullable=False, schema="app")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message == (
        'UPDATE of "app"."orders" runs in the transaction that then takes an ACCESS EXCLUSIVE '
        f"lock on it at line {line(3)}: the rows it changed stay locked while that lock is "
        "waited for and held, so the application's writes to them wait, or deadlock with the "
        "migration."
    )
    assert finding.hint.splitlines()[-1] == (
        '    batched_update(op.get_bind(), "orders", "status = \'new\'", '
        'where="status IS NULL", schema="app")'
    )


def test_rows_inserted_before_a_schema_change_are_no_one_elses(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("INSERT INTO roles (name) SELECT DISTINCT role FROM users")
    op.create_index("ix_roles_name", "roles", ["name"])
    op.execute("DELETE FROM roles WHERE name IS NULL")
    op.create_index("ix_roles_level", "roles", ["level"])
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]


def test_a_backfill_in_an_autocommit_block_has_a_transaction_of_its_own(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("email_lower", sa.Text()))
    with op.get_context().autocommit_block():
        op.execute("UPDATE users SET email_lower = lower(email)")
    op.execute("UPDATE users SET email_lower = '' WHERE email IS NULL")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_schema_change_after_an_autocommit_block_is_another_transaction(
    tmp_path: Path,
) -> None:
    body = """\
def upgrade():
    op.execute("UPDATE users SET email = lower(email)")
    with op.get_context().autocommit_block():
        op.execute("SELECT 1")
    op.alter_column("users", "email", existing_type=sa.Text(), nullable=False)
    op.execute("UPDATE users SET name = '' WHERE name IS NULL")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [6]


def test_a_change_of_a_few_rows_by_their_key_is_no_backfill(tmp_path: Path) -> None:
    body = """\
def upgrade():
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("role", sa.Text))
    op.add_column("users", sa.Column("role", sa.Text()))
    op.execute("UPDATE users SET role = 'admin' WHERE id = 1")
    op.execute(users.update().where(users.c.id == 2).values(role="admin"))
    op.execute(users.delete().where(users.c.id.in_([3, 4])))
    op.execute("UPDATE users SET role = 'admin' WHERE id = 5 AND role IS NULL")
    op.execute("UPDATE users SET role = 'user' WHERE role IS NULL")
    op.execute("DELETE FROM users WHERE id <> 1")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [8, 9]


def test_insert_of_values_is_no_backfill_but_insert_select_from_a_table_is(
    tmp_path: Path,
) -> None:
    body = """\
def upgrade():
    op.add_column("roles", sa.Column("level", sa.Integer()))
    op.execute("INSERT INTO roles (name, level) VALUES ('admin', 1), ('user', 2)")
    op.execute("INSERT INTO roles (name) SELECT 'guest' WHERE NOT EXISTS (SELECT 1 FROM roles)")
    op.execute("INSERT INTO roles (name, level) SELECT * FROM (VALUES ('x', 3)) AS v")
    op.bulk_insert(sa.table("roles", sa.column("name", sa.Text)), [{"name": "owner"}])
    op.execute("INSERT INTO roles (name) SELECT DISTINCT role FROM users")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [7]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('INSERT ... SELECT into "roles" runs while the ACCESS')


def test_tables_created_in_the_same_revision_have_no_traffic(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("tags", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("name", sa.Text()))
    op.execute("INSERT INTO tags (id, name) SELECT id, name FROM labels")
    op.create_index("ix_tags_name", "tags", ["name"])
    op.execute("UPDATE tags SET name = lower(name)")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_lock_on_another_table_is_held_through_the_backfill(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_index("ix_orders_user_id", "orders", ["user_id"])
    op.execute("UPDATE users SET email = lower(email)")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message == (
        f'UPDATE of "users" runs while the SHARE lock taken on "orders" at line {line(2)} is '
        'held: all writes (INSERT, UPDATE, DELETE) of "orders" wait until the UPDATE is done '
        "and the migration commits."
    )


def test_locks_that_let_writes_through_are_not_schema_changes(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE users VALIDATE CONSTRAINT ck_users_email")
    op.execute("COMMENT ON TABLE users IS 'people'")
    op.execute("UPDATE users SET email = lower(email)")
    op.execute("UPDATE alembic_version SET version_num = 'a1'")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_batched_update_inside_the_transaction_waits_for_its_lock(tmp_path: Path) -> None:
    body = """\
def upgrade():
    from migsafe.runtime import batched_update

    op.add_column("users", sa.Column("email_lower", sa.Text()))
    batched_update(op.get_bind(), "users", "email_lower = lower(email)")
    with op.get_context().autocommit_block():
        batched_update(op.get_bind(), "users", "email_lower = lower(email)")
    batched_update(op.get_bind(), "orders", "total = 0")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith(
        'batched_update() of "users" runs its batches on a connection of its own, which waits '
        f"for the ACCESS EXCLUSIVE lock this transaction holds on it since line {line(4)}"
    )


def test_a_downgrade_that_backfills_after_a_schema_change_says_so(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_column("users", "email_lower")

def downgrade():
    op.add_column("users", sa.Column("email_lower", sa.Text()))
    op.execute("UPDATE users SET email_lower = lower(email)")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [6]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('In downgrade(): UPDATE of "users" runs while the ACCESS')


def test_the_unique_keys_come_from_the_history(write_migration) -> None:
    before = """\
def upgrade():
    op.create_table("countries", sa.Column("code", sa.Text(), primary_key=True),
                    sa.Column("id", sa.Integer()), sa.Column("iso3", sa.Text()),
                    sa.Column("name", sa.Text()))
    op.create_index("ux_countries_iso3", "countries", ["iso3"], unique=True)
"""
    body = """\
def upgrade():
    op.add_column("countries", sa.Column("region", sa.Text()))
    op.execute("UPDATE countries SET region = 'eu' WHERE code IN ('fr', 'de')")
    op.execute("UPDATE countries SET region = 'eu' WHERE iso3 = 'ITA'")
    op.execute("UPDATE countries SET region = 'eu' WHERE id = 7")
"""
    findings = after_history(write_migration, before, body, rule=RULE)
    assert [f.line - FIRST_BODY_LINE + 1 for f in findings] == [5]


def test_a_table_emptied_for_a_required_column_is_left_alone(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("DELETE FROM trial_values")
    op.add_column("trial_values", sa.Column("objective", sa.Integer(), nullable=False))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_an_update_whose_where_is_always_false_changes_nothing(tmp_path: Path) -> None:
    """mistral's ``.where(action_def.c.namespace is None)``: Python compares the column
    object with None, False, and SQLAlchemy writes WHERE false."""
    body = """\
def upgrade():
    op.add_column("actions", sa.Column("namespace", sa.String(255)))
    actions = sa.table("actions", sa.column("namespace", sa.String))
    op.execute(actions.update().where(actions.c.namespace is None).values(namespace=""))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []
    flagged = body.replace("actions.c.namespace is None", "actions.c.namespace.is_(None)")
    assert lines_flagged(tmp_path, flagged, rule=RULE) == [4]


def test_a_delete_comparing_two_constants_changes_nothing(tmp_path: Path) -> None:
    """designate quotes a column's name as a string: ``WHERE 'key' = 'master'`` compares two
    constants, and matches no row; ``WHERE key = 'master'`` matches some."""
    body = """\
def upgrade():
    op.add_column("zone_attributes", sa.Column("note", sa.Text()))
    op.execute("DELETE FROM zone_attributes WHERE 'key' = 'master'")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []
    flagged = body.replace("'key' = 'master'", "key = 'master'")
    assert lines_flagged(tmp_path, flagged, rule=RULE) == [3]


def test_a_change_whose_condition_reads_its_table_is_not_batched(tmp_path: Path) -> None:
    """bodhi deletes every test case whose name appears twice: batched, a later batch would
    count the names again without the rows already deleted, and keep some."""
    body = """\
def upgrade():
    op.execute("DELETE FROM testcases WHERE name IN "
               "(SELECT name FROM testcases GROUP BY name HAVING count(name) > 1)")
    op.add_column("testcases", sa.Column("build_id", sa.Integer()))
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert "LIMIT" not in finding.hint and "while" not in finding.hint
    assert finding.hint.endswith(
        '    # in one statement: its WHERE reads "testcases" itself, so in batches it would '
        "match other rows"
    )
    compile(finding.hint, "<hint>", "exec")


def test_a_change_built_from_rows_read_says_its_values_are_not_known(tmp_path: Path) -> None:
    """ckanext-files deletes the orphans a query found: offline the query finds none, and the
    statement the recipe moves holds that empty answer (``IN (NULL) AND 1 <> 1``)."""
    body = """\
def upgrade():
    op.add_column("files_owner", sa.Column("note", sa.Text()))
    conn = op.get_bind()
    orphans = [row[0] for row in conn.execute(sa.text("SELECT file_id FROM files_owner"))]
    op.execute(sa.table("files_owner", sa.column("file_id")).delete().where(
        sa.column("file_id").in_(orphans)))
"""
    findings, _ = lint_with_notices(tmp_path, body, rule=RULE)
    (finding,) = findings
    assert "keep the migration's own code for them" in finding.hint
    compile(finding.hint, "<hint>", "exec")


def test_one_change_by_key_for_each_row_read_is_a_backfill(write_migration) -> None:
    """manila, octavia and ihatemoney read every row of a table and update each by its key,
    under the lock of the column they just added: each UPDATE is a moment's work, all of
    them a backfill of the whole table; so are those over the rows a WHERE chose (manila's
    ``status == 'available'``, most of them). A loop over constants, or over a batch a
    LIMIT bounds, is no such thing."""
    before = """\
def upgrade():
    op.create_table("export_locations", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("path", sa.Text()))
"""
    body = """\
def upgrade():
    op.add_column("export_locations", sa.Column("uuid", sa.String(36)))
    t = sa.table("export_locations", sa.column("id"), sa.column("uuid"), sa.column("path"))
    bind = op.get_bind()
    for record in bind.execute(t.select()):
        bind.execute(t.update().values(uuid="u").where(t.c.id == record.id))
    rows = bind.execute(t.select()).fetchall()
    for row in rows:
        bind.execute(t.update().values(uuid="w").where(t.c.id == row.id))
    for key in (1, 2):
        bind.execute(t.update().values(uuid="v").where(t.c.id == key))
    for row in bind.execute(t.select().where(t.c.path == "x")):
        bind.execute(t.update().values(uuid="x").where(t.c.id == row.id))
    for row in bind.execute(t.select().limit(100)):
        bind.execute(t.update().values(uuid="y").where(t.c.id == row.id))
"""
    findings = after_history(write_migration, before, body, rule=RULE)
    assert [(f.line - FIRST_BODY_LINE + 1, f.message.split(" runs ")[0]) for f in findings] == [
        (6, f'UPDATE of "export_locations" (one for each row read at line {line(5)}: all of '
            "the table's)"),
        (9, f'UPDATE of "export_locations" (one for each row read at line {line(7)}: all of '
            "the table's)"),
        (13, f'UPDATE of "export_locations" (one for each row read at line {line(12)})'),
    ]  # fmt: skip
    assert findings[0].hint.splitlines()[1:] == [
        "with op.get_context().autocommit_block():  # each statement commits on its own",
        f"    ...  # the loop over the rows read at line {line(5)}, as written",
    ]


def test_a_drop_index_locks_its_table(write_migration) -> None:
    """fides deletes rows, then drops an index of their table, then adds a constraint: the
    DROP INDEX takes the ACCESS EXCLUSIVE lock first (the finding named the later line)."""
    before = """\
def upgrade():
    op.create_table("digest_condition", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("parent_id", sa.Integer()), sa.Column("kind", sa.Text()))
    op.create_index("ix_digest_condition_kind", "digest_condition", ["kind"])
"""
    body = """\
def upgrade():
    op.execute("DELETE FROM digest_condition WHERE parent_id IS NOT NULL")
    op.drop_index("ix_digest_condition_kind", table_name="digest_condition")
    op.create_unique_constraint("uq_digest_condition_kind", "digest_condition", ["kind"])
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert f"ACCESS EXCLUSIVE lock on it at line {line(3)}:" in finding.message


ORM_TABLES = """\
def upgrade():
    op.create_table("metrics", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("name", sa.Text()))
    op.create_table("tag", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("name", sa.Text()))
"""


def test_what_the_orm_flushes_after_a_loop_over_the_rows_is_one_per_row(
    write_migration,
) -> None:
    """superset changes each metric in a loop over ``session.query(...).all()`` and commits
    after it: the ORM's UPDATEs come at the commit, outside the loop, and were taken for a
    change of one row. They are one for each row the loop read, under the ADD COLUMN's
    lock."""
    body = """\
from sqlalchemy.orm import Session, declarative_base

class Metric(declarative_base()):
    __tablename__ = "metrics"
    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.Text)
    is_restricted = sa.Column(sa.Boolean)

def upgrade():
    op.add_column("metrics", sa.Column("is_restricted", sa.Boolean()))
    session = Session(bind=op.get_bind())
    for obj in session.query(Metric).all():
        obj.is_restricted = False
    session.commit()
"""
    (finding,) = after_history(write_migration, ORM_TABLES, body, rule=RULE)
    assert finding.line == line_of_text(body, "session.commit()")
    assert finding.message.startswith(
        f'UPDATE of "metrics" (one for each row read at line {line_of_text(body, "for obj")}'
    )


def test_a_loop_over_what_a_loop_over_the_rows_filled_is_one_per_row(write_migration) -> None:
    """open-webui fills a dict in a loop over the rows it read, then deletes and updates in a
    loop over that dict, under the lock of the columns it altered."""
    body = """\
def upgrade():
    op.add_column("tag", sa.Column("user_id", sa.Text()))
    bind = op.get_bind()
    tag = sa.table("tag", sa.column("id"), sa.column("name"))
    renames = {}
    for row in bind.execute(sa.select(tag.c.id, tag.c.name)):
        renames[row.id] = row.name.lower()
    for tag_id, name in renames.items():
        bind.execute(sa.update(tag).where(tag.c.id == tag_id).values(name=name))
"""
    (finding,) = after_history(write_migration, ORM_TABLES, body, rule=RULE)
    assert finding.message.startswith(
        f'UPDATE of "tag" (one for each row read at line {line_of_text(body, "for row in")}'
    )


def line_of_text(body: str, fragment: str) -> int:
    """The line of ``fragment`` in ``body`` as checked (after the file's header)."""
    found = next(n for n, text in enumerate(body.splitlines()) if fragment in text)
    return FIRST_BODY_LINE + found
