"""Offline capture: the script really runs, every statement keeps its operation and line."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.config import Config
from alembic.operations import ops
from sqlalchemy.engine import Connection

from migsafe import check, command
from migsafe.capture import OfflineCapturer
from migsafe.capture.stand_ins import Reach
from migsafe.capture.stood_in_values import UNKNOWN_MODIFIER
from migsafe.capture.time_limit import RunTooLong, time_limit
from migsafe.findings import Diagnostic
from migsafe.project import load_project, read_script
from migsafe.revision import is_unknown_type, type_name
from migsafe.sql import CallSite, split_statements, statements


def capture(script, config: Config | None = None, pg_version: int = 15):
    with OfflineCapturer(config or Config(), pg_version) as capturer:
        captured = capturer.capture(script)
    return captured.upgrade, captured.downgrade


def capture_body(write_migration, body: str):
    path = write_migration(body)
    upgrade, downgrade = capture(read_script(path))
    return path, upgrade, downgrade


def line_of(path: Path, fragment: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if fragment in line:
            return number
    raise AssertionError(fragment)


def test_loops_and_helpers_keep_the_issuing_line(write_migration) -> None:
    body = """
def add_index(column):
    op.create_index(f"ix_t_{column}", "t", [column])  # helper

def upgrade():
    for column in ("a", "b"):
        add_index(column)
"""
    path, upgrade, _ = capture_body(write_migration, body)
    sqls = [e.sql for e in upgrade.emitted]
    assert sqls == ["CREATE INDEX ix_t_a ON t (a);", "CREATE INDEX ix_t_b ON t (b);"]
    assert {e.line for e in upgrade.emitted} == {line_of(path, "# helper")}
    assert all(isinstance(e.operation, ops.CreateIndexOp) for e in upgrade.emitted)
    # and where upgrade() called the helper; a comprehension is part of its function
    assert {e.called_from for e in upgrade.emitted} == {
        CallSite("add_index", line_of(path, "        add_index(column)"))
    }
    path.write_text(path.read_text().replace(
        '    for column in ("a", "b"):\n        add_index(column)',
        '    [op.create_index(f"ix_t_{c}", "t", [c]) for c in ("a", "b")]',
    ))  # fmt: skip
    upgrade, _ = capture(read_script(path))
    assert [e.called_from for e in upgrade.emitted] == [None, None]


def test_a_finding_in_a_helper_says_where_it_was_called(write_migration) -> None:
    """langbot's ``_create_index_if_missing()``, called once per index: each finding at the
    helper's line says which call made it, and an ignore on the call hides that one."""
    path = write_migration("""
def _index(name):
    op.create_index(name, "t", ["k"])  # helper

def upgrade():
    _index("ix_a")
    _index("ix_b")  # migsafe: ignore[create-index-not-concurrently]
""")
    findings = [
        f for f in command.check([path]).findings if f.rule == "create-index-not-concurrently"
    ]
    assert [(f.line, f.called_at) for f in findings] == [
        (line_of(path, "# helper"), line_of(path, '_index("ix_a")'))
    ]
    call = line_of(path, '_index("ix_a")')
    assert findings[0].message.endswith(f"(in _index(), called at line {call}).")


def test_a_helper_called_by_a_helper_says_the_line_that_called_it(write_migration) -> None:
    """zuul's ``upgrade()`` calls ``upgrade2()``, which calls ``rename_index()`` three
    times: each finding names the call in ``upgrade2()`` that made it."""
    path = write_migration("""
def _index(name):
    op.create_index(name, "t", ["k"])

def _both():
    _index("ix_a")
    _index("ix_b")

def upgrade():
    _both()
""")
    findings = [
        f for f in command.check([path]).findings if f.rule == "create-index-not-concurrently"
    ]
    assert [f.called_at for f in findings] == [
        line_of(path, '_index("ix_a")'), line_of(path, '_index("ix_b")'),
    ]  # fmt: skip


def test_batch_alter_table_operations_keep_their_own_lines(write_migration) -> None:
    body = """
def upgrade():
    with op.batch_alter_table("t") as batch_op:
        batch_op.add_column(sa.Column("x", sa.Integer()))  # add
        batch_op.alter_column("y", new_column_name="z")  # rename
"""
    path, upgrade, _ = capture_body(write_migration, body)
    assert [(e.sql, e.line) for e in upgrade.emitted] == [
        ("ALTER TABLE t ADD COLUMN x INTEGER;", line_of(path, "# add")),
        ("ALTER TABLE t RENAME y TO z;", line_of(path, "# rename")),
    ]


def test_autocommit_block_runs_outside_the_transaction(write_migration) -> None:
    body = """
def upgrade():
    op.add_column("t", sa.Column("x", sa.Integer()))
    with op.get_context().autocommit_block():
        op.create_index("ix_t_x", "t", ["x"], postgresql_concurrently=True)
    op.execute("ANALYZE t")
"""
    _, upgrade, _ = capture_body(write_migration, body)
    parsed, problems = statements(upgrade.emitted)
    assert problems == []
    assert [(s.sql, s.in_transaction) for s in parsed] == [
        ("ALTER TABLE t ADD COLUMN x INTEGER", True),
        ("COMMIT", False),
        ("CREATE INDEX CONCURRENTLY ix_t_x ON t (x)", False),
        ("BEGIN", True),
        ("ANALYZE t", True),
    ]


def test_raw_sql_strings_and_text_are_split_into_statements(write_migration) -> None:
    body = """
def upgrade():
    op.execute("UPDATE t SET a = 1; ALTER TABLE t ALTER COLUMN a SET NOT NULL")
    op.execute(sa.text("DELETE FROM t WHERE a IS NULL"))
"""
    _, upgrade, _ = capture_body(write_migration, body)
    parsed, _ = statements(upgrade.emitted)
    assert [s.sql for s in parsed] == [
        "UPDATE t SET a = 1",
        "ALTER TABLE t ALTER COLUMN a SET NOT NULL",
        "DELETE FROM t WHERE a IS NULL",
    ]
    assert [str(s.table) for s in parsed] == ["t", "t", "t"]


def test_unrenderable_operation_does_not_stop_the_script(write_migration) -> None:
    body = """
def upgrade():
    op.drop_constraint(None, "t", type_="foreignkey")
    op.drop_column("t", "a")
"""
    _, upgrade, _ = capture_body(write_migration, body)
    first, second = upgrade.emitted
    assert first.sql is None and "no name" in first.error
    assert second.sql == "ALTER TABLE t DROP COLUMN a;"


def test_missing_downgrade_function_captures_nothing(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text(
        "from alembic import op\nrevision = 'x'\ndown_revision = None\n"
        "def upgrade():\n    op.drop_table('t')\n"
    )
    upgrade, downgrade = capture(read_script(path))
    assert [item.sql for item in upgrade.emitted] == ["DROP TABLE t;"]
    assert downgrade.emitted == [] and downgrade.failure is None


def test_the_script_gets_what_alembic_upgrade_sql_gives_it(tmp_path: Path) -> None:
    """The project's Config, -x arguments, a working alembic.context, a PostgreSQL bind."""
    (tmp_path / "alembic.ini").write_text(
        "[alembic]\nscript_location = %(here)s\ncustom_option = from-the-ini\n"
    )
    path = tmp_path / "m.py"
    path.write_text(
        "from alembic import context, op\nimport sqlalchemy as sa\n"
        "revision = 'x'\ndown_revision = None\n"
        "assert context.is_offline_mode()\n"
        "def upgrade():\n"
        "    config = op.get_context().config\n"
        "    option = config.get_main_option('custom_option')\n"
        "    tenant = context.get_x_argument(as_dictionary=True)['tenant']\n"
        "    assert op.get_bind().dialect.name == 'postgresql'\n"
        "    assert op.get_bind().dialect.server_version_info[0] == 16\n"
        "    op.add_column(f'{tenant}_t', sa.Column(option.replace('-', '_'), sa.Text()))\n"
    )
    config = load_project(config_file=tmp_path / "alembic.ini", x_arguments=["tenant=acme"]).config
    upgrade, _ = capture(read_script(path), config, pg_version=16)
    assert upgrade.failure is None
    assert [e.sql for e in upgrade.emitted] == ["ALTER TABLE acme_t ADD COLUMN from_the_ini TEXT;"]


def test_reads_answer_as_an_empty_database_and_the_script_runs_to_the_end(write_migration):
    body = """
def upgrade():
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id FROM t WHERE a > :a"), {"a": 1}).fetchall()
    assert rows == [] and bind.execute(sa.text("SELECT count(*) FROM t")).scalar() == 0
    for row in rows:
        op.execute(f"UPDATE t SET a = {row.id}")
    op.create_index("ix_t_a", "t", ["a"])  # after
"""
    path, upgrade, _ = capture_body(write_migration, body)
    assert upgrade.failure is None and upgrade.guesses == []
    assert [r.line for r in upgrade.reads] == [line_of(path, "fetchall"), line_of(path, "count")]
    assert upgrade.judged[-1].sql == "CREATE INDEX ix_t_a ON t (a);"
    assert upgrade.judged[-1].line == line_of(path, "# after")
    # the reads themselves are part of what the migration runs
    assert "SELECT id FROM t WHERE a > 1" in [e.sql for e in upgrade.emitted]  # value written in


def test_a_set_returning_function_without_from_gives_its_rows_not_one(write_migration):
    """tiled reads its enum's labels with ``SELECT unnest(enum_range(NULL::t))`` to make a
    type of the others: the labels the schema holds, not one NULL (which made a type with
    the label 'None'); a function returning rows of data gives none, as over no rows."""
    write_migration(
        "def upgrade():\n"
        "    op.execute(\"CREATE TYPE family AS ENUM ('array', 'composite', 'table')\")\n",
        revision="a1",
    )
    body = """
def upgrade():
    bind = op.get_bind()
    labels = [r[0] for r in bind.execute(sa.text("SELECT unnest(enum_range(NULL::family))"))]
    kept = ", ".join(f"'{label}'" for label in labels if label != "composite")
    op.execute(f"CREATE TYPE family_new AS ENUM ({kept})")
    keys = bind.execute(sa.text("SELECT jsonb_object_keys('{}'::jsonb)")).fetchall()
    op.execute(f"SELECT {len(keys)}")
"""
    path = write_migration(body, revision="a2", down_revision="a1")
    with OfflineCapturer(Config(), 15) as capturer:
        capturer.capture(read_script(path.with_name("a1.py")))
        upgrade = capturer.capture(read_script(path)).upgrade
    assert [e.sql for e in upgrade.emitted if not e.sql.startswith("SELECT ")] == [
        "CREATE TYPE family_new AS ENUM ('array', 'table');"
    ]
    assert upgrade.emitted[-1].sql == "SELECT 0;"
    # the labels are every database's answer, no read (fides' notice said otherwise); the
    # rows of jsonb_object_keys() are data, read
    assert [read.sql for read in upgrade.reads] == ["SELECT jsonb_object_keys('{}'::jsonb)"]


def test_the_notice_of_a_read_quotes_its_sql_on_one_line(write_migration) -> None:
    """A diagnostic is one line: SQL written over several is quoted flat, and cut short."""
    path = write_migration(
        "def upgrade():\n"
        '    rows = op.get_bind().execute(sa.text("""\n'
        "        SELECT id, value\n"
        "        FROM variable\n"
        "        WHERE key LIKE 'a%' AND value IS NOT NULL AND id > 100 ORDER BY id\n"
        '    """)).fetchall()\n'
    )
    (notice,) = [d.message for d in command.check([path]).diagnostics]
    assert "\n" not in notice
    assert "(SELECT id, value FROM variable WHERE key LIKE 'a%' AND valu…)" in notice


def test_sqlalchemy_1x_calls_run_as_sqlalchemy_1_4_ran_them(write_migration) -> None:
    """Histories written for the SQLAlchemy 1.x their application pins: ``select([...])``,
    ``connection.execute("SQL")`` and ``session.execute(session.query(...))`` (refused by
    the 2.x migsafe runs on) do what 1.4 did, so the capture goes on to the end; psycopg2's
    placeholders take their values (numbered as PostgreSQL numbers them), ``%%`` is a
    ``%``."""
    body = """
from sqlalchemy import orm, select

class User(orm.declarative_base()):
    __tablename__ = "users"
    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.Text)

def upgrade():
    conn = op.get_bind()
    session = orm.Session(bind=conn)
    assert session.execute(session.query(User).filter(User.name == "x")).fetchall() == []
    users = sa.table("users", sa.column("id"), sa.column("name"))
    conn.execute(select([users.c.id], users.c.name == "x", order_by=[users.c.id])).fetchall()
    conn.execute("SHOW server_version").scalar()
    conn.execute("SELECT id FROM users WHERE name = %s AND id > %s", ("a", 1)).fetchall()
    conn.execute("UPDATE users SET name = %(n)s WHERE name LIKE 'a%%' OR name = %(n)s", n="b")
    conn.execute("UPDATE users SET name = 'a%'")
    conn.execute(users.update().where(users.c.id == 1), name="c")
    conn.execute(users.update().values(name="d"), execution_options={"x": 1})
    op.create_index("ix_users_name", "users", ["name"])  # the end
"""
    path, upgrade, _ = capture_body(write_migration, body)
    assert upgrade.failure is None
    assert [" ".join(e.sql.split()) for e in upgrade.emitted] == [
        "SELECT users.id, users.name FROM users WHERE users.name = 'x'",
        "SELECT users.id FROM users WHERE users.name = 'x' ORDER BY users.id",
        "SHOW server_version",
        "SELECT id FROM users WHERE name = 'a' AND id > 1",
        "UPDATE users SET name = 'b' WHERE name LIKE 'a%' OR name = 'b'",
        "UPDATE users SET name = 'a%'",
        "UPDATE users SET name='c' WHERE users.id = 1",
        "UPDATE users SET name='d'",
        "CREATE INDEX ix_users_name ON users (name);",
    ]
    assert upgrade.judged[-1].line == line_of(path, "# the end")
    # only while capturing: SQLAlchemy is as it was afterwards
    assert sa.select is sa.sql.expression.select and sa.select.__module__.startswith("sqlalchemy")
    assert Connection.execute.__module__ == "sqlalchemy.engine.base"
    assert sa.orm.Session.execute.__module__ == "sqlalchemy.orm.session"


def test_show_server_version_gives_the_version_checked_for(write_migration) -> None:
    """fides reads ``SHOW server_version`` and makes a function only on 14 and later: the
    answer is the PostgreSQL major being checked for."""
    path = write_migration("""
def upgrade():
    version = op.get_bind().execute(sa.text("SHOW server_version;")).fetchone()[0]
    number = op.get_bind().execute(sa.text("SHOW server_version_num")).scalar()
    if int(version.split(".")[0]) >= 14 and int(number) >= 140000:
        op.add_column("t", sa.Column("a", sa.Integer()))  # 14 and later
    op.get_bind().execute(sa.text("SHOW lock_timeout")).scalar()
""")
    for pg_version, emitted in ((16, ["ALTER TABLE t ADD COLUMN a INTEGER;"]), (13, [])):
        upgrade, _ = capture(read_script(path), pg_version=pg_version)
        assert upgrade.failure is None
        assert [e.sql for e in upgrade.judged if not e.sql.startswith("SHOW")] == emitted


def test_psycopg2s_copy_through_the_raw_connection_is_recorded(write_migration) -> None:
    """pypn-ref-geo loads its grids with ``cursor.copy_expert(...)`` on the raw connection:
    the offline cursor had no such method, and nothing after the COPY was checked."""
    body = """
import io

def upgrade():
    cursor = op.get_bind().connection.cursor()
    cursor.copy_expert("COPY items FROM STDIN", io.StringIO("1\\tx\\n"))
    cursor.copy_from(io.StringIO("1\\tx\\n"), "items", columns=("id", "label"))
    op.create_index("ix_items_label", "items", ["label"])
"""
    _, upgrade, _ = capture_body(write_migration, body)
    assert upgrade.failure is None
    assert [e.sql for e in upgrade.judged] == [
        "COPY items FROM STDIN",
        "COPY items (id, label) FROM STDIN",
        "CREATE INDEX ix_items_label ON items (label);",
    ]


def test_a_bind_that_is_only_written_to_reads_nothing(write_migration) -> None:
    body = """
def upgrade():
    op.get_bind().execute(sa.text("UPDATE t SET a = 1"))
"""
    _, upgrade, _ = capture_body(write_migration, body)
    assert upgrade.reads == [] and [e.sql for e in upgrade.emitted] == ["UPDATE t SET a = 1"]


def test_commit_through_the_bind_ends_the_transaction(write_migration) -> None:
    """PostgreSQL's view: a COMMIT through the bind ends Alembic's transaction, the bind's next
    statement begins another, and autocommit_block() then runs outside any."""
    body = """
def upgrade():
    bind = op.get_bind()
    bind.execute(sa.text("UPDATE t SET a = 1"))
    bind.commit()
    with op.get_context().autocommit_block():
        op.create_index("ix_t_a", "t", ["a"], postgresql_concurrently=True)
    bind.execute(sa.text("UPDATE t SET a = 2"))
    bind.commit()
    bind.execute(sa.text("UPDATE t SET a = 3"))
"""
    _, upgrade, _ = capture_body(write_migration, body)
    parsed, _ = statements(upgrade.judged)
    assert [(s.sql, s.in_transaction) for s in parsed] == [
        ("UPDATE t SET a = 1", True),
        ("COMMIT", False),
        ("COMMIT", False),  # autocommit_block's own, harmless on PostgreSQL
        ("CREATE INDEX CONCURRENTLY ix_t_a ON t (a)", False),
        ("BEGIN", True),
        ("UPDATE t SET a = 2", True),
        ("COMMIT", False),
        ("BEGIN", True),  # SQLAlchemy's autobegin
        ("UPDATE t SET a = 3", True),
    ]


def test_operations_after_a_commit_through_the_bind_begin_a_transaction(write_migration) -> None:
    """``bind.commit()``, then Alembic operations: SQLAlchemy begins a new transaction on the
    same connection, so the ADD COLUMN's lock is held through the UPDATE after it (letta).
    A COMMIT run as SQL is one psycopg2 does not see: what follows runs on its own."""
    body = """
def upgrade():
    op.get_bind().commit()
    op.add_column("t", sa.Column("b", sa.Text()))
    op.execute("UPDATE t SET b = 'x'")
    op.execute("COMMIT")
    op.execute("CREATE INDEX CONCURRENTLY ix_t_b ON t (b)")
"""
    _, upgrade, _ = capture_body(write_migration, body)
    parsed, _ = statements(upgrade.judged)
    assert [(s.sql, s.in_transaction) for s in parsed] == [
        ("COMMIT", False),
        ("BEGIN", True),
        ("ALTER TABLE t ADD COLUMN b TEXT", True),
        ("UPDATE t SET b = 'x'", True),
        ("COMMIT", False),
        ("CREATE INDEX CONCURRENTLY ix_t_b ON t (b)", False),
    ]


def test_another_connection_of_the_engine_does_not_end_the_migrations_transaction(
    write_migration,
) -> None:
    """blazar reflects through ``MetaData`` bound to ``op.get_bind().engine`` and queries
    with a Session on the engine: those connections' ROLLBACKs are theirs. The migration's
    own transaction goes on, and a COMMIT through its own bind still ends it."""
    body = """
def upgrade():
    engine = op.get_bind().engine
    op.create_table("t", sa.Column("a", sa.Integer()))
    op.execute("UPDATE t SET a = 1")
    users = sa.Table("t", sa.MetaData(), autoload_with=engine)
    session = sa.orm.Session(bind=engine)
    session.execute(sa.text("SELECT 1"))
    session.close()
    with engine.connect() as other:
        other.execute(sa.text("SELECT 2"))
    op.execute("UPDATE t SET a = 2")
    op.get_bind().commit()
"""
    _, upgrade, _ = capture_body(write_migration, body)
    parsed, _ = statements(upgrade.judged)
    assert upgrade.failure is None
    assert [(s.sql, s.in_transaction) for s in parsed][1:] == [
        ("UPDATE t SET a = 1", True),
        ("SELECT 1", True),
        ("SELECT 2", True),
        ("UPDATE t SET a = 2", True),
        ("COMMIT", False),
    ]


def test_a_batch_runs_its_operations_when_its_block_ends(write_migration) -> None:
    """datajunction backfills with op.execute() inside a batch_alter_table() block whose
    batch_op.alter_column() sets NOT NULL: Alembic runs that when the block ends, after the
    UPDATE; each statement keeps the line that issued it."""
    body = """
def upgrade():
    with op.batch_alter_table("nodes") as batch_op:
        batch_op.add_column(sa.Column("kind", sa.Text()))  # add
        op.execute("UPDATE nodes SET kind = 'x'")  # backfill
        batch_op.alter_column("kind", existing_type=sa.Text(), nullable=False)  # not null
    op.execute("SELECT 1")  # after
"""
    path, upgrade, _ = capture_body(write_migration, body)
    assert [(e.sql, e.line) for e in upgrade.emitted] == [
        ("UPDATE nodes SET kind = 'x';", line_of(path, "# backfill")),
        ("ALTER TABLE nodes ADD COLUMN kind TEXT;", line_of(path, "# add")),
        ("ALTER TABLE nodes ALTER COLUMN kind SET NOT NULL;", line_of(path, "# not null")),
        ("SELECT 1;", line_of(path, "# after")),
    ]
    assert isinstance(upgrade.emitted[1].operation, ops.AddColumnOp)


def test_the_bind_says_what_alembic_upgrade_sql_says(write_migration) -> None:
    """murano runs its PostgreSQL-only statements when ``dialect_description ==
    "postgresql+psycopg2"``, as `alembic upgrade --sql` says for ``postgresql://``."""
    body = """
def upgrade():
    dialect = op.get_bind().dialect
    if dialect.dialect_description == "postgresql+psycopg2" and dialect.driver == "psycopg2":
        op.drop_constraint("fk_package_owner", "package", type_="foreignkey")
"""
    _, upgrade, _ = capture_body(write_migration, body)
    assert [e.sql for e in upgrade.judged] == [
        "ALTER TABLE package DROP CONSTRAINT fk_package_owner;"
    ]


def test_insert_returning_gives_what_an_empty_database_gives(write_migration) -> None:
    """backend.ai inserts its default group and uses the id it returns: a new database
    numbers a serial column from 1. Constants come back as given, the rest is unknown."""
    body = """
def upgrade():
    op.create_table("groups", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("name", sa.Text()), sa.Column("note", sa.Text()))
    bind = op.get_bind()
    first = bind.execute(sa.text(
        "INSERT INTO groups (name) VALUES ('default') ON CONFLICT DO NOTHING RETURNING id, name"
    )).first()
    second = bind.execute(sa.text(
        "INSERT INTO groups (name) VALUES ('x'), ('y') RETURNING id, note"
    )).fetchall()
    assert (first.id, first.name) == (1, "default"), first
    assert [tuple(row) for row in second] == [(2, None), (3, None)], second
    op.execute(f"UPDATE groups SET note = 'first' WHERE id = {first.id}")
"""
    _, upgrade, _ = capture_body(write_migration, body)
    assert upgrade.failure is None, upgrade.failure
    assert upgrade.judged[-1].sql == "UPDATE groups SET note = 'first' WHERE id = 1;"


def test_insert_returning_gives_a_uuid_its_default_makes(write_migration) -> None:
    """backend.ai's groups take their id from ``uuid_generate_v4()``: the id returned is a
    uuid, the n-th of the column on every run, not None ("no such group")."""
    body = """
def upgrade():
    op.create_table("groups", sa.Column("id", postgresql.UUID(),
                                        server_default=sa.text("uuid_generate_v4()")),
                    sa.Column("name", sa.Text()))
    bind = op.get_bind()
    first = bind.execute(sa.text("INSERT INTO groups (name) VALUES ('default') RETURNING id"))
    group_id = first.scalar()
    assert str(group_id) == "00000000-0000-0000-0000-000000000001", group_id
    op.execute(f"UPDATE groups SET name = 'main' WHERE id = '{group_id}'")
"""
    _, upgrade, _ = capture_body(
        write_migration, "from sqlalchemy.dialects import postgresql\n" + body
    )
    assert upgrade.failure is None, upgrade.failure
    assert upgrade.judged[-1].sql == (
        "UPDATE groups SET name = 'main' WHERE id = '00000000-0000-0000-0000-000000000001';"
    )


def test_reflection_sees_what_earlier_revisions_and_this_one_created(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "a.py").write_text(
        "from alembic import op\nimport sqlalchemy as sa\nrevision = 'a'\ndown_revision = None\n"
        "def upgrade():\n"
        "    op.create_table('users', sa.Column('id', sa.Integer, primary_key=True),\n"
        "                    sa.Column('email', sa.String(200), nullable=False))\n"
        "    op.create_index('ix_users_email', 'users', ['email'], unique=True)\n"
    )
    (versions / "b.py").write_text(
        "from alembic import op\nimport sqlalchemy as sa\nrevision = 'b'\ndown_revision = 'a'\n"
        "def upgrade():\n"
        "    inspector = sa.inspect(op.get_bind())\n"
        "    if 'users' in inspector.get_table_names():\n"
        "        names = [c['name'] for c in inspector.get_columns('users')]\n"
        "        op.execute(f\"COMMENT ON TABLE users IS '{','.join(names)}'\")\n"
        "    users = sa.Table('users', sa.MetaData(), autoload_with=op.get_bind())\n"
        "    assert users.c.email.type.length == 200 and not users.c.email.nullable\n"
        "    assert [i['name'] for i in inspector.get_indexes('users')] == ['ix_users_email']\n"
        "    op.create_table('tags', sa.Column('id', sa.Integer))\n"
        "    assert sa.inspect(op.get_bind()).has_table('tags')\n"
        "def downgrade():\n"
        "    assert sa.inspect(op.get_bind()).has_table('tags')  # after its own upgrade\n"
        "    op.drop_table('tags')\n"
    )
    with OfflineCapturer(Config(), 15) as capturer:
        capturer.capture(read_script(versions / "a.py"))
        captured = capturer.capture(read_script(versions / "b.py"))
    upgrade, downgrade = captured.upgrade, captured.downgrade
    assert upgrade.failure is None and downgrade.failure is None
    assert upgrade.reads == []  # reflection is answered exactly: no notice needed
    assert upgrade.emitted[0].sql == "COMMENT ON TABLE users IS 'id,email';"


def test_missing_modules_stand_in_and_their_types_render_as_unknown(write_migration) -> None:
    body = """
from myapp_not_installed.db.types import UUIDType
from myapp_not_installed import helpers

def upgrade():
    op.add_column("t", sa.Column("id", UUIDType(binary=False), nullable=True))
    with helpers.no_sqlite_fkeys(op):  # a helper's context manager: its body runs
        op.drop_column("t", "legacy")
"""
    _, upgrade, _ = capture_body(write_migration, body)
    # what the helper does around its body is not known (a test of its own says so)
    assert upgrade.failure is None and [g.reach for g in upgrade.guesses] == [Reach.EFFECT]
    assert [e.sql for e in upgrade.judged] == [
        'ALTER TABLE t ADD COLUMN id migsafe_unknown."UUIDType";',
        "ALTER TABLE t DROP COLUMN legacy;",
    ]
    assert [module for module, _ in upgrade.stood_in] == ["myapp_not_installed"]
    assert "myapp_not_installed" not in sys.modules  # nothing left behind in this process


def test_a_class_of_a_stand_in_and_an_abc_is_no_metaclass_conflict(write_migration) -> None:
    """galaxy's models: ``class User(Base, Dictifiable)`` with ``Base`` stood in and
    ``Dictifiable`` an ABC; the class must be made, as the real ``Base`` would allow."""
    body = """
import abc
from myapp_not_installed.db import Base

class Dictifiable(abc.ABC):
    STATES = ("new", "ok")

class User(Base, Dictifiable):
    pass

def upgrade():
    op.create_check_constraint("ck_user_state", "users", f"state IN {User.STATES}")
"""
    _, upgrade, _ = capture_body(write_migration, body)
    assert upgrade.failure is None and upgrade.guesses == []
    assert [e.sql for e in upgrade.judged] == [
        "ALTER TABLE users ADD CONSTRAINT ck_user_state CHECK (state IN ('new', 'ok'));"
    ]


def test_a_class_of_stand_ins_can_be_a_declarative_base(write_migration) -> None:
    """watcher's models: ``WatcherBase(ModelBase, TimestampMixin)`` from oslo_db, which is not
    installed, then ``declarative_base(cls=WatcherBase)``; with a metaclass of migsafe's on
    the stand-ins' classes, that was a metaclass conflict (SQLAlchemy's is another)."""
    body = """
from sqlalchemy import orm
from myapp_not_installed.db import models

class WatcherBase(models.ModelBase, models.TimestampMixin):
    metadata = None

Base = orm.declarative_base(cls=WatcherBase)

class Audit(Base):
    __tablename__ = "audits"
    id = sa.Column(sa.Integer, primary_key=True)
    strategy_id = sa.Column(sa.Integer)

def upgrade():
    op.execute(sa.update(Audit).values(strategy_id=Audit.id))
"""
    _, upgrade, _ = capture_body(write_migration, body)
    assert upgrade.failure is None and upgrade.guesses == []
    assert [e.sql for e in upgrade.judged] == ["UPDATE audits SET strategy_id=audits.id;"]


def test_a_model_of_a_declarative_base_and_a_stand_in_mixin_is_mapped(write_migration) -> None:
    """cloudkitty's ``class State(Base, models.ModelBase)``, oslo.db stood in: the stand-in's
    class takes SQLAlchemy's declarative metaclass from ``Base``, without being set up as
    a mapped class of its own, and ``State`` is mapped as usual."""
    body = """
from sqlalchemy import orm
from myapp_not_installed.db import models

Base = orm.declarative_base()

class State(Base, models.ModelBase):
    __tablename__ = "states"
    id = sa.Column(sa.Integer, primary_key=True)

def upgrade():
    for name, table in Base.metadata.tables.items():
        op.create_index(f"ix_{name}_id", name, ["id"])
"""
    _, upgrade, _ = capture_body(write_migration, body)
    assert upgrade.failure is None and upgrade.guesses == []
    assert [e.sql for e in upgrade.judged] == ["CREATE INDEX ix_states_id ON states (id);"]


def test_a_failure_no_stand_in_is_behind_does_not_blame_them(write_migration) -> None:
    """A table executed as if it were a statement is refused by SQLAlchemy whatever was
    stood in: the notice says what failed, and leaves the stood-in modules out of it."""
    path = write_migration(
        "from myapp_not_installed import helpers\n\n"
        "def upgrade():\n"
        "    helpers.log('start')\n"
        "    op.get_bind().execute(sa.table('t'))\n"
    )
    result = command.check([path])
    (notice,) = [d.message for d in result.diagnostics]
    assert notice.startswith("upgrade() raised ObjectNotExecutableError")
    assert "stood in" not in notice
    path.write_text(path.read_text().replace("sa.table('t')", "sa.select(helpers.COLUMN)"))
    (notice,) = [d.message for d in command.check([path]).diagnostics]
    assert "(myapp_not_installed stood in: no module named 'myapp_not_installed')" in notice


def test_a_class_on_a_stood_in_base_refused_by_sqlalchemy_names_the_stand_in(
    write_migration,
) -> None:
    """freshmaker's ``Event(db.Model)``, with flask not installed: SQLAlchemy refuses the
    class in ``sa.update(Event)``, and the notice says what was stood in behind it."""
    path = write_migration(
        "from shop_models import Event\n\n"
        "def upgrade():\n"
        "    op.execute(sa.update(Event).values(state=1))\n"
    )
    project = path.parent.parent  # its alembic.ini puts the project on the import path
    (project / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s\n")
    (project / "env.py").write_text("")
    (project / "shop_models.py").write_text(
        "from flask_not_installed import db\n\n"
        "class Event(db.Model):\n"
        "    __tablename__ = 'events'\n"
    )
    (notice,) = [d.message for d in command.check([project]).diagnostics]
    assert "got <class 'shop_models.Event'>" in notice
    assert "(flask_not_installed stood in: no module named 'flask_not_installed')" in notice


def test_arithmetic_and_formatting_on_a_stand_in_give_a_stand_in(write_migration) -> None:
    """neutron's helpers raise ``RuntimeError(_("%s cannot be called while in offline mode")
    % name)`` with oslo_i18n stood in: the message is a stand-in, not a TypeError that reads
    as migsafe's own; a length computed from a stood-in constant is as unknown as the
    constant, and the statement stays exact."""
    body = """
from myapp_not_installed import _, constants

def refuse_offline():
    raise RuntimeError(_("%s cannot be called while in offline mode") % "has_table")

def upgrade():
    op.add_column("ports", sa.Column("name", sa.String(constants.SIZE * 2)))
    refuse_offline()
"""
    _, upgrade, _ = capture_body(write_migration, body)
    assert [e.sql for e in upgrade.judged] == [
        f"ALTER TABLE ports ADD COLUMN name VARCHAR({UNKNOWN_MODIFIER});"
    ]
    assert upgrade.failure is not None
    assert upgrade.failure.message == (
        "upgrade() raised RuntimeError: myapp_not_installed._() % ..."
    )


def test_a_string_added_to_a_stand_in_gives_a_stand_in(write_migration) -> None:
    """reana-db's ``SHARED_VOLUME_PATH + os.sep + workflow.c.workspace_path`` with the
    application not installed: the path is unknown, the UPDATE's shape is not."""
    body = """
import os
from myapp_not_installed.config import SHARED_VOLUME_PATH

workflow = sa.table("workflow", sa.column("workspace_path", sa.String))

def upgrade():
    path = SHARED_VOLUME_PATH + os.sep + workflow.c.workspace_path
    op.execute(workflow.update().values(workspace_path=path))
    op.execute("SELECT 1")  # after
"""
    _, upgrade, _ = capture_body(write_migration, body)
    assert upgrade.failure is None
    assert [e.sql for e in upgrade.judged][-1] == "SELECT 1;"
    assert "|| workflow.workspace_path" in upgrade.judged[0].sql


def test_a_stood_in_decorator_keeps_what_it_decorates(write_migration) -> None:
    """mailman decorates its helpers and types with atpublic's ``@public``, not installed:
    the decorated function and class are the migration's own, and run as written. Called
    with a function as its argument, a stand-in gives a stand-in as before."""
    body = """
from myapp_not_installed import public, register

@public
def is_sqlite(bind):
    return bind.dialect.name == "sqlite"

@public
class Label(sa.types.TypeDecorator):
    impl = sa.String(40)
    cache_ok = True

def upgrade():
    if not is_sqlite(op.get_bind()):
        op.add_column("t", sa.Column("label", Label()))
    registered = register(is_sqlite)
"""
    _, upgrade, _ = capture_body(write_migration, body)
    assert upgrade.failure is None and upgrade.guesses == []
    assert [e.sql for e in upgrade.judged] == ["ALTER TABLE t ADD COLUMN label VARCHAR(40);"]


def test_a_stood_in_decorator_keeps_a_classmethod_of_an_enum(write_migration) -> None:
    """airflow's ``WeightRule(str, Enum)`` caches a classmethod with methodtools, not
    installed: the stand-in the decorator gave was one more member of the enum, calling it
    raised, and airflow's configuration module, which every migration reading a setting
    imports, was stood in whole."""
    body = """
import enum
from myapp_not_installed import methodtools

class Rule(str, enum.Enum):
    UP = "up"
    DOWN = "down"

    @methodtools.lru_cache(maxsize=None)
    @classmethod
    def all_rules(cls):
        return sorted(cls.__members__)

def upgrade():
    op.create_table("t", sa.Column("rule", sa.Enum(*Rule.all_rules(), name="rule")))
"""
    _, upgrade, _ = capture_body(write_migration, body)
    assert upgrade.failure is None and upgrade.guesses == []
    assert upgrade.judged[0].sql == "CREATE TYPE rule AS ENUM ('DOWN', 'UP')"


def test_a_table_a_key_refers_to_exists(write_migration) -> None:
    """mailman's history starts after ``create_all()`` made ``domain``, and vmware-nsx's keys
    refer to neutron's tables: a table a key refers to exists, its columns not known. Its
    keys are reflected (vmware-nsx looks a key's name up before dropping it), and so is the
    table when SQLAlchemy follows them, with the notice of a partial answer."""
    write_migration(
        """
def upgrade():
    op.create_table(
        "domain_owner",
        sa.Column("domain_id", sa.Integer, sa.ForeignKey("domain.id"), primary_key=True),
    )
""",
        revision="a1",
    )
    path = write_migration(
        """
def upgrade():
    inspector = sa.inspect(op.get_bind())
    assert inspector.has_table("domain")
    (key,) = inspector.get_foreign_keys("domain_owner")
    op.drop_constraint(key["name"], "domain_owner", type_="foreignkey")  # drop
""",
        revision="a2",
        down_revision="a1",
    )
    reflecting = write_migration(
        """
def upgrade():
    sa.MetaData().reflect(bind=op.get_bind())  # reflect
""",
        revision="a3",
        down_revision="a2",
    )
    result = command.check([path.parent])
    judged = {(f.rule, f.line) for f in result.findings if f.path.name == path.name}
    assert ("drop-constraint", line_of(path, "# drop")) in judged
    assert [d.message for d in result.diagnostics if d.path.name == path.name] == []
    (notice,) = [d for d in result.diagnostics if d.path.name == reflecting.name]
    assert notice.line == line_of(reflecting, "# reflect")
    assert notice.message.startswith('upgrade() reflects table "domain", which no revision')


def test_a_default_of_a_class_on_a_stood_in_base_is_not_what_an_instance_holds(
    write_migration,
) -> None:
    """letta's pydantic ``Settings`` (pydantic_settings not installed) declares ``pg_uri =
    None``; pydantic would fill it from the environment. Every PostgreSQL-only revision
    returned early unseen: the branch on it is noticed now. What the class's own
    ``__init__`` sets, and methods, are as written."""
    body = """
from settings_lib_not_installed import BaseSettings

class Settings(BaseSettings):
    pg_uri = None

    def __init__(self):
        self.echo = False

    def engine(self):
        return "postgresql"

settings = Settings()

def upgrade():
    if settings.echo or settings.engine() != "postgresql":
        return
    if not settings.pg_uri:  # branch
        return
    op.create_index("ix_t_x", "t", ["x"])
"""
    path, upgrade, _ = capture_body(write_migration, body)
    (guess,) = upgrade.guesses
    assert guess.line == line_of(path, "# branch")
    assert guess.name.endswith(".Settings().pg_uri")
    assert guess.modules == (
        ("settings_lib_not_installed", "no module named 'settings_lib_not_installed'"),
    )


def test_a_table_in_a_stood_in_schema_is_in_the_schema_named_for_it(write_migration) -> None:
    """c2cgeoportal builds ``sa.Table("role", MetaData(), ..., schema=config["schema"])``
    with ``c2c`` not installed, and asks ``has_table(..., schema=schema)``: the table is in
    the schema its operations' ``schema=`` names (SQLAlchemy refuses a schema that is not a
    string), and the question is no crash."""
    body = """
from c2c_not_installed import config

def upgrade():
    schema = config["schema"]
    op.create_table("role", sa.Column("name", sa.Unicode), schema=schema)
    role = sa.Table("role", sa.MetaData(), sa.Column("name", sa.Unicode), schema=schema)
    op.bulk_insert(role, [{"name": "admin"}])
    if sa.inspect(op.get_bind()).has_table("role", schema=schema):
        op.execute("SELECT 1")
    if "theme" in sa.inspect(op.get_bind()).get_table_names(schema=schema):
        op.execute("SELECT 2")
"""
    _, upgrade, _ = capture_body(write_migration, body)
    assert upgrade.failure is None and upgrade.guesses == []
    assert [e.sql for e in upgrade.judged][1:] == [
        "INSERT INTO config_schema.role (name) VALUES ('admin');",
        "SELECT 1;",
        "SELECT 2;",  # judged where the table it asked for exists
    ]
    assert [asked.table for asked in upgrade.tables_assumed] == [("config_schema", "theme")]


def test_a_collation_a_stand_in_gives_is_named_for_it(write_migration) -> None:
    """airflow's ``StringID()`` takes its collation from its configuration, stood in: the
    CREATE TABLE of its columns could not be rendered, the table was not in the schema, and
    what later revisions did to it was guessed. Its columns keep their length when the type
    is copied (``with_variant()``, an ALTER of it)."""
    body = """
from myapp_not_installed import conf

def upgrade():
    name = sa.String(length=250, collation=conf.get("collation_for_ids"))
    op.create_table("task", sa.Column("name", name.with_variant(sa.Text(), "mysql")))
    op.alter_column("task", "name", existing_type=name, type_=sa.String(length=100))
"""
    _, upgrade, _ = capture_body(write_migration, body)
    assert upgrade.failure is None and upgrade.exact
    assert [e.sql for e in upgrade.judged] == [
        "CREATE TABLE task (\n    name VARCHAR(250) COLLATE get\n);",
        "ALTER TABLE task ALTER COLUMN name TYPE VARCHAR(100);",
    ]


def test_a_stood_in_server_default_is_an_unknown_string(write_migration) -> None:
    """tap-as-a-service: ``server_default=constants.ACTIVE`` with neutron_lib not installed,
    which SQLAlchemy refuses for not being a string: the statement is exact but for the
    default's value, and the rest of upgrade() is judged."""
    body = """
from neutron_lib_not_installed import constants

def upgrade():
    op.add_column("tap_services", sa.Column("status", sa.String(16),
                                            server_default=constants.ACTIVE, nullable=False))
    op.execute("SELECT 1")
"""
    _, upgrade, _ = capture_body(write_migration, body)
    assert upgrade.failure is None and upgrade.guesses == []
    (add, after) = [e.sql for e in upgrade.judged]
    assert add.startswith("ALTER TABLE tap_services ADD COLUMN status VARCHAR(16) DEFAULT '")
    assert after == "SELECT 1;"


@pytest.mark.parametrize(
    "altered",
    [
        'op.add_column("molecule", sa.Column("fragments", sa.JSON()))',
        # an index says the table exists (lbaas indexes neutron's vips): no NoSuchTableError
        'op.create_index("ix_molecule_hash", "molecule", ["hash"])',
    ],
)
def test_reflecting_a_table_the_history_only_altered_is_noticed(
    altered: str, write_migration
) -> None:
    """qcfractal reads the columns of ``molecule``, which its application made and its
    history only altered: the answer holds the columns the history added, and says so.
    Where the table also holds the columns the script names, it does more (it drops one):
    the path it takes is a guess, so nothing after it is judged."""
    write_migration(f"\ndef upgrade():\n    {altered}\n", revision="a1")
    path = write_migration(
        """
def upgrade():
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("molecule")}  # here
    if "identifiers" in columns:
        op.drop_column("molecule", "identifiers")
    op.create_index("ix_molecule_fragments", "molecule", ["fragments"])
""",
        revision="a2",
        down_revision="a1",
    )
    notices = [(line, m) for name, line, m in _notices(path.parent) if name == path.name]
    assert notices == [
        (
            line_of(path, "# here"),
            'upgrade() reflects table "molecule", which no revision creates (it only alters '
            "it): of its columns only those the history added are known, so from this line on "
            "it is not checked",
        )
    ]
    result = command.check([path.parent])
    judged = [f.rule for f in result.findings if f.path.name == path.name]
    assert "create-index-not-concurrently" not in judged


def _made_outside_then(write_migration, body: str) -> Path:
    """``runs`` made by the application (a1 only adds a column to it), then ``body``."""
    write_migration(
        '\ndef upgrade():\n    op.add_column("runs", sa.Column("status", sa.Text()))\n',
        revision="a1",
    )
    return write_migration(body, revision="a2", down_revision="a1")


def test_a_column_added_if_missing_is_judged_on_a_table_made_outside(write_migration) -> None:
    """dagster adds a column and an index to ``runs`` (made by its application) only if
    they are not there yet. Where the table holds only what the history gave it, both are
    made; where it also holds every name the script spells, neither is: the first run does
    all the second does, so it is judged, with nothing to notice. Its downgrade drops them
    where they exist, which the upgrade made known: no notice either."""
    path = _made_outside_then(
        write_migration,
        """
def upgrade():
    inspector = sa.inspect(op.get_bind())
    if "runs" in inspector.get_table_names():
        columns = [c.get("name") for c in inspector.get_columns("runs")]
        indexes = [i.get("name") for i in inspector.get_indexes("runs")]
        if "partition" not in columns:
            op.add_column("runs", sa.Column("partition", sa.Text()))
        if "idx_run_partitions" not in indexes:
            op.create_index("idx_run_partitions", "runs", ["partition"])

def downgrade():
    inspector = sa.inspect(op.get_bind())
    columns = [c.get("name") for c in inspector.get_columns("runs")]
    indexes = [i.get("name") for i in inspector.get_indexes("runs")]
    if "idx_run_partitions" in indexes:
        op.drop_index("idx_run_partitions", "runs")
    if "partition" in columns:
        op.drop_column("runs", "partition")
""",
    )
    assert _notices(path.parent) == []
    result = command.check([path.parent])
    judged = {(f.rule, f.line) for f in result.findings if f.path.name == path.name}
    assert ("create-index-not-concurrently", line_of(path, "op.create_index")) in judged


@pytest.mark.parametrize(
    "names",
    [
        # a name the module makes as it is imported: among its variables
        'LEGACY = "_".join(["old", "mode"])',
        # a unique index on a column the script names: the world where indexes are unique
        "LEGACY = None",
    ],
)
def test_a_path_only_a_column_made_outside_takes_keeps_its_notice(
    names: str, write_migration
) -> None:
    """Where ``runs`` holds what the script names (a column from a module variable, a
    unique index on ``mode``), the migration drops it: that path is not the one judged, so
    the notice stays, and nothing after the reflection is judged."""
    path = _made_outside_then(
        write_migration,
        f"""
{names}

def upgrade():
    inspector = sa.inspect(op.get_bind())
    columns = [c["name"] for c in inspector.get_columns("runs")]  # here
    if LEGACY and LEGACY in columns:
        op.drop_column("runs", LEGACY)
    unique = [i for i in inspector.get_indexes("runs") if i["unique"]
              and i["column_names"] == ["mode"]]
    if unique:
        op.drop_index(unique[0]["name"], "runs")
    op.create_index("ix_runs_status", "runs", ["status"])
""",
    )
    notices = [(line, m) for name, line, m in _notices(path.parent) if name == path.name]
    assert [line for line, _ in notices] == [line_of(path, "# here")]
    result = command.check([path.parent])
    assert "create-index-not-concurrently" not in {f.rule for f in result.findings}


def test_a_world_where_a_reflection_never_ends_keeps_the_notice(write_migration) -> None:
    """A migration that waits for a column to go (``while "legacy" in columns``) never ends
    where a table made outside the history holds it: that world is given 2 s, and then the
    first run stands with its notice, rather than the script timing out."""
    path = _made_outside_then(
        write_migration,
        """
def upgrade():
    inspector = sa.inspect(op.get_bind())
    columns = [c["name"] for c in inspector.get_columns("runs")]  # here
    while "legacy" in columns:
        columns = [c["name"] for c in inspector.get_columns("runs")]
    op.add_column("runs", sa.Column("mode", sa.Text()))
""",
    )
    started = time.monotonic()
    notices = [(line, m) for name, line, m in _notices(path.parent) if name == path.name]
    assert time.monotonic() - started < 20
    assert [line for line, _ in notices] == [line_of(path, "# here")]


def test_tables_reflected_on_one_line_are_one_notice(write_migration) -> None:
    """zenml reflects its whole schema with ``MetaData().reflect()``: one notice for the
    line, naming the tables the history only altered."""
    write_migration(
        """
def upgrade():
    op.add_column("stack", sa.Column("labels", sa.JSON()))
    op.add_column("user", sa.Column("email", sa.Text()))
""",
        revision="a1",
    )
    path = write_migration(
        """
def upgrade():
    sa.MetaData().reflect(bind=op.get_bind())
""",
        revision="a2",
        down_revision="a1",
    )
    notices = [m for name, _, m in _notices(path.parent) if name == path.name]
    assert notices == [
        'upgrade() reflects tables "stack" and "user", which no revision creates (it only '
        "alters them): of their columns only those the history added are known, so from "
        "this line on it is not checked"
    ]


def test_after_a_revision_not_checked_to_its_end_either_reason_is_said(write_migration) -> None:
    """mailman's tables are made by its application, and a revision before was not captured
    to its end: the table may be one no revision makes, or one that revision made."""
    write_migration(
        """
def upgrade():
    op.add_column("mailinglist", sa.Column("mode", sa.Text()))
    raise RuntimeError("needs the application")
""",
        revision="a1",
    )
    path = write_migration(
        """
def upgrade():
    sa.Table("mailinglist", sa.MetaData(), autoload_with=op.get_bind())
""",
        revision="a2",
        down_revision="a1",
    )
    notices = [m for name, _, m in _notices(path.parent) if name == path.name]
    assert notices == [
        'upgrade() reflects table "mailinglist", which no revision before it is known to '
        "create (it only alters it, or a revision before it not checked to its end made it): "
        "of its columns only those the history added are known, so from this line on it is "
        "not checked"
    ]


def test_an_enum_with_stood_in_labels_is_made_with_its_table(write_migration) -> None:
    """neutron's ``sa.Enum(constants.EGRESS_DIRECTION, constants.INGRESS_DIRECTION,
    name="directions")`` with neutron_lib not installed: SQLAlchemy refused the labels, and
    the table and its type were never made. The type is made, its labels unknown."""
    body = """
from neutron_lib_not_installed import constants

def upgrade():
    op.create_table(
        "qos_rules",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("direction", sa.Enum(constants.EGRESS, constants.INGRESS, name="directions"),
                  server_default=constants.EGRESS),
    )
"""
    _, upgrade, _ = capture_body(write_migration, body)
    assert upgrade.failure is None and upgrade.guesses == [] and upgrade.exact
    assert [e.sql.split(" (")[0] for e in upgrade.judged] == [
        "CREATE TYPE directions AS ENUM",
        "CREATE TABLE qos_rules",
    ]


@pytest.mark.parametrize(
    "how",
    [
        "op.bulk_insert(rules, [{{'direction': {value}}}])",
        "op.get_bind().execute(rules.insert().values(direction={value}))",
    ],
)
def test_a_stood_in_value_of_an_enum_with_stood_in_labels_is_inserted(
    write_migration, how: str
) -> None:
    """neutron inserts its default security group rules with ``direction=
    constants.EGRESS_DIRECTION``, the label the enum was made with: SQLAlchemy refused the
    value (not among the labels) and upgrade() raised. It is the label the enum took."""
    body = f"""
from neutron_lib_not_installed import constants

def upgrade():
    rules = op.create_table(
        "rules",
        sa.Column("direction", sa.Enum(constants.EGRESS, constants.INGRESS, name="directions")),
    )
    {how.format(value="constants.EGRESS")}
    op.create_index("ix_rules_direction", "rules", ["direction"])
"""
    _, upgrade, _ = capture_body(write_migration, body)
    assert upgrade.failure is None
    (inserted,) = [e.sql for e in upgrade.judged if e.sql.startswith("INSERT")]
    assert inserted.startswith("INSERT INTO rules (direction) VALUES (")
    assert upgrade.judged[-1].sql == "CREATE INDEX ix_rules_direction ON rules (direction);"


def test_an_operation_that_cannot_be_rendered_leaves_the_schema_unknown(
    write_migration,
) -> None:
    """What it would have made or changed is not in the schema the next revisions see."""
    body = """
def upgrade():
    op.drop_column("spawners", sa.Column("user_options"))
"""
    _, upgrade, _ = capture_body(write_migration, body)
    assert upgrade.failure is None and not upgrade.exact


def test_arguments_env_py_passes_to_the_functions_stand_in(write_migration) -> None:
    """trulens' env.py calls ``context.run_migrations(config=config)`` and its functions are
    ``upgrade(config)``: Alembic passes the keyword on, check does not run env.py. The
    argument stands in, and what the function does with it is noticed as any stand-in."""
    body = """
def upgrade(config):
    op.add_column("feedbacks", sa.Column("x", sa.Integer()))
    prefix = config.get_main_option("trulens.table_prefix") or ""  # branch
    op.create_index("ix_feedbacks_x", prefix + "feedbacks", ["x"])
"""
    path, upgrade, _ = capture_body(write_migration, body)
    assert upgrade.failure is None
    assert [e.sql for e in upgrade.judged] == ["ALTER TABLE feedbacks ADD COLUMN x INTEGER;"]
    (guess,) = upgrade.guesses
    assert guess.line == line_of(path, "# branch")
    assert guess.name == "context.run_migrations(config=...).get_main_option()"
    assert guess.modules == (
        ("context.run_migrations()", "env.py passes them, and check does not run env.py"),
    )


def test_options_env_py_passes_to_configure_stand_in(write_migration) -> None:
    """aiida's env.py passes ``aiida_profile=`` to ``context.configure()``, and its
    migrations read ``op.get_context().opts["aiida_profile"]``: a KeyError stopped ten of
    them before their DDL. The option stands in; ``opts.get()`` of one still finds none."""
    body = """
def upgrade():
    profile = op.get_context().opts["aiida_profile"]
    assert op.get_context().opts.get("aiida_profile") is None
    op.add_column("db_dblog", sa.Column("uuid", sa.Text()))
    op.drop_column("db_dblog", "objpk")
    if profile.storage_backend == "core.psql_dos":  # branch
        op.drop_column("db_dblog", "objname")
"""
    path, upgrade, _ = capture_body(write_migration, body)
    assert upgrade.failure is None
    assert [e.sql for e in upgrade.judged] == [
        "ALTER TABLE db_dblog ADD COLUMN uuid TEXT;",
        "ALTER TABLE db_dblog DROP COLUMN objpk;",
    ]
    (guess,) = upgrade.guesses
    assert guess.line == line_of(path, "# branch")
    assert guess.modules == (
        ("context.configure()", "env.py passes it, and check does not run env.py"),
    )


@pytest.mark.parametrize(
    "definition",
    [
        "def upgrade(*, config):",
        "@logged\ndef upgrade(config):",  # functools.wraps: the wrapper takes *args
    ],
)
def test_arguments_env_py_passes_stand_in_however_the_function_takes_them(
    write_migration, definition: str
) -> None:
    body = f"""
import functools

def logged(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        return function(*args, **kwargs)
    return wrapper

{definition}
    op.add_column("feedbacks", sa.Column("x", sa.Integer()))
    config.get_main_option("trulens.table_prefix")
"""
    _, upgrade, _ = capture_body(write_migration, body)
    assert upgrade.failure is None
    assert [e.sql for e in upgrade.judged] == ["ALTER TABLE feedbacks ADD COLUMN x INTEGER;"]


MULTIDB = """
def upgrade(engine_name):
    globals()[f"upgrade_{engine_name}"]()

def downgrade(engine_name):
    globals()[f"downgrade_{engine_name}"]()

def upgrade_registrar():
    op.create_index("ix_agents_ip", "agents", ["ip"])  # registrar

def downgrade_registrar():
    op.drop_index("ix_agents_ip", table_name="agents")

def upgrade_verifier():
    op.alter_column("verifiers", "name", new_column_name="label")  # verifier

def downgrade_verifier():
    op.alter_column("verifiers", "label", new_column_name="name")
"""


def test_alembics_multi_database_template_runs_for_each_database(write_migration) -> None:
    """keylime's env.py is Alembic's multidb template: ``upgrade(engine_name)`` once for
    each database alembic.ini's ``databases`` names. Each is checked; without alembic.ini
    the notice says how to give it (all 40 of keylime's revisions passed unchecked)."""
    path = write_migration(MULTIDB)
    project = path.parent.parent
    (project / "env.py").write_text("")
    (project / "alembic.ini").write_text(
        "[alembic]\nscript_location = %(here)s\ndatabases = registrar, verifier\n"
    )
    result = command.check([project])
    assert not result.diagnostics
    assert {(f.rule, f.line) for f in result.findings if f.rule != "lock-timeout-missing"} == {
        ("create-index-not-concurrently", line_of(path, "# registrar")),
        ("rename-column", line_of(path, "# verifier")),
        ("drop-index-not-concurrently", line_of(path, "drop_index")),
    }
    notices = [d.message for d in command.check([path.parent]).diagnostics]
    assert any("-c alembic.ini" in notice for notice in notices)


@pytest.mark.parametrize(
    "convention",
    [
        '{"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s", '
        '"uq": "uq_%(table_name)s_%(column_0_name)s"}',
        'dict(fk="fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s", '
        'uq="uq_%(table_name)s_%(column_0_name)s")',
    ],
)
def test_constraints_made_without_a_name_take_env_pys_naming_convention(
    write_migration, convention: str
) -> None:
    """ziggurat_foundations' env.py gives target_metadata a naming convention, and Alembic
    names by it what an operation makes without a name; its later revisions drop them by
    those names. They were named as PostgreSQL would name them."""
    path = write_migration("""
def upgrade():
    op.create_table("items", sa.Column("id", sa.Integer()), sa.Column("code", sa.Text(),
                    unique=True), sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id")))
    op.create_foreign_key(None, "items", "owners", ["owner_id"], ["id"])
""")
    project = path.parent.parent
    (project / "models.py").write_text(f"NAMING_CONVENTION = {convention}\n")
    (project / "env.py").write_text(
        "from sqlalchemy import MetaData\nfrom models import NAMING_CONVENTION\n"
        "target_metadata = MetaData(naming_convention=NAMING_CONVENTION)\n"
    )
    environment = check.project_environment(load_project([path.parent]))
    with OfflineCapturer(
        Config(), 15, naming_convention=dict(environment.naming_convention)
    ) as capturer:
        upgrade = capturer.capture(read_script(path)).upgrade
    sql = " ".join(e.sql for e in upgrade.judged)
    assert "CONSTRAINT uq_items_code UNIQUE (code)" in sql
    assert "CONSTRAINT fk_items_user_id_users FOREIGN KEY(user_id)" in sql
    assert "ADD CONSTRAINT fk_items_owner_id_owners FOREIGN KEY(owner_id)" in sql


def test_a_schema_dump_under_set_search_path_makes_its_tables_in_that_schema(
    write_migration,
) -> None:
    """pypnusershub and taxhub run their schema dumps, which set the search path first:
    the constraints and indexes on tables the same SQL makes were judged as if on other,
    live tables in ``public`` (60 wrong findings), and the next revisions reflected tables
    they could not find."""
    write_migration(
        """
def upgrade():
    op.execute(\"\"\"
SET search_path = app, pg_catalog, public;
CREATE SCHEMA app;
CREATE TABLE orgs (id integer NOT NULL);
ALTER TABLE ONLY orgs ADD CONSTRAINT pk_orgs PRIMARY KEY (id);
CREATE TABLE users (id integer NOT NULL, org_id integer);
ALTER TABLE ONLY users ADD CONSTRAINT fk_users_org FOREIGN KEY (org_id) REFERENCES orgs (id);
CREATE INDEX ix_users_org ON users (org_id);
\"\"\")
"""
    )
    path = write_migration(
        """
def upgrade():
    columns = [c["name"] for c in sa.inspect(op.get_bind()).get_columns("users", schema="app")]
    assert columns == ["id", "org_id"]
    op.create_index("ix_users_id", "users", ["id"], schema="app")  # live by now
""",
        revision="b2",
        down_revision="a1",
    )
    result = command.check([path.parent])
    assert not result.diagnostics
    locks = {"create-index-not-concurrently", "add-foreign-key-validated",
             "add-unique-constraint", "work-after-access-exclusive-lock"}  # fmt: skip
    assert {(f.path.name, f.rule) for f in result.findings if f.rule in locks} == {
        ("b2.py", "create-index-not-concurrently")
    }


def test_a_stood_in_helper_called_for_its_effect_is_noticed(write_migration) -> None:
    """networking-sfc calls neutron's ``migration.remove_foreign_keys(...)`` with neutron not
    installed: whatever it does to the schema is not known. That is said, the capture is
    not exact, and the statements after it, the migration's own, are still judged. A call
    whose result is used, or a logger's, is no such thing."""
    body = """
from myapp_not_installed import LOG, migration, types

def upgrade():
    LOG.info("dropping keys")
    migration.remove_foreign_keys("sfc_path_nodes", [])  # effect
    op.add_column("sfc_path_nodes", sa.Column("uuid", types.UUIDType()))
    op.create_index("ix_nodes_uuid", "sfc_path_nodes", ["uuid"])
"""
    path, upgrade, _ = capture_body(write_migration, body)
    (guess,) = upgrade.guesses
    assert (guess.line, guess.reach) == (line_of(path, "# effect"), Reach.EFFECT)
    assert len(upgrade.judged) == 2 and not upgrade.exact
    result = command.check([path])
    (notice,) = [d.message for d in result.diagnostics]
    assert notice == (
        "upgrade() calls myapp_not_installed.migration.remove_foreign_keys() "
        "(myapp_not_installed stood in: no module named 'myapp_not_installed'): what it does "
        "is not known, so it is not checked; the statements after it are"
    )
    assert "create-index-not-concurrently" in {f.rule for f in result.findings}


def test_a_stood_in_context_manager_is_noticed_and_its_body_judged(write_migration) -> None:
    """group-based-policy wraps its changes in neutron's ``with
    migration.remove_fks_from_table(...)``, which drops the table's keys and adds them
    back: that is not known, and said; the body is the migration's, and judged."""
    body = """
from myapp_not_installed import migration

def upgrade():
    with migration.remove_fks_from_table("assoc"):  # effect
        op.create_index("ix_assoc_a", "assoc", ["a"])
"""
    path, upgrade, _ = capture_body(write_migration, body)
    (guess,) = upgrade.guesses
    assert (guess.line, guess.reach) == (line_of(path, "# effect"), Reach.EFFECT)
    assert [e.sql for e in upgrade.judged] == ["CREATE INDEX ix_assoc_a ON assoc (a);"]
    (notice,) = [d.message for d in command.check([path]).diagnostics]
    assert notice.startswith(
        "upgrade() uses myapp_not_installed.migration.remove_fks_from_table() as a context manager"
    )


def test_comparing_a_stand_in_is_a_guess_in_the_migration_only(write_migration) -> None:
    """``if settings.VERSION > 2`` is a branch on a value nobody knows; a library comparing
    one (sorting a stood-in with numbers) must not raise TypeError."""
    body = """
import statistics
from myapp_not_installed import settings

POOL = statistics.median([1, settings.POOL_SIZE, 3])

def upgrade():
    op.add_column("t", sa.Column("a", sa.Integer()))
    if settings.VERSION > 2:  # compared
        op.create_index("ix_t_a", "t", ["a"])
"""
    path, upgrade, _ = capture_body(write_migration, body)
    assert upgrade.failure is None
    (guess,) = upgrade.guesses
    assert guess.line == line_of(path, "# compared") and guess.reach is Reach.REST
    assert [e.sql for e in upgrade.judged] == ["ALTER TABLE t ADD COLUMN a INTEGER;"]


@pytest.mark.parametrize(
    "test",
    [
        'settings["use_workflow"] == "kotti:workflow.zcml"',
        'settings["use_workflow"] != "kotti:workflow.zcml"',
        'settings["use_workflow"] in ("a", "b")',
    ],
)
def test_testing_a_stand_in_for_equality_is_a_guess(write_migration, test: str) -> None:
    """Kotti's ``get_settings()['kotti.use_workflow'] == '...'`` took a branch with no word
    of it, and the revision passed as clean although its work was never seen."""
    body = f"""
from myapp_not_installed import settings

def upgrade():
    op.add_column("t", sa.Column("a", sa.Integer()))
    if {test}:  # tested
        return
    op.create_index("ix_t_a", "t", ["a"])
"""
    path, upgrade, _ = capture_body(write_migration, body)
    assert {g.line for g in upgrade.guesses} == {line_of(path, "# tested")}
    assert [e.sql for e in upgrade.judged] == ["ALTER TABLE t ADD COLUMN a INTEGER;"]


def test_branching_on_a_stand_in_is_a_guess_and_ends_what_is_judged(write_migration) -> None:
    body = """
from myapp_not_installed.migration_utils import has_table

def upgrade():
    op.add_column("t", sa.Column("a", sa.Integer()))
    if not has_table("u"):  # guess
        op.create_index("ix_u_a", "u", ["a"])
"""
    path, upgrade, _ = capture_body(write_migration, body)
    (guess,) = upgrade.guesses
    assert guess.line == line_of(path, "# guess")
    assert guess.name == "myapp_not_installed.migration_utils.has_table()"
    assert guess.modules[0][0] == "myapp_not_installed"
    assert [e.sql for e in upgrade.judged] == ["ALTER TABLE t ADD COLUMN a INTEGER;"]
    assert not upgrade.exact  # what it did to the schema after the guess is not known


def test_a_length_from_a_stand_in_leaves_the_statement_exact(write_migration) -> None:
    """neutron's ``sa.String(length=db_const.FQDN_FIELD_SIZE)``: SQLAlchemy writes the
    stand-in's name where the length goes. Only that number is unknown: the statement and
    the ones after it are judged, the column is in the schema later revisions reflect, and
    its type is unknown to rules (``varchar(?)``)."""
    body = """
from myapp_not_installed.db import constants

def upgrade():
    op.create_table("ports", sa.Column("id", sa.Integer))
    op.add_column("ports", sa.Column("dns_name", sa.String(length=constants.FQDN_FIELD_SIZE)))
    op.add_column("ports", sa.Column("cost", sa.Numeric(constants.PRECISION, 2)))
    op.create_index("ix_users_name", "users", ["name"])
"""
    path, upgrade, _ = capture_body(write_migration, body)
    assert not upgrade.guesses and upgrade.exact
    assert [e.sql for e in upgrade.judged[1:3]] == [
        f"ALTER TABLE ports ADD COLUMN dns_name VARCHAR({UNKNOWN_MODIFIER});",
        f"ALTER TABLE ports ADD COLUMN cost NUMERIC({UNKNOWN_MODIFIER}, 2);",
    ]
    (_, node), *_ = upgrade.judged[1].parsed
    column_type = node.cmds[0].def_.typeName
    assert is_unknown_type(column_type) and type_name(column_type) == "varchar(?)"
    ports = upgrade.recorder.catalog.table(("public", "ports"))
    assert ports is not None and type_name(ports.columns["dns_name"].type) == "varchar(?)"
    result = command.check([path])
    assert not result.diagnostics  # nothing to notice: every statement is judged
    assert ("create-index-not-concurrently", line_of(path, "ix_users_name")) in {
        (f.rule, f.line) for f in result.findings
    }


def test_a_schema_from_a_stand_in_is_named_as_the_migration_names_it(write_migration) -> None:
    """c2cgeoportal's ``schema = config["schema"]`` passed to every operation, with c2c not
    installed: SQLAlchemy made the schema an empty name (false sql-does-not-parse errors) or
    failed on ``schema + "." + name``. The operations are exact but for the schema's name,
    which is the same in every revision: ``config_schema``."""
    body = """
from myapp_not_installed.template import config

def upgrade():
    schema = config["schema"]
    op.drop_column("layer", "is_expanded", schema=schema)
    op.create_table("dimension", sa.Column("layer_id", sa.Integer), schema=schema)
    op.create_foreign_key("dimension_layer_id_fkey", "dimension", "layer", ["layer_id"],
                          ["id"], source_schema=schema, referent_schema=schema)
    with op.batch_alter_table("layer", schema=schema) as batch_op:
        batch_op.alter_column("name", nullable=True)
"""
    path, upgrade, _ = capture_body(write_migration, body)
    assert not upgrade.guesses and upgrade.failure is None
    assert [e.sql.split(" (")[0].split(" ADD")[0] for e in upgrade.judged] == [
        "ALTER TABLE config_schema.layer DROP COLUMN is_expanded;",
        "CREATE TABLE config_schema.dimension",
        "ALTER TABLE config_schema.dimension",
        "ALTER TABLE config_schema.layer ALTER COLUMN name DROP NOT NULL;",
    ]
    result = command.check([path])
    assert not result.diagnostics
    assert "sql-does-not-parse" not in {f.rule for f in result.findings}


def test_a_stand_in_written_anywhere_else_is_a_guess(write_migration) -> None:
    """A table named by a stood-in constant: which table it is depends on the real module,
    so that SQL is a guess, noticed and never judged, and so is what follows."""
    body = """
from myapp_not_installed.db import constants

def upgrade():
    op.create_table("ports", sa.Column("id", sa.Integer))
    op.create_table(constants.RULES_TABLE, sa.Column("id", sa.Integer))
    op.create_index("ix_ports_id", "ports", ["id"])
"""
    path, upgrade, _ = capture_body(write_migration, body)
    assert [e.sql.split(" (")[0] for e in upgrade.judged] == ["CREATE TABLE ports"]
    (guess,) = upgrade.guesses
    assert guess.line == line_of(path, "RULES_TABLE") and guess.reach is Reach.REST
    assert guess.how.format(name=guess.name) == (
        "writes myapp_not_installed.db.constants.RULES_TABLE into its SQL"
    )
    (notice,) = [d.message for d in command.check([path]).diagnostics]
    assert notice.startswith(
        "upgrade() writes myapp_not_installed.db.constants.RULES_TABLE into its SQL "
        "(myapp_not_installed stood in: no module named 'myapp_not_installed'): from this "
        "line on it is not checked"
    )


def test_rows_written_with_a_stand_in_s_value_are_judged(write_migration) -> None:
    """trove's, mistral's and ironic's revisions write a value from their configuration,
    which is stood in, into rows: SQLAlchemy writes it as a literal. Only that value is
    unknown, and no rule reads the values a statement writes: every statement is judged,
    the tables created after them are in the schema later revisions see, nothing is
    noticed."""
    body = """
from myapp_not_installed import settings

def upgrade():
    pools = op.create_table("pools", sa.Column("id", sa.String(36)))
    op.bulk_insert(pools, [{"id": settings.CONF["service:central"].default_pool_id}])  # rows
    op.execute(sa.table("pools", sa.column("id", sa.String)).update().values(id=settings.REGION))
    op.create_table("zones", sa.Column("id", sa.Integer), sa.Column("pool_id", sa.String(36)))
    op.create_index("ix_pools_id", "pools", ["id"])
"""
    path, upgrade, _ = capture_body(write_migration, body)
    assert [e.sql.split(" (")[0] for e in upgrade.judged] == [
        "CREATE TABLE pools",
        "INSERT INTO pools",
        # marked as what it is: recipes quote it (ironic's read as the value to write)
        "UPDATE pools SET id='<myapp_not_installed.settings.REGION>';",
        "CREATE TABLE zones",
        "CREATE INDEX ix_pools_id ON pools",
    ]
    assert not upgrade.guesses and upgrade.exact
    assert upgrade.recorder.catalog.table(("public", "zones")) is not None
    assert not command.check([path]).diagnostics


def test_a_type_of_the_application_writing_a_stand_in_confines_the_guess_too(
    tmp_path: Path,
) -> None:
    """designate's UUID type turns the value it is given into text (``str(value)``): that
    is the application's code, but it only decides what one row holds."""
    modules = {
        "myapp_types/__init__.py": (
            "import sqlalchemy as sa\n"
            "class UUID(sa.types.TypeDecorator):\n"
            "    impl = sa.String(36)\n"
            "    cache_ok = True\n"
            "    def process_literal_param(self, value, dialect):\n"
            "        return repr(str(value))\n"
        ),
    }
    upgrade = capture_beside_app(
        tmp_path,
        modules,
        "from myapp_types import UUID\n"
        "from myapp_not_installed import settings\n"
        "def upgrade():\n"
        "    pools = op.create_table('pools', sa.Column('id', UUID))\n"
        "    op.bulk_insert(pools, [{'id': settings.DEFAULT_POOL_ID}])\n"
        "    op.create_table('zones', sa.Column('id', sa.Integer))\n",
    )
    (guess,) = upgrade.guesses
    assert guess.reach is Reach.ROWS and guess.how == "turns {name} into text"
    assert [e.sql.split(" (")[0] for e in upgrade.judged] == [
        "CREATE TABLE pools",
        "CREATE TABLE zones",
    ]


def capture_beside_app(tmp_path: Path, modules: dict[str, str], body: str):
    """The upgrade() capture of a migration whose application's ``modules`` (a path under
    the source root -> its source) can be imported, as in a checkout of its repository."""
    root = tmp_path / "appsrc"
    for name, source in modules.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(source)
    path = tmp_path / "m.py"
    path.write_text(
        "from alembic import op\nimport sqlalchemy as sa\nrevision = 'x'\ndown_revision = None\n"
        + body
    )
    sys.path.insert(0, str(root))
    try:
        upgrade, _ = capture(read_script(path))
    finally:
        sys.path.remove(str(root))
    return upgrade


def test_a_project_module_that_fails_to_import_keeps_what_it_defined(tmp_path: Path) -> None:
    modules = {
        "myapp_half/__init__.py": "import not_installed_dependency.sub\nVALUE = 1\n",
        "myapp_half/migration_utils.py": (
            "import sqlalchemy as sa\n"
            "def table_exists(name, bind):\n"
            "    return name in sa.inspect(bind).get_table_names()\n"
            "raise RuntimeError('needs configuration')\n"
        ),
    }
    upgrade = capture_beside_app(
        tmp_path,
        modules,
        "from myapp_half.migration_utils import table_exists\n"
        "def upgrade():\n"
        "    if not table_exists('t', op.get_bind()):\n"
        "        op.create_table('t', sa.Column('id', sa.Integer))\n",
    )
    assert upgrade.failure is None and upgrade.guesses == []  # the real helper ran
    assert [e.sql for e in upgrade.judged] == ["CREATE TABLE t (\n    id INTEGER\n);"]
    assert "myapp_half" not in sys.modules


def test_what_an_application_module_does_at_import_is_no_guess_of_the_migration(
    tmp_path: Path,
) -> None:
    """zun's migration names ``zun.db.sqlalchemy.models.JSONEncodedDict`` inside upgrade();
    importing that module runs zun's configuration, which branches on a stood-in library.
    That decides what the module defines, not what the migration emits."""
    modules = {
        "myzun/__init__.py": "",
        "myzun/conf.py": (
            "from osprofiler_not_installed import opts\nif opts:\n    PROFILING = True\n"
        ),
        "myzun/models.py": (
            "import sqlalchemy as sa\nfrom myzun import conf\n"
            "class JSONEncodedDict(sa.types.TypeDecorator):\n"
            "    impl = sa.Text\n    cache_ok = True\n"
        ),
    }
    upgrade = capture_beside_app(
        tmp_path,
        modules,
        "import myzun\n"
        "def upgrade():\n"
        "    import myzun.models\n"
        "    op.create_table('container', sa.Column('env', myzun.models.JSONEncodedDict()))\n",
    )
    assert upgrade.failure is None and upgrade.guesses == []
    assert [e.sql for e in upgrade.judged] == ["CREATE TABLE container (\n    env TEXT\n);"]


def test_a_project_module_that_exits_at_import_stands_in(tmp_path: Path) -> None:
    """open-webui's settings module exits when a secret is not set: the migration that
    imports it is still captured, and the notice says why the module stood in. What the
    statement that exited would have defined stands in; a statement after it that does not
    need it still runs."""
    modules = {
        "myapp_exits/__init__.py": "",
        "myapp_exits/config.py": (
            "import sys\nTABLE = 'users'\nKindType = sys.exit('SECRET_KEY is not set')\n"
            "KIND = 'kind'\n"
        ),
    }
    upgrade = capture_beside_app(
        tmp_path,
        modules,
        "from myapp_exits.config import TABLE, KindType, KIND\n"
        "def upgrade():\n"
        "    op.create_table(TABLE, sa.Column('id', sa.Integer), sa.Column(KIND, KindType()))\n",
    )
    assert upgrade.failure is None
    (created,) = [e.sql for e in upgrade.judged]
    assert created.startswith("CREATE TABLE users (\n    id INTEGER, \n    kind migsafe_unknown.")
    assert upgrade.stood_in == (
        ("myapp_exits.config", "importing it called sys.exit('SECRET_KEY is not set')"),
    )


def test_classes_after_the_line_that_raised_are_still_defined(tmp_path: Path) -> None:
    """mlflow's models module builds its run statuses from protobuf enums near its top; with
    protobuf not installed that line raises, yet the model classes after it, whose table
    names the migrations use, are defined as the real import defines them. A class that
    needs what the line lost, and a function (it would meet the loss only when called),
    stand in; so does what comes after them and needs them."""
    modules = {
        "myapp_models/__init__.py": "",
        "myapp_models/models.py": (
            "from __future__ import annotations\n"
            "import sqlalchemy as sa\n"
            "from sqlalchemy.orm import declarative_base\n"
            "import protobuf_not_installed as pb\n"
            "Base = declarative_base()\n"
            "STATUSES = dict(zip(pb.Status.keys(), pb.Status.values()))\n"
            "SCHEDULED = STATUSES['SCHEDULED']\n"  # none: a KeyError
            "class SqlRun(Base):\n"
            "    __tablename__ = 'runs'\n"
            "    id = sa.Column(sa.Integer, primary_key=True)\n"
            "    status = sa.Column(sa.String(20), default=SCHEDULED)\n"
            "class SqlTag(Base):\n"
            "    __tablename__ = 'tags'\n"
            "    key: str = sa.Column(sa.String(250), primary_key=True)\n"
            "def utcnow():\n"
            "    return pb.now()\n"
            "TAG_TABLE = SqlTag.__tablename__\n"
            "RUN_TABLE = SqlRun.__tablename__\n"
        ),
    }
    upgrade = capture_beside_app(
        tmp_path,
        modules,
        "from myapp_models import models\n"
        "def upgrade():\n"
        "    op.create_table(models.TAG_TABLE, sa.Column('key', sa.String(250)))\n"
        "    op.create_index('ix_tags_key', models.SqlTag.__tablename__, ['key'])\n"
        "    assert not isinstance(models.SqlTag, type(models.SqlRun))\n"
        "    assert type(models.utcnow) is type(models.RUN_TABLE) is type(models.SqlRun)\n",
    )
    assert upgrade.failure is None, upgrade.failure
    assert [e.sql for e in upgrade.judged] == [
        "CREATE TABLE tags (\n    key VARCHAR(250)\n);",
        "CREATE INDEX ix_tags_key ON tags (key);",
    ]


def test_what_comes_after_the_line_that_raised_may_not_hang_or_end_the_worker(
    tmp_path: Path,
) -> None:
    """A module that raises to stop its import, before work the real import never does: a
    call for its effect (``os._exit()``) or a loop is not run, a definition whose value
    never comes (waiting for a service) gets 2 s, one that ends the process is refused;
    the rest stays stood in, and the migration is captured in full."""
    modules = {
        "myapp_waits/__init__.py": "",
        "myapp_waits/config.py": (
            "import os\n"
            "def wait():\n    while True:\n        pass\n"
            "TABLE = 'users'\n"
            "raise RuntimeError('configure the application first')\n"
            "os._exit(3)\n"
            "while True:\n    pass\n"
            "EXITED = os._exit(4)\n"
            "READY = wait()\n"
            "KIND = 'kind'\n"
        ),
    }
    started = time.monotonic()
    upgrade = capture_beside_app(
        tmp_path,
        modules,
        "from myapp_waits.config import TABLE, KIND\n"
        "def upgrade():\n"
        "    op.create_table(TABLE, sa.Column('id', sa.Integer))\n",
    )
    assert time.monotonic() - started < 10
    assert upgrade.failure is None
    assert [e.sql for e in upgrade.judged] == ["CREATE TABLE users (\n    id INTEGER\n);"]


def test_an_inner_time_limit_lets_the_outer_one_go_on() -> None:
    """Limits nest: the inner one's end is caught where it was set, and the outer one still
    stops the run it bounds, with what was left of it."""
    with pytest.raises(RunTooLong) as outer_end, time_limit(0.3) as outer:
        with time_limit(0.05) as inner:
            try:
                time.sleep(1)
            except RunTooLong as exc:
                assert exc.args[0] is inner
        with time_limit(5) as longer:  # the outer one runs out first: it governs
            assert longer is None
            time.sleep(1)
    assert outer_end.value.args[0] is outer


def test_a_type_of_the_application_deriving_from_a_stood_in_one_is_unknown(
    tmp_path: Path,
) -> None:
    """gnocchi's ``ArchivePolicyDefinitionType(sqlalchemy_utils.JSONType)`` with
    sqlalchemy_utils not installed: the column's type is unknown, the table is created."""
    modules = {
        "myapp_types/__init__.py": "",
        "myapp_types/types.py": (
            "import sqlalchemy_utils_not_installed as su\n"
            "class DefinitionType(su.JSONType):\n    pass\n"
        ),
    }
    upgrade = capture_beside_app(
        tmp_path,
        modules,
        "from myapp_types.types import DefinitionType\n"
        "def upgrade():\n"
        "    op.create_table('policy', sa.Column('definition', DefinitionType()))\n",
    )
    assert upgrade.failure is None
    (created,) = [e.sql for e in upgrade.judged]
    assert 'definition migsafe_unknown."DefinitionType"' in created


def test_a_stand_in_unpacked_into_names_gives_one_each(write_migration) -> None:
    """pgadmin4's first revision asks its setup for the first user, ``email, password =
    user_info()``: a stand-in iterated as empty made that a ValueError, and the whole
    initial schema after it went uncaptured (with a notice calling it a branch). Unpacked
    into names, a stand-in gives one stand-in each, as its items would; an item written into
    one (``current_app.config["SECRET_KEY"] = key``, next) is taken as an attribute is."""
    body = """
from setup_not_installed import user_info

def upgrade():
    email, password = user_info()
    first, *rest, last = user_info()
    user_info.config["SECRET_KEY"] = password
    op.create_table("user", sa.Column("id", sa.Integer, primary_key=True))
    op.execute(sa.table("user", sa.column("email")).insert().values(email=email))
"""
    _, upgrade, _ = capture_body(write_migration, body)
    assert upgrade.failure is None and upgrade.guesses == []
    assert upgrade.judged[0].sql.startswith("CREATE TABLE")
    assert upgrade.judged[1].sql.startswith('INSERT INTO "user" (email)')


def test_a_stood_in_session_on_the_migrations_bind_is_an_orm_session(write_migration) -> None:
    """superset's ``db.Session(bind=op.get_bind())``, where ``db`` comes from Flask-AppBuilder
    (stood in): Flask-SQLAlchemy's ``db.Session`` is SQLAlchemy's ORM session, and its
    queries of the migration's own models went unseen behind a stand-in (a branch on
    ``...Session().query().all()``, 105 superset scripts). A stood-in ``Session`` made on
    anything else (``boto3.Session(profile_name=...)``) stays a stand-in."""
    body = """
from sqlalchemy.orm import declarative_base
from flask_appbuilder_not_installed import db, boto3

Base = declarative_base()

class Slice(Base):
    __tablename__ = "slices"
    id = sa.Column(sa.Integer, primary_key=True)
    params = sa.Column(sa.Text)

def upgrade():
    session = db.Session(bind=op.get_bind())
    for chart in session.query(Slice).all():
        chart.params = "{}"
    session.commit()
    assert isinstance(session, sa.orm.Session)
    assert not isinstance(boto3.Session(profile_name="x"), sa.orm.Session)
    op.add_column("slices", sa.Column("query_context", sa.Text()))
"""
    _, upgrade, _ = capture_body(write_migration, body)
    assert upgrade.failure is None and upgrade.guesses == []
    # the run where the read finds a chart, whose params change
    assert [e.sql.split()[0] for e in upgrade.judged] == ["SELECT", "UPDATE", "ALTER"]


def test_a_stood_in_type_with_a_variant_is_the_variant(write_migration) -> None:
    """invenio-records' ``sqlalchemy_utils.JSONType().with_variant(JSONB(), "postgresql")``
    with sqlalchemy_utils not installed: SQLAlchemy copies the type to make the variant, and
    on PostgreSQL the column is the variant."""
    body = """
from sqlalchemy.dialects import postgresql
from sqlalchemy_utils_not_installed.types import JSONType

def upgrade():
    op.create_table("records_metadata", sa.Column("json", JSONType().with_variant(
        postgresql.JSONB(), "postgresql")))
"""
    _, upgrade, _ = capture_body(write_migration, body)
    assert upgrade.failure is None, upgrade.failure
    (created,) = [e.sql for e in upgrade.judged]
    assert "json JSONB" in created


def test_sys_exit_is_a_fatal_failure_of_the_function(write_migration) -> None:
    body = """
import sys

def upgrade():
    op.drop_column("t", "a")
    sys.exit(0)
"""
    path, upgrade, _ = capture_body(write_migration, body)
    assert upgrade.failure.fatal and upgrade.failure.line == line_of(path, "sys.exit")
    assert "sys.exit(0)" in upgrade.failure.message
    assert [e.sql for e in upgrade.judged] == ["ALTER TABLE t DROP COLUMN a;"]


def test_a_raise_is_a_failure_with_its_line_and_what_ran_before_is_kept(write_migration):
    body = """
def upgrade():
    op.drop_column("t", "a")
    raise ValueError("needs the app's settings")
"""
    path, upgrade, _ = capture_body(write_migration, body)
    assert not upgrade.failure.fatal and upgrade.failure.line == line_of(path, "raise")
    assert upgrade.failure.message == "upgrade() raised ValueError: needs the app's settings"
    assert len(upgrade.judged) == 1


def test_values_that_cannot_be_literals_render_with_placeholders(write_migration) -> None:
    """A value bound to a column of no type has no literal form to SQLAlchemy: a plain one
    is written in all the same (invenio's ``values(enabled=False)`` gave a recipe with
    ``$1``), the others stay placeholders."""
    body = """
def upgrade():
    value = sa.bindparam("a", 5, type_=sa.types.NullType())
    op.execute(sa.text("UPDATE t SET a = :a").bindparams(value))
    t = sa.table("t", sa.column("a"), sa.column("b"))
    op.execute(t.update().where(t.c.b.isnot(None)).values(a=False))
    op.execute(t.update().values(a=object()))
    op.bulk_insert(t, [{"a": object()}])
"""
    _, upgrade, _ = capture_body(write_migration, body)
    assert [e.sql for e in upgrade.judged] == [
        "UPDATE t SET a = 5",
        "UPDATE t SET a=false WHERE t.b IS NOT NULL",
        "UPDATE t SET a=$1",
        "INSERT INTO t (a, b) VALUES ($1, $2)",
    ]


def test_statements_with_non_ascii_text_are_split_whole() -> None:
    """pglast's locations count characters: slicing bytes cut these statements short."""
    split = [sql for sql, _ in split_statements("SELECT 1; SELECT 'é'; COMMENT ON TABLE t IS 'ü'")]
    assert split == ["SELECT 1", "SELECT 'é'", "COMMENT ON TABLE t IS 'ü'"]


def test_a_script_is_compiled_with_its_own_future_imports_only(write_migration) -> None:
    """migsafe's modules use ``from __future__ import annotations``; a script compiled without
    ``dont_inherit`` took that too, and SQLAlchemy could not resolve ``Mapped[int]``."""
    path = write_migration(
        "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n\n\n"
        "class Base(DeclarativeBase):\n    pass\n\n\n"
        "class Span(Base):\n    __tablename__ = 'spans'\n"
        "    id: Mapped[int] = mapped_column(primary_key=True)\n\n\n"
        "def upgrade():\n    op.add_column('spans', sa.Column('tokens', sa.Integer()))\n"
    )
    result = command.check([path])
    assert result.diagnostics == [], [d.message for d in result.diagnostics]


def test_alembic_version_table_is_there_before_the_first_revision(write_migration) -> None:
    """Alembic creates it before any migration runs; neutron's first revision looks at its
    primary key."""
    _, upgrade, _ = capture_body(
        write_migration,
        """\
def upgrade():
    inspector = sa.inspect(op.get_bind())
    assert inspector.get_pk_constraint("alembic_version")["constrained_columns"] == [
        "version_num"
    ]
    assert "alembic_version" in inspector.get_table_names()
    op.create_table("users", sa.Column("id", sa.Integer, primary_key=True))
""",
    )
    assert upgrade.failure is None
    assert [e.sql.split("(")[0].strip() for e in upgrade.emitted] == ["CREATE TABLE users"]


def test_sqlalchemy_submodules_are_there_without_their_import(write_migration) -> None:
    """``sa.orm.Session`` with only ``import sqlalchemy as sa``: it works under ``alembic
    upgrade`` because env.py imported the application's models (and sqlalchemy.orm); in
    migsafe's own process nothing has imported it (hence a process of its own here)."""
    path = write_migration(
        """\
def upgrade():
    session = sa.orm.Session(bind=op.get_bind())
    session.execute(sa.text("UPDATE users SET name = 'x'"))
"""
    )
    checked = subprocess.run(
        [sys.executable, "-m", "migsafe", "check", "--no-cache", "--format", "json", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    report = json.loads(checked.stdout)
    assert report["diagnostics"] == [], report["diagnostics"]
    assert "unbatched-update" in [f["rule"] for f in report["findings"]]
    import sqlalchemy

    assert "__getattr__" not in vars(sqlalchemy)  # only while capturing


def test_a_legacy_query_runs_where_the_migration_is_first_to_import_the_orm(
    write_migration,
) -> None:
    """migsafe no longer imports SQLAlchemy's ORM (50 ms a check of conda-store never
    needed): its 1.x ``session.execute(query)`` is patched as a migration's import of
    ``sqlalchemy.orm`` ends, here in a process where nothing imported it before."""
    path = write_migration(
        """\
from sqlalchemy import orm

class User(orm.declarative_base()):
    __tablename__ = "users"
    id = sa.Column(sa.Integer, primary_key=True)

def upgrade():
    session = orm.Session(bind=op.get_bind())
    session.execute(session.query(User)).fetchall()
    op.create_index("ix_users_id", "users", ["id"])  # the end
"""
    )
    checked = subprocess.run(
        [sys.executable, "-m", "migsafe", "check", "--no-cache", "--format", "json", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    report = json.loads(checked.stdout)
    assert not [d for d in report["diagnostics"] if "raised" in d["message"]], report
    assert "create-index-not-concurrently" in [f["rule"] for f in report["findings"]]


def test_a_migration_prints_once_however_often_it_is_run(write_migration) -> None:
    """A function run again (where its reads find a row, at the far ends of its values)
    printed again, and printed the made-up rows it went over: only its first run's output
    is shown, where a deploy's would be."""
    path = write_migration(
        """\
def upgrade():
    op.create_table("t", sa.Column("id", sa.Integer, primary_key=True), sa.Column("a", sa.Text))
    print("PRINTED IN UPGRADE")
    for (id,) in op.get_bind().execute(sa.text("SELECT id FROM t")):
        print("PER ROW", id)
        op.execute(sa.text(f"UPDATE t SET a = 'x' WHERE id = {id}"))
"""
    )
    checked = subprocess.run(
        [sys.executable, "-m", "migsafe", "check", "--no-cache", "--format", "json", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert checked.stderr.count("PRINTED IN UPGRADE") == 1, checked.stderr
    assert "PER ROW" not in checked.stderr
    assert json.loads(checked.stdout)["checked"] == 1


def test_a_migration_that_closes_its_stdout_is_run_again_all_the_same(write_migration) -> None:
    """Run again, it printed nowhere through descriptors copied to the lowest free number,
    which was 1 where its first run had closed it: its ``os.close(1)`` closed migsafe's copy
    of stderr, and the run where its read finds a row was lost (a notice), or what ran after
    it printed nowhere."""
    path = write_migration(
        """\
import os

def upgrade():
    op.create_table("t", sa.Column("id", sa.Integer, primary_key=True), sa.Column("a", sa.Text))
    try:
        os.close(1)
    except OSError:
        pass
    for (id,) in op.get_bind().execute(sa.text("SELECT id FROM t")):
        op.execute(sa.text(f"UPDATE t SET a = 'x' WHERE id = {id}"))

def downgrade():
    print("THE DOWNGRADE PRINTS")
    op.drop_table("t")
"""
    )
    checked = subprocess.run(
        [sys.executable, "-m", "migsafe", "check", "--no-cache", "--format", "json", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert json.loads(checked.stdout)["diagnostics"] == []  # the row's run judged: no notice
    assert "THE DOWNGRADE PRINTS" in checked.stderr


def test_an_operation_given_an_object_for_a_name_says_which(write_migration) -> None:
    """jupyterhub's downgrades ``op.drop_column("spawners", sa.Column("user_options"))``:
    Alembic fails on it with SQLAlchemy's ``Column._set_parent() missing 2 required
    keyword-only arguments``, which names neither the call nor the argument."""
    path = write_migration(
        "def upgrade():\n    op.add_column('t', sa.Column('a', sa.Text))\n\n"
        "def downgrade():\n    op.drop_column('t', sa.Column('a'))\n"
    )
    (notice,) = [d.message for d in command.check([path]).diagnostics]
    assert "DropColumnOp cannot be rendered: its column_name is a Column, " in notice
    assert "not a name: Alembic fails on it too (TypeError: " in notice


def test_migsafe_check_imports_no_orm() -> None:
    code = "import sys, migsafe.check, migsafe.rules as r; r.rule_modules(); "
    code += "print('sqlalchemy.orm' in sys.modules)"
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert imported.stdout.strip() == "False", imported.stderr


PLUGIN = '''\
"""An Alembic plugin, as geoalchemy2.alembic_helpers is: importing it registers an op."""
from alembic.operations import MigrateOperation, Operations


@Operations.register_operation("create_widget_sequence")
class CreateWidgetSequenceOp(MigrateOperation):
    def __init__(self, name):
        self.name = name

    @classmethod
    def create_widget_sequence(cls, operations, name):
        return operations.invoke(cls(name))


@Operations.implementation_for(CreateWidgetSequenceOp)
def create_widget_sequence(operations, operation):
    operations.execute(f"CREATE SEQUENCE {operation.name}")
'''


def test_the_plugins_env_py_imports_register_their_operations(tmp_path: Path, monkeypatch) -> None:
    """fittrackee's env.py imports geoalchemy2.alembic_helpers, which gives migrations
    ``add_geospatial_column``; check imports what env.py imports from installed libraries
    (here a plugin in a site-packages directory), never the application's own modules; one
    that exits as it is imported costs nothing."""
    from migsafe.capture import code_origin

    site = tmp_path / "venv" / "site-packages"
    site.mkdir(parents=True)
    (site / "migsafe_test_widget_plugin.py").write_text(PLUGIN)
    (site / "migsafe_test_exiting_library.py").write_text("raise SystemExit(3)\n")
    (tmp_path / "myapp_env_only.py").write_text("open(__file__ + '.imported', 'w').close()\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.syspath_prepend(str(tmp_path))
    code_origin._environment_prefixes.cache_clear()
    monkeypatch.setattr(code_origin, "_environment_prefixes", code_origin._environment_prefixes)
    (tmp_path / "env.py").write_text(
        "from alembic import context\nimport migsafe_test_exiting_library\n"
        "import migsafe_test_widget_plugin\nimport myapp_env_only\n"
    )
    (tmp_path / "versions").mkdir()
    (tmp_path / "versions" / "a1.py").write_text(
        "from alembic import op\nrevision = 'a1'\ndown_revision = None\n"
        "def upgrade():\n    op.create_widget_sequence('widget_ids')\n"
        "def downgrade():\n    op.execute('DROP SEQUENCE widget_ids')\n"
    )
    try:
        result = command.check([tmp_path])
    finally:
        code_origin._environment_prefixes.cache_clear()
    assert [d.message for d in result.diagnostics] == []
    assert "migsafe_test_widget_plugin" not in sys.modules  # imported in the worker only
    assert not (tmp_path / "myapp_env_only.py.imported").exists()


@pytest.mark.parametrize(
    ("env_imports_it", "migration_uses_it"), [(True, True), (False, True), (True, False)]
)
def test_a_module_env_py_imports_is_there_as_an_attribute_of_its_package(
    tmp_path: Path, monkeypatch, env_imports_it: bool, migration_uses_it: bool
) -> None:
    """prefect's migrations ``import prefect`` and call ``prefect.server.utilities.database
    .UUID()``, a module env.py imported: under ``alembic upgrade`` it is an attribute of
    its package by then, and so it is while capturing (33 of prefect's 120 scripts raised
    AttributeError, installed). A module env.py does not import stays missing, as it would
    be under Alembic; and none is imported before a migration asks for it."""
    from migsafe.capture import code_origin

    site = tmp_path / "venv" / "site-packages"  # installed, as prefect is: no project file
    package = site / "migsafe_test_lazy_app"
    (package / "db").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "db" / "__init__.py").write_text("")
    (package / "db" / "types.py").write_text(
        "import sqlalchemy as sa\n\ndef UUID():\n    return sa.Uuid()\n"
        "open(__file__ + '.imported', 'w').close()\n"
    )
    monkeypatch.syspath_prepend(str(site))
    code_origin._environment_prefixes.cache_clear()
    monkeypatch.setattr(code_origin, "_environment_prefixes", code_origin._environment_prefixes)
    imports = "from migsafe_test_lazy_app.db.types import UUID\n" if env_imports_it else ""
    scripts = package / "migrations"  # env.py inside the application, as prefect's is
    (scripts / "versions").mkdir(parents=True)
    (scripts / "env.py").write_text(f"from alembic import context\n{imports}")
    (scripts / "versions" / "a1.py").write_text(
        "from alembic import op\nimport sqlalchemy as sa\nimport migsafe_test_lazy_app\n"
        "revision = 'a1'\ndown_revision = None\n"
        "def upgrade():\n"
        "    op.create_table('t', sa.Column('id', sa.Integer, primary_key=True))\n"
        + (
            "    op.add_column('t', sa.Column('u', migsafe_test_lazy_app.db.types.UUID()))\n"
            if migration_uses_it
            else ""
        )
        + "def downgrade():\n    op.drop_table('t')\n"
    )
    try:
        result = command.check([scripts / "versions"])
    finally:
        code_origin._environment_prefixes.cache_clear()
    raised = [d.message for d in result.diagnostics if "raised AttributeError" in d.message]
    assert bool(raised) is not env_imports_it, result.diagnostics
    imported = (package / "db" / "types.py.imported").exists()
    assert imported is (env_imports_it and migration_uses_it)  # when asked for, and only then
    assert "migsafe_test_lazy_app" not in sys.modules  # in the worker only


def test_a_package_env_py_imports_from_is_forgiven_as_any_project_module(
    tmp_path: Path, monkeypatch
) -> None:
    """airflow's env.py imports ``from airflow import models``, and airflow's own import
    raises where its local settings are not there: the project's module still keeps what
    it defined (its import is watched for env.py's submodules, and that watch must not
    hide who imports it: airflow's 124 scripts all raised once it did)."""
    package = tmp_path / "migsafe_test_forgiven_app"
    package.mkdir()
    (package / "__init__.py").write_text("VALUE = 'x'\nraise RuntimeError('no settings')\n")
    (package / "models.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "env.py").write_text(
        "from alembic import context\nfrom migsafe_test_forgiven_app import models\n"
    )
    (tmp_path / "versions").mkdir()
    (tmp_path / "versions" / "a1.py").write_text(
        "from alembic import op\nimport migsafe_test_forgiven_app\n"
        "revision = 'a1'\ndown_revision = None\n"
        "def upgrade():\n"
        "    op.create_index('ix_t_' + migsafe_test_forgiven_app.VALUE, 't', ['a'])\n"
        "def downgrade():\n    op.drop_index('ix_t_x', 't')\n"
    )
    result = command.check([tmp_path / "versions"])
    assert not [d for d in result.diagnostics if "raised" in d.message], result.diagnostics
    assert "create-index-not-concurrently" in [f.rule for f in result.findings]


def test_an_operation_of_a_plugin_that_is_not_installed_says_so(write_migration) -> None:
    """dstack's env.py imports alembic_postgresql_enum, whose ``op.sync_enum_values`` its
    migrations call: without the plugin, the failure names the operation and what to do."""
    path = write_migration(
        "def upgrade():\n"
        "    op.sync_enum_values('public', 'status', ['a', 'b'])\n"
        "    with op.batch_alter_table('t') as batch_op:\n"
        "        batch_op.add_geospatial_column('t', sa.Column('g', sa.Integer()))\n",
    )
    upgrade, _ = capture(read_script(path))
    assert upgrade.failure is not None and upgrade.failure.line == line_of(path, "sync_enum")
    assert upgrade.failure.message == (
        "upgrade() calls op.sync_enum_values, which is no operation of Alembic's: unless a "
        "plugin env.py imports adds it (install that plugin where migsafe runs), it fails "
        "under alembic too"
    )
    path.write_text(path.read_text().replace("    op.sync_enum_values", "    # "))
    upgrade, _ = capture(read_script(path))
    assert upgrade.failure is not None
    assert upgrade.failure.message.startswith("upgrade() calls batch_op.add_geospatial_column,")


def test_a_plugin_env_py_imports_that_is_not_installed_is_named(tmp_path: Path) -> None:
    """When env.py imports the plugin and it is not installed, the notice names it."""
    (tmp_path / "env.py").write_text(
        "import migsafe_test_enum_plugin_absent\nfrom alembic import context\n"
    )
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "a1.py").write_text(
        "from alembic import op\nrevision = 'a1'\ndown_revision = None\n"
        "def upgrade():\n    op.sync_enum_values('public', 'status', ['a', 'b'])\n"
    )
    (message,) = [d.message for d in command.check([versions]).diagnostics]
    assert message == (
        "upgrade() calls op.sync_enum_values, which is no operation of Alembic's: env.py "
        "imports migsafe_test_enum_plugin_absent, not installed where migsafe runs; a "
        "plugin's operations exist once it is imported: install it there; only what "
        "upgrade() did before that is checked"
    )


def test_an_error_message_is_one_stable_line() -> None:
    """Kallithea's FlushError names ``<Setting at 0x7f...>``, which differs on every run, and
    runs past the width: the notice is the same every time, cut at a word."""
    from migsafe.errors import described

    error = RuntimeError("Instance <Setting at 0x7f3a9c2b1d90> has a NULL identity key.\n" * 9)
    text = described(error, width=80).removeprefix("RuntimeError: ")
    assert "0x" not in text and "\n" not in text and text.endswith("…")
    assert len(text) <= 80 and text.startswith("Instance <Setting> has a NULL identity key.")
    assert not text[:-1].endswith(" ")
    assert described(NotImplementedError()) == "NotImplementedError"


def test_a_dotted_name_after_a_stood_in_schema_names_it_as_schema_does(write_migration) -> None:
    """c2cgeoportal builds its foreign keys as ``ForeignKey(schema + ".user.id")``: the same
    schema name as its ``schema=``, so the key refers to the table the history made."""
    body = """
from myapp_not_installed.template import config

def upgrade():
    schema = config["schema_static"]
    op.create_table("user", sa.Column("id", sa.Integer, primary_key=True), schema=schema)
    op.create_table("oauth2_client", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("user_id", sa.Integer, sa.ForeignKey(schema + ".user.id")),
                    schema=schema)
"""
    _, upgrade, _ = capture_body(write_migration, body)
    assert upgrade.failure is None and not upgrade.guesses
    assert 'REFERENCES config_schema_static."user" (id)' in upgrade.judged[1].sql


def _notices(versions: Path) -> list[tuple[str, int | None, str]]:
    result = command.check([versions])
    return [(Path(d.path).name, d.line, d.message) for d in result.diagnostics]


def test_an_applications_stood_in_engine_is_the_migrations(write_migration) -> None:
    """flexmeasures inspects ``db.engine`` (Flask-SQLAlchemy's, not installed): the stand-in
    could not be inspected, and the upgrade raised at its first line. Flask-Migrate runs the
    migrations on that very engine's database: it is the migration's engine here, and what
    the upgrade drops where a table exists is judged, as through ``op.get_bind()``."""
    write_migration(
        'def upgrade():\n    op.create_table("power", sa.Column("id", sa.Integer()))\n',
        revision="a1", name="1.py",
    )  # fmt: skip
    path = write_migration(
        """
from flask_sqlalchemy_not_installed import db

def upgrade():
    inspector = sa.inspect(db.engine)
    for table in ("power", "price"):
        if inspector.has_table(table):
            op.drop_table(table)
""",
        revision="b2",
        down_revision="a1",
        name="2.py",
    )
    assert [n for n in _notices(path.parent) if n[0] == path.name] == []
    result = command.check([path.parent])
    judged = {(f.rule, f.line) for f in result.findings if f.path == path}
    assert ("drop-table", line_of(path, "op.drop_table")) in judged


def test_a_table_asked_for_that_the_history_never_had_is_taken_to_exist(write_migration) -> None:
    """jupyterhub alters its tables only ``if table in get_table_names()`` (the application
    creates them): offline the answer is no, and the migration would do nothing. It is run
    again where the tables it asked for exist, as on the databases it is written for, and
    that run is judged. Where they do not exist it changes nothing that run does not, so
    no path is left out and nothing needs saying. The answer list is read after
    ``sa.inspect(engine)`` closed its connection. sqlalchemy-migrate's table is
    bookkeeping: taken to exist too."""
    path = write_migration(
        """
def upgrade():
    tables = sa.inspect(op.get_bind().engine).get_table_names()
    if "spawners" in tables:  # asks
        op.add_column("spawners", sa.Column("user_options", sa.Text()))
    if sa.inspect(op.get_bind()).has_table("legacy_settings"):  # has_table
        op.create_index("ix_legacy_settings_key", "legacy_settings", ["key"])
    if "migrate_version" in tables:
        op.drop_table("migrate_version")

def downgrade():
    pass
"""
    )
    assert _notices(path.parent) == []
    result = command.check([path.parent])
    judged = {(f.rule, f.line) for f in result.findings}
    assert ("create-index-not-concurrently", line_of(path, "op.create_index")) in judged


def test_tables_asked_for_where_others_asked_for_exist_are_taken_to_exist_too(
    write_migration,
) -> None:
    """dagster re-makes a foreign key ``if "runs" in tables and "run_tags" in tables``: where
    ``runs`` existed, ``run_tags`` was asked for, found absent, and the notice said the run
    was not checked. The tables asked for in that world exist too."""
    path = write_migration(
        """
def upgrade():
    tables = sa.inspect(op.get_bind()).get_table_names()
    if "runs" in tables and "run_tags" in tables:
        op.drop_constraint("run_tags_run_id_fkey", "run_tags", type_="foreignkey")
        op.create_foreign_key("run_tags_run_id_fkey", "run_tags", "runs", ["run_id"],
                              ["run_id"], ondelete="CASCADE")
"""
    )
    assert _notices(path.parent) == []
    result = command.check([path.parent])
    judged = {(f.rule, f.line) for f in result.findings}
    assert ("add-foreign-key-validated", line_of(path, "op.create_foreign_key")) in judged


def test_a_table_asked_for_whose_existence_takes_a_path_doing_less_is_not_taken_to_exist(
    write_migration,
) -> None:
    """A tester's ``if "accounts" in tables and "accounts_archive" not in tables:``: where
    the archive, asked for in the world where accounts exists, was taken to exist too, the
    index was never built, and the revision was clean. A table asked for there is taken to
    exist only where the run then does all it did, and more."""
    path = write_migration(
        """
def upgrade():
    tables = sa.inspect(op.get_bind()).get_table_names()
    if "accounts" in tables and "accounts_archive" not in tables:
        op.create_index("ix_accounts_owner", "accounts", ["owner"])
"""
    )
    result = command.check([path.parent])
    judged = {(f.rule, f.line) for f in result.findings}
    assert ("create-index-not-concurrently", line_of(path, "op.create_index")) in judged


def test_a_table_a_migration_drops_if_it_exists_then_makes_is_judged_where_it_exists(
    write_migration,
) -> None:
    """meltano drops "state" if it exists (an older version of a revision before made it),
    then makes it: offline it did not exist, the drop was never seen, and nothing was
    said. Where it exists the migration does all it does where not, and more: that run is
    judged. ``if "t" not in tables: op.create_table("t")`` does less where it exists: the
    first run stands, and there is nothing to notice either."""
    path = write_migration(
        """
def upgrade():
    if "state" in sa.inspect(op.get_bind()).get_table_names():
        op.drop_table("state")
    op.create_table("state", sa.Column("id", sa.Integer, primary_key=True))
    if not sa.inspect(op.get_bind()).has_table("jobs"):
        op.create_table("jobs", sa.Column("id", sa.Integer, primary_key=True))

def downgrade():
    op.drop_table("jobs")
    op.drop_table("state")
"""
    )
    assert _notices(path.parent) == []
    result = command.check([path.parent])
    judged = {(f.rule, f.line) for f in result.findings}
    assert ("drop-table", line_of(path, 'op.drop_table("state")')) in judged


def test_a_run_where_a_table_is_taken_to_exist_reads_rows_in_that_world(
    write_migration,
) -> None:
    """meltano's migration that drops "state" where it exists, then makes it, also fills it
    from the rows of ``runs``: the run judged (where "state" exists) was never run again
    where reads find a row, and its notice stayed. It is, from that same world (and the
    rows put back into "state" are no loss for drop-table to report)."""
    write_migration(
        'def upgrade():\n    op.create_table("runs", sa.Column("job_name", sa.Text))\n',
        revision="a1", name="1.py",
    )  # fmt: skip
    path = write_migration(
        """
def upgrade():
    bind = op.get_bind()
    if "state" in sa.inspect(bind).get_table_names():
        op.drop_table("state")
    op.create_table("state", sa.Column("job_name", sa.Text))
    for (name,) in bind.execute(sa.text("SELECT DISTINCT job_name FROM runs")).fetchall():
        bind.execute(sa.text("INSERT INTO state (job_name) VALUES (:n)"), {"n": name})
""",
        revision="b2",
        down_revision="a1",
        name="2.py",
    )
    assert [n for n in _notices(path.parent) if n[0] == path.name] == []


def test_a_table_taken_to_exist_is_noticed_where_its_absence_takes_another_path(
    write_migration,
) -> None:
    """Where the tables do not exist the migration does what the run judged does not (it
    creates another): the run where they exist is judged, and a notice says which tables
    were taken to exist."""
    path = write_migration(
        """
def upgrade():
    tables = sa.inspect(op.get_bind().engine).get_table_names()
    if "spawners" in tables:  # asks
        op.add_column("spawners", sa.Column("user_options", sa.Text()))
    else:  # an older release's
        op.create_table("spawner_options", sa.Column("id", sa.Integer, primary_key=True))
    if sa.inspect(op.get_bind()).has_table("legacy_settings"):  # has_table
        op.create_index("ix_legacy_settings_key", "legacy_settings", ["key"])

def downgrade():
    pass
"""
    )
    upgrade_notices = [n for n in _notices(path.parent) if n[2].startswith("upgrade()")]
    assert upgrade_notices == [
        (path.name, line_of(path, "# asks"), 'upgrade() asks whether table "spawners" exists: '
         "no revision before it creates it; it is checked as where it does, made outside the "
         "history, whose columns are not known"),
        (path.name, line_of(path, "# has_table"), 'upgrade() asks whether table '
         '"legacy_settings" exists: no revision before it creates it; it is checked as where '
         "it does, made outside the history, whose columns are not known"),
    ]  # fmt: skip
    result = command.check([path.parent])
    judged = {(f.rule, f.line) for f in result.findings}
    assert ("create-index-not-concurrently", line_of(path, "op.create_index")) in judged


def test_a_table_asked_for_stays_absent_when_the_run_where_it_exists_guesses(
    write_migration,
) -> None:
    """The migration asks for ``runs`` and then reads its primary key, which is not known
    where it is taken to exist (nor weighed as its columns are): that run is a guess, so
    the first one stands, and its notice says what is not checked."""
    path = write_migration(
        """
def upgrade():
    if not sa.inspect(op.get_bind()).has_table("runs"):  # asks
        return
    key = sa.inspect(op.get_bind()).get_pk_constraint("runs")
    if not key["constrained_columns"]:
        op.create_primary_key("runs_pkey", "runs", ["id"])

def downgrade():
    pass
"""
    )
    notices = [n for n in _notices(path.parent) if n[2].startswith("upgrade()")]
    assert notices == [
        (path.name, line_of(path, "# asks"), 'upgrade() asks whether table "runs" exists: no '
         "revision before it creates it, so offline it does not, and what upgrade() does "
         "otherwise is not checked"),
    ]  # fmt: skip


def test_a_run_where_a_table_asked_for_exists_that_never_ends_keeps_the_notice(
    write_migration,
) -> None:
    """A migration that waits for a table to go (``while has_table("legacy")``) never ends
    where it is taken to exist: that run is given 2 s, then the first stands, noticed."""
    path = write_migration(
        """
def upgrade():
    while sa.inspect(op.get_bind()).has_table("legacy"):  # asks
        pass
    op.create_table("fresh", sa.Column("id", sa.Integer, primary_key=True))

def downgrade():
    pass
"""
    )
    started = time.monotonic()
    notices = [n for n in _notices(path.parent) if n[2].startswith("upgrade()")]
    assert time.monotonic() - started < 20
    assert [(line, message.split(":")[0]) for _, line, message in notices] == [
        (line_of(path, "# asks"), 'upgrade() asks whether table "legacy" exists')
    ]


def test_a_table_asked_for_is_not_noticed_when_the_answer_is_every_databases(
    write_migration,
) -> None:
    """No notice when the table is there, when the history dropped it (no database it
    migrated has it), or when the function creates it itself (``if not in: create``)."""
    write_migration(
        """
def upgrade():
    op.create_table("kept", sa.Column("id", sa.Integer, primary_key=True))
    op.create_table("old", sa.Column("id", sa.Integer, primary_key=True))
    op.drop_table("old")

def downgrade():
    pass
""",
        revision="a1",
    )
    path = write_migration(
        """
def upgrade():
    tables = sa.inspect(op.get_bind()).get_table_names()
    if "kept" in tables and "old" not in tables and "new" not in tables:
        op.create_table("new", sa.Column("id", sa.Integer, primary_key=True))

def downgrade():
    pass
""",
        revision="a2",
        down_revision="a1",
    )
    assert _notices(path.parent) == []


def test_a_table_asked_for_after_a_revision_not_checked_to_its_end_says_so(
    write_migration,
) -> None:
    """pgadmin's revision that creates ``servergroup`` raised halfway: a later
    ``has_table("servergroup")`` is answered no by a schema that is not known in full. The
    table may be there or not; where it is, the migration makes an index, and where it is
    not, it does something else: the first run stands, and its notice says why."""
    write_migration(
        """
def upgrade():
    raise RuntimeError("needs the application")
    op.create_table("servergroup", sa.Column("id", sa.Integer, primary_key=True))

def downgrade():
    pass
""",
        revision="a1",
    )
    path = write_migration(
        """
def upgrade():
    if sa.inspect(op.get_bind()).has_table("servergroup"):
        op.create_index("ix_servergroup_id", "servergroup", ["id"])
    else:
        op.create_table("servergroups", sa.Column("id", sa.Integer, primary_key=True))

def downgrade():
    pass
""",
        revision="a2",
        down_revision="a1",
    )
    notice = next(m for name, _, m in _notices(path.parent) if name == path.name)
    assert notice == (
        'upgrade() asks whether table "servergroup" exists: the schema migsafe built does not '
        "hold it, but it is not known whole there (a revision before it was not checked to "
        "its end, or depends on another history's), so offline it does not, and what "
        "upgrade() does otherwise is not checked"
    )


def test_a_property_of_a_class_on_a_stood_in_base_computes_from_the_instance(
    write_migration,
) -> None:
    """A property is the class's own code over what the instance holds: it runs as written."""
    body = """
from settings_lib_not_installed import BaseSettings

class Settings(BaseSettings):
    def __init__(self, n):
        self.n = n

    @property
    def doubled(self):
        return self.n * 2

def upgrade():
    if Settings(3).doubled == 6:
        op.execute("SELECT 1")
"""
    _, upgrade, _ = capture_body(write_migration, body)
    assert upgrade.guesses == [] and [e.sql for e in upgrade.judged] == ["SELECT 1;"]


def test_a_read_is_told_at_the_line_that_ran_the_query(write_migration) -> None:
    """octavia and waiverdb run the SELECT, then loop over it lines later: the notice names
    the query's line."""
    body = """
def upgrade():
    result = op.get_bind().execute(sa.text("SELECT id FROM t"))  # query
    op.add_column("t", sa.Column("a", sa.Integer()))
    for row in result:
        op.execute(f"UPDATE t SET a = {row.id}")
"""
    path, upgrade, _ = capture_body(write_migration, body)
    assert [r.line for r in upgrade.reads] == [line_of(path, "# query")]


def test_values_bound_through_the_bind_are_written_in_when_plain(write_migration) -> None:
    """As ``alembic upgrade --sql`` writes an op.execute()'s values: mistral's
    ``session.execute(t.update().values(namespace=''))`` is ``SET namespace=''``, not
    ``$1``; a value whose type the SQL would have to say (a date) keeps its placeholder."""
    body = """\
import datetime

def upgrade():
    bind = op.get_bind()
    t = sa.table("t", sa.column("ns"), sa.column("n"), sa.column("on"), sa.column("ok"))
    bind.execute(t.update().values(ns="it's", n=2, ok=None))
    bind.execute(t.update().values(on=datetime.date(2020, 1, 2), ok=True))
"""
    _, upgrade, _ = capture_body(write_migration, body)
    assert [e.sql for e in upgrade.emitted] == [
        "UPDATE t SET ns='it''s', n=2, ok=NULL",
        'UPDATE t SET "on"=$1, ok=true',
    ]


def test_a_statement_postgresql_refuses_in_a_try_block_goes_to_its_handler(
    write_migration,
) -> None:
    """privacyidea makes again, in one try block, indexes an earlier revision made: on
    PostgreSQL the first fails, the handler takes it, and the rest of the block never runs;
    the table it makes again keeps what it had. Outside a try block the statement is
    object-already-exists' to report."""
    write_migration(
        """
def upgrade():
    op.create_table("token", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("resolver", sa.String(256)), sa.Column("active", sa.Boolean()))
    op.create_index("ix_token_resolver", "token", ["resolver"])
""",
        revision="a1",
    )
    path = write_migration(
        """
def upgrade():
    try:
        op.create_index("ix_token_resolver", "token", ["resolver"])  # refused
        op.alter_column("token", "active", nullable=False)
    except Exception:
        pass
    try:
        op.create_table("token", sa.Column("id", sa.Integer(), primary_key=True))
    except Exception:
        pass
    op.alter_column("token", "resolver", type_=sa.String(255))
""",
        revision="b2",
        down_revision="a1",
    )
    result = command.check([path.parent])
    mine = [f.rule for f in result.findings if f.path == path]
    assert "set-not-null" not in mine and "change-column-type" in mine
    notes = [(d.line, d.message) for d in result.diagnostics if d.path == path]
    assert notes[0] == (
        line_of(path, "# refused"),
        "upgrade() runs CREATE INDEX ix_token_resolver ON token (resolver) in a try block, "
        "which fails on PostgreSQL (what it makes already exists): the migration's handler "
        "takes the error, as under alembic upgrade, and the rest of the try block does not run",
    )
    assert len(notes) == 2


def test_a_table_whose_create_cannot_be_rendered_is_made_with_its_columns_unknown(
    write_migration,
) -> None:
    """A table SQLAlchemy cannot render for PostgreSQL (monasca's MySQL LONGTEXT was one,
    before such types were written by their own name) is in the schema with its columns
    unknown, and the history stays known whole, so its downgrade's drop of a table still
    referred to is found; an enum column's table (whose type is lost with it) keeps the
    history inexact."""
    path = write_migration("""
class Unrenderable(sa.types.UserDefinedType):
    cache_ok = True

    def get_col_spec(self, **kw):
        raise sa.exc.CompileError("no PostgreSQL type for it")

def upgrade():
    op.create_table("alarm_state", sa.Column("name", sa.String(20), primary_key=True))
    op.create_table("alarm", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("state", sa.String(20),
                              sa.ForeignKey("alarm_state.name", name="fk_alarm_state")))
    op.create_table("event", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("body", Unrenderable()))  # unrendered

def downgrade():
    op.drop_table("alarm_state")
""")
    upgrade, _ = capture(read_script(path))
    assert upgrade.exact
    result = command.check([path.parent])
    assert "drop-table-still-referenced" in [f.rule for f in result.findings]
    assert [d.line for d in result.diagnostics] == [line_of(path, "# unrendered") - 1]


def test_an_enum_bound_as_a_value_is_written_as_its_value() -> None:
    """An IntEnum's repr is no SQL: its number is written; a str enum's text."""
    import enum

    from migsafe.capture.offline_bind import with_literals

    class Level(enum.IntEnum):
        HIGH = 3

    class Kind(str, enum.Enum):
        QUOTED = "it's"

    assert with_literals("UPDATE t SET a = $1, b = $2 WHERE c = $10", (
        Level.HIGH, Kind.QUOTED, 0, 0, 0, 0, 0, 0, 0, 7,
    )) == "UPDATE t SET a = 3, b = 'it''s' WHERE c = 7"  # fmt: skip


def test_sql_given_to_the_driver_gets_its_values_as_the_driver_writes_them(
    write_migration,
) -> None:
    """``exec_driver_sql("... %s", (v,))`` and ``%(name)s`` with a dict are the driver's
    placeholders (they were 'does not parse' errors); ``%%`` is a percent sign, and SQL run
    without values keeps its ``%`` as it is."""
    body = """
def upgrade():
    bind = op.get_bind()
    bind.exec_driver_sql("UPDATE t SET name = %s WHERE name LIKE %s", ("x", "a%%"))
    bind.exec_driver_sql("UPDATE t SET name = %(n)s WHERE id = %(i)s", {"n": "y", "i": 1})
    bind.exec_driver_sql("UPDATE t SET at = %s WHERE name LIKE '%%b'", (object(),))
    bind.exec_driver_sql("DO $$ BEGIN RAISE NOTICE '%', 'x'; END $$")
"""
    _, upgrade, _ = capture_body(write_migration, body)
    assert [e.sql for e in upgrade.emitted if e.sql.startswith(("UPDATE", "DO"))] == [
        "UPDATE t SET name = 'x' WHERE name LIKE 'a%%'",
        "UPDATE t SET name = 'y' WHERE id = 1",
        "UPDATE t SET at = $1 WHERE name LIKE '%b'",
        "DO $$ BEGIN RAISE NOTICE '%', 'x'; END $$",
    ]
    assert all(e.error is None for e in upgrade.emitted)


def test_a_function_asking_whether_it_runs_offline_is_judged_as_deployed(write_migration):
    """``if context.is_offline_mode(): return`` skipped everything under --sql, silently;
    the run a deploy makes is the one judged, when it can be followed offline."""
    path = write_migration(
        "from alembic import context\n"
        "def upgrade():\n"
        "    if context.is_offline_mode():\n"
        "        return\n"
        "    op.create_index('ix_t_a', 't', ['a'])\n"
    )
    result = command.check([path.parent])
    assert "create-index-not-concurrently" in [f.rule for f in result.findings]
    assert result.diagnostics == []


def test_a_stand_in_used_in_a_guarded_try_raises_into_the_handler(write_migration) -> None:
    """invenio-rdm-records takes a default from its model in a try whose handler falls back
    to "P": with the model stood in, the value raised there, the handler went on, and the
    UPDATE and SET NOT NULL after it are judged (all that followed was cut off before)."""
    path = write_migration(
        """
import myapp_not_installed.models as models

def _default():
    try:
        value = models.Record.status.default.arg
        assert len(value) == 1
    except Exception:
        value = "P"
    return value

def upgrade():
    op.add_column("records", sa.Column("status", sa.String(1)))
    op.execute(f"UPDATE records SET status = '{_default()}'")
    op.alter_column("records", "status", nullable=False)
"""
    )
    result = command.check([path.parent])
    assert {"unbatched-update", "set-not-null"} <= {f.rule for f in result.findings}
    (notice,) = result.diagnostics
    assert notice.line == line_of(path, "assert len")
    assert "in a try block: it is not known offline, so it raised there" in notice.message


def test_a_stood_in_engine_runs_on_postgresql(write_migration) -> None:
    """ironic asks oslo.db's engine (not installed) which database it runs on: the stand-in
    said neither "mysql" nor anything else, and the PostgreSQL branch, seven indexes built
    without CONCURRENTLY, went unjudged behind a notice. A dialect is what check judges for."""
    path = write_migration(
        """
from oslo_db_not_installed.sqlalchemy import enginefacade

def upgrade():
    engine = enginefacade.writer.get_engine()
    if engine.dialect.name == "mysql":
        op.execute("ALTER TABLE nodes ADD INDEX ix_nodes_a (a)")
    elif engine.dialect.name in ("sqlite",):
        pass
    else:
        op.create_index("ix_nodes_a", "nodes", ["a"])
"""
    )
    result = command.check([path.parent])
    assert result.diagnostics == []
    (finding,) = [f for f in result.findings if f.rule == "create-index-not-concurrently"]
    assert finding.line == line_of(path, "op.create_index")


def test_a_failure_names_the_stood_in_module_the_failing_code_uses(
    tmp_path: Path, write_migration
) -> None:
    """indico's upgrade calls an application helper that passes ``pytz.UTC`` to
    ``datetime.now()``, which refuses "type 'StandIn'": the notice named the first of all
    the modules stood in so far (babel), not the one the failing code used."""
    library = tmp_path / "lib"
    library.mkdir()
    (library / "time_helpers_for_capture_test.py").write_text(
        "import datetime\nimport aaa_babel_not_installed\nimport zzz_pytz_not_installed\n"
        "FORMAT = aaa_babel_not_installed.dates\n"
        "def now_utc():\n    return datetime.datetime.now(zzz_pytz_not_installed.UTC)\n"
    )
    path = write_migration(
        f"import sys\nsys.path.insert(0, {str(library)!r})\n"
        "from time_helpers_for_capture_test import now_utc, FORMAT\n\n"
        "def upgrade():\n    op.execute(f\"UPDATE t SET at = '{now_utc()}'\")\n"
    )
    (notice,) = command.check([path.parent]).diagnostics
    assert "not type 'StandIn' (zzz_pytz_not_installed stood in: no module named" in (
        notice.message
    )


VARIABLE = """
def upgrade():
    op.create_table("variable", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("val", sa.Text), sa.Column("kind", sa.Integer))
"""


def _after(write_migration, first: str, body: str) -> tuple[Path, list[Diagnostic], list[str]]:
    """A revision ``body`` after one ``first``: its path, check's notices on it, and the
    statements its upgrade() is judged by."""
    write_migration(first, revision="a1", name="1_a1.py")
    path = write_migration(body, revision="b2", down_revision="a1", name="2_b2.py")
    with OfflineCapturer(Config(), 15) as capturer:
        capturer.capture(read_script(path.parent / "1_a1.py"))
        upgrade = capturer.capture(read_script(path)).upgrade
    result = command.check([path.parent])
    notes = [d for d in result.diagnostics if d.path == path]
    return path, notes, [e.sql for e in upgrade.judged]


def _after_variable(write_migration, body: str) -> tuple[Path, list[Diagnostic], list[str]]:
    return _after(write_migration, VARIABLE, body)


def test_what_a_data_migration_does_per_row_is_seen_where_its_reads_find_one(
    write_migration,
) -> None:
    """airflow's and superset's data migrations read rows and update each: offline none came
    back, what they did per row went unseen, and a notice said so. Run again where each query
    finds a row of the columns' types, the UPDATE is seen (and judged: it runs under the
    ADD COLUMN's lock), and as its schema changes are the same either way, nothing is left
    to notice. A loop that reads in batches (a new query text each time round) ends."""
    body = """
def upgrade():
    op.add_column("variable", sa.Column("is_json", sa.Boolean))
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(sa.text(
            f"SELECT id, val FROM variable WHERE id > {last} ORDER BY id LIMIT 100"
        )).fetchall()
        if not rows:
            break
        for id_, val in rows:
            bind.execute(sa.text("UPDATE variable SET is_json = :j WHERE id = :id"),
                         {"j": val.startswith("{"), "id": id_})
            last = id_
"""
    _, notes, judged = _after_variable(write_migration, body)
    assert notes == []
    assert "UPDATE variable SET is_json = true WHERE id = 1" in judged


def test_an_orm_data_migration_over_json_text_is_seen_where_its_reads_find_one(
    write_migration,
) -> None:
    """superset's paginated updates: ``query.count()``, then ``session.execute(query)``
    (legacy ``Query``, refused by SQLAlchemy 2.1), each chart's ``params`` text parsed by
    simplejson (not installed), changed and flushed (the ORM checks the UPDATE found its
    row), and a template formatted from a text column. Each of these stopped the run where
    reads find a row (the count was 0, the UPDATE matched none, "x" was no JSON), so the
    notice stayed."""
    first = (
        "def upgrade():\n"
        "    op.create_table('slices', sa.Column('id', sa.Integer, primary_key=True),\n"
        "                    sa.Column('params', sa.Text), sa.Column('title', sa.Text))\n"
    )
    body = """
import simplejson as json
from sqlalchemy.orm import Session, declarative_base

class Slice(declarative_base()):
    __tablename__ = "slices"
    id = sa.Column(sa.Integer, primary_key=True)
    params = sa.Column(sa.Text)
    title = sa.Column(sa.Text)

def upgrade():
    session = Session(bind=op.get_bind())
    query = session.query(Slice).filter(Slice.params.isnot(None))
    total = query.count()
    for (chart,) in session.execute(query).fetchmany(100):
        params = json.loads(chart.params, allow_nan=True) or {}
        params["viz_type"] = "treemap_v2"
        chart.params = json.dumps(params, ignore_nan=True, sort_keys=True)
        chart.title = chart.title.format(**params)
        session.commit()
        print(f"{total} charts")
    op.add_column("slices", sa.Column("kind", sa.Text))
"""
    _, notes, judged = _after(write_migration, first, body)
    assert [d.message for d in notes] == []
    updates = [sql for sql in judged if sql.startswith("UPDATE slices")]
    assert updates and "treemap_v2" in updates[0], judged


def test_a_lazy_object_proxy_not_installed_is_what_its_factory_makes(write_migration) -> None:
    """airflow's ``db_types.TIMESTAMP`` is a ``lazy_object_proxy.Proxy`` of the type for the
    dialect the migration runs on: stood in, it was a type of unknown kind, and a change to
    it could not be judged. It is made at its first use, not when the proxy is."""
    first = "def upgrade():\n    op.create_table('deadline', sa.Column('at', sa.DateTime()))\n"
    body = """
from lazy_object_proxy import Proxy

ready = False
TIMESTAMP = Proxy(lambda: sa.TIMESTAMP if ready else 1 / 0)

def upgrade():
    global ready
    ready = True
    assert isinstance(TIMESTAMP, type) and TIMESTAMP == sa.TIMESTAMP
    op.alter_column("deadline", "at", existing_type=sa.DateTime(),
                    type_=TIMESTAMP(timezone=True))
"""
    _, notes, judged = _after(write_migration, first, body)
    assert notes == []
    assert judged == ["ALTER TABLE deadline ALTER COLUMN at TYPE TIMESTAMP WITH TIME ZONE;"]


def test_a_lazy_object_proxy_is_made_only_by_the_migrations_own_use(write_migration) -> None:
    """A tester's proxy of a setting the environment lacks (``os.environ[...]``), never used:
    what migsafe keeps of a module around a made-up run looked at it through ``isinstance``
    and ``getattr``, which made it, and its KeyError ended the whole check. Copied, it is
    what it made; an AttributeError its factory raises is one, not endless recursion."""
    body = """
import copy
import os
from lazy_object_proxy import Proxy

SCHEMA = Proxy(lambda: os.environ["MIGSAFE_TEST_NEVER_SET"])
NAMES = Proxy(lambda: ["a", "b"])
BROKEN = Proxy(lambda: {}.missing)

def upgrade():
    assert copy.deepcopy(NAMES) == ["a", "b"] and -Proxy(lambda: 2) // 1 == -2
    try:
        BROKEN.anything
    except AttributeError:
        pass
    if not sa.inspect(op.get_bind()).has_table("audit_log"):
        op.create_table("audit_log", sa.Column("id", sa.Integer, primary_key=True))
"""
    _, notes, judged = _after_variable(write_migration, body)
    assert notes == []
    assert judged[0].startswith("CREATE TABLE audit_log")


def test_orm_lookups_of_a_table_made_outside_find_rows_of_the_models_types(
    write_migration,
) -> None:
    """superset's permission migrations look up Flask-AppBuilder's view menus by name
    (``ab_view_menu``, which no revision makes: its columns are not known), one name after
    another from one line, the same name twice, and add the missing ones: where reads find
    a row, each lookup finds one of the types the ORM model says (before, none: the notice
    stayed), and a name looked up again finds it again (a loop of batches, which asks the
    same text twice in a row, still ends)."""
    first = "def upgrade():\n    op.create_table('slices', sa.Column('id', sa.Integer))\n"
    body = """
from sqlalchemy.orm import Session, declarative_base

class ViewMenu(declarative_base()):
    __tablename__ = "ab_view_menu"
    id = sa.Column(sa.Integer, sa.Sequence("ab_view_menu_id_seq"), primary_key=True)
    name = sa.Column(sa.String(250), unique=True, nullable=False)
    created = sa.Column(sa.DateTime(timezone=True))

def _find(session, name):
    return session.query(ViewMenu).filter(ViewMenu.name == name).one_or_none()

def upgrade():
    session = Session(bind=op.get_bind())
    for name in ("Chart", "Dashboard", "Chart"):
        menu = _find(session, name)
        if menu is None:
            session.add(ViewMenu(name=name))
            session.flush()
        elif menu.created.tzinfo is None:
            raise ValueError("a timestamp with a time zone comes back with one")
    session.commit()
    op.add_column("slices", sa.Column("perm", sa.Text))
"""
    _, notes, judged = _after(write_migration, first, body)
    assert [d.message for d in notes] == []
    # each name was found: nothing added
    assert not any(sql.startswith("INSERT INTO ab_view_menu") for sql in judged), judged


def test_a_row_has_constants_text_functions_and_values_of_an_application_type(
    write_migration,
) -> None:
    """langflow asks ``SELECT 1 FROM knowledge_base WHERE ... LIMIT 1`` and reads ids of a
    column whose type is the application's own (sqlmodel's, not installed); open-webui
    groups ``lower(email)``: none of these found a row, and the notice stayed. A constant is
    itself, ``lower()`` of a column is text, and a value of a type not known is an opaque
    text the migration passes back as it is."""
    first = """
from sqlmodel_not_installed import AutoString

def upgrade():
    op.create_table("kb", sa.Column("id", AutoString(), primary_key=True),
                    sa.Column("email", sa.Text), sa.Column("backend", sa.Text))
"""
    body = """
def upgrade():
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT 1 FROM kb WHERE backend = 'sqlite' LIMIT 1")).first():
        for (email, total) in bind.execute(sa.text(
            "SELECT lower(email) AS email, count(*) FROM kb GROUP BY lower(email)"
        )):
            for (id_,) in bind.execute(sa.text("SELECT id FROM kb WHERE lower(email) = :e"),
                                       {"e": email}):
                bind.execute(sa.text("UPDATE kb SET backend = 'pg' WHERE id = :i"), {"i": id_})
    op.add_column("kb", sa.Column("migrated", sa.Boolean))
"""
    _, notes, judged = _after(write_migration, first, body)
    assert [d.message for d in notes] == []
    assert "UPDATE kb SET backend = 'pg' WHERE id = '{}'" in judged, judged


def test_select_star_of_a_table_known_whole_gives_every_column(write_migration) -> None:
    """prefect pages through ``SELECT * from artifact_collection ORDER BY id LIMIT 500
    OFFSET 0``: a star gave one nameless column, so no row could be made. Of a table whose
    every column the history made, it gives them all, named and in order; the pages end."""
    body = """
def upgrade():
    bind = op.get_bind()
    offset = 0
    while True:
        rows = bind.execute(sa.text(
            f"SELECT * FROM variable ORDER BY id LIMIT 100 OFFSET {offset}"
        )).mappings().all()
        if not rows:
            break
        for row in rows:
            bind.execute(sa.text("UPDATE variable SET kind = :k WHERE id = :i"),
                         {"k": len(row["val"]), "i": row["id"]})
        offset += 100
    op.add_column("variable", sa.Column("checked", sa.Boolean))
"""
    _, notes, judged = _after_variable(write_migration, body)
    assert notes == []
    assert "UPDATE variable SET kind = 2 WHERE id = 1" in judged, judged


def test_a_row_found_has_the_values_its_query_pins_and_is_keyed_by_name(
    write_migration,
) -> None:
    """superset converts the charts it reads ``WHERE viz_type = 'pie'`` only if the one it
    finds is a pie (a made-up text never is: the run showed nothing of the conversion); and
    waiverdb, written for SQLAlchemy 1.x, reads ``row["val"]``, a TypeError under 2.x. The
    row found holds what the WHERE clause pins, and answers to a column's name."""
    body = """
def upgrade():
    bind = op.get_bind()
    query = "SELECT id, val, kind FROM variable WHERE val = 'pie' AND kind IN (3, 4)"
    for row in bind.execute(sa.text(query)):
        if row["val"] == "pie" and row["kind"] == 3:
            bind.execute(sa.text("UPDATE variable SET val = 'pie_v2' WHERE id = :i"),
                         {"i": row["id"]})
    op.add_column("variable", sa.Column("migrated", sa.Boolean))
"""
    _, notes, judged = _after_variable(write_migration, body)
    assert notes == []
    assert "UPDATE variable SET val = 'pie_v2' WHERE id = 1" in judged


def test_a_query_of_postgresqls_catalog_is_answered_from_the_schema_built(
    write_migration,
) -> None:
    """faraday asks ``information_schema.columns`` whether ``rule.name`` is there before it
    adds it, and whether ``rule.object`` is before it drops it: an empty database's answer
    (no) added a column three revisions had added (a false add-column-not-null-without-
    default) and missed the drop. phoenix checks ``pg_index.indisvalid`` of each index it
    built. The catalog's answer is the schema's, and no read is noticed."""
    first = """
def upgrade():
    op.create_table("rule", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("object", sa.JSON, nullable=False),
                    sa.Column("name", sa.String, nullable=False))
    op.create_index("ix_rule_name", "rule", ["name"])
"""
    body = """
from sqlalchemy import text

def column_exists(t, c):
    return op.get_bind().execute(text(
        "SELECT exists(SELECT 1 FROM information_schema.columns "
        "WHERE table_name = :t AND column_name = :c) as exists").bindparams(t=t, c=c)
    ).first().exists

def upgrade():
    bind = op.get_bind()
    if not column_exists("rule", "name"):
        op.add_column("rule", sa.Column("name", sa.String(), nullable=False))
    if column_exists("rule", "object"):
        op.drop_column("rule", "object")
    valid = bind.execute(text(
        "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('ix_rule_name')"
    )).scalar()
    keys = bind.execute(text(
        "SELECT conname FROM pg_constraint WHERE contype = 'p' AND conrelid = 'rule'::regclass"
    )).fetchall()
    if valid is not True or keys != [("rule_pkey",)]:
        raise RuntimeError(f"{valid!r} {keys!r}")
"""
    _, notes, judged = _after(write_migration, first, body)
    assert [d.message for d in notes] == []
    schema_changes = [sql for sql in judged if not sql.startswith("SELECT")]
    assert schema_changes == ["ALTER TABLE rule DROP COLUMN object;"]


def test_a_batch_block_that_recreates_a_table_reflects_it_from_the_schema_built(
    write_migration,
) -> None:
    """langflow recreates ``file`` in a batch block (``recreate="always"``): Alembic refuses
    to reflect a table under ``--sql``, and the revision was not checked. It is reflected
    from the schema built, as a deploy reflects it from the database: a column of the
    application's own type (its module not installed) stays of that type in the copy, and
    a serial key's sequence is told as owned by it (Alembic asks ``pg_depend``)."""
    first = """
from myapp_not_installed.types import Uuid

def upgrade():
    op.create_table("file", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("owner", Uuid(), nullable=False), sa.Column("name", sa.Text))
"""
    body = """
def upgrade():
    with op.batch_alter_table("file", recreate="always") as batch_op:
        batch_op.create_unique_constraint("uq_file_name", ["name"])
"""
    _, notes, judged = _after(write_migration, first, body)
    assert notes == []
    copy = next(sql for sql in judged if sql.startswith("CREATE TABLE _alembic_tmp_file"))
    assert 'owner migsafe_unknown."Uuid" NOT NULL' in copy and "nextval" not in copy
    assert judged[-2:] == ["DROP TABLE file;", "ALTER TABLE _alembic_tmp_file RENAME TO file;"]


def test_a_migration_reading_as_sql_asks_whether_it_runs_offline(write_migration) -> None:
    """prefect rebuilds an index only online: ``if op.get_context().as_sql: raise
    RuntimeError(...)``. Offline it raised, and nothing of what a deploy runs was checked;
    it is judged as a deploy runs it, as a migration asking ``is_offline_mode()`` is.
    Alembic's own reads of ``as_sql`` are answered as before."""
    first = "def upgrade():\n    op.create_table('event', sa.Column('at', sa.DateTime))\n"
    body = """
def upgrade():
    context = op.get_context()
    with context.autocommit_block():
        if context.as_sql:
            raise RuntimeError("this revision requires an online migration")
        op.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_event_at ON event (at)")
"""
    _, notes, judged = _after(write_migration, first, body)
    assert notes == []
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_event_at ON event (at);" in judged


def test_a_catalog_query_joining_relations_is_answered_from_the_schema_built(
    write_migration,
) -> None:
    """langflow relabels an enum after reading its labels from ``pg_enum JOIN pg_type``, and
    prefect rebuilds an index it finds in ``pg_index JOIN pg_class JOIN pg_namespace``,
    naming it ``format('%I.%I', nspname, relname)``: a query of joined catalog relations
    was a read, its rows an empty database's, and the relabelling went unseen."""
    first = """
def upgrade():
    op.create_table("span", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("status", sa.Enum("OK", "ERROR", name="spanstatus")))
    op.create_index("ix_span_status", "span", ["status"])
"""
    body = """
def upgrade():
    bind = op.get_bind()
    labels = {row[0] for row in bind.execute(sa.text(
        "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
        "WHERE t.typname = 'spanstatus' AND pg_type_is_visible(t.oid) ORDER BY 1"
    ))}
    if "OK" in labels and "ok" not in labels:
        op.execute("ALTER TYPE spanstatus RENAME VALUE 'OK' TO 'ok'")
    index = bind.execute(sa.text(
        "SELECT format('%I.%I', n.nspname, c.relname), i.indisvalid FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE i.indrelid = to_regclass('span') AND c.relname = 'ix_span_status'"
    )).first()
    if index is not None and index[1]:
        op.execute(f"COMMENT ON INDEX {index[0]} IS 'valid'")
    if bind.execute(sa.text(
        "SELECT 1 FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid "
        "WHERE c.relname = 'ix_span_status' AND NOT i.indisvalid"
    )).first():
        op.execute("REINDEX INDEX ix_span_status")
"""
    _, notes, judged = _after(write_migration, first, body)
    assert [d.message for d in notes] == []
    assert [sql for sql in judged if not sql.startswith("SELECT")] == [
        "ALTER TYPE spanstatus RENAME VALUE 'OK' TO 'ok';",
        "COMMENT ON INDEX public.ix_span_status IS 'valid';",
    ]


@pytest.mark.parametrize(
    "first",
    [
        # a revision before it raised: the schema is not known whole
        "def upgrade():\n    op.create_table('rule', sa.Column('id', sa.Integer))\n"
        "    raise RuntimeError('needs the application')\n",
        # a table the history only altered: of its columns only some are known
        "def upgrade():\n    op.add_column('rule', sa.Column('id', sa.Integer))\n",
    ],
)
def test_a_catalog_query_the_schema_built_cannot_answer_is_a_read(
    write_migration, first: str
) -> None:
    body = """
def upgrade():
    found = op.get_bind().execute(sa.text(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'rule'"
    )).fetchall()
    if not found:
        op.create_table("rule", sa.Column("id", sa.Integer))
"""
    _, notes, _ = _after(write_migration, first, body)
    assert any("reads rows through op.get_bind()" in d.message for d in notes), notes


def test_a_function_that_raises_on_an_empty_answer_is_judged_where_reads_find_a_row(
    write_migration,
) -> None:
    """lemur inserts a rotation policy and reads its id back: offline the read found
    nothing, ``fetchone()[0]`` raised, and the whole-table UPDATE after it, under the lock
    of the column just added, went unjudged. Where each query finds a row it runs to its
    end: that run is judged, and the notice says what was taken."""
    body = """
def upgrade():
    op.add_column("variable", sa.Column("policy_id", sa.Integer()))
    conn = op.get_bind()
    conn.execute(sa.text("INSERT INTO variable (val) VALUES ('default')"))
    found = conn.execute(sa.text("SELECT id FROM variable WHERE val = 'default'")).fetchone()
    conn.execute(sa.text("UPDATE variable SET policy_id = :p").bindparams(p=found[0]))
"""
    path, notes, judged = _after_variable(write_migration, body)
    assert "UPDATE variable SET policy_id = 1" in judged
    (notice,) = notes
    assert notice.message.startswith(
        "upgrade() reads rows through op.get_bind() (SELECT id FROM variable WHERE val = "
        "'default'): where they come back as from an empty database, it raised TypeError: "
        "'NoneType' object is not subscriptable (line "
    )
    result = command.check([path.parent])
    rules = {f.rule for f in result.findings if f.path == path}
    assert {"data-change-with-ddl", "unbatched-update"} <= rules


def test_a_rows_run_may_change_the_schema_in_another_order(write_migration) -> None:
    """The indexes ``create_table()`` makes come in the order of a set, not the same from
    one run to the next (open-webui's ``knowledge_file``): the run where reads find a row
    is kept when it changes the schema as the first did, in whatever order."""
    body = """
def upgrade():
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, val FROM variable")).fetchall()
    for id_, val in rows:
        bind.execute(sa.text("UPDATE variable SET kind = 1 WHERE id = :i"), {"i": id_})
    names = ["ix_variable_id", "ix_variable_val"]
    for name in (reversed(names) if rows else names):
        op.create_index(name, "variable", [name.split("_")[-1]])
"""
    _, notes, judged = _after_variable(write_migration, body)
    assert notes == []
    assert judged[-1] == "CREATE INDEX ix_variable_id ON variable (id);"


@pytest.mark.parametrize(
    "loop",
    [
        # a key whose text it looks into: the path for a dotted key is not the one taken
        "for (key,) in rows:\n        if '.' in key:",
        # a value it compares with one it names: no made-up value is that one
        "for (key,) in rows:\n        if key == 'leaf':",
    ],
)
def test_a_rows_run_that_shows_nothing_rows_change_keeps_the_notice(
    write_migration, loop: str
) -> None:
    """fides renames monitor keys with a dot in them, dropping and making foreign keys, and
    rewrites conditions whose type is 'leaf': where the read finds a row of made-up values,
    that path is not taken, and the run did just what it did with none. It showed nothing
    of what rows change, so the notice that statements depending on them are not checked
    stays."""
    body = f"""
def upgrade():
    rows = op.get_bind().execute(sa.text("SELECT val FROM variable")).fetchall()
    {loop}
            op.drop_column("variable", "kind")
    op.create_index("ix_variable_val", "variable", ["val"])
"""
    _, notes, _ = _after_variable(write_migration, body)
    (notice,) = notes
    assert "reads rows through op.get_bind()" in notice.message


def test_a_read_it_refuses_to_go_on_after_finds_none_where_reads_find_a_row(
    write_migration,
) -> None:
    """open-webui checks for duplicate emails and raises before it builds a unique index;
    optuna counts invalid rows and raises, then deletes others. Where each query found a
    row, the migration refused at its own ``raise``, and the notice stayed, though the path
    that goes on is plain: the query it refuses after finds none there. That run is judged,
    with what the other reads do per row (the UPDATE), and no notice is left."""
    body = """
def upgrade():
    bind = op.get_bind()
    duplicates = bind.execute(sa.text(
        "SELECT lower(val) AS val, count(*) AS n FROM variable"
        " GROUP BY lower(val) HAVING count(*) > 1"
    )).fetchall()
    if duplicates:
        raise RuntimeError(
            f"Merge or remove the duplicates first: {duplicates}"
        )
    for id_, val in bind.execute(sa.text("SELECT id, val FROM variable")).fetchall():
        bind.execute(
            sa.text("UPDATE variable SET val = :v WHERE id = :i"), {"v": val.lower(), "i": id_}
        )
    op.create_index("uq_variable_val", "variable", [sa.text("lower(val)")], unique=True)
"""
    _, notes, judged = _after_variable(write_migration, body)
    assert notes == []
    assert "UPDATE variable SET val = '{}' WHERE id = 1" in judged
    assert judged[-1].startswith("CREATE UNIQUE INDEX uq_variable_val")


def test_a_migration_whose_only_read_is_a_refusal_is_judged_without_a_notice(
    write_migration,
) -> None:
    """Its read only decides whether it refuses to go on: no statement depends on rows."""
    body = """
def upgrade():
    found = op.get_bind().execute(sa.text("SELECT count(*) FROM variable WHERE val IS NULL"))
    if found.scalar() != 0:
        raise ValueError("Found rows without a value")
    op.alter_column("variable", "val", nullable=False)
"""
    _, notes, judged = _after_variable(write_migration, body)
    assert notes == []
    assert judged[-1] == "ALTER TABLE variable ALTER COLUMN val SET NOT NULL;"


@pytest.mark.parametrize(
    "stop",
    [
        # an error made-up values provoke, raised as another: no refusal of the data
        "try:\n            int(val)\n        except ValueError:\n"
        "            raise RuntimeError('bad value')",
        # it wrote before it raised: the read fed more than the refusal
        "bind.execute(sa.text('UPDATE variable SET kind = 1 WHERE id = :i'), {'i': id_})\n"
        "        raise RuntimeError('stop')",
        # a library raised on the value (a KeyError): no raise of the script's own
        "{}[val]",
    ],
)
def test_a_raise_that_is_no_refusal_after_a_read_keeps_the_notice(
    write_migration, stop: str
) -> None:
    body = f"""
def upgrade():
    bind = op.get_bind()
    for id_, val in bind.execute(sa.text("SELECT id, val FROM variable")).fetchall():
        {stop}
    op.add_column("variable", sa.Column("extra", sa.Text))
"""
    _, notes, _ = _after_variable(write_migration, body)
    assert any("reads rows through op.get_bind()" in d.message for d in notes), notes


def test_json_read_with_a_row_holds_the_keys_the_migration_names(write_migration) -> None:
    """superset's chart migrations and open-webui's rename a key of a JSON document only if
    it holds it (``if "granularity" in params:``); a made-up ``{}`` holds none, the run did
    what it did with no rows, and the notice stayed. A third run, whose documents hold each
    key the script names, shows the UPDATE per row, and it is judged (under the ADD
    COLUMN's lock)."""
    body = """
import json

def upgrade():
    op.add_column("variable", sa.Column("extra", sa.Text))
    bind = op.get_bind()
    for id_, val in bind.execute(sa.text("SELECT id, val FROM variable")).fetchall():
        params = json.loads(val)
        if "granularity" in params:
            params["time_grain"] = params.pop("granularity")
            bind.execute(
                sa.text("UPDATE variable SET val = :v WHERE id = :i"),
                {"v": json.dumps(params), "i": id_},
            )
"""
    path, notes, judged = _after_variable(write_migration, body)
    assert notes == []
    (update,) = [sql for sql in judged if sql.startswith("UPDATE variable")]
    assert '"time_grain": "granularity"' in update
    result = command.check([path.parent])
    assert "data-change-with-ddl" in {f.rule for f in result.findings if f.path == path}


def test_a_key_the_run_with_keys_reaches_must_not_change_the_schema(write_migration) -> None:
    """Where the documents holding its keys make it change the schema otherwise, that run
    is not judged: the notice stays."""
    body = """
import json

def upgrade():
    for (val,) in op.get_bind().execute(sa.text("SELECT val FROM variable")).fetchall():
        if "legacy" in json.loads(val):
            op.drop_column("variable", "kind")
"""
    _, notes, judged = _after_variable(write_migration, body)
    assert any("reads rows through op.get_bind()" in d.message for d in notes), notes
    assert judged == ["SELECT val FROM variable"]


def test_a_pickled_document_read_from_bytea_holds_the_keys_the_migration_names(
    write_migration,
) -> None:
    """airflow converts each run's pickled ``conf`` (a ``PickleType`` column, bytea) to
    JSON, and skips one that does not unpickle: no made-up bytes did, and what it does per
    row went unseen."""
    first = """
def upgrade():
    op.create_table("dag_run", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("conf", sa.LargeBinary), sa.Column("conf_json", sa.JSON))
"""
    body = """
import json
import pickle

def upgrade():
    op.add_column("dag_run", sa.Column("note", sa.Text))
    bind = op.get_bind()
    for id_, conf in bind.execute(sa.text("SELECT id, conf FROM dag_run")).fetchall():
        try:
            data = pickle.loads(conf)
        except Exception:
            continue
        if "run_type" in data:
            bind.execute(sa.text("UPDATE dag_run SET conf_json = :j WHERE id = :i"),
                         {"j": json.dumps(data), "i": id_})
"""
    _, notes, judged = _after(write_migration, first, body)
    assert notes == []
    assert any(sql.startswith("UPDATE dag_run SET conf_json") for sql in judged)


def test_a_row_found_by_an_in_list_holds_one_end_of_it_then_the_other(write_migration) -> None:
    """langflow reads ``WHERE backend_type IN (...)`` of a list built from a set, whose order
    differs from one process to the next, and updates only the rows of one backend: the
    row found held the list's first value, so the per-row work was seen in one run of
    check and not in the next. The first values take the least of the list, the other
    values the greatest: whichever the migration acts on is seen, every time."""
    body = """
def upgrade():
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, val FROM variable WHERE val IN ('chroma', 'opensearch')"
    )).fetchall()
    for id_, val in rows:
        if val == "opensearch":
            bind.execute(sa.text("UPDATE variable SET kind = 1 WHERE id = :i"), {"i": id_})
"""
    _, notes, judged = _after_variable(write_migration, body)
    assert notes == []
    assert "UPDATE variable SET kind = 1 WHERE id = 2" in judged


def test_the_same_read_after_a_write_finds_its_row_again(write_migration) -> None:
    """superset adds a column to two tables in an outer loop, reading the same rows for
    each and updating that table per row: the second, identical read was taken for a loop
    that drains its query, found nothing, and the second table's UPDATE went unseen. Asked
    again after a write, a query finds its row again; asked again right after itself, with
    nothing written, it still finds none (the drain ends)."""
    first = VARIABLE + (
        '    op.create_table("other", sa.Column("id", sa.Integer, primary_key=True),\n'
        '                    sa.Column("var_id", sa.Integer))\n'
    )
    body = """
def upgrade():
    bind = op.get_bind()
    for table in ("variable", "other"):
        op.add_column(table, sa.Column("datasource_id", sa.Integer))
        for (id_,) in bind.execute(sa.text("SELECT id FROM variable")).fetchall():
            bind.execute(sa.text(f"UPDATE {table} SET datasource_id = :i WHERE id = :i"),
                         {"i": id_})
    while bind.execute(sa.text("SELECT id FROM variable WHERE kind IS NULL")).fetchall():
        pass
"""
    _, notes, judged = _after(write_migration, first, body)
    assert notes == []
    updates = [sql for sql in judged if sql.startswith("UPDATE")]
    assert updates == [
        "UPDATE variable SET datasource_id = 1 WHERE id = 1",
        "UPDATE other SET datasource_id = 1 WHERE id = 1",
    ]


def test_a_stand_in_sqlalchemy_refuses_in_a_try_block_is_noticed(write_migration) -> None:
    """superset's downgrade queries a model of a module stood in, inside ``try: ... except
    Exception: logger.warning(ex)``: SQLAlchemy refused the stand-in, the handler took the
    error, and what the block would have read and updated went unseen without a word. It
    is noticed; where nothing takes the error, the run's failure says it, once."""
    body = """
from sqlalchemy.orm import Session
from myapp_not_installed.models import SqlaTable

def upgrade():
    session = Session(bind=op.get_bind())
    try:
        for table in session.query(SqlaTable).all():
            table.kind = 1
        session.commit()
    except Exception:
        pass
    op.add_column("variable", sa.Column("extra", sa.Text))
"""
    path, notes, judged = _after_variable(write_migration, body)
    (notice,) = notes
    assert notice.message.startswith(
        "upgrade() hands myapp_not_installed.models.SqlaTable to SQLAlchemy, which refuses it "
        "(myapp_not_installed stood in"
    ), notice.message
    assert "the migration's handler went on; the statements after it are checked" in (
        notice.message
    )
    assert judged[-1] == "ALTER TABLE variable ADD COLUMN extra TEXT;"
    unguarded = body.replace("    try:\n", "    if True:\n").replace(
        "    except Exception:\n        pass\n", ""
    )
    path.write_text(path.read_text().replace(body.strip(), unguarded.strip()))
    result = command.check([path.parent])
    (failure,) = [d for d in result.diagnostics if d.path == path]
    assert failure.message.startswith("upgrade() raised ArgumentError"), failure.message


def test_a_refusal_of_the_first_values_leaves_the_other_values_their_own_path(
    write_migration,
) -> None:
    """A tester's migration refuses where the row it reads is archived, and drops a column
    where it is live: the refusal followed under the first values was followed under the
    others too, so the read found none there, the drop was never seen, and the notice went.
    Each set of values follows its own refusals."""
    body = """
def upgrade():
    bind = op.get_bind()
    r = bind.execute(sa.text(
        "SELECT id, val FROM variable WHERE val IN ('archived', 'live') LIMIT 1"
    )).fetchone()
    if r is not None and r.val == "archived":
        raise RuntimeError("unarchive first")
    if r is not None:
        op.drop_column("variable", "kind")
"""
    _, notes, _ = _after_variable(write_migration, body)
    assert any("reads rows through op.get_bind()" in d.message for d in notes), notes


def test_a_float_an_in_list_pins_is_the_rows_number(write_migration) -> None:
    """``price IN (9.5, 10.5)``: the row found holds one of them, as a number (pglast keeps a
    float's text, which pinned nothing: the row held 1, and the migration's own check that
    the row is one it asked for raised, which was taken for a refusal)."""
    body = """
def upgrade():
    bind = op.get_bind()
    for r in bind.execute(sa.text("SELECT id, kind FROM variable WHERE kind IN (9.5, 10.5)")):
        if r.kind not in (9.5, 10.5):
            raise RuntimeError("impossible row")
        bind.execute(sa.text("UPDATE variable SET val = 'x' WHERE id = :i"), {"i": r.id})
"""
    _, notes, judged = _after_variable(write_migration, body)
    assert notes == []
    assert "UPDATE variable SET val = 'x' WHERE id = 1" in judged


def test_a_json_document_a_migration_changes_is_its_rows_own(write_migration) -> None:
    """A migration that changes the JSON document it read (``meta["seen"] = True``) changed
    the made-up document itself, which every later row and script read as it was left."""
    first = (
        "def upgrade():\n"
        "    op.create_table('doc', sa.Column('id', sa.Integer, primary_key=True),\n"
        "                    sa.Column('meta', sa.JSON))\n"
    )
    body = """
def upgrade():
    doc = sa.table("doc", sa.column("id"), sa.column("meta", sa.JSON))
    bind = op.get_bind()
    for row in bind.execute(sa.select(doc.c.id, doc.c.meta)).fetchall():
        row.meta["seen"] = True
    for row in bind.execute(sa.select(doc.c.id, doc.c.meta).where(doc.c.id > 0)).fetchall():
        if "seen" not in row.meta:  # a row of its own: no other row's change is in it
            bind.execute(sa.update(doc).where(doc.c.id == row.id).values(meta={"new": 1}))
"""
    _, notes, judged = _after(write_migration, first, body)
    assert notes == []
    assert any(sql.startswith("UPDATE doc") for sql in judged), judged


def test_what_a_made_up_run_keeps_in_a_module_is_gone_after_it(write_migration) -> None:
    """A tester's migration keeps the ids it read in a module-level list: the run where
    reads find a row filled it, and its downgrade (and a later script through a helper
    module) read the made-up ids instead of the database, skipped its read, and the index
    it builds where there are none, with its finding, went unseen. What a made-up run
    leaves in the script's module and the modules it names is undone after it."""
    body = """
_legacy = []

def _legacy_ids(bind):
    if not _legacy:
        _legacy.extend(r.id for r in bind.execute(sa.text("SELECT id FROM variable")))
    return _legacy

def upgrade():
    for i in _legacy_ids(op.get_bind()):
        op.execute(f"UPDATE variable SET kind = 1 WHERE id = {i}")

def downgrade():
    if not _legacy_ids(op.get_bind()):
        op.create_index("ix_variable_val", "variable", ["val"])
"""
    path, _, _ = _after_variable(write_migration, body)
    result = command.check([path.parent])
    judged = {(f.rule, f.line) for f in result.findings if f.path == path}
    assert ("create-index-not-concurrently", line_of(path, "op.create_index")) in judged


def test_a_json_column_read_with_a_row_comes_back_decoded(write_migration) -> None:
    """langflow reads ``sa.select(role.c.permissions)`` of an ``sa.JSON()`` column and checks
    it is a list: psycopg2 decodes JSON itself, and SQLAlchemy does not decode it again. Offline
    the JSON value of the row was decoded twice (a TypeError), and the notice stayed."""
    first = (
        "def upgrade():\n"
        "    op.create_table('role', sa.Column('id', sa.Integer, primary_key=True),\n"
        "                    sa.Column('permissions', sa.JSON))\n"
    )
    body = (
        "def upgrade():\n"
        "    role = sa.table('role', sa.column('id'), sa.column('permissions', sa.JSON()))\n"
        "    bind = op.get_bind()\n"
        "    for row in bind.execute(sa.select(role.c.id, role.c.permissions)).mappings():\n"
        "        if not isinstance(row['permissions'], (dict, list)):\n"
        "            raise TypeError(row['permissions'])\n"
        "        bind.execute(role.update().where(role.c.id == row['id']).values(\n"
        "            permissions=[]))\n"
    )
    _, notes, judged = _after(write_migration, first, body)
    assert notes == []
    assert "UPDATE role SET permissions='[]'::JSON WHERE role.id = 1" in judged


def test_an_orm_row_keyed_by_a_named_sequence_gets_its_key_back(write_migration) -> None:
    """superset's security migrations add ORM rows whose key column names its sequence
    (``Column(Integer, Sequence("ab_view_menu_id_seq"), primary_key=True)``): the INSERT says
    ``nextval('ab_view_menu_id_seq')`` and returns the key, which offline came back NULL and
    stopped the flush (FlushError). The sequence is numbered as a serial column's is, and a
    serial column's INSERT without the key shares its numbers."""
    first = (
        "def upgrade():\n"
        "    op.create_table('ab_view_menu', sa.Column('id', sa.Integer,\n"
        "        sa.Sequence('ab_view_menu_id_seq'), primary_key=True),\n"
        "        sa.Column('name', sa.String(250), unique=True, nullable=False))\n"
        "    op.create_table('ab_role', sa.Column('id', sa.Integer, primary_key=True))\n"
    )
    body = (
        "from sqlalchemy.orm import Session, declarative_base\n"
        "Base = declarative_base()\n"
        "class ViewMenu(Base):\n"
        "    __tablename__ = 'ab_view_menu'\n"
        "    id = sa.Column(sa.Integer, sa.Sequence('ab_view_menu_id_seq'), primary_key=True)\n"
        "    name = sa.Column(sa.String(250), unique=True, nullable=False)\n"
        "class Role(Base):\n"
        "    __tablename__ = 'ab_role'\n"
        "    id = sa.Column(sa.Integer, primary_key=True)\n"
        "def upgrade():\n"
        "    session = Session(bind=op.get_bind())\n"
        "    menus = [ViewMenu(name='a'), ViewMenu(name='b')]\n"
        "    session.add_all([*menus, Role(), Role()])\n"
        "    session.flush()\n"
        "    assert sorted(m.id for m in menus) == [1, 2], [m.id for m in menus]\n"
        "    session.commit()\n"
        "    op.add_column('ab_view_menu', sa.Column('icon', sa.Text))\n"
    )
    _, notes, judged = _after(write_migration, first, body)
    assert [d.message for d in notes] == []
    inserts = [sql for sql in judged if sql.startswith("INSERT")]
    assert any("nextval('ab_view_menu_id_seq')" in sql for sql in inserts), inserts


def test_each_table_a_helper_reads_from_one_line_gets_its_row(write_migration) -> None:
    """manila lower-cases the statuses of two tables through one helper, called in a loop at
    one line: only the first table's read found a row, the second table's UPDATEs went
    unseen, and yet the notice that rows were read went (it was asked per line)."""
    first = (
        "def upgrade():\n"
        "    for name in ('shares', 'share_servers'):\n"
        "        op.create_table(name, sa.Column('id', sa.Integer, primary_key=True),\n"
        "                        sa.Column('status', sa.String(255)))\n"
    )
    body = (
        "def _lower(bind, name):\n"
        "    for id_, status in bind.execute(sa.text(f'SELECT id, status FROM {name}')):\n"
        "        bind.execute(sa.text(f'UPDATE {name} SET status = :s WHERE id = :i'),\n"
        "                     {'s': status.lower(), 'i': id_})\n"
        "def upgrade():\n"
        "    bind = op.get_bind()\n"
        "    for name in ('shares', 'share_servers'):\n"
        "        _lower(bind, name)\n"
    )
    _, notes, judged = _after(write_migration, first, body)
    assert notes == []
    updates = [sql for sql in judged if sql.startswith("UPDATE")]
    assert [sql.split()[1] for sql in updates] == ["shares", "share_servers"]


def test_where_only_whether_rows_exist_decides_the_run_doing_all_the_other_does_is_judged(
    write_migration,
) -> None:
    """prefect moves its work queues in an autocommit block only where it found some; ckan
    keeps its ``related`` tables if they hold rows and drops them if not. The runs with
    rows changed the schema otherwise than the run with none, a notice said what depends on
    them was not checked, and a populated database's path went unjudged. Where both sets of
    values take one path, the run that does all the other does is judged: every statement
    of either path is in it."""
    more = """
def upgrade():
    op.add_column("variable", sa.Column("note", sa.Text()))
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM variable WHERE note IS NULL")).scalar():
        op.create_index("ix_variable_val", "variable", ["val"])
        bind.execute(sa.text("UPDATE variable SET note = 'x'"))
"""
    _, notes, judged = _after_variable(write_migration, more)
    assert notes == []
    assert "CREATE INDEX ix_variable_val ON variable (val);" in judged
    less = """
def upgrade():
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM variable")).scalar() > 0:
        print("variable holds rows: drop it by hand")
        return
    op.drop_table("variable")
"""
    _, notes, judged = _after_variable(write_migration, less)
    assert notes == []
    assert "DROP TABLE variable;" in judged


def test_a_query_of_joined_tables_finds_a_row_of_both(write_migration) -> None:
    """langflow backfills a grant for each membership that has none: ``memberships LEFT
    OUTER JOIN grants ... WHERE grants.id IS NULL``. A query of joined tables found no
    row, and what was done per membership went unseen."""
    first = """
def upgrade():
    op.create_table("member", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("source", sa.Text))
    op.create_table("grant", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("member_id", sa.Integer))
"""
    body = """
def upgrade():
    op.add_column("member", sa.Column("kind", sa.Text))
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        'SELECT m.id, m.source FROM member AS m LEFT OUTER JOIN "grant" g '
        "ON g.member_id = m.id WHERE g.id IS NULL"
    )).fetchall()
    for id_, source in rows:
        bind.execute(sa.text('INSERT INTO "grant" (member_id) VALUES (:m)'), {"m": id_})
"""
    _, notes, judged = _after(write_migration, first, body)
    assert notes == []
    assert 'INSERT INTO "grant" (member_id) VALUES (1)' in judged


def test_a_write_returning_rows_gives_a_row_of_what_it_wrote(write_migration) -> None:
    """airflow moves each batch of deadlines with one ``UPDATE ... RETURNING id`` and goes
    on from the last id returned: a write that returns rows gave none, and the rest of the
    batch loop went unseen."""
    body = """
def upgrade():
    op.add_column("variable", sa.Column("moved", sa.Boolean))
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(sa.text(
            "UPDATE variable AS v SET moved = true WHERE v.id > :last RETURNING v.id, val"
        ), {"last": last}).fetchall()
        if not rows:
            break
        last = max(row[0] for row in rows)
        bind.execute(sa.text("UPDATE variable SET kind = 2 WHERE id = :id"), {"id": last})
"""
    _, notes, judged = _after_variable(write_migration, body)
    assert notes == []
    assert "UPDATE variable SET kind = 2 WHERE id = 1" in judged


def test_where_one_of_two_questions_finds_none_the_path_is_weighed_too(write_migration) -> None:
    """Where whether rows exist decides, and a function asks two questions, a database
    where one finds rows and the other none takes a path of its own: each is run, and the
    run judged must do all it does (a tester's ``if u is not None and o is None:`` above
    is not judged). Here the run with rows does all of each."""
    body = """
def upgrade():
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM variable WHERE val IS NULL")).scalar():
        op.create_index("ix_variable_kind", "variable", ["kind"])
        for (id_,) in bind.execute(sa.text("SELECT id FROM variable WHERE val IS NULL")):
            bind.execute(sa.text("UPDATE variable SET val = 'x' WHERE id = :i"), {"i": id_})
"""
    _, notes, judged = _after_variable(write_migration, body)
    assert notes == []
    assert "CREATE INDEX ix_variable_kind ON variable (kind);" in judged
    assert "UPDATE variable SET val = 'x' WHERE id = 1" in judged


def test_a_row_found_holds_what_its_where_clause_says(write_migration) -> None:
    """A tester's rows that their own query leaves out: ``WHERE o.id IS NULL`` gave an id,
    and ``WHERE val <> 'purge'`` gave 'purge' (the text the migration compares with), so
    a DELETE no database reaches was judged (unbatched-update)."""
    first = """
def upgrade():
    op.create_table("variable", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("val", sa.Text))
    op.create_table("usage", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("variable_id", sa.Integer))
"""
    body = """
def upgrade():
    op.add_column("variable", sa.Column("unused", sa.Boolean))
    bind = op.get_bind()
    orphans = bind.execute(sa.text(
        "SELECT v.id, u.id FROM variable v LEFT JOIN usage u ON u.variable_id = v.id "
        "WHERE u.id IS NULL")).fetchall()
    for variable_id, usage_id in orphans:
        if usage_id is None:
            bind.execute(sa.text("UPDATE variable SET unused = true WHERE id = :i"),
                         {"i": variable_id})
        else:
            op.execute("DELETE FROM usage")
    for (id_, val) in bind.execute(sa.text("SELECT id, val FROM variable WHERE val <> 'purge'")):
        if val == "purge":
            op.execute("DELETE FROM variable")
"""
    _, notes, judged = _after(write_migration, first, body)
    assert notes == []
    assert "UPDATE variable SET unused = true WHERE id = 1" in judged
    assert not [sql for sql in judged if sql.startswith("DELETE")]


def test_text_read_is_given_what_the_migration_compares_it_with(write_migration) -> None:
    """prefect sets a block schema's capabilities only ``if type == "STORAGE"``: no made-up
    text is that, the run with rows did what the run with none did, and the notice stayed.
    A run where text read is the text the migration compared it with shows the UPDATE."""
    body = """
def upgrade():
    op.add_column("variable", sa.Column("is_storage", sa.Boolean))
    bind = op.get_bind()
    for id_, val in bind.execute(sa.text("SELECT id, val FROM variable")):
        if val == "STORAGE":
            bind.execute(sa.text("UPDATE variable SET is_storage = true WHERE id = :i"),
                         {"i": id_})
"""
    _, notes, judged = _after_variable(write_migration, body)
    assert notes == []
    assert "UPDATE variable SET is_storage = true WHERE id = 1" in judged


@pytest.mark.parametrize(
    "read",
    [
        # with rows it makes one index, with none another: neither run does all the
        # other does, and the notice stays
        "if bind.execute(sa.text('SELECT id FROM variable')).fetchall():\n"
        "        op.create_index('ix_variable_val', 'variable', ['val'])\n"
        "    else:\n"
        "        op.create_index('ix_variable_id', 'variable', ['id'])",
        # a table the history does not show: no row to give
        "for row in bind.execute(sa.text('SELECT id FROM elsewhere')):\n"
        "        op.execute(f'UPDATE elsewhere SET x = 1 WHERE id = {row.id}')",
        # a value no type tells: no row to give
        "for row in bind.execute(sa.text('SELECT id * 2 FROM variable')):\n        pass",
        # one text compared with changes rows, another the schema: each is tried
        "for (id_, val) in bind.execute(sa.text('SELECT id, val FROM variable')):\n"
        "        if val == 'legacy':\n"
        "            bind.execute(sa.text('UPDATE variable SET val = 1 WHERE id = :i'),\n"
        "                         {'i': id_})\n"
        "        elif val == 'searchable':\n"
        "            op.create_index('ix_variable_val', 'variable', ['val'])",
        # a path past a threshold the values 1 and 2 do not reach (a tester's)
        "row = bind.execute(sa.text('SELECT id FROM variable ORDER BY id DESC LIMIT 1'))"
        ".fetchone()\n"
        "    if row is None:\n"
        "        return\n"
        "    op.add_column('variable', sa.Column('note', sa.Text()))\n"
        "    if row[0] > 2_000_000_000:\n"
        "        op.alter_column('variable', 'id', type_=sa.BigInteger())",
        # two questions: where one finds rows and the other none, a path no run took
        "u = bind.execute(sa.text('SELECT id FROM variable LIMIT 1')).first()\n"
        "    o = bind.execute(sa.text('SELECT val FROM variable WHERE kind = 5')).first()\n"
        "    if u is not None and o is None:\n"
        "        op.create_index('ix_variable_val', 'variable', ['val'])\n"
        "    elif u is not None:\n"
        "        op.add_column('variable', sa.Column('note', sa.Text()))",
        # the same statement, in the transaction on one path (where it fails), out of it on
        # the other
        "if bind.execute(sa.text('SELECT id FROM variable LIMIT 1')).first() is not None:\n"
        "        op.create_index('ix_variable_val', 'variable', ['val'],\n"
        "                        postgresql_concurrently=True)\n"
        "    else:\n"
        "        with op.get_context().autocommit_block():\n"
        "            op.create_index('ix_variable_val', 'variable', ['val'],\n"
        "                            postgresql_concurrently=True)",
        # text compared with a text only one run of each that is tried is (the first it
        # compared with): the second run's schema changes are not the first's
        "for (val,) in bind.execute(sa.text('SELECT val FROM variable')):\n"
        "        if val == 'a':\n"
        "            op.drop_column('variable', 'kind')\n"
        "        elif val == 'b':\n"
        "            op.create_index('ix_variable_val', 'variable', ['val'])",
    ],
)
def test_a_read_whose_rows_may_change_what_it_does_is_still_noticed(
    write_migration, read: str
) -> None:
    body = f"\ndef upgrade():\n    bind = op.get_bind()\n    {read}\n"
    _, notes, _ = _after_variable(write_migration, body)
    (notice,) = notes
    assert "reads rows through op.get_bind()" in notice.message


def test_a_try_block_of_a_helper_module_takes_what_postgresql_refuses(
    tmp_path: Path, write_migration
) -> None:
    """skypilot adds a column through a helper of its own that takes ProgrammingError and
    skips the index when the column is there already: the helper's try block was not seen,
    so the index, never built on PostgreSQL, was "already exists" (an error)."""
    library = tmp_path / "lib"
    library.mkdir()
    (library / "db_helpers_for_capture_test.py").write_text(
        "import sqlalchemy as sa\nfrom alembic import op\n"
        "def add_column_with_index(table, column):\n"
        "    try:\n"
        "        op.add_column(table, sa.Column(column, sa.Integer()))\n"
        "    except sa.exc.ProgrammingError as e:\n"
        "        if 'already exists' in str(e):\n"
        "            return\n"
        "        raise\n"
        "    op.create_index(f'ix_{table}_{column}', table, [column])\n"
    )
    write_migration(
        "def upgrade():\n"
        "    op.create_table('history', sa.Column('id', sa.Integer()),\n"
        "                    sa.Column('seen', sa.Integer(), index=True))\n",
        revision="a1", name="1_a1.py",
    )  # fmt: skip
    path = write_migration(
        f"import sys\nsys.path.insert(0, {str(library)!r})\n"
        "from db_helpers_for_capture_test import add_column_with_index\n\n"
        "def upgrade():\n    add_column_with_index('history', 'seen')\n",
        "b2", "a1", name="2_b2.py",
    )  # fmt: skip
    result = command.check([path.parent])
    # in the migration's transaction, the error PostgreSQL raised aborts it all the same
    (error,) = [f for f in result.findings if f.path == path and f.rule == "object-already-exists"]
    assert "PostgreSQL has aborted the transaction" in error.message
    (notice,) = [d for d in result.diagnostics if d.path == path]
    assert "in a try block, which fails on PostgreSQL (what it makes already exists)" in (
        notice.message
    )
    # run on its own (skypilot runs it in an autocommit block): the handler goes on, and the
    # index is never built
    path.write_text(path.read_text().replace(
        "    add_column_with_index('history', 'seen')",
        "    with op.get_context().autocommit_block():\n"
        "        add_column_with_index('history', 'seen')",
    ))  # fmt: skip
    result = command.check([path.parent])
    assert not [f for f in result.findings if f.path == path and f.rule == "object-already-exists"]


def test_a_stand_in_a_helper_iterates_for_the_migration_s_top_level_is_noticed(
    tmp_path: Path, write_migration
) -> None:
    """galaxy names its indexes at import time through a helper that joins
    ``listify(column_names)``, listify stood in: the names came out cut short
    (``ix_workflow_comment_``), silently, and made a false object-already-exists."""
    library = tmp_path / "lib"
    library.mkdir()
    (library / "names_for_capture_test.py").write_text(
        "from util_not_installed import listify\n"
        "def build_index_name(table, columns):\n"
        "    return f'ix_{table}_' + '_'.join(listify(columns))\n"
    )
    path = write_migration(
        f"import sys\nsys.path.insert(0, {str(library)!r})\n"
        "from names_for_capture_test import build_index_name\n"
        "FIRST = build_index_name('comment', 'workflow_id')\n"
        "SECOND = build_index_name('comment', 'parent_id')\n\n"
        "def upgrade():\n"
        "    op.create_index(FIRST, 'comment', ['workflow_id'])\n"
        "    op.create_index(SECOND, 'comment', ['parent_id'])\n"
    )
    result = command.check([path.parent])
    assert "object-already-exists" not in {f.rule for f in result.findings}
    assert any("listify" in d.message for d in result.diagnostics)


def test_sql_written_from_what_env_py_passes_says_env_py_passes_it(write_migration) -> None:
    """trulens' functions take the ``config`` its env.py passes: the notice said that value
    "cannot be imported" (the stand-in's own name taken for its module)."""
    path = write_migration(
        "def upgrade(config):\n"
        "    prefix = config.get_main_option('trulens.table_prefix')\n"
        "    op.create_table(prefix + 'apps', sa.Column('id', sa.Integer))\n"
    )
    (notice,) = command.check([path.parent]).diagnostics
    assert (
        "(context.run_migrations() stood in: env.py passes them, and check does not run "
        "env.py)" in notice.message
    )


def test_what_a_do_block_runs_is_judged(write_migration) -> None:
    """zou adds CHECKs, changes a type and builds a unique index in DO blocks: the block was
    followed into the schema, but no rule saw what it runs."""
    write_migration(
        "def upgrade():\n"
        "    op.create_table('t', sa.Column('n', sa.Integer), sa.Column('s', sa.Text))\n",
        revision="a1", name="1_a1.py",
    )  # fmt: skip
    path = write_migration(
        "def upgrade():\n"
        '    op.execute("""DO $$ BEGIN\n'
        "        IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'ck_n') THEN\n"
        "            ALTER TABLE t ADD CONSTRAINT ck_n CHECK (n > 0);\n"
        "        END IF;\n"
        "        CREATE UNIQUE INDEX ux_t_s ON t (s);\n"
        '    END $$""")\n',
        "b2", "a1", name="2_b2.py",
    )  # fmt: skip
    rules = {f.rule for f in command.check([path.parent]).findings if f.path == path}
    assert {"add-check-constraint-validated", "create-index-not-concurrently"} <= rules
    assert "object-already-exists" not in rules  # the block's own statement applies them once


@pytest.mark.parametrize(
    "read",
    [
        # one path for no row and for 1, another for 2
        "v = bind.execute(sa.text('SELECT kind FROM variable ORDER BY id LIMIT 1')).scalar()\n"
        "    if v is None or v < 2:\n"
        "        op.add_column('variable', sa.Column('note', sa.Text()))",
        # a loop that one row makes endless: the run where reads find one is given up
        "v = bind.execute(sa.text('SELECT kind FROM variable LIMIT 1')).scalar()\n"
        "    while v is not None and v < 10:\n"
        "        pass",
    ],
)
def test_a_value_read_that_decides_what_it_does_keeps_the_notice(
    write_migration, read: str
) -> None:
    """A tester's migration branched on a value it read: the synthetic row took the same
    path as no row, and the notice went; one whose loop never ends with a row lost the
    script's whole result (exit 2)."""
    body = f"\ndef upgrade():\n    bind = op.get_bind()\n    {read}\n"
    _, notes, _ = _after_variable(write_migration, body)
    (notice,) = notes
    assert "reads rows through op.get_bind()" in notice.message and not notice.fatal
