"""batch-recreate-table (MS074): a batch_alter_table() block that recreates a live table
copies all of its rows into a new one and drops the old."""

from __future__ import annotations

from tests.rules.lint import after_history

RULE = "batch-recreate-table"

USERS = """
def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("name", sa.Text))
"""


def test_renders_the_block_without_the_option(write_migration) -> None:
    """langflow adds a composite unique constraint in a block with ``recreate="always"``:
    batch mode drops the table's primary key (ACCESS EXCLUSIVE), copies every row, drops
    the table and renames the copy. Offline Alembic refuses to reflect the table; migsafe
    reflects it from the schema built, as a deploy does from the database."""
    body = """
def upgrade():
    with op.batch_alter_table("users", recreate="always") as batch_op:
        batch_op.create_unique_constraint("uq_users_name", ["name"])
"""
    (finding,) = after_history(write_migration, USERS, body, rule=RULE)
    assert finding.message == (
        'The batch_alter_table() block recreates "users": every row of it is copied into '
        '"_alembic_tmp_users", which then replaces it, while the ACCESS EXCLUSIVE lock taken '
        "on it by the block, as it drops its constraints first, is held: all reads and writes "
        "of it wait for the copy."
    )
    assert finding.hint == (
        'with op.batch_alter_table("users") as batch_op:\n    ...  # the same operations'
    )


def test_without_a_lock_before_the_copy_the_rows_written_meanwhile_are_lost(
    write_migration,
) -> None:
    """Batch mode drops the table's named constraints before the copy, which locks it; a
    table without any is copied while the application writes to it."""
    keyless = """
def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer), sa.Column("name", sa.Text))
"""
    body = """
def upgrade():
    with op.batch_alter_table("users", recreate="always") as batch_op:
        batch_op.add_column(sa.Column("nickname", sa.Text()))
"""
    (finding,) = after_history(write_migration, keyless, body, rule=RULE)
    assert finding.message.endswith(
        "while the application goes on writing to it: what it writes during the copy is lost "
        "when the table is dropped."
    )


def test_a_downgrade_is_judged_and_says_so(write_migration) -> None:
    body = """
def upgrade():
    pass

def downgrade():
    with op.batch_alter_table("users", recreate="always") as batch_op:
        batch_op.drop_column("name")
"""
    (finding,) = after_history(write_migration, USERS, body, rule=RULE)
    assert finding.message.startswith("In downgrade(): The batch_alter_table() block recreates")


def test_in_place_blocks_and_tables_of_the_revision_are_not_flagged(write_migration) -> None:
    body = """
def upgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("nickname", sa.Text()))
    op.create_table("imports", sa.Column("id", sa.Integer, primary_key=True))
    with op.batch_alter_table("imports", recreate="always") as batch_op:
        batch_op.add_column(sa.Column("source", sa.Text()))
"""
    assert after_history(write_migration, USERS, body, rule=RULE) == []


def test_a_long_table_name_whose_copy_alembic_cuts_short_is_flagged(write_migration) -> None:
    """Alembic names the copy ``_alembic_tmp_<table>`` cut to 50 characters: a table of 38
    or more was taken for another, which no revision made, and the block went unflagged."""
    name = "order_line_item_" + "x" * 30
    before = f"""
def upgrade():
    op.create_table("{name}", sa.Column("id", sa.Integer, primary_key=True))
"""
    body = f"""
def upgrade():
    with op.batch_alter_table("{name}", recreate="always") as batch_op:
        batch_op.add_column(sa.Column("nick", sa.Text()))
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert finding.message.startswith(f'The batch_alter_table() block recreates "{name}"')
