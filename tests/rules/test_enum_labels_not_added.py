"""enum-labels-not-added (MS067): alter_column() to an enum of the same name with new labels."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import after_history, assert_renders, lines_flagged

RULE = "enum-labels-not-added"

TABLE = """\
def upgrade():
    op.execute("CREATE TYPE tz_binding_type AS ENUM ('flat', 'vlan')")
    op.execute("CREATE TABLE tz (id integer PRIMARY KEY, binding_type tz_binding_type)")
"""


def test_renders_the_labels_added_to_the_type(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("CREATE TYPE network_type AS ENUM ('flat', 'vlan')")
    op.execute("CREATE TABLE networks (id integer PRIMARY KEY, kind network_type)")
    op.alter_column("networks", "kind",
                    type_=sa.Enum("flat", "vxlan", "vlan", "it's", name="network_type"))
"""
    assert_renders(
        tmp_path,
        body,
        """\
        4: alter_column() of "networks"."kind" to an enum named "network_type", the type it has, adds no label: 'vxlan', 'it's' are not in the type after it, and the first row that uses one fails.
        with op.get_context().autocommit_block():  # in place of the alter_column()
            op.execute("ALTER TYPE \\"network_type\\" ADD VALUE IF NOT EXISTS 'vxlan' BEFORE 'vlan'")
            op.execute("ALTER TYPE \\"network_type\\" ADD VALUE IF NOT EXISTS 'it''s'")
        """,  # noqa: E501
        rule=RULE,
    )


def test_vmware_nsx_adds_vxlan_to_a_type_an_earlier_revision_made(write_migration) -> None:
    """vmware-nsx's mitaka revisions: ``alter_column(type_=sa.Enum(..., 'vxlan',
    name='tz_binding_type'), existing_type=...)``, a batch operation too; one finding for a
    call that renders the type change and NOT NULL apart (neutron-vpnaas)."""
    body = """\
def upgrade():
    op.alter_column("tz", "binding_type", nullable=False,
                    type_=sa.Enum("flat", "vlan", "vxlan", name="tz_binding_type"),
                    existing_type=sa.Enum("flat", "vlan", name="tz_binding_type"))
    with op.batch_alter_table("tz") as batch_op:
        batch_op.alter_column("binding_type",
                              type_=sa.Enum("flat", "vlan", "geneve", name="tz_binding_type"))
"""
    findings = after_history(write_migration, TABLE, body, rule=RULE)
    assert [f.message.split(" adds no label: ")[1].split(" is not")[0] for f in findings] == [
        "'vxlan'",
        "'geneve'",
    ]


def test_new_labels_given_as_existing_type_alone_are_not_added(write_migration) -> None:
    """cyborg's ``alter_column("devices", "type", existing_type=sa.Enum(..., "AICHIP",
    name="device_type"), nullable=False)``: MySQL's MODIFY writes the existing type out and
    gains the label; PostgreSQL only sets NOT NULL. The labels go in beside the call."""
    body = """\
def upgrade():
    op.alter_column("tz", "binding_type", nullable=False,
                    existing_type=sa.Enum("flat", "vlan", "vxlan", name="tz_binding_type"))
"""
    (finding,) = after_history(write_migration, TABLE, body, rule=RULE)
    assert 'with existing_type= an enum named "tz_binding_type" with more labels adds none' in (
        finding.message
    )
    assert "'vxlan' is not in the type after it" in finding.message
    assert finding.hint.startswith(
        "with op.get_context().autocommit_block():  # besides the alter_column(), which keeps "
        "its other changes\n"
    )


def test_no_finding_for_the_same_labels_another_type_or_a_type_not_known(
    write_migration,
) -> None:
    """The same labels (in any order) change nothing worth saying; a type of another name
    is a real change (change-column-type's); a type no revision made is enum-type-missing's."""
    body = """\
def upgrade():
    op.alter_column("tz", "binding_type",
                    type_=sa.Enum("vlan", "flat", name="tz_binding_type"))
    op.execute("CREATE TYPE tz_binding_type_v2 AS ENUM ('flat', 'vlan', 'vxlan')")
    op.alter_column("tz", "binding_type",
                    type_=sa.Enum("flat", "vlan", "vxlan", name="tz_binding_type_v2"),
                    postgresql_using="binding_type::text::tz_binding_type_v2")
    op.alter_column("tz", "kind", type_=sa.Enum("a", name="kind_type"))
"""
    assert after_history(write_migration, TABLE, body, rule=RULE) == []


def test_a_file_checked_alone_says_nothing(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("tz", "binding_type", type_=sa.Enum("flat", "vxlan", name="tz_type"))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_no_finding_when_the_function_adds_the_labels_later_or_the_column_is_of_another_type(
    write_migration,
) -> None:
    """gnocchi's alter_column() is a no-op on PostgreSQL, and its PostgreSQL branch after it
    swaps the type for one with the new labels; to an enum the column does not have yet is
    a real change of type."""
    body = """\
def upgrade():
    op.alter_column("tz", "binding_type",
                    type_=sa.Enum("flat", "vlan", "vxlan", name="tz_binding_type"))
    op.execute("ALTER TYPE tz_binding_type RENAME TO old_tz_binding_type")
    op.execute("CREATE TYPE tz_binding_type AS ENUM ('flat', 'vlan', 'vxlan')")
    op.execute("ALTER TABLE tz ALTER COLUMN binding_type TYPE tz_binding_type "
               "USING binding_type::text::tz_binding_type")
    op.execute("CREATE TYPE other_type AS ENUM ('a')")
    op.alter_column("tz", "id", type_=sa.Enum("a", "b", name="other_type"))
"""
    assert after_history(write_migration, TABLE, body, rule=RULE) == []


def test_labels_from_a_module_not_installed_are_not_judged(write_migration) -> None:
    """neutron's labels come from neutron_lib.constants: which of them the type lacks is not
    known."""
    body = """\
from neutron_lib_not_installed import constants

def upgrade():
    op.alter_column("tz", "binding_type",
                    type_=sa.Enum("flat", "vlan", constants.VXLAN, name="tz_binding_type"))
"""
    assert after_history(write_migration, TABLE, body, rule=RULE) == []
