"""A schema snapshot read straight from PostgreSQL's catalogs, in one round trip.

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
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

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


def _values(*expressions: str) -> str:
    """The value columns of one part of the query, as text, padded to the common width."""
    padded = [f"({e})::text" for e in expressions] + ["NULL"] * (_WIDTH - len(expressions))
    return ", ".join(padded)


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


_USER_SCHEMAS = """
    SELECT n.oid, n.nspname FROM pg_namespace n
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
      AND n.nspname NOT LIKE 'pg_temp_%%' AND n.nspname NOT LIKE 'pg_toast_temp_%%'
"""

_OBJECTS = f"""
WITH schemas AS ({_USER_SCHEMAS}),
extension_members AS (
    SELECT objid, classid FROM pg_depend WHERE deptype = 'e'
),
relations AS (
    SELECT c.oid, c.relname, c.relkind, c.relpersistence, c.reloptions, c.relrowsecurity,
           s.nspname, quote_ident(s.nspname) || '.' || quote_ident(c.relname) AS qualified
    FROM pg_class c JOIN schemas s ON s.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c')
      AND {_own("c.oid", "pg_class")}
      AND NOT (c.relname = %(version_table)s AND s.nspname = %(version_schema)s)
),
user_types AS (
    SELECT t.*, quote_ident(s.nspname) || '.' || quote_ident(t.typname) AS qualified
    FROM pg_type t JOIN schemas s ON s.oid = t.typnamespace
    WHERE t.typtype IN ('e', 'd') AND {_own("t.oid", "pg_type")}
)
SELECT 'schema', s.nspname, {_values(_comment("s.oid", "pg_namespace"))}
FROM schemas s
UNION ALL
SELECT 'extension', x.extname, {_values("x.extversion", "x.extnamespace::regnamespace")}
FROM pg_extension x WHERE x.extname <> 'plpgsql'
UNION ALL
SELECT CASE WHEN r.relkind = 'c' THEN 'composite type' ELSE 'table' END, r.qualified,
       {
    _values(
        "r.relkind = 'p'",
        "r.relpersistence = 'u'",
        "r.reloptions",
        "r.relrowsecurity",
        _comment("r.oid", "pg_class"),
    )
}
FROM relations r WHERE r.relkind IN ('r', 'p', 'f', 'c')
UNION ALL
SELECT CASE r.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END, r.qualified,
       {_values("pg_get_viewdef(r.oid)", _comment("r.oid", "pg_class"))}
FROM relations r WHERE r.relkind IN ('v', 'm')
UNION ALL
SELECT 'column', r.qualified || '.' || quote_ident(a.attname),
       {
    _values(
        "format_type(a.atttypid, a.atttypmod)",
        "a.attnotnull",
        "CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END",
        "CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END",
        "NULLIF(a.attidentity, '')",
        "CASE WHEN a.attcollation <> t.typcollation THEN co.collname END",
        _comment("a.attrelid", "pg_class", "a.attnum"),
    )
}
FROM relations r
JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation
WHERE r.relkind IN ('r', 'p', 'v', 'm', 'f', 'c')
UNION ALL
SELECT 'constraint', r.qualified || ' ' || quote_ident(k.conname),
       {
    _values(
        "pg_get_constraintdef(k.oid)",
        "k.convalidated",
        "k.condeferrable",
        "k.condeferred",
        _comment("k.oid", "pg_constraint"),
    )
}
FROM pg_constraint k JOIN relations r ON r.oid = k.conrelid
WHERE k.contype <> 'n'  -- PostgreSQL 18's NOT NULL constraints: the column says it already
UNION ALL
SELECT 'index', quote_ident(r.nspname) || '.' || quote_ident(i.relname),
       {_values("pg_get_indexdef(x.indexrelid)", "x.indisvalid", _comment("i.oid", "pg_class"))}
FROM pg_index x JOIN relations r ON r.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
UNION ALL
SELECT 'sequence', r.qualified,
       {
    _values(
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
    )
}
FROM relations r JOIN pg_sequence q ON q.seqrelid = r.oid
UNION ALL
SELECT 'enum type', t.qualified,
       {
    _values(
        "SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) "
        "FROM pg_enum e WHERE e.enumtypid = t.oid",
        _comment("t.oid", "pg_type"),
    )
}
FROM user_types t WHERE t.typtype = 'e'
UNION ALL
SELECT 'domain', t.qualified,
       {
    _values(
        "format_type(t.typbasetype, t.typtypmod)",
        "t.typnotnull",
        "t.typdefault",
        "SELECT string_agg(pg_get_constraintdef(dc.oid), '; ' ORDER BY dc.conname) "
        "FROM pg_constraint dc WHERE dc.contypid = t.oid",
        _comment("t.oid", "pg_type"),
    )
}
FROM user_types t WHERE t.typtype = 'd'
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END,
       quote_ident(s.nspname) || '.' || quote_ident(p.proname)
           || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       {
    _values(
        "CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid) END",
        _comment("p.oid", "pg_proc"),
    )
}
FROM pg_proc p JOIN schemas s ON s.oid = p.pronamespace
WHERE {_own("p.oid", "pg_proc")}
UNION ALL
SELECT 'trigger', r.qualified || ' ' || quote_ident(g.tgname),
       {_values("pg_get_triggerdef(g.oid)", "g.tgenabled")}
FROM pg_trigger g JOIN relations r ON r.oid = g.tgrelid
WHERE NOT g.tgisinternal
UNION ALL
SELECT 'policy', r.qualified || ' ' || quote_ident(pol.polname),
       {
    _values(
        "pol.polcmd",
        "pol.polpermissive",
        "pg_get_expr(pol.polqual, pol.polrelid)",
        "pg_get_expr(pol.polwithcheck, pol.polrelid)",
    )
}
FROM pg_policy pol JOIN relations r ON r.oid = pol.polrelid
"""
# The whole snapshot comes back as one text value, a line per object: decoding thousands of
# small values in the driver cost a third of the snapshot.
_UNIT, _LINE, _NULL = "\x1f", "\x1e", "\x02"
_COLUMNS = ", ".join(f"v{i}" for i in range(_WIDTH))
_LINE_SQL = (
    "concat_ws(E'\\x1f', kind, name, "
    + ", ".join(f"coalesce(v{i}, E'\\x02')" for i in range(_WIDTH))
    + ")"
)
SNAPSHOT_SQL = (
    f"SELECT coalesce(string_agg(line, E'\\x1e' ORDER BY line COLLATE \"C\"), '') FROM "
    f"(SELECT {_LINE_SQL} AS line FROM ({_OBJECTS}) AS objects(kind, name, {_COLUMNS})) AS lines"
)

Row = tuple[str | None, ...]


@dataclass(frozen=True)
class Snapshot:
    """Every schema object, as the server rendered it; ``digest`` compares in one step.

    ``text`` is kept as it came; ``objects`` is built from it only when a diff needs it.
    """

    text: str = field(repr=False)
    digest: str

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


def take_snapshot(
    connection: Any, version_table: str = "alembic_version", version_schema: str = "public"
) -> Snapshot:
    """Read the schema through a SQLAlchemy ``Connection`` that is not in a transaction.

    The query goes straight to the driver's cursor, in a read-only transaction of its own
    that is rolled back at once, so the connection is left exactly as it was found, as
    Alembic needs it.
    """
    if connection.in_transaction():
        raise RuntimeError("take_snapshot needs a connection outside any transaction")
    driver = connection.connection.dbapi_connection
    params = {"version_table": version_table, "version_schema": version_schema}
    try:
        with driver.cursor() as cursor:
            cursor.execute(SNAPSHOT_SQL, params)
            (text,) = cursor.fetchone()
    finally:
        driver.rollback()
    return Snapshot(text, hashlib.blake2b(text.encode(), digest_size=16).hexdigest())
