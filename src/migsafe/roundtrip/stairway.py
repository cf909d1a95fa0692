"""The stairway: for each revision, upgrade → downgrade → upgrade, comparing schemas each time.

For revision r (parents before children): S0 is the schema before it; upgrade r gives S1;
downgrade r must give S0 again; upgrade r again must give S1 again. A step that raises is
reported with its line, SQL and reason; if it left the database in a state other than the one
expected, the database is rebuilt (a fresh one, with every revision applied so far replayed)
and the run goes on, so that one run reports every problem in the history. Revisions that
build on one that could not be upgraded are skipped.

This runs in a worker process (``isolated.py``): it tells migsafe's process what it does as
it goes (``StairwayEvents``), so that a migration that takes the worker down costs only the
revision it was running.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from migsafe.isolation import process_state_kept
from migsafe.project import (
    BodyShape,
    MigrationScript,
    body_shape,
    failing_line,
    raised_on_purpose,
)
from migsafe.roundtrip.result import RevisionResult, StepError, Verdict
from migsafe.runner.alembic_project import AlembicProject
from migsafe.runner.migrator import ForeignConnection, Migrator, step_error
from migsafe.runner.workspace import Workspace
from migsafe.schema.diff import diff_snapshots
from migsafe.schema.snapshot import Snapshot

UNTRACKED_NOTE = (
    "commits through op.get_bind(): what runs after that commit is outside Alembic's "
    "transaction, and when this is the last revision of `alembic upgrade` it is rolled back "
    "(version stamp included); use op.get_context().autocommit_block() instead"
)


class RebuildFailed(RuntimeError):
    """Replaying revisions that had already succeeded failed: the run cannot go on."""


@dataclass(frozen=True)
class PlannedRevision:
    script: MigrationScript
    selected: bool  # False: only upgraded, to reach the state the selected ones start from

    @property
    def revision(self) -> str:
        return self.script.revision


class StairwayEvents:
    """What the stairway tells as it goes; the default tells no one."""

    def revision(self, revision: str, selected: bool) -> None:
        """A planned revision starts."""

    def step(self, revision: str | None, step: str, revisions: int = 1) -> None:
        """A step starts: upgrade, downgrade, re-upgrade, or a rebuild of ``revisions``."""

    def provisional(self, result: RevisionResult) -> None:
        """A result whose re-upgraded schema is still to be compared."""

    def final(self, result: RevisionResult) -> None:
        """A verdict is final; called in the order of the plan."""

    def state(self, applied: list[str], blocked: set[str]) -> None:
        """After each planned revision: what is applied, and what could not be upgraded."""


class Stairway:
    def __init__(
        self,
        project: AlembicProject,
        workspace: Workspace,
        use_env: bool = False,
        target_metadata: object = None,
        events: StairwayEvents | None = None,
    ) -> None:
        self.project = project
        self.workspace = workspace
        self.use_env = use_env
        self.target_metadata = target_metadata
        self.events = events or StairwayEvents()
        self.applied: list[str] = []
        self.blocked: set[str] = set()
        self.untracked: set[str] = set()  # revisions that committed behind Alembic's back
        self.results: list[RevisionResult] = []
        self._announced = 0
        self.migrator = self._migrator(workspace.open())
        # the schema as it is now; None until a selected revision needs it (plain upgrades
        # on the way to --from take none)
        self.current: Snapshot | None = None
        # re-upgraded schemas still to compare with the first upgrade's, once they arrive
        self.reupgrades: list[tuple[RevisionResult, Snapshot, Snapshot]] = []

    def resume(self, applied: list[str], blocked: set[str]) -> None:
        """Go on where a lost worker stopped: its database may be in any state, so start
        from a fresh one with what it had applied."""
        self.blocked = set(blocked)
        self._rebuild(list(applied))

    def run(self, plan: list[PlannedRevision]) -> list[RevisionResult]:
        """Walk ``plan``; the results so far stay in ``self.results`` if the run breaks off."""
        finished = False
        try:
            for planned in plan:
                self.events.revision(planned.revision, planned.selected)
                started = time.perf_counter()
                result = self._revision(planned)
                self._compare_reupgrades(wait=False)
                if result is not None:
                    if planned.revision in self.untracked:
                        result.note = "; ".join(filter(None, [result.note, UNTRACKED_NOTE]))
                    result.seconds = time.perf_counter() - started
                    self.results.append(result)
                    self.events.provisional(result)
                self._announce()
                self.events.state(self.applied, self.blocked)
            finished = True
        finally:  # a run that breaks off compares what has arrived, and waits for nothing
            self._compare_reupgrades(wait=finished)
            if finished:
                self._announce()
        return self.results

    def drift(self) -> list[str] | None:
        return self.migrator.drift_described()

    def _announce(self) -> None:
        """Report each verdict once it is final: the results before the first one whose
        re-upgrade is still to be compared."""
        pending = {id(result) for result, _, _ in self.reupgrades}
        while self._announced < len(self.results):
            result = self.results[self._announced]
            if id(result) in pending:
                return
            self.events.final(result)
            self._announced += 1

    def _compare_reupgrades(self, wait: bool) -> None:
        """Give each re-upgraded revision its verdict once its snapshot is here.

        The snapshot after a re-upgrade is read while the next revision starts, so it is
        compared one revision later, or at the end of the run (``wait``).
        """
        pending = []
        for result, upgraded, again in self.reupgrades:
            if not (wait or again.arrived):
                pending.append((result, upgraded, again))
            elif differs := diff_snapshots(upgraded, again):
                result.verdict, result.changes = Verdict.REUPGRADE_DIFFERS, differs
        self.reupgrades = pending

    def _revision(self, planned: PlannedRevision) -> RevisionResult | None:
        script = planned.script
        result = RevisionResult(script.revision, script.path, script.title)
        parents = (*script.down_revisions, *script.depends_on)
        blocked_by = [p for p in parents if p in self.blocked]
        if blocked_by:
            self.blocked.add(script.revision)
            result.verdict, result.note = Verdict.SKIPPED, f"{blocked_by[0]} did not upgrade"
            return result if planned.selected else None
        if not planned.selected:
            failure = self._step(script, "upgrade", self.migrator.upgrade)
            if failure is None:
                self.applied.append(script.revision)
                self.current = None
                return None
            self._recover(self.current, self.applied)
            self.blocked.add(script.revision)
            result.verdict, result.error = Verdict.UPGRADE_FAILED, failure
            return result
        self._stairway(script, result)
        return result

    def _stairway(self, script: MigrationScript, result: RevisionResult) -> None:
        before = self.current or self.workspace.snapshot()
        failure = self._step(script, "upgrade", self.migrator.upgrade)
        if failure:
            result.verdict, result.error = Verdict.UPGRADE_FAILED, failure
            self.blocked.add(script.revision)
            self._recover(before, self.applied)
            return
        upgraded = self.workspace.snapshot()  # read while the downgrade gets ready
        with_it = [*self.applied, script.revision]
        self.applied = with_it
        self.current = upgraded

        failure = self._step(script, "downgrade", self.migrator.downgrade)
        if failure:
            one_way = raised_on_purpose(script.function("downgrade"), failure.line)
            result.verdict = Verdict.ONE_WAY if one_way else Verdict.DOWNGRADE_FAILED
            result.error = failure
            self._recover(upgraded, with_it)
            return
        downgraded = self.workspace.snapshot()  # read while the re-upgrade gets ready

        failure = self._step(script, "re-upgrade", self.migrator.upgrade)
        trace = diff_snapshots(before, downgraded)
        if trace:
            result.verdict, result.changes = Verdict.DOWNGRADE_LEAVES_TRACE, trace
            if body_shape(script.function("downgrade")) is BodyShape.EMPTY:
                result.note = "downgrade() is empty"
        if failure:
            result.error = failure
            if not trace:  # with a trace, the failure is its consequence, not the cause
                result.verdict = Verdict.REUPGRADE_FAILED
            self._recover(upgraded, with_it)
            return
        again = self.workspace.snapshot()  # read while the next revision starts
        self.current = again
        if not trace:
            self.reupgrades.append((result, upgraded, again))

    def _step(self, script: MigrationScript, step: str, action) -> StepError | None:
        """Run one step; what it raises (``sys.exit()`` included) is its error."""
        self.events.step(script.revision, step)
        try:
            with process_state_kept():
                left_open = action(script.revision)
        except ForeignConnection as exc:
            if failing_line(exc, script.path) is not None:  # the migration's own doing: its
                return step_error(step, exc, script.path)  # step fails, the others still run
            who = self._who(exc, script)  # env.py's: every step would; the run stops
            raise ForeignConnection(f"{step} of {script.revision}: {who} {exc}") from None
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            return step_error(step, exc, script.path)
        if left_open:
            self.untracked.add(script.revision)
        return None

    def _who(self, exc: ForeignConnection, script: MigrationScript) -> str:
        """The file (and line) that opened the connection: the migration, or env.py."""
        for path in (script.path, self.migrator.project.env_py):
            line = failing_line(exc, path)
            if line is not None:
                return f"{path} (line {line})"
        return str(script.path)

    def _recover(self, expected: Snapshot | None, revisions: list[str]) -> None:
        """Continue from ``expected``: keep the database if it is there, else rebuild it.

        With no expected snapshot (a plain upgrade failed) the database is always rebuilt.
        """
        self.migrator = self._migrator(self.workspace.reconnect())
        if expected is not None and self.workspace.snapshot() == expected:
            self.current = expected
            return
        self._rebuild(revisions)

    def _rebuild(self, revisions: list[str]) -> None:
        self.migrator = self._migrator(self.workspace.fresh())
        self.events.step(None, "rebuild", max(1, len(revisions)))
        try:
            self.migrator.apply(revisions)
        except (ForeignConnection, KeyboardInterrupt):
            raise
        except BaseException as exc:
            raise RebuildFailed(
                f"rebuilding the database failed: {step_error('upgrade', exc, None).message}"
            ) from exc
        self.applied = list(revisions)
        self.current = self.workspace.snapshot()

    def _wait_for_snapshot(self) -> None:
        """A step is about to change the schema: the snapshot being read arrives first, and
        a verdict that waited for it is final now."""
        self.workspace.wait_for_snapshot()
        self._compare_reupgrades(wait=False)
        self._announce()

    def _migrator(self, connection) -> Migrator:
        return Migrator(
            self.project, connection, self.use_env, self.target_metadata, self._wait_for_snapshot
        )
