"""enum-type-missing (MS066): add_column() or alter_column() of an enum type nothing created."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import after_history, assert_renders, lines_flagged

RULE = "enum-type-missing"

TABLE = """\
def upgrade():
    op.create_table("callbacks", sa.Column("id", sa.Integer(), primary_key=True))
"""


def test_renders_the_type_made_first_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("orders", sa.Column("id", sa.Integer(), primary_key=True))
    op.add_column("orders", sa.Column("status", sa.Enum("new", "paid", name="order_status")))
"""
    assert_renders(
        tmp_path,
        body,
        """\
        3: Column "orders"."status" is of the enum type "order_status", which no revision before it creates and this call does not: on PostgreSQL it fails with "type "order_status" does not exist".
        sa.Enum("new", "paid", name="order_status").create(op.get_bind(), checkfirst=True)  # add_column() does not create it
        op.add_column("orders", sa.Column("status", sa.Enum("new", "paid", name="order_status")))
        """,  # noqa: E501
        rule=RULE,
    )


def test_an_enum_of_a_python_class_on_a_table_of_the_history(write_migration) -> None:
    """openhands adds ``sa.Enum(EventCallbackStatus)`` to a table an earlier revision made;
    alter_column() to an enum, and an array of one, are the same case."""
    body = """\
import enum

class Status(enum.Enum):
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"

def upgrade():
    op.add_column("callbacks", sa.Column("status", sa.Enum(Status), nullable=True))
    op.alter_column("callbacks", "kind", existing_type=sa.Text(),
                    type_=sa.Enum("a", "b", name="callback_kind"))
    op.add_column("callbacks", sa.Column("tags", sa.ARRAY(sa.Enum("x", name="tag"))))
"""
    findings = after_history(write_migration, TABLE, body, rule=RULE)
    assert [f.message.split(" is of the enum type ")[1].split(",")[0] for f in findings] == [
        '"status"',
        '"callback_kind"',
        '"tag"',
    ]


def test_a_type_made_before_is_not_flagged(write_migration) -> None:
    """Made by an earlier revision (create_table() makes its columns' enums), by the same
    function (``.create(bind)``, raw SQL), or stored as text (``native_enum=False``)."""
    before = """\
def upgrade():
    op.create_table("callbacks", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("state", sa.Enum("on", "off", name="state")))
"""
    body = """\
def upgrade():
    op.add_column("callbacks", sa.Column("state2", sa.Enum("on", "off", name="state")))
    level = sa.Enum("low", "high", name="level")
    level.create(op.get_bind(), checkfirst=True)
    op.add_column("callbacks", sa.Column("level", level))
    op.execute("CREATE TYPE mood AS ENUM ('ok', 'not ok')")
    op.add_column("callbacks", sa.Column("mood", sa.Enum("ok", "not ok", name="mood")))
    op.add_column("callbacks", sa.Column("plain", sa.Enum("a", name="plain", native_enum=False)))
"""
    assert after_history(write_migration, before, body, rule=RULE) == []


def test_not_flagged_on_a_table_the_history_read_did_not_make(tmp_path: Path) -> None:
    """The type may come from wherever the table came from."""
    body = """\
def upgrade():
    op.add_column("elsewhere", sa.Column("s", sa.Enum("a", name="s")))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_not_flagged_in_a_history_that_alters_tables_it_never_made(write_migration) -> None:
    """faraday's history alters tables its application's ``create_all()`` made, and the
    enum types of those tables came with them: a new table of its own that uses one
    (``object_types``) does not make it fail."""
    before = """\
def upgrade():
    op.add_column("comment", sa.Column("flag", sa.Boolean()))
    op.create_table("notification", sa.Column("id", sa.Integer(), primary_key=True))
"""
    body = """\
def upgrade():
    op.add_column("notification", sa.Column("object_type", sa.Enum("a", name="object_types")))
"""
    assert after_history(write_migration, before, body, rule=RULE) == []


def test_not_flagged_past_a_revision_not_captured_to_its_end(write_migration) -> None:
    before = """\
def upgrade():
    op.create_table("callbacks", sa.Column("id", sa.Integer(), primary_key=True))
    raise RuntimeError("needs the application")
"""
    body = """\
def upgrade():
    op.add_column("callbacks", sa.Column("s", sa.Enum("a", name="s")))
"""
    assert after_history(write_migration, before, body, rule=RULE) == []


def test_an_unqualified_enum_on_a_table_of_another_schema_is_the_search_paths(
    write_migration,
) -> None:
    """SQLAlchemy writes the type unqualified: PostgreSQL finds ``public.e``, made before."""
    before = """\
def upgrade():
    op.execute("CREATE TYPE e AS ENUM ('a')")
    op.execute("CREATE SCHEMA x")
    op.create_table("t", sa.Column("id", sa.Integer(), primary_key=True), schema="x")
"""
    body = """\
def upgrade():
    op.add_column("t", sa.Column("c", sa.Enum("a", name="e")), schema="x")
"""
    assert after_history(write_migration, before, body, rule=RULE) == []


def test_one_finding_for_a_call_that_renders_several_statements(write_migration) -> None:
    """alter_column() renders the type change and NOT NULL apart: one call, one finding."""
    body = """\
def upgrade():
    op.alter_column("callbacks", "kind", existing_type=sa.Text(), nullable=False,
                    type_=sa.Enum("a", "b", name="callback_kind"))
"""
    assert len(after_history(write_migration, TABLE, body, rule=RULE)) == 1


def test_an_enum_named_as_its_own_table_is_the_tables_row_type(write_migration) -> None:
    """designate alters ``service_statuses.status`` to ``sa.Enum(name="service_statuses")``,
    though its enum is ``service_statuses_enum``: that name is the table's own row type,
    and PostgreSQL refuses it ("composite type ... cannot be made a member of itself")."""
    before = """\
def upgrade():
    op.create_table("service_statuses", sa.Column("id", sa.Integer()),
                    sa.Column("status", sa.Enum("UP", "DOWN", name="service_statuses_enum")))
"""
    body = """\
def upgrade():
    with op.batch_alter_table("service_statuses") as batch_op:
        batch_op.alter_column("status", type_=sa.Enum("UP", "DOWN", "STOPPED",
                              name="service_statuses"))
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert "cannot be made a member of itself" in finding.message
