"""env.py's target_metadata read without running it (migsafe.project.target_metadata): the
naming convention the capture names unnamed constraints by."""

from __future__ import annotations

from pathlib import Path

import pytest

from migsafe.project import load_project
from migsafe.project.target_metadata import naming_convention
from tests.conftest import migration_source

FK = "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"


def convention_of(tmp_path: Path, env_py: str, models: str = "") -> dict[str, str] | None:
    (tmp_path / "versions").mkdir()
    (tmp_path / "versions" / "a1.py").write_text(migration_source("def upgrade():\n    pass\n"))
    (tmp_path / "env.py").write_text(env_py)
    if models:
        (tmp_path / "models.py").write_text(models)
    return naming_convention(load_project([tmp_path / "versions"]).history)


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
