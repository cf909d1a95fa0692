"""Finding scripts and ordering them by the revision graph; graph errors name the files."""

from __future__ import annotations

from pathlib import Path

from migsafe import command
from migsafe.project import find_sources, load_history

UPGRADE = "def upgrade():\n    pass\n"


def history_of(*paths: Path):
    return load_history(find_sources(list(paths)))


def test_orders_by_graph_not_by_name(write_migration, tmp_path: Path) -> None:
    write_migration(UPGRADE, revision="c", down_revision="b", name="1.py")
    write_migration(UPGRADE, revision="b", down_revision="a", name="2.py")
    write_migration(UPGRADE, revision="a", down_revision=None, name="3.py")
    history, diagnostics = history_of(tmp_path / "versions")
    assert diagnostics == []
    assert [s.revision for s in history.scripts] == ["a", "b", "c"]
    assert [s.revision for s in history.heads] == ["c"]


def test_merge_revision_with_tuple_down_revision(write_migration, tmp_path: Path) -> None:
    write_migration(UPGRADE, revision="a")
    write_migration(UPGRADE, revision="b1", down_revision="a")
    write_migration(UPGRADE, revision="b2", down_revision="a")
    write_migration(UPGRADE, revision="m", down_revision=("b1", "b2"))
    history, diagnostics = history_of(tmp_path / "versions")
    assert diagnostics == []
    order = [s.revision for s in history.scripts]
    assert order[0] == "a" and order[-1] == "m"
    assert [s.revision for s in history.heads] == ["m"]


def test_duplicate_revision_ids(write_migration, tmp_path: Path) -> None:
    write_migration(UPGRADE, revision="a", name="one.py")
    write_migration(UPGRADE, revision="a", name="two.py")
    _, diagnostics = history_of(tmp_path / "versions")
    (problem,) = diagnostics
    assert problem.fatal and "duplicate revision id 'a'" in problem.message


def test_cycle_names_the_files(write_migration, tmp_path: Path) -> None:
    write_migration(UPGRADE, revision="a", down_revision="b")
    write_migration(UPGRADE, revision="b", down_revision="a")
    _, diagnostics = history_of(tmp_path / "versions")
    (problem,) = diagnostics
    assert problem.fatal and "cycle" in problem.message
    assert "a.py" in problem.message and "b.py" in problem.message


def test_unknown_down_revision(write_migration, tmp_path: Path) -> None:
    write_migration(UPGRADE, revision="a", down_revision="nope")
    _, diagnostics = history_of(tmp_path / "versions")
    (problem,) = diagnostics
    assert "'nope' names no revision" in problem.message


def test_single_file_may_name_a_parent_that_is_not_given(write_migration) -> None:
    path = write_migration(UPGRADE, revision="a", down_revision="elsewhere")
    history, diagnostics = history_of(path)
    assert diagnostics == [] and len(history.scripts) == 1


def test_alembic_ini_and_project_directory(tmp_path: Path, write_migration) -> None:
    write_migration(UPGRADE, revision="a")
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s\n")
    (tmp_path / "env.py").write_text("")
    for target in (tmp_path, tmp_path / "alembic.ini"):
        history, diagnostics = history_of(target)
        assert diagnostics == [] and [s.revision for s in history.scripts] == ["a"]


def test_a_versions_directory_is_read_with_its_release_subdirectories(tmp_path: Path) -> None:
    """OpenStack's layout (neutron, keystone): ``versions/<release>/expand/``, each branch
    labelled with a name from the application (``(cli.EXPAND_BRANCH,)``)."""
    versions = tmp_path / "versions"
    for folder in ("2024.1/expand", "2024.1/contract", "helpers", ".hidden"):
        (versions / folder).mkdir(parents=True)
    (versions / "initial.py").write_text("revision = 'kilo'\ndown_revision = None\n" + UPGRADE)
    (versions / "2024.1" / "expand" / "a1.py").write_text(
        "from myapp import cli\nrevision = 'e1'\ndown_revision = 'kilo'\n"
        "branch_labels = (cli.EXPAND_BRANCH,)\n" + UPGRADE
    )
    (versions / "2024.1" / "contract" / "b1.py").write_text(
        "revision: str = 'c1'\ndown_revision = 'kilo'\nbranch_labels = ('contract',)\n" + UPGRADE
    )
    (versions / "2024.1" / "expand" / "a2.py").write_text(
        "revision = 'e2'\ndown_revision = 'e1'\n" + UPGRADE
    )
    (versions / "helpers" / "ops.py").write_text("def create_things():\n    pass\n")
    (versions / ".hidden" / "old.py").write_text("revision = 'x'\ndown_revision = None\n")
    history, diagnostics = history_of(versions)
    assert diagnostics == []
    assert sorted(s.revision for s in history.scripts) == ["c1", "e1", "e2", "kilo"]
    assert {s.revision: s.branch_labels for s in history.scripts}["e1"] == ("cli.EXPAND_BRANCH",)
    assert sorted(s.revision for s in history.heads) == ["c1", "e2"]


def test_a_depends_on_computed_at_import_keeps_the_revision_in_the_graph(
    tmp_path: Path,
) -> None:
    """invenio's revisions build ``depends_on`` from the packages that are installed; the
    revision keeps its place (by down_revision), and the notice says what is not known."""
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "a.py").write_text("revision = 'a'\ndown_revision = None\n" + UPGRADE)
    (versions / "b.py").write_text(
        "resolved = ['a']\n"
        "try:\n    import invenio_access_not_installed\n    resolved.append('x1')\n"
        "except ImportError:\n    pass\n"
        "revision = 'b'\ndown_revision = 'a'\ndepends_on = resolved\n" + UPGRADE
    )
    (versions / "c.py").write_text("revision = 'c'\ndown_revision = 'b'\n" + UPGRADE)
    history, diagnostics = history_of(versions)
    assert [s.revision for s in history.scripts] == ["a", "b", "c"]
    (notice,) = diagnostics
    assert not notice.fatal and notice.path.name == "b.py" and notice.line == 9
    assert notice.message.startswith("`depends_on` is computed when the script is imported")


def test_a_depends_on_outside_the_history_is_noticed_and_unknown(write_migration) -> None:
    """invenio-communities depends on invenio-accounts' revisions, not in its directory:
    they run first and drop its foreign keys, so from that revision on nothing is said to
    exist or not (it said a key it adds back "exists already"). A branch label and the start
    of a revision id are Alembic's own ways to name revisions of the history."""
    write_migration(
        "branch_labels = ('communities',)\n"
        'def upgrade():\n    op.create_table("members", sa.Column("id", sa.Integer()))\n'
        '    op.create_unique_constraint("uq_members_id", "members", ["id"])\n',
        revision="a1b2", name="1.py",
    )  # fmt: skip
    write_migration(
        "depends_on = ['a1', 'communities']\ndef upgrade():\n    pass\n",
        revision="b", down_revision="a1b2", name="2.py",
    )  # fmt: skip
    path = write_migration(
        "depends_on = ['f2522cdd5fcd']\ndef upgrade():\n"
        '    op.create_unique_constraint("uq_members_id", "members", ["id"])\n',
        revision="c", down_revision="b", name="3.py",
    )  # fmt: skip
    history, diagnostics = history_of(path.parent)
    assert [s.outside for s in history.scripts] == [(), (), ("f2522cdd5fcd",)]
    (notice,) = diagnostics
    assert not notice.fatal and notice.path == path
    assert notice.message.startswith(
        "depends_on 'f2522cdd5fcd' names no revision of this history (another package's branch?)"
    )
    result = command.check([path.parent])
    assert not [f for f in result.findings if f.rule == "object-already-exists"]


def test_an_empty_depends_on_is_none(write_migration) -> None:
    """invenio-accounts writes ``depends_on = ""`` (and ``branch_labels = ()``): Alembic takes
    an empty string as no revision, and so does migsafe, with nothing to notice."""
    write_migration("def upgrade():\n    pass\n", revision="a1", name="1.py")
    path = write_migration(
        'branch_labels = ()\ndepends_on = ""\ndef upgrade():\n    pass\n',
        revision="b2", down_revision="a1", name="2.py",
    )  # fmt: skip
    history, diagnostics = history_of(path.parent)
    assert diagnostics == []
    assert [(s.depends_on, s.outside) for s in history.scripts] == [((), ()), ((), ())]


def test_revision_variables_set_from_a_module_constant_are_read(tmp_path: Path) -> None:
    """``revision = REV`` (a name set once to a string) is what Alembic reads too; a number
    is said to be no string, not "no revision variable"."""
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "a.py").write_text("REV = 'a'\nrevision = REV\ndown_revision = None\n")
    (versions / "b.py").write_text(
        "REV = 'b'\nPARENT = 'a'\nPARENTS = (PARENT,)\nrevision = REV\ndown_revision = PARENTS\n"
    )
    (versions / "c.py").write_text("revision = 2\ndown_revision = 'b'\n")
    history, diagnostics = history_of(versions)
    assert [(s.revision, s.down_revisions) for s in history.scripts] == [
        ("a", ()),
        ("b", ("a",)),
    ]
    (error,) = diagnostics
    assert error.fatal and error.message == "`revision` is 2, not a string"


def test_a_module_constant_is_one_no_function_rebinds(tmp_path: Path) -> None:
    """A function's local of the same name is not the module's; one declared ``global`` is."""
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "a.py").write_text(
        "REV = 'a'\ndef upgrade():\n    REV = 'x'\nrevision = REV\ndown_revision = None\n"
    )
    (versions / "b.py").write_text(
        "REV = 'b'\ndef bump():\n    global REV\n    REV = 'y'\n"
        "revision = REV\ndown_revision = 'a'\n"
    )
    history, diagnostics = history_of(versions)
    assert [s.revision for s in history.scripts] == ["a"]
    (error,) = diagnostics
    assert error.fatal and error.path.name == "b.py"
    assert error.message.startswith("`revision` (line 5) is not a literal string")


def test_a_down_revision_computed_at_import_cannot_be_placed(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "a.py").write_text("PARENT = None\nrevision = 'a'\ndown_revision = PARENT\n")
    history, diagnostics = history_of(versions)
    assert history.scripts == []
    (error,) = diagnostics
    assert error.fatal and error.message == (
        "`down_revision` (line 3) is not a literal string, tuple or None"
    )


def test_a_directory_that_holds_no_revision_is_not_searched_below(tmp_path: Path) -> None:
    """A repository's root named as PATH: the revisions of an installed package deep
    below it (a virtualenv's site-packages) are not this project's."""
    packages = tmp_path / "venv" / "lib" / "site-packages" / "app" / "versions"
    packages.mkdir(parents=True)
    (packages / "a1.py").write_text("revision = 'a1'\ndown_revision = None\n" + UPGRADE)
    (tmp_path / "setup.py").write_text("print('setup')\n")
    sources = find_sources([tmp_path])
    assert [p.name for p in sources.files] == ["setup.py"]


def test_a_script_directory_without_versions_finds_its_version_locations(tmp_path: Path) -> None:
    """galaxy's script directory: env.py beside ``versions_gxy`` and ``versions_tsi`` (named
    in its alembic.ini); named alone, env.py and helpers beside it are not revisions."""
    (tmp_path / "env.py").write_text("from alembic import context\n")
    (tmp_path / "helpers.py").write_text("def create_things():\n    pass\n")
    for folder, revision in (("versions_gxy", "g1"), ("versions_tsi", "t1")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / f"{revision}.py").write_text(
            f"revision = '{revision}'\ndown_revision = None\nbranch_labels = ('{folder}',)\n"
            + UPGRADE
        )
    history, diagnostics = history_of(tmp_path)
    assert diagnostics == []
    assert sorted(s.revision for s in history.scripts) == ["g1", "t1"]


def test_the_same_revision_ids_in_two_directories_suggest_two_histories(tmp_path: Path) -> None:
    """skypilot keeps one history per database beside one env.py, each from ``001``."""
    (tmp_path / "env.py").write_text("from alembic import context\n")
    for folder in ("jobs", "serve"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "001_initial.py").write_text(
            "revision = '001'\ndown_revision = None\n" + UPGRADE
        )
    _, diagnostics = history_of(tmp_path)
    (problem,) = diagnostics
    assert problem.fatal and problem.message.endswith(
        "two histories of their own? check each of their directories alone"
    )


def test_a_subdirectory_repeating_the_directorys_ids_is_an_old_copy(tmp_path: Path) -> None:
    """zou keeps its history from before a squash in ``versions/legacy/``, which Alembic does
    not read without recursive_version_locations: it is left out, with a notice, rather
    than ending the check on duplicate ids; the duplicate names the other file relatively."""
    versions = tmp_path / "versions"
    (versions / "legacy").mkdir(parents=True)
    (versions / "0001_squash.py").write_text("revision = 'a1'\ndown_revision = None\n" + UPGRADE)
    (versions / "0002_next.py").write_text("revision = 'b2'\ndown_revision = 'a1'\n" + UPGRADE)
    (versions / "legacy" / "old_a1.py").write_text(
        "revision = 'a1'\ndown_revision = None\n" + UPGRADE
    )
    (versions / "legacy" / "old_z9.py").write_text(
        "revision = 'z9'\ndown_revision = 'a1'\n" + UPGRADE
    )
    history, diagnostics = history_of(versions)
    assert [s.revision for s in history.scripts] == ["a1", "b2"]
    (notice,) = diagnostics
    assert not notice.fatal and notice.path == (versions / "legacy").resolve()
    assert notice.message.startswith("left out: its revisions repeat ids of versions/ itself")
    (versions / "0002_next.py").write_text("revision = 'a1'\ndown_revision = None\n" + UPGRADE)
    (versions / "legacy" / "old_a1.py").unlink()
    _, diagnostics = history_of(versions)
    assert "(also in 0001_squash.py)" in diagnostics[0].message


def test_env_py_s_imports_of_its_own_application_are_not_plugins(tmp_path: Path) -> None:
    """conda-store's env.py (in ``conda_store_server/_internal/alembic/``) imports its models,
    which import conda_lock: installed, they are still the application's, which check does
    not import for the migrations; a plugin (alembic_postgresql_enum) is."""
    from migsafe.project.environment import read_environment

    package = tmp_path / "conda_store_server" / "_internal"
    (package / "alembic").mkdir(parents=True)
    for directory in (package.parent, package):
        (directory / "__init__.py").write_text("")
    env_py = package / "alembic" / "env.py"
    env_py.write_text(
        "import alembic_postgresql_enum\n"
        "from alembic import context\n"
        "from conda_store_server._internal.orm import Base\n"
    )
    assert read_environment(env_py, {}).imports == (
        "alembic_postgresql_enum", "alembic", "alembic.context",
    )  # fmt: skip


def test_env_py_named_relative_to_a_working_directory_that_is_a_package(
    tmp_path: Path, monkeypatch
) -> None:
    """evidently's alembic.ini says ``script_location = migrations``, run from its directory,
    itself a package: env.py's path is relative, and finding its application's package
    must end (it walked ``Path(".")`` upwards for ever)."""
    from migsafe.project.environment import read_environment

    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "env.py").write_text(f"from {tmp_path.name}.models import Base\n")
    monkeypatch.chdir(tmp_path)
    assert read_environment(Path("migrations/env.py"), {}).imports == ()


def test_an_engine_in_autocommit_made_only_to_create_the_database_does_not_count(
    tmp_path: Path,
) -> None:
    """An env.py that creates the database on an AUTOCOMMIT engine, then migrates on a
    plain connection, runs its migrations in transactions; privacyidea's puts the
    migrations' own connection in AUTOCOMMIT."""
    from migsafe.project.environment import read_environment

    env_py = tmp_path / "env.py"
    env_py.write_text("""\
import sqlalchemy as sa
from alembic import context


def ensure_database(url):
    with sa.create_engine(url, isolation_level="AUTOCOMMIT").connect() as c:
        c.exec_driver_sql("CREATE DATABASE app")


def run_migrations_online(engine):
    with engine.connect() as connection:
        context.configure(connection=connection)
""")
    assert read_environment(env_py, {}).autocommit is False
    env_py.write_text(env_py.read_text().replace(
        "        context.configure(connection=connection)",
        '        connection = connection.execution_options(isolation_level="AUTOCOMMIT")\n'
        "        context.configure(connection=connection)",
    ))  # fmt: skip
    assert read_environment(env_py, {}).autocommit is True
    plain = tmp_path / "plain_env.py"
    plain.write_text("from alembic import context\n")
    assert read_environment(plain, {}).autocommit is False
    assert read_environment(plain, {"sqlalchemy.isolation_level": "AUTOCOMMIT"}).autocommit


NESTED = """
revision = "a1"
down_revision = None
import sqlalchemy as sa
from alembic import op


class Helper:
    def run(self):
        for name in ("a", "b"):
            try:
                op.drop_index(name)
            except Exception:
                pass


def upgrade():
    with op.batch_alter_table("t") as batch:
        if batch:
            while False:
                try:
                    op.execute("SELECT 1")
                except KeyError:
                    pass
                else:
                    pass
                finally:
                    pass
    try:
        op.drop_table("x")
    except:  # noqa: E722
        try:
            op.drop_table("y")
        except Exception:
            pass
    match op:
        case None:
            try:
                op.drop_table("z")
            except BaseException:
                pass
"""


def test_a_scripts_statements_are_every_statement_however_nested(tmp_path: Path) -> None:
    """Statements only, found without walking the expressions: the try blocks that guard
    an operation, loops and batch blocks, wherever they sit."""
    import ast

    from migsafe.project import read_script

    path = tmp_path / "a1_nested.py"
    path.write_text(NESTED)
    script = read_script(path)
    every = [node for node in ast.walk(script.tree) if isinstance(node, ast.stmt)]
    found = [node for node in script.statements() if isinstance(node, ast.stmt)]
    assert sorted(map(id, found)) == sorted(map(id, every))
    lines = NESTED.splitlines()
    guarded = {lines[number - 1].strip() for number in script.guarded_lines}
    assert guarded == {
        'op.drop_index(name)', 'op.drop_table("x")', 'op.drop_table("y")', 'op.drop_table("z")'
    }  # fmt: skip


def test_a_duplicate_in_another_directory_is_shown_from_the_working_directory(
    tmp_path: Path, monkeypatch
) -> None:
    """``(also in ../../../p_async/...)`` was relative to the other versions directory; every
    other path is shown from where the user stands."""
    from migsafe import command

    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "a.py").write_text("revision = 'a'\ndown_revision = None\n" + UPGRADE)
    monkeypatch.chdir(tmp_path)
    result = command.check([Path("one"), Path("two")])
    (duplicate,) = [d for d in result.diagnostics if "duplicate" in d.message]
    assert "(also in one/a.py)" in duplicate.message
