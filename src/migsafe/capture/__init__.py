"""Run a migration's upgrade()/downgrade() offline and record what it would do.

The script really runs, as under ``alembic upgrade --sql``: with the project's ``Config``
(main options, ``-x`` arguments), a working ``alembic.context`` (``is_offline_mode()``,
``get_context()``, ``config``), Alembic's offline ``MigrationContext`` for PostgreSQL, and
behind ``op.get_bind()`` a connection that answers as an empty database would (see
``offline_bind.py``). Modules the project imports that are not installed are stood in for
(``stand_ins.py``). Every SQL text is recorded with the Alembic operation that produced it and
the line of the migration file that issued it (``recorder.py``).

Nothing is ever guessed from the source. What the capture cannot follow exactly is said,
with its line and its true reason: a function that raised, rows that were read (and answered
as empty), a stand-in used as a value. Statements before that point are exact; from a guess
on, they are kept out of judgement (``Capture.judged``).

Capture runs somebody else's code: call it only in a worker process (``migsafe.isolation``).
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import inspect
import itertools
import re
import signal
import sys
import time
import types
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic import op as alembic_op
from alembic.config import Config
from alembic.operations import BatchOperations
from alembic.operations.batch import BatchOperationsImpl
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from pglast import ast
from sqlalchemy import MetaData
from sqlalchemy.schema import CreateTable

from migsafe.capture import stand_ins
from migsafe.capture.bytecode import script_code
from migsafe.capture.code_origin import is_project_file
from migsafe.capture.kept_state import kept_as_they_were, project_namespaces
from migsafe.capture.names_spelled import names_spelled
from migsafe.capture.no_process_exit import no_process_exit
from migsafe.capture.offline_bind import OfflineBind, is_offline
from migsafe.capture.one_row import (
    FAR_VALUES,
    FIRST_VALUES,
    OTHER_VALUES,
    RowValues,
    compared_texts,
    keyed_values,
    query_shape,
    text_compared,
)
from migsafe.capture.operations import Recording
from migsafe.capture.output_silenced import output_silenced
from migsafe.capture.recorder import AskedAbsent, Emitted, Read, Recorder
from migsafe.capture.refused_stand_ins import refusals_told, told_by
from migsafe.capture.sqlalchemy_1x import sqlalchemy_1x_calls
from migsafe.capture.stand_ins import Reach
from migsafe.capture.stood_in_arguments import sqlalchemy_taking_stand_ins
from migsafe.capture.time_limit import RunTooLong, time_limit
from migsafe.catalog import DEFAULT_SCHEMA, Catalog, Table, is_bookkeeping_table
from migsafe.connection_guard import connections_checked
from migsafe.errors import described
from migsafe.project import MigrationScript, failing_line, raised_on_purpose, stopped_itself
from migsafe.project.script_directory import script_directory
from migsafe.sql import split_statements, statements

__all__ = ["Capture", "Emitted", "Failure", "Guess", "OfflineCapturer", "ScriptCapture"]

_module_ids = itertools.count()


@dataclass(frozen=True)
class Failure:
    """The function (or the script's import) raised; ``fatal`` when it tried to end the
    process (``sys.exit()``), which no migration run may do."""

    line: int | None
    message: str
    fatal: bool = False
    # a stood-in module may be behind it (the notice then names the stood-in modules)
    stand_ins_behind: bool = True
    # the stood-in modules the failing code names, with why each is stood in
    stood_in: tuple[tuple[str, str], ...] = ()
    # it stopped itself, at one of the script's own ``raise`` statements (``stopped_itself``)
    refused: bool = False


@dataclass(frozen=True)
class Guess:
    """A stand-in used as a value: from here on the capture follows an assumed path."""

    line: int
    name: str  # e.g. myapp.db.helpers.has_table()
    modules: tuple[tuple[str, str], ...]  # the stood-in modules behind it, and why
    how: str = "branches on {name}"  # what the migration did with it
    reach: Reach = Reach.REST  # what of the capture it leaves unknown


@dataclass
class Capture:
    """Everything one direction (upgrade or downgrade) of one script emitted."""

    function: str
    recorder: Recorder
    failure: Failure | None = None
    guesses: list[Guess] = field(default_factory=list)
    stood_in: tuple[tuple[str, str], ...] = ()  # stood-in modules it used, and why
    tables_asked_absent: list[AskedAbsent] = field(default_factory=list)
    # tables it asked for, then made itself: ``if "t" in tables: op.drop_table("t")``, then
    # ``op.create_table("t")`` (meltano's, for databases an older version of a revision
    # made it in)
    tables_made_after_asking: list[AskedAbsent] = field(default_factory=list)
    # tables it asked for that no revision made, taken to exist for the run judged
    tables_assumed: list[AskedAbsent] = field(default_factory=list)
    # where they do not exist, it changes no more of the schema than the run judged does:
    # no path is left out (``_where_they_exist``)
    assumed_covers: bool = False
    # the schema it ran from, where that is not the history's (the tables taken to exist
    # added): a run where reads find a row starts from it too
    world: Catalog | None = None
    ran: bool = False  # the function was called (not only the module imported)
    # it asked whether it runs offline, and what it does online (as a deploy runs it) is
    # not what is judged: why (it raises there, or could not be followed)
    online_left_out: str | None = None
    one_way: bool = False  # a downgrade() that raises to say it cannot be undone, did
    online: bool = False  # the run a deploy makes, where it asked (``_as_online``)
    # it read rows, and was run again where each query found one: what it did per row is
    # in it, and its schema changes were the same as with none, or one run did all the
    # others did (``_with_rows``)
    rows_followed: bool = False
    # the run with no rows raised there (what it is judged in place of: ``_with_rows``)
    raised_empty: Failure | None = None

    @property
    def emitted(self) -> list[Emitted]:
        return self.recorder.emitted

    @property
    def reads(self) -> list[Read]:
        return self.recorder.reads

    @property
    def index_lookups(self) -> list[int]:
        """The lines that reflected a table's indexes (``inspect(bind).get_indexes()``)."""
        return self.recorder.index_lookups

    @property
    def judged(self) -> list[Emitted]:
        """What rules may judge: everything up to the first guess, but the rows written with
        a stand-in's value."""
        exact = self.recorder.exact_until
        emitted = self.emitted if exact is None else self.emitted[:exact]
        return [item for item in emitted if not item.guessed]

    @property
    def exact(self) -> bool:
        """Everything it did to the schema is known: it ran to its end, nothing it emitted
        followed a guess (rows written with a stood-in value change no schema), it called no
        stood-in helper for what that does, and every operation was rendered (neutron's
        ``create_table()`` of an enum whose labels are stood in made a table and a type the
        schema does not hold)."""
        return (
            self.failure is None
            and all(g.reach is Reach.ROWS for g in self.guesses)
            and not any(
                item.sql is None and not (item.caught or item.accounted) for item in self.emitted
            )
            and self.recorder.exact_until is None
        )

    @property
    def operations(self) -> list[Emitted]:
        """One entry per Alembic operation (the first SQL text of each), of ``judged``."""
        seen: set[int] = set()
        result = []
        for item in self.judged:
            if item.operation is not None and id(item.operation) not in seen:
                seen.add(id(item.operation))
                result.append(item)
        return result


@dataclass(frozen=True)
class ScriptCapture:
    """Both directions of one script, and the schema the revisions before it built."""

    upgrade: Capture
    downgrade: Capture
    schema_before: Catalog


class OfflineCapturer:
    """Captures the scripts of one history, parents first, in this process (a worker's).

    It keeps the catalog of what the history has built so far, so that each script's
    reflection sees the schema a database migrated up to it would have; its downgrade()
    sees the schema after its own upgrade().
    """

    def __init__(
        self,
        config: Config,
        pg_version: int,
        catalog: Catalog | None = None,
        naming_convention: dict[str, str] | None = None,
    ) -> None:
        self.config = config
        # what env.py's target_metadata names constraints by: Alembic gives the operations'
        # unnamed ones those names (``op.create_foreign_key(None, ...)``, ``sa.ForeignKey``)
        self._target_metadata = MetaData(naming_convention=naming_convention or {})
        self.script_directory = _script_directory(config)
        self.bind = OfflineBind(pg_version)
        self.catalog = catalog or Catalog()
        self._stand_ins = stand_ins.installed()
        # what env.py imports that is not installed here: a plugin's, whose operations
        # (op.sync_enum_values) a migration then misses
        self.not_installed: tuple[str, ...] = ()
        self._sqlalchemy_given_stand_ins = sqlalchemy_taking_stand_ins()
        self._environment = EnvironmentContext(self.config, self.script_directory, as_sql=True)
        # what ``context.is_offline_mode()`` answers the migrations: True, as under
        # ``alembic upgrade --sql``, but for the run a deploy makes (``_as_online``)
        self._offline = True
        self._made_up_until = 0.0  # when the script's time for runs in made-up worlds ends
        self._environment.is_offline_mode = self._is_offline_mode  # type: ignore[method-assign]
        # Alembic's multi-database template: upgrade(engine_name) once per database named
        databases = re.split(r",\s*", config.get_main_option("databases") or "")
        self._databases = [name for name in databases if name]

    def name_by(self, convention: Mapping[str, object]) -> None:
        """Name what the migrations leave unnamed by ``convention`` from now on (Alembic reads
        target_metadata's convention at each operation)."""
        self._target_metadata.naming_convention = dict(convention)

    def __enter__(self) -> OfflineCapturer:
        """Capture only inside ``with``: ``alembic.context``, ``op`` and stand-ins are in
        place until it ends (one offline migration context serves every script)."""
        with contextlib.ExitStack() as entered:  # undone as far as it got, should one fail
            entered.enter_context(self._stand_ins)
            entered.enter_context(self._sqlalchemy_given_stand_ins)
            entered.enter_context(sqlalchemy_1x_calls())
            entered.enter_context(refusals_told())
            entered.enter_context(connections_checked(_refused_offline))
            entered.enter_context(_url_nowhere(self.config))
            entered.enter_context(self._environment)
            connection = self.bind.connect(None)
            self._environment.configure(
                connection=connection, literal_binds=True, target_metadata=self._target_metadata
            )
            self.bind.release(connection)
            self._context = self._environment.get_context()
            self._context.opts = _ConfiguredByEnvPy(self._context.opts)
            _AskedWhetherOffline.install(self._context, self._is_offline_mode)
            self._add_version_table()
            self._recording = Recording(self._context)
            self._recording.operations._install_proxy()
            self._entered = entered.pop_all()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._recording.operations._remove_proxy()
        self._entered.__exit__(*exc_info)

    def _is_offline_mode(self) -> bool:
        recording = getattr(self, "_recording", None)  # set once the capture is entered
        recorder = recording.recorder if recording is not None else None
        if recorder is not None and recorder.asked_offline is None:
            recorder.asked_offline = recorder.issuing_line()
        return self._offline

    def _add_version_table(self) -> None:
        """Alembic creates its version table before the first migration runs (``--sql``
        prints it first), so reflection sees it: neutron's first revision looks at its
        primary key. It is in the catalog from the start, made by no revision."""
        version = self._context._version
        if self.catalog.table((version.schema or DEFAULT_SCHEMA, version.name)) is not None:
            return
        ddl = str(CreateTable(version).compile(dialect=self._context.dialect))
        for _, node in split_statements(ddl):
            self.catalog.apply(node)

    def capture(self, script: MigrationScript, with_downgrade: bool = True) -> ScriptCapture:
        """Capture upgrade() and (unless told not to) downgrade() of one script.

        The script is imported as Alembic imports it, with ``alembic.context`` and ``op``
        already in place; what its import does counts as part of upgrade().
        """
        revision = script.revision
        self._made_up_until = time.monotonic() + _MADE_UP_SECONDS
        if script.outside:  # another history's revisions ran before it: their work unknown
            self.catalog.end_revision(exact=False)
        before = self.catalog.copy()
        upgrade = Capture(
            "upgrade", Recorder(script.path, self.catalog, revision, lambda: script.guarded_lines)
        )
        down = Capture(
            "downgrade", Recorder(script.path, None, revision, lambda: script.guarded_lines)
        )
        module = self._run(upgrade, script, lambda: load_module(script), importing=True)
        if upgrade.failure is not None:  # the import failed: neither function exists
            down.failure, down.stood_in = upgrade.failure, upgrade.stood_in
            self.catalog.end_revision(exact=False, base=script.starts_a_history)
            return ScriptCapture(upgrade, down, before)
        function = getattr(module, "upgrade", None)
        if callable(function):
            imported = not upgrade.emitted and not upgrade.guesses and not upgrade.reads
            start = self.catalog.copy()
            self._run(upgrade, script, function)
            if imported:  # the import did nothing a second run would lose
                upgrade = self._over_what_is_not_known(upgrade, script, function, start)
                upgrade = self._as_online(upgrade, script, function, start)
                upgrade = self._where_they_exist(upgrade, script, function, start)
                upgrade = self._with_rows(upgrade, script, function, start)
                self.catalog = upgrade.recorder.catalog or self.catalog
        self.catalog.end_revision(upgrade.exact, base=script.starts_a_history)
        function = getattr(module, "downgrade", None)
        if callable(function) and with_downgrade:
            start = self.catalog.copy()
            down.recorder.catalog = self.catalog.copy()
            self._run(down, script, function)
            down = self._over_what_is_not_known(down, script, function, start)
            down = self._as_online(down, script, function, start)
            down = self._where_they_exist(down, script, function, start)
            down = self._with_rows(down, script, function, start)
        return ScriptCapture(upgrade, down, before)

    @staticmethod
    def _again(capture: Capture, script: MigrationScript, catalog: Catalog) -> Capture:
        """A capture for another run of ``capture``'s function, from ``catalog``."""
        return Capture(
            capture.function,
            Recorder(script.path, catalog, script.revision, lambda: script.guarded_lines),
        )

    def _over_what_is_not_known(
        self, capture: Capture, script: MigrationScript, function: Callable[[], Any],
        start: Catalog,
    ) -> Capture:  # fmt: skip
        """The function run again in two worlds, where it reflected a table the history only
        altered (made by the application's ``create_all()``: dagster's): one where the table
        holds only what the history gave it, others where it also holds, as a column and as
        an index (plain, then unique), every name the script spells. dagster adds a column
        ``if "step_key" not in columns``: the first world adds it, the others do not. When
        the first world's schema changes hold each other's, the first is judged, and no
        statement any of them runs is left out. Else the guess stands, with its notice: the
        other worlds are never judged, as their statements may be about names that are no
        columns (a loop over every column). Its other constraints are not varied, so a run
        that reflects them is a guess in every world (mlflow looks for a unique constraint
        on ``name``); and a name the script does not spell (made at run time) is absent in
        every world."""
        if not capture.recorder.partial_reflections:
            return capture
        known_only = self._in_world(capture, script, function, start, frozenset(), False)
        if known_only is None:
            return capture
        spelled = names_spelled(script.tree, function)
        for unique in (False, True):
            other = self._in_world(capture, script, function, start, spelled, unique)
            if other is None or not _holds(_schema_changes(known_only), _schema_changes(other)):
                return capture
        return known_only

    def _in_world(
        self, capture: Capture, script: MigrationScript, function: Callable[[], Any],
        start: Catalog, names: frozenset[str], unique: bool,
    ) -> Capture | None:  # fmt: skip
        """The function run where a table the history only altered also holds ``names``
        as columns and as indexes (``unique`` ones or not); None unless it ran to its end
        with nothing to guess, within ``_ROWS_RUN_SECONDS`` (a loop that waits for a column
        to go never ends where it is there)."""
        again = self._again(capture, script, start.copy())
        again.recorder.outside_names, again.recorder.outside_unique = names, unique
        try:
            with self._made_up_run(function):
                self._run(again, script, function, repeated=True)
        except RunTooLong:
            return None
        return again if again.exact and not again.guesses else None

    def _as_online(
        self, capture: Capture, script: MigrationScript, function: Callable[[], Any],
        start: Catalog,
    ) -> Capture:  # fmt: skip
        """The function run again as a deploy runs it, where it asked whether it runs
        offline: ``if context.is_offline_mode(): return`` skips all it does under
        ``alembic upgrade --sql`` (airflow's data migrations print a warning instead), and
        the deploy is what is judged. Kept if it runs to its end with nothing to guess;
        else the offline run stands, and a notice says what it left out."""
        refused = capture.failure is not None and capture.failure.refused  # prefect's ``if
        # context.as_sql: raise RuntimeError("requires an online migration")``
        if capture.recorder.asked_offline is None or not (capture.exact or refused):
            return capture
        again = self._again(capture, script, start.copy())
        self._offline = False
        try:
            self._run(again, script, function, repeated=True)
            again = self._over_what_is_not_known(again, script, function, start)
        finally:
            self._offline = True
        if again.failure is not None and not (again.reads or again.failure.stand_ins_behind):
            capture.online_left_out = f"online it {again.failure.message.split(' ', 1)[1]}"
            return capture
        if not again.exact or again.guesses:
            capture.online_left_out = "what it does online could not be followed to its end"
            return capture
        again.online = True
        return again

    def _with_rows(
        self, capture: Capture, script: MigrationScript, function: Callable[[], Any],
        start: Catalog,
    ) -> Capture:  # fmt: skip
        """The function run again where each query it reads with finds one row (its values of
        the columns' types, ``one_row``): airflow's and optuna's data migrations read rows and
        update each, which an empty database never shows. Kept when it runs to its end with
        nothing to guess and changes the schema just as the first run did: then what it
        does does not depend on the rows, and the notice that it reads them has nothing to
        say; where they change it otherwise, the run that does all the others do is
        judged (``_widest``). Not for a run where tables no revision made were taken to
        exist. Where the first run raised on what an empty database answered (lemur reads
        back the row it just inserted, ``fetchone()[0]``), the run where reads find a row is
        judged when both of its values change the schema alike, and a notice says what was
        taken (``raised_empty``)."""
        if not capture.reads or capture.guesses:
            return capture
        start = capture.world or start
        failure = capture.failure
        raised_empty = failure is not None and not (failure.fatal or failure.stand_ins_behind)
        if not (capture.exact or raised_empty):
            return capture
        runs: list[Capture] = []
        refused: list[set[tuple[int, str]]] = []  # the reads each run refuses to go on after
        with compared_texts() as compared:
            for values in (FIRST_VALUES, OTHER_VALUES):  # other values must not change what
                # it does either (``if v is None or v < 2: op.add_column(...)``: one path for
                # none and for 1); each follows its own refusals (where the first values
                # refuse, the others may go on and do more)
                refused.append(set())
                again = self._rows_run(capture, script, function, start, values, refused[-1])
                weighed_by = runs[0] if runs else capture  # where the first stopped, the second
                if again is None or (raised_empty and not _alike(again, weighed_by)):
                    return capture
                runs.append(again)
        if raised_empty:
            chosen = runs[0]
            chosen.raised_empty = failure
            return _in_the_same_world(chosen, capture)
        if not all(_alike(run, capture) for run in runs):  # values at their far ends, too
            far = self._rows_run(capture, script, function, start, FAR_VALUES, set())
            if far is None:
                return capture
            mixed = self._one_finds_none(capture, script, function, start, runs[0])
            if mixed is None:
                return capture
            return _widest(capture, [*runs, far], mixed)
        worked = [run for run in runs if _done(run) != _done(capture)]
        if not worked and all(  # each read only decides whether it refuses to go on
            (read.line, query_shape(read.sql)) in own
            for run, own in zip(runs, refused, strict=True)
            for read in run.reads
        ):
            worked = runs
        more = (  # JSON holding the keys it names (superset's chart migrations), text that
            # is what it compared the text it read with (prefect's ``if type == "STORAGE":``)
            keyed_values(names_spelled(script.tree, function)),
            *(text_compared(text) for text in compared[:_TEXTS_TRIED]),
        )
        for values in more if not worked else ():
            again = self._rows_run(capture, script, function, start, values, set())
            if again is not None and not _alike(again, capture):
                return capture  # what the rows hold decides what it changes in the schema
            if again is not None and _done(again) != _done(capture) and not worked:
                worked = [again]
        if not worked:  # with these values it did just what it did with none (fides' ``if "."
            return capture  # in key:`` met no dot): nothing was shown, and the notice stays
        chosen = worked[0]
        chosen.rows_followed = True
        return _in_the_same_world(chosen, capture)

    def _rows_run(
        self, capture: Capture, script: MigrationScript, function: Callable[[], Any],
        start: Catalog, values: RowValues, refusing: set[tuple[int, str]],
    ) -> Capture | None:  # fmt: skip
        """One run where reads find a row made of ``values``, or None: it did not run to its
        end with nothing to guess, or a query it read with found none (nothing was shown
        there). A read it refuses to go on after (``_refused_after``) joins ``refusing``
        and finds none when it is run again."""
        while True:
            again = self._again(capture, script, start.copy())
            recorder = again.recorder
            recorder.finds_rows, recorder.row_values = True, values
            recorder.finds_none = frozenset(refusing)
            # in the world judged, where a table the history only altered is reflected
            recorder.outside_names = capture.recorder.outside_names
            recorder.outside_unique = capture.recorder.outside_unique
            self._offline = not capture.online
            try:  # a loop that a row makes endless; an exit no database made it take
                with self._made_up_run(function):
                    self._run(again, script, function, repeated=True)
            except RunTooLong:
                return None
            finally:
                self._offline = True
            refused_after = _refused_after(again)
            if refused_after is None or len(refusing) == _REFUSALS_FOLLOWED:
                break
            refusing.add(refused_after)  # where it goes on, that read finds none
        shown = {*again.recorder.reads_given, *refusing}
        if any((read.line, query_shape(read.sql)) not in shown for read in again.reads):
            return None
        return again if again.exact and not again.guesses else None

    def _one_finds_none(
        self, capture: Capture, script: MigrationScript, function: Callable[[], Any],
        start: Catalog, run: Capture,
    ) -> list[Capture] | None:  # fmt: skip
        """Where ``run`` asked several questions (queries of several shapes), the function
        run again where one of them finds none and the others a row, for each: a database
        where one table has rows and another none takes a path neither the run with rows
        nor the run with none took. None where one of those runs cannot be followed, or
        there are more than ``_QUESTIONS_TRIED`` questions."""
        questions = list(dict.fromkeys((read.line, query_shape(read.sql)) for read in run.reads))
        if len(questions) == 1:
            return []
        if len(questions) > _QUESTIONS_TRIED:
            return None
        runs = []
        for question in questions:
            again = self._rows_run(capture, script, function, start, FIRST_VALUES, {question})
            if again is None:
                return None
            runs.append(again)
        return runs

    def _where_they_exist(
        self, capture: Capture, script: MigrationScript, function: Callable[[], Any],
        start: Catalog,
    ) -> Capture:  # fmt: skip
        """The function run again where the tables it asked for, which no revision made,
        exist (with columns not known): jupyterhub alters its tables only ``if table in
        get_table_names()``, as they are made by the application, so the path it takes on
        the databases it is written for is that one. Kept only if it runs to its end with
        nothing left to guess, where the columns it reflects are weighed as the function's
        first run weighs them (``_over_what_is_not_known``); a notice says which tables were
        taken to exist, unless where they do not, the function changes nothing of the
        schema that this run does not (dagster's ``if has_table("runs"):``). Where the
        schema was not known whole when it asked (a revision before it raised), the table
        may have been made by that revision or not at all: the run is kept only then.
        Where it asked only for tables it then made itself, ``_where_its_own_exist``."""
        assumed = _not_bookkeeping(capture.tables_asked_absent)
        made = _not_bookkeeping(capture.tables_made_after_asking)
        if not (assumed or made) or not capture.exact:
            return capture
        if not assumed:
            return self._where_its_own_exist(capture, script, function, start, made)
        again = self._where_these_exist(capture, script, function, start, assumed)
        for _ in range(_ASKED_AGAIN):  # where they exist it asks for others (dagster's ``if
            # "runs" in tables and "run_tags" in tables:``): those, too, are taken to exist,
            # where it then does all it did and more (``"archive" not in tables`` does less)
            more = _not_bookkeeping(again.tables_asked_absent) if again is not None else []
            wider = (
                self._where_these_exist(capture, script, function, start, [*assumed, *more])
                if again is not None and more
                else None
            )
            if wider is None or not _does_more(wider, again):  # type: ignore[arg-type]
                break
            assumed, again = [*assumed, *more], wider
        if again is None:  # it raised, or branched on what is not known: the first stands
            return capture
        again.assumed_covers = _holds(_schema_changes(again), _schema_changes(capture))
        if not (again.assumed_covers or all(asked.exact for asked in assumed)):
            return capture
        again.tables_assumed = assumed
        return again

    def _where_its_own_exist(
        self, capture: Capture, script: MigrationScript, function: Callable[[], Any],
        start: Catalog, made: list[AskedAbsent],
    ) -> Capture:  # fmt: skip
        """The function run again where tables it made itself after asking for them exist:
        all at once, kept where that run does all the first did and more (meltano drops
        "state" where an older version of a revision made it, then makes it: the drop is
        judged); where it does no more, the first stands (``if "t" not in tables:
        op.create_table("t")`` does less where "t" exists); else one more table each time,
        each kept only where that run does all the run before did and more."""
        judged = capture
        taken: list[AskedAbsent] = []
        every = self._where_these_exist(capture, script, function, start, made)
        if every is None:
            return capture
        if _holds(_schema_changes(capture), _schema_changes(every)):
            return capture  # where they all exist, it does nothing more: nor where one does
        if _holds(_schema_changes(every), _schema_changes(capture)):  # all at once it does
            every.tables_assumed, every.assumed_covers = made, True  # all the first did, and
            return every  # more (meltano); else one at a time: some it makes if missing
        if len(made) == 1:  # that one at a time is the run just made
            return capture
        for asked in made:
            again = self._where_these_exist(capture, script, function, start, [*taken, asked])
            if again is not None and _does_more(again, judged):
                judged, taken = again, [*taken, asked]
        if taken:  # where they do not exist, it does no more: nothing to notice
            judged.tables_assumed, judged.assumed_covers = taken, True
        return judged

    def _where_these_exist(
        self, capture: Capture, script: MigrationScript, function: Callable[[], Any],
        start: Catalog, tables: list[AskedAbsent],
    ) -> Capture | None:  # fmt: skip
        """The function run where ``tables`` exist, with columns not known, weighed over
        what they may hold (``_over_what_is_not_known``); None unless it ran to its end
        with nothing to guess, in the time a made-up run has (``_made_up_run``)."""
        catalog = start.copy()
        for asked in tables:
            catalog.tables[asked.table] = Table(asked.table, partial=True)
        again = self._again(capture, script, catalog)
        try:  # ``while has_table("t"):`` waits forever; ``if has_table(...): os._exit()``
            with self._made_up_run(function):
                self._run(again, script, function, repeated=True)
        except RunTooLong:
            return None
        again = self._over_what_is_not_known(again, script, function, catalog)
        again.world = catalog
        return again if again.exact else None

    @contextlib.contextmanager
    def _made_up_run(self, function: Callable[..., Any]) -> Iterator[None]:
        """A run in a world made up to see what the migration would do there: it gets
        ``_ROWS_RUN_SECONDS``, and all of a script's together ``_MADE_UP_SECONDS`` (tables
        it asks for and then makes may be taken to exist one at a time, a run each); it may
        not end the worker, and what it leaves in the project's modules is undone after
        it. RunTooLong when the script's time for them is spent."""
        left = self._made_up_until - time.monotonic()
        if left <= 0:
            raise RunTooLong(None)
        own = getattr(function, "__globals__", {})
        with (
            kept_as_they_were(project_namespaces(own)),
            time_limit(min(_ROWS_RUN_SECONDS, left)),
            no_process_exit(),
        ):
            yield

    def _run(
        self, capture: Capture, script: MigrationScript, function: Callable[[], Any],
        importing: bool = False, repeated: bool = False,
    ) -> Any:  # fmt: skip
        """Run ``function`` offline, into ``capture``: a raise becomes its failure, a
        stand-in used as a value its guess. Returns what the function returned. A
        ``repeated`` run (not the function's first) prints nothing."""
        recorder = capture.recorder
        connection = self.bind.connect(recorder)
        context = self._context
        context.connection = context.impl.connection = connection  # op.get_bind()
        context.impl.output_buffer = self._recording.recorder = recorder
        # SQLAlchemy remembers on Alembic's DDL runner the enum types it created, and leaves
        # out a second CREATE TYPE of one within one `alembic upgrade`; a revision deployed
        # in a run of its own (the usual case) emits it, and fails if an earlier revision
        # made the type (dstack): each function starts with nothing remembered
        context.impl.memo = {}
        log = stand_ins.LOG
        log.start(recorder.filename, recorder.guessed, importing, script.guarded_lines)
        try:
            quiet = output_silenced() if repeated else contextlib.nullcontext()
            # the migration's warnings (and SQLAlchemy's about what it reflected offline)
            # are not migsafe's to print
            with warnings.catch_warnings(), quiet:
                warnings.simplefilter("ignore")
                returned = None
                capture.ran = capture.ran or not importing
                for arguments in _passed_by_env_py(function, self._databases):
                    returned = function(**arguments)
                return returned
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt) and _takes_ctrl_c():
                raise  # Ctrl-C; in the worker, which ignores it, the migration raised it
            if _deliberately_one_way(script, capture.function, exc):
                capture.one_way = True
            else:
                told = told_by(exc)  # the failure says it: not a use its handler took
                if told is not None and told in log.value_uses:
                    log.value_uses.remove(told)
                capture.failure = _failure(exc, script.path, function, self.not_installed)
                if stopped_itself(exc, script):
                    capture.failure = dataclasses.replace(capture.failure, refused=True)
                if capture.failure.stand_ins_behind:  # indico's pytz, in an application module
                    named = stand_ins.missing_modules(
                        stand_ins.roots_in_traceback(exc.__traceback__)
                    )
                    capture.failure = dataclasses.replace(capture.failure, stood_in=named)
            recorder.failed_with(exc)
            return None
        finally:
            self.bind.release(connection)
            capture.tables_asked_absent = recorder.tables_asked_absent()
            capture.tables_made_after_asking = recorder.tables_asked_absent(made_since=True)
            capture.stood_in = tuple(
                sorted({*capture.stood_in, *stand_ins.missing_modules(log.touched)})
            )
            capture.guesses += [
                Guess(
                    use.line,
                    use.name,
                    stand_ins.missing_modules({use.root}),
                    use.how,
                    use.reach,
                )
                for use in log.value_uses
            ]


def _takes_ctrl_c() -> bool:
    """This process stops on Ctrl-C (not the check's worker, which leaves it to the
    command): a KeyboardInterrupt in it may be the user's."""
    return signal.getsignal(signal.SIGINT) is not signal.SIG_IGN


class _AskedWhetherOffline(MigrationContext):
    """The migration context, whose ``as_sql`` read by a migration (prefect's ``if
    op.get_context().as_sql: raise RuntimeError("requires an online migration")``) asks
    whether it runs offline, as ``context.is_offline_mode()`` does. Alembic's batch mode,
    about to recreate a table (``recreate="always"``: langflow's), reflects it from the
    schema built, as it does from the database online, where under ``--sql`` it refuses;
    Alembic's other reads of it get what it is."""

    _asked: Callable[[], bool]

    @classmethod
    def install(cls, context: MigrationContext, asked: Callable[[], bool]) -> None:
        as_sql = context.__dict__.pop("as_sql", None)
        if as_sql is None:  # not an attribute of the instance in this Alembic: as it reads
            as_sql = context.as_sql
        context.__class__ = cls
        context.__dict__.update(_as_sql=as_sql, _asked=asked)

    @property  # type: ignore[override]
    def as_sql(self) -> bool:
        caller = sys._getframe(1).f_code
        if is_project_file(caller.co_filename):
            return self._asked()
        if caller is _BATCH_FLUSH:
            return False
        return self.__dict__["_as_sql"]

    @as_sql.setter
    def as_sql(self, value: bool) -> None:
        self.__dict__["_as_sql"] = value


_BATCH_FLUSH = BatchOperationsImpl.flush.__code__


class ConnectionRefused(RuntimeError):
    """A migration opened a connection to a database while check runs it offline."""


def _refused_offline(dbapi_connection: Any, record: Any = None) -> None:
    """check runs migrations as ``alembic upgrade --sql`` does: a connection of their own
    to a database (``psycopg.connect(os.environ["DSN"])``) is closed at once, and raises
    into the migration, which is noticed as any error of its."""
    if is_offline(dbapi_connection):
        return
    dbapi_connection.close()
    raise ConnectionRefused("check runs migrations offline: no connection to a database")


# where a migration that builds an engine from alembic.ini's URL connects during check: a
# socket that does not exist (the URL is PostgreSQL's, for what reads its dialect)
_NOWHERE = "postgresql://migsafe@/offline?host=/nonexistent/migsafe-check-runs-offline"


@contextlib.contextmanager
def _url_nowhere(config: Config) -> Iterator[None]:
    """alembic.ini's ``sqlalchemy.url``, as migrations read it (``create_engine(config.
    get_main_option("sqlalchemy.url"))``), leads nowhere while check runs them: it named
    the user's database (a tester's production database got rows from a check)."""
    try:
        had = config.get_main_option("sqlalchemy.url")
    except Exception:  # a config without its section: nothing to hide
        had = None
    config.set_main_option("sqlalchemy.url", _NOWHERE)
    try:
        yield
    finally:
        if had is None:
            config.remove_main_option("sqlalchemy.url")
        else:
            config.set_main_option("sqlalchemy.url", had.replace("%", "%%"))


# what stands for the keyword arguments env.py hands the migrations' functions
_RUN_MIGRATIONS = "context.run_migrations()"
_CONFIGURE = "context.configure()"


class _ConfiguredByEnvPy(dict):
    """``op.get_context().opts``: what env.py passed to ``context.configure()``. A key of
    env.py's own (aiida's ``opts["aiida_profile"]``) is not among those check passes: it
    stands in, as check does not run env.py."""

    def __missing__(self, key: object) -> stand_ins.StandIn:
        stand_ins.LOG.missing.setdefault(
            _CONFIGURE, "env.py passes it, and check does not run env.py"
        )
        return stand_ins.StandIn(f"context.configure({key}=...)", _CONFIGURE)


_DATA = (ast.SelectStmt, ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt)
_ROWS_RUN_SECONDS = 2.0  # what a run where reads find rows (or in a world) may take: it is
# optional
_MADE_UP_SECONDS = 10.0  # what all of one script's runs in made-up worlds may take


_ASKED_AGAIN = 3  # how many times more tables asked for in a world are taken to exist


def _not_bookkeeping(asked: Sequence[AskedAbsent]) -> list[AskedAbsent]:
    """The tables asked for but Alembic's own version table."""
    return [item for item in asked if not is_bookkeeping_table(item.table[1])]


def _in_the_same_world(run: Capture, capture: Capture) -> Capture:
    """``run``, made again from ``capture``'s world, told what ``capture`` was told of it:
    whether it is the run a deploy makes, and which tables it took to exist."""
    run.online, run.world = capture.online, capture.world
    run.tables_assumed, run.assumed_covers = capture.tables_assumed, capture.assumed_covers
    return run


_QUESTIONS_TRIED = 4  # of the queries a run reads with, how many are each tried finding none
_TEXTS_TRIED = 3  # of the texts a migration compared what it read with, how many are tried
_REFUSALS_FOLLOWED = 3  # how many reads a run where reads find rows may find none in


def _refused_after(capture: Capture) -> tuple[int, str] | None:
    """The read (line, query shape) a run refused to go on after: it stopped itself with a
    ``raise`` of the script's own (``Failure.refused``) right after a query that found a
    row, with nothing written in between. open-webui checks ``if duplicates: raise
    RuntimeError("Merge or remove the duplicates")`` before it builds a unique index: where
    that query finds a row it refuses, and where the migration goes on, it finds none."""
    failure = capture.failure
    if failure is None or not failure.refused:
        return None
    for item in reversed(capture.emitted):
        if item.is_all(ast.TransactionStmt):  # BEGIN, COMMIT, ROLLBACK, SAVEPOINT
            continue
        if not item.is_all(ast.SelectStmt):
            return None
        shape = (item.line, query_shape(item.sql or ""))
        return shape if shape in capture.recorder.reads_given else None
    return None


def _schema_changes(capture: Capture) -> list[str]:
    """What a run emitted but the rows it read and wrote: its schema changes, in order."""
    return [item.sql or "" for item in capture.emitted if not item.is_all(*_DATA)]


def _alike(run: Capture, other: Capture) -> bool:
    """The two runs change the schema alike, in any order (``_holds``)."""
    return collections.Counter(_schema_changes(run)) == collections.Counter(_schema_changes(other))


def _widest(capture: Capture, runs: Sequence[Capture], mixed: Sequence[Capture]) -> Capture:
    """Where reads that find a row change the schema otherwise than reads that find none,
    but alike whichever values the row holds (1, 2, or values at their types' far ends:
    whether there are rows is what decides), the run that does all the others do (those
    where one of several questions finds none, ``mixed``, too), each statement in a
    transaction or out of one as there: no path is then left out of what is judged. ckan
    keeps its ``related`` tables if they hold rows and drops them if not: the run with none
    does all the others do (and more), and it is judged. airflow's downgrade keeps the rows
    it cannot hold in a table of their own: the runs with rows do all the run with none
    does, and more, and the first is judged. Where the values decide (``if v < 2:``),
    other values may take other paths still: the run with none stands, and the notice with
    it."""
    first = runs[0]
    if not all(_alike(first, run) for run in runs):
        return capture
    for judged in (capture, first):  # (the runs of other values write other values: they
        done = _done_where(judged)  # are weighed by their schema changes alone, above)
        if all(not (_done_where(run) - done) for run in (capture, first, *mixed)):
            judged.rows_followed = True
            return judged if judged is capture else _in_the_same_world(judged, capture)
    return capture


def _does_more(run: Capture, other: Capture) -> bool:
    """``run`` changes the schema as ``other`` does, and more."""
    changes, before = _schema_changes(run), _schema_changes(other)
    return _holds(changes, before) and not _holds(before, changes)


def _done_where(capture: Capture) -> collections.Counter[tuple[str, bool]]:
    """What a run emitted but its reads, each with whether it ran in a transaction: an
    index built CONCURRENTLY in an autocommit block on one path and in the transaction on
    the other (where it fails) is not the same statement."""
    parsed, _ = statements(capture.emitted)
    return collections.Counter(
        (stmt.sql, stmt.in_transaction)
        for stmt in parsed
        if not isinstance(stmt.node, ast.SelectStmt | ast.TransactionStmt)
    )


def _done(capture: Capture) -> collections.Counter[str]:
    """What a run emitted but its reads, in any order (``_holds``): where reads found a row,
    a run that did just what it did with none showed nothing of what rows change."""
    return collections.Counter(
        item.sql or "" for item in capture.emitted if not item.is_all(ast.SelectStmt)
    )


def _holds(changes: Sequence[str], other: Sequence[str]) -> bool:
    """Every statement of ``other`` is in ``changes`` (as often). Not in order: the indexes
    of a ``create_table()`` come in the order of a set, which is not the same from one run
    to the next (open-webui's ``knowledge_file``)."""
    return not collections.Counter(other) - collections.Counter(changes)


def _passed_by_env_py(
    function: Callable[..., Any], databases: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """The arguments of each call env.py makes of ``upgrade(...)``: Alembic passes the
    keyword arguments of env.py's ``context.run_migrations(config=config)`` on to each
    function (trulens), and check does not run env.py. They stand in, except the
    ``engine_name`` of Alembic's multi-database template, which calls the function once
    for each database alembic.ini's ``databases`` names (keylime): so is it run here."""
    code = getattr(function, "__code__", None)
    plain = code is not None and not hasattr(function, "__wrapped__")  # signature() unwraps
    if plain and code.co_argcount == code.co_kwonlyargcount == 0:
        return [{}]  # the usual ``def upgrade():``, told apart without building a signature
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return [{}]
    required = [
        p.name for p in parameters
        if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]  # fmt: skip
    stood_in = [name for name in required if not (name == _ENGINE_NAME and databases)]
    if stood_in:
        why = (
            _NO_DATABASES if _ENGINE_NAME in stood_in
            else "env.py passes them, and check does not run env.py"
        )  # fmt: skip
        stand_ins.LOG.missing.setdefault(_RUN_MIGRATIONS, why)
    arguments = {
        name: stand_ins.StandIn(f"context.run_migrations({name}=...)", _RUN_MIGRATIONS)
        for name in stood_in
    }
    if len(stood_in) == len(required):
        return [arguments]
    return [{**arguments, _ENGINE_NAME: database} for database in databases]


_ENGINE_NAME = "engine_name"  # what Alembic's multidb env.py passes to upgrade(engine_name)
_NO_DATABASES = (
    "Alembic's multi-database template runs it for each database alembic.ini's `databases` "
    "names, and no alembic.ini names them: check the project with -c alembic.ini"
)


def _deliberately_one_way(script: MigrationScript, function: str, exc: BaseException) -> bool:
    """A downgrade() that raises unconditionally says it cannot be undone: not a failure,
    when it stopped at that raise (not at an error before it)."""
    return (
        function == "downgrade"
        and isinstance(exc, Exception)
        and raised_on_purpose(script.function("downgrade"), failing_line(exc, script.path))
    )


def _failure(
    exc: BaseException, path: Path, function: Callable[[], Any], not_installed: Sequence[str]
) -> Failure:
    line = failing_line(exc, path)
    name = getattr(function, "__name__", "")
    where = f"{name}()" if name in ("upgrade", "downgrade") else "importing it"
    if isinstance(exc, SystemExit):
        return Failure(line, f"{where} called sys.exit({exc.code!r})", fatal=True)
    operation = _plugin_operation(exc)
    if operation is not None and not_installed:  # dstack's env.py: alembic_postgresql_enum
        return Failure(
            line,
            f"{where} calls {operation}, which is no operation of Alembic's: env.py imports "
            f"{', '.join(not_installed)}, not installed where migsafe runs; a plugin's "
            "operations exist once it is imported: install it there",
        )
    if operation is not None:
        return Failure(
            line,
            f"{where} calls {operation}, which is no operation of Alembic's: unless a plugin "
            "env.py imports adds it (install that plugin where migsafe runs), it fails under "
            "alembic too",
        )
    message = f"{where} raised {described(exc)}"
    return Failure(line, message, stand_ins_behind=_stand_ins_behind(exc, path))


def _stand_ins_behind(exc: BaseException, path: Path) -> bool:
    """Whether a stand-in may have made ``exc``: it names one, or it was raised through
    stand-in code or the application's own (whose imports may have been stood in). Raised by
    a library the migration called directly, with no stand-in in sight (cloudkitty's
    ``conn.execute("SELECT ...")``, which SQLAlchemy 2 refuses), it is the migration's."""
    text = str(exc)
    if "stand-in" in text or "StandIn" in text or any(map(_on_a_stand_in, _CLASS.findall(text))):
        return True
    own = {str(path), str(path.resolve())}
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename == stand_ins.__file__ or (filename not in own and is_project_file(filename)):
            return True
        tb = tb.tb_next
    return False


_CLASS = re.compile(r"<class '([\w.]+)'>")  # a class an error message names


def _on_a_stand_in(dotted: str) -> bool:
    """The class named ``module.Name`` derives from a stand-in (freshmaker's ``Event(db.Model)``
    with flask not installed), which SQLAlchemy then refuses as what it is not."""
    module, _, name = dotted.rpartition(".")
    found = getattr(sys.modules.get(module), name, None)
    return isinstance(found, type) and issubclass(found, stand_ins.StandInBase)


def _plugin_operation(exc: BaseException) -> str | None:
    """``op.sync_enum_values`` when a migration called an operation Alembic does not have
    (alembic_postgresql_enum's, geoalchemy2's: registered when their module is imported)."""
    if not isinstance(exc, AttributeError) or not exc.name:
        return None
    owner = getattr(exc, "obj", None)
    if owner is alembic_op:
        return f"op.{exc.name}"
    if isinstance(owner, BatchOperations):
        return f"batch_op.{exc.name}"
    return None


def load_module(script: MigrationScript) -> types.ModuleType:
    """Import the script under a private name, as Alembic does, without touching sys.modules.

    It runs the source that was read before any script ran: what is judged is exactly what
    was read, even if a script before it changed or deleted the file.
    """
    module = types.ModuleType(f"_migsafe_revision_{next(_module_ids)}")
    module.__file__ = str(script.path)
    exec(script_code(script), module.__dict__)
    return module


def _script_directory(config: Config) -> ScriptDirectory:
    """Alembic's script directory, for ``context.script``; never asked for its revisions
    (that would import every script)."""
    try:
        return script_directory(config)
    except Exception:  # a versions directory without env.py still makes a script directory
        location = config.get_main_option("script_location")
        return ScriptDirectory(location if location and Path(location).is_dir() else Path.cwd())
