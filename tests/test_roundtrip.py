"""The stairway against a real PostgreSQL (the embedded provider): every verdict, on fixtures
with known defects, and the histories that peers crash on (autocommit_block, merges, commits
through op.get_bind())."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import pytest

from migsafe.roundtrip.result import RoundtripResult, Verdict
from migsafe.roundtrip.selection import SelectionError
from tests.conftest import migration_source, roundtrip


def verdicts(result: RoundtripResult) -> dict[str, Verdict]:
    return {r.revision: r.verdict for r in result.revisions}


DEFECTS = [
    (
        "r01",
        """
def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer, primary_key=True))

def downgrade():
    op.drop_table("users")
""",
    ),
    (
        "r02",
        """
def upgrade():
    op.add_column("users", sa.Column("email", sa.Text))

def downgrade():
    pass
""",
    ),
    (
        "r03",
        """
def upgrade():
    op.create_table("moods", sa.Column("m", sa.Enum("sad", "ok", name="mood")))

def downgrade():
    op.drop_table("moods")  # the enum type stays
""",
    ),
    (
        "r04",
        """
def upgrade():
    op.create_index("ix_users_a", "users", ["id"])
    op.create_index("ix_users_b", "users", ["id", "email"])

def downgrade():
    op.drop_index("ix_users_a", table_name="users")
""",
    ),
    (
        "r05",
        """
def upgrade():
    op.execute("CREATE SEQUENCE order_numbers")
    op.create_table("orders", sa.Column("n", sa.BigInteger,
                    server_default=sa.text("nextval('order_numbers')")))

def downgrade():
    op.drop_table("orders")
""",
    ),
    (
        "r06",
        """
def upgrade():
    op.execute("CREATE OR REPLACE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql "
               "AS $$ BEGIN RETURN NEW; END $$")

def downgrade():
    pass  # forgets the function
""",
    ),
    (
        "r07",
        """
def upgrade():
    op.add_column("users", sa.Column("seen", sa.Boolean))
    op.execute("CREATE TRIGGER users_touch BEFORE UPDATE ON users "
               "FOR EACH ROW EXECUTE FUNCTION touch()")

def downgrade():
    op.drop_column("users", "seen")  # the trigger stays
""",
    ),
    (
        "r08",
        """
def upgrade():
    op.add_column("users", sa.Column("nick", sa.Text))

def downgrade():
    raise NotImplementedError("one-way: nicknames cannot be restored")
""",
    ),
    (
        "r09",
        """
def upgrade():
    with op.get_context().autocommit_block():
        op.create_index("ix_users_nick", "users", ["nick"], postgresql_concurrently=True)
    op.execute("SELECT 1 / 0")

def downgrade():
    op.drop_index("ix_users_nick", table_name="users")
""",
    ),
    (
        "r10",
        """
def upgrade():
    op.add_column("users", sa.Column("after_failure", sa.Text))

def downgrade():
    op.drop_column("users", "after_failure")
""",
    ),
]


@pytest.fixture(scope="module")
def defects(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> RoundtripResult:
    versions = tmp_path_factory.mktemp("defects") / "versions"
    versions.mkdir()
    previous = None
    for revision, body in DEFECTS:
        (versions / f"{revision}.py").write_text(migration_source(body, revision, previous))
        previous = revision
    return roundtrip(versions, server_url)


def test_every_defect_gets_its_verdict_in_one_run(defects: RoundtripResult) -> None:
    assert verdicts(defects) == {
        "r01": Verdict.OK,
        "r02": Verdict.DOWNGRADE_LEAVES_TRACE,
        "r03": Verdict.DOWNGRADE_LEAVES_TRACE,
        "r04": Verdict.DOWNGRADE_LEAVES_TRACE,
        "r05": Verdict.DOWNGRADE_LEAVES_TRACE,
        "r06": Verdict.DOWNGRADE_LEAVES_TRACE,
        "r07": Verdict.DOWNGRADE_LEAVES_TRACE,
        "r08": Verdict.ONE_WAY,
        "r09": Verdict.UPGRADE_FAILED,
        "r10": Verdict.SKIPPED,
    }


def changes_of(result: RoundtripResult, revision: str) -> list[str]:
    found = next(r for r in result.revisions if r.revision == revision)
    return [str(change) for change in found.changes]


def test_the_diff_names_what_each_downgrade_left_behind(defects: RoundtripResult) -> None:
    assert changes_of(defects, "r02") == ["column public.users.email: extra (text)"]
    assert changes_of(defects, "r03") == ["enum type public.mood: extra (labels 'sad', 'ok')"]
    assert changes_of(defects, "r04") == [
        "index public.ix_users_b: extra (CREATE INDEX ix_users_b ON public.users USING btree "
        "(id, email))"
    ]
    assert changes_of(defects, "r05") == ["sequence public.order_numbers: extra (bigint)"]
    assert [c.split(":")[0] for c in changes_of(defects, "r06")] == ["function public.touch()"]
    assert changes_of(defects, "r07")[0].startswith("trigger public.users users_touch: extra")
    r02 = next(r for r in defects.revisions if r.revision == "r02")
    assert r02.note == "downgrade() is empty"


def test_failures_carry_line_sql_and_reason(defects: RoundtripResult) -> None:
    failed = next(r for r in defects.revisions if r.revision == "r09")
    assert failed.error.step == "upgrade"
    lines = failed.path.read_text().splitlines()
    assert lines[failed.error.line - 1].strip() == 'op.execute("SELECT 1 / 0")'
    assert failed.error.sql == "SELECT 1 / 0"
    assert "DivisionByZero" in failed.error.message
    one_way = next(r for r in defects.revisions if r.revision == "r08")
    assert "nicknames cannot be restored" in one_way.error.message
    skipped = next(r for r in defects.revisions if r.revision == "r10")
    assert skipped.note == "r09 did not upgrade"
    assert not defects.passed
    # r03, r04, r05, r07 (the re-upgrade trips over the leftovers) and r09 (the index it
    # committed before failing) left the database in a state of their own: each time it was
    # rebuilt and the run went on. r02's leftover is exactly the upgraded state: no rebuild.
    assert defects.rebuilds == 5


GOOD = [
    (
        "g1",
        None,
        """
def upgrade():
    op.create_table("items", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("name", sa.Text))

def downgrade():
    op.drop_table("items")
""",
    ),
    (
        "g2",
        "g1",
        """
def upgrade():
    with op.get_context().autocommit_block():
        op.create_index("ix_items_name", "items", ["name"], postgresql_concurrently=True)

def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index("ix_items_name", table_name="items", postgresql_concurrently=True)
""",
    ),
    (
        "g3a",
        "g2",
        """
def upgrade():
    op.add_column("items", sa.Column("price", sa.Numeric))

def downgrade():
    op.drop_column("items", "price")
""",
    ),
    (
        "g3b",
        "g2",
        """
def upgrade():
    op.execute("CREATE TYPE colour AS ENUM ('red', 'blue')")
    op.add_column("items", sa.Column("colour", sa.Enum(name="colour", create_type=False)))

def downgrade():
    op.drop_column("items", "colour")
    op.execute("DROP TYPE colour")
""",
    ),
    (
        "g4",
        ("g3a", "g3b"),
        """
def upgrade():
    pass

def downgrade():
    pass
""",
    ),
    (
        "g5",
        "g4",
        """
def upgrade():
    op.bulk_insert(sa.table("items", sa.column("name")), [{"name": "a"}, {"name": "b"}])
    op.execute("UPDATE items SET name = upper(name)")

def downgrade():
    op.execute("DELETE FROM items")
""",
    ),
    (
        "g6",
        "g5",
        """
def upgrade():
    bind = op.get_bind()
    bind.execute(sa.text("INSERT INTO items (name) VALUES ('committed')"))
    bind.commit()
    op.add_column("items", sa.Column("note", sa.Text))

def downgrade():
    op.drop_column("items", "note")
""",
    ),
]


@pytest.fixture
def good_history(write_migration) -> Path:
    for revision, parent, body in GOOD:
        path = write_migration(body, revision, parent)
    return path.parent


def test_autocommit_merges_branches_data_and_commits_all_pass(
    good_history: Path, server_url: str
) -> None:
    result = roundtrip(good_history, server_url)
    assert verdicts(result) == dict.fromkeys(["g1", "g2", "g3a", "g3b", "g4", "g5", "g6"],
                                             Verdict.OK)  # fmt: skip
    assert result.passed and not result.diagnostics
    g6 = next(r for r in result.revisions if r.revision == "g6")
    assert "commits through op.get_bind()" in g6.note  # Alembic would lose its last statements


def test_a_downgrade_that_fails_before_its_raise_is_no_one_way(
    write_migration, server_url: str
) -> None:
    """A downgrade that ends with ``raise NotImplementedError`` is one-way when it stops
    there; one that fails before (a column that is not there) failed, and the gate says so."""
    write_migration(
        'def upgrade():\n    op.create_table("users", sa.Column("id", sa.Integer))\n\n'
        'def downgrade():\n    op.drop_table("users")\n',
        "o1",
    )
    path = write_migration(
        'def upgrade():\n    op.add_column("users", sa.Column("x", sa.Integer))\n\n'
        "def downgrade():\n"
        '    op.drop_column("users", "x_typo")\n'
        '    raise NotImplementedError("x cannot be restored")\n',
        "o2",
        "o1",
    )
    result = roundtrip(path.parent, server_url)
    assert verdicts(result) == {"o1": Verdict.OK, "o2": Verdict.DOWNGRADE_FAILED}
    assert not result.passed


def test_a_version_table_in_a_schema_of_its_own_is_made_there(
    write_migration, server_url: str, tmp_path: Path
) -> None:
    """version-table-schema = "meta": Alembic does not make the schema (a deploy's env.py
    or its DBA did); the first revision failed, "schema "meta" does not exist"."""
    write_migration(
        'def upgrade():\n    op.create_table("t", sa.Column("id", sa.Integer))\n\n'
        'def downgrade():\n    op.drop_table("t")\n',
        "v1",
    )
    (tmp_path / "pyproject.toml").write_text('[tool.migsafe]\nversion-table-schema = "meta"\n')
    result = roundtrip(tmp_path / "versions", server_url)
    assert verdicts(result) == {"v1": Verdict.OK} and result.passed


def test_a_re_upgrade_that_builds_something_else_is_caught(write_migration, server_url: str):
    """The downgrade restores the schema, but the upgrade depends on data the downgrade keeps:
    the second upgrade builds another table than the first. (The comparison is made once the
    next revision is under way, or at the end of the run: d2 takes the first path.)"""
    write_migration(
        'def upgrade():\n    op.create_table("runs", sa.Column("n", sa.Integer))\n\n'
        'def downgrade():\n    op.drop_table("runs")\n',
        "d1",
    )
    path = write_migration('''
def upgrade():
    runs = op.get_bind().execute(sa.text("SELECT count(*) FROM runs")).scalar()
    op.execute("INSERT INTO runs VALUES (1)")
    op.create_table(f"built_{runs}", sa.Column("id", sa.Integer))

def downgrade():
    runs = op.get_bind().execute(sa.text("SELECT count(*) FROM runs")).scalar()
    op.drop_table(f"built_{runs - 1}")
''', "d2", "d1")  # fmt: skip
    write_migration('def upgrade():\n    op.create_table("later")\n\n'
                    'def downgrade():\n    op.drop_table("later")\n', "d3", "d2")  # fmt: skip
    result = roundtrip(path.parent, server_url)
    assert verdicts(result) == {
        "d1": Verdict.OK, "d2": Verdict.REUPGRADE_DIFFERS, "d3": Verdict.OK
    }  # fmt: skip
    assert changes_of(result, "d2") == [
        "column public.built_0.id: missing (integer)",
        "column public.built_1.id: extra (integer)",
        "table public.built_0: missing",
        "table public.built_1: extra",
    ]
    assert not result.passed


def test_selection_runs_earlier_revisions_without_the_stairway(
    good_history: Path, server_url: str
) -> None:
    with pytest.raises(SelectionError, match=r"^--from g3 is ambiguous: g3a, g3b$"):
        roundtrip(good_history, server_url, start="g3", stop="g4")
    result = roundtrip(good_history, server_url, start="g3b", stop="g4")
    assert list(verdicts(result)) == ["g3b", "g4"]
    assert "--to stops before the head" in result.drift_note


def test_use_env_runs_through_env_py(good_history: Path, server_url: str) -> None:
    (good_history.parent / "env.py").write_text(ENV_PY)
    result = roundtrip(good_history.parent, server_url, use_env=True)
    assert verdicts(result)["g2"] is Verdict.OK and result.passed
    assert result.drift == []  # env.py's target_metadata matches the migrated schema


def test_env_py_that_connects_elsewhere_is_stopped(good_history: Path, server_url: str) -> None:
    foreign = server_url.replace("/postgres?", "/template1?")
    (good_history.parent / "env.py").write_text(FOREIGN_ENV_PY.format(url=foreign))
    result = roundtrip(good_history.parent, server_url, use_env=True)
    assert result.has_fatal
    message = result.diagnostics[0].message
    assert "env.py (line" in message and "connected to database 'template1'" in message


def test_a_migration_that_connects_elsewhere_is_stopped(write_migration, server_url: str):
    """Without --use-env too: a migration that opens its own engine to the URL of the
    project's config gets migsafe's database (the config's URL is migsafe's), and one that
    connects through the driver to another database is stopped before a statement runs on
    it (docs/security.md: roundtrip never touches a database it did not create)."""
    foreign = server_url.replace("/postgres?", "/template1?")
    query = dict(part.split("=", 1) for part in server_url.split("?", 1)[1].split("&"))
    dsn = f"host={query['host']} port={query['port']} user=postgres dbname=template1"
    write_migration(
        "from alembic import context\n"
        "def upgrade():\n"
        "    url = context.config.get_main_option('sqlalchemy.url')\n"
        "    engine = sa.create_engine(url)\n"
        "    with engine.begin() as connection:\n"
        "        connection.execute(sa.text('CREATE TABLE side (id int)'))\n"
        "\ndef downgrade():\n    op.drop_table('side')\n",
        "f1",
    )
    assert "template1" in foreign
    path = write_migration(
        "import psycopg\n"
        "def upgrade():\n"
        f"    with psycopg.connect({dsn!r}) as connection:\n"
        "        connection.execute('CREATE TABLE IF NOT EXISTS touched (id int)')\n"
        "\ndef downgrade():\n    pass\n",
        "f2",
        "f1",
    )
    write_migration(
        "def upgrade():\n    op.create_table('after', sa.Column('id', sa.Integer))\n"
        "\ndef downgrade():\n    op.drop_table('after')\n",
        "f3",
        "f2",
    )
    result = roundtrip(path.parent, server_url)
    # the migration's own doing: its revision fails, with its line, and the run goes on
    # (it stopped with exit 2, a diagnostic at ".", and "1 ok" for a summary)
    assert verdicts(result) == {
        "f1": Verdict.OK, "f2": Verdict.UPGRADE_FAILED, "f3": Verdict.SKIPPED,
    }  # fmt: skip
    assert not result.has_fatal and not result.passed
    (failed,) = [r for r in result.revisions if r.revision == "f2"]
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "psycopg.c" in text)
    assert failed.error.line == line
    assert "connected to database 'template1'" in failed.error.message
    import psycopg

    with psycopg.connect(dsn) as connection:
        touched = connection.execute("SELECT to_regclass('touched')").fetchone()[0]
    assert touched is None


ENV_PY = """
import sqlalchemy as sa
from alembic import context

metadata = sa.MetaData()
sa.Table("items", metadata, sa.Column("id", sa.Integer, primary_key=True),
         sa.Column("name", sa.Text, index=True), sa.Column("price", sa.Numeric),
         sa.Column("colour", sa.Enum("red", "blue", name="colour")), sa.Column("note", sa.Text))

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
"""

FOREIGN_ENV_PY = """
import sqlalchemy as sa
from alembic import context

engine = sa.create_engine({url!r})
with engine.connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
"""


def test_drift_from_metadata_option(
    good_history: Path, server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = good_history.parent / "shopmodels.py"
    package.write_text(
        "import sqlalchemy as sa\nmetadata = sa.MetaData()\n"
        "sa.Table('items', metadata, sa.Column('id', sa.Integer, primary_key=True),"
        " sa.Column('sku', sa.Text))\n"
    )
    monkeypatch.chdir(good_history.parent)
    result = roundtrip(good_history, server_url, metadata="shopmodels:metadata")
    assert "column items.sku: only in the model" in result.drift
    assert "column items.name: only in the database" in result.drift
    assert not result.passed


def test_drift_of_a_model_in_a_schema_of_its_own(
    write_migration, server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model of tables in schema ``app`` was compared with ``public`` only: every table
    was "only in the model". It is compared where it is, and named with its schema."""
    path = write_migration(
        "def upgrade():\n"
        "    op.execute('CREATE SCHEMA app')\n"
        "    op.create_table('t', sa.Column('id', sa.Integer, primary_key=True), schema='app')\n"
        "\ndef downgrade():\n    op.drop_table('t', schema='app')\n"
        "    op.execute('DROP SCHEMA app')\n"
    )
    (path.parent.parent / "appmodels.py").write_text(
        "import sqlalchemy as sa\nmetadata = sa.MetaData()\n"
        "sa.Table('t', metadata, sa.Column('id', sa.Integer, primary_key=True),"
        " sa.Column('note', sa.Text), schema='app')\n"
    )
    monkeypatch.chdir(path.parent.parent)
    result = roundtrip(path.parent, server_url, metadata="appmodels:metadata")
    assert result.drift == ["column app.t.note: only in the model"]


def test_reports_render_every_format(defects: RoundtripResult) -> None:
    import io

    from migsafe.report import renderer

    out = io.StringIO()
    renderer("roundtrip", "json")(defects, out)
    document = json.loads(out.getvalue())
    assert document["passed"] is False
    r09 = next(r for r in document["revisions"] if r["revision"] == "r09")
    assert r09["verdict"] == "upgrade-failed" and r09["error"]["line"] == 13

    out = io.StringIO()
    renderer("roundtrip", "junit")(defects, out)
    suite = ElementTree.fromstring(out.getvalue().split("\n", 1)[1])
    assert suite.get("tests") == "10" and suite.get("skipped") == "1"
    assert suite.get("failures") == "7"  # six traces and the failed upgrade; one-way allowed

    out = io.StringIO()
    renderer("roundtrip", "markdown")(defects, out)
    assert "| ❌ | `r03` |" in out.getvalue()
    assert "### ❌ `r09` upgrade-failed" in out.getvalue()

    out = io.StringIO()
    renderer("roundtrip", "text")(defects, out)
    assert "enum type public.mood: extra (labels 'sad', 'ok')" in out.getvalue()
    assert (
        out.getvalue()
        .rstrip()
        .endswith(
            "Roundtrip of 10 revisions: 1 ok, 6 downgrade-leaves-trace, 1 one-way, "
            "1 upgrade-failed, 1 skipped."
        )
    )


def test_since_picks_the_revisions_changed_after_a_git_ref(
    good_history: Path, server_url: str
) -> None:
    import subprocess

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(good_history), *args], check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.email=t@example.com", "-c", "user.name=t", "add", ".")
    (good_history / "g6.py").rename(good_history.parent / "g6.py.later")
    git("rm", "-q", "--cached", "g6.py")
    git("-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "base")
    (good_history.parent / "g6.py.later").rename(good_history / "g6.py")  # new, untracked
    (good_history / "g5.py").write_text((good_history / "g5.py").read_text() + "\n# edited\n")

    result = roundtrip(good_history, server_url, since="HEAD")
    assert list(verdicts(result)) == ["g5", "g6"]  # g1..g4 upgraded once, not reported
    assert result.passed


MULTIDB = """\
import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = {down_revision!r}


def upgrade(engine_name):
    globals()["upgrade_%s" % engine_name]()


def downgrade(engine_name):
    globals()["downgrade_%s" % engine_name]()


def upgrade_engine1():
    op.create_table("{table}1", sa.Column("id", sa.Integer, primary_key=True))


def downgrade_engine1():
    op.drop_table("{table}1")


def upgrade_engine2():
    op.create_table("{table}2", sa.Column("id", sa.Integer, primary_key=True))


def downgrade_engine2():
    {downgrade_engine2}
"""


def test_a_multi_database_project_runs_each_database_s_functions(
    tmp_path: Path, server_url: str
) -> None:
    """``alembic init -t multidb``: each function takes the ``engine_name`` its env.py passes
    once per database alembic.ini names. Every revision failed ("missing 1 required
    positional argument"); each database's functions now run in the scratch database, and a
    downgrade of one of them that leaves its table behind is caught."""
    versions = tmp_path / "versions"
    versions.mkdir()
    (tmp_path / "alembic.ini").write_text(
        f"[alembic]\nscript_location = {tmp_path}\ndatabases = engine1, engine2\n"
    )
    (tmp_path / "env.py").write_text("")
    (versions / "m1.py").write_text(
        MULTIDB.format(revision="m1", down_revision=None, table="users",
                       downgrade_engine2='op.drop_table("users2")')
    )  # fmt: skip
    (versions / "m2.py").write_text(
        MULTIDB.format(revision="m2", down_revision="m1", table="orders",
                       downgrade_engine2="pass  # forgot orders2")
    )  # fmt: skip
    result = roundtrip(tmp_path, server_url)
    assert verdicts(result) == {"m1": Verdict.OK, "m2": Verdict.DOWNGRADE_LEAVES_TRACE}
