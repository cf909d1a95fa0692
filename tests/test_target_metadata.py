"""env.py's target_metadata read without running it (migsafe.project.target_metadata): the
naming convention the capture names unnamed constraints by."""

from __future__ import annotations

from pathlib import Path

import pytest

from migsafe.project import load_project
from migsafe.project.target_metadata import naming_convention, package_modules
from tests.conftest import migration_source

FK = "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"


def convention_of(tmp_path: Path, env_py: str, models: str = "") -> dict[str, str] | None:
    (tmp_path / "versions").mkdir()
    (tmp_path / "versions" / "a1.py").write_text(migration_source("def upgrade():\n    pass\n"))
    (tmp_path / "env.py").write_text(env_py)
    if models:
        (tmp_path / "models.py").write_text(models)
    return naming_convention(load_project([tmp_path / "versions"]).history).value


@pytest.mark.parametrize(
    ("env_py", "models"),
    [
        (f"import sqlalchemy as sa\n"
         f"target_metadata = sa.MetaData(naming_convention={{'fk': '{FK}'}})\n", ""),
        ("from models import Base\ntarget_metadata = Base.metadata\n",
         "from sqlalchemy.orm import declarative_base\nfrom sqlalchemy import MetaData\n"
         f"CONVENTION = dict(fk='{FK}')\n"
         "Base = declarative_base(metadata=MetaData(naming_convention=CONVENTION))\n"),
        # fractal-server: a library's metadata (sqlmodel, not installed), its convention set
        # in env.py; or a metadata made first, its convention set afterwards
        ("from sqlmodel import SQLModel\ntarget_metadata = SQLModel.metadata\n"
         f"target_metadata.naming_convention = {{'fk': '{FK}'}}\n", ""),
        (f"import sqlalchemy as sa\nNAMING = {{'fk': '{FK}'}}\ntarget_metadata = sa.MetaData()\n"
         "target_metadata.naming_convention = NAMING\n", ""),
    ],
)  # fmt: skip
def test_a_convention_the_project_spells_out_is_read(
    tmp_path: Path, env_py: str, models: str
) -> None:
    assert convention_of(tmp_path, env_py, models) == {"fk": FK}


@pytest.mark.parametrize(
    "env_py",
    [
        "import sqlalchemy as sa\ntarget_metadata = sa.MetaData()\n",
        "target_metadata = None\n",
        # a convention with a callable token is not a literal: not known
        "import sqlalchemy as sa\ntarget_metadata = sa.MetaData(naming_convention="
        "{'fk': FK, 'column_names': lambda c, t: '_'.join(c.columns)})\n",
        "from installed_app.models import metadata as target_metadata\n",
    ],
)
def test_no_convention_or_one_not_spelled_out_is_none(tmp_path: Path, env_py: str) -> None:
    assert convention_of(tmp_path, env_py) is None


def flask_project(tmp_path: Path, db_py: str) -> Path:
    """A Flask-Migrate project: env.py's target_metadata names no module
    (``current_app.extensions['migrate'].db.metadata``); the application sets its convention
    in a module of its package. Returns the versions directory."""
    package = tmp_path / "app"
    (package / "migrations" / "versions").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "db.py").write_text(db_py)
    (package / "migrations" / "env.py").write_text(
        "from flask import current_app\n"
        "target_metadata = current_app.extensions['migrate'].db.metadata\n"
    )
    return package / "migrations" / "versions"


def test_a_convention_the_application_package_sets_is_found(tmp_path: Path) -> None:
    """fmn sets its convention on its Base in another module than the one making it; a
    Flask-Migrate env.py names no module at all. The one convention the package sets is
    the one."""
    versions = flask_project(
        tmp_path,
        "from flask_sqlalchemy import SQLAlchemy\n"
        f"NAMING = {{'fk': '{FK}'}}\n"
        "db = SQLAlchemy()\n"
        "db.Model.metadata.naming_convention = NAMING\n",
    )
    (versions / "a1.py").write_text(migration_source("def upgrade():\n    pass\n"))
    assert naming_convention(load_project([versions]).history).value == {"fk": FK}


def test_a_convention_a_function_gives_the_module_s_metadata_is_found(tmp_path: Path) -> None:
    """flexmeasures makes its ``db`` in ``init_db()`` (``global db``), with the metadata
    and its convention: unseen, its foreign keys got PostgreSQL's default names, and four
    drops by the convention's names were reported as failing. A function that sets no
    module variable gives none."""
    versions = flask_project(
        tmp_path,
        "from flask_sqlalchemy import SQLAlchemy\n"
        "from sqlalchemy import MetaData\n"
        f"NAMING = {{'fk': '{FK}'}}\n"
        "db = None\n"
        "def init_db():\n"
        "    global db\n"
        "    db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING))\n"
        "def in_a_test():\n"
        "    return MetaData(naming_convention={'fk': 'fk_%(table_name)s'})\n",
    )
    (versions / "a1.py").write_text(migration_source("def upgrade():\n    pass\n"))
    assert naming_convention(load_project([versions]).history).value == {"fk": FK}


def test_two_conventions_in_the_package_are_none_known(tmp_path: Path) -> None:
    versions = flask_project(
        tmp_path,
        "import sqlalchemy as sa\n"
        f"one = sa.MetaData(naming_convention={{'fk': '{FK}'}})\n"
        "two = sa.MetaData(naming_convention={'fk': 'fk_%(table_name)s'})\n",
    )
    (versions / "a1.py").write_text(migration_source("def upgrade():\n    pass\n"))
    assert naming_convention(load_project([versions]).history).value is None


def test_a_convention_with_callables_is_taken_from_its_module(tmp_path: Path) -> None:
    """indico's convention has a token of its own (``column_names``, a function): no literal,
    so check imported nothing and named by SQLAlchemy's defaults, then reported a foreign key
    dropped by its real name as still there, and an index "already existing". The module is
    imported as env.py would (flask_sqlalchemy stands in), and the convention used."""
    from migsafe import command

    versions = flask_project(
        tmp_path,
        "from flask_sqlalchemy_not_installed import SQLAlchemy\n"
        "def _column_names(constraint, table):\n"
        "    return '_'.join(c if isinstance(c, str) else c.name for c in constraint.columns)\n"
        "naming_convention = {\n"
        "    'fk': 'fk_%(table_name)s_%(column_names)s_%(referred_table_name)s',\n"
        "    'ix': 'ix_%(table_name)s_%(column_names)s',\n"
        "    'column_names': _column_names,\n"
        "}\n"
        "db = SQLAlchemy()\n"
        "db.Model.metadata.naming_convention = naming_convention\n",
    )
    (versions / "a1.py").write_text(
        migration_source(
            "def upgrade():\n"
            "    op.create_table('users', sa.Column('id', sa.Integer(), primary_key=True))\n"
            "    op.create_table('roles', sa.Column('id', sa.Integer(), primary_key=True),\n"
            "                    sa.Column('user_id', sa.Integer(), index=True),\n"
            "                    sa.Column('code', sa.String(8)))\n"
            "    op.create_index(None, 'roles', ['user_id', 'code'], unique=True)\n"
            "    op.create_foreign_key(None, 'roles', 'users', ['user_id'], ['id'])\n",
            revision="a1",
        )
    )
    (versions / "a2.py").write_text(
        migration_source(
            "def upgrade():\n"
            "    op.drop_constraint('fk_roles_user_id_users', 'roles', type_='foreignkey')\n"
            "    op.drop_table('users')\n",
            revision="a2",
            down_revision="a1",
        )
    )
    result = command.check([versions])
    assert result.diagnostics == []
    rules = {f.rule for f in result.findings}
    assert not rules & {"object-already-exists", "drop-table-still-referenced"}, rules
    assert "object-does-not-exist" not in rules


@pytest.mark.parametrize(
    ("hostile", "known"),
    [
        ("import os\nos._exit(3)\n", False),
        ("while True:\n    pass\n", False),
        ("raise SystemExit(0)\n", True),  # what it defined before stays, as for any import
    ],
)
def test_a_convention_module_that_ends_or_hangs_its_import_costs_only_the_convention(
    tmp_path: Path, hostile: str, known: bool
) -> None:
    """The module is imported in a process of its own first: one that ends the process or
    never returns would lose the worker before its first script, and blame that script."""
    import json

    from click.testing import CliRunner

    from migsafe.cli import cli

    versions = flask_project(
        tmp_path,
        "import sqlalchemy as sa\n"
        "def _names(constraint, table):\n    return 'x'\n"
        "naming_convention = {'fk': 'fk_%(table_name)s_%(names)s', 'names': _names}\n"
        "metadata = sa.MetaData()\n"
        "metadata.naming_convention = naming_convention\n" + hostile,
    )
    import time

    started = time.monotonic()
    (versions / "a1.py").write_text(
        migration_source("def upgrade():\n    op.create_index('ix_t_a', 't', ['a'])\n")
    )
    result = CliRunner().invoke(cli, ["check", "--format", "json", "--timeout", "2", str(versions)])
    report = json.loads(result.stdout)
    if known:
        assert report["diagnostics"] == []
        return
    (notice,) = report["diagnostics"]  # said on env.py, the one script checked
    assert not notice["fatal"] and notice["path"].endswith("env.py")
    assert notice["message"].startswith(
        "the naming convention of target_metadata (app.db.naming_convention) is not known: "
        "importing it "
    )
    assert [f["rule"] for f in report["findings"]].count("create-index-not-concurrently") == 1
    assert time.monotonic() - started < 20


@pytest.mark.parametrize(
    "where", ["app/reporting.py", "app/tests/test_names.py", "app/_vendor/lib/meta.py"]
)
def test_a_convention_of_another_metadata_is_not_env_py_s(tmp_path: Path, where: str) -> None:
    """env.py names a Base made without a convention: one another metadata of the package
    has (a reporting metadata, a test's, vendored code's) is not its."""
    (tmp_path / "app" / "migrations" / "versions").mkdir(parents=True)
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "models.py").write_text(
        "from sqlalchemy.orm import DeclarativeBase\nclass Base(DeclarativeBase):\n    pass\n"
    )
    (tmp_path / "app" / "migrations" / "env.py").write_text(
        "from app.models import Base\ntarget_metadata = Base.metadata\n"
    )
    other = tmp_path / where
    other.parent.mkdir(parents=True, exist_ok=True)
    other.write_text(
        "import sqlalchemy as sa\n"
        "reporting = sa.MetaData(naming_convention={'fk': 'rep_fk_%(table_name)s'})\n"
        "reporting.naming_convention = {'fk': 'rep_fk_%(table_name)s'}\n"
    )
    versions = tmp_path / "app" / "migrations" / "versions"
    (versions / "a1.py").write_text(migration_source("def upgrade():\n    pass\n"))
    assert naming_convention(load_project([versions]).history).value is None


def test_a_convention_module_slow_to_import_is_waited_for(tmp_path: Path) -> None:
    """A tester's models took 1.5 s to import: the probe had a third of --timeout 3, gave up,
    and SQLAlchemy's default names made a false object-does-not-exist, unsaid. The probe
    now has a time limit of its own, before the first script's."""
    import json

    from click.testing import CliRunner

    from migsafe.cli import cli

    versions = flask_project(
        tmp_path,
        "import time\nimport sqlalchemy as sa\ntime.sleep(1.5)\n"
        "def _names(constraint, table):\n"
        "    return '_'.join(c if isinstance(c, str) else c.name for c in constraint.columns)\n"
        "naming_convention = {'fk': 'fk_%(table_name)s_%(names)s', 'names': _names}\n"
        "metadata = sa.MetaData()\n"
        "metadata.naming_convention = naming_convention\n",
    )
    (versions / "a1.py").write_text(
        migration_source(
            "def upgrade():\n"
            "    op.create_table('users', sa.Column('id', sa.Integer(), primary_key=True))\n"
            "    op.create_table('roles', sa.Column('u', sa.Integer()))\n"
            "    op.create_foreign_key(None, 'roles', 'users', ['u'], ['id'])\n"
            "    op.drop_constraint('fk_roles_u', 'roles', type_='foreignkey')\n"
        )
    )
    result = CliRunner().invoke(cli, ["check", "--format", "json", "--timeout", "3", str(versions)])
    report = json.loads(result.stdout)
    assert report["diagnostics"] == []
    assert "object-does-not-exist" not in {f["rule"] for f in report["findings"]}


def test_the_application_modules_leave_out_tests_and_vendored_code(tmp_path: Path) -> None:
    """In the order their paths' parts compare (``a/`` before ``a-b/`` before ``a.py``): a
    scan that stops at its limit stops at the same module every time."""
    package = tmp_path / "app"
    for name in ("a.py", "a/x.py", "a-b/y.py", "tests/test_a.py", "a/vendor/lib.py", "b.txt"):
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text("", encoding="utf-8")
    relative = [str(Path(p).relative_to(package)) for p in package_modules(package)]
    assert relative == ["a/x.py", "a-b/y.py", "a.py"]
