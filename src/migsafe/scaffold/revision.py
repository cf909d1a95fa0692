"""``migsafe revision``: Alembic's revision command, then a check of what it wrote.

With ``--autogenerate`` the comparison runs against a disposable database upgraded to head
(so nobody needs a database of their own running), through the project's env.py with that
database's connection handed over in ``config.attributes["connection"]``; an env.py that
connects anywhere else is stopped. Writing a revision imports every script and env.py, which
is the project's code: it runs in a worker process, as migrations do everywhere in migsafe.
"""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

from migsafe.config import Settings
from migsafe.findings import CheckResult
from migsafe.isolation import Worker, WorkerLost, WorkerTimedOut
from migsafe.project import Project, import_path
from migsafe.scaffold.templates import ScaffoldError

HOOK = "migsafe"  # the post-write hook migsafe's templates install: revision checks itself


@dataclass(frozen=True)
class RevisionOptions:
    """Alembic's ``revision`` options, and where the disposable database comes from."""

    message: str | None = None
    autogenerate: bool = False
    head: str = "head"
    splice: bool = False
    branch_label: str | None = None
    depends_on: str | None = None
    rev_id: str | None = None
    version_path: str | None = None
    postgres: str = "auto"


@dataclass
class RevisionResult:
    paths: list[Path] = field(default_factory=list)
    check: CheckResult | None = None
    provider: str = ""  # the disposable database autogenerate compared against


def new_revision(project: Project, options: RevisionOptions, settings: Settings) -> RevisionResult:
    """Write the revision (raises ScaffoldError with Alembic's reason when it cannot); the
    caller checks what it wrote (``result.paths``)."""
    if project.sources.config is None:
        raise ScaffoldError(
            f"{project.location}: no alembic.ini; `migsafe revision` works in an Alembic "
            "project (`migsafe init` makes one)"
        )
    _without_own_hook(project)
    result = RevisionResult()
    if options.autogenerate:
        from migsafe.postgres import disposable_postgres

        with disposable_postgres(options.postgres, settings.pg_version) as database:
            result.provider = database.description
            result.paths = _in_worker(project, options, settings, database.url)
    else:
        result.paths = _in_worker(project, options, settings, None)
    return result


def _without_own_hook(project: Project) -> None:
    """Leave migsafe out of the post-write hooks: this command checks the file itself."""
    config = project.config
    if not config.file_config.has_section("post_write_hooks"):
        return
    hooks = config.get_section_option("post_write_hooks", "hooks") or ""
    kept = [hook for hook in hooks.replace(",", " ").split() if hook != HOOK]
    config.set_section_option("post_write_hooks", "hooks", ", ".join(kept))


def _in_worker(
    project: Project, options: RevisionOptions, settings: Settings, database_url: str | None
) -> list[Path]:
    worker = Worker(_serve, project, options, database_url)
    try:
        while True:
            kind, payload = worker.receive(settings.timeout)
            if kind == "written":
                return [Path(path) for path in payload]
            if kind == "failed":
                raise ScaffoldError(payload)
    except (WorkerLost, WorkerTimedOut) as exc:
        raise ScaffoldError(f"writing the revision: the project's code {exc}") from None
    finally:
        worker.stop()


def _serve(
    connection: Connection, project: Project, options: RevisionOptions, database_url: str | None
) -> None:
    """In the worker: upgrade the disposable database to head (each revision reported, so
    that the time limit applies to each), then let Alembic write the revision."""
    from alembic.util import CommandError

    from migsafe.runner.migrator import ForeignConnection

    try:
        with import_path(project.sys_path):
            if database_url is None:
                paths = _write(project, options)
            else:
                paths = _autogenerate(project, options, database_url, connection)
        connection.send(("written", [str(p) for p in paths]))
    except (CommandError, ForeignConnection, ScaffoldError) as exc:
        connection.send(("failed", " ".join(str(exc).split())))
    except Exception as exc:
        where = traceback.extract_tb(exc.__traceback__)[-1]
        connection.send(
            ("failed", f"{type(exc).__name__}: {exc} ({Path(where.filename).name}, line "
                       f"{where.lineno})")
        )  # fmt: skip


def _autogenerate(
    project: Project, options: RevisionOptions, database_url: str, reporter: Connection
) -> list[Path]:
    from migsafe.runner.alembic_project import alembic_project
    from migsafe.runner.migrator import Migrator, only_connections_to, step_error
    from migsafe.runner.workspace import Workspace

    alembic = alembic_project(project)
    with Workspace(database_url) as workspace:
        database = workspace.open()
        migrator = Migrator(alembic, database)
        for script in project.scripts:
            try:
                migrator.upgrade(script.revision)
            except Exception as exc:
                error = step_error("upgrade", exc, script.path)
                raise ScaffoldError(
                    f"{script.path}: upgrading the disposable database to head failed at "
                    f"line {error.line}: {error.message}"
                ) from None
            reporter.send(("upgraded", script.revision))
        project.config.attributes["connection"] = database
        url = database.engine.url.render_as_string(hide_password=False)
        project.config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        os.environ["DATABASE_URL"] = url  # this worker's own environment
        with only_connections_to(database):
            return _write(project, options)


def _write(project: Project, options: RevisionOptions) -> list[Path]:
    from alembic import command

    written = command.revision(
        project.config,
        message=options.message,
        autogenerate=options.autogenerate,
        head=options.head,
        splice=options.splice,
        branch_label=options.branch_label,
        version_path=options.version_path,
        rev_id=options.rev_id,
        depends_on=options.depends_on,
    )
    scripts = written if isinstance(written, list) else [written]
    return [Path(script.path) for script in scripts if script is not None]
