"""A schema snapshot read straight from PostgreSQL's catalogs.

SQLAlchemy reflection misses much of what a downgrade can leave behind (enum types, sequences,
triggers, functions, extensions, comments, an index left invalid), so the snapshot asks the
catalogs directly and lets the server render definitions (``pg_get_indexdef`` and friends).
Nothing that changes when an object is merely recreated is kept: no OIDs, and no column
positions (a downgrade that drops a column and adds it back cannot put it where it was without
rewriting the table, and no query that names its columns can tell).

Objects that belong to an extension are left out (the extension itself is kept), and so is
Alembic's version table.

Every row is ``(kind, name, value...)`` in plain text, and ``FIELDS`` names the values of each
kind. Text keeps the query cheap (building a jsonb object per row cost more than reading the
catalogs) and lets equal schemas compare by digest without parsing anything.
"""

from __future__ import annotations

import hashlib
from functools import cached_property
from typing import TYPE_CHECKING, Any

from migsafe.runtime.backfill import PROGRESS_TABLE

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

FIELDS: dict[str, tuple[str, ...]] = {
    "schema": ("comment",),
    "extension": ("version", "schema"),
    "table": ("partitioned", "unlogged", "options", "row level security", "comment"),
    "view": ("definition", "comment"),
    "column": ("type", "not null", "default", "generated", "identity", "collation", "comment"),
    "constraint": ("definition", "validated", "deferrable", "deferred", "comment"),
    "index": ("definition", "valid", "comment"),
    "sequence": ("type", "start", "increment", "min", "max", "cycle", "owned by"),
    "enum type": ("labels", "comment"),
    "domain": ("type", "not null", "default", "checks", "comment"),
    "function": ("definition", "comment"),
    "trigger": ("definition", "enabled"),
    "policy": ("command", "permissive", "using", "check"),
}
FIELDS["composite type"] = FIELDS["table"]
FIELDS["materialized view"] = FIELDS["view"]
FIELDS["procedure"] = FIELDS["aggregate"] = FIELDS["function"]
_WIDTH = max(len(names) for names in FIELDS.values())


def _comment(oid: str, catalog: str, subid: str = "0") -> str:
    """The comment on an object: a plain index lookup (``obj_description`` is a SQL
    function, called row by row, and twice as slow on a large schema)."""
    return (
        f"SELECT description FROM pg_description WHERE objoid = {oid} "
        f"AND classoid = '{catalog}'::regclass AND objsubid = {subid}"
    )


def _own(oid: str, catalog: str) -> str:
    """The object is the user's own, not a member of an extension."""
    return (
        "NOT EXISTS (SELECT 1 FROM extension_members e "
        f"WHERE e.objid = {oid} AND e.classid = '{catalog}'::regclass)"
    )


_COMMON_TABLES = f"""
WITH schemas AS (
    SELECT n.oid, n.nspname FROM pg_namespace n
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
      AND n.nspname NOT LIKE 'pg_temp_%' AND n.nspname NOT LIKE 'pg_toast_temp_%'
),
extension_members AS (
    SELECT objid, classid FROM pg_depend WHERE deptype = 'e'
),
relations AS (
    SELECT c.oid, c.relname, c.relkind, c.relpersistence, c.reloptions, c.relrowsecurity,
           s.nspname, quote_ident(s.nspname) || '.' || quote_ident(c.relname) AS qualified
    FROM pg_class c JOIN schemas s ON s.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c')
      AND {_own("c.oid", "pg_class")}
      AND NOT (c.relname = {{version_table}} AND s.nspname = {{version_schema}})
      -- where migsafe.runtime.batched_update records how far a backfill got: bookkeeping
      -- that stays after a downgrade, as the version table does
      AND c.relname <> '{PROGRESS_TABLE}'
),
user_types AS (
    SELECT t.*, quote_ident(s.nspname) || '.' || quote_ident(t.typname) AS qualified
    FROM pg_type t JOIN schemas s ON s.oid = t.typnamespace
    WHERE t.typtype IN ('e', 'd') AND {_own("t.oid", "pg_type")}
)"""


# Each part comes back as one text value, a line per object (decoding thousands of small
# values in the driver cost a third of the snapshot); lines are sorted on this side.
_UNIT, _LINE, _NULL = "\x1f", "\x1e", "\x02"


def _literal(character: str) -> str:
    """A control character as a PostgreSQL string literal."""
    return f"E'\\x{ord(character):02x}'"


def _branch(kind: str, name: str, values: list[str], source: str) -> str:
    """One kind of object as lines ``kind, name, values...`` separated by control characters.

    The name is cast to text: a catalog ``name`` in the first branch would make the whole
    UNION ``name``-typed and cut every qualified name at 63 bytes.
    """
    padded = [f"({v})::text" for v in values] + ["NULL"] * (_WIDTH - len(values))
    fields = ", ".join(f"coalesce({v}, {_literal(_NULL)})" for v in padded)
    return (
        f"SELECT concat_ws({_literal(_UNIT)}, {kind}, ({name})::text, {fields}) AS line\n{source}"
    )


# Two parts of about equal cost, read at the same time over two connections.
_PARTS: tuple[list[str], list[str]] = (
    [
        _branch(  # the version table's own schema (not public) is bookkeeping, as the table
            "'schema'",
            "s.nspname",
            [_comment("s.oid", "pg_namespace")],
            "FROM schemas s WHERE s.nspname = 'public' OR s.nspname <> {version_schema}",
        ),
        _branch(
            "'extension'",
            "x.extname",
            ["x.extversion", "x.extnamespace::regnamespace"],
            "FROM pg_extension x WHERE x.extname <> 'plpgsql'",
        ),
        _branch(
            "'index'",
            "quote_ident(r.nspname) || '.' || quote_ident(i.relname)",
            ["pg_get_indexdef(x.indexrelid)", "x.indisvalid", _comment("i.oid", "pg_class")],
            "FROM pg_index x JOIN relations r ON r.oid = x.indrelid "
            "JOIN pg_class i ON i.oid = x.indexrelid",
        ),
        _branch(
            "CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' "
            "ELSE 'function' END",
            "quote_ident(s.nspname) || '.' || quote_ident(p.proname) "
            "|| '(' || pg_get_function_identity_arguments(p.oid) || ')'",
            [
                "CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid) END",
                _comment("p.oid", "pg_proc"),
            ],
            "FROM pg_proc p JOIN schemas s ON s.oid = p.pronamespace "
            f"WHERE {_own('p.oid', 'pg_proc')}",
        ),
        _branch(
            "'trigger'",
            "r.qualified || ' ' || quote_ident(g.tgname)",
            ["pg_get_triggerdef(g.oid)", "g.tgenabled"],
            "FROM pg_trigger g JOIN relations r ON r.oid = g.tgrelid WHERE NOT g.tgisinternal",
        ),
    ],
    [
        _branch(
            "CASE WHEN r.relkind = 'c' THEN 'composite type' ELSE 'table' END",
            "r.qualified",
            [
                "r.relkind = 'p'",
                "r.relpersistence = 'u'",
                "r.reloptions",
                "r.relrowsecurity",
                _comment("r.oid", "pg_class"),
            ],
            "FROM relations r WHERE r.relkind IN ('r', 'p', 'f', 'c')",
        ),
        _branch(
            "CASE r.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END",
            "r.qualified",
            ["pg_get_viewdef(r.oid)", _comment("r.oid", "pg_class")],
            "FROM relations r WHERE r.relkind IN ('v', 'm')",
        ),
        _branch(
            "'column'",
            "r.qualified || '.' || quote_ident(a.attname)",
            [
                "format_type(a.atttypid, a.atttypmod)",
                "a.attnotnull",
                "CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END",
                "CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END",
                "NULLIF(a.attidentity, '')",
                "CASE WHEN a.attcollation <> t.typcollation THEN co.collname END",
                _comment("a.attrelid", "pg_class", "a.attnum"),
            ],
            "FROM relations r "
            "JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped "
            "JOIN pg_type t ON t.oid = a.atttypid "
            "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "LEFT JOIN pg_collation co ON co.oid = a.attcollation "
            "WHERE r.relkind IN ('r', 'p', 'v', 'm', 'f', 'c')",
        ),
        _branch(
            "'constraint'",
            "r.qualified || ' ' || quote_ident(k.conname)",
            [
                "pg_get_constraintdef(k.oid)",
                "k.convalidated",
                "k.condeferrable",
                "k.condeferred",
                _comment("k.oid", "pg_constraint"),
            ],
            "FROM pg_constraint k JOIN relations r ON r.oid = k.conrelid "
            # PostgreSQL 18's NOT NULL constraints: the column says it already
            "WHERE k.contype <> 'n'",
        ),
        _branch(
            "'sequence'",
            "r.qualified",
            [
                "q.seqtypid::regtype",
                "q.seqstart",
                "q.seqincrement",
                "q.seqmin",
                "q.seqmax",
                "q.seqcycle",
                "SELECT o.refobjid::regclass::text || '.' || quote_ident(oa.attname) "
                "FROM pg_depend o JOIN pg_attribute oa "
                "ON oa.attrelid = o.refobjid AND oa.attnum = o.refobjsubid "
                "WHERE o.classid = 'pg_class'::regclass AND o.objid = r.oid "
                "AND o.deptype IN ('a', 'i') LIMIT 1",
            ],
            "FROM relations r JOIN pg_sequence q ON q.seqrelid = r.oid",
        ),
        _branch(
            "'enum type'",
            "t.qualified",
            [
                "SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) "
                "FROM pg_enum e WHERE e.enumtypid = t.oid",
                _comment("t.oid", "pg_type"),
            ],
            "FROM user_types t WHERE t.typtype = 'e'",
        ),
        _branch(
            "'domain'",
            "t.qualified",
            [
                "format_type(t.typbasetype, t.typtypmod)",
                "t.typnotnull",
                "t.typdefault",
                "SELECT string_agg(pg_get_constraintdef(dc.oid), '; ' ORDER BY dc.conname) "
                "FROM pg_constraint dc WHERE dc.contypid = t.oid",
                _comment("t.oid", "pg_type"),
            ],
            "FROM user_types t WHERE t.typtype = 'd'",
        ),
        _branch(
            "'policy'",
            "r.qualified || ' ' || quote_ident(pol.polname)",
            [
                "pol.polcmd",
                "pol.polpermissive",
                "pg_get_expr(pol.polqual, pol.polrelid)",
                "pg_get_expr(pol.polwithcheck, pol.polrelid)",
            ],
            "FROM pg_policy pol JOIN relations r ON r.oid = pol.polrelid",
        ),
    ],
)
_PART_QUERIES = tuple(
    f"{_COMMON_TABLES}\nSELECT coalesce(string_agg(line, {_literal(_LINE)}), '') FROM (\n"
    + "\nUNION ALL\n".join(branches)
    + "\n) AS lines"
    for branches in _PARTS
)


Row = tuple[str | None, ...]


class Snapshot:
    """Every schema object, as the server rendered it; ``digest`` compares in one step.

    The text may still be on its way when the snapshot is handed out (see
    ``SnapshotReader.start``): the first look at it waits. ``objects`` is built from the text
    only when a diff needs it.
    """

    def __init__(self, arrival: _SnapshotText) -> None:
        self._arrival = arrival

    @property
    def arrived(self) -> bool:
        """True once the text is here: looking at it will not wait."""
        return self._arrival.received is not None

    @cached_property
    def text(self) -> str:
        return self._arrival.text()

    @cached_property
    def digest(self) -> str:
        return hashlib.blake2b(self.text.encode(), digest_size=16).hexdigest()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Snapshot) and self.digest == other.digest

    def __hash__(self) -> int:
        return hash(self.digest)

    @property
    def rows(self) -> list[Row]:
        return [
            tuple(None if value == _NULL else value for value in line.split(_UNIT))
            for line in self.text.split(_LINE)
            if line
        ]

    @cached_property
    def objects(self) -> dict[tuple[str, str], dict[str, Any]]:
        """``(kind, name) -> attributes``, leaving out attributes that are not set.

        PostgreSQL lets two constraints of one table share a name (legacy histories have
        them); the second and later get ``#2``, ``#3`` after the name, in the rows' order.
        """
        objects: dict[tuple[str, str], dict[str, Any]] = {}
        for kind, name, *values in self.rows:
            key, copy = (kind, name), 1
            while key in objects:
                copy += 1
                key = (kind, f"{name} #{copy}")
            pairs = zip(FIELDS[kind], values, strict=False)
            objects[key] = {field: value for field, value in pairs if value is not None}
        return objects


class SnapshotReader:
    """Reads snapshots of one database over two connections of its own, one part on each,
    both running at the same time (the server has a core for each).

    The connections only read committed catalogs, in autocommit mode, with the two parts
    prepared once. ``start`` sends the queries and returns at once, so that migsafe can get
    the next step ready while the server reads; ``wait_for_snapshot`` must be called before anything
    changes the schema again: the definition functions read the server's catalog caches, not
    a transaction's snapshot, so a read running beside DDL could see it half-way.
    """

    def __init__(
        self, engine: Engine, version_table: str = "alembic_version", version_schema: str = "public"
    ) -> None:
        import psycopg
        from psycopg import sql

        # the same server, database and credentials the engine connects with
        arguments, keywords = engine.dialect.create_connect_args(engine.url)
        self._connections: list[psycopg.Connection] = []
        self._in_flight: _SnapshotText | None = None
        try:
            for number, query in enumerate(_PART_QUERIES):
                connection = psycopg.connect(*arguments, **keywords, autocommit=True)
                self._connections.append(connection)
                prepared = sql.SQL(query).format(
                    version_table=sql.Literal(version_table),
                    version_schema=sql.Literal(version_schema),
                )
                connection.execute(sql.SQL("PREPARE part{} AS ").format(number) + prepared)
        except BaseException:
            self.close()
            raise

    def start(self) -> Snapshot:
        """Send the queries for the schema as committed now; the text arrives on
        ``wait_for_snapshot`` or on the first look at the snapshot, whichever comes first."""
        self.wait_for_snapshot()
        for number, connection in enumerate(self._connections):
            connection.pgconn.send_query(f"EXECUTE part{number}".encode())
        self._in_flight = _SnapshotText(self)
        return Snapshot(self._in_flight)

    def wait_for_snapshot(self) -> None:
        """Wait for the snapshot in flight, if any."""
        arrival, self._in_flight = self._in_flight, None
        if arrival is None:
            return
        lines: list[str] = []
        for connection in self._connections:
            lines.extend(line for line in _single_value(connection.pgconn).split(_LINE) if line)
        lines.sort()  # code point order: what COLLATE "C" gives, independent of locale
        arrival.received = _LINE.join(lines)

    def close(self) -> None:
        self._in_flight = None
        for connection in self._connections:
            connection.close()
        self._connections.clear()


class _SnapshotText:
    """The text of one snapshot, once the reader has received it."""

    def __init__(self, reader: SnapshotReader) -> None:
        self.reader = reader
        self.received: str | None = None

    def text(self) -> str:
        if self.received is None:
            self.reader.wait_for_snapshot()
        if self.received is None:
            raise SnapshotError("the snapshot was never read: its reader was closed first")
        return self.received


class SnapshotError(RuntimeError):
    """The server could not read its own catalogs (it went away, or ran out of memory)."""


def _single_value(pgconn: Any) -> str:
    """The one text value the query sent on ``pgconn`` returns; waits for it."""
    from psycopg import pq

    value, error = "", None
    while (result := pgconn.get_result()) is not None:
        if result.status == pq.ExecStatus.TUPLES_OK:
            value = result.get_value(0, 0).decode()
        else:
            error = error or result.error_message.decode(errors="replace").strip()
    if error:
        raise SnapshotError(f"reading the schema failed: {error}")
    return value
