"""The stairway: for each revision, upgrade → downgrade → upgrade, comparing schemas each time.

For revision r (parents before children): S0 is the schema before it; upgrade r gives S1;
downgrade r must give S0 again; upgrade r again must give S1 again. A step that raises is
reported with its line, SQL and reason; if it left the database in a state other than the one
expected, the database is rebuilt (a fresh one, with every revision applied so far replayed)
and the run goes on, so that one run reports every problem in the history. Revisions that
build on one that could not be upgraded are skipped.
"""

from __future__ import annotations

import ast
import time
from collections.abc import Callable
from dataclasses import dataclass

from migsafe.config import DEFAULT_TIMEOUT
from migsafe.project import BodyShape, MigrationScript, body_shape
from migsafe.roundtrip.diff import diff_snapshots
from migsafe.roundtrip.environment import AlembicProject
from migsafe.roundtrip.isolated import IsolatedMigrator
from migsafe.roundtrip.result import RevisionResult, StepError, Verdict
from migsafe.roundtrip.snapshot import Snapshot
from migsafe.roundtrip.workspace import Workspace

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


class Stairway:
    def __init__(
        self,
        project: AlembicProject,
        workspace: Workspace,
        use_env: bool = False,
        target_metadata: object = None,
        on_revision: Callable[[str, bool], None] = lambda revision, selected: None,
        timeout: float = DEFAULT_TIMEOUT,
        on_result: Callable[[RevisionResult], None] = lambda result: None,
    ) -> None:
        self.workspace = workspace
        self.on_revision = on_revision
        self.on_result = on_result  # each verdict once it is final, in order
        self.applied: list[str] = []
        self.blocked: set[str] = set()
        self.untracked: set[str] = set()  # revisions that committed behind Alembic's back
        self.results: list[RevisionResult] = []
        self._announced = 0
        self.migrator = IsolatedMigrator(
            project, workspace, workspace.open(), use_env, target_metadata, timeout,
            self._snapshot_arrived,
        )  # fmt: skip
        # the schema as it is now; None until a selected revision needs it (plain upgrades
        # on the way to --from take none)
        self.current: Snapshot | None = None
        # re-upgraded schemas still to compare with the first upgrade's, once they arrive
        self.reupgrades: list[tuple[RevisionResult, Snapshot, Snapshot]] = []

    def run(self, plan: list[PlannedRevision]) -> list[RevisionResult]:
        """Walk ``plan``; the results so far stay in ``self.results`` if the run breaks off."""
        results = self.results
        finished = False
        try:
            for planned in plan:
                self.on_revision(planned.revision, planned.selected)
                started = time.perf_counter()
                result = self._revision(planned)
                self._compare_reupgrades(wait=False)
                if result is not None:
                    if planned.revision in self.untracked:
                        result.note = "; ".join(filter(None, [result.note, UNTRACKED_NOTE]))
                    result.seconds = time.perf_counter() - started
                    results.append(result)
                self._announce()
            finished = True
        finally:  # a run that breaks off compares what has arrived, and waits for nothing
            self._compare_reupgrades(wait=finished)
            self.migrator.stop()
            if finished:
                self._announce()
        return results

    def _announce(self) -> None:
        """Report each verdict once it is final: the results before the first one whose
        re-upgrade is still to be compared."""
        pending = {id(result) for result, _, _ in self.reupgrades}
        while self._announced < len(self.results):
            result = self.results[self._announced]
            if id(result) in pending:
                return
            self.on_result(result)
            self._announced += 1

    def _snapshot_arrived(self) -> None:
        """A verdict that waited for this snapshot is final now."""
        self._compare_reupgrades(wait=False)
        self._announce()

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

    def drift(self) -> list[str] | None:
        return self.migrator.drift()

    def close(self) -> None:
        """Stop the migrations' worker (before the database it is connected to goes)."""
        self.migrator.stop()

    def _revision(self, planned: PlannedRevision) -> RevisionResult | None:
        script = planned.script
        result = RevisionResult(script.revision, script.path, _title(script))
        parents = (*script.down_revisions, *script.depends_on)
        blocked_by = [p for p in parents if p in self.blocked]
        if blocked_by:
            self.blocked.add(script.revision)
            result.verdict, result.note = Verdict.SKIPPED, f"{blocked_by[0]} did not upgrade"
            return result if planned.selected else None
        if not planned.selected:
            failure = self._step(script, self.migrator.upgrade)
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
        failure = self._step(script, self.migrator.upgrade)
        if failure:
            result.verdict, result.error = Verdict.UPGRADE_FAILED, failure
            self.blocked.add(script.revision)
            self._recover(before, self.applied)
            return
        upgraded = self.workspace.snapshot()  # read while the downgrade gets ready
        with_it = [*self.applied, script.revision]
        self.applied = with_it
        self.current = upgraded

        failure = self._step(script, self.migrator.downgrade)
        if failure:
            one_way = body_shape(script.function("downgrade")) is BodyShape.RAISES
            result.verdict = Verdict.ONE_WAY if one_way else Verdict.DOWNGRADE_FAILED
            result.error = failure
            self._recover(upgraded, with_it)
            return
        downgraded = self.workspace.snapshot()  # read while the re-upgrade gets ready

        failure = self._step(script, lambda revision: self.migrator.upgrade(revision, "re-upgrade"))
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

    def _step(
        self, script: MigrationScript, action: Callable[[str], tuple[StepError | None, bool]]
    ) -> StepError | None:
        error, left_open = action(script.revision)
        if left_open:
            self.untracked.add(script.revision)
        return error

    def _recover(self, expected: Snapshot | None, revisions: list[str]) -> None:
        """Continue from ``expected``: keep the database if it is there, else rebuild it.

        With no expected snapshot (a plain upgrade failed) the database is always rebuilt.
        """
        self.migrator.restart()
        if expected is not None and self.workspace.snapshot() == expected:
            self.current = expected
            return
        self.workspace.rebuilds += 1
        self.migrator.stop()  # nothing may stay connected to a database about to be dropped
        self.migrator.restart(self.workspace.fresh())
        error = self.migrator.apply(revisions)
        if error is not None:
            raise RebuildFailed(f"rebuilding the database failed: {error.message}")
        self.current = self.workspace.snapshot()


def _title(script: MigrationScript) -> str:
    """The first line of the revision's docstring (Alembic's ``-m`` message)."""
    lines = (ast.get_docstring(script.tree) or "").strip().splitlines()
    return lines[0] if lines else ""
