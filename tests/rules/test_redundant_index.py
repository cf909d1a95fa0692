"""redundant-index (MS054, opt-in): a new index another index of the table already serves."""

from __future__ import annotations

from pathlib import Path

from migsafe import command
from migsafe.config import Overrides
from tests.conftest import migration_source
from tests.rules.lint import assert_renders, lines_flagged, lint

RULE = "redundant-index"


def test_renders_the_call_to_delete_and_the_index_that_serves(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_index("ix_orders_user_id_created_at", "orders", ["user_id", "created_at"])
    op.create_index("ix_orders_user_id", "orders", ["user_id"])
"""
    assert_renders(
        tmp_path,
        body,
        """\
        3: Index "ix_orders_user_id" on "orders" ("user_id") is a leading part of "ix_orders_user_id_created_at" ("user_id", "created_at"), which serves the same lookups: it only costs work on every write to the table, and disk.
        # "ix_orders_user_id_created_at" ("user_id", "created_at") already serves every lookup on ("user_id"): leave this index out.
        # Delete from upgrade():
        #     op.create_index("ix_orders_user_id", "orders", ["user_id"])
        # and its op.drop_index("ix_orders_user_id", ...) from downgrade().
        """,  # noqa: E501
        rule=RULE,
    )


def test_the_shorter_index_is_flagged_whichever_comes_first(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_index("ix_orders_user_id", "orders", ["user_id"])
    op.create_index("ix_orders_user_id_created_at", "orders", ["user_id", "created_at"])
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2]


def test_a_unique_index_beside_a_unique_column_duplicates_its_constraint(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("email", sa.Text(), nullable=False, unique=True),
    )
    op.create_index("ix_users_email", "users", ["email"], unique=True)
    op.create_index("ix_users_id", "users", ["id"])
"""
    findings = lint(tmp_path, body, rule=RULE)
    assert [f.line for f in findings] == [15, 16]  # body lines 7 and 8
    assert 'duplicates the unique constraint "users_email_key" ("email")' in findings[0].message
    assert 'duplicates the primary key "users_pkey" ("id")' in findings[1].message


def test_raw_sql_is_judged_as_the_op_form(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("CREATE INDEX ix_orders_user_status ON orders (user_id, status)")
    with op.get_context().autocommit_block():
        op.execute("CREATE INDEX CONCURRENTLY ix_orders_user ON orders (user_id)")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.hint.splitlines()[2] == (
        '#     op.execute("CREATE INDEX CONCURRENTLY ix_orders_user ON orders (user_id)")'
    )


def test_tables_of_other_schemas_are_other_tables(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_index("ix_a", "orders", ["user_id", "status"], schema="app")
    op.create_index("ix_b", "orders", ["user_id"])
    op.create_index("ix_c", "orders", ["user_id"], schema="app")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('Index "ix_c" on "app"."orders" ("user_id") is a leading')


def test_an_index_that_enforces_uniqueness_is_not_redundant(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_index("ix_a_b", "t", ["a", "b"], unique=True)
    op.create_index("uq_a", "t", ["a"], unique=True)
    op.create_index("ix_c", "t", ["c"])
    op.create_index("uq_c", "t", ["c"], unique=True)
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]  # ix_c, which uq_c serves


def test_two_identical_new_indexes_flag_the_second(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_index("ix_one", "t", ["a", "b"])
    op.create_index("ix_two", "t", ["a", "b"])
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [3]


def test_partial_expression_and_other_methods_compare_only_when_identical(
    tmp_path: Path,
) -> None:
    body = """\
def upgrade():
    op.create_index("ix_full", "t", ["a", "b"])
    op.create_index("ix_open", "t", ["a"], postgresql_where=sa.text("status = 'open'"))
    op.create_index("ix_gin", "t", ["a"], postgresql_using="gin")
    op.create_index("ix_pattern", "t", ["a"], postgresql_ops={"a": "text_pattern_ops"})
    op.create_index("ix_desc", "t", [sa.text("a DESC")])
    op.create_index("ix_lower_a_b", "t", [sa.text("lower(a)"), "b"])
    op.create_index("ix_lower", "t", [sa.text("lower(a)")])
    op.create_index("ix_lower_again", "t", [sa.text("lower(a)")])
    op.create_index("ix_open_again", "t", ["a"], postgresql_where=sa.text("status = 'open'"))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [9, 10]


def test_include_columns_must_be_in_the_other_index(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_index("ix_a_b", "t", ["a", "b"])
    op.create_index("ix_a_inc_c", "t", ["a"], postgresql_include=["c"])
    op.create_index("ix_a_inc_b", "t", ["a"], postgresql_include=["b"])
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]


def test_an_index_dropped_later_in_the_revision_serves_nothing(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_index("ix_a_b", "t", ["a", "b"])
    op.create_index("ix_a", "t", ["a"])
    op.drop_index("ix_a_b", table_name="t")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_downgrade_is_not_judged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    pass


def downgrade():
    op.create_index("ix_a_b", "t", ["a", "b"])
    op.create_index("ix_a", "t", ["a"])
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def history(tmp_path: Path, first: str, second: str) -> list[str]:
    """The rule's messages on a history of two revisions."""
    (tmp_path / "a1.py").write_text(migration_source(first, "a1"), encoding="utf-8")
    (tmp_path / "b2.py").write_text(migration_source(second, "b2", "a1"), encoding="utf-8")
    result = command.check([tmp_path], overrides=Overrides(extend_select=(RULE,)))
    assert not result.diagnostics, result.diagnostics
    return [f"{f.revision}: {f.message.split(',')[0]}" for f in result.findings if f.rule == RULE]


def test_a_constraint_of_an_earlier_revision_counts(tmp_path: Path) -> None:
    first = """\
def upgrade():
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("email", sa.Text(), nullable=False),
        sa.UniqueConstraint("email", "id", name="uq_users_email_id"),
    )
"""
    second = """\
def upgrade():
    op.create_index("ix_users_email", "users", ["email"])
"""
    assert history(tmp_path, first, second) == [
        'b2: Index "ix_users_email" on "users" ("email") is a leading part of the unique '
        'constraint "uq_users_email_id" ("email"'
    ]


def test_a_plain_index_of_an_earlier_revision_is_not_compared(tmp_path: Path) -> None:
    first = """\
def upgrade():
    op.create_index("ix_orders_user_id_created_at", "orders", ["user_id", "created_at"])
"""
    second = """\
def upgrade():
    op.create_index("ix_orders_user_id", "orders", ["user_id"])
"""
    assert history(tmp_path, first, second) == []  # its method and opclasses are not known
