"""lock-timeout-missing (MS058): a lock that blocks writes, requested with no lock_timeout,
judged with what env.py and alembic.ini set."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

from migsafe import command
from tests.conftest import migration_source
from tests.rules.envpy import PLAIN_ENV_PY, findings, lines
from tests.rules.lint import FIRST_BODY_LINE, lint, rendered

RULE = "lock-timeout-missing"
REPO = Path(__file__).resolve().parents[2]


def test_renders_the_setting_to_add(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("nickname", sa.Text()))
"""
    (finding,) = findings(tmp_path, body, rule=RULE)
    assert rendered(finding) == textwrap.dedent("""\
        2: "users" is locked ACCESS EXCLUSIVE with no lock_timeout set: if a transaction holds the table, this migration waits and all reads and writes queue behind it until it gets the lock.
        # for every migration, in env.py (what migsafe init writes), or first thing in upgrade():
        op.execute("SET lock_timeout = '5s'")
        """)  # noqa: E501


def test_a_schema_qualified_table_is_named_with_its_schema(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_index("ix_users_email", "users", ["email"], schema="app")
"""
    (finding,) = findings(tmp_path, body, rule=RULE)
    assert finding.message.startswith('"app"."users" is locked SHARE with no lock_timeout set')
    assert "all writes (INSERT, UPDATE, DELETE) queue behind it" in finding.message


def test_a_set_earlier_in_the_function_counts(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("SET lock_timeout = '3s'")
    op.add_column("users", sa.Column("nickname", sa.Text()))
"""
    assert lines(tmp_path, body, rule=RULE) == []


def test_a_set_local_counts_and_zero_does_not(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("SET LOCAL lock_timeout TO '3s'")
    op.execute("SET lock_timeout = 0")
    op.add_column("users", sa.Column("nickname", sa.Text()))
"""
    assert lines(tmp_path, body, rule=RULE) == [4]


def test_a_set_after_the_lock_is_too_late(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_column("users", "nickname")
    op.execute("SET lock_timeout = '3s'")
"""
    assert lines(tmp_path, body, rule=RULE) == [2]


def test_one_finding_per_function(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("a", sa.Text()))
    op.add_column("users", sa.Column("b", sa.Text()))

def downgrade():
    op.drop_column("users", "b")
    op.drop_column("users", "a")
"""
    assert lines(tmp_path, body, rule=RULE) == [2, 6]


def test_locks_that_let_writes_through_and_new_tables_are_fine(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("t", sa.Column("id", sa.Integer()))
    op.create_index("ix_t_id", "t", ["id"])
    with op.get_context().autocommit_block():
        op.create_index("ix_users_email", "users", ["email"], postgresql_concurrently=True)
    op.execute("ALTER TABLE users VALIDATE CONSTRAINT ck_users_email")

def downgrade():
    op.execute("SELECT 1")
"""
    assert lines(tmp_path, body, rule=RULE) == []


def test_a_new_table_referring_to_itself_locks_nothing_live(tmp_path: Path) -> None:
    """trove's ``instances`` and placement's ``resource_providers`` have foreign keys to
    themselves: creating them locks no table that has traffic."""
    body = """\
def upgrade():
    op.create_table(
        "nodes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("nodes.id")),
    )
"""
    assert lines(tmp_path, body, rule=RULE) == []


def test_env_py_setting_it_counts_for_every_revision(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("nickname", sa.Text()))
"""
    env_py = PLAIN_ENV_PY.replace(
        "    context.configure(", "    connection.exec_driver_sql(\"SET lock_timeout = '5s'\")\n"
        "    context.configure("
    )  # fmt: skip
    assert lines(tmp_path, body, rule=RULE, env_py=env_py) == []
    url_env_py = PLAIN_ENV_PY + '\nOPTIONS = {"options": "-c lock_timeout=5000"}\n'
    assert lines(tmp_path, body, rule=RULE, env_py=url_env_py) == []
    off = PLAIN_ENV_PY + "\nSETTING = \"SET lock_timeout = '0'\"\n"
    assert lines(tmp_path, body, rule=RULE, env_py=off) == [2]


def test_a_file_checked_alone_is_not_judged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("nickname", sa.Text()))
"""
    assert lint(tmp_path, body, rule=RULE) == []  # no env.py read: nothing can be told


def copy_shop(tmp_path: Path) -> Path:
    project = tmp_path / "shop"
    shutil.copytree(REPO / "examples" / "shop", project)
    return project


def rules_of(project: Path) -> set[tuple[str, str]]:
    return {(f.path.name[:10], f.rule) for f in command.check([project]).findings}


def test_a_timeout_env_py_sets_counts_for_every_revision(tmp_path: Path) -> None:
    project = copy_shop(tmp_path)
    assert not any(rule == RULE for _, rule in rules_of(project))  # its env.py sets 5 s
    env = project / "migrations" / "env.py"
    env.write_text(env.read_text().replace("SET lock_timeout = '5s'", "SET lock_timeout = 0"))
    assert any(rule == RULE for _, rule in rules_of(project))


def test_migsafe_inits_env_py_counts_unless_alembic_ini_turns_it_off(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from migsafe.cli import cli

    project = tmp_path / "app"
    CliRunner().invoke(cli, ["init", str(project), "--metadata", "models:metadata"])
    versions = project / "migrations" / "versions"
    (versions / "a1.py").write_text(
        "import sqlalchemy as sa\nfrom alembic import op\n\nrevision = 'a1'\n"
        "down_revision = None\n\n\ndef upgrade() -> None:\n"
        "    op.add_column('users', sa.Column('nickname', sa.Text()))\n\n\n"
        "def downgrade() -> None:\n    op.drop_column('users', 'nickname')\n"
    )
    assert not any(rule == RULE for _, rule in rules_of(project))
    ini = project / "alembic.ini"
    ini.write_text(ini.read_text().replace("lock_timeout = 5s", "lock_timeout = 0"))
    assert any(rule == RULE for _, rule in rules_of(project))


def test_a_new_tables_foreign_key_locks_the_table_it_refers_to(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), sa.ForeignKey("users.id")),
    )
"""
    (finding,) = findings(tmp_path, body, rule=RULE)
    assert finding.message.startswith('"users" is locked SHARE ROW EXCLUSIVE')


def test_a_foreign_key_to_a_table_created_just_before_blocks_nobody(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("users", sa.Column("id", sa.BigInteger(), primary_key=True))
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), sa.ForeignKey("users.id")),
    )
"""
    assert lines(tmp_path, body, rule=RULE) == []


def test_drop_table_locks_the_table_it_drops(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("scratch", sa.Column("id", sa.BigInteger(), primary_key=True))
    op.drop_table("scratch")
    op.execute("DROP TABLE IF EXISTS app.legacy_sessions")
"""
    (finding,) = findings(tmp_path, body, rule=RULE)
    assert finding.line - FIRST_BODY_LINE + 1 == 4
    assert finding.message.startswith('"app"."legacy_sessions" is locked ACCESS EXCLUSIVE')


def test_drop_index_locks_the_table_of_the_index(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.get_context().autocommit_block():
        op.create_index("ix_users_email", "users", ["email"], postgresql_concurrently=True)
    op.drop_index("ix_users_email")
"""
    (finding,) = findings(tmp_path, body, rule=RULE)
    assert finding.line - FIRST_BODY_LINE + 1 == 4
    assert finding.message.startswith('"users" is locked ACCESS EXCLUSIVE')


def test_env_py_two_levels_above_a_nested_versions_directory_is_read(tmp_path: Path) -> None:
    """prefect's layout: migrations/env.py beside versions/postgresql/*.py."""
    (tmp_path / "env.py").write_text(PLAIN_ENV_PY, encoding="utf-8")
    nested = tmp_path / "versions" / "postgresql"
    nested.mkdir(parents=True)
    body = 'def upgrade():\n    op.add_column("users", sa.Column("nickname", sa.Text()))\n'
    (nested / "a1.py").write_text(migration_source(body), encoding="utf-8")
    result = command.check([nested])
    assert [f.rule for f in result.findings if f.rule == RULE] == [RULE]


def test_set_config_counts_as_set(tmp_path: Path) -> None:
    """``set_config('lock_timeout', '5s', true)`` is SET LOCAL, and with false SET."""
    body = """\
def upgrade():
    op.execute("SELECT set_config('lock_timeout', '5s', true)")
    op.add_column("users", sa.Column("a", sa.Text()))
    op.execute("SELECT set_config('lock_timeout', '0', false)")
    op.add_column("users", sa.Column("b", sa.Text()))
"""
    assert lines(tmp_path, body, rule=RULE, env_py=PLAIN_ENV_PY) == [5]


def test_a_set_local_ends_with_its_transaction(tmp_path: Path) -> None:
    """An autocommit block commits the transaction a SET LOCAL was made in: the ALTER after
    it waits without a timeout; a plain SET lasts the session."""
    body = """\
def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    with op.get_context().autocommit_block():
        op.create_index("ix_users_a", "users", ["a"], postgresql_concurrently=True)
    op.add_column("users", sa.Column("b", sa.Text()))
    op.execute("SET lock_timeout = '5s'")
    with op.get_context().autocommit_block():
        op.create_index("ix_users_c", "users", ["c"], postgresql_concurrently=True)
    op.add_column("users", sa.Column("d", sa.Text()))
"""
    assert lines(tmp_path, body, rule=RULE, env_py=PLAIN_ENV_PY) == [5]


def test_a_drop_if_exists_of_a_table_not_there_locks_nothing(tmp_path: Path) -> None:
    """open-webui drops ``_alembic_tmp_tag`` IF EXISTS, the copy batch mode leaves only when
    a run failed: no table the application uses is locked; the ALTER after it is."""
    body = """\
def upgrade():
    op.execute("DROP TABLE IF EXISTS _alembic_tmp_tag")
    op.add_column("tag", sa.Column("meta", sa.Text()))
"""
    (finding,) = findings(tmp_path, body, rule=RULE, env_py=PLAIN_ENV_PY)
    assert finding.line - FIRST_BODY_LINE + 1 == 3
    assert finding.message.startswith('"tag" is locked ACCESS EXCLUSIVE')


def test_a_savepoint_does_not_end_a_set_local(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("SAVEPOINT before_alter")
    op.add_column("users", sa.Column("b", sa.Text()))
"""
    assert lines(tmp_path, body, rule=RULE, env_py=PLAIN_ENV_PY) == []


def test_renaming_an_index_blocks_no_query_since_postgresql_12(tmp_path: Path) -> None:
    """ALTER INDEX ... RENAME takes SHARE UPDATE EXCLUSIVE on the index alone since
    PostgreSQL 12 (ziggurat_foundations); before, ACCESS EXCLUSIVE, as ALTER TABLE ... RENAME
    of an index still does."""
    body = """\
def upgrade():
    op.execute('ALTER INDEX "ix_users_email" RENAME TO "ix_users_mail"')
"""
    assert lines(tmp_path, body, rule=RULE, pg_version=12) == []
    assert lines(tmp_path, body, rule=RULE, pg_version=11) == [2]
    by_table = body.replace("ALTER INDEX", "ALTER TABLE")
    assert lines(tmp_path, by_table, rule=RULE, pg_version=15) == [2]


def test_dropping_a_trigger_or_a_policy_locks_its_table(tmp_path: Path) -> None:
    """guardrails-api drops its audit trigger: ACCESS EXCLUSIVE on the table (as
    ``pg_locks`` shows), though the statement names the trigger first."""
    for statement in ("DROP TRIGGER IF EXISTS guard_audit ON guards", "DROP POLICY p ON guards"):
        body = f'def upgrade():\n    op.execute("{statement}")\n'
        (finding,) = findings(tmp_path, body, rule=RULE)
        assert finding.message.startswith('"guards" is locked ACCESS EXCLUSIVE')


def test_a_drop_if_exists_of_a_table_no_database_holds_locks_nothing(tmp_path: Path) -> None:
    """A tester's ``DROP TABLE IF EXISTS legacy_sessions``, a table the history never made:
    "locked ACCESS EXCLUSIVE", though there is nothing to lock; one the history made is."""
    (tmp_path / "env.py").write_text(PLAIN_ENV_PY, encoding="utf-8")
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "1_a1.py").write_text(
        migration_source(
            'def upgrade():\n    op.create_table("users", sa.Column("id", sa.Integer()))\n'
        )
    )
    body = 'def upgrade():\n    op.execute("DROP TABLE IF EXISTS legacy_sessions")\n'
    (versions / "2_b2.py").write_text(migration_source(body, "b2", "a1"))
    result = command.check([versions])
    assert not [f for f in result.findings if f.rule == RULE and f.path.name == "2_b2.py"]
    (versions / "2_b2.py").write_text(
        migration_source(body.replace("legacy_sessions", "users"), "b2", "a1")
    )
    result = command.check([versions])
    assert [f for f in result.findings if f.rule == RULE and f.path.name == "2_b2.py"]


def test_a_foreign_key_to_a_table_the_history_dropped_waits_on_nothing(tmp_path: Path) -> None:
    """aim's downgrade makes a table whose foreign key refers to one the upgrade dropped and
    the downgrade makes only further down: that statement fails (object-does-not-exist), it
    waits on no lock."""
    body = """\
def upgrade():
    op.create_table("commits", sa.Column("uuid", sa.Text(), primary_key=True))
    op.drop_table("commits")

def downgrade():
    op.create_table(
        "commit_tag",
        sa.Column("commit_id", sa.Text(), sa.ForeignKey("commits.uuid")),
    )
    op.create_table("commits", sa.Column("uuid", sa.Text(), primary_key=True))
"""
    assert lines(tmp_path, body, rule=RULE) == []


def test_a_table_dropped_before_a_revision_not_checked_to_its_end_may_be_back(
    tmp_path: Path,
) -> None:
    """jupyterhub drops ``api_tokens`` in one revision, its application makes it again on
    start, and a later downgrade drops it: where a revision in between was not checked to
    its end, the schema is not known whole, and the table may well be there to lock."""
    (tmp_path / "env.py").write_text(PLAIN_ENV_PY)
    versions = tmp_path / "versions"
    versions.mkdir()
    revisions = {
        "a1": "def upgrade():\n    op.create_table('api_tokens', sa.Column('id', sa.Integer()))\n",
        "b2": "def upgrade():\n    op.drop_table('api_tokens')\n",
        "c3": "def upgrade():\n    raise RuntimeError('needs the application')\n",
        "d4": "def upgrade():\n    pass\n\ndef downgrade():\n    op.drop_table('api_tokens')\n",
    }
    down = None
    for revision, body in revisions.items():
        (versions / f"{revision}.py").write_text(migration_source(body, revision, down))
        down = revision
    result = command.check([versions])
    assert [(f.path.name, f.rule) for f in result.findings if f.rule == RULE] == [
        ("b2.py", RULE),
        ("d4.py", RULE),
    ]
