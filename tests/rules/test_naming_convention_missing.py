"""naming-convention-missing (MS062): env.py's target_metadata has no naming_convention,
read from env.py and the project's modules it imports the metadata from."""

from __future__ import annotations

import textwrap
from pathlib import Path

from migsafe.rules.history import naming_convention_missing
from tests.rules._f_project import findings, project, revision

RULE = "naming-convention-missing"
REVISION = {"migrations/versions/a1_first.py": revision("a1")}


def env_with(metadata: str, imports: str = "") -> str:
    return f"""\
from alembic import context
{imports}

target_metadata = {metadata}


def run_migrations_online():
    context.configure(connection=None, target_metadata=target_metadata)
"""


def flagged(tmp_path: Path, env_py: str, modules: dict[str, str] | None = None) -> list[str]:
    """``path:line`` of each finding on the project."""
    root = project(tmp_path, {**REVISION, **(modules or {})}, env_py=env_py)
    return [f"{f.path.relative_to(root).as_posix()}:{f.line}" for f in findings(root, RULE)]


DECLARATIVE = """\
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
"""


def test_renders_the_convention_to_add_where_the_base_is_made(tmp_path: Path) -> None:
    env_py = env_with("Base.metadata", "from app.models import Base")
    root = project(
        tmp_path, {**REVISION, "app/__init__.py": "", "app/models.py": DECLARATIVE},
        env_py=env_py,
    )  # fmt: skip
    (finding,) = findings(root, RULE)
    assert (finding.path, finding.line, finding.revision) == (
        root / "migrations" / "env.py", 4, None,
    )  # fmt: skip
    assert finding.message == (
        "target_metadata (Base.metadata) has no naming_convention: its MetaData is made in "
        "app/models.py (line 4) without one, so the unique, foreign key, check and primary key "
        "constraints autogenerate writes without a name get names PostgreSQL chooses, and the "
        "op.drop_constraint(None, ...) of their downgrade cannot run."
    )
    assert finding.hint == textwrap.dedent("""\
        # in app/models.py (indexes keep SQLAlchemy's own names, ix_<table>_<column>):
        NAMING_CONVENTION = {
            "ix": "ix_%(column_0_label)s",
            "uq": "%(table_name)s_%(column_0_N_name)s_key",
            "ck": "%(table_name)s_%(constraint_name)s_check",
            "fk": "%(table_name)s_%(column_0_N_name)s_fkey",
            "pk": "%(table_name)s_pkey",
        }
        class Base(DeclarativeBase):
            metadata = MetaData(naming_convention=NAMING_CONVENTION)""")
    assert finding.url.endswith("/naming-convention-missing.md") and finding.help


def test_migsafe_init_models_with_a_convention_pass(tmp_path: Path) -> None:
    models = (Path(__file__).parents[2] / "alembic_templates/common/models.py").read_text()
    env_py = env_with("Base.metadata", "from models import Base")
    assert flagged(tmp_path, env_py, {"models.py": models}) == []


def test_a_metadata_made_in_env_py_names_its_variable(tmp_path: Path) -> None:
    env_py = env_with(
        "metadata_obj", "import sqlalchemy as sa\nmetadata_obj = sa.MetaData(schema='app')"
    )
    root = project(tmp_path, REVISION, env_py=env_py)
    (finding,) = findings(root, RULE)
    assert finding.line == 5
    assert "made in migrations/env.py (line 3)" in finding.message
    assert finding.hint.endswith(
        "metadata_obj = sa.MetaData(schema='app', naming_convention=NAMING_CONVENTION)"
    )


def test_a_metadata_with_a_convention_passes(tmp_path: Path) -> None:
    env_py = env_with(
        "MetaData(naming_convention=CONVENTION)",
        "from sqlalchemy import MetaData\nCONVENTION = {'pk': 'pk_%(table_name)s'}",
    )
    assert flagged(tmp_path, env_py) == []


def test_an_empty_convention_is_none(tmp_path: Path) -> None:
    env_py = env_with("MetaData(naming_convention={})", "from sqlalchemy import MetaData")
    assert flagged(tmp_path, env_py) == ["migrations/env.py:4"]


def test_target_metadata_none_is_not_judged(tmp_path: Path) -> None:
    assert flagged(tmp_path, env_with("None")) == []


def test_declarative_base_through_a_package_and_a_relative_import(tmp_path: Path) -> None:
    modules = {
        "app/__init__.py": "",
        "app/db/__init__.py": "from .base import *\n",
        "app/db/base.py": """\
            from sqlalchemy.orm import declarative_base

            Base = declarative_base()
        """,
    }
    env_py = env_with("db.Base.metadata", "from app import db")
    root = project(tmp_path, {**REVISION, **modules}, env_py=env_py)
    (finding,) = findings(root, RULE)
    assert "made in app/db/base.py (line 3)" in finding.message
    assert finding.hint.endswith(
        "Base = declarative_base(metadata=MetaData(naming_convention=NAMING_CONVENTION))"
    )


def test_a_base_class_that_sets_its_metadata_with_a_convention_passes(tmp_path: Path) -> None:
    models = """\
        from sqlalchemy import MetaData
        from sqlalchemy.orm import DeclarativeBase

        metadata = MetaData(naming_convention={"pk": "pk_%(table_name)s"})


        class Base(DeclarativeBase):
            metadata = metadata


        class Model(Base):
            __abstract__ = True
    """
    env_py = env_with("Model.metadata", "from models import Model")
    assert flagged(tmp_path, env_py, {"models.py": models}) == []


def test_a_subclass_of_a_base_without_convention_is_flagged(tmp_path: Path) -> None:
    models = DECLARATIVE + "\n\nclass Model(Base):\n    __abstract__ = True\n"
    env_py = env_with("Model.metadata", "from models import Model")
    assert flagged(tmp_path, env_py, {"models.py": models}) == ["migrations/env.py:4"]


def test_a_convention_set_after_the_metadata_is_made_is_not_judged(tmp_path: Path) -> None:
    models = DECLARATIVE + "\nBase.metadata.naming_convention = {'pk': 'pk_%(table_name)s'}\n"
    env_py = env_with("Base.metadata", "from models import Base")
    assert flagged(tmp_path, env_py, {"models.py": models}) == []


def test_a_convention_the_package_sets_in_another_module_is_not_judged(tmp_path: Path) -> None:
    """fmn makes its Base in one module and sets its convention in another (main.py), which
    env.py does not import: the one convention the application package sets is env.py's."""
    main = (
        "from models import Base\nBase.metadata.naming_convention = {'pk': 'pk_%(table_name)s'}\n"
    )
    env_py = env_with("Base.metadata", "from models import Base")
    files = {"__init__.py": "", "models.py": DECLARATIVE}
    for name in ("without", "with"):
        (tmp_path / name).mkdir()
    assert flagged(tmp_path / "without", env_py, files) == ["migrations/env.py:4"]
    assert flagged(tmp_path / "with", env_py, {**files, "main.py": main}) == []


def test_a_metadata_from_an_installed_package_is_not_judged(tmp_path: Path) -> None:
    env_py = env_with("SQLModel.metadata", "from sqlmodel import SQLModel")
    assert flagged(tmp_path, env_py) == []
    env_py = env_with("Base.metadata", "from not_in_this_project.models import Base")
    assert flagged(tmp_path, env_py) == []


def test_a_metadata_made_at_run_time_is_not_judged(tmp_path: Path) -> None:
    env_py = env_with("get_metadata()", "from models import get_metadata")
    models = "from sqlalchemy import MetaData\n\ndef get_metadata():\n    return MetaData()\n"
    assert flagged(tmp_path, env_py, {"models.py": models}) == []


def test_a_list_of_metadata_is_flagged_for_the_one_without(tmp_path: Path) -> None:
    models = """\
        from sqlalchemy import MetaData

        with_convention = MetaData(naming_convention={"pk": "pk_%(table_name)s"})
        without = MetaData()
    """
    env_py = env_with("[models.with_convention, models.without]", "import models")
    root = project(tmp_path, {**REVISION, "models.py": models}, env_py=env_py)
    (finding,) = findings(root, RULE)
    assert "made in models.py (line 4)" in finding.message
    assert finding.hint.endswith("without = MetaData(naming_convention=NAMING_CONVENTION)")


def test_flask_sqlalchemy_without_metadata_is_flagged(tmp_path: Path) -> None:
    app = """\
        from flask import Flask
        from flask_sqlalchemy import SQLAlchemy

        app = Flask(__name__)
        db = SQLAlchemy(app)
    """
    root = project(
        tmp_path, {**REVISION, "app.py": app}, env_py=env_with("db.metadata", "from app import db")
    )
    (finding,) = findings(root, RULE)
    assert finding.hint.endswith(
        "db = SQLAlchemy(app, metadata=MetaData(naming_convention=NAMING_CONVENTION))"
    )


def test_an_inline_suppression_in_env_py_hides_it(tmp_path: Path) -> None:
    env_py = env_with("Base.metadata  # migsafe: ignore[ms062]", "from models import Base")
    assert flagged(tmp_path, env_py, {"models.py": DECLARATIVE}) == []


def test_one_file_checked_alone_is_not_a_project(tmp_path: Path) -> None:
    env_py = env_with("Base.metadata", "from models import Base")
    root = project(tmp_path, {**REVISION, "models.py": DECLARATIVE}, env_py=env_py)
    assert findings(root / "migrations/versions/a1_first.py", RULE) == []
    assert len(findings(root / "migrations/versions", RULE)) == 1


def test_the_files_read_are_listed_for_the_cache(tmp_path: Path) -> None:
    from migsafe.project import load_project

    env_py = env_with("Base.metadata", "from app.models import Base")
    root = project(
        tmp_path, {**REVISION, "app/__init__.py": "", "app/models.py": DECLARATIVE},
        env_py=env_py,
    )  # fmt: skip
    read = naming_convention_missing.files_read(load_project([root]).history)
    assert [p.relative_to(root.resolve()).as_posix() for p in read] == [
        "migrations/env.py", "alembic.ini", "app/models.py",
    ]  # fmt: skip


def test_the_example_project_has_no_metadata(tmp_path: Path) -> None:
    shop = Path(__file__).parents[2] / "examples" / "shop"
    assert findings(shop, RULE) == []


def test_an_env_py_deep_in_a_package_finds_the_packages_models(tmp_path: Path) -> None:
    """mlflow's layout: mlflow/store/db_migrations/env.py imports mlflow.store.db.base, which
    is imported from the directory above the package, not from env.py's."""
    package = tmp_path / "app"
    for directory in ("", "store", "store/db", "store/db_migrations"):
        (package / directory).mkdir(parents=True, exist_ok=True)
        (package / directory / "__init__.py").write_text("", encoding="utf-8")
    (package / "store" / "db" / "base.py").write_text(DECLARATIVE, encoding="utf-8")
    migrations = package / "store" / "db_migrations"
    env_py = env_with("Base.metadata", "from app.store.db.base import Base")
    (migrations / "env.py").write_text(env_py, encoding="utf-8")
    (migrations / "versions").mkdir()
    (migrations / "versions" / "a1_first.py").write_text(revision("a1"), encoding="utf-8")
    (finding,) = findings(migrations / "versions", RULE)
    assert (finding.path, finding.line) == (migrations / "env.py", 4)


def test_an_env_py_in_a_script_directory_inside_a_package_finds_its_models(
    tmp_path: Path,
) -> None:
    """zun's and nbgrader's layout: env.py in zun/db/sqlalchemy/alembic/, a directory without
    an ``__init__.py``, imports ``zun.db.sqlalchemy.models`` from the package around it."""
    package = tmp_path / "app"
    for directory in ("", "db"):
        (package / directory).mkdir(parents=True, exist_ok=True)
        (package / directory / "__init__.py").write_text("", encoding="utf-8")
    (package / "db" / "models.py").write_text(DECLARATIVE, encoding="utf-8")
    migrations = package / "db" / "alembic"
    (migrations / "versions").mkdir(parents=True)
    env_py = env_with("Base.metadata", "from app.db.models import Base")
    (migrations / "env.py").write_text(env_py, encoding="utf-8")
    (migrations / "versions" / "a1_first.py").write_text(revision("a1"), encoding="utf-8")
    (finding,) = findings(migrations / "versions", RULE)
    assert (finding.path, finding.line) == (migrations / "env.py", 4)


def test_a_module_outside_the_project_directory_is_named_relative_to_it(tmp_path: Path) -> None:
    """mindsdb's metadata is made in mindsdb/interfaces/storage/db.py, beside the directory
    of its alembic.ini (mindsdb/migrations): named from there, not by the machine's path."""
    root = tmp_path / "app" / "store"
    for directory in ("app", "app/store", "app/store/migrations"):
        (tmp_path / directory).mkdir(parents=True, exist_ok=True)
        (tmp_path / directory / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "app" / "db.py").write_text(DECLARATIVE, encoding="utf-8")
    project(root, REVISION, env_py=env_with("Base.metadata", "from app.db import Base"))
    (finding,) = findings(root, RULE)
    assert "its MetaData is made in ../db.py (line 4)" in finding.message


def test_an_env_py_in_a_namespace_package_finds_its_models(tmp_path: Path) -> None:
    """datanommer's env.py (datanommer/models/alembic/) imports ``datanommer.models``, and
    ``datanommer`` is a namespace package, with no ``__init__.py``."""
    package = tmp_path / "datanommer" / "models"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(DECLARATIVE, encoding="utf-8")
    migrations = package / "alembic"
    (migrations / "versions").mkdir(parents=True)
    env_py = env_with("Base.metadata", "from datanommer.models import Base")
    (migrations / "env.py").write_text(env_py, encoding="utf-8")
    (migrations / "versions" / "a1_first.py").write_text(revision("a1"), encoding="utf-8")
    (finding,) = findings(migrations / "versions", RULE)
    assert (finding.path, finding.line) == (migrations / "env.py", 4)
