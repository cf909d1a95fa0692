"""drop-index-of-constraint (MS065): DROP INDEX fails on the index a constraint owns."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import after_history, assert_recipe_is_python, assert_renders, lines_flagged

RULE = "drop-index-of-constraint"

TABLE = """\
def upgrade():
    op.create_table(
        "containers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(255)),
        sa.UniqueConstraint("name", name="uniq_container0name"),
    )
"""


def test_renders_the_constraint_to_drop_instead(tmp_path: Path) -> None:
    body = TABLE + (
        '\n\ndef downgrade():\n    op.drop_index("uniq_container0name", table_name="containers")\n'
        '    op.drop_table("containers")\n'
    )
    assert_renders(
        tmp_path,
        body,
        """\
        11: In downgrade(): DROP INDEX "uniq_container0name" fails: the index belongs to the unique constraint of the same name on "containers", and PostgreSQL drops it only with the constraint.
        op.drop_constraint("uniq_container0name", "containers", type_="unique")  # its index goes with it
        """,  # noqa: E501
        rule=RULE,
    )
    assert_recipe_is_python(tmp_path, body, rule=RULE)


def test_an_index_of_its_own_and_the_constraint_dropped_first_pass(tmp_path: Path) -> None:
    body = TABLE + (
        '    op.create_index("ix_containers_name", "containers", ["name"], unique=True)\n'
        '    op.drop_index("ix_containers_name", table_name="containers")\n'
        '    op.drop_constraint("uniq_container0name", "containers", type_="unique")\n'
        '    op.execute("DROP INDEX IF EXISTS uniq_container0name")\n'
    )
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_primary_key_of_an_earlier_revision_and_a_concurrent_drop(write_migration) -> None:
    """zun drops ``uniq_container0name`` with op.drop_index, in a later revision."""
    body = """\
def upgrade():
    with op.get_context().autocommit_block():
        op.drop_index("containers_pkey", table_name="containers", postgresql_concurrently=True)
"""
    (finding,) = after_history(write_migration, TABLE, body, rule=RULE)
    assert "the primary key constraint of the same name" in finding.message
    assert finding.hint.startswith(
        'op.drop_constraint("containers_pkey", "containers", type_="primary")'
    )
