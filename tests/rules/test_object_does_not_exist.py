"""object-does-not-exist (MS069): a table or index the history dropped, or a column a table
it made does not have, dropped, changed or referred to."""

from __future__ import annotations

from pathlib import Path

from migsafe import command
from tests.rules.lint import after_history, assert_renders, lines_flagged

RULE = "object-does-not-exist"

TABLES = """\
def upgrade():
    op.create_table("projects", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("name", sa.Text()))
    op.create_index("projects_name", "projects", ["name"])
    op.create_table("commits", sa.Column("uuid", sa.Text(), primary_key=True))
"""


def test_renders_what_to_do(tmp_path: Path) -> None:
    """buildbot's downgrade drops ``projects``, then the index that went with it."""
    body = """\
def upgrade():
    op.create_table("projects", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("name", sa.Text()))
    op.create_index("projects_name", "projects", ["name"])

def downgrade():
    op.drop_table("projects")
    op.drop_index("projects_name")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        8: In downgrade(): Index "projects_name" does not exist here (the history dropped it, and nothing made it again): this statement fails on PostgreSQL, and with it the revision.
        # index "projects_name" does not exist here: drop or change it before it is gone, create it first, or
        # leave this statement out
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_key_to_a_table_the_downgrade_makes_only_later_fails(write_migration) -> None:
    """aim's upgrade drops ``commits``; its downgrade creates ``commit_tag``, whose key
    refers to ``commits``, before it creates ``commits`` again."""
    body = """\
def upgrade():
    op.drop_table("commits")

def downgrade():
    op.create_table("commit_tag", sa.Column("commit_id", sa.Text(),
                                            sa.ForeignKey("commits.uuid")))
    op.create_table("commits", sa.Column("uuid", sa.Text(), primary_key=True))
"""
    (finding,) = after_history(write_migration, TABLES, body, rule=RULE)
    assert finding.message.startswith('In downgrade(): Table "commits" does not exist here')


def test_a_column_the_table_does_not_have_is_neither_dropped_nor_changed(
    write_migration,
) -> None:
    body = """\
def upgrade():
    op.drop_column("projects", "project")
    op.alter_column("projects", "title", nullable=False)
    op.drop_column("projects", "name")
    op.alter_column("projects", "name", type_=sa.String(20))
    op.execute("ALTER TABLE projects DROP COLUMN IF EXISTS project")
"""
    messages = [f.message for f in after_history(write_migration, TABLES, body, rule=RULE)]
    assert [m.split(" does not")[0] for m in messages] == [
        'Column "project" of "projects"',
        'Column "title" of "projects"',
        'Column "name" of "projects"',
    ]
    assert messages[0].endswith(
        "(the table the history made has no such column by then): this statement fails on "
        "PostgreSQL, and with it the revision."
    )


def test_what_may_exist_all_the_same_is_left_alone(write_migration) -> None:
    """A table the history never made (the application's), a column of a table it only
    altered, IF EXISTS, a statement in a try/except run on its own (in a transaction, the
    error aborts it all the same: test_object_already_exists), and what was made again."""
    body = """\
def upgrade():
    op.drop_table("made_by_the_application")
    op.add_column("runs", sa.Column("n", sa.Integer()))
    op.drop_column("runs", "status")
    op.execute("DROP INDEX IF EXISTS projects_title")
    op.drop_table("projects")
    with op.get_context().autocommit_block():
        try:
            op.drop_index("projects_name")
        except Exception:
            pass
    op.create_table("projects", sa.Column("id", sa.Integer(), primary_key=True))
    op.drop_table("projects")
    op.create_table("projects", sa.Column("id", sa.Integer(), primary_key=True))
    op.alter_column("projects", "id", nullable=False)
"""
    assert after_history(write_migration, TABLES, body, rule=RULE) == []


def test_a_constraint_a_type_not_imported_may_add_is_left_alone(write_migration) -> None:
    """indico-plugin-livesync's queue has columns of indico's ``PyIntEnum`` (not installed:
    stood in), which adds a CHECK ``valid_enum_<column>``: its later drop was reported as
    failing. A table with a column of such a type may hold constraints the history does not
    show; a constraint of a table whose columns are all known is still judged."""
    history = """\
from myapp.types import PyIntEnum

def upgrade():
    op.create_table("queues", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("type", PyIntEnum()))
    op.create_table("plain", sa.Column("id", sa.Integer(), primary_key=True))
"""
    body = """\
def upgrade():
    op.drop_constraint("ck_queues_valid_enum_type", "queues")
    op.drop_constraint("ck_plain_valid_enum_type", "plain")
"""
    (finding,) = after_history(write_migration, history, body, rule=RULE)
    assert finding.message.startswith('Constraint "ck_plain_valid_enum_type" of "plain"')


def test_after_a_revision_not_captured_to_its_end_nothing_is_judged(write_migration) -> None:
    """It may have made again what the history dropped."""
    partial = TABLES + (
        '    op.drop_table("commits")\n    raise RuntimeError("needs the application")\n'
    )
    body = 'def upgrade():\n    op.drop_table("commits")\n'
    assert after_history(write_migration, partial, body, rule=RULE) == []


def test_a_file_checked_alone_says_nothing_of_what_it_does_not_make(tmp_path: Path) -> None:
    body = 'def upgrade():\n    op.drop_index("ix_t_a")\n    op.drop_column("t", "a")\n'
    assert lines_flagged(tmp_path, body, rule=RULE) == []
    path = tmp_path / "versions" / "a1.py"
    path.parent.mkdir()
    path.write_text((tmp_path / "a1.py").read_text())
    assert not [f for f in command.check([path]).findings if f.rule == RULE]


def test_a_rename_of_what_is_not_there_fails(write_migration) -> None:
    """fidesops' downgrade renames columns and tables under names they never had."""
    body = """\
def upgrade():
    op.drop_table("commits")
    op.rename_table("commits", "old_commits")
    op.alter_column("projects", "title", new_column_name="label")
    op.execute("ALTER INDEX projects_nam RENAME TO projects_label")
    op.drop_index("projects_name", table_name="projects")
    op.execute("ALTER INDEX projects_name RENAME TO projects_label")
"""
    messages = [f.message for f in after_history(write_migration, TABLES, body, rule=RULE)]
    assert [m.split(" does not")[0] for m in messages] == [
        'Table "commits"',
        'Column "title" of "projects"',
        'Index "projects_name"',
    ]


def test_an_index_that_went_with_its_column_is_not_there(write_migration) -> None:
    """anitya's downgrade drops ``last_check``, then the index on it, which PostgreSQL
    dropped with the column; an index on an expression of the column goes too."""
    body = """\
def upgrade():
    op.create_index("projects_lower_name", "projects", [sa.text("lower(name)")])
    op.drop_column("projects", "name")
    op.drop_index("projects_name", table_name="projects")
    op.drop_index("projects_lower_name", table_name="projects")
"""
    messages = [f.message for f in after_history(write_migration, TABLES, body, rule=RULE)]
    assert [m.split(" does not")[0] for m in messages] == [
        'Index "projects_name"',
        'Index "projects_lower_name"',
    ]


def test_a_name_not_quoted_does_not_reach_a_table_made_in_another_case(
    write_migration,
) -> None:
    """zaqar made ``"PoolGroup"`` and drops ``PoolGroup``, which PostgreSQL reads as
    ``poolgroup``."""
    before = 'def upgrade():\n    op.create_table("PoolGroup", sa.Column("name", sa.Text()))\n'
    body = 'def upgrade():\n    op.execute("drop table PoolGroup")\n'
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert finding.message == (
        'Table "poolgroup" does not exist here (the history made "PoolGroup", and a name not '
        "quoted is folded to lower case: quote it): this statement fails on PostgreSQL, and "
        "with it the revision."
    )


def test_an_index_on_what_is_not_there_fails(write_migration) -> None:
    """CREATE INDEX on a table the history dropped, or on a column a table it made whole
    does not have; an expression and a table the history never made are left alone."""
    body = """\
def upgrade():
    op.create_index("projects_title", "projects", ["title"])
    op.create_index("projects_lower_name", "projects", [sa.text("lower(name)")])
    op.create_index("runs_status", "runs", ["status"])
    op.drop_table("commits")
    op.create_index("commits_uuid", "commits", ["uuid"])
"""
    messages = [f.message for f in after_history(write_migration, TABLES, body, rule=RULE)]
    assert [m.split(" does not")[0] for m in messages] == [
        'Column "title" of "projects"',
        'Table "commits"',
    ]


def test_a_constraint_the_table_does_not_have_is_not_dropped(write_migration) -> None:
    """group-based-policy drops MySQL's "PRIMARY" (PostgreSQL named the key
    <table>_pkey). A name the table has in another case is left alone (rucio's event
    listener names its keys in upper case when its models are imported, which Alembic does
    before any revision runs). A key's index renamed renames the key, and a DO block's
    guarded ADD CONSTRAINT makes it."""
    before = """\
def upgrade():
    op.create_table("mappings", sa.Column("a", sa.Integer(), primary_key=True),
                    sa.Column("b", sa.Integer()), sa.Column("c", sa.Integer()))
    op.execute("ALTER TABLE mappings ADD CONSTRAINT MESSAGES_EVENT_TYPE_NN CHECK (b > 0)")
    op.create_unique_constraint("uq_mappings_b", "mappings", ["b"])
    op.execute("ALTER INDEX uq_mappings_b RENAME TO uq_mappings_b_renamed")
    op.execute(\"\"\"DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'uq_mappings_c') THEN
            ALTER TABLE mappings ADD CONSTRAINT uq_mappings_c UNIQUE (c);
        END IF;
    END $$\"\"\")
"""
    body = """\
def upgrade():
    op.drop_constraint("PRIMARY", "mappings", type_="primary")
    op.drop_constraint("MESSAGES_EVENT_TYPE_NN", "mappings", type_="check")
    op.drop_constraint("messages_event_type_nn", "mappings", type_="check")
    op.drop_constraint("uq_mappings_b_renamed", "mappings", type_="unique")
    op.drop_constraint("uq_mappings_c", "mappings", type_="unique")
    op.execute("ALTER TABLE mappings DROP CONSTRAINT IF EXISTS gone")
"""
    findings = after_history(write_migration, before, body, rule=RULE)
    assert [f.message.split(" does not")[0] for f in findings] == [
        'Constraint "PRIMARY" of "mappings"',
    ]
    assert "(the table the history made has no constraint of that name by then)" in (
        findings[0].message
    )
    dropped = after_history(write_migration, before, body, rule="drop-constraint")
    assert all('"PRIMARY"' not in f.message for f in dropped)


def test_what_a_do_block_or_a_function_may_have_made_is_not_said_missing(
    write_migration,
) -> None:
    """A DO block's guarded ADD COLUMN makes the column; one that runs SQL built at run time
    (EXECUTE), or a function whose body alters tables, may have made anything: after them
    nothing is said to be missing (the column dropped in the downgrade is there)."""
    made = {
        "guarded": """
    op.execute(\"\"\"DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                       WHERE table_name = 'projects' AND column_name = 'pct') THEN
            ALTER TABLE projects ADD COLUMN pct text;
        END IF;
    END $$\"\"\")
""",
        "dynamic": """
    op.execute("DO $$ BEGIN EXECUTE 'ALTER TABLE projects ADD COLUMN pct text'; END $$")
""",
        "function": """
    op.execute("CREATE FUNCTION add_pct() RETURNS void LANGUAGE sql "
               "AS $$ ALTER TABLE projects ADD COLUMN pct text $$")
    op.execute("SELECT add_pct()")
""",
    }
    for how, upgrade in made.items():
        body = f"def upgrade():{upgrade}\ndef downgrade():\n    op.drop_column('projects', 'pct')\n"
        assert after_history(write_migration, TABLES, body, rule=RULE) == [], how
    gone = 'def upgrade():\n    op.drop_column("projects", "pct")\n'
    (finding,) = after_history(write_migration, TABLES, gone, rule=RULE)
    assert finding.message.startswith('Column "pct" of "projects" does not exist here')


def test_after_a_question_to_the_catalog_nothing_is_said_missing(write_migration) -> None:
    """cloudkitty asks information_schema whether a key exists (``if res.rowcount:``),
    answered offline as an empty database would: the branch it then takes may not be the
    one the databases it migrated take, so what exists is not judged after it."""
    body = """\
def upgrade():
    res = op.get_bind().execute(sa.text(
        "SELECT * FROM information_schema.referential_constraints "
        "WHERE constraint_name = 'projects_fkey'"))
    if not res.rowcount:
        op.drop_constraint("pk_projects", "projects", type_="primary")
"""
    assert after_history(write_migration, TABLES, body, rule=RULE) == []
    path = write_migration(body.replace("if not", "if"), revision="c3", down_revision="b2")
    notices = [d.message for d in command.check([path.parent]).diagnostics]
    assert any("reads rows through op.get_bind()" in m for m in notices), notices


def test_one_call_that_renders_several_statements_is_one_finding(write_migration) -> None:
    """mlrun's downgrade renames a column the upgrade had renamed otherwise, makes it
    nullable and changes its type in one ``alter_column()``: three statements, each on a
    column that is not there, and three findings said the same."""
    body = """\
def upgrade():
    op.alter_column("projects", "title", nullable=True, new_column_name="label",
                    type_=sa.JSON())
"""
    findings = after_history(write_migration, TABLES, body, rule=RULE)
    assert [(f.line, f.message.split(" does not")[0]) for f in findings] == [
        (findings[0].line, 'Column "title" of "projects"')
    ]
