"""drop-column (MS037): the code still running during the deploy selects and inserts it."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import (
    FIRST_BODY_LINE,
    after_history,
    assert_renders,
    lines_flagged,
    lint_with_notices,
    rendered,
)

RULE = "drop-column"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_column("users", "legacy_flags")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: Dropping column "legacy_flags" of "users" breaks the running application if its model still maps it: every SELECT and INSERT of the model names it until the new code is deployed.
        # A contract step, after the deploy: no code then running may use "legacy_flags".
        # 1. deploy code without "legacy_flags" (remove from the model, or leave unmapped
        #    meanwhile: __mapper_args__ = {"exclude_properties": ["legacy_flags"]})
        # 2. then, in a later revision (this one, if that code is out already):
        op.drop_column("users", "legacy_flags")
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_schema_qualified_table_keeps_its_schema_in_the_recipe(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE app.users DROP COLUMN legacy_flags, DROP COLUMN nickname")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: Dropping columns "legacy_flags", "nickname" of "app"."users" breaks the running application if its model still maps them: every SELECT and INSERT of the model names them until the new code is deployed.
        # A contract step, after the deploy: no code then running may use "legacy_flags", "nickname".
        # 1. deploy code without "legacy_flags", "nickname" (remove from the model, or leave unmapped
        #    meanwhile: __mapper_args__ = {"exclude_properties": ["legacy_flags", "nickname"]})
        # 2. then, in a later revision (this one, if that code is out already):
        op.drop_column("users", "legacy_flags", schema="app")
        op.drop_column("users", "nickname", schema="app")
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_not_null_column_without_default_is_made_nullable_first(write_migration) -> None:
    before = """\
def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("flags", sa.Integer(), nullable=False),
                    sa.Column("note", sa.Text(), nullable=False, server_default=""))
"""
    body = """\
def upgrade():
    op.drop_column("users", "flags")
    op.drop_column("users", "note")
"""
    flags, note = after_history(write_migration, before, body, rule=RULE)
    assert rendered(flags).splitlines()[2:] == [
        "# 1. this revision: let inserts leave it out (NOT NULL without a default)",
        'op.alter_column("users", "flags", nullable=True)',
        '# 2. deploy code without "flags" (remove from the model, or leave unmapped',
        '#    meanwhile: __mapper_args__ = {"exclude_properties": ["flags"]})',
        "# 3. then, in a later revision:",
        'op.drop_column("users", "flags")',
    ]
    assert "alter_column" not in note.hint  # it has a default: inserts can leave it out


def test_a_column_of_the_primary_key_gets_the_table_a_new_key_first(write_migration) -> None:
    """manila drops ``host`` of drivers_private_data's key (entity_uuid, key, host): the
    recipe made it nullable first, which PostgreSQL refuses for a key column ("column
    \"host\" is in a primary key"); the table needs the key it keeps first."""
    before = """\
def upgrade():
    op.create_table("drivers_private_data",
                    sa.Column("entity_uuid", sa.String(36), primary_key=True),
                    sa.Column("key", sa.String(255), primary_key=True),
                    sa.Column("host", sa.String(255), primary_key=True))
"""
    body = """\
def upgrade():
    op.drop_column("drivers_private_data", "host")
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert "alter_column" not in finding.hint
    assert rendered(finding).splitlines()[3:6] == [
        '# "host" is in the primary key "drivers_private_data_pkey", whose columns cannot be '
        "NULL: give the table",
        '# its new key first (CREATE UNIQUE INDEX CONCURRENTLY on ("entity_uuid", "key"), '
        'then drop "drivers_private_data_pkey"',
        "# and ADD PRIMARY KEY USING INDEX)",
    ]


def test_batch_mode_and_raw_sql_are_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("legacy_flags")
    op.execute("ALTER TABLE users DROP COLUMN IF EXISTS nickname")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [3, 4]


def test_a_table_created_in_the_same_revision_has_no_running_code(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("drafts", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("body", sa.Text()))
    op.drop_column("drafts", "body")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_column_added_earlier_in_the_revision_has_no_running_code(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("tmp", sa.Text()))
    op.drop_column("users", "tmp")
    op.drop_column("staff", "tmp")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]


def test_a_table_renamed_in_the_revision_is_left_to_rename_table(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.rename_table("callback_request", "callback")
    op.drop_column("callback", "callback_data")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_lost_rename_is_left_to_drop_add_looks_like_rename(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_column("users", "fullname")
    op.add_column("users", sa.Column("full_name", sa.Text(), nullable=True))
    op.drop_column("orders", "legacy")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]


def test_a_column_dropped_and_added_again_says_its_values_are_lost(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_column("package_tag", "package_id")
    op.add_column("package_tag", sa.Column("package_id", sa.Text()))
"""
    assert_renders(
        tmp_path,
        body,
        f"""\
        2: Column "package_id" of "package_tag" is dropped and added again (line {FIRST_BODY_LINE + 2}): every value in it is lost, and the running code reads NULL in their place.
        # Dropped and added again, "package_id" loses its values while the running code reads it.
        # Keep the data: change the column in place, converting its values,
        op.alter_column("package_tag", "package_id", type_=..., postgresql_using='"package_id"::...')
        # or add a new column beside it, backfill it, deploy code that reads it, then drop
        # "package_id" in a later revision.
        """,  # noqa: E501
        rule=RULE,
    )


def test_the_version_table_is_never_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_column("alembic_version", "legacy")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_downgrade_that_drops_what_the_upgrade_added_is_the_rollback(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("nickname", sa.Text(), nullable=True))

def downgrade():
    op.drop_column("users", "nickname")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_column_renamed_to_the_dropped_name_takes_its_place(tmp_path: Path) -> None:
    """langflow: the old column goes, a converted one is renamed to its name."""
    body = """\
def upgrade():
    with op.batch_alter_table("deployment") as batch_op:
        batch_op.drop_column("deployment_type")
        batch_op.alter_column("deployment_type_v2", new_column_name="deployment_type")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_table_emptied_first_loses_no_value_when_its_column_comes_back(tmp_path: Path) -> None:
    """airflow 0080: DELETE FROM deadline, then the column dropped and added again."""
    body = """\
def upgrade():
    op.execute("DELETE FROM deadline")
    op.drop_column("deadline", "callback")
    op.add_column("deadline", sa.Column("callback", sa.JSON(), nullable=False))
    op.drop_column("deadline", "legacy")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]  # the running code still uses it


def test_a_drop_in_an_upgrade_not_captured_to_its_end_may_be_undone_later(
    tmp_path: Path,
) -> None:
    """The column may be added again after the point the capture reached."""
    body = """\
def upgrade():
    op.drop_column("users", "legacy")
    raise RuntimeError("needs the application's settings")
    op.add_column("users", sa.Column("legacy", sa.Text()))
"""
    findings, notices = lint_with_notices(tmp_path, body, rule=RULE)
    assert findings == [] and "RuntimeError" in notices[0].message


def test_a_column_added_back_as_a_generated_column_loses_no_value(tmp_path: Path) -> None:
    """tacker drops columns and adds them back ``GENERATED ALWAYS AS (...) STORED``:
    PostgreSQL computes every value again."""
    body = """\
def upgrade():
    op.drop_column("vnf", "status_id")
    op.add_column("vnf", sa.Column("status_id", sa.Integer(),
                                   sa.Computed("id % 10", persisted=True)))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []
    plain = """\
def upgrade():
    op.drop_column("vnf", "status_id")
    op.add_column("vnf", sa.Column("status_id", sa.Integer()))
"""
    assert lines_flagged(tmp_path, plain, rule=RULE) == [2]


def test_a_column_renamed_aside_earlier_in_the_function_is_its_own(tmp_path: Path) -> None:
    """fides renames ``service_type`` to ``service_type_old`` and drops that at the end: no
    running code maps a name the same revision made."""
    body = """\
def upgrade():
    op.alter_column("t", "kind", new_column_name="kind_old")
    op.add_column("t", sa.Column("kind", sa.Text()))
    op.drop_column("t", "kind_old")
    op.drop_column("t", "note")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]


def test_a_column_back_with_the_type_it_had_changes_only_its_null(write_migration) -> None:
    """zun drops ``request_id`` (varchar(36) NOT NULL) and adds it back NULL: the values are
    kept by changing the NULL alone; a column back exactly as it was needs neither step."""
    before = """\
def upgrade():
    op.create_table("pci_device", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("request_id", sa.String(36), nullable=False),
                    sa.Column("label", sa.String(36)))
"""
    body = """\
def upgrade():
    op.drop_column("pci_device", "request_id")
    op.add_column("pci_device", sa.Column("request_id", sa.String(36), nullable=True))
    op.drop_column("pci_device", "label")
    op.add_column("pci_device", sa.Column("label", sa.String(36)))
"""
    findings = after_history(write_migration, before, body, rule=RULE)
    assert [f.hint.splitlines()[1:3] for f in findings] == [
        [
            "# Keep the data: it keeps its type (varchar(36)); change its NULL in place,",
            'op.alter_column("pci_device", "request_id", nullable=True)',
        ],
        [
            "# Keep the data: it comes back as it was (varchar(36)): leave out both",
            "# or add a new column beside it, backfill it, deploy code that reads it, then drop",
        ],
    ]


def test_the_keys_that_go_with_the_column_are_said(write_migration) -> None:
    """manila drops ``host``, part of drivers_private_data's primary key, and adds a key back
    only on MySQL: on PostgreSQL the table is left without one."""
    before = """\
def upgrade():
    op.create_table("drivers_private_data", sa.Column("host", sa.String(255)),
                    sa.Column("entity_uuid", sa.String(36)), sa.Column("key", sa.String(255)),
                    sa.PrimaryKeyConstraint("host", "entity_uuid", "key"),
                    sa.UniqueConstraint("host", name="uq_host"))
"""
    body = """\
def upgrade():
    op.drop_column("drivers_private_data", "host")
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert finding.message.endswith(
        "until the new code is deployed; and PostgreSQL drops primary key "
        '"drivers_private_data_pkey" ("host", "entity_uuid", "key") and unique constraint '
        '"uq_host" ("host") with it.'
    )
    again = (
        body + '    op.create_primary_key("pk", "drivers_private_data", ["entity_uuid", "key"])\n'
    )
    (finding,) = after_history(write_migration, before, again, rule=RULE)
    assert '("host", "entity_uuid", "key") (added back after)' in finding.message


SWAPPED = """\
def upgrade():
    op.create_table("journal", sa.Column("id", sa.String(36), primary_key=True),
                    sa.Column("seqnum", sa.Integer()), sa.Column("data", sa.Text()))
    op.create_table("journal_new", sa.Column("seqnum", sa.Integer(), primary_key=True),
                    sa.Column("data", sa.Text()))
"""


def test_a_table_replaced_by_one_without_a_column_loses_it(write_migration) -> None:
    """networking-odl copies its journal into ``opendaylightjournal_new`` (made by an
    earlier revision, without the old ``id`` key), drops the journal and renames the copy
    into its place: the running code's queries of ``id`` fail as after a DROP COLUMN, and
    nothing said so. A replacement holding every column loses none."""
    body = """\
def upgrade():
    op.execute("INSERT INTO journal_new (seqnum, data) SELECT seqnum, data FROM journal")
    op.drop_table("journal")
    op.rename_table("journal_new", "journal")
"""
    (finding,) = after_history(write_migration, SWAPPED, body, rule=RULE)
    assert finding.line == FIRST_BODY_LINE + 2
    assert finding.message.startswith(
        'Table "journal" is replaced by "journal_new" (renamed into its place at line '
        f'{FIRST_BODY_LINE + 3}), which leaves out column "id": '
    )
    whole = SWAPPED.replace('sa.Column("seqnum", sa.Integer(), primary_key=True),',
                            'sa.Column("id", sa.String(36), primary_key=True),\n'
                            '                    sa.Column("seqnum", sa.Integer()),')  # fmt: skip
    assert after_history(write_migration, whole, body, rule=RULE) == []


def test_a_table_a_batch_block_rebuilds_without_a_column_loses_it(write_migration) -> None:
    """cloudkitty renames ``state`` in a ``batch_alter_table(recreate="always")`` block: the
    copy the block makes holds the column under its new name only, so the running code's
    ``state`` is gone when the copy takes the table's place."""
    body = """\
def upgrade():
    journal = sa.Table("journal", sa.MetaData(), sa.Column("id", sa.String(36), primary_key=True),
                       sa.Column("seqnum", sa.Integer()), sa.Column("data", sa.Text()))
    with op.batch_alter_table("journal", copy_from=journal, recreate="always") as batch_op:
        batch_op.alter_column("data", new_column_name="payload")
"""
    (finding,) = after_history(write_migration, SWAPPED, body, rule=RULE)
    assert finding.message.startswith(
        f'Table "journal" is rebuilt by a batch_alter_table() block (line {finding.line}), '
        'which leaves out column "data": '
    ), finding.message
