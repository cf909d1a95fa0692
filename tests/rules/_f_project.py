"""For the rules about the project's files (their names, env.py's metadata): a small Alembic
project on disk, checked as a user's project is."""

from __future__ import annotations

import textwrap
from pathlib import Path

from migsafe import command
from migsafe.config import Overrides
from migsafe.findings import Finding
from tests.conftest import migration_source

INI = """\
[alembic]
script_location = %(here)s/migrations
path_separator = os
prepend_sys_path = .
"""

ENV_PY = """\
from alembic import context

target_metadata = None


def run_migrations_online():
    context.configure(connection=None, target_metadata=target_metadata)
"""


def project(
    root: Path,
    files: dict[str, str] | None = None,
    *,
    ini: str | None = INI,
    env_py: str = ENV_PY,
) -> Path:
    """An Alembic project in ``root``: alembic.ini (none when ``ini`` is None),
    migrations/env.py, and ``files`` (paths relative to ``root``, e.g. revision files under
    ``migrations/versions/``, or the application's modules). Returns ``root``."""
    if ini is not None:
        (root / "alembic.ini").write_text(ini, encoding="utf-8")
    (root / "migrations" / "versions").mkdir(parents=True, exist_ok=True)
    (root / "migrations" / "env.py").write_text(textwrap.dedent(env_py), encoding="utf-8")
    for name, text in (files or {}).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def revision(
    revision_id: str, down_revision: object = None, message: str = "", date: str = ""
) -> str:
    """A revision file's text, with the docstring `alembic revision` writes when
    ``message`` is given."""
    source = migration_source("def upgrade():\n    pass\n", revision_id, down_revision)
    if not message:
        return source
    docstring = f'"""{message}\n\nRevision ID: {revision_id}\n'
    docstring += f"Create Date: {date}\n" if date else ""
    return docstring + '"""\n' + source


def findings(target: Path, rule: str) -> list[Finding]:
    """The rule's findings on the project (or versions directory, or file) ``target``."""
    result = command.check([target], overrides=Overrides(extend_select=(rule,)))
    assert not [d for d in result.diagnostics if d.fatal], result.diagnostics
    return [f for f in result.findings if f.rule == rule]
