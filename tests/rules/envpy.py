"""For the rules that judge a revision with what env.py sets: a project of one revision
beside an env.py, checked as a user's project is."""

from __future__ import annotations

from pathlib import Path

from migsafe import command
from migsafe.config import Overrides
from migsafe.findings import Finding
from tests.conftest import migration_source
from tests.rules.lint import FIRST_BODY_LINE

#: an env.py that sets no timeout (its text is all migsafe reads)
PLAIN_ENV_PY = """\
from alembic import context


def run_migrations(connection):
    context.configure(connection=connection, transaction_per_migration=True)
"""

#: an env.py whose connection runs every statement on its own (privacyidea's)
AUTOCOMMIT_ENV_PY = """\
from alembic import context


def run_migrations(connection):
    connection = connection.execution_options(isolation_level="AUTOCOMMIT")
    context.configure(connection=connection)
"""


def findings(
    tmp_path: Path, body: str, *, rule: str, env_py: str = PLAIN_ENV_PY, pg_version: int = 15
) -> list[Finding]:
    (tmp_path / "env.py").write_text(env_py, encoding="utf-8")
    versions = tmp_path / "versions"
    versions.mkdir(exist_ok=True)
    (versions / "a1.py").write_text(migration_source(body), encoding="utf-8")
    overrides = Overrides(extend_select=(rule,), pg_version=pg_version)
    result = command.check([versions], overrides=overrides)
    assert not [d for d in result.diagnostics if d.fatal], result.diagnostics
    return [f for f in result.findings if f.rule == rule]


def lines(
    tmp_path: Path, body: str, *, rule: str, env_py: str = PLAIN_ENV_PY, pg_version: int = 15
) -> list[int]:
    """The lines of ``body`` (1-based) the rule flags."""
    found = findings(tmp_path, body, rule=rule, env_py=env_py, pg_version=pg_version)
    return [f.line - FIRST_BODY_LINE + 1 for f in found]
