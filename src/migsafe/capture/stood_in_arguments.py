"""An Alembic operation's arguments that are stand-ins, made into what SQLAlchemy renders.

SQLAlchemy takes an operation's schema for a string and its column types for its own types;
given a stand-in it makes an empty schema name, fails on ``schema + "." + name``, or fails
to compile a type of the application that derives from a stood-in one. Before an operation
runs, each such argument becomes what it stands for: a schema name as the migration names
it, an unknown type (``UNKNOWN_TYPE_SCHEMA``). The operation is then exact but for that
name or type.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator
from typing import Any

from alembic.operations import MigrateOperation
from sqlalchemy.sql.schema import DefaultClause, Table
from sqlalchemy.types import Enum, String

from migsafe.capture.stand_ins import StandIn, StandInBase

_SCHEMA_ATTRIBUTES = ("schema", "source_schema", "referent_schema")


def without_stand_ins(operation: MigrateOperation) -> None:
    """Each stood-in schema of ``operation`` named, each type derived from a stand-in made
    the unknown type it stands for, in place."""
    _name_stood_in_schemas(operation)
    _unknown_stood_in_types(operation)


def _name_stood_in_schemas(operation: MigrateOperation) -> None:
    """Name each schema a stood-in value gives the operation, as its attribute or in its
    ``kw`` (a foreign key's ``source_schema=``), by ``StandIn.schema_name``: the operation
    is exact but for that name, the same wherever the history names the schema so."""
    for attribute in _SCHEMA_ATTRIBUTES:
        value = getattr(operation, attribute, None)
        if isinstance(value, StandIn):
            setattr(operation, attribute, value.schema_name)
    options = getattr(operation, "kw", None)
    if isinstance(options, dict):
        for key in _SCHEMA_ATTRIBUTES:
            if isinstance(options.get(key), StandIn):
                options[key] = options[key].schema_name


def _unknown_stood_in_types(operation: MigrateOperation) -> None:
    """A column type of the application's that derives from a stood-in one (gnocchi's
    ``ArchivePolicyDefinitionType(sqlalchemy_utils.JSONType)``) is no SQLAlchemy type: it
    becomes the unknown type it stands for, as a stood-in type itself does, instead of
    failing the whole CREATE TABLE."""
    columns = [*(getattr(operation, "columns", None) or ()), getattr(operation, "column", None)]
    for column in columns:
        if hasattr(column, "type") and _derives_from_stand_in(column.type):
            column.type = _unknown_type(column.type)
    for attribute in ("modify_type", "existing_type"):
        value = getattr(operation, attribute, None)
        if _derives_from_stand_in(value):
            setattr(operation, attribute, _unknown_type(value))


def _derives_from_stand_in(value: object) -> bool:
    kind = value if isinstance(value, type) else type(value)
    return issubclass(kind, StandInBase)


def _unknown_type(value: object) -> StandIn:
    kind = value if isinstance(value, type) else type(value)
    return StandIn(f"{kind.__module__}.{kind.__qualname__}()", kind.__module__)


# enums some of whose labels are stood in (their text is the stand-in's name)
_UNKNOWN_LABELS: weakref.WeakSet[Enum] = weakref.WeakSet()


def has_stood_in_labels(enum: Enum) -> bool:
    """Some of the enum's labels came from a module that could not be imported: what they
    are is not known, so neither is which of them a type lacks."""
    return enum in _UNKNOWN_LABELS


@contextlib.contextmanager
def sqlalchemy_taking_stand_ins() -> Iterator[None]:
    """While capturing, what SQLAlchemy refuses for not being a string takes a stand-in as
    the name or value it stands for: ``sa.Table(..., schema=config["schema"])``
    (c2cgeoportal, ``c2c`` not installed) is a table in the schema named as an operation's
    ``schema=`` is, and ``server_default=constants.ACTIVE`` (tap-as-a-service, neutron_lib
    not installed) a string default whose value is unknown (``stood_in_values``), as is
    an enum label (``sa.Enum(constants.EGRESS_DIRECTION, ..., name="directions")``), and
    a value given for such an enum (the same stand-in, the same label). A text type's
    collation that a stand-in gives (airflow's ``StringID()``, whose collation its
    configuration, stood in, tells) is named as a stood-in schema is: the CREATE TABLE of
    its columns is rendered, exact but for that name."""
    new_table = Table.__dict__["_new"]
    default_init = DefaultClause.__init__
    enum_init = Enum.__init__
    enum_value = Enum._db_value_for_elem
    string_init = String.__init__

    def named(cls: type[Table], *args: Any, **kw: Any) -> Any:
        if isinstance(kw.get("schema"), StandIn):
            kw["schema"] = kw["schema"].schema_name
        return new_table.__func__(cls, *args, **kw)

    def valued(self: DefaultClause, arg: Any, *args: Any, **kw: Any) -> None:
        if isinstance(arg, StandIn):  # its name in a literal: an unknown value in exact SQL
            arg = str(arg)
        default_init(self, arg, *args, **kw)

    def labelled(self: Enum, *enums: Any, **kw: Any) -> None:
        if any(isinstance(e, StandIn) for e in enums):
            _UNKNOWN_LABELS.add(self)
        enum_init(self, *(str(e) if isinstance(e, StandIn) else e for e in enums), **kw)

    def label_of(self: Enum, value: Any) -> Any:  # the label a stood-in value made, above
        return enum_value(self, str(value) if isinstance(value, StandIn) else value)

    # its arguments named as String's: SQLAlchemy copies a type by what its __init__ names
    def collated(self: String, length: int | None = None, collation: Any = None) -> None:
        if isinstance(collation, StandIn):
            collation = collation.schema_name
        string_init(self, length, collation)

    Table._new = classmethod(named)  # type: ignore[method-assign, assignment]
    String.__init__ = collated  # type: ignore[method-assign]
    DefaultClause.__init__ = valued  # type: ignore[method-assign]
    Enum.__init__ = labelled  # type: ignore[method-assign]
    Enum._db_value_for_elem = label_of  # type: ignore[method-assign]
    try:
        yield
    finally:
        Table._new = new_table  # type: ignore[method-assign]
        String.__init__ = string_init  # type: ignore[method-assign]
        DefaultClause.__init__ = default_init  # type: ignore[method-assign]
        Enum.__init__ = enum_init  # type: ignore[method-assign]
        Enum._db_value_for_elem = enum_value  # type: ignore[method-assign]
