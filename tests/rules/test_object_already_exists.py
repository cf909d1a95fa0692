"""object-already-exists (MS068): a table, index or constraint the history made, made again."""

from __future__ import annotations

from pathlib import Path

import pytest

from migsafe import command
from tests.rules.lint import after_history, assert_renders, lines_flagged

RULE = "object-already-exists"

TABLE = """\
def upgrade():
    op.create_table("electron", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("parent_id", sa.Integer()))
    op.create_index("ix_electron_parent", "electron", ["parent_id"])
    op.create_foreign_key("electron_link", "electron", "electron", ["parent_id"], ["id"])
"""


def test_renders_the_drop_to_write_first(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer(), primary_key=True))
    op.create_index("ix_users_id", "users", ["id"])
    op.create_index("ix_users_id", "users", ["id"])
"""
    assert_renders(
        tmp_path,
        body,
        """\
        4: Index "ix_users_id" exists already, and this statement makes it again: it fails on PostgreSQL, and with it the revision.
        # index "ix_users_id" exists already: leave this statement out; to change it, drop it first:
        op.drop_index("ix_users_id", table_name="users")
        """,  # noqa: E501
        rule=RULE,
    )


def test_what_an_earlier_revision_made_is_not_made_again(write_migration) -> None:
    """covalent adds its foreign key ``electron_link`` in two revisions: the second fails;
    so does a table or an index made twice."""
    body = """\
def upgrade():
    op.create_foreign_key("electron_link", "electron", "electron", ["parent_id"], ["id"])
    op.create_index("ix_electron_parent", "electron", ["parent_id"])
    op.create_table("electron", sa.Column("id", sa.Integer(), primary_key=True))
"""
    messages = [f.message for f in after_history(write_migration, TABLE, body, rule=RULE)]
    assert [m.split(" exists")[0] for m in messages] == [
        'Constraint "electron_link" of "electron"',
        'Index "ix_electron_parent"',
        'Table "electron"',
    ]


RENAMED = """\
def upgrade():
    op.create_table("roles_users", sa.Column("id", sa.Integer(), primary_key=True))
    op.create_table("fm_user", sa.Column("id", sa.Integer(), primary_key=True))
    op.create_index("ix_fm_user_id", "fm_user", ["id"])
"""


@pytest.mark.parametrize(
    "second",
    ['op.rename_table("fm_user", "bvp_users")',
     'op.execute("ALTER INDEX ix_fm_user_id RENAME TO bvp_users")'],
)  # fmt: skip
def test_a_rename_onto_a_name_in_use_fails(write_migration, second: str) -> None:
    """flexmeasures' downgrade renames ``roles_users`` to ``bvp_users``, then ``fm_user``
    to ``bvp_users`` too: PostgreSQL refuses the second (relation already exists), and no
    finding said so. An index renamed to a table's name fails alike."""
    body = f'def upgrade():\n    op.rename_table("roles_users", "bvp_users")\n    {second}\n'
    (finding,) = after_history(write_migration, RENAMED, body, rule=RULE)
    assert finding.line == 11
    assert finding.message.startswith('Relation "bvp_users" exists already')
    assert "rename that one away first, or pick another name" in finding.hint


def test_a_rename_onto_a_name_freed_first_is_left_alone(write_migration) -> None:
    body = """\
def upgrade():
    op.rename_table("roles_users", "bvp_users")
    op.rename_table("bvp_users", "bvp_roles_users")
    op.rename_table("fm_user", "bvp_users")
    op.execute("ALTER INDEX ix_fm_user_id RENAME TO ix_fm_user_id")
"""
    assert after_history(write_migration, RENAMED, body, rule=RULE) == []


def test_an_enum_type_made_again_by_create_table_fails(write_migration) -> None:
    """dstack's ``create_table()`` with an ``sa.Enum(..., name="backendtype")`` an earlier
    revision made: Alembic emits CREATE TYPE again (unless both run in one `alembic upgrade`,
    which remembers it made the type), and PostgreSQL refuses it. A type dropped first, or a
    column that says create_type=False, is fine."""
    before = """\
def upgrade():
    op.create_table("jobs", sa.Column("backend", sa.Enum("AWS", "GCP", name="backendtype")))
"""
    body = """\
def upgrade():
    op.create_table("pools", sa.Column("backend", sa.Enum("AWS", name="backendtype")))
    op.create_table("fleets", sa.Column(
        "backend", sa.dialects.postgresql.ENUM("AWS", name="backendtype", create_type=False)))
    op.execute("DROP TYPE backendtype")
    op.execute("CREATE TYPE backendtype AS ENUM ('AWS')")
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert finding.message.startswith('Enum type "backendtype" exists already')
    # "jobs" uses the type: no DROP TYPE (it fails), the column takes the type as it is
    assert "DROP TYPE" not in finding.hint
    assert finding.hint.endswith(
        '# it cannot be: "jobs"."backend" uses it. Give the column the type as it is:\n'
        'postgresql.ENUM("AWS", "GCP", name="backendtype", create_type=False)'
    )


def test_a_type_made_again_keeps_the_labels_it_had(write_migration) -> None:
    """networking-odl makes "state" with four labels, makes it again with two (refused),
    then a third revision makes a table with it again: that one's hint gave the column
    the two labels of the refused statement, not the four the type has."""
    write_migration(
        'def upgrade():\n    sa.Enum("pending", "processing", "failed", "completed", '
        'name="state").create(op.get_bind())\n',
        revision="a1",
        name="1_a1.py",
    )
    write_migration(
        "def upgrade():\n    op.execute(\"CREATE TYPE state AS ENUM ('pending', 'processing')\")\n",
        revision="b2",
        down_revision="a1",
        name="2_b2.py",
    )
    path = write_migration(
        'def upgrade():\n    op.create_table("journal", sa.Column("state", '
        'sa.Enum("pending", name="state")))\n',
        revision="c3",
        down_revision="b2",
        name="3_c3.py",
    )
    result = command.check([path.parent])
    (finding,) = [f for f in result.findings if f.rule == RULE and f.path == path]
    assert finding.hint.endswith(
        'postgresql.ENUM("pending", "processing", "failed", "completed", name="state", '
        "create_type=False)"
    ), finding.hint


def test_an_enum_type_no_column_uses_may_be_dropped_first(write_migration) -> None:
    """A type made by ``sa.Enum(...).create()`` that no column uses yet: dropping it first is
    one way; taking it as it is, the other."""
    before = """\
def upgrade():
    sa.Enum("a", "b", name="mood", schema="app").create(op.get_bind())
"""
    body = """\
def upgrade():
    op.create_table("people", sa.Column("mood", sa.Enum("a", name="mood", schema="app")),
                    schema="app")
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert finding.hint.endswith(
        """op.execute('DROP TYPE "app"."mood"')\n# or give the column the type as it is: """
        'postgresql.ENUM("a", "b", name="mood", schema="app", create_type=False)'
    )


def test_a_downgrade_making_again_what_its_upgrade_kept_fails(write_migration) -> None:
    """CKAN's 034: the downgrade renames the table back and creates its indexes again,
    which followed the table through both renames: the rollback fails at that line, as
    roundtrip finds running it."""
    body = """\
def upgrade():
    op.rename_table("electron", "particle")

def downgrade():
    op.rename_table("particle", "electron")
    op.create_index("ix_electron_parent", "electron", ["parent_id"])
"""
    (finding,) = after_history(write_migration, TABLE, body, rule=RULE)
    assert finding.message.startswith('In downgrade(): Index "ix_electron_parent" exists')


def test_what_was_dropped_first_or_may_exist_already_is_left_alone(write_migration) -> None:
    body = """\
def upgrade():
    op.drop_index("ix_electron_parent", table_name="electron")
    op.create_index("ix_electron_parent", "electron", ["parent_id"])
    op.execute("CREATE INDEX IF NOT EXISTS ix_electron_parent ON electron (parent_id)")
    op.execute("CREATE TABLE IF NOT EXISTS electron (id int)")
    with op.get_context().autocommit_block():  # on its own: the handler goes on
        try:
            op.create_foreign_key("electron_link", "electron", "electron", ["parent_id"],
                                  ["id"])
        except Exception:
            pass
"""
    assert after_history(write_migration, TABLE, body, rule=RULE) == []


def test_an_error_a_try_block_takes_inside_the_transaction_still_fails_it(
    write_migration,
) -> None:
    """A tester's helper adds a column in a try block that takes ProgrammingError: on
    PostgreSQL the transaction is aborted all the same, and the next statement (Alembic's
    version stamp at the latest) fails: the gate passed a revision that cannot run."""
    body = """\
def upgrade():
    try:
        op.create_foreign_key("electron_link", "electron", "electron", ["parent_id"], ["id"])
    except Exception:
        pass
"""
    (finding,) = after_history(write_migration, TABLE, body, rule=RULE)
    assert finding.message.startswith("ALTER TABLE electron ADD CONSTRAINT electron_link")
    assert "PostgreSQL has aborted the transaction, so every statement after it fails" in (
        finding.message
    )


def test_after_a_revision_not_captured_to_its_end_nothing_is_judged(write_migration) -> None:
    """It may have dropped what the schema still holds."""
    partial = TABLE + '    raise RuntimeError("needs the application")\n'
    body = 'def upgrade():\n    op.create_index("ix_electron_parent", "electron", ["parent_id"])\n'
    assert after_history(write_migration, partial, body, rule=RULE) == []


def test_a_file_checked_alone_says_nothing_of_what_it_does_not_make(tmp_path: Path) -> None:
    body = 'def upgrade():\n    op.create_index("ix_t_a", "t", ["a"])\n'
    assert lines_flagged(tmp_path, body, rule=RULE) == []
    path = tmp_path / "versions" / "a1.py"
    path.parent.mkdir()
    path.write_text((tmp_path / "a1.py").read_text())
    assert not [f for f in command.check([path]).findings if f.rule == RULE]


def test_two_histories_in_one_directory_or_an_unrendered_drop_say_nothing(
    write_migration,
) -> None:
    """prefect 2 keeps a history for PostgreSQL and one for SQLite under one versions
    directory: each makes the same tables, on different databases. mwdb's downgrade drops
    a key by ``None`` (not rendered: what it would drop is not known) before adding one."""
    write_migration(TABLE, revision="a1")
    path = write_migration(TABLE, revision="s1", name="s1_sqlite.py")  # a second base
    assert [f for f in command.check([path.parent]).findings if f.rule == RULE] == []
    path.unlink()
    body = """\
def upgrade():
    op.drop_constraint(None, "electron", type_="foreignkey")
    op.create_foreign_key("electron_link", "electron", "electron", ["parent_id"], ["id"])
"""
    write_migration(body, revision="b2", down_revision="a1")
    assert [f for f in command.check([path.parent]).findings if f.rule == RULE] == []


def test_a_second_root_that_depends_on_this_history_runs_on_its_database(
    write_migration,
) -> None:
    """pypnusershub's sample data is a root of its own that ``depends_on`` the main
    history: not another history on another database, as prefect 2's SQLite one is. Taken
    for one, it silenced the rules on what the schema holds from there on, and whether it
    did depended on its file's name (sorted before the main root's, or after)."""
    write_migration(TABLE, revision="a1", name="b_main.py")
    write_migration(
        "depends_on = 'a1'\ndef upgrade():\n"
        '    op.execute("INSERT INTO electron VALUES (1, 1)")\n',
        revision="s1", name="a_samples.py",
    )  # fmt: skip
    body = 'def upgrade():\n    op.create_index("ix_electron_parent", "electron", ["parent_id"])\n'
    path = write_migration(body, revision="c3", down_revision="a1", name="c_next.py")
    findings = [f for f in command.check([path.parent]).findings if f.rule == RULE]
    assert [f.path.name for f in findings] == ["c_next.py"]


def test_a_key_whose_index_takes_another_relations_name_fails(write_migration) -> None:
    """monasca names a UNIQUE ``tenant_name`` in two tables: PostgreSQL names each key's
    index as the key, and index names are unique in a schema ('relation "tenant_name"
    already exists'); the same name for keys of one table it made again is the table's."""
    before = """\
def upgrade():
    op.create_table("alarm", sa.Column("a", sa.Integer()),
                    sa.UniqueConstraint("a", name="tenant_name"))
"""
    body = """\
def upgrade():
    op.create_table("notification", sa.Column("a", sa.Integer()),
                    sa.UniqueConstraint("a", name="tenant_name"))
    op.create_unique_constraint("tenant_name", "alarm", ["a"])
"""
    findings = after_history(write_migration, before, body, rule=RULE)
    assert [f.message.split(" exists already")[0] for f in findings] == [
        'Index "tenant_name" (of "alarm"), whose name this key\'s index would take,',
        'Constraint "tenant_name" of "alarm"',
    ]


def test_a_column_added_again_fails(write_migration) -> None:
    """ADD COLUMN of a column the table has ('column "x" of relation "t" already exists');
    ADD COLUMN IF NOT EXISTS is left alone."""
    before = """\
def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("email", sa.Text()))
"""
    body = """\
def upgrade():
    op.add_column("users", sa.Column("email", sa.Text()))
    op.execute("ALTER TABLE users ADD COLUMN IF NOT EXISTS email text")
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert finding.message.startswith('Column "email" of "users" exists already')
    assert 'op.drop_column("users", "email")' in finding.hint


def test_a_column_the_history_added_to_a_table_it_did_not_make_is_there(
    write_migration,
) -> None:
    """timesketch adds ``view.query_dsl`` in two revisions; ``view`` is made by the
    application, not the history, but the column the first revision added is there when the
    second adds it again, and PostgreSQL refuses it."""
    before = 'def upgrade():\n    op.add_column("view", sa.Column("query_dsl", sa.Text()))\n'
    body = (
        'def upgrade():\n    op.add_column("view", sa.Column("query_dsl", sa.Text()))\n'
        '    op.add_column("view", sa.Column("searchtemplate_id", sa.Integer()))\n'
    )
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert finding.message.startswith('Column "query_dsl" of "view" exists already')
