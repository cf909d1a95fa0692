"""The package users install: wheel and sdist build with `python -m build`, pass
`twine check`, carry the templates and the data the code reads, and give the `migsafe`
command under the distribution name alembic-migsafe (not the unrelated `migsafe` on PyPI)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from migsafe import __version__
from tests.realdata import RegistryUnreachable

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(REPO)],
                           capture_output=True, text=True, check=False)  # fmt: skip
    if built.returncode != 0:
        if "Could not find a version" in built.stderr or "Network" in built.stderr:
            raise RegistryUnreachable("python -m build could not fetch its build backend")
        pytest.fail(built.stdout[-2000:] + built.stderr[-2000:])
    return out


def test_wheel_and_sdist_pass_twine_check(dist: Path) -> None:
    files = sorted(dist.iterdir())
    assert [f.name for f in files] == [
        f"alembic_migsafe-{__version__}-py3-none-any.whl",
        f"alembic_migsafe-{__version__}.tar.gz",
    ]
    twine = [sys.executable, "-m", "twine", "check", "--strict", *map(str, files)]
    checked = subprocess.run(twine, capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_wheel_carries_what_the_code_reads(dist: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(f"alembic_migsafe-{__version__}.dist-info/METADATA").decode()
        entry_points = archive.read(
            f"alembic_migsafe-{__version__}.dist-info/entry_points.txt"
        ).decode()
    for name in ("common/alembic.ini", "common/migrations/env.py", "sync/env_online.part",
                 "async/env_online.part"):  # fmt: skip
        assert f"migsafe/alembic_templates/{name}" in names, name
    assert "migsafe/builtins/non_volatile_functions.txt" in names
    assert "migsafe/builtins/parameters.txt" in names
    assert not any("__pycache__" in name for name in names)
    assert "Name: alembic-migsafe" in metadata and f"Version: {__version__}" in metadata
    assert "migsafe = migsafe.__main__:main" in entry_points
