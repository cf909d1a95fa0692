"""drop-type-still-used (MS073): DROP TYPE while a column still has the type."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import after_history, assert_renders, lines_flagged

RULE = "drop-type-still-used"

ENUM = """\
def upgrade():
    op.execute("CREATE TYPE granularity AS ENUM ('day', 'hour')")
    op.create_table("partition", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("granularity", sa.Enum(name="granularity", create_type=False)))
"""


def test_renders_the_columns_to_change_first(tmp_path: Path) -> None:
    """datajunction's downgrade drops its enum types, then changes the columns to text."""
    body = (
        ENUM
        + """
def downgrade():
    op.execute("DROP TYPE granularity")
    op.alter_column("partition", "granularity", type_=sa.Text(),
                    postgresql_using="granularity::text")
"""
    )
    assert_renders(
        tmp_path,
        body,
        """\
        7: In downgrade(): DROP TYPE "granularity" fails: "partition"."granularity" still has it, and PostgreSQL does not drop a type a column depends on.
        # first the columns that have it, to another type (or dropped):
        op.alter_column("partition", "granularity", type_=sa.Text(), postgresql_using="granularity::text")
        op.execute("DROP TYPE granularity")
        """,  # noqa: E501
        rule=RULE,
    )


def test_after_the_columns_changed_cascade_or_with_their_table_it_passes(
    write_migration,
) -> None:
    body = """\
def upgrade():
    op.alter_column("partition", "granularity", type_=sa.Text(),
                    postgresql_using="granularity::text")
    op.execute("DROP TYPE granularity")
    op.execute("CREATE TYPE other AS ENUM ('a')")
    op.add_column("partition", sa.Column("o", sa.Enum(name="other", create_type=False)))
    op.execute("DROP TYPE other CASCADE")
    op.execute("CREATE TYPE third AS ENUM ('a')")
    op.create_table("t", sa.Column("c", sa.Enum(name="third", create_type=False)))
    op.drop_table("t")
    op.execute("DROP TYPE third")
"""
    assert after_history(write_migration, ENUM, body, rule=RULE) == []


def test_a_type_in_use_in_an_earlier_revision_fails(write_migration) -> None:
    body = 'def upgrade():\n    op.execute("DROP TYPE IF EXISTS granularity")\n'
    (finding,) = after_history(write_migration, ENUM, body, rule=RULE)
    assert '"partition"."granularity" still has it' in finding.message


def test_a_file_checked_alone_knows_no_column(tmp_path: Path) -> None:
    assert (
        lines_flagged(tmp_path, 'def upgrade():\n    op.execute("DROP TYPE x")\n', rule=RULE) == []
    )
