"""Stand-ins for the modules a migration imports that cannot be imported where migsafe runs.

A linter in CI rarely has the application installed, yet migrations import it for a column
type (``from myapp.db.types import UUIDType``), a helper or a constant. Failing the import
would cost the whole capture, so for the project's own code (the migrations and the modules
beside them, never an installed library):

- a module that cannot be found is replaced by a stand-in module, every public attribute of
  which is a ``StandIn``, which can be called, subclassed, iterated (as empty), compared
  (as neither smaller nor larger), computed with (the result is a stand-in) and chained;
- a module of the project whose import raises or exits (typically: one of *its* imports is
  missing, or it needs configuration) keeps what it defined before the error and what the
  top-level statements after it define without it (``past_the_error``); its other
  attributes are stand-ins. Its submodules still import for real, so a small helper module
  of the application (``myapp.migration_utils``) works even when ``myapp/__init__.py`` does
  not.

A ``StandIn`` is also an SQLAlchemy type, rendered as ``migsafe_unknown."<Name>"`` (see
``UNKNOWN_TYPE_SCHEMA``), so a column of the application's own type still becomes exact DDL;
rules treat that type as unknown. Using a stand-in as a *value* (a branch on it, iterating
it, formatting it) in the migration, or in project code it calls, makes the capture a guess
from there on: that is recorded with its line, and check reports it. A stand-in the migration
calls as a statement of its own, throwing the result away, was called for what it does,
which is not known: that is recorded too (``Reach.EFFECT``).
"""

from __future__ import annotations

import contextlib
import dis
import enum
import functools
import importlib
import importlib.abc
import importlib.machinery
import inspect
import itertools
import re
import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.types import UserDefinedType

from migsafe.capture.code_origin import first_project_frame, in_guarded_try, is_project_file
from migsafe.capture.drop_ins import DROP_INS
from migsafe.capture.past_the_error import run_the_rest
from migsafe.catalog import UNKNOWN_TYPE_SCHEMA
from migsafe.import_hooks import WrappingLoader, spec_from_the_others


class Reach(enum.Enum):
    """How much of what a migration does a stand-in's use leaves unknown."""

    REST = "rest"  # the path it takes from there on: nothing after it is judged
    ROWS = "rows"  # only the rows the statement it went into writes (recorder)
    # what a stood-in helper called for its effect does (``migration.remove_foreign_keys(
    # ...)``): the migration's own statements after it are judged
    EFFECT = "effect"
    # used in a ``try`` whose handler takes any error: it raised there (StandInUnknown), and
    # the migration's handler went on, so the statements after it are judged; the schema
    # after the revision is no longer taken as exact
    HANDLED = "handled"


@dataclass(frozen=True)
class ValueUse:
    """A stand-in used as a value by the migration, at ``line`` of the migration file."""

    name: str
    root: str  # the stood-in module it comes from
    line: int
    how: str = "branches on {name}"  # what the migration did with it, for the notice
    reach: Reach = Reach.REST


@dataclass
class StandInLog:
    """What stand-ins did during one capture: which were used as values, and where."""

    missing: dict[str, str] = field(default_factory=dict)  # stood-in module -> why
    value_uses: list[ValueUse] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)  # stood-in modules whose attributes ran
    # stand-ins a library turned into text (SQLAlchemy writing ``String(length=...)``), with
    # the stood-in module each comes from: SQL that holds one is not what the real module
    # would give
    written: dict[str, str] = field(default_factory=dict)
    current_file: str = ""  # the migration file being captured
    on_value_use: Callable[[], object] = lambda: None  # the capture stops being exact
    # while the script itself is imported, only its own module-level code counts: what the
    # application's modules do when they are imported does not decide what the script emits
    importing: bool = False
    loading: int = 0  # modules of the project being imported right now (nested), at any time
    # the lines of the migration file inside a try whose handler takes any error
    guarded: frozenset[int] = frozenset()
    # the stood-in module of each stand-in shown as text (an error message names it so)
    shown_roots: dict[str, str] = field(default_factory=dict)

    def start(
        self, current_file: str, on_value_use: Callable[[], object], importing: bool,
        guarded: frozenset[int] = frozenset(),
    ) -> None:  # fmt: skip
        self.value_uses, self.touched, self.written = [], set(), {}
        self.current_file, self.on_value_use = current_file, on_value_use
        self.importing, self.guarded = importing, guarded


LOG = StandInLog()
_NOT_FOUND: set[str] = set()  # the modules stood in because no finder has them


def _is_sql_expression(value: Any) -> bool:
    return isinstance(value, ClauseElement) or hasattr(value, "__clause_element__")


def _derived(form: str) -> Callable[..., StandIn]:
    """An operator of a stand-in whose result is a stand-in named ``form`` of its name."""

    def operator(self: StandIn, *other: Any) -> StandIn:
        LOG.touched.add(self._migsafe_root)
        return StandIn(form.format(self._migsafe_path), self._migsafe_root)

    return operator


class StandIn(UserDefinedType):
    """An attribute of a module that could not be imported; see the module docstring."""

    cache_ok = True  # every stand-in renders the same way for caching purposes

    # its arguments are named as the attributes they set: SQLAlchemy copies a type by
    # calling its class with the attributes its __init__ names (``with_variant()``,
    # ``adapt()``: invenio's ``JSONType().with_variant(...)``)
    def __init__(self, _migsafe_path: str, _migsafe_root: str) -> None:
        self._migsafe_path = _migsafe_path
        self._migsafe_root = _migsafe_root

    def __getattr__(self, name: str) -> StandIn:
        if name.startswith("_"):  # protocol probes (``__clause_element__``, ``_is_...``)
            if name.startswith("__") and is_project_file(sys._getframe(1).f_code.co_filename):
                LOG.touched.add(self._migsafe_root)
                raise AttributeError(f"{self._migsafe_path} is stood in and has no {name}")
            raise AttributeError(name)
        LOG.touched.add(self._migsafe_root)
        caller = sys._getframe(1).f_code.co_filename
        if caller != LOG.current_file and not is_project_file(caller):
            # a library turning it into a literal (SQLAlchemy's ``value.replace("'", "''")``,
            # ``value.isoformat()``): the value is still the one the migration named
            return _Unchanged(self._migsafe_path, self._migsafe_root)
        if name == "dialect":  # ironic's ``enginefacade.writer.get_engine().dialect.name``
            return _POSTGRESQL  # what check judges for, as ``op.get_bind().dialect`` is
        if name == "engine" and (engine := _the_migrations_engine()) is not None:
            return engine  # flexmeasures' ``sa.inspect(db.engine)``, Flask-SQLAlchemy's
        return StandIn(f"{self._migsafe_path}.{name}", self._migsafe_root)

    def __call__(self, *args: Any, **kwargs: Any) -> StandIn:
        LOG.touched.add(self._migsafe_root)
        path = self._migsafe_path
        called = path if path.endswith("()") else f"{path}()"
        frame = sys._getframe(1)
        if frame.f_code is _TO_INSTANCE:  # SQLAlchemy making a type an instance: it is one
            return self  # (and keeps its with_variant(): invenio's JSONType on PostgreSQL)
        if len(args) == 1 and not kwargs and _decorating(frame, args[0]):
            return args[0]  # mailman's ``@public`` (atpublic): the function, the class
        if path.endswith(".Session") and _the_migrations_bind(kwargs.get("bind")):
            from sqlalchemy.orm import Session  # (imported when needed: most runs never do)

            return Session(bind=kwargs["bind"])  # superset's db.Session(...)
        if frame.f_code.co_filename == LOG.current_file and _for_its_effect(frame, path):
            LOG.value_uses.append(
                ValueUse(called, self._migsafe_root, frame.f_lineno, "calls {name}", Reach.EFFECT)
            )
        return StandIn(called, self._migsafe_root)

    def __getitem__(self, key: Any) -> StandIn:
        """``CONF['service:central']``, named as the migration wrote it."""
        LOG.touched.add(self._migsafe_root)
        # double quotes: the name may end up inside an SQL literal, which a library escapes
        # by calling the stand-in's replace() (unchanged, see __getattr__)
        index = f'"{key}"' if isinstance(key, str) else str(key) if isinstance(key, int) else "..."
        return StandIn(f"{self._migsafe_path}[{index}]", self._migsafe_root)

    def __setitem__(self, key: Any, value: Any) -> None:
        """``current_app.config["SECRET_KEY"] = key`` (pgadmin4): a write into an object that
        is not known, taken as a write of an attribute is (no schema change comes of it)."""
        LOG.touched.add(self._migsafe_root)

    def __mro_entries__(self, bases: tuple[Any, ...]) -> tuple[type, ...]:
        """A class deriving from a stand-in derives from a plain class of its own, whose
        metaclass is the other bases' (``class User(Base, Dictifiable)`` where
        ``Dictifiable`` is an ABC). A metaclass of migsafe's would conflict later, when
        the class is a base under another one: watcher's ``WatcherBase(ModelBase, ...)``
        made into a declarative base by ``declarative_base(cls=WatcherBase)``."""
        name = self._migsafe_path.rsplit(".", 1)[-1].replace("()", "") or "StandIn"
        meta: type = type
        for other in {type(base) for base in bases if isinstance(base, type)}:
            if issubclass(other, meta):
                meta = other
            elif not issubclass(meta, other):
                meta = type(f"{other.__name__}StandIn", (meta, other), {})
        namespace = {"__module__": self._migsafe_root}
        try:
            return (meta(name, (StandInBase,), namespace),)
        except Exception:  # a metaclass that expects its own kind of class (SQLAlchemy's
            # declarative one wants a registry): made as its instance, without its setup
            return (type.__new__(meta, name, (StandInBase,), namespace),)

    def __or__(self, other: Any) -> StandIn:  # ``StandIn | None`` in a runtime annotation
        return self

    __ror__ = __or__

    def __add__(self, other: Any) -> Any:
        """Added to a list or tuple, a stand-in is empty (as when it is iterated). A dotted
        name after it makes it a schema (c2cgeoportal's ``ForeignKey(schema + ".user.id")``),
        named as a ``schema=`` it is given is named (``schema_name``). Anything else added
        to it gives a stand-in (reana's ``SHARED_VOLUME_PATH + os.sep + column``), so SQL
        never silently holds a stand-in's name."""
        if isinstance(other, (list, tuple)):
            return type(other)(other)
        if isinstance(other, str) and (other == "." or _DOTTED_NAME.fullmatch(other)):
            return self.schema_name + other  # SQLAlchemy's key for Table(schema=...) too
        if _is_sql_expression(other):  # SQLAlchemy builds ``$1 || workspace_path``
            return NotImplemented
        return _derived("{} + ...")(self)

    def __radd__(self, other: Any) -> Any:
        if isinstance(other, (list, tuple)):
            return type(other)(other)
        if _is_sql_expression(other):
            return NotImplemented
        return _derived("... + {}")(self)

    # arithmetic and formatting on a stand-in (``LENGTH * 2``, oslo's ``_("%s cannot run
    # offline") % name``) give a stand-in: the result is as unknown
    __mod__ = _derived("{} % ...")
    __mul__ = __rmul__ = _derived("{} * ...")
    __sub__ = _derived("{} - ...")
    __rsub__ = _derived("... - {}")
    __truediv__ = __floordiv__ = _derived("{} / ...")
    __rtruediv__ = __rfloordiv__ = _derived("... / {}")
    __neg__ = _derived("-{}")

    # uses as a value: the capture follows a path the real module might not take
    def __bool__(self) -> bool:
        self._used_as_value(sys._getframe(1))
        return True

    def __iter__(self) -> Iterator[Any]:
        frame = sys._getframe(1)
        count = _unpacked_into(frame.f_code).get(frame.f_lasti)
        if count is not None:  # pgadmin's ``email, password = user_info()``: one stand-in a
            LOG.touched.add(self._migsafe_root)  # name, as for ``user_info()[0]``; no branch
            return iter([StandIn(f"{self._migsafe_path}[{i}]", self._migsafe_root)
                         for i in range(count)])  # fmt: skip
        self._used_as_value(frame)
        return iter(())

    def __len__(self) -> int:
        self._used_as_value(sys._getframe(1))
        return 0

    def __contains__(self, item: Any) -> bool:
        self._used_as_value(sys._getframe(1))
        return False

    def _compared(self, other: Any) -> bool:
        """``<``, ``<=``, ``>``, ``>=``: no order is known (a version, a length, a count)."""
        self._used_as_value(sys._getframe(1))
        return False

    __lt__ = __le__ = __gt__ = __ge__ = _compared

    def __eq__(self, other: object) -> bool:
        """Equal to nothing but itself, as the object is; a migration that tests it (Kotti's
        ``get_settings()['kotti.use_workflow'] == '...'``, ``x in ('a', 'b')``) branches on
        what the real module would have said, and says so."""
        if other is not self:
            self._used_as_value(sys._getframe(1))
        return other is self

    def __ne__(self, other: object) -> bool:
        if other is not self:
            self._used_as_value(sys._getframe(1))
        return other is not self

    __hash__ = object.__hash__  # kept in sets and dicts by identity, as before

    def __str__(self) -> str:
        self._used_as_value(sys._getframe(1), as_text=True)
        return self._migsafe_path

    def __format__(self, spec: str) -> str:
        self._used_as_value(sys._getframe(1), as_text=True)
        return self._migsafe_path

    def __enter__(self) -> StandIn:
        """A helper's context manager: its body runs as written; what the helper does
        around it is not known (group-based-policy's ``with migration.remove_fks_from_table(
        ...)`` drops the table's keys and adds them back), as for a helper called for it."""
        frame = sys._getframe(1)
        if frame.f_code.co_filename == LOG.current_file:
            how = "uses {name} as a context manager"
            use = ValueUse(
                self._migsafe_path, self._migsafe_root, frame.f_lineno, how, Reach.EFFECT
            )
            LOG.value_uses.append(use)
        return self.__call__()

    def __exit__(self, *exc_info: Any) -> bool:
        return False

    def __repr__(self) -> str:
        LOG.shown_roots[self._migsafe_path] = self._migsafe_root  # for an error naming it
        return f"<stand-in for {self._migsafe_path}>"

    def get_col_spec(self, **kw: Any) -> str:
        """Rendered as a type of a schema of its own, so rules can tell it is unknown."""
        name = self._migsafe_path.replace("()", "").rsplit(".", 1)[-1]
        return f'{UNKNOWN_TYPE_SCHEMA}."{name}"'

    @property
    def schema_name(self) -> str:
        """The stand-in as the name of a schema, one plain word made of how the migration
        names it (``config["schema"]``: ``config_schema``), the same wherever it does so:
        Alembic splits a schema at its dots, and recipes quote it."""
        return re.sub(r"\W+", "_", self.code_name).strip("_") or "stood_in_schema"

    @property
    def code_name(self) -> str:
        """How a migration most likely names it: ``UUIDType()`` for ``myapp.types.UUIDType()``."""
        return self._migsafe_path.rsplit(".", 1)[-1]

    @property
    def python_type(self) -> type:
        return object

    def _used_as_value(self, frame: types.FrameType, as_text: bool = False) -> None:
        LOG.touched.add(self._migsafe_root)
        filename = frame.f_code.co_filename
        loading = LOG.loading  # an application module runs its own top level (a helper the
        # migration calls at its own top level, as galaxy's build_index_name(), does not)
        if filename != LOG.current_file and (loading or not is_project_file(filename)):
            if as_text:  # the recorder tells whether it ends up in SQL
                LOG.written[self._migsafe_path] = self._migsafe_root
            return  # SQLAlchemy inspecting what it was given, or an application module loading
        line = frame.f_lineno
        outer: types.FrameType | None = frame
        while outer is not None and outer.f_code.co_filename != LOG.current_file:
            outer = outer.f_back
        if outer is not None:
            line = outer.f_lineno
        how = "turns {name} into text" if as_text else "branches on {name}"
        if in_guarded_try(frame, LOG.current_file, LOG.guarded):
            use = ValueUse(self._migsafe_path, self._migsafe_root, line, how, Reach.HANDLED)
            LOG.value_uses.append(use)
            raise StandInUnknown(f"{self._migsafe_path} is not known offline")
        LOG.on_value_use()
        LOG.value_uses.append(ValueUse(self._migsafe_path, self._migsafe_root, line, how))


# the dialect of an engine or connection a stood-in module gives: a migration that asks
# which database it runs on (``if engine.dialect.name == "mysql"``) takes PostgreSQL's path
_POSTGRESQL = PGDialect()


class StandInUnknown(sqlalchemy.exc.CompileError):
    """Raised where a migration uses a stand-in's value inside a ``try`` whose handler takes
    any error (invenio's ``try: default = Model.status.default.arg ... except Exception:
    default = "P"``): the path it follows then is the one its author wrote for a value that
    cannot be had, rather than a guess at the real one. A CompileError, so that a handler
    of SQLAlchemy's errors takes it too."""


_DOTTED_NAME = re.compile(r"(\.\w+)+")  # ".user.id": a table (and column) in a schema
_TO_INSTANCE = sqlalchemy.sql.type_api.to_instance.__code__
_LOGGING = {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}


def _the_migrations_engine() -> sqlalchemy.engine.Engine | None:
    """The engine of the migration running (``op.get_bind().engine``), for an application's
    stood-in ``db.engine``: Flask-Migrate's env.py migrates the database of that very engine
    (``current_app.extensions["migrate"].db.engine``); None outside a migration."""
    from alembic import op  # imported by now: the capture runs the migrations through it

    try:
        bind = op.get_bind()
    except Exception:  # no migration context: not inside a migration
        return None
    return bind.engine if _the_migrations_bind(bind) else None


def _the_migrations_bind(bind: Any) -> bool:
    """``bind`` is the migration's ``op.get_bind()``: a stood-in ``Session`` made on it is an
    ORM session on it, as Flask-SQLAlchemy's ``db.Session`` is ``sqlalchemy.orm.Session``
    (superset's ``db.Session(bind=op.get_bind())``, with Flask-AppBuilder stood in)."""
    if not isinstance(bind, sqlalchemy.engine.Connection):
        return False
    from migsafe.capture.offline_bind import is_offline  # it imports this module (recorder)

    return is_offline(bind.connection.dbapi_connection)


def _for_its_effect(frame: types.FrameType, path: str) -> bool:
    """The migration called a stood-in helper as a statement of its own, throwing its result
    away: it was called for what it does (to the schema, most likely), which is not known.
    A logger's call (oslo's ``LOG.info(...)``) does nothing to the database."""
    if path.rsplit(".", 1)[-1] in _LOGGING:
        return False
    return _next_instruction(frame.f_code).get(frame.f_lasti) == "POP_TOP"


_DECORATED = (type, types.FunctionType, classmethod, staticmethod, property)


def _decorating(frame: types.FrameType, argument: Any) -> bool:
    """The stand-in is applied as a decorator: the caller's call hands it the function or
    class just defined, with no argument list of its own (``@public`` is a ``CALL 0`` with
    the function in the place of ``self``; ``public(f)`` is a ``CALL 1``), or a classmethod,
    staticmethod or property made of it (airflow's ``@methodtools.lru_cache()`` over
    ``@classmethod``, in an Enum: a stand-in there is one more member of it)."""
    if not isinstance(argument, _DECORATED):
        return False
    return frame.f_lasti in _calls_without_arguments(frame.f_code)


@functools.lru_cache(maxsize=64)
def _calls_without_arguments(code: types.CodeType) -> frozenset[int]:
    return frozenset(
        i.offset for i in dis.get_instructions(code) if i.opname == "CALL" and i.arg == 0
    )


@functools.lru_cache(maxsize=64)
def _unpacked_into(code: types.CodeType) -> dict[int, int]:
    """For each unpacking of a value into names (``a, b = x``; ``a, *rest = x``), its offset
    and how many names it fills one by one."""
    counts = {}
    for instruction in dis.get_instructions(code):
        if instruction.opname == "UNPACK_SEQUENCE":
            counts[instruction.offset] = instruction.arg
        elif instruction.opname == "UNPACK_EX":  # before and after the starred name
            counts[instruction.offset] = (instruction.arg & 0xFF) + (instruction.arg >> 8)
    return counts


@functools.lru_cache(maxsize=64)
def _next_instruction(code: types.CodeType) -> dict[int, str]:
    """For each instruction's offset, the name of the one after it."""
    instructions = list(dis.get_instructions(code))
    return {a.offset: b.opname for a, b in itertools.pairwise(instructions)}


class _Unchanged(StandIn):
    """A stand-in's method as a library calls it: calling it gives the same stand-in."""

    def __call__(self, *args: Any, **kwargs: Any) -> StandIn:
        return StandIn(self._migsafe_path, self._migsafe_root)


class StandInBase:
    """What a class deriving from a stand-in derives from: its instances accept anything."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __getattribute__(self, name: str) -> Any:
        """A default the class body gives (``pg_uri: str | None = None`` of letta's pydantic
        ``Settings``) is not what an instance holds: the stood-in base's ``__init__``, which
        did not run, sets such attributes (from its arguments, from the environment). Read
        from an instance, it is a stand-in, so a branch on it is noticed, not taken as
        written. What the instance set itself, methods and private names are as they are."""
        value = object.__getattribute__(self, name)
        if name.startswith("_") or not isinstance(value, _PLAIN_DEFAULTS):
            return value
        if name in object.__getattribute__(self, "__dict__"):
            return value
        if hasattr(inspect.getattr_static(type(self), name, None), "__get__"):
            return value  # a property computes it from what the instance holds
        cls = type(self)
        return StandIn(f"{cls.__module__}.{cls.__qualname__}().{name}", _stood_in_root(cls))

    def __getattr__(self, name: str) -> StandIn:
        return _stand_in_attribute(type(self).__qualname__, name, type(self).__module__)


_PLAIN_DEFAULTS = (type(None), str, bytes, int, float, tuple, list, dict, set, frozenset)


def _stood_in_root(cls: type) -> str:
    """The stood-in module a class derives from (the module of the class made for it)."""
    for base in cls.__mro__:
        if base.__bases__ == (StandInBase,):
            return base.__module__
    return cls.__module__


class StandInModule(types.ModuleType):
    """A module that could not be found; its public attributes are stand-ins."""

    def __getattr__(self, name: str) -> StandIn:
        return _stand_in_attribute(self.__name__, name, self.__name__)


class StandInFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """The last finder on ``sys.meta_path``: asked only for modules no other finder has.

    It answers only imports made by the project's own code, never a library's.
    """

    def find_spec(
        self, fullname: str, path: Any = None, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if first_project_frame(sys._getframe(1)) is None:
            return None
        if fullname in DROP_INS:
            return importlib.machinery.ModuleSpec(fullname, self)
        LOG.missing.setdefault(fullname, f"no module named {fullname!r}")
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        _NOT_FOUND.add(spec.name)  # installing it changes what the migrations do
        if spec.name in DROP_INS:  # the standard library takes its place
            return DROP_INS[spec.name]()
        module = StandInModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run: every attribute is made on demand."""


class ForgivingFinder(importlib.abc.MetaPathFinder):
    """The first finder on ``sys.meta_path``: a module of the project, imported by the
    project, whose import raises (or exits) keeps what it defined and stands in for the rest."""

    def find_spec(
        self, fullname: str, path: Any = None, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if first_project_frame(sys._getframe(1)) is None:
            return None
        spec = spec_from_the_others(
            self, fullname, path, target, lambda other: isinstance(other, StandInFinder)
        )
        if spec is None or spec.loader is None:
            return spec
        if not (spec.origin and is_project_file(spec.origin)):
            return spec
        spec.loader = _ForgivingLoader(spec.loader)
        return spec


class _ForgivingLoader(WrappingLoader):
    def exec_module(self, module: types.ModuleType) -> None:
        partial = False
        LOG.loading += 1
        try:
            self._loader.exec_module(module)
        except Exception as exc:
            LOG.missing[module.__name__] = f"importing it raised {type(exc).__name__}: {exc}"[:200]
            partial = True
            run_the_rest(module, self._loader, exc)
        except SystemExit as exc:  # configuration it needs is not there (open-webui's secret)
            LOG.missing[module.__name__] = f"importing it called sys.exit({exc.code!r})"[:200]
            partial = True
            run_the_rest(module, self._loader, exc)
        finally:
            LOG.loading -= 1
        if partial or (hasattr(module, "__path__") and "__getattr__" not in vars(module)):
            module.__getattr__ = _missing_attribute(module, partial)


def _missing_attribute(module: types.ModuleType, partial: bool) -> Callable[[str], Any]:
    """A module ``__getattr__`` for what a broken import chain left out.

    A package's submodule is imported on first use, as the package's own imports would
    have done had they all worked; anything else is a stand-in in a module whose import
    failed half-way, and missing as usual in one that imported completely.
    """
    name, path = module.__name__, getattr(module, "__path__", None)

    def __getattr__(attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        submodule = f"{name}.{attribute}"
        if path is not None and importlib.machinery.PathFinder.find_spec(submodule, path):
            return importlib.import_module(submodule)
        if partial:
            return StandIn(submodule, name)
        raise AttributeError(f"module {name!r} has no attribute {attribute!r}")

    return __getattr__


def _stand_in_attribute(owner: str, name: str, module: str) -> StandIn:
    if name.startswith("__"):
        raise AttributeError(name)
    return StandIn(f"{owner}.{name}", module)


@contextlib.contextmanager
def installed() -> Iterator[None]:
    """Hand out stand-ins while inside; afterwards the import system is as it was: no
    stand-in, and no module of the project imported alongside them, is left in
    ``sys.modules``.

    Inside, a submodule of SQLAlchemy asked for as an attribute (``sa.orm.Session`` after
    only ``import sqlalchemy as sa``) is imported then: under ``alembic upgrade``, env.py
    imports the application's models, and with them ``sqlalchemy.orm``, before any
    migration runs; nothing here does."""
    forgiving, missing = ForgivingFinder(), StandInFinder()
    before = set(sys.modules)
    sys.meta_path.insert(0, forgiving)
    sys.meta_path.append(missing)
    on_first_use = _missing_attribute(sqlalchemy, partial=False)
    sqlalchemy.__getattr__ = on_first_use  # type: ignore[attr-defined]
    try:
        yield
    finally:
        del sqlalchemy.__getattr__  # type: ignore[attr-defined]
        sys.meta_path.remove(forgiving)
        sys.meta_path.remove(missing)
        for name in set(sys.modules) - before:
            origin = getattr(sys.modules[name], "__file__", None)
            if name in LOG.missing or (origin and is_project_file(origin)):
                del sys.modules[name]
        LOG.missing.clear()
        _NOT_FOUND.clear()


def not_found() -> tuple[str, ...]:
    """The modules stood in because no finder has them (installing one changes what the
    migrations do)."""
    return tuple(sorted(_NOT_FOUND))


def roots_in_traceback(tb: types.TracebackType | None) -> set[str]:
    """The stood-in modules the frames of a traceback name: indico's ``now_utc()``, in an
    application module, passes ``pytz.utc`` to ``datetime.now()``, which refuses "type
    'StandIn'"; the notice then says which module stood in. Those of the innermost frame
    that names any: the frames further out import much else."""
    innermost: set[str] = set()  # of the innermost frame that names any
    while tb is not None:
        frame, roots = tb.tb_frame, set()
        for name in frame.f_code.co_names + frame.f_code.co_varnames:
            value = frame.f_locals.get(name, frame.f_globals.get(name))
            if isinstance(value, StandInModule):
                roots.add(value.__name__)
            elif isinstance(value, StandIn):
                roots.add(value._migsafe_root)
        innermost = roots or innermost
        tb = tb.tb_next
    return innermost


def missing_modules(modules: set[str]) -> tuple[tuple[str, str], ...]:
    """The outermost stood-in module behind each of ``modules``, with why it is stood in:
    ``("myapp", "no module named 'myapp'")`` for ``myapp.db.types`` when ``myapp`` itself
    is not installed."""
    found = {}
    for module in modules:
        parts = module.split(".")
        prefixes = (".".join(parts[: i + 1]) for i in range(len(parts)))
        outermost = next((p for p in prefixes if p in LOG.missing), module)
        found[outermost] = LOG.missing.get(outermost, "it cannot be imported")
    return tuple(sorted(found.items()))
