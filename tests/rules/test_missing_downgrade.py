"""missing-downgrade (MS007): a revision whose downgrade() does nothing."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from migsafe import command
from migsafe.check import check_trusted_file
from migsafe.config import Settings
from migsafe.findings import Finding
from migsafe.script_names import imported_names, named_as_imported
from tests.conftest import HEADER
from tests.rules.lint import (
    FIRST_BODY_LINE,
    after_history,
    assert_renders,
    lines_flagged,
    lint,
    lint_with_notices,
)

RULE = "missing-downgrade"


def lint_as_written(tmp_path: Path, body: str) -> list[Finding]:
    """Like ``lint``, without the ``downgrade()`` that ``migration_source`` adds."""
    path = tmp_path / "a1.py"
    path.write_text(HEADER.format(revision="a1", down_revision=None) + textwrap.dedent(body))
    report = check_trusted_file(path, Settings(pg_version=16))
    assert report.diagnostics == [], [d.message for d in report.diagnostics]
    return [f for f in report.findings if f.rule == RULE]


def recipe(tmp_path: Path, upgrade: str) -> str:
    """The downgrade() the finding proposes for an upgrade() of ``upgrade``."""
    body = f"def upgrade():\n    {upgrade}\n\ndef downgrade():\n    pass\n"
    (finding,) = lint(tmp_path, body, rule=RULE)
    return finding.hint.split("\n# or,")[0]


def test_renders_the_reverse_of_each_upgrade_operation_last_first(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("nickname", sa.Text()))
    op.create_index("ix_users_nickname", "users", ["nickname"])

def downgrade():
    pass
"""
    assert_renders(
        tmp_path,
        body,
        """\
        5: Revision a1 has an empty downgrade(): rolling it back would do nothing while Alembic records it as undone.
        def downgrade():
            op.drop_index('ix_users_nickname', table_name='users')
            op.drop_column('users', 'nickname')
        # or, for a deliberately one-way revision:
        # def downgrade():
        #     raise NotImplementedError("a1 cannot be undone: <why>")
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_module_without_downgrade_is_flagged_at_its_upgrade(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("nickname", sa.Text()))
"""
    (finding,) = lint_as_written(tmp_path, body)
    assert finding.line == FIRST_BODY_LINE
    assert finding.message == (  # nova's: Alembic raises AttributeError on the rollback
        "Revision a1 has no downgrade(): rolling it back fails (Alembic finds no function to "
        "call), and so does every rollback past it."
    )


@pytest.mark.parametrize(
    "downgrade",
    ["pass", "...", '"""Nothing to undo."""', "# op.drop_column('users', 'nickname')\n    pass"],
)
def test_pass_ellipsis_a_docstring_or_comments_do_nothing(tmp_path: Path, downgrade: str) -> None:
    body = f"""\
def upgrade():
    op.add_column("users", sa.Column("nickname", sa.Text()))

def downgrade():
    {downgrade}
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]


def test_a_downgrade_that_raises_is_irreversible_not_missing(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_column("users", "legacy_flags")

def downgrade():
    raise NotImplementedError("legacy_flags data is gone")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_downgrade_calling_a_helper_is_not_judged_empty(tmp_path: Path) -> None:
    body = """\
def _drop_nickname():
    op.drop_column("users", "nickname")

def upgrade():
    op.add_column("users", sa.Column("nickname", sa.Text()))

def downgrade():
    _drop_nickname()
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_downgrade_that_acts_only_online_is_not_judged_empty(tmp_path: Path) -> None:
    body = """\
from alembic import context

def upgrade():
    op.add_column("users", sa.Column("nickname", sa.Text()))

def downgrade():
    if not context.is_offline_mode():
        op.drop_column("users", "nickname")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_merge_revision_has_nothing_to_undo(tmp_path: Path) -> None:
    body = """\
def upgrade():
    pass

def downgrade():
    pass
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_an_upgrade_that_emits_nothing_on_postgresql_has_nothing_to_undo(tmp_path: Path) -> None:
    """designate's revisions that return at once unless the database is MySQL."""
    body = """\
def upgrade():
    if op.get_bind().dialect.name != "mysql":
        return
    op.alter_column("records", "data", type_=sa.Text())
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_missing_downgrade_fails_the_rollback_even_where_upgrade_does_nothing(
    tmp_path: Path,
) -> None:
    """Without a downgrade() at all, Alembic's rollback raises at this revision whatever its
    upgrade did (neutron's revisions that find their key made already): the finding stays."""
    body = """\
def upgrade():
    if op.get_bind().dialect.name != "mysql":
        return
    op.alter_column("records", "data", type_=sa.Text())
"""
    (finding,) = lint_as_written(tmp_path, body)
    assert "has no downgrade()" in finding.message


def test_an_upgrade_that_always_raises_has_nothing_to_undo(tmp_path: Path) -> None:
    """tiled's initial revision raises NotImplementedError (the application makes the schema
    and stamps it): it never applies, so its empty downgrade() loses nothing."""
    body = """\
def upgrade():
    raise NotImplementedError

def downgrade():
    "Nothing to do because this is the initial schema."
"""
    findings, _ = lint_with_notices(tmp_path, body, rule=RULE)
    assert findings == []


def test_an_upgrade_that_looks_at_the_schema_first_still_needs_its_downgrade(
    tmp_path: Path,
) -> None:
    """dagster's return unless ``runs`` exists: it does in the databases they are written
    for, not in the empty one the capture answers for. Where it does not, the upgrade does
    nothing, so judging the run where it does leaves nothing out: no notice."""
    body = """\
def upgrade():
    if not sa.inspect(op.get_bind()).has_table("runs"):
        return
    op.create_table("secondary_indexes", sa.Column("id", sa.Integer()))

def downgrade():
    pass
"""
    findings, notices = lint_with_notices(tmp_path, body, rule=RULE)
    assert [f.line - FIRST_BODY_LINE + 1 for f in findings] == [6]
    assert notices == []


def test_an_upgrade_not_seen_gets_no_empty_recipe(tmp_path: Path) -> None:
    """A migration that acts only on a table no revision made, by what its columns are:
    the database the capture answers for has no such table, and where it is taken to
    exist its columns are not known, so no operation was seen, and the recipe says so
    instead of offering ``...`` as the fix."""
    body = """\
def upgrade():
    if sa.inspect(op.get_bind()).has_table("firewall_rules"):
        if sa.inspect(op.get_bind()).get_columns("firewall_rules"):
            op.drop_table("firewall_rules")

def downgrade():
    pass
"""
    (finding,), (notice,) = lint_with_notices(tmp_path, body, rule=RULE)
    assert notice.message.startswith('upgrade() asks whether table "firewall_rules" exists')
    assert finding.hint.startswith(
        "def downgrade():\n    # upgrade() decides what to do by what the database holds: "
        "write its undo by hand\n    ..."
    )


def test_a_module_with_neither_function_has_nothing_to_undo(tmp_path: Path) -> None:
    assert lint_as_written(tmp_path, "") == []


def test_a_downgrade_bound_to_another_function_is_not_missing(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("nickname", sa.Text()))

def _drop_nickname():
    op.drop_column("users", "nickname")

downgrade = _drop_nickname
"""
    assert lint_as_written(tmp_path, body) == []


@pytest.mark.parametrize(
    ("upgrade", "expected"),
    [
        (
            'op.rename_table("accounts", "customers")',
            "op.rename_table('customers', 'accounts')",
        ),
        (
            'op.alter_column("users", "email", new_column_name="mail")',
            "op.alter_column('users', 'mail',\n               new_column_name='email')",
        ),
        (
            'op.alter_column("users", "email", existing_type=sa.Text(), nullable=False)',
            "op.alter_column('users', 'email',\n"
            "               existing_type=sa.Text(),\n"
            "               nullable=True)",
        ),
        (
            'op.create_index("ix_users_email", "users", ["email"], postgresql_concurrently=True)',
            "with op.get_context().autocommit_block():\n"
            "        op.drop_index('ix_users_email', table_name='users', "
            "postgresql_concurrently=True)",
        ),
        (  # designate's: a type given as a class, which SQLAlchemy takes too
            'op.alter_column("users", "age", existing_type=sa.Integer, type_=sa.BigInteger)',
            "op.alter_column('users', 'age',\n"
            "               existing_type=sa.BigInteger(),\n"
            "               type_=sa.Integer())",
        ),
        (  # tap-as-a-service: dropped by the name PostgreSQL gave it, not by None
            'op.create_foreign_key(None, "tap_id_associations", "tap_services", '
            '["tap_service_id"], ["id"])',
            "op.drop_constraint('tap_id_associations_tap_service_id_fkey', "
            "'tap_id_associations', type_='foreignkey')",
        ),
        (
            'op.create_unique_constraint(None, "users", ["email"])',
            "op.drop_constraint('users_email_key', 'users', type_='unique')",
        ),
    ],
    ids=[
        "rename-table",
        "rename-column",
        "nullable",
        "concurrently",
        "type-classes",
        "unnamed-foreign-key",
        "unnamed-unique",
    ],
)
def test_the_recipe_reverses_what_the_call_says(
    tmp_path: Path, upgrade: str, expected: str
) -> None:
    assert recipe(tmp_path, upgrade) == f"def downgrade():\n    {expected}"


@pytest.mark.parametrize(
    "upgrade",
    [
        'op.drop_column("users", "nickname")',
        'op.drop_index("ix_users_email", table_name="users")',
        'op.drop_table("sessions")',
        'op.alter_column("users", "age", type_=sa.BigInteger())',
        'op.execute("CREATE EXTENSION citext")',
    ],
    ids=["drop-column", "drop-index", "drop-table", "type-unknown-before", "raw-sql"],
)
def test_what_the_call_cannot_tell_is_left_to_undo_by_hand(tmp_path: Path, upgrade: str) -> None:
    assert recipe(tmp_path, upgrade) == f"def downgrade():\n    # undo by hand: {upgrade}\n    ..."


def test_a_loop_of_raw_sql_is_left_to_undo_by_hand_once(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("nickname", sa.Text()))
    for table in ("users", "staff"):
        op.execute(f"ALTER TABLE {table} ADD COLUMN z int")

def downgrade():
    pass
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.hint.startswith(
        "def downgrade():\n"
        '    # undo by hand: op.execute(f"ALTER TABLE {table} ADD COLUMN z int")\n'
        "    op.drop_column('users', 'nickname')\n# or,"
    )


def test_the_recipe_does_not_make_not_null_a_column_that_was_nullable(write_migration) -> None:
    """ironic-inspector renames new timestamp columns into place with ``nullable=True``, as
    they already were: undoing that renames them back and leaves their NULLs alone."""
    before = """\
def upgrade():
    op.create_table("nodes", sa.Column("uuid", sa.String(36)))
"""
    body = """\
def upgrade():
    op.add_column("nodes", sa.Column("temp_finished", sa.DateTime(), nullable=True))
    op.alter_column("nodes", "temp_finished", new_column_name="finished_at",
                    existing_type=sa.DateTime(), nullable=True)
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert "nullable=False" not in finding.hint
    assert "new_column_name='temp_finished'" in finding.hint


def test_a_recipe_from_an_upgrade_seen_in_part_says_so(tmp_path: Path) -> None:
    """gertty's upgrade() raises halfway: the reverse of what came before is not the whole
    undo, and the recipe says so."""
    body = """\
def upgrade():
    op.add_column("comment", sa.Column("file_key", sa.Integer()))
    raise RuntimeError("cannot run offline")

def downgrade():
    pass
"""
    findings, _ = lint_with_notices(tmp_path, body, rule=RULE)
    (finding,) = findings
    assert finding.hint.startswith(
        "def downgrade():\n    # upgrade() was seen only in part: undo what it does after that "
        "too\n    op.drop_column('comment', 'file_key')"
    )


def test_a_dropped_constraint_comes_back_as_the_history_made_it(write_migration) -> None:
    """ckanext-comments drops its foreign key to add another: the recipe adds the old one
    back, ON DELETE included, as the schema knows it (the drop's call does not say)."""
    before = """\
def upgrade():
    op.create_table("threads", sa.Column("id", sa.Integer(), primary_key=True))
    op.create_table("comments", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("thread_id", sa.Integer()),
                    sa.Column("body", sa.Text()),
                    sa.CheckConstraint("length(body) > 0", name="ck_comments_body"))
    op.create_foreign_key("fk_comments_thread", "comments", "threads", ["thread_id"], ["id"],
                          ondelete="CASCADE")
"""
    body = """\
def upgrade():
    op.drop_constraint("fk_comments_thread", "comments", type_="foreignkey")
    op.drop_constraint("ck_comments_body", "comments", type_="check")

def downgrade():
    pass
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert finding.hint.startswith(
        "def downgrade():\n"
        "    op.create_check_constraint('ck_comments_body', 'comments', 'length(body) > 0')\n"
        "    op.create_foreign_key('fk_comments_thread', 'comments', 'threads', ['thread_id'], "
        "['id'], ondelete='CASCADE')"
    )


@pytest.mark.parametrize(
    "statements",
    [
        "op.execute(\"DELETE FROM messaging_config WHERE service_type = 'twilio'\")",
        "op.execute(\"ALTER TYPE run_status ADD VALUE IF NOT EXISTS 'paused'\")",
        'op.execute("CREATE INDEX IF NOT EXISTS ix_users_email ON users (email)")\n'
        '    op.execute("ALTER TABLE users ADD COLUMN IF NOT EXISTS nickname text")',
        # indico merges users through a temporary table, gone with the session
        'op.execute("CREATE TEMPORARY TABLE merge_map AS SELECT id, 1 AS target FROM users")\n'
        '    op.execute("CREATE INDEX ix_merge_map_id ON merge_map (id)")\n'
        '    op.execute("UPDATE users SET active = false FROM merge_map m WHERE m.id = users.id")\n'
        '    op.execute("DROP TABLE merge_map")',
        # and disables a table's triggers for a bulk update, then enables them again
        'op.execute("ALTER TABLE users DISABLE TRIGGER ALL")\n'
        '    op.execute("UPDATE users SET active = true")\n'
        '    op.execute("ALTER TABLE users ENABLE TRIGGER ALL")',
        'op.execute("ALTER TABLE users DISABLE TRIGGER audit, DISABLE TRIGGER stamp")\n'
        '    op.execute("ALTER TABLE users ENABLE TRIGGER stamp, ENABLE TRIGGER audit")',
    ],
)
def test_an_upgrade_that_runs_again_as_is_needs_no_undo(tmp_path: Path, statements: str) -> None:
    """fides deletes rows it no longer wants and cognee adds an enum value IF NOT EXISTS:
    an empty downgrade() loses nothing the next upgrade would trip on, and raising there
    would only block rollbacks past it."""
    body = f"""\
def upgrade():
    {statements}

def downgrade():
    pass
"""
    assert lint(tmp_path, body, rule=RULE) == []


@pytest.mark.parametrize(
    "statements",
    [
        'op.execute("ALTER TABLE users DISABLE TRIGGER ALL")',  # left disabled
        'op.execute("ALTER TABLE users ENABLE TRIGGER audit")',  # maybe disabled before
        'op.execute("ALTER TABLE users DISABLE TRIGGER audit")\n'
        '    op.execute("ALTER TABLE users ENABLE TRIGGER stamp")',
        # ALL's system triggers (foreign keys') stay off after ENABLE TRIGGER USER
        'op.execute("ALTER TABLE users DISABLE TRIGGER ALL")\n'
        '    op.execute("ALTER TABLE users ENABLE TRIGGER USER")',
        'op.execute("CREATE TABLE merge_map (id int)")\n'  # not temporary: it stays
        '    op.execute("CREATE INDEX ix_merge_map_id ON merge_map (id)")',
    ],
)
def test_an_upgrade_that_leaves_a_change_behind_still_needs_its_undo(
    tmp_path: Path, statements: str
) -> None:
    body = f"""\
def upgrade():
    {statements}

def downgrade():
    pass
"""
    assert len(lint(tmp_path, body, rule=RULE)) == 1


def test_an_upgrade_that_makes_an_object_unconditionally_still_needs_its_undo(
    tmp_path: Path,
) -> None:
    body = """\
def upgrade():
    op.execute("UPDATE users SET active = true")
    op.execute("ALTER TYPE run_status ADD VALUE 'paused'")

def downgrade():
    pass
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]


def test_a_commit_is_nothing_to_undo(tmp_path: Path) -> None:
    """invenio-db commits before building its indexes concurrently: the recipe lists the
    index, not the COMMIT."""
    body = """\
def upgrade():
    op.execute("COMMIT")
    op.create_index("ix_users_email", "users", ["email"], postgresql_concurrently=True)

def downgrade():
    pass
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert "COMMIT" not in finding.hint
    assert 'op.drop_index("ix_users_email"' in finding.hint.replace("'", '"')


def test_a_type_change_is_undone_with_the_cast_postgresql_needs(tmp_path: Path) -> None:
    """invenio-access made a varchar an integer's text: back, PostgreSQL casts it only when
    told how (``postgresql_using=``); to text it casts by itself."""
    body = """\
def upgrade():
    op.alter_column("roles", "role_id", existing_type=sa.Integer(), type_=sa.String(80))
    op.alter_column("roles", "size", existing_type=sa.SmallInteger(), type_=sa.BigInteger())

def downgrade():
    pass
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert "postgresql_using='\"role_id\"::int4')" in finding.hint
    assert finding.hint.count("postgresql_using") == 1


def test_an_exception_made_but_not_raised_is_an_empty_downgrade(tmp_path: Path) -> None:
    """subunit2sql writes ``NotImplementedError()`` without ``raise``: the rollback does
    nothing, while Alembic records the revision as undone."""
    body = """\
def upgrade():
    op.add_column("users", sa.Column("nickname", sa.Text()))

def downgrade():
    NotImplementedError()
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]


def test_an_early_return_alone_is_an_empty_downgrade(tmp_path: Path) -> None:
    """nonebot-plugin-orm's template starts each function with ``if name: return`` (one
    call per bind): with nothing after it, the rollback does nothing. A guard before real
    work is not empty."""
    body = """\
def upgrade(name: str = ""):
    if name:
        return
    op.add_column("users", sa.Column("nickname", sa.Text()))

def downgrade(name: str = ""):
    if name:
        return
    pass
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [6]
    guarded = body.replace("    pass\n", '    op.drop_column("users", "nickname")\n')
    assert lines_flagged(tmp_path, guarded, rule=RULE) == []


def test_a_schema_change_run_through_the_bind_is_in_the_recipe(tmp_path: Path) -> None:
    """tiled runs its ALTERs through ``connection.execute(sa.text(...))``: they are undone by
    hand like an op.execute(), not "decided by what the database holds"."""
    body = """\
def upgrade():
    connection = op.get_bind()
    connection.execute(sa.text("ALTER TABLE principals ALTER COLUMN t SET DEFAULT now()"))
    connection.execute(sa.text("UPDATE principals SET t = now()"))

def downgrade():
    pass
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.hint.splitlines()[:3] == [
        "def downgrade():",
        "    # undo by hand: ALTER TABLE principals ALTER COLUMN t SET DEFAULT now()",
        "    ...",
    ]


def test_an_upgrade_not_seen_to_its_end_is_not_taken_to_run_again_as_is(
    write_migration,
) -> None:
    """An UPDATE, then the columns of a table the history only altered (a guess from there
    on): what follows is not known, so the empty downgrade() is not excused."""
    write_migration(
        'def upgrade():\n    op.add_column("users", sa.Column("a", sa.Text()))\n',
        revision="a1",
    )
    path = write_migration(
        """\
def upgrade():
    op.execute("UPDATE users SET a = 'x'")
    sa.inspect(op.get_bind()).get_columns("users")
    op.drop_column("users", "a")

def downgrade():
    pass
""",
        revision="a2",
        down_revision="a1",
    )
    result = command.check([path.parent])
    assert "missing-downgrade" in [f.rule for f in result.findings if f.path.name == path.name]


def test_rows_of_a_new_table_need_no_undo_and_calls_are_quoted_without_comments(
    tmp_path: Path,
) -> None:
    """networking-midonet inserts its first row into a table the revision makes (dropping
    the table undoes it), and writes ``op.execute(  # nosec``: the recipe quoted the
    comment inside its own."""
    body = """\
def upgrade():
    op.create_table("state", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute("INSERT INTO state (id) VALUES (1)")
    op.execute(  # nosec
        "UPDATE users SET flag = true"
    )
    op.alter_column("users", "name", type_=sa.Text())

def downgrade():
    pass
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    hint = finding.hint
    assert "INSERT INTO state" not in hint and "nosec" not in hint
    assert """# undo by hand: op.execute("UPDATE users SET flag = true")""" in hint


def test_rendering_recipes_logs_nothing_of_alembic_s(tmp_path: Path, caplog) -> None:
    """anitya's application sets Alembic's loggers to INFO: the context migsafe renders
    recipes with must not log "Context impl DefaultImpl", which reads as if migsafe ran on
    another database."""
    from migsafe.rules import missing_downgrade

    missing_downgrade._render_context.cache_clear()
    with caplog.at_level("INFO", logger="alembic.runtime.migration"):
        lint(tmp_path, 'def upgrade():\n    op.add_column("t", sa.Column("a", sa.Integer()))\n',
             rule=RULE)  # fmt: skip
    assert not [r for r in caplog.records if "DefaultImpl" in r.getMessage()]


def test_what_alembic_cannot_reverse_or_render_is_written_all_the_same(
    write_migration,
) -> None:
    """networking-infoblox's create_table() holds an sa.Index() (its reverse() fails:
    drop_table needs only the name); networking-ovn swaps a primary key (Alembic renders no
    create_primary_key()); refstack changes a type without existing_type= (the schema
    knows it)."""
    before = """\\
def upgrade():
    op.create_table("revisions", sa.Column("uuid", sa.String(36), nullable=False),
                    sa.Column("kind", sa.String(36), nullable=False),
                    sa.PrimaryKeyConstraint("uuid"))
    op.create_table("product", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("product_id", sa.String(36)))
"""
    body = """\\
def upgrade():
    op.create_table("members", sa.Column("grid_id", sa.Integer()),
                    sa.Column("status", sa.String(16)),
                    sa.Index("ix_members_grid_id_status", "grid_id", "status"))
    op.drop_constraint("revisions_pkey", "revisions", type_="primary")
    op.create_primary_key("pk_revisions", "revisions", ["uuid", "kind"])
    op.alter_column("product", "product_id", type_=sa.String(64))

def downgrade():
    pass
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert "undo by hand" not in finding.hint, finding.hint
    assert finding.hint.splitlines()[1:7] == [
        "    op.alter_column('product', 'product_id',",
        "               existing_type=sa.String(length=64),",
        "               type_=sa.VARCHAR(length=36))",
        "    op.drop_constraint('pk_revisions', 'revisions', type_='primary')",
        "    op.create_primary_key('revisions_pkey', 'revisions', ['uuid'])",
        "    op.drop_table('members')",
    ]


def test_an_enum_the_call_names_by_its_class_is_put_back_as_the_schema_knows_it(
    write_migration,
) -> None:
    """designate writes ``existing_type=sa.Enum`` (the class): the recipe put back
    ``sa.Enum()``, with no name, which SQLAlchemy refuses on PostgreSQL. The schema says
    what the column was: that type, by its name."""
    before = """\
def upgrade():
    op.create_table("zones", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("type", sa.Enum("PRIMARY", "SECONDARY", name="type")))
"""
    body = """\
def upgrade():
    op.alter_column("zones", "type", existing_type=sa.Enum,
                    type_=sa.Enum("PRIMARY", "SECONDARY", "CATALOG", name="type"))

def downgrade():
    pass
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert "existing_type=sa.Enum('PRIMARY', 'SECONDARY', 'CATALOG', name='type')" in (
        finding.hint
    ), finding.hint
    assert "type_=sa.Enum()" not in finding.hint


def test_changes_of_a_table_the_upgrade_made_go_with_its_drop(tmp_path: Path) -> None:
    """cinder's initial revision alters a table it made: the recipe said to undo that by
    hand, where dropping the table undoes it."""
    body = """\
def upgrade():
    op.create_table("quota_usages", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("resource", sa.String(255)))
    op.create_index("ix_quota_usages_resource", "quota_usages", ["resource"])
    with op.batch_alter_table("quota_usages") as batch_op:
        batch_op.alter_column("resource", type_=sa.String(300))
    op.add_column("volumes", sa.Column("note", sa.Text()))

def downgrade():
    pass
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.hint.splitlines()[1:3] == [
        "    op.drop_column('volumes', 'note')",
        "    op.drop_table('quota_usages')",
    ]
    assert "undo by hand" not in finding.hint


MADE = """\
def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer(), primary_key=True))
    op.create_table("shares", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("uuid", sa.String(36), nullable=False),
                    sa.Column("user_id", sa.Integer(),
                              sa.ForeignKey("users.id", ondelete="CASCADE")),
                    sa.UniqueConstraint("uuid", name="uq_shares_uuid"),
                    sa.CheckConstraint("length(uuid) > 3", name="ck_shares_uuid"))
    op.create_index("ix_shares_user_id", "shares", ["user_id"])
"""


def test_a_dropped_table_is_made_again_as_the_history_made_it(write_migration) -> None:
    """nova drops ``share_mapping`` and makes it anew: the recipe dropped the new one and
    left the old one "by hand", a downgrade that leaves no table. The schema knows the old
    one: its columns, keys, checks and indexes come back."""
    body = """\
def upgrade():
    op.drop_table("shares")
    op.create_table("shares", sa.Column("id", sa.Integer(), primary_key=True))

def downgrade():
    pass
"""
    (finding,) = after_history(write_migration, MADE, body, rule=RULE)
    hint = finding.hint
    assert "undo by hand" not in hint
    assert hint.index("op.drop_table('shares')") < hint.index("op.create_table('shares',")
    for made in (
        "sa.Column('uuid', sa.VARCHAR(length=36), autoincrement=False, nullable=False)",
        "sa.CheckConstraint('length(uuid) > 3', name='ck_shares_uuid')",
        "sa.ForeignKeyConstraint(['user_id'], ['users.id'], name='shares_user_id_fkey', "
        "ondelete='CASCADE')",
        "sa.PrimaryKeyConstraint('id', name='shares_pkey')",
        "sa.UniqueConstraint('uuid', name='uq_shares_uuid')",
        "op.create_index('ix_shares_user_id', 'shares', ['user_id'], unique=False)",
    ):
        assert made in hint, made


def test_a_dropped_column_or_index_is_made_again_in_reverse_order(write_migration) -> None:
    body = """\
def upgrade():
    op.drop_index("ix_shares_user_id", "shares")
    op.drop_column("shares", "user_id")

def downgrade():
    pass
"""
    (finding,) = after_history(write_migration, MADE, body, rule=RULE)
    lines = finding.hint.splitlines()
    assert lines[1:4] == [  # the column with the key that went with it, then the index
        "    op.add_column('shares', sa.Column('user_id', sa.INTEGER(), autoincrement=False, "
        "nullable=True))",
        "    op.create_foreign_key('shares_user_id_fkey', 'shares', 'users', ['user_id'], "
        "['id'], ondelete='CASCADE')",
        "    op.create_index('ix_shares_user_id', 'shares', ['user_id'], unique=False)",
    ]


def test_a_dropped_table_the_schema_cannot_make_again_is_left_by_hand(write_migration) -> None:
    """A serial column that is no key: its sequence went with the table."""
    before = """\
def upgrade():
    op.execute("CREATE TABLE counters (name text PRIMARY KEY, n serial)")
"""
    body = """\
def upgrade():
    op.drop_table("counters")

def downgrade():
    pass
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert '# undo by hand: op.drop_table("counters")' in finding.hint


def test_the_recipe_keeps_the_function_s_parameters(tmp_path: Path) -> None:
    """nonebot-plugin-orm's env.py calls ``downgrade(name=...)``: a recipe without the
    parameter would raise TypeError there."""
    findings = lint_as_written(
        tmp_path,
        """\
def upgrade(name: str = "") -> None:
    if name:
        return
    op.add_column("users", sa.Column("nickname", sa.Text()))


def downgrade(name: str = "") -> None:
    pass
""",
    )
    (finding,) = findings
    assert finding.hint.startswith('def downgrade(name: str = ""):\n')
    assert '# def downgrade(name: str = ""):' in finding.hint


def test_the_recipe_leaves_temporary_tables_out(tmp_path: Path) -> None:
    """A temporary table is gone with the session: nothing to undo by hand."""
    body = """\
def upgrade():
    op.execute("CREATE TEMPORARY TABLE scratch AS SELECT 1 AS id")
    op.add_column("users", sa.Column("nickname", sa.Text()))

def downgrade():
    pass
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert "scratch" not in finding.hint
    assert "op.drop_column('users', 'nickname')" in finding.hint


def test_a_recreated_table_s_recipe_runs_as_written(write_migration) -> None:
    """A tester pasted the recipe: ``ARRAY(TEXT())`` (no ``sa.``), an enum without its
    schema, a GIN index made a btree, a CHECK that went with its column left out."""
    before = """\
def upgrade():
    op.execute("CREATE SCHEMA app")
    op.execute("CREATE TYPE app.mood AS ENUM ('happy', 'sad')")
    op.execute("CREATE TABLE app.items (id int PRIMARY KEY, tags text[], data jsonb, "
               "mood app.mood, price int CONSTRAINT price_nonneg CHECK (price >= 0))")
    op.execute("CREATE INDEX items_data_gin ON app.items USING gin (data jsonb_path_ops)")
"""
    body = """\
def upgrade():
    op.drop_column("items", "price", schema="app")
    op.drop_table("items", schema="app")

def downgrade():
    pass
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    hint = finding.hint
    for made in (
        "postgresql.ARRAY(sa.TEXT())",
        "postgresql.JSONB(astext_type=sa.Text())",
        "postgresql.ENUM('happy', 'sad', name='mood', create_type=False, schema='app')",
        "postgresql_using='gin'",
        "postgresql_ops={'data': 'jsonb_path_ops'}",
        "op.create_check_constraint('price_nonneg', 'items', 'price >= 0', schema='app')",
    ):
        assert made in hint, made
    assert "# (with `from sqlalchemy.dialects import postgresql` at the top)" in hint
    code = hint.split("# or, for")[0]
    compile(code, "recipe", "exec")


def test_a_dropped_column_comes_back_with_its_identity_and_the_keys_it_shared(
    write_migration,
) -> None:
    """A tester's recipe brought an identity column back plain, and left out the UNIQUE on
    two columns that went with the dropped one."""
    before = """\
def upgrade():
    op.create_table("orders", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("parent", sa.Integer()), sa.Column("note", sa.Text()),
                    sa.Column("n", sa.BigInteger(), sa.Identity(), nullable=False),
                    sa.UniqueConstraint("parent", "note", name="uq_orders_parent_note"))
    op.create_index("ix_orders_open", "orders", ["parent"],
                    postgresql_where=sa.text("note IS NULL"))
"""
    body = """\
def upgrade():
    op.drop_column("orders", "note")
    op.drop_column("orders", "n")

def downgrade():
    pass
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    hint = finding.hint
    assert "sa.Column('n', sa.BIGINT(), sa.Identity(" in hint
    assert (
        "op.create_unique_constraint('uq_orders_parent_note', 'orders', ['parent', 'note'])" in hint
    )
    # an index whose WHERE names the column goes with it too
    assert "op.create_index('ix_orders_open', 'orders', ['parent'], unique=False, " in hint


def test_a_dropped_not_null_column_comes_back_nullable_to_fill(write_migration) -> None:
    """Added back NOT NULL with nothing to fill it, it fails on a table with rows (and
    add-column-not-null-without-default flagged the pasted recipe)."""
    before = """\
def upgrade():
    op.create_table("orders", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("total", sa.Integer(), nullable=False))
"""
    body = """\
def upgrade():
    op.drop_column("orders", "total")

def downgrade():
    pass
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    lines = finding.hint.splitlines()
    assert lines[1:3] == [
        "    op.add_column('orders', sa.Column('total', sa.INTEGER(), autoincrement=False, "
        "nullable=True))",
        "    # fill it, then: op.alter_column('orders', 'total', nullable=False)",
    ]


def test_the_recipe_names_an_application_type_as_the_script_imports_it(
    tmp_path: Path,
) -> None:
    """tacker imports ``from tacker.db import types`` and alters a column whose type is
    ``types.Uuid``: the recipe wrote ``tacker.db.types.Uuid(length=36)``, a NameError in
    that file. It names it as the script does; the import a recipe itself names
    (``from sqlalchemy.dialects import postgresql``) is left as it is."""
    package = tmp_path / "lib" / "hint_app" / "db"
    package.mkdir(parents=True)
    (package.parent / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "types.py").write_text(
        "import sqlalchemy as sa\n\n"
        "class Uuid(sa.types.TypeDecorator):\n"
        "    impl = sa.String\n"
        "    cache_ok = True\n"
    )
    body = f"""\
import sys
sys.path.insert(0, {str(tmp_path / "lib")!r})
from hint_app.db import types

def upgrade():
    op.alter_column("vnf", "id", type_=sa.String(36), existing_type=types.Uuid(length=36))
    op.add_column("vnf", sa.Column("blob", sa.dialects.postgresql.BYTEA()))
"""
    (finding,) = lint_as_written(tmp_path, body)
    assert "type_=types.Uuid(length=36)" in finding.hint, finding.hint
    assert "hint_app.db" not in finding.hint


def test_imported_names_bind_paths_longest_first() -> None:
    tree = ast.parse(
        "import sqlalchemy as sa\nimport os\nfrom tacker.db import types\n"
        "from tacker.db.types import Json as J\nfrom . import models\nfrom x import *\n"
    )
    assert imported_names(tree) == [
        ("tacker.db.types.Json", "J"),
        ("tacker.db.types", "types"),
        ("sqlalchemy", "sa"),
    ]
    rewrite = named_as_imported(tree)
    assert rewrite("x = tacker.db.types.Json() + tacker.db.types.Uuid()") == (
        "x = J() + types.Uuid()"
    )
    assert rewrite("from sqlalchemy.dialects import postgresql; sqlalchemy.Text()") == (
        "from sqlalchemy.dialects import postgresql; sa.Text()"
    )


def test_an_upgrade_that_looks_only_at_what_the_history_made_and_does_nothing(
    write_migration,
) -> None:
    """manila's upgrade reflects ``quota_classes``, which its history made, and then does
    nothing on PostgreSQL (a stray line break leaves ``op.bulk_insert`` uncalled): the
    answer is every database's, so there is nothing to undo, and no finding. Where it asks
    for a table no revision made, the answer is not theirs (the test above)."""
    before = """\
def upgrade():
    op.create_table("quota_classes", sa.Column("id", sa.Integer, primary_key=True))

def downgrade():
    op.drop_table("quota_classes")
"""
    body = """\
def upgrade():
    table = sa.Table("quota_classes", sa.MetaData(), autoload_with=op.get_bind())
    op.bulk_insert
    (table, [{"id": 1}])

def downgrade():
    pass
"""
    assert after_history(write_migration, before, body, rule=RULE) == []
