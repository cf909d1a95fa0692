"""Shared helpers: write small migration projects into a temporary directory; one embedded
PostgreSQL per test module that needs a server."""

from __future__ import annotations

import os
import shutil
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from migsafe import command
from migsafe.project import load_project
from migsafe.roundtrip import RoundtripOptions
from migsafe.roundtrip.result import RoundtripResult
from tests.realdata import RegistryUnreachable

HEADER = """\
import sqlalchemy as sa
from alembic import op

revision = {revision!r}
down_revision = {down_revision!r}
branch_labels = None
depends_on = None

"""


def migration_source(body: str, revision: str = "a1", down_revision: object = None) -> str:
    """A complete migration module around ``body`` (upgrade/downgrade functions)."""
    body = textwrap.dedent(body)
    if "def downgrade" not in body:
        body += "\n\ndef downgrade():\n    pass\n"
    return HEADER.format(revision=revision, down_revision=down_revision) + body


@pytest.fixture
def write_migration(tmp_path: Path):
    """Write a migration file into ``tmp_path/versions`` and return its path."""
    versions = tmp_path / "versions"
    versions.mkdir(exist_ok=True)

    def write(
        body: str, revision: str = "a1", down_revision: object = None, name: str | None = None
    ) -> Path:
        path = versions / (name or f"{revision}.py")
        path.write_text(migration_source(body, revision, down_revision), encoding="utf-8")
        return path

    return write


@pytest.fixture(autouse=True, scope="session")
def _private_cache() -> Iterator[None]:
    """The tests' check results never land in (or come from) the user's own cache. The
    directory is world-traversable, as migsafe's own is for the unprivileged server."""
    previous = os.environ.get("MIGSAFE_CACHE_DIR")
    directory = tempfile.mkdtemp(prefix="migsafe-tests-")
    os.chmod(directory, 0o755)
    os.environ["MIGSAFE_CACHE_DIR"] = directory
    yield
    if previous is None:
        del os.environ["MIGSAFE_CACHE_DIR"]
    else:
        os.environ["MIGSAFE_CACHE_DIR"] = previous
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(autouse=True)
def _outside_github_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Text output adds annotations inside GitHub Actions; the tests pin it as users see it
    elsewhere (the tests of the annotations set the variable themselves)."""
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    """One embedded server for the module; each roundtrip gets scratch databases on it."""
    from migsafe.postgres import disposable_postgres

    with disposable_postgres("embedded") as database:
        yield database.url


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    return (yield from _skip_without_registry())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    return (yield from _skip_without_registry())


def _skip_without_registry() -> Iterator[None]:
    """Tests on released histories skip, saying why, when PyPI cannot be reached."""
    try:
        return (yield)
    except RegistryUnreachable as exc:
        pytest.skip(f"the package registry cannot be reached: {exc}")


def roundtrip(
    location: Path, postgres: str, timeout: float | None = None, metadata: str | None = None,
    **options: object,
) -> RoundtripResult:  # fmt: skip
    """``migsafe roundtrip`` through the command API, on a server of the test's choosing."""
    project = load_project([location])
    settings = project.settings.with_overrides(timeout=timeout, metadata=metadata)
    return command.roundtrip(project, RoundtripOptions(postgres=postgres, **options), settings)
