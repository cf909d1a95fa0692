"""The check cache: a re-run on an unchanged project answers from the last result, and
anything the result depended on that changes makes it check again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from migsafe import command
from migsafe.cache import FORMAT, MAX_ENTRIES, ResultCache
from migsafe.cli import cli
from migsafe.config import Overrides
from tests.conftest import migration_source

INDEX = (
    "def upgrade():\n    op.create_index('ix_t_a', 't', ['a'], postgresql_concurrently=False)\n\n"
    "def downgrade():\n    op.execute('SELECT 1')\n"
)
SAFE = (
    "def upgrade():\n    op.add_column('t', sa.Column('b', sa.Text()))\n\n"
    "def downgrade():\n    op.drop_column('t', 'b')\n"
)


@pytest.fixture
def cache(tmp_path: Path) -> ResultCache:
    return ResultCache(tmp_path / "cache")


@pytest.fixture
def cached_check(cache: ResultCache, monkeypatch: pytest.MonkeyPatch):
    """A check through the cache, and whether the cache answered it (no script ran)."""
    import migsafe.check

    ran = []
    check_project = migsafe.check.check_project
    monkeypatch.setattr(
        migsafe.check, "check_project", lambda *a, **k: ran.append(1) or check_project(*a, **k)
    )

    def check(paths: list[Path], **kwargs: object):
        ran.clear()
        result = command.check(paths, cache=cache, **kwargs)  # type: ignore[arg-type]
        return result, not ran

    return check


def test_an_unchanged_project_answers_from_the_cache(write_migration, cached_check) -> None:
    path = write_migration(INDEX)
    first, answered = cached_check([path.parent])
    assert not answered and [f.rule for f in first.findings] == ["create-index-not-concurrently"]
    again, answered = cached_check([path.parent])
    assert answered and again.findings == first.findings and again.checked == first.checked
    assert again.exit_code == first.exit_code == 1


def test_the_cached_result_is_the_result(write_migration, cache) -> None:
    write_migration(INDEX)
    path = write_migration(
        "def upgrade():\n    op.execute('ALTER TABLE t ALTER COLUMN a TYPE text')\n",
        revision="b2", down_revision="a1",
    )  # fmt: skip
    (path.parent / "broken.py").write_text("def upgrade(:\n", encoding="utf-8")
    fresh = command.check([path.parent])
    command.check([path.parent], cache=cache)
    answered = command.check([path.parent], cache=cache)
    assert answered.findings == fresh.findings
    assert answered.diagnostics == fresh.diagnostics
    assert (answered.checked, answered.paths, answered.fail_on) == (
        fresh.checked, fresh.paths, fresh.fail_on,
    )  # fmt: skip


def test_editing_a_script_checks_again(write_migration, cached_check) -> None:
    path = write_migration(INDEX)
    cached_check([path.parent])
    path.write_text(path.read_text().replace("'ix_t_a'", "'ix_t_b'"), "utf-8")
    result, answered = cached_check([path.parent])
    assert not answered and '"ix_t_b"' in result.findings[0].hint


def test_a_new_script_checks_again(write_migration, cached_check) -> None:
    path = write_migration(SAFE)
    assert cached_check([path.parent])[0].findings == []
    write_migration(INDEX, revision="b2", down_revision="a1")
    result, answered = cached_check([path.parent])
    assert not answered and result.checked == 2 and result.findings


def test_other_settings_are_another_entry(write_migration, cached_check) -> None:
    path = write_migration(INDEX)
    cached_check([path.parent])
    ignored = Overrides(ignore=("create-index-not-concurrently",))
    result, answered = cached_check([path.parent], overrides=ignored)
    assert not answered and result.findings == []
    pyproject = path.parent.parent / "pyproject.toml"
    pyproject.write_text('[tool.migsafe]\nignore = ["MS004"]\n', encoding="utf-8")
    result, answered = cached_check([path.parent])
    assert not answered and result.findings == []


def test_a_changed_helper_module_checks_again(tmp_path, write_migration, cached_check) -> None:
    library = tmp_path / "lib"
    library.mkdir()
    (library / "helpers_for_cache_test.py").write_text("NAME = 'ix_one'\n", encoding="utf-8")
    path = write_migration(
        f"import sys\nsys.path.insert(0, {str(library)!r})\n"
        "from helpers_for_cache_test import NAME\n\n"
        "def upgrade():\n    op.create_index(NAME, 't', ['a'])\n"
    )
    first, _ = cached_check([path])
    assert '"ix_one"' in first.findings[0].hint
    (library / "helpers_for_cache_test.py").write_text("NAME = 'ix_two'\n", encoding="utf-8")
    result, answered = cached_check([path])
    assert not answered and '"ix_two"' in result.findings[0].hint


def test_a_file_a_migration_reads_is_in_the_footprint(tmp_path, write_migration, cached_check):
    """A migration running the SQL of a file beside it: editing the file checks again (the
    cache answered "no problems" for SQL it had never seen)."""
    sql = tmp_path / "0002.sql"
    sql.write_text("ALTER TABLE t ADD COLUMN note text;\n", encoding="utf-8")
    path = write_migration(
        f"from pathlib import Path\n\ndef upgrade():\n"
        f"    op.execute(Path({str(sql)!r}).read_text())\n"
    )
    first, _ = cached_check([path])
    assert not [f for f in first.findings if f.rule == "create-index-not-concurrently"]
    _, answered = cached_check([path])
    assert answered
    sql.write_text("CREATE INDEX ix_t_note ON t (note);\n", encoding="utf-8")
    result, answered = cached_check([path])
    assert not answered
    assert [f.rule for f in result.findings if f.rule == "create-index-not-concurrently"]


@pytest.mark.skipif(not Path("/proc/stat").is_file(), reason="no /proc/stat on this system")
def test_a_read_of_the_systems_state_is_no_input(write_migration, cached_check) -> None:
    """A library that reads /proc/stat as the migration imports it (mlflow's, installed):
    those bytes change from one read to the next, and the cache never answered."""
    path = write_migration(
        "from pathlib import Path\n\nLOAD = Path('/proc/stat').read_text()\n\n"
        "def upgrade():\n    op.create_index('ix_t_a', 't', ['a'])\n"
    )
    cached_check([path])
    assert cached_check([path])[1]


@pytest.mark.skipif(not Path("/dev/shm").is_dir(), reason="no /dev/shm on this system")
def test_a_file_in_a_memory_file_system_is_an_input(write_migration, cached_check) -> None:
    """/dev/shm holds real files (tmpfs), unlike the kernel's views: SQL kept there is an
    input as any other file is."""
    with tempfile.NamedTemporaryFile("w", dir="/dev/shm", suffix=".sql") as sql:
        sql.write("SELECT 1;\n")
        sql.flush()
        path = write_migration(
            f"from pathlib import Path\n\ndef upgrade():\n"
            f"    op.execute(Path({sql.name!r}).read_text())\n"
        )
        cached_check([path])
        assert cached_check([path])[1]
        Path(sql.name).write_text("CREATE INDEX ix_t_a ON t (a);\n", encoding="utf-8")
        result, answered = cached_check([path])
        assert not answered
        assert "create-index-not-concurrently" in [f.rule for f in result.findings]


def test_a_module_that_appears_checks_again(tmp_path, write_migration, cached_check) -> None:
    library = tmp_path / "lib"
    library.mkdir()
    path = write_migration(
        f"import sys\nsys.path.insert(0, {str(library)!r})\n"
        "import cache_test_app_models\n\n"
        "def upgrade():\n    op.create_index('ix_t_a', 't', ['a'])\n"
    )
    cached_check([path])
    assert cached_check([path])[1]  # still missing: answered
    (library / "cache_test_app_models.py").write_text("NAME = 't'\n", encoding="utf-8")
    assert not cached_check([path])[1]


def test_a_timed_out_script_is_never_cached(write_migration, cache) -> None:
    path = write_migration("import time\n\ndef upgrade():\n    time.sleep(30)\n")
    result = command.check([path], overrides=Overrides(timeout=0.5), cache=cache)
    assert result.exit_code == 2 and result.footprint is None
    assert not cache.directory.exists() or not list(cache.directory.iterdir())


def test_a_damaged_entry_is_a_miss(write_migration, cache, cached_check) -> None:
    path = write_migration(INDEX)
    cached_check([path.parent])
    (entry,) = cache.directory.glob("*.json")
    entry.write_text("{not json", encoding="utf-8")
    result, answered = cached_check([path.parent])
    assert not answered and result.findings
    assert json.loads(entry.read_text(encoding="utf-8"))["format"] == FORMAT


def test_an_unwritable_cache_only_costs_time(write_migration, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("", encoding="utf-8")
    path = write_migration(INDEX)
    result = command.check([path.parent], cache=ResultCache(blocked))
    assert [f.rule for f in result.findings] == ["create-index-not-concurrently"]


def test_the_least_recently_used_entries_go(cache) -> None:
    cache.directory.mkdir(parents=True)
    for index in range(MAX_ENTRIES + 5):
        entry = cache.directory / f"{index:04d}.json"
        entry.write_text("{}", encoding="utf-8")
        os.utime(entry, ns=(index * 10**9, index * 10**9))
    cache._prune()
    remaining = sorted(p.name for p in cache.directory.glob("*.json"))
    assert len(remaining) == MAX_ENTRIES and remaining[0] == "0005.json"


def test_no_cache_checks_again(write_migration, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MIGSAFE_CACHE_DIR", str(tmp_path / "cli-cache"))
    path = write_migration(INDEX)
    runner = CliRunner()
    runner.invoke(cli, ["check", str(path.parent)])
    entries = list((tmp_path / "cli-cache" / "check").glob("*.json"))
    assert len(entries) == 1
    entries[0].write_text("{}", encoding="utf-8")  # a run that used it would miss and rewrite
    result = runner.invoke(cli, ["check", "--no-cache", str(path.parent)])
    assert result.exit_code == 1 and entries[0].read_text(encoding="utf-8") == "{}"


def test_two_runs_sharing_the_cache_each_get_a_whole_result(write_migration, tmp_path) -> None:
    path = write_migration(INDEX)
    environment = {**os.environ, "MIGSAFE_CACHE_DIR": str(tmp_path / "shared")}
    command_line = [sys.executable, "-m", "migsafe", "check", "--format", "json", str(path)]
    runs = [
        subprocess.Popen(command_line, stdout=subprocess.PIPE, env=environment) for _ in range(4)
    ]
    outputs = [json.loads(run.communicate()[0]) for run in runs]
    assert all(run.returncode == 1 for run in runs)
    assert all(o["findings"] == outputs[0]["findings"] for o in outputs)
    assert [p.suffix for p in (tmp_path / "shared" / "check").iterdir()] == [".json"]


def test_a_cache_hit_imports_neither_alembic_nor_the_rules(write_migration, tmp_path) -> None:
    path = write_migration(INDEX)
    environment = {**os.environ, "MIGSAFE_CACHE_DIR": str(tmp_path / "light")}
    probe = (
        "import sys\nfrom migsafe.cli import cli\n"
        f"try:\n    cli(['check', '--format', 'json', {str(path)!r}])\n"
        "except SystemExit:\n    pass\n"
        "heavy = [m for m in ('alembic', 'sqlalchemy', 'pglast', 'migsafe.rules') "
        "if m in sys.modules]\nprint(heavy, file=sys.stderr)\n"
    )
    runs = [
        subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                       env=environment, check=False)
        for _ in range(2)
    ]  # fmt: skip
    assert "alembic" in runs[0].stderr  # the first run checks
    assert runs[1].stderr.strip().splitlines()[-1] == "[]"
    assert json.loads(runs[1].stdout) == json.loads(runs[0].stdout)


def test_a_model_env_py_takes_its_metadata_from_is_in_the_footprint(
    tmp_path: Path, cached_check
) -> None:
    """naming-convention-missing reads the models env.py imports: fixing them checks again."""
    from tests.rules._f_project import project, revision

    env_py = (
        "from alembic import context\nfrom app.models import Base\n\n"
        "target_metadata = Base.metadata\n"
    )
    base = "from sqlalchemy.orm import DeclarativeBase\n\n\nclass Base(DeclarativeBase):\n"
    root = project(
        tmp_path,
        {
            "migrations/versions/a1.py": revision("a1"),
            "app/__init__.py": "",
            "app/models.py": base + "    pass\n",
        },
        env_py=env_py,
    )
    first, _ = cached_check([root])
    assert [f.rule for f in first.findings] == ["naming-convention-missing"]
    assert cached_check([root])[1]
    convention = '    metadata = sa.MetaData(naming_convention={"pk": "pk_%(table_name)s"})\n'
    (root / "app" / "models.py").write_text("import sqlalchemy as sa\n" + base + convention)
    result, answered = cached_check([root])
    assert not answered and result.findings == []


def test_the_module_a_naming_convention_is_found_in_is_in_the_footprint(
    tmp_path: Path, cached_check
) -> None:
    """A Flask-Migrate env.py names no module; the application sets the convention in one:
    changing it checks again (the names of unnamed objects follow it)."""
    from tests.test_target_metadata import flask_project

    db_py = (
        "from flask_sqlalchemy import SQLAlchemy\ndb = SQLAlchemy()\n"
        "db.Model.metadata.naming_convention = {'fk': 'fk_%(table_name)s_%(column_0_name)s'}\n"
    )
    versions = flask_project(tmp_path, db_py)
    (versions / "a1.py").write_text(
        migration_source(
            "def upgrade():\n    op.create_foreign_key(None, 'roles', 'users', ['u'], ['id'])\n"
        )
    )
    first, _ = cached_check([versions])
    assert cached_check([versions])[1]
    assert any('"fk_roles_u"' in f.message for f in first.findings)
    (tmp_path / "app" / "db.py").write_text(
        db_py.replace("fk_%(table_name)s", "fkey_%(table_name)s")
    )
    result, answered = cached_check([versions])
    assert not answered
    assert any('"fkey_roles_u"' in f.message for f in result.findings)


def test_the_footprint_is_recorded_only_for_a_cache(write_migration, cache) -> None:
    """What the check read is what a cache entry needs; without a cache it is not worked out."""
    path = write_migration(INDEX)
    assert command.check([path.parent]).footprint is None
    stored = command.check([path.parent], cache=cache)
    assert stored.footprint is not None and stored.footprint.holds()


def test_a_versions_directory_with_subdirectories_is_cached_and_watched(
    write_migration, cached_check
) -> None:
    """Listed with its release subdirectories, it is listed so again to tell whether the
    result holds: unchanged, the cache answers; a revision added below, it checks again."""
    path = write_migration(INDEX)
    release = path.parent / "2024.1"
    release.mkdir()
    (release / "b1.py").write_text(migration_source(SAFE, "b1", "a1"), encoding="utf-8")
    first, answered = cached_check([path.parent])
    assert not answered and first.checked == 2
    assert cached_check([path.parent])[1]
    (release / "c1.py").write_text(migration_source(SAFE, "c1", "b1"), encoding="utf-8")
    again, answered = cached_check([path.parent])
    assert not answered and again.checked == 3


def test_a_convention_added_anywhere_in_the_searched_package_checks_again(
    tmp_path: Path, cached_check
) -> None:
    """A tester's Flask-Migrate project had no convention; one added to its models (a file
    the search had read, without one) left the cached result standing: the package
    searched is in the footprint, every module of it."""
    from tests.test_target_metadata import flask_project

    versions = flask_project(
        tmp_path, "from flask_sqlalchemy import SQLAlchemy\ndb = SQLAlchemy()\n"
    )
    (versions / "a1.py").write_text(
        migration_source(
            "def upgrade():\n    op.create_foreign_key(None, 'roles', 'users', ['u'], ['id'])\n"
        )
    )
    first, _ = cached_check([versions])
    assert any('"roles_u_fkey"' in f.message for f in first.findings)
    assert cached_check([versions])[1]
    (tmp_path / "app" / "naming.py").write_text(
        "from app.db import db\n"
        "db.Model.metadata.naming_convention = {'fk': 'fk_%(table_name)s_%(column_0_name)s'}\n"
    )
    result, answered = cached_check([versions])
    assert not answered
    assert any('"fk_roles_u"' in f.message for f in result.findings)
