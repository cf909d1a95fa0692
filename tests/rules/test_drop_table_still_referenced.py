"""drop-table-still-referenced (MS064): DROP TABLE fails while a foreign key refers to it."""

from __future__ import annotations

from pathlib import Path

from migsafe import command
from migsafe.config import Overrides
from tests.rules.lint import (
    after_history,
    assert_recipe_is_python,
    assert_renders,
    lines_flagged,
    lint,
    lint_with_notices,
)

RULE = "drop-table-still-referenced"

TABLES = """\
def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer(), primary_key=True))
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", name="fk_orders_user")),
    )
"""


def test_a_downgrade_dropping_parents_first_renders_the_order_to_use(tmp_path: Path) -> None:
    body = (
        TABLES + '\n\ndef downgrade():\n    op.drop_table("users")\n    op.drop_table("orders")\n'
    )
    assert_renders(
        tmp_path,
        body,
        """\
        11: In downgrade(): DROP TABLE "users" fails: the foreign key "orders"'s "fk_orders_user" still refers to it, and PostgreSQL does not drop a table other tables depend on.
        # first what refers to "users":
        op.drop_table("orders")  # move it up: it is dropped later
        op.drop_table("users")
        """,  # noqa: E501
        rule=RULE,
    )


def test_children_first_cascade_or_together_pass(tmp_path: Path) -> None:
    for downgrade in (
        'op.drop_table("orders")\n    op.drop_table("users")',
        'op.execute("DROP TABLE users CASCADE")',
        'op.execute("DROP TABLE users, orders")',
        'op.drop_constraint("fk_orders_user", "orders", type_="foreignkey")\n'
        '    op.drop_table("users")',
    ):
        body = f"{TABLES}\n\ndef downgrade():\n    {downgrade}\n"
        assert lines_flagged(tmp_path, body, rule=RULE) == [], downgrade


def test_a_table_referring_to_itself_can_be_dropped(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table(
        "nodes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("nodes.id")),
    )
    op.drop_table("nodes")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_foreign_key_from_an_earlier_revision_keeps_its_table(write_migration) -> None:
    """aim's revision drops ``commits`` while ``commit_tag``, from an earlier revision, still
    refers to it: the constraint to drop first is named in the recipe."""
    body = 'def upgrade():\n    op.drop_table("users")\n'
    (finding,) = after_history(write_migration, TABLES, body, rule=RULE)
    assert finding.line == 10 and not finding.message.startswith("In downgrade()")
    assert 'op.drop_constraint("fk_orders_user", "orders", type_="foreignkey")' in finding.hint


def test_its_recipe_is_python(tmp_path: Path) -> None:
    body = (
        TABLES + '\n\ndef downgrade():\n    op.drop_table("users")\n    op.drop_table("orders")\n'
    )
    assert_recipe_is_python(tmp_path, body, rule=RULE)


def test_a_downgrade_after_an_upgrade_not_captured_to_its_end_is_not_judged(
    tmp_path: Path,
) -> None:
    """What the rest of upgrade() did is not known: it may have dropped that foreign key."""
    body = (
        TABLES
        + '    raise RuntimeError("needs a live database")\n'
        + '\n\ndef downgrade():\n    op.drop_table("users")\n    op.drop_table("orders")\n'
    )
    findings, notices = lint_with_notices(tmp_path, body, rule=RULE)
    assert findings == [] and "RuntimeError" in notices[0].message


def test_keys_a_revision_that_stopped_early_may_have_dropped_are_not_trusted(
    write_migration,
) -> None:
    """superset's revision that drops ``alert_validators`` stopped at a guess before it got
    there; a later revision dropping ``alerts`` must not be told that key still refers to
    it. This revision's own keys are certain all the same."""
    write_migration(TABLES, revision="a1", name="1_a1.py")
    write_migration(
        "from myapp_not_installed import helpers\n\n"
        "def upgrade():\n"
        "    if helpers.has_orders():\n"
        '        op.drop_table("orders")\n',
        revision="b2",
        down_revision="a1",
        name="2_b2.py",
    )
    path = write_migration(
        "def upgrade():\n"
        '    op.create_table("carts", sa.Column("id", sa.Integer(), primary_key=True))\n'
        '    op.create_table("items", sa.Column("cart_id", sa.Integer(),\n'
        '                    sa.ForeignKey("carts.id", name="fk_items_cart")))\n'
        '    op.drop_table("users")\n\n\n'
        "def downgrade():\n"
        '    op.drop_table("carts")\n'
        '    op.drop_table("items")\n',
        revision="c3",
        down_revision="b2",
        name="3_c3.py",
    )
    result = command.check([path.parent], overrides=Overrides(extend_select=(RULE,)))
    findings = [f for f in result.findings if f.rule == RULE]
    assert [(f.path.name, f.message.startswith("In downgrade()")) for f in findings] == [
        ("3_c3.py", True)  # carts, referred to by this revision's items; not users
    ]


def test_tables_to_move_up_come_in_an_order_that_works(tmp_path: Path) -> None:
    """buildbot's downgrade drops ``codebases``, then ``codebase_commits``, then
    ``codebase_branches``, whose key refers to ``codebase_commits``: the branches go first."""
    body = """\
def upgrade():
    op.create_table("codebases", sa.Column("id", sa.Integer(), primary_key=True))
    op.create_table("codebase_commits", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("codebaseid", sa.Integer(), sa.ForeignKey("codebases.id")))
    op.create_table("codebase_branches", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("codebaseid", sa.Integer(), sa.ForeignKey("codebases.id")),
                    sa.Column("commitid", sa.Integer(), sa.ForeignKey("codebase_commits.id")))

def downgrade():
    op.drop_table("codebases")
    op.drop_table("codebase_commits")
    op.drop_table("codebase_branches")
"""
    first = lint(tmp_path, body, rule=RULE)[0]
    assert first.hint.splitlines()[1:] == [
        'op.drop_table("codebase_branches")  # move it up: it is dropped later',
        'op.drop_table("codebase_commits")  # move it up: it is dropped later',
        'op.drop_table("codebases")',
    ]


def test_a_key_the_history_added_to_a_table_it_only_altered_counts(write_migration) -> None:
    """buildbot adds ``fk_builders_projectid`` to ``builders``, a table its history never
    created; the downgrade drops ``projects`` while that key still refers to it."""
    body = """\
def upgrade():
    op.create_table("projects", sa.Column("id", sa.Integer(), primary_key=True))
    op.add_column("builders", sa.Column("projectid", sa.Integer(),
                  sa.ForeignKey("projects.id", name="fk_builders_projectid")))

def downgrade():
    op.drop_table("projects")
"""
    path = write_migration(body)
    (finding,) = [f for f in command.check([path.parent]).findings if f.rule == RULE]
    assert '"builders"\'s "fk_builders_projectid" still refers to it' in finding.message


def test_tables_that_refer_to_each_other_drop_a_key_first(write_migration) -> None:
    """datajunction's ``column`` and ``partition`` refer to each other: moving the drop of
    ``column`` up fails as well (``partition`` refers to it), so its key goes first."""
    before = """\
def upgrade():
    op.create_table("column", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("partition_id", sa.Integer()))
    op.create_table("partition", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("column_id", sa.Integer(),
                              sa.ForeignKey("column.id", name="fk_partition_column_id_column")))
    op.create_foreign_key("fk_column_partition_id_partition", "column", "partition",
                          ["partition_id"], ["id"])
"""
    body = """\
def downgrade():
    op.drop_table("partition")
    op.drop_table("column")
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert finding.hint.splitlines()[:2] == [
        '# first what refers to "partition":',
        'op.drop_constraint("fk_column_partition_id_partition", "column", type_="foreignkey")',
    ]
