"""The stairway runs in a worker process; migsafe's own process supervises it.

A migration may call ``sys.exit()``, ``os._exit()``, crash the interpreter or never return.
Run in migsafe's own process, the first would end the roundtrip with exit code 0 and no
report: a gate that passes. So the whole stairway (migrations, snapshots, comparisons) runs
in a worker (``migsafe.isolation``) that tells the supervisor each step as it starts and each
verdict as it is known, without waiting for an answer. The supervisor owns the databases
(it makes a fresh one when the worker asks, and drops them all at the end) and the clock:

- a step that raises is the worker's to report, as before;
- a worker that dies fails the revision it was running, at the step it was at;
- a step that runs past the time limit gets its worker killed and its server backend
  terminated, and fails the same way.

Then a new worker starts on a fresh database with what was applied, and goes on with the
next revision.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from typing import Any

from migsafe.isolation import Worker, WorkerLost, WorkerTimedOut, interrupts_noticed
from migsafe.postgres.url import scratch_database
from migsafe.roundtrip.result import RevisionResult, StepError, Verdict
from migsafe.roundtrip.stairway import (
    PlannedRevision,
    RebuildFailed,
    Stairway,
    StairwayEvents,
)
from migsafe.runner.alembic_project import AlembicProject
from migsafe.runner.migrator import ForeignConnection
from migsafe.runner.workspace import Workspace

_VERDICT_OF_LOST_STEP = {
    "upgrade": Verdict.UPGRADE_FAILED,
    "downgrade": Verdict.DOWNGRADE_FAILED,
    "re-upgrade": Verdict.REUPGRADE_FAILED,
}


@dataclass
class StairwayRun:
    """What the supervised stairway gave: results, rebuilds, drift, and a fatal error."""

    results: list[RevisionResult] = field(default_factory=list)
    rebuilds: int = 0
    drift: list[str] | None = None
    blocked: bool = False  # some revision could not be upgraded
    fatal: tuple[str, str] | None = None  # ("foreign" | "rebuild" | "internal", message)


@dataclass(frozen=True)
class StairwaySettings:
    project: AlembicProject
    version_table: str
    version_schema: str
    use_env: bool
    target_metadata: Any
    check_drift: bool
    timeout: float


class Supervisor:
    """Runs ``plan`` in workers until every revision has its verdict."""

    def __init__(
        self,
        settings: StairwaySettings,
        database_url: str,
        on_revision: Callable[[str, bool], None] = lambda revision, selected: None,
        on_result: Callable[[RevisionResult], None] = lambda result: None,
    ) -> None:
        self.settings = settings
        self.run = StairwayRun()
        self._on_revision, self._on_result = on_revision, on_result
        self._databases = _Databases(database_url)
        self._provisional: list[RevisionResult] = []  # verdicts not final yet, in order
        self._applied: list[str] = []
        self._blocked: set[str] = set()
        self._position: tuple[str | None, str, int] | None = None  # revision, step, count
        self._started = 0.0  # when the revision at ``_position`` began its first step

    def walk(self, plan: list[PlannedRevision]) -> StairwayRun:
        with interrupts_noticed(), self._databases:
            done = 0  # planned revisions finished
            while done < len(plan) and self.run.fatal is None:
                done = self._one_worker(plan, done)
        return self.run

    def _one_worker(self, plan: list[PlannedRevision], start: int) -> int:
        """Let one worker walk ``plan[start:]``; returns how far the plan is done."""
        resume = (self._applied, self._blocked) if start else None
        worker = Worker(_serve, self.settings, plan[start:], self._databases.current, resume)
        done, self._position, self._started = start, None, time.perf_counter()
        try:
            while True:
                timeout = self.settings.timeout * (self._position[2] if self._position else 1)
                kind, *payload = worker.receive(timeout)
                if kind == "fresh":
                    worker.send(self._databases.fresh())
                elif kind == "revision":
                    self._on_revision(*payload)
                elif kind == "step":
                    if self._position is None or self._position[0] != payload[0]:
                        self._started = time.perf_counter()  # its first step
                    self._position = tuple(payload)  # type: ignore[assignment]
                    self.run.rebuilds += payload[1] == "rebuild"
                elif kind == "provisional":
                    self._provisional.append(payload[0])
                elif kind == "final":
                    self._finalize(payload[0])
                elif kind == "state":
                    self._applied, self._blocked = payload
                    done += 1
                    self._position = None
                elif kind == "end":
                    self.run.drift = payload[0]
                    self.run.blocked = bool(self._blocked)
                    return len(plan)
                else:  # "fatal"
                    self.run.fatal = (payload[0], payload[1])
                    return done
        except (WorkerLost, WorkerTimedOut) as exc:
            if isinstance(exc, WorkerTimedOut):
                self._databases.terminate_backends()
            if done >= len(plan):  # every revision was done: it was the drift check
                self.run.fatal = ("internal", f"the model drift check {exc}")
                return done
            self._lost(plan[done], str(exc))
            return done + 1
        finally:
            worker.stop()

    def _finalize(self, result: RevisionResult) -> None:
        if self._provisional and self._provisional[0].revision == result.revision:
            self._provisional.pop(0)
        self.run.results.append(result)
        self._on_result(result)

    def _lost(self, planned: PlannedRevision, how: str) -> None:
        """The worker is gone: the revisions it had judged keep their verdicts, the one it was
        running fails at the step it was at, and the next worker starts afresh."""
        unfinished, self._provisional = self._provisional, []
        for result in unfinished:  # their re-upgraded schemas were never compared
            note = "the schema after the re-upgrade was not compared: the worker was lost"
            self._finalize(replace(result, note="; ".join(filter(None, [result.note, note]))))
        _, step, _ = self._position or (planned.revision, "upgrade", 1)
        if step == "rebuild":
            self.run.fatal = ("rebuild", f"rebuilding the database failed: the migration {how}")
            return
        result = RevisionResult(planned.revision, planned.script.path, planned.script.title)
        result.seconds = time.perf_counter() - self._started  # a timeout's included
        result.verdict = _VERDICT_OF_LOST_STEP.get(step, Verdict.UPGRADE_FAILED)
        result.error = StepError(step, f"the migration {how}")
        if result.verdict is Verdict.UPGRADE_FAILED:
            self._blocked = self._blocked | {planned.revision}
        else:  # the upgrade had worked: the next worker rebuilds with it applied
            self._applied = [*self._applied, planned.revision]
        if planned.selected or result.verdict is Verdict.UPGRADE_FAILED:
            self._finalize(result)


class _Databases:
    """The databases the workers work in: the provider's first, then fresh scratch ones on
    the same server. Only the supervisor makes and drops them, so a worker that dies can
    leave none behind."""

    def __init__(self, first: str) -> None:
        self.current = first
        self._first = first
        self._scratch = ExitStack()

    def fresh(self) -> str:
        """A new, empty database; the previous scratch one (if any) is dropped first."""
        self._scratch.close()
        self._scratch = ExitStack()
        self.current = self._scratch.enter_context(scratch_database(self._first))
        return self.current

    def terminate_backends(self) -> None:
        """End what a killed worker left running on the server (it may hold locks)."""
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url
        from sqlalchemy.pool import NullPool

        engine = create_engine(self._first, poolclass=NullPool)
        query = text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = :name AND pid <> pg_backend_pid()"
        )
        try:
            with engine.connect() as connection:
                connection.execute(query, {"name": make_url(self.current).database})
        finally:
            engine.dispose()

    def __enter__(self) -> _Databases:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._scratch.close()


class _Messages(StairwayEvents):
    """The worker's side of the events: each one a message to the supervisor, unanswered."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def revision(self, revision: str, selected: bool) -> None:
        self._connection.send(("revision", revision, selected))

    def step(self, revision: str | None, step: str, revisions: int = 1) -> None:
        self._connection.send(("step", revision, step, revisions))

    def provisional(self, result: RevisionResult) -> None:
        self._connection.send(("provisional", result))

    def final(self, result: RevisionResult) -> None:
        self._connection.send(("final", result))

    def state(self, applied: list[str], blocked: set[str]) -> None:
        self._connection.send(("state", list(applied), set(blocked)))

    def new_database(self) -> str:
        """The one question the worker asks: the URL of a fresh database."""
        self._connection.send(("fresh",))
        return self._connection.recv()


def _serve(
    connection: Connection,
    settings: StairwaySettings,
    plan: list[PlannedRevision],
    database_url: str,
    resume: tuple[list[str], set[str]] | None,
) -> None:
    """The worker: walk ``plan`` (after rebuilding what a lost worker had applied)."""
    messages = _Messages(connection)
    workspace = Workspace(
        database_url,
        settings.version_table,
        settings.version_schema,
        messages.new_database,
        make_version_schema=not settings.use_env,  # under --use-env, env.py makes it
    )
    try:
        with workspace:
            stairway = Stairway(settings.project, workspace, settings.use_env,
                                settings.target_metadata, messages)  # fmt: skip
            if resume is not None:
                stairway.resume(*resume)
            stairway.run(plan)
            drift = stairway.drift() if settings.check_drift and not stairway.blocked else None
            connection.send(("end", drift))
    except ForeignConnection as exc:
        connection.send(("fatal", "foreign", str(exc)))
    except RebuildFailed as exc:
        connection.send(("fatal", "rebuild", str(exc)))
    except Exception:
        connection.send(("fatal", "internal", traceback.format_exc(limit=-4)))
