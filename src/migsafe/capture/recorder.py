"""The one stream of SQL a migration function produces offline, in the order PostgreSQL sees it.

Two sources write here: Alembic's offline output buffer (every ``op.*`` operation, including
the ``COMMIT``/``BEGIN`` around ``autocommit_block()``) and the offline bind behind
``op.get_bind()`` (statements a script executes itself, and the transaction calls it makes).
Each text is kept with the Alembic operation that produced it and the line of the migration
file that issued it.

The transaction is modelled as on PostgreSQL with SQLAlchemy's autobegin: ``bind.commit()``
ends the migration's transaction, and the next statement (the bind's or an operation's)
begins a new one, except inside ``autocommit_block()``, where statements run on their own; a
COMMIT run as SQL is one psycopg2 does not see, so the statements after it run each on its
own.
"""

from __future__ import annotations

import collections
import contextlib
import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pglast
import sqlalchemy.exc
from alembic.operations import MigrateOperation, ops
from pglast import ast
from sqlalchemy import schema as sa_schema
from sqlalchemy.sql import sqltypes

from migsafe.capture.code_origin import in_guarded_try
from migsafe.capture.one_row import FIRST_VALUES
from migsafe.capture.stand_ins import LOG, Reach, ValueUse
from migsafe.capture.stood_in_values import as_placeholders, with_unknown_values
from migsafe.catalog import DEFAULT_SCHEMA, Catalog, Name
from migsafe.errors import described
from migsafe.sql import CallSite, split_statements

_ENDS = {"COMMIT", "END", "ROLLBACK", "ABORT"}
_BEGINS = {"BEGIN", "START"}


@dataclass(frozen=True)
class Emitted:
    """One SQL text, with where it came from, parsed into its statements.

    ``sql`` is None for an operation that could not be rendered at all (its ``error`` says
    why), e.g. ``op.drop_constraint(None, ...)``; ``parse_error`` says why PostgreSQL's
    parser rejects a text.
    """

    sql: str | None
    line: int
    operation: MigrateOperation | None
    error: str | None = None
    parsed: tuple[tuple[str, ast.Node], ...] = ()
    parse_error: str | None = None
    guessed: bool = False  # rows written with a stand-in's value: not judged (Recorder)
    called_from: CallSite | None = None  # issued in a helper of the file: where it was called
    caught: bool = False  # it failed on any database, and a handler of the migration caught it
    # not rendered, but what it does to the schema is in the catalog all the same: a table
    # whose columns are not known (``Recorder.made_unseen``)
    accounted: bool = False

    def is_all(self, *kinds: type[ast.Node]) -> bool:
        """Every statement of the text is one of ``kinds`` (``ast.SelectStmt``: a read)."""
        return bool(self.parsed) and all(isinstance(node, kinds) for _, node in self.parsed)


class FailsOnPostgreSQL(sqlalchemy.exc.ProgrammingError):
    """A statement inside a migration's try block that PostgreSQL refuses on every database
    the history built (what it makes exists already, what it names does not): raised into
    the migration, whose handler takes it as it takes the server's error under ``alembic
    upgrade``, so the rest of the try block does not run."""

    def __init__(self, sql: str, why: str) -> None:
        super().__init__(sql, None, Exception(why))
        self.why = why


@dataclass(frozen=True)
class Refused:
    """A statement of a try block that fails on PostgreSQL, which the migration's handler
    took (``FailsOnPostgreSQL``)."""

    line: int
    sql: str
    why: str
    # inside the migration's transaction: PostgreSQL has aborted it, and every statement
    # after it fails, the handler's taking the error notwithstanding (unless the connection
    # runs each statement on its own, which env.py says, not the capture)
    in_transaction: bool = True


@dataclass(frozen=True)
class Read:
    """A statement whose rows the migration fetched through the bind (answered as empty)."""

    line: int
    sql: str


@dataclass(frozen=True)
class AskedAbsent:
    """A table the migration asked for (``has_table``, ``in`` the table names) that the
    schema built so far does not hold; ``exact``: that schema was known in full then."""

    line: int
    table: Name
    exact: bool


class Recorder:
    """Alembic's output buffer and the offline bind's statement log, in one."""

    def __init__(
        self,
        path: Path,
        catalog: Catalog | None = None,
        revision: str | None = None,
        guarded_lines: Callable[[], frozenset[int]] = frozenset,
    ) -> None:
        self.filename = str(path)
        self._guarded_lines = guarded_lines  # MigrationScript.guarded_lines
        self.emitted: list[Emitted] = []
        self.reads: list[Read] = []
        # each query a line reads with finds a row (OfflineCapturer._with_rows): how many
        # each (line, query shape) were given (``query_shape``), and the last text of each
        self.finds_rows = False
        self.row_values = FIRST_VALUES  # what the rows found are made of
        self.reads_given: collections.Counter[tuple[int, str]] = collections.Counter()
        # the last text of each, and how many writes had been made then: the same query
        # asked again with nothing written since finds nothing (a loop that drains), asked
        # after a write it finds its row again (superset's outer loop over two tables)
        self.last_read: dict[tuple[int, str], tuple[str, int]] = {}
        self.writes = 0  # statements run that are no SELECT
        # the (line, query shape)s that find none there: it refuses to go on where they do
        self.finds_none: frozenset[tuple[int, str]] = frozenset()
        # lines that looked up a table's indexes (reflection): a build after one may be
        # guarded by what exists, which a database answered as empty cannot show
        self.index_lookups: list[int] = []
        # it looked at the schema (has_table, inspect): what it emitted depends on the
        # database, and an empty one may not be the one it is written for
        self.reflected = False
        # the line that asked ``context.is_offline_mode()`` first, if it did
        self.asked_offline: int | None = None
        # tables it asked for that the history never had (has_table, ``in`` the table
        # names): the line asking, and whether the schema it asked was exact then
        self._asked_absent: dict[Name, tuple[int, bool]] = {}
        # tables the history only altered whose columns it reflected: the line, and
        # whether the schema was exact then
        self.partial_reflections: dict[Name, tuple[int, bool]] = {}
        # what such a table holds besides what the history gave it, as the run is told:
        # None, not known (a reflection of one is a guess); else the names of the columns
        # and indexes made outside the history, for a run in that world, and whether those
        # indexes are unique (``OfflineCapturer._over_what_is_not_known``)
        self.outside_names: frozenset[str] | None = None
        self.outside_unique = False
        self.in_transaction = True  # Alembic runs each migration in a transaction
        self._autobegin = False  # the next statement begins one (after bind.commit())
        self.catalog = catalog  # kept current with every exact statement, for reflection
        self.revision = revision
        self.exact_until: int | None = None  # set at the first guess: emitted[:exact_until]
        self._operations: list[MigrateOperation] = []
        self._autocommit_depth = 0
        # a stand-in was used as a value while an operation ran: from this statement, and
        # from this value use on; settled when the operation ends
        self._guess_from: tuple[int, int] | None = None
        self._replayed_line: int | None = None
        # ROLLBACKs run while an exception was on its way out (``with session.begin():``
        # rolls back when its block raises), with that exception
        self._unwinding: list[tuple[Emitted, BaseException]] = []
        self.refused: list[Refused] = []  # statements of try blocks that fail on PostgreSQL

    # Alembic's output buffer
    def write(self, text: str) -> None:
        """An operation's SQL, or Alembic's own COMMIT and BEGIN around autocommit_block()."""
        self._run_on_connection(text.strip(), autocommit=False)

    def flush(self) -> None:
        """Alembic flushes after every statement; nothing is buffered here."""

    # the offline bind
    def execute(self, sql: str, autocommit: bool) -> None:
        """A statement the script ran through the bind."""
        self._run_on_connection(sql.strip(), autocommit)

    def _run_on_connection(self, sql: str, autocommit: bool) -> None:
        """A statement on the migration's connection. After ``bind.commit()`` the next one
        begins a transaction (SQLAlchemy's autobegin), outside autocommit. A ``COMMIT`` run
        as SQL (``op.execute("COMMIT")``, to build an index CONCURRENTLY after it) is one
        neither SQLAlchemy nor psycopg2 sees: the statements after it run each on its own."""
        keyword = sql.rstrip(";").split(None, 1)[0].upper() if sql else ""
        if keyword in _ENDS:
            self.in_transaction = self._autobegin = False
        elif keyword in _BEGINS:
            self.in_transaction = True
        elif (
            keyword
            and not keyword.startswith("--")
            and self._autobegin
            and not self.in_transaction
            and not (autocommit or self._autocommit_depth)
        ):
            self._append("BEGIN")
            self.in_transaction = True
        self._append(sql)

    def end_transaction(self, command: str) -> None:
        """``COMMIT`` or ``ROLLBACK`` through the bind's API (``bind.commit()``)."""
        if self.in_transaction and not self._autocommit_depth:
            self._append(command)
            raising = sys.exc_info()[1]
            if command == "ROLLBACK" and raising is not None:
                self._unwinding.append((self.emitted[-1], raising))
            self.in_transaction = False
            self._autobegin = True

    def failed_with(self, exc: BaseException) -> None:
        """The function ended raising ``exc``. The ROLLBACKs it set off on its way out are
        dropped from the end of what the function emitted: the function stops there anyway,
        and the error is often one only the capture raises (a stood-in model in cinder's
        Session block), so they are no path of the migration (nor a COMMIT to judge)."""
        raised = set()
        cause: BaseException | None = exc
        while cause is not None and id(cause) not in raised:
            raised.add(id(cause))
            cause = cause.__context__
        while (
            self._unwinding and self.emitted and self.emitted[-1] is self._unwinding[-1][0]
            and id(self._unwinding[-1][1]) in raised
        ):  # fmt: skip
            self.emitted.pop()
            self._unwinding.pop()

    def read(self, sql: str, line: int | None = None) -> None:
        """Rows of ``sql`` were read; ``line``: where the migration ran it (the loop that
        fetches them may come later)."""
        self.reads.append(Read(line or self.issuing_line(), " ".join(sql.split())))

    def asked_absent(self, name: Name) -> None:
        """The migration asked whether a table it does not hold exists. A table the history
        had and dropped is not there in any database it migrated; one it never had may be
        (an older release's, one the application creates itself: jupyterhub alters its
        tables only ``if table in get_table_names()``)."""
        catalog = self.catalog
        if catalog is not None and name not in catalog.gone and name not in catalog.views:
            self._asked_absent.setdefault(name, (self.issuing_line(), catalog.exact))

    def reflected_partial(self, name: Name, told: bool = False) -> None:
        """The migration reflected a table the history only altered: of its columns, only
        those the history added are known (qcfractal reads ``molecule``'s), so the path it
        takes from here is a guess, as after a stand-in's value (zenml branched on a column
        of a table made by a revision that raised). Not for a run told what else the table
        holds (``outside_names``), of what it is told (``told``: its columns and indexes)."""
        if told and self.outside_names is not None:
            return
        exact = self.catalog is not None and self.catalog.exact
        self.partial_reflections.setdefault(name, (self.issuing_line(), exact))
        self.guessed()  # what it does next may hang on a column the answer leaves out

    def tables_asked_absent(self, made_since: bool = False) -> list[AskedAbsent]:
        """The tables asked for that neither the history nor the function itself (``if
        "t" not in tables: op.create_table("t")``) has made by now; ``made_since``: those
        the function made itself after it asked."""
        catalog = self.catalog or Catalog()
        return [
            AskedAbsent(line, name, exact)
            for name, (line, exact) in self._asked_absent.items()
            if (catalog.table(name) is not None) == made_since
        ]

    # attribution
    def issuing_line(self) -> int:
        """The innermost line of the migration file on the current call stack (or the line
        of the batch operation being applied, ``replaying``)."""
        if self._replayed_line is not None:
            return self._replayed_line
        frame: types.FrameType | None = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename == self.filename:
                return frame.f_lineno
            frame = frame.f_back
        return 0

    def called_from(self) -> CallSite | None:
        """The helper of the migration file the current line is in, and the line that called
        it (in the function Alembic called, or in the helper that called it: zuul's
        ``upgrade2()`` calls ``rename_index()`` three times); None when the line is in the
        function Alembic called itself (a loop, a comprehension) or a batch operation is
        applied."""
        if self._replayed_line is not None:
            return None
        frames = []
        frame: types.FrameType | None = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename == self.filename and not _inline(frame.f_code):
                frames.append(frame)
            frame = frame.f_back
        if len(frames) < 2 or frames[0].f_code is frames[-1].f_code:
            return None
        return CallSite(frames[0].f_code.co_name, frames[1].f_lineno)

    @property
    def current_operation(self) -> MigrateOperation | None:
        return self._operations[-1] if self._operations else None

    @contextlib.contextmanager
    def replaying(self, operation: MigrateOperation | None, line: int) -> Iterator[None]:
        """A batch operation applied when its block ends, as issued at ``line``."""
        self._replayed_line = line
        try:
            if operation is None:
                yield
            else:
                with self.operation(operation):
                    yield
        finally:
            self._replayed_line = None

    @contextlib.contextmanager
    def operation(self, operation: MigrateOperation) -> Iterator[None]:
        self._operations.append(operation)
        try:
            yield
        finally:
            self._operations.pop()
            if not self._operations and self._guess_from is not None:
                self._settle_guess(*self._guess_from)
                self._guess_from = None

    @contextlib.contextmanager
    def autocommit(self) -> Iterator[None]:
        """Inside ``autocommit_block()``: the bind's statements do not begin a transaction."""
        self._autocommit_depth += 1
        try:
            yield
        finally:
            self._autocommit_depth -= 1

    def unrenderable(
        self, operation: MigrateOperation | None, exc: Exception, caught: bool = False
    ) -> None:
        error = described(exc)
        misnamed = _not_a_name(operation)
        if misnamed is not None:  # SQLAlchemy's own words (``Column._set_parent() missing 2
            error = f"{misnamed} ({error})"  # required ...``) name neither call nor argument
        accounted = not caught and self.made_unseen(operation)
        self.emitted.append(
            Emitted(
                None, self.issuing_line(), operation, error, caught=caught,
                called_from=self.called_from(), accounted=accounted,
            )
        )  # fmt: skip

    def made_unseen(self, operation: MigrateOperation | None) -> bool:
        """A ``create_table()`` whose SQL could not be rendered or parsed (monasca's MySQL
        LONGTEXT, senlin's ``Float(precision='24,8')``) still made its table: it goes into
        the schema with its columns unknown, as a table the history only altered, so that the
        revisions after it are judged. Not one with an enum column: the type it would have
        made is not known. Returns whether it went in."""
        catalog = self.catalog
        if (
            not isinstance(operation, ops.CreateTableOp) or catalog is None
            or self.exact_until is not None or self._guess_from is not None
            or any(isinstance(c.type, sqltypes.Enum) for c in operation.columns
                   if isinstance(c, sa_schema.Column))
        ):  # fmt: skip
            return False
        catalog.made_unseen(
            (operation.schema or DEFAULT_SCHEMA, operation.table_name), self.revision
        )
        return True

    def in_guarded_code(self) -> bool:
        """Whether a line of the migration on the call stack is inside a ``try`` whose
        handler catches what SQLAlchemy raises (``MigrationScript.guarded_lines``)."""
        return in_guarded_try(sys._getframe(1), self.filename, self._guarded_lines())

    def guessed(self) -> None:
        """A stand-in was used as a value: what comes next is not exact.

        In the migration's own code that is a guess from here on: the path it takes may not
        be the real one. While an Alembic operation runs, SQLAlchemy or a type of the
        application is turning its arguments into SQL; what follows depends on what the
        operation emits (``_settle_guess``), decided when it ends.
        """
        if self.exact_until is not None:
            return
        if not self._operations:
            self.exact_until = len(self.emitted)
        elif self._guess_from is None:
            self._guess_from = (len(self.emitted), len(LOG.value_uses))

    def _settle_guess(self, first_statement: int, first_use: int) -> None:
        """A stand-in used as a value by an operation: if all it emitted from then on is
        rows to insert, update or delete, only those statements are unknown (what rows they
        write), and they are not judged; the statements after them are exact, as the
        migration itself did not look at the value. Anything else (DDL made with a stand-in:
        a type's length, a default) is a guess from there on."""
        made = self.emitted[first_statement:]
        if all(_writes_rows_only(item) for item in made):
            self.emitted[first_statement:] = [replace(item, guessed=True) for item in made]
            LOG.value_uses[first_use:] = [
                replace(use, reach=Reach.ROWS) if use.reach is Reach.REST else use
                for use in LOG.value_uses[first_use:]
            ]
        else:
            self.exact_until = first_statement

    def _append(self, sql: str) -> None:
        operation = self.current_operation
        written = [name for name in LOG.written if name in sql]  # SQL made with a stand-in
        if written:
            shaped = with_unknown_values(sql, written)  # exact but for a length or a literal
            if shaped is not None:
                sql = as_placeholders(shaped, written)
            elif self.exact_until is None:
                self.guessed()
                how = "writes {name} into its SQL"
                name = min(written)  # a path that starts with its module's name
                root = LOG.written[name]  # what stands in (trulens' config, env.py's to pass)
                LOG.value_uses.append(ValueUse(name, root, self.issuing_line(), how))
        try:
            parsed, error = split_statements(sql), None
        except pglast.parser.ParseError as exc:
            parsed, error = (), str(exc)
        line, called_from = self.issuing_line(), self.called_from()
        applied = self.catalog is not None and self.exact_until is None and self._guess_from is None
        if applied:
            self._refuse_where_postgresql_does(sql, parsed, line)
        emitted = Emitted(sql, line, operation, None, parsed, error, called_from=called_from)
        self.emitted.append(emitted)
        if not emitted.is_all(ast.SelectStmt):
            self.writes += 1
        if applied and error is not None:
            self.made_unseen(operation)
        if applied:
            for _, node in parsed:
                self.catalog.apply(node, self.revision)

    def _refuse_where_postgresql_does(
        self, sql: str, parsed: tuple[tuple[str, ast.Node], ...], line: int
    ) -> None:
        """Inside a try block of the migration, on a schema known whole: a statement that
        makes what is there already, or names what is not, fails on PostgreSQL; the
        migration's handler gets the error, as under ``alembic upgrade`` (privacyidea makes
        indexes again in one try block, whose handler then skips the rest), and the
        statement changes nothing."""
        catalog = self.catalog
        if catalog is None or not catalog.exact or catalog.bases > 1 or not parsed:
            return
        if not self.in_guarded_code():
            return
        probe = catalog.copy()
        for _, node in parsed:
            probe.apply(node, self.revision)
            missing = probe.missing_for(node)
            if probe.makes_again(node) or missing:
                why = (
                    f"{missing[0][0]} does not exist" if missing
                    else "what it makes already exists"
                )  # fmt: skip
                self.refused.append(
                    Refused(
                        line, " ".join(sql.split()).rstrip(";"), why,
                        self.in_transaction and not self._autocommit_depth,
                    )
                )  # fmt: skip
                raise FailsOnPostgreSQL(sql, why)


_ROW_WRITES = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt)


def _writes_rows_only(item: Emitted) -> bool:
    return bool(item.parsed) and all(isinstance(node, _ROW_WRITES) for _, node in item.parsed)


def _inline(code: types.CodeType) -> bool:
    """A comprehension's or a lambda's frame: part of the function it is written in."""
    return code.co_name.startswith("<") and code.co_name != "<module>"


# what an operation names its objects by: each a string (a name, or a conv() of one)
_NAMED_BY = ("table_name", "column_name", "index_name", "constraint_name", "schema")


def _not_a_name(operation: MigrateOperation | None) -> str | None:
    """Which argument of ``operation`` is no name, where Alembic takes one: jupyterhub's
    ``op.drop_column("spawners", sa.Column("user_options"))``, which Alembic cannot render
    either, online or offline."""
    for argument in _NAMED_BY:
        value = getattr(operation, argument, None)
        if value is not None and not isinstance(value, str):  # (its own name left out: one
            kind = type(value).__name__  # call in a loop over columns is one notice)
            return f"its {argument} is a {kind}, not a name: Alembic fails on it too"
    return None
