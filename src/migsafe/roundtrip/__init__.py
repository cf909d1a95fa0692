"""``migsafe roundtrip``: prove every revision upgrades, downgrades cleanly and upgrades again.

``roundtrip_project`` picks the revisions of a loaded project (``selection.py``: ``--from``,
``--to``, ``--since``, ``--shard``), gets a disposable PostgreSQL, walks the stairway there
(in a worker process: ``isolated.py``), and finally compares the target metadata (when known)
with the upgraded database.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from migsafe.config import Settings
from migsafe.findings import Diagnostic, Severity
from migsafe.project import Project, import_path
from migsafe.project.changes import changed_since
from migsafe.roundtrip.isolated import StairwayRun, StairwaySettings, Supervisor
from migsafe.roundtrip.result import RevisionResult, RoundtripResult
from migsafe.roundtrip.selection import Shard, ShardPlan, plan_revisions, shard_plan
from migsafe.roundtrip.stairway import PlannedRevision
from migsafe.rules import history_findings, in_effect
from migsafe.runner.alembic_project import alembic_project, import_object


@dataclass(frozen=True)
class RoundtripOptions:
    """What only roundtrip is told; the rest (PostgreSQL version, metadata, version table,
    time limit, ignored rules) are the project's ``Settings``."""

    postgres: str = "auto"  # auto, embedded, system, docker or a URL
    start: str | None = None  # --from
    stop: str | None = None  # --to
    since: str | None = None  # git ref
    use_env: bool = False
    one_way_fails: bool = False
    # --shard K/N: "2/4" (checked when the run starts, like --from) or a Shard
    shard: str | Shard | None = None


class ProgressCallbacks:
    """Callbacks for a progress display; the default shows nothing."""

    def started(self, total: int, description: str) -> None: ...

    def revision(self, revision: str, selected: bool) -> None: ...

    def finished(self, result: RevisionResult) -> None:
        """A revision's verdict is final (called in the order of the history)."""


def roundtrip_project(
    project: Project,
    options: RoundtripOptions | None = None,
    settings: Settings | None = None,
    progress: ProgressCallbacks | None = None,
) -> RoundtripResult:
    """Raises a MigsafeError when the input or the environment is unusable (no server, an
    unknown revision, a bad git ref); the problems of single scripts become diagnostics.

    Ctrl-C ends the run with what is done so far (``interrupted``), after everything it
    created is removed.
    """
    from migsafe.postgres import disposable_postgres

    options, progress = options or RoundtripOptions(), progress or ProgressCallbacks()
    shard = Shard.parse(options.shard) if isinstance(options.shard, str) else options.shard
    settings = settings or project.settings
    settings = in_effect(settings)
    began = time.perf_counter()
    result = RoundtripResult(one_way_fails=options.one_way_fails)
    result.shard = None if shard is None else str(shard)
    result.diagnostics.extend(_runnable_only(project))
    if result.has_fatal:
        return result
    alembic = alembic_project(replace(project, settings=settings))
    plan = _plan(project, options)
    sharded = None if shard is None else shard_plan(plan, shard)
    if sharded is not None:
        plan, progress = sharded.plan, _OwnResults(progress, sharded)
    # what stops a roundtrip in the graph itself (several heads); the notes on files and on
    # env.py that history rules make are check's to report
    result.findings = [
        finding
        for finding in history_findings(project.history, settings.ignore, settings.severity)
        if finding.severity is Severity.ERROR
    ]
    if not plan:
        return result
    supervisor: Supervisor | None = None
    with import_path(project.sys_path):
        metadata = import_object(settings.metadata, "metadata") if settings.metadata else None
        try:
            with disposable_postgres(options.postgres, settings.pg_version) as database:
                result.provider = database.description
                progress.started(sum(p.selected for p in plan), database.description)
                to_head = options.stop is None and (sharded is None or sharded.reaches_head)
                stairway = StairwaySettings(
                    alembic, alembic.version_table, alembic.version_schema or "public",
                    options.use_env, metadata, to_head, settings.timeout,
                )  # fmt: skip
                supervisor = Supervisor(
                    stairway, database.url, progress.revision, progress.finished
                )
                _take(supervisor.walk(plan), project, options, sharded, result)
        except KeyboardInterrupt:
            result.interrupted = True
            if supervisor is not None:
                result.revisions = _reported(supervisor.run.results, sharded)
    result.seconds = time.perf_counter() - began
    return result


def _take(
    run: StairwayRun, project: Project, options: RoundtripOptions, sharded: ShardPlan | None,
    result: RoundtripResult,
) -> None:  # fmt: skip
    """The supervised run's results into the roundtrip's, with the drift verdict."""
    result.revisions, result.rebuilds = _reported(run.results, sharded), run.rebuilds
    if run.fatal is not None:
        _, message = run.fatal  # a foreign connection's message names the file that made it
        result.diagnostics.append(Diagnostic(project.location, message, fatal=True))
        return
    if options.stop is not None:
        result.drift_note = "not checked: --to stops before the head"
    elif sharded is not None and not sharded.reaches_head:
        result.drift_note = "not checked: this shard stops before the head (the last one checks)"
    elif run.blocked:
        result.drift_note = "not checked: some revisions did not upgrade"
    elif run.drift is None:
        result.drift_note = (
            "not checked: no target metadata (set metadata in [tool.migsafe], "
            "pass --metadata, or use --use-env with an env.py that sets target_metadata)"
        )
    else:
        result.drift = run.drift


class _OwnResults(ProgressCallbacks):
    """A shard's progress: the verdicts of revisions another shard reports are not shown."""

    def __init__(self, inner: ProgressCallbacks, sharded: ShardPlan) -> None:
        self._inner, self._reported = inner, sharded.reported

    def started(self, total: int, description: str) -> None:
        self._inner.started(total, description)

    def revision(self, revision: str, selected: bool) -> None:
        self._inner.revision(revision, selected)

    def finished(self, result: RevisionResult) -> None:
        if result.revision in self._reported:
            self._inner.finished(result)


def _reported(results: list[RevisionResult], sharded: ShardPlan | None) -> list[RevisionResult]:
    """The results this run reports: a shard's own revisions only."""
    if sharded is None:
        return results
    return [r for r in results if r.revision in sharded.reported]


def _plan(project: Project, options: RoundtripOptions) -> list[PlannedRevision]:
    """The revisions in graph order, those selected marked."""
    location = project.location
    directory = location if location.is_dir() else location.parent
    changed = changed_since(options.since, directory) if options.since else None
    return plan_revisions(project.history, options.start, options.stop, changed)


def _runnable_only(project: Project) -> list[Diagnostic]:
    """The project's diagnostics, where a ``depends_on`` outside the history (a notice for
    check, which judges the revisions it has) is an error: Alembic cannot walk the history
    to run it (KeyError)."""
    outside = {s.path: s.outside for s in project.history.scripts if s.outside}
    diagnostics = [d for d in project.diagnostics if not (d.path in outside and not d.fatal
                   and d.message.startswith("depends_on "))]  # fmt: skip
    for path, names in outside.items():
        listed = ", ".join(repr(name) for name in names)
        diagnostics.append(Diagnostic(
            path,
            f"depends_on {listed} names no revision of this history, so Alembic cannot run "
            "it: roundtrip it with the history it depends on (an alembic.ini whose "
            "version_locations name both)",
            fatal=True,
        ))  # fmt: skip
    return diagnostics
