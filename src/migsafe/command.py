"""migsafe's commands as plain functions, as ``alembic.command`` has Alembic's.

Each takes the project (a loaded ``Project``, an ``alembic.config.Config``, or paths) and,
optionally, settings that replace the ones found next to the project, and returns a result
that knows its verdict (``exit_code``). The command line, a pytest plugin and the GitHub
Action all call these, so they reach the same verdict::

    from alembic.config import Config
    from migsafe import command

    result = command.check(Config("alembic.ini"))
    assert result.exit_code == 0, result.findings

Bad input that stops a command (unusable settings, an unknown rule, no PostgreSQL to be had)
raises ``migsafe.errors.MigsafeError``; a bad script is a diagnostic of the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from alembic.config import Config

from migsafe.check import CheckResult, check_project
from migsafe.config import Settings
from migsafe.project import Project, load_project
from migsafe.roundtrip import ProgressCallbacks, RoundtripOptions, roundtrip_project
from migsafe.roundtrip.result import RoundtripResult

Target = Project | Config | Path | str | Sequence[Path | str]


def check(target: Target, settings: Settings | None = None) -> CheckResult:
    """Flag unsafe operations in the project's migration scripts."""
    return check_project(as_project(target), settings)


def roundtrip(
    target: Target,
    options: RoundtripOptions | None = None,
    settings: Settings | None = None,
    progress: ProgressCallbacks | None = None,
) -> RoundtripResult:
    """Upgrade, downgrade and upgrade again every revision on a disposable PostgreSQL."""
    return roundtrip_project(as_project(target), options, settings, progress)


def as_project(target: Target) -> Project:
    """The project ``target`` names, loaded once."""
    if isinstance(target, Project):
        return target
    if isinstance(target, Config):
        return load_project(config=target)
    if isinstance(target, (str, Path)):
        return load_project([Path(target)])
    return load_project([Path(path) for path in target])
