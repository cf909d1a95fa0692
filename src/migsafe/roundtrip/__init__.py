"""``migsafe roundtrip``: prove every revision upgrades, downgrades cleanly and upgrades again.

``run_roundtrip`` loads the project, picks the revisions, gets a disposable PostgreSQL,
walks the stairway in a database of its own there, and finally compares the target metadata
(when known) with the upgraded database.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from migsafe.config import DEFAULT_TIMEOUT
from migsafe.findings import Diagnostic
from migsafe.project import History, find_sources, import_path, load_history
from migsafe.roundtrip.environment import ProjectError, import_object, load_project, use_history
from migsafe.roundtrip.isolated import StairwayRun, StairwaySettings, Supervisor
from migsafe.roundtrip.result import RevisionResult, RoundtripResult
from migsafe.roundtrip.selection import SelectionError, changed_since, plan_revisions
from migsafe.roundtrip.stairway import PlannedRevision
from migsafe.rules import history_findings


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
    timeout: float = DEFAULT_TIMEOUT  # seconds per step
    ignore: frozenset[str] = frozenset()  # rule names (multiple-heads)


class ProgressCallbacks:
    """Callbacks for a progress display; the default shows nothing."""

    def started(self, total: int, why: str) -> None: ...

    def revision(self, revision: str, selected: bool) -> None: ...

    def finished(self, result: RevisionResult) -> None:
        """A revision's verdict is final (called in the order of the history)."""


def run_roundtrip(
    options: RoundtripOptions, progress: ProgressCallbacks | None = None
) -> RoundtripResult:
    """Raises PostgresUnavailable when no server can be had; input errors become diagnostics.

    Ctrl-C ends the run with what is done so far (``interrupted``), after everything it
    created is removed.
    """
    from migsafe.postgres import disposable_postgres

    progress = progress or ProgressCallbacks()
    began = time.perf_counter()
    result = RoundtripResult(one_way_fails=options.one_way_fails)
    sources = find_sources([options.location])
    history, diagnostics = load_history(sources)
    result.diagnostics.extend(diagnostics)
    if result.has_fatal:
        return result
    try:
        project = load_project(options.location, options.version_table,
                               options.version_table_schema)  # fmt: skip
        use_history(project, history)
        plan = _plan(options, history)
    except (ProjectError, SelectionError) as exc:
        result.diagnostics.append(Diagnostic(options.location, str(exc), fatal=True))
        return result
    result.findings = history_findings(history, options.ignore)
    if not plan:
        return result
    supervisor: Supervisor | None = None
    with import_path(sources.sys_path):
        try:
            metadata = import_object(options.metadata, "metadata") if options.metadata else None
        except ProjectError as exc:
            result.diagnostics.append(Diagnostic(options.location, str(exc), fatal=True))
            return result
        try:
            with disposable_postgres(options.postgres, options.pg_version) as database:
                result.provider = database.why
                progress.started(sum(p.selected for p in plan), database.why)
                settings = StairwaySettings(
                    project, project.version_table, project.version_schema or "public",
                    options.use_env, metadata, options.stop is None, options.timeout,
                )  # fmt: skip
                supervisor = Supervisor(settings, database.url, progress.revision,
                                        progress.finished)  # fmt: skip
                run = supervisor.walk(plan)
                _take(run, project, options, result)
        except KeyboardInterrupt:
            result.interrupted = True
            if supervisor is not None:
                result.revisions = supervisor.run.results
    result.seconds = time.perf_counter() - began
    return result


def _take(run: StairwayRun, project, options: RoundtripOptions, result: RoundtripResult) -> None:
    """The supervised run's results into the roundtrip's, with the drift verdict."""
    result.revisions, result.rebuilds = run.results, run.rebuilds
    if run.fatal is not None:
        kind, message = run.fatal
        where = project.env_py if kind == "foreign" else options.location
        result.diagnostics.append(Diagnostic(where, message, fatal=True))
        return
    if options.stop is not None:
        result.drift_note = "not checked: --to stops before the head"
    elif run.blocked:
        result.drift_note = "not checked: some revisions did not upgrade"
    elif run.drift is None:
        result.drift_note = (
            "not checked: no target metadata (set metadata in [tool.migsafe], "
            "pass --metadata, or use --use-env with an env.py that sets target_metadata)"
        )
    else:
        result.drift = run.drift


def _plan(options: RoundtripOptions, history: History) -> list[PlannedRevision]:
    """The revisions in graph order, those selected marked."""
    directory = options.location if options.location.is_dir() else options.location.parent
    changed = changed_since(options.since, directory) if options.since else None
    return plan_revisions(history, options.start, options.stop, changed)
