"""``migsafe roundtrip``: prove every revision upgrades, downgrades cleanly and upgrades again.

``run_roundtrip`` loads the project, picks the revisions, gets a disposable PostgreSQL,
walks the stairway in a database of its own there, and finally compares the target metadata
(when known) with the upgraded database.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from migsafe.findings import Diagnostic
from migsafe.project import find_sources, import_path, load_history
from migsafe.roundtrip.drift import describe_drift
from migsafe.roundtrip.environment import ProjectError, import_object, load_project
from migsafe.roundtrip.migrator import ForeignConnection
from migsafe.roundtrip.result import RoundtripResult
from migsafe.roundtrip.selection import SelectionError, changed_since, plan_revisions
from migsafe.roundtrip.stairway import PlannedRevision, RebuildFailed, Stairway
from migsafe.roundtrip.workspace import Workspace


@dataclass(frozen=True)
class RoundtripOptions:
    location: Path
    postgres: str = "auto"
    pg_version: int | None = None
    start: str | None = None  # --from
    stop: str | None = None  # --to
    since: str | None = None  # git ref
    use_env: bool = False
    metadata: str | None = None  # "package.module:attribute"
    version_table: str | None = None
    version_table_schema: str | None = None
    one_way_fails: bool = False


class ProgressCallbacks:
    """Callbacks for a progress display; the default shows nothing."""

    def started(self, total: int, why: str) -> None: ...

    def revision(self, revision: str, selected: bool) -> None: ...


def run_roundtrip(
    options: RoundtripOptions, progress: ProgressCallbacks | None = None
) -> RoundtripResult:
    """Raises PostgresUnavailable when no server can be had; input errors become diagnostics."""
    from migsafe.postgres import disposable_postgres

    progress = progress or ProgressCallbacks()
    began = time.perf_counter()
    result = RoundtripResult(one_way_fails=options.one_way_fails)
    try:
        project = load_project(options.location, options.version_table,
                               options.version_table_schema)  # fmt: skip
        plan, sys_path = _plan(options, result)
    except (ProjectError, SelectionError) as exc:
        result.diagnostics.append(Diagnostic(options.location, str(exc), fatal=True))
        return result
    if result.has_fatal or not plan:
        return result
    with import_path(sys_path):
        try:
            metadata = import_object(options.metadata, "metadata") if options.metadata else None
        except ProjectError as exc:
            result.diagnostics.append(Diagnostic(options.location, str(exc), fatal=True))
            return result
        with disposable_postgres(options.postgres, options.pg_version) as database:
            result.provider = database.why
            progress.started(sum(p.selected for p in plan), database.why)
            version_schema = project.version_schema or "public"
            with Workspace(database.url, project.version_table, version_schema) as workspace:
                stairway = Stairway(project, workspace, options.use_env, metadata,
                                    progress.revision)  # fmt: skip
                try:
                    stairway.run(plan)
                except ForeignConnection as exc:
                    result.diagnostics.append(Diagnostic(project.env_py, str(exc), fatal=True))
                except RebuildFailed as exc:
                    result.diagnostics.append(Diagnostic(options.location, str(exc), fatal=True))
                result.revisions, result.rebuilds = stairway.results, workspace.rebuilds
                if result.has_fatal:
                    return result
                _check_drift(stairway, options, result)
    result.seconds = time.perf_counter() - began
    return result


def _plan(
    options: RoundtripOptions, result: RoundtripResult
) -> tuple[list[PlannedRevision], list[Path]]:
    """The revisions in graph order, and the import path alembic.ini asks for."""
    sources = find_sources([options.location])
    history, diagnostics = load_history(sources)
    result.diagnostics.extend(diagnostics)
    if result.has_fatal:
        return [], sources.sys_path
    directory = options.location if options.location.is_dir() else options.location.parent
    changed = changed_since(options.since, directory) if options.since else None
    return plan_revisions(history, options.start, options.stop, changed), sources.sys_path


def _check_drift(stairway: Stairway, options: RoundtripOptions, result: RoundtripResult) -> None:
    if options.stop is not None:
        result.drift_note = "not checked: --to stops before the head"
    elif stairway.blocked:
        result.drift_note = "not checked: some revisions did not upgrade"
    else:
        differences = stairway.drift()
        if differences is None:
            result.drift_note = (
                "not checked: no target metadata (set metadata in [tool.migsafe], "
                "pass --metadata, or use --use-env with an env.py that sets target_metadata)"
            )
        else:
            result.drift = [describe_drift(d) for d in differences]
