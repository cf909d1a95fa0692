"""The schema a history builds, replayed from its captured statements.

Running ``alembic upgrade head`` on a new database, revision k meets exactly the schema that
revisions 1..k-1 built, with no rows in it. The catalog is that schema, kept from the parsed
statements as capture produces them: tables and their columns, constraints, indexes,
sequences, enum types, views and schemas, each with the revision that made it.

Capture answers a migration's reflection (``sa.inspect(op.get_bind())``, ``has_table``,
``autoload_with=``) from it, so scripts that look before they leap run as they would on that
database; rules may ask it what a single file cannot tell.

Only what PostgreSQL itself would do is modelled; a statement the catalog does not know is
ignored, never an error. Names are (schema, name) pairs, ``public`` when unqualified.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from pglast import ast
from pglast.enums import AlterTableType, ConstrType, DropBehavior, NullTestType, ObjectType
from pglast.stream import RawStream

from migsafe.plpgsql import do_body
from migsafe.search_path import qualify, search_path_setting
from migsafe.sqltree import walk

DEFAULT_SCHEMA = "public"
Name = tuple[str, str]

_SERIAL = {"serial": "int4", "serial4": "int4", "bigserial": "int8", "serial8": "int8",
           "smallserial": "int2", "serial2": "int2"}  # fmt: skip
_KINDS = {
    ConstrType.CONSTR_PRIMARY: "primary key",
    ConstrType.CONSTR_UNIQUE: "unique",
    ConstrType.CONSTR_FOREIGN: "foreign key",
    ConstrType.CONSTR_CHECK: "check",
    ConstrType.CONSTR_EXCLUSION: "exclude",
}
# the constraints PostgreSQL builds an index for, named as the constraint
_INDEX_BACKED = ("primary key", "unique", "exclude")
# why the history says a table, index or column a statement names is not there
_DROPPED = "the history dropped it, and nothing made it again"
_NO_COLUMN = "the table the history made has no such column by then"
_NO_CONSTRAINT = "the table the history made has no constraint of that name by then"
_NAME_SUFFIX = {"primary key": "pkey", "unique": "key", "foreign key": "fkey", "check": "check",
                "exclude": "excl", "index": "idx"}  # fmt: skip


# the schema a type is rendered in whose module could not be imported (a stand-in's): what
# it is, and what it adds to its table (indico's PyIntEnum adds a CHECK), is not known
UNKNOWN_TYPE_SCHEMA = "migsafe_unknown"


@dataclass(frozen=True)
class Column:
    name: str
    type: ast.TypeName | None
    # None: not known; a column of a table the history never made, whose type a revision
    # changed, is known by its type alone (only ``Catalog.column`` gives such a column)
    nullable: bool | None = True
    default: str | None = None  # SQL text
    identity: bool = False

    @property
    def type_sql(self) -> str:
        return sql_text(self.type) if self.type is not None else "unknown"


@dataclass(frozen=True)
class Constraint:
    name: str
    kind: str  # primary key, unique, foreign key, check, exclude
    columns: tuple[str, ...] = ()
    referred: Name | None = None
    referred_columns: tuple[str, ...] = ()
    expression: str | None = None  # a CHECK's condition
    validated: bool = True
    not_null_column: str | None = None  # a CHECK (column IS NOT NULL) proves this column
    uses: tuple[str, ...] = ()  # the columns a CHECK reads: dropping one drops it (kadi)
    on_delete: str | None = None  # a foreign key's actions, as SQL (CASCADE, SET NULL, ...)
    on_update: str | None = None


@dataclass(frozen=True)
class Index:
    name: Name
    table: Name
    columns: tuple[str | None, ...]  # None where the element is an expression
    expressions: tuple[str, ...]  # every element as SQL
    unique: bool = False
    where: str | None = None
    using: str = "btree"  # its access method (gin, gist, ...)
    # each element's operator class, where one is named (``jsonb_path_ops``)
    opclasses: tuple[str | None, ...] = ()


@dataclass
class Table:
    name: Name
    columns: dict[str, Column] = field(default_factory=dict)
    constraints: dict[str, Constraint] = field(default_factory=dict)
    created_by: str | None = None  # the revision that created it
    # a table the history altered but never created (made by ``metadata.create_all()``, or
    # by another history): only what the history added to it is known
    partial: bool = False
    # the catalog that may change it in place (its ``_token``); shared with the catalog's
    # copies until one of them changes it, which then changes a copy of its own
    owner: object = field(default=None, repr=False, compare=False)

    def copy(self, owner: object) -> Table:
        return Table(
            self.name, dict(self.columns), dict(self.constraints), self.created_by, self.partial,
            owner,
        )  # fmt: skip

    @property
    def constraints_known(self) -> bool:
        """Its constraints are those the history made: it made the table, and no column of
        it has a type whose module could not be imported (a type may add a constraint)."""
        return not self.partial and not any(
            c.type is not None and c.type.names[0].sval == UNKNOWN_TYPE_SCHEMA
            for c in self.columns.values()
        )

    def in_primary_key(self, column: str) -> bool:
        """PostgreSQL keeps such a column NOT NULL: DROP NOT NULL on it fails."""
        return any(
            c.kind == "primary key" and column in c.columns for c in self.constraints.values()
        )


@dataclass
class Catalog:
    """Columns, constraints and indexes are immutable, so a copy shares them; tables are
    shared too until a catalog changes one (``_writable``): a check copies the catalog
    several times per revision, and copying each of a hundred tables every time was a
    fortieth of the check.

    ``exact`` says every revision replayed into it was captured to its end: then what it
    does not hold is not in the database either (a foreign key dropped by a revision whose
    upgrade() stopped early would still be here otherwise).
    """

    tables: dict[Name, Table] = field(default_factory=dict)
    views: dict[Name, str | None] = field(default_factory=dict)  # name -> created by
    indexes: dict[Name, Index] = field(default_factory=dict)
    sequences: set[Name] = field(default_factory=set)
    enums: dict[Name, list[str]] = field(default_factory=dict)
    # the other types the history made, each with its kind as pg_type.typtype says it:
    # "d" a domain, "c" a composite type, "r" a range
    types: dict[Name, str] = field(default_factory=dict)
    collations: set[Name] = field(default_factory=set)  # made by the history
    schemas: set[str] = field(default_factory=lambda: {DEFAULT_SCHEMA})
    # tables, views and indexes the history had and then dropped or renamed away: that one
    # is not there is what every database it migrated says, not only an empty one
    gone: set[Name] = field(default_factory=set)
    exact: bool = True
    # the search path a SET of the migrations left for the session (``search_path.py``);
    # empty: the default, where unqualified names are ``public``'s
    search_path: tuple[str, ...] = ()
    # tables (column None) and columns made, or made NULL or NOT NULL, since the last
    # revision not captured to its end: what such a revision did cannot have changed them
    settled: set[tuple[Name, str | None]] = field(default_factory=set)
    # the revisions without a parent replayed into it: from two on, histories that may run
    # on different databases (prefect 2's versions/postgresql and versions/sqlite) share it
    bases: int = 0
    # the nodes of statements that made what the catalog held already (a CREATE TABLE, a
    # CREATE INDEX, an ADD CONSTRAINT's constraint), kept by identity: told as they are
    # applied, and shared with every copy, so rules read it without building the schema
    made_again: dict[int, ast.Node] = field(default_factory=dict, repr=False, compare=False)
    # the same for statements that name, without IF EXISTS, what is not there on any database
    # the history migrated: a table or an index it made and dropped, a column a table it
    # made whole does not have; each with what it names
    missing: dict[int, tuple[ast.Node, list[tuple[str, str]]]] = field(
        default_factory=dict, repr=False, compare=False
    )
    _applying: ast.Node | None = field(default=None, repr=False, compare=False)
    _token: object = field(default_factory=object, repr=False, compare=False)

    def copy(self) -> Catalog:
        self._token = object()  # the tables it shares from now on are no longer its own
        return Catalog(
            tables=dict(self.tables),
            views=dict(self.views),
            indexes=dict(self.indexes),
            sequences=set(self.sequences),
            enums={name: list(labels) for name, labels in self.enums.items()},
            types=dict(self.types),
            collations=set(self.collations),
            schemas=set(self.schemas),
            gone=set(self.gone),
            exact=self.exact,
            search_path=self.search_path,
            settled=set(self.settled),
            bases=self.bases,
            made_again=self.made_again,
            missing=self.missing,
        )

    def end_revision(self, exact: bool, base: bool = False) -> None:
        """A revision's statements are all applied; ``exact``: it was captured to its end.
        If not, the schema is exact no more, and nothing is settled since. ``base``: it has
        no parent."""
        self.exact &= exact
        self.bases += base
        if not exact:
            self.settled.clear()

    def _settle(self, name: Name, column: str | None) -> None:
        """Made (or made NULL or NOT NULL) now: known for certain from here on. Kept only
        once the schema is not exact, when it is the only way to tell."""
        if not self.exact:
            self.settled.add((name, column))

    def nullability_known(self, name: Name, column: str) -> bool:
        """Whether the column's NULL or NOT NULL is what the catalog says for certain: every
        revision was captured to its end, or the table or the column was made (or its
        nullability set) after the last one that was not (fractal-server's columns added
        long after such a revision)."""
        return self.exact or (name, None) in self.settled or (name, column) in self.settled

    def apply(self, node: ast.Node, revision: str | None = None) -> None:
        """Change the catalog as PostgreSQL would run ``node``; statements it does not
        model (or that name objects it does not know) change nothing. Under a search path
        a SET chose, the relations ``node`` names without a schema are given theirs."""
        setting = search_path_setting(node)
        if setting is not None:
            self.search_path = setting
            return
        if self.search_path:
            qualify(node, self.search_path, self.schemas, self._has_relation)
        self._applying = node
        handler = _HANDLERS.get(type(node))
        if handler is not None:  # an object made outside the history, a form not modelled:
            with contextlib.suppress(KeyError, AttributeError, IndexError, TypeError, ValueError):
                handler(self, node, revision)

    def missing_for(self, node: ast.Node | None) -> list[tuple[str, str]]:
        """What ``node`` names that is not there (``missing``), each as a message says it,
        with why the history says so."""
        if node is None:
            return []
        found = self.missing.get(id(node))
        return found[1] if found is not None and found[0] is node else []

    def _made_again(self, node: ast.Node) -> None:
        """``node`` makes what the schema holds already: said only of a schema known whole
        (after a statement of unknown effect, it may be gone)."""
        if self.exact:
            self.made_again[id(node)] = node

    def unknown_change(self) -> None:
        """A statement changed the schema in ways not known (a DO block running dynamic
        SQL, a function that runs DDL): from here on the schema is not known whole."""
        self.exact = False
        self.settled.clear()

    def _not_there(self, what: str, why: str = _DROPPED) -> None:
        """The statement being applied names ``what``, which is not there, for ``why``:
        said only of a schema known whole."""
        node = self._applying
        if node is not None and self.exact:
            named = self.missing.setdefault(id(node), (node, []))[1]
            if (what, why) not in named:  # a statement replayed into a copy names it again
                named.append((what, why))

    def made_again_by(self, node: ast.Node | None) -> bool:
        """``node`` made a table, an index or a constraint the schema held already."""
        return node is not None and self.made_again.get(id(node)) is node

    def makes_again(self, node: ast.Node | None) -> bool:
        """The statement ``node``, or a subcommand of it (an ALTER TABLE's ADD COLUMN or ADD
        CONSTRAINT), made what the schema held already."""
        if self.made_again_by(node):
            return True
        commands = node.cmds if isinstance(node, ast.AlterTableStmt) else None
        return any(self.made_again_by(getattr(c, "def_", None)) for c in commands or ())

    def _has_relation(self, name: Name) -> bool:
        return (
            name in self.tables or name in self.views or name in self.indexes
            or name in self.sequences
        )  # fmt: skip

    def _writable(self, name: Name) -> Table:
        """The table ``name``, this catalog's own to change in place."""
        table = self.tables[name]
        if table.owner is not self._token:
            table = self.tables[name] = table.copy(self._token)
        return table

    def _new_table(self, name: Name, **values: object) -> Table:
        table = self.tables[name] = Table(name, owner=self._token, **values)
        return table

    def made_unseen(self, name: Name, revision: str | None) -> None:
        """A table a revision made with SQL that could not be rendered or parsed: there,
        with its columns unknown (a partial table, as one the history only altered)."""
        if name not in self.tables:
            self._new_table(name, partial=True, created_by=revision)

    def dropped(self, name: Name) -> bool:
        """A table the history dropped and has not made again by now, in a schema known
        whole (else a revision not checked to its end may have: jupyterhub drops
        ``api_tokens``, and its application makes it again on start)."""
        return self.exact and name in self.gone and name not in self.tables

    def table(self, name: Name) -> Table | None:
        """The table, when the history shows all of it (not one it only altered)."""
        table = self.tables.get(name)
        return table if table is not None and not table.partial else None

    def column(self, name: Name, column: str) -> Column | None:
        """A column as the history made it, also of a table it only altered (``partial``)."""
        table = self.tables.get(name)
        return table.columns.get(column) if table is not None else None

    def foreign_keys_to(self, table: Name) -> list[tuple[Table, str, Constraint]]:
        """The foreign keys that refer to ``table``, in any table (itself too), with the
        table holding each and its key there.

        PostgreSQL keeps them pointing at the same table and columns through a rename (they
        hold its identity, not its name), a drop removes them (with CASCADE; without it the
        drop fails), and reflecting a table follows them to the tables they refer to.
        """
        return [
            (referring, key, constraint)
            for referring in self.tables.values()
            for key, constraint in referring.constraints.items()
            if constraint.kind == "foreign key" and constraint.referred == table
        ]

    def certain(self, name: Name, revision: str | None) -> bool:
        """What it holds of the table is in the database for sure: every revision before
        was captured to its end, or ``revision`` (the one being judged) made the table, so
        no revision before could have changed it."""
        table = self.tables.get(name)
        return (
            table is not None and not table.partial and (self.exact or table.created_by == revision)
        )

    def chosen_name(self, table: Name, columns: tuple[str, ...], kind: str) -> str:
        """The name PostgreSQL gives a constraint or index created on ``table`` without one:
        the default, else the first of ``_key1``, ``_key2``, … that no object of the schema
        has (ChooseRelationName, ChooseConstraintName): an index and the index of a key may
        not share a relation's name, a key no other constraint's. mistral's second unnamed
        UNIQUE on the same leading columns is ``..._key1``."""
        schema = table[0]
        taken: set[str] = set()
        if kind in ("index", "primary key", "unique", "exclude"):
            relations = (*self.tables, *self.views, *self.indexes, *self.sequences)
            taken.update(name for owner, name in relations if owner == schema)
        if kind != "index":
            for key, other in self.tables.items():
                if key[0] == schema:
                    taken.update(other.constraints)
        for attempt in itertools.count():
            name = default_constraint_name(table[1], columns, kind, attempt)
            if name not in taken:
                return name
        raise AssertionError("unreachable: itertools.count() does not end")

    def indexes_of(self, table: Name) -> Iterator[Index]:
        return (index for index in self.indexes.values() if index.table == table)

    def _add_constraint(self, table: Table, node: ast.Constraint, column: str | None) -> None:
        kind = _KINDS.get(node.contype)
        if kind is None:
            return
        columns = tuple(_strings(node.keys or node.fk_attrs)) or ((column,) if column else ())
        used = self.indexes.get((table.name[0], node.indexname)) if node.indexname else None
        if used is not None and not columns:  # PRIMARY KEY USING INDEX: the index's columns
            columns = used.columns
        name = node.conname or (  # USING INDEX: PostgreSQL names it as the index
            node.indexname
            if used is not None
            else self.chosen_name(table.name, named_after(node, column), kind)
        )
        if node.conname and used is None and kind in _INDEX_BACKED:
            taken = self.indexes.get((table.name[0], name))
            if (taken is not None and taken.table != table.name) or (
                self._has_relation((table.name[0], name)) and taken is None
            ):  # its index takes a relation's name: monasca's tenant_name, in two tables
                self._made_again(node)
        constraint = Constraint(name, kind, columns, validated=not node.skip_validation)
        if kind == "foreign key":
            referred = qualified_name(node.pktable)
            if self.dropped(referred):  # aim's downgrade
                self._not_there(f"table {_relation_sql(referred)}")  # refers to it too soon
            if referred not in self.tables and referred != table.name:
                # a key refers to it, so it exists: made outside the history (vmware-nsx's
                # keys to neutron's tables), with columns not known
                self._new_table(referred, partial=True)
            constraint = replace(constraint, referred=referred,
                                 referred_columns=tuple(_strings(node.pk_attrs)),
                                 on_delete=_FK_ACTIONS.get(node.fk_del_action),
                                 on_update=_FK_ACTIONS.get(node.fk_upd_action))  # fmt: skip
        elif kind == "check":
            constraint = replace(constraint, expression=sql_text(node.raw_expr),
                                 not_null_column=not_null_column(node),
                                 uses=_columns_read(node.raw_expr, column))  # fmt: skip
        table.constraints[name] = constraint
        if kind in ("primary key", "unique") or node.indexname:
            if used is not None and used.name[1] != name:  # renamed as the constraint
                del self.indexes[used.name]
            index_name = name if used is not None else (node.indexname or name)
            self.indexes[(table.name[0], index_name)] = Index(
                (table.name[0], index_name), table.name, columns, columns, unique=True
            )
        if kind == "primary key":
            for column_name in columns:
                if column_name in table.columns:
                    _change(table, column_name, nullable=False)
                elif table.partial:  # a column made outside the history: NOT NULL now
                    table.columns[column_name] = Column(column_name, None, nullable=False)

    def _add_column(self, table: Table, node: ast.ColumnDef) -> None:
        type_node = node.typeName
        values: dict = {"type": type_node}
        serial = _SERIAL.get(type_node.names[-1].sval) if type_node is not None else None
        if serial is not None:
            sequence = (table.name[0], f"{table.name[1]}_{node.colname}_seq")
            self.sequences.add(sequence)
            values["type"] = ast.TypeName(names=(ast.String("pg_catalog"), ast.String(serial)))
            values.update(nullable=False, default=f"nextval('{sequence[1]}'::regclass)")
        for constraint in node.constraints or ():
            if constraint.contype == ConstrType.CONSTR_NOTNULL:
                values["nullable"] = False
            elif constraint.contype == ConstrType.CONSTR_DEFAULT:
                values["default"] = sql_text(constraint.raw_expr)
            elif constraint.contype == ConstrType.CONSTR_IDENTITY:
                values.update(identity=True, nullable=False)
        table.columns[node.colname] = Column(node.colname, **values)
        self._settle(table.name, node.colname)
        for constraint in node.constraints or ():
            self._add_constraint(table, constraint, node.colname)


def _columns_read(expression: ast.Node | None, column: str | None) -> tuple[str, ...]:
    """The columns a CHECK's condition names (and the one it is declared on)."""
    named = [
        ref.fields[-1].sval
        for ref in walk(expression)
        if isinstance(ref, ast.ColumnRef) and isinstance(ref.fields[-1], ast.String)
    ]
    return tuple(dict.fromkeys([*([column] if column else []), *named]))


def unnamed_constraint_name(table: str, constraint: ast.Constraint, column: str | None) -> str:
    """The name PostgreSQL gives ``constraint`` (declared on ``column``, for a column
    constraint) of ``table`` when no other object has it (else ``Catalog.chosen_name``)."""
    kind = _KINDS[constraint.contype]
    return default_constraint_name(table, named_after(constraint, column), kind)


def named_after(constraint: ast.Constraint, column: str | None) -> tuple[str, ...]:
    """The columns PostgreSQL names a constraint created without a name after: a CHECK's, the
    one column its condition reads, whichever column it is declared on (else the table's
    name alone: ``orders_check``); an EXCLUDE's, its elements' columns; a key's, its columns
    (a column constraint's, that column)."""
    if constraint.contype == ConstrType.CONSTR_CHECK:
        read = _columns_read(constraint.raw_expr, None)
        return read if len(read) == 1 else ()
    if constraint.contype == ConstrType.CONSTR_EXCLUSION:
        elements = (e[0] for e in constraint.exclusions or ())
        return tuple(e.name for e in elements if getattr(e, "name", None))
    keys = tuple(_strings(constraint.keys or constraint.fk_attrs))
    return keys or ((column,) if column else ())


def _reads_column(index: Index, column: str) -> bool:
    """An expression of the index, or its WHERE, names the column (``lower(email)``)."""
    texts = [e for e, c in zip(index.expressions, index.columns, strict=False) if c is None]
    texts += [index.where] if index.where else []
    pattern = re.compile(rf'(?<![\w"]){re.escape(column)}(?![\w"])|"{re.escape(column)}"')
    return any(pattern.search(text) for text in texts)


def _change(table: Table, column: str, **values: object) -> None:
    table.columns[column] = replace(table.columns[column], **values)


def not_null_column(constraint: ast.Node | None) -> str | None:
    """The column of a ``CHECK (column IS NOT NULL)``, the constraint that lets PostgreSQL 12+
    skip SET NOT NULL's scan; None for any other constraint."""
    if not isinstance(constraint, ast.Constraint):
        return None
    if constraint.contype != ConstrType.CONSTR_CHECK:
        return None
    test = constraint.raw_expr
    if (
        isinstance(test, ast.NullTest)
        and test.nulltesttype == NullTestType.IS_NOT_NULL
        and isinstance(test.arg, ast.ColumnRef)
        and isinstance(test.arg.fields[-1], ast.String)
    ):
        return test.arg.fields[-1].sval
    return None


def qualified_name(relation: ast.RangeVar | None) -> Name:
    """``(schema, name)`` of a table reference; ``public`` when unqualified."""
    assert relation is not None
    return (relation.schemaname or DEFAULT_SCHEMA, relation.relname)


BATCH_COPY = "_alembic_tmp_"  # the prefix of the table Alembic's batch mode copies into


def is_bookkeeping_table(name: str) -> bool:
    """Alembic's version table (or a project's variant of its name), sqlalchemy-migrate's,
    which histories often drop when they take over, or a table Alembic's batch mode copies
    into (``_alembic_tmp_tag``, which open-webui drops if a failed run left it): never the
    application's."""
    return "alembic_version" in name or name == "migrate_version" or name.startswith(BATCH_COPY)


def sql_text(node: ast.Node | None) -> str | None:
    """``node`` as SQL, as pglast prints it. Most are constants (a server default, ``'0'``),
    written here as pglast writes them: its printer walks the whole tree twice before it
    prints a word, and a long history hands it hundreds of defaults."""
    if node is None:
        return None
    if isinstance(node, ast.A_Const):
        if node.isnull:
            return "NULL"
        written = _CONSTANTS.get(type(node.val))
        if written is not None:
            return written(node.val)
    return RawStream()(node)


_CONSTANTS = {
    ast.String: lambda value: "'{}'".format(value.sval.replace("'", "''")),
    ast.Integer: lambda value: str(value.ival),
    ast.Float: lambda value: value.fval,
    ast.Boolean: lambda value: "TRUE" if value.boolval else "FALSE",
}


def _strings(nodes: Iterable[ast.String] | None) -> Iterator[str]:
    return (n.sval for n in nodes or () if isinstance(n, ast.String))


def dotted_name(names: Iterable[ast.String]) -> Name:
    """A type's or object's name as the catalog keys it (``public`` when unqualified)."""
    parts = list(_strings(names))
    return (parts[0], parts[1]) if len(parts) > 1 else (DEFAULT_SCHEMA, parts[0])


# a foreign key's ON DELETE / ON UPDATE as pglast gives it ('a': NO ACTION, the default)
_FK_ACTIONS = {"c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT", "r": "RESTRICT"}


def default_constraint_name(
    table: str, columns: tuple[str, ...], kind: str, attempt: int = 0
) -> str:
    """The name PostgreSQL gives a constraint (or an index) created without one, where no
    other object has it (else see ``Catalog.chosen_name``): what later revisions, and the
    recipes for an unnamed one, call it. ``attempt`` n > 0 is the name with n after its
    label (``_key1``), PostgreSQL's next try when the name is taken."""
    suffix = _NAME_SUFFIX[kind] + (str(attempt) if attempt else "")
    if kind == "primary key" or not columns:
        return object_name(table, None, suffix)
    return object_name(table, "_".join(columns), suffix)


def object_name(name1: str, name2: str | None, label: str) -> str:
    """PostgreSQL's makeObjectName: ``name1_name2_label``, the longer of the two names
    shortened, a byte at a time, until the whole fits in 63 bytes (group-based-policy's
    ``..._allocated_add_key``, where cutting the whole name would lose ``_key``)."""
    available = 63 - len(label.encode()) - 1 - (1 if name2 else 0)
    first, second = len(name1.encode()), len((name2 or "").encode())
    while first + second > available:
        if first > second:
            first -= 1
        else:
            second -= 1
    parts = [_clipped(name1, first), *([_clipped(name2, second)] if name2 else []), label]
    return "_".join(parts)


def _clipped(name: str, size: int) -> str:
    """The first ``size`` bytes of ``name``, never half a character."""
    return name.encode()[:size].decode("utf-8", errors="ignore")


def _create_table(catalog: Catalog, node: ast.CreateStmt, revision: str | None) -> None:
    name = qualified_name(node.relation)
    if name in catalog.tables and node.if_not_exists:
        return
    if name in catalog.tables and not catalog.tables[name].partial:
        catalog._made_again(node)
    table = catalog._new_table(name, created_by=revision)
    catalog._settle(name, None)
    for element in node.tableElts or ():
        if isinstance(element, ast.ColumnDef):
            catalog._add_column(table, element)
    for element in node.tableElts or ():
        if isinstance(element, ast.Constraint):
            catalog._add_constraint(table, element, None)
    _one_index_per_key(catalog, table)


def _one_index_per_key(catalog: Catalog, table: Table) -> None:
    """PostgreSQL makes one constraint, with one index, of the keys a CREATE TABLE declares
    on the same columns, the primary key's first (transformIndexConstraints): nbgrader's
    ``unique=True`` on its primary key column, aim's UNIQUE written twice."""
    keys = [c for c in table.constraints.values() if c.kind in ("primary key", "unique")]
    seen: set[tuple[str, ...]] = set()
    for key in sorted(keys, key=lambda c: c.kind != "primary key"):
        if key.columns in seen:
            del table.constraints[key.name]
            catalog.indexes.pop((table.name[0], key.name), None)
        seen.add(key.columns)


def _create_table_as(catalog: Catalog, node: ast.CreateTableAsStmt, revision: str | None) -> None:
    name = qualified_name(node.into.rel)
    if node.objtype == ObjectType.OBJECT_MATVIEW:
        catalog.views[name] = revision
    else:  # its columns are the query's: not known
        catalog._new_table(name, created_by=revision, partial=True)


def _alter_table(catalog: Catalog, node: ast.AlterTableStmt, revision: str | None) -> None:
    if node.objtype != ObjectType.OBJECT_TABLE:
        return
    name = qualified_name(node.relation)
    if name in catalog.tables:
        table = catalog._writable(name)
    elif node.missing_ok:
        return
    else:  # it exists, or the statement would fail: what it adds is known
        if name in catalog.gone:
            catalog._not_there(f"table {_relation_sql(name)}")
        table = catalog._new_table(name, partial=True)
    for command in node.cmds or ():
        if (
            command.subtype in _COLUMN_COMMANDS and not table.partial
            and command.name not in table.columns and not command.missing_ok
        ):  # fmt: skip
            catalog._not_there(f'column "{command.name}" of {_relation_sql(name)}', _NO_COLUMN)
        _ALTER_COMMANDS.get(command.subtype, lambda *args: None)(catalog, table, command)


# the commands on a column of the table, which fail when it has no such column
_COLUMN_COMMANDS = (
    AlterTableType.AT_DropColumn,
    AlterTableType.AT_AlterColumnType,
    AlterTableType.AT_SetNotNull,
    AlterTableType.AT_DropNotNull,
    AlterTableType.AT_ColumnDefault,
)


def _in_another_case(catalog: Catalog, name: Name) -> Name | None:
    """The table the history made whose name differs from ``name`` in case alone, when it
    made none called ``name``."""
    return next(
        (
            key for key in catalog.tables
            if key[0] == name[0] and key[1] != name[1] and key[1].lower() == name[1]
        ),
        None,
    )  # fmt: skip


def _relation_sql(name: Name) -> str:
    """A table's or an index's name as a message says it (``public`` left out)."""
    schema, relation = name
    qualified = (schema, relation) if schema != DEFAULT_SCHEMA else (relation,)
    return ".".join(f'"{part}"' for part in qualified)


def _add_column_command(catalog: Catalog, table: Table, command: ast.AlterTableCmd) -> None:
    if command.def_.colname in table.columns:
        if command.missing_ok:
            return
        # 'column "x" of relation "t" already exists': a table the history only altered
        # holds the columns it added too (timesketch adds view.query_dsl in two revisions)
        catalog._made_again(command.def_)
    catalog._add_column(table, command.def_)


def _drop_column(catalog: Catalog, table: Table, command: ast.AlterTableCmd) -> None:
    table.columns.pop(command.name, None)
    for key, constraint in list(table.constraints.items()):
        if command.name in constraint.columns or command.name in constraint.uses:
            del table.constraints[key]  # PostgreSQL drops the constraints involving it
    for referring, key, constraint in catalog.foreign_keys_to(table.name):
        if command.name in constraint.referred_columns:
            del catalog._writable(referring.name).constraints[key]
    for key, index in list(catalog.indexes.items()):
        if index.table == table.name and (
            command.name in index.columns or _reads_column(index, command.name)
        ):
            del catalog.indexes[key]  # PostgreSQL drops the indexes using it
            catalog.gone.add(key)  # anitya drops the column, then its index: that fails


def _alter_type(catalog: Catalog, table: Table, command: ast.AlterTableCmd) -> None:
    """A column of a table the history never made takes its type from here on (mailman
    widens a column twice: the second change starts from the first's type)."""
    if command.name not in table.columns and table.partial:
        table.columns[command.name] = Column(command.name, command.def_.typeName, nullable=None)
    else:
        _change(table, command.name, type=command.def_.typeName)


def _set_not_null(catalog: Catalog, table: Table, command: ast.AlterTableCmd) -> None:
    _set_nullable(table, command.name, False)
    catalog._settle(table.name, command.name)


def _drop_not_null(catalog: Catalog, table: Table, command: ast.AlterTableCmd) -> None:
    """PostgreSQL refuses it on a column of the primary key: the column stays NOT NULL."""
    if not table.in_primary_key(command.name):
        _set_nullable(table, command.name, True)
        catalog._settle(table.name, command.name)


def _set_nullable(table: Table, column: str, nullable: bool) -> None:
    """A column of a table the history never made is known by its NULL from here on, its
    type not (fmn's upgrade drops NOT NULL, its downgrade sets it back)."""
    if column not in table.columns and table.partial:
        table.columns[column] = Column(column, None, nullable=nullable)
    else:
        _change(table, column, nullable=nullable)


def _column_default(catalog: Catalog, table: Table, command: ast.AlterTableCmd) -> None:
    _change(table, command.name, default=sql_text(command.def_))


def _add_constraint_command(catalog: Catalog, table: Table, command: ast.AlterTableCmd) -> None:
    name = getattr(command.def_, "conname", None)
    if name and name in table.constraints and not table.partial:
        catalog._made_again(command.def_)
    catalog._add_constraint(table, command.def_, None)


def _drop_constraint(catalog: Catalog, table: Table, command: ast.AlterTableCmd) -> None:
    """With CASCADE, the foreign keys that depend on a dropped key's index go too (airflow's
    downgrade drops ``task_instance_composite_key`` CASCADE, then adds the keys back)."""
    dropped = table.constraints.pop(command.name, None)
    in_another_case = any(name.lower() == command.name.lower() for name in table.constraints)
    if (
        dropped is None
        and table.constraints_known
        and not command.missing_ok
        and not in_another_case
    ):
        # group-based-policy drops MySQL's "PRIMARY", which PostgreSQL names <table>_pkey. A
        # name the table has in another case is left alone: the application may have named
        # it so (rucio's event listener makes its keys' names upper case, "CONFIGS_PK")
        catalog._not_there(
            f'constraint "{command.name}" of {_relation_sql(table.name)}', _NO_CONSTRAINT
        )
    catalog.indexes.pop((table.name[0], command.name), None)
    if (
        dropped is not None and command.behavior == DropBehavior.DROP_CASCADE
        and dropped.kind in _INDEX_BACKED
    ):  # fmt: skip
        for referring, key, constraint in catalog.foreign_keys_to(table.name):
            if set(constraint.referred_columns) == set(dropped.columns):
                del catalog._writable(referring.name).constraints[key]


def _validate_constraint(catalog: Catalog, table: Table, command: ast.AlterTableCmd) -> None:
    table.constraints[command.name] = replace(table.constraints[command.name], validated=True)


_ALTER_COMMANDS = {
    AlterTableType.AT_AddColumn: _add_column_command,
    AlterTableType.AT_DropColumn: _drop_column,
    AlterTableType.AT_AlterColumnType: _alter_type,
    AlterTableType.AT_SetNotNull: _set_not_null,
    AlterTableType.AT_DropNotNull: _drop_not_null,
    AlterTableType.AT_ColumnDefault: _column_default,
    AlterTableType.AT_AddConstraint: _add_constraint_command,
    AlterTableType.AT_DropConstraint: _drop_constraint,
    AlterTableType.AT_ValidateConstraint: _validate_constraint,
}


def _create_index(catalog: Catalog, node: ast.IndexStmt, revision: str | None) -> None:
    table = qualified_name(node.relation)
    elements = list(node.indexParams or ())
    columns = tuple(e.name if e.name else None for e in elements)
    expressions = tuple(e.name or sql_text(e.expr) or "" for e in elements)
    named = tuple(c or "expr" for c in columns)
    name = node.idxname or catalog.chosen_name(table, named, "index")
    key = (table[0], name)
    if key in catalog.indexes and node.if_not_exists:
        return
    if key in catalog.indexes:
        catalog._made_again(node)
    known = catalog.tables.get(table)
    if known is None and table not in catalog.views:
        if table in catalog.gone:
            catalog._not_there(f"table {_relation_sql(table)}")
        # it exists, or the statement would fail: made outside the history (lbaas indexes
        # neutron's vips), there to reflect, with its columns not known
        catalog._new_table(table, partial=True)
    elif known is not None and not known.partial:
        for column in columns:
            if column is not None and column not in known.columns:
                catalog._not_there(f'column "{column}" of {_relation_sql(table)}', _NO_COLUMN)
    opclasses = tuple(".".join(n.sval for n in e.opclass) if e.opclass else None for e in elements)
    catalog.indexes[key] = Index(
        key, table, columns, expressions, bool(node.unique), sql_text(node.whereClause),
        node.accessMethod or "btree", opclasses,
    )  # fmt: skip


def _rename(catalog: Catalog, node: ast.RenameStmt, revision: str | None) -> None:
    kind = node.renameType
    if kind in (ObjectType.OBJECT_TABLE, ObjectType.OBJECT_VIEW, ObjectType.OBJECT_MATVIEW):
        old = qualified_name(node.relation)
        new = (old[0], node.newname)
        if catalog._has_relation(new) and new != old:  # flexmeasures' downgrade renames two
            catalog._made_again(node)  # tables to "bvp_users"
        if old in catalog.tables or old in catalog.views:
            catalog.gone.add(old)
        elif old in catalog.gone and not node.missing_ok:  # fidesops' downgrade
            catalog._not_there(f"table {_relation_sql(old)}")
        if old in catalog.tables:
            table = catalog._writable(old)
            del catalog.tables[old]
            table.name = new
            catalog.settled = {(new if n == old else n, c) for n, c in catalog.settled}
            catalog.tables[new] = table
            for key, index in list(catalog.indexes.items()):
                if index.table == old:
                    catalog.indexes[key] = replace(index, table=new)
            for referring, key, key_constraint in catalog.foreign_keys_to(old):
                writable = catalog._writable(referring.name)
                writable.constraints[key] = replace(key_constraint, referred=new)
        elif old in catalog.views:
            catalog.views[new] = catalog.views.pop(old)
    elif kind == ObjectType.OBJECT_INDEX:
        old = qualified_name(node.relation)
        if catalog._has_relation((old[0], node.newname)) and node.newname != old[1]:
            catalog._made_again(node)
        if old not in catalog.indexes and old in catalog.gone and not node.missing_ok:
            catalog._not_there(f"index {_relation_sql(old)}")
        index = catalog.indexes.pop(old)
        catalog.gone.add(old)
        catalog.indexes[(old[0], node.newname)] = replace(index, name=(old[0], node.newname))
        owner = catalog.tables.get(index.table)
        if owner is not None and old[1] in owner.constraints:  # the key it backs: renamed
            _rename_constraint(catalog._writable(index.table), old[1], node.newname)
    elif kind == ObjectType.OBJECT_COLUMN:
        table = catalog._writable(qualified_name(node.relation))
        if not table.partial and node.subname not in table.columns and not node.missing_ok:
            catalog._not_there(
                f'column "{node.subname}" of {_relation_sql(table.name)}', _NO_COLUMN
            )
        _rename_column(catalog, table, node)
    elif kind == ObjectType.OBJECT_TYPE:
        _rename_type(catalog, dotted_name(node.object), node.newname)
    elif kind == ObjectType.OBJECT_TABCONSTRAINT:
        table = catalog._writable(qualified_name(node.relation))
        _rename_constraint(table, node.subname, node.newname)
        index = catalog.indexes.pop((table.name[0], node.subname), None)
        if index is not None:  # a key's index takes the key's new name
            catalog.indexes[(table.name[0], node.newname)] = replace(
                index, name=(table.name[0], node.newname)
            )


def _rename_constraint(table: Table, old: str, new: str) -> None:
    constraint = table.constraints.pop(old)
    table.constraints[new] = replace(constraint, name=new)


def _rename_type(catalog: Catalog, old: Name, new_name: str) -> None:
    """``ALTER TYPE status RENAME TO old_status``: the columns of that type have it under its
    new name (mage-ai and gnocchi rename an enum so as to make a new one in its place)."""
    new = (old[0], new_name)
    if old in catalog.enums:
        catalog.enums[new] = catalog.enums.pop(old)
    for table_name, table in list(catalog.tables.items()):
        for name, column in list(table.columns.items()):
            if column.type is not None and dotted_name(column.type.names) == old:
                renamed = copy.copy(column.type)
                qualified = len(column.type.names) > 1
                renamed.names = (
                    (ast.String(new[0]), ast.String(new_name)) if qualified
                    else (ast.String(new_name),)
                )  # fmt: skip
                catalog._writable(table_name).columns[name] = replace(column, type=renamed)


def _rename_column(catalog: Catalog, table: Table, node: ast.RenameStmt) -> None:
    old, new = node.subname, node.newname
    table.columns = {
        (new if name == old else name): (replace(c, name=new) if name == old else c)
        for name, c in table.columns.items()
    }  # keeps the column's position

    def renamed(columns: tuple) -> tuple:
        return tuple(new if column == old else column for column in columns)

    for key, constraint in table.constraints.items():
        table.constraints[key] = replace(
            constraint, columns=renamed(constraint.columns), uses=renamed(constraint.uses)
        )
    for key, index in list(catalog.indexes.items()):
        if index.table == table.name:
            columns = renamed(index.columns)
            expressions = tuple(c or e for c, e in zip(columns, index.expressions, strict=True))
            catalog.indexes[key] = replace(index, columns=columns, expressions=expressions)
    for referring, key, key_constraint in catalog.foreign_keys_to(table.name):
        columns = renamed(key_constraint.referred_columns)
        writable = catalog._writable(referring.name)
        writable.constraints[key] = replace(key_constraint, referred_columns=columns)


def _drop(catalog: Catalog, node: ast.DropStmt, revision: str | None) -> None:
    for obj in node.objects or ():
        if node.removeType == ObjectType.OBJECT_SCHEMA:
            catalog.schemas.discard(obj.sval)
            continue
        names = obj.names if isinstance(obj, ast.TypeName) else obj
        name = dotted_name(names)
        if node.removeType == ObjectType.OBJECT_TABLE:
            if catalog.tables.pop(name, None) is not None:
                catalog.gone.add(name)
            elif name in catalog.gone and not node.missing_ok:
                catalog._not_there(f"table {_relation_sql(name)}")
            elif not node.missing_ok and (made := _in_another_case(catalog, name)):
                catalog._not_there(  # zaqar made "PoolGroup", and drops PoolGroup
                    f"table {_relation_sql(name)}",
                    f"the history made {_relation_sql(made)}, and a name not quoted is "
                    "folded to lower case: quote it",
                )
            for key in [k for k, index in catalog.indexes.items() if index.table == name]:
                del catalog.indexes[key]
                catalog.gone.add(key)  # buildbot drops a table, then an index of it
            for referring, key, _ in catalog.foreign_keys_to(name):
                del catalog._writable(referring.name).constraints[key]
        elif node.removeType == ObjectType.OBJECT_INDEX:
            if catalog.indexes.pop(name, None) is not None:
                catalog.gone.add(name)
            elif name in catalog.gone and not node.missing_ok:
                catalog._not_there(f"index {_relation_sql(name)}")
        elif node.removeType in (ObjectType.OBJECT_VIEW, ObjectType.OBJECT_MATVIEW):
            if name in catalog.views:
                catalog.gone.add(name)
                del catalog.views[name]
            for key in [k for k, index in catalog.indexes.items() if index.table == name]:
                del catalog.indexes[key]  # a materialized view's indexes go with it (taxhub)
        elif node.removeType == ObjectType.OBJECT_SEQUENCE:
            catalog.sequences.discard(name)
        elif node.removeType in (ObjectType.OBJECT_TYPE, ObjectType.OBJECT_DOMAIN):
            catalog.enums.pop(name, None)
            catalog.types.pop(name, None)
        elif node.removeType == ObjectType.OBJECT_COLLATION:
            catalog.collations.discard(name)


def _define(catalog: Catalog, node: ast.DefineStmt, revision: str | None) -> None:
    """CREATE COLLATION (quetz makes ``nocase`` for its case-insensitive names)."""
    if node.kind == ObjectType.OBJECT_COLLATION:
        catalog.collations.add(dotted_name(node.defnames))


def _create_domain(catalog: Catalog, node: ast.CreateDomainStmt, revision: str | None) -> None:
    catalog.types[dotted_name(node.domainname)] = "d"


def _create_composite(catalog: Catalog, node: ast.CompositeTypeStmt, revision: str | None) -> None:
    catalog.types[qualified_name(node.typevar)] = "c"


def _create_range(catalog: Catalog, node: ast.CreateRangeStmt, revision: str | None) -> None:
    catalog.types[dotted_name(node.typeName)] = "r"


def _create_enum(catalog: Catalog, node: ast.CreateEnumStmt, revision: str | None) -> None:
    name = dotted_name(node.typeName)
    if name in catalog.enums:  # dstack's create_table() with an sa.Enum made before
        catalog._made_again(node)
        if catalog.exact:  # PostgreSQL refuses it: the type keeps its labels (networking-
            return  # odl makes "state" again with two of its four)
    catalog.enums[name] = list(_strings(node.vals))


def _alter_enum(catalog: Catalog, node: ast.AlterEnumStmt, revision: str | None) -> None:
    labels = catalog.enums[dotted_name(node.typeName)]
    if node.oldVal:  # RENAME VALUE
        labels[labels.index(node.oldVal)] = node.newVal
    elif node.newVal not in labels:
        if node.newValNeighbor in labels:
            at = labels.index(node.newValNeighbor) + (1 if node.newValIsAfter else 0)
            labels.insert(at, node.newVal)
        else:  # no neighbour, or one the catalog does not know (tiled read the labels)
            labels.append(node.newVal)


def _create_sequence(catalog: Catalog, node: ast.CreateSeqStmt, revision: str | None) -> None:
    catalog.sequences.add(qualified_name(node.sequence))


def _create_view(catalog: Catalog, node: ast.ViewStmt, revision: str | None) -> None:
    catalog.views[qualified_name(node.view)] = revision


def _create_schema(catalog: Catalog, node: ast.CreateSchemaStmt, revision: str | None) -> None:
    catalog.schemas.add(node.schemaname)


# what a DO block may make: made once its block has run (guarded by IF NOT EXISTS or an
# exception handler, which is why it is in a DO block), whichever branch made it
_MADE_IN_DO_BLOCKS = (
    ast.CreateStmt, ast.CreateEnumStmt, ast.CreateSeqStmt, ast.CreateSchemaStmt, ast.ViewStmt,
    ast.AlterEnumStmt,
)  # fmt: skip


def _do(catalog: Catalog, node: ast.DoStmt, revision: str | None) -> None:
    """Each CREATE of the block as if IF NOT EXISTS: the block is there to let it fail when
    the object exists (``EXCEPTION WHEN duplicate_object``), which leaves the object as it
    was."""
    body = do_body(node)
    if body is None or body.dynamic:  # ``EXECUTE 'ALTER TABLE ' || ...``: anything may change
        catalog.unknown_change()
        return
    for made in body.statements:
        if isinstance(made, _MADE_IN_DO_BLOCKS) and not _exists(catalog, made):
            catalog.apply(made, revision)
        elif _only_adds(made) and not _exists(catalog, made):
            catalog.apply(made, revision)  # ``IF NOT EXISTS (... pg_constraint ...) THEN``


def _only_adds(node: ast.Node) -> bool:
    """An ALTER TABLE that only adds columns or constraints."""
    return isinstance(node, ast.AlterTableStmt) and all(
        isinstance(cmd, ast.AlterTableCmd)
        and cmd.subtype in (AlterTableType.AT_AddConstraint, AlterTableType.AT_AddColumn)
        for cmd in node.cmds or ()
    )


# what in a function's body changes the schema when it is called (at any time later)
_DDL = re.compile(r"\b(ALTER|CREATE|DROP|RENAME)\s+(TABLE|INDEX|TYPE|COLUMN|SEQUENCE|VIEW)\b", re.I)


def _create_function(catalog: Catalog, node: ast.CreateFunctionStmt, revision: str | None) -> None:
    """A function whose body changes the schema (p_func's ``ALTER TABLE ... ADD COLUMN``,
    called by a SELECT after it): what it does, and when, is not followed."""
    options = {item.defname: item.arg for item in node.options or ()}
    body = options.get("as")
    parts = body if isinstance(body, (list, tuple)) else [body]
    text = " ".join(getattr(part, "sval", "") or "" for part in parts)
    if _DDL.search(text) or "EXECUTE" in text.upper():
        catalog.unknown_change()


def _exists(catalog: Catalog, node: ast.Node) -> bool:
    if isinstance(node, ast.CreateEnumStmt):
        return dotted_name(node.typeName) in catalog.enums
    if isinstance(node, ast.CreateStmt):
        return qualified_name(node.relation) in catalog.tables
    if isinstance(node, ast.ViewStmt):
        return qualified_name(node.view) in catalog.views
    if isinstance(node, ast.CreateSeqStmt):
        return qualified_name(node.sequence) in catalog.sequences
    if isinstance(node, ast.AlterTableStmt):  # columns, constraints added: there, all of them
        table = catalog.tables.get(qualified_name(node.relation))
        if table is None:
            return True
        for cmd in node.cmds or ():
            if cmd.subtype == AlterTableType.AT_AddColumn:
                if cmd.def_.colname not in table.columns:
                    return False
            elif getattr(cmd.def_, "conname", None) not in table.constraints:
                return False
        return True
    return False


_HANDLERS = {
    ast.CreateStmt: _create_table,
    ast.CreateTableAsStmt: _create_table_as,
    ast.AlterTableStmt: _alter_table,
    ast.IndexStmt: _create_index,
    ast.RenameStmt: _rename,
    ast.DropStmt: _drop,
    ast.CreateEnumStmt: _create_enum,
    ast.DoStmt: _do,
    ast.DefineStmt: _define,
    ast.CreateFunctionStmt: _create_function,
    ast.AlterEnumStmt: _alter_enum,
    ast.CreateSeqStmt: _create_sequence,
    ast.ViewStmt: _create_view,
    ast.CreateSchemaStmt: _create_schema,
    ast.CreateDomainStmt: _create_domain,
    ast.CompositeTypeStmt: _create_composite,
    ast.CreateRangeStmt: _create_range,
}
