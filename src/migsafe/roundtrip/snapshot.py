"""A schema snapshot read straight from PostgreSQL's catalogs, in one round trip.

SQLAlchemy reflection misses much of what a downgrade can leave behind (enum types, sequences,
triggers, functions, extensions, comments, an index left invalid), so the snapshot asks the
catalogs directly and lets the server render definitions (``pg_get_indexdef`` and friends).
Nothing that changes when an object is merely recreated is kept: no OIDs, and no column
positions (a downgrade that drops a column and adds it back cannot put it where it was without
rewriting the table, and no query that names its columns can tell).

Objects that belong to an extension are left out (the extension itself is kept), and so is
Alembic's version table.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# One row per object: (kind, name, attributes as JSON). Each part reads one catalog.
_USER_SCHEMAS = """
    SELECT n.oid, n.nspname FROM pg_namespace n
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
      AND n.nspname NOT LIKE 'pg_temp_%%' AND n.nspname NOT LIKE 'pg_toast_temp_%%'
"""

SNAPSHOT_SQL = f"""
WITH schemas AS ({_USER_SCHEMAS}),
extension_members AS (
    SELECT objid, classid FROM pg_depend WHERE deptype = 'e'
),
relations AS (
    SELECT c.oid, c.relname, c.relkind, c.relpersistence, c.reloptions, c.relrowsecurity,
           s.nspname, quote_ident(s.nspname) || '.' || quote_ident(c.relname) AS qualified
    FROM pg_class c JOIN schemas s ON s.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c')
      AND NOT EXISTS (SELECT 1 FROM extension_members e
                      WHERE e.objid = c.oid AND e.classid = 'pg_class'::regclass)
      AND NOT (c.relname = %(version_table)s AND s.nspname = %(version_schema)s)
)
SELECT 'schema', s.nspname, jsonb_build_object('comment', obj_description(s.oid, 'pg_namespace'))
FROM schemas s
UNION ALL
SELECT 'extension', x.extname, jsonb_build_object('version', x.extversion,
       'schema', x.extnamespace::regnamespace::text)
FROM pg_extension x WHERE x.extname <> 'plpgsql'
UNION ALL
SELECT CASE r.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'f' THEN 'table'
                      WHEN 'c' THEN 'composite type' END,
       r.qualified,
       jsonb_build_object('partitioned', r.relkind = 'p', 'unlogged', r.relpersistence = 'u',
                          'options', r.reloptions, 'row level security', r.relrowsecurity,
                          'comment', obj_description(r.oid, 'pg_class'))
FROM relations r WHERE r.relkind IN ('r', 'p', 'f', 'c')
UNION ALL
SELECT CASE r.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END, r.qualified,
       jsonb_build_object('definition', pg_get_viewdef(r.oid),
                          'comment', obj_description(r.oid, 'pg_class'))
FROM relations r WHERE r.relkind IN ('v', 'm')
UNION ALL
SELECT 'column', r.qualified || '.' || quote_ident(a.attname),
       jsonb_build_object(
           'type', format_type(a.atttypid, a.atttypmod),
           'not null', a.attnotnull,
           'default', CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END,
           'generated', CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END,
           'identity', NULLIF(a.attidentity, ''),
           'collation', CASE WHEN a.attcollation <> t.typcollation THEN co.collname END,
           'comment', col_description(a.attrelid, a.attnum))
FROM relations r
JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation
WHERE r.relkind IN ('r', 'p', 'v', 'm', 'f', 'c')
UNION ALL
SELECT 'constraint', r.qualified || ' ' || quote_ident(k.conname),
       jsonb_build_object('definition', pg_get_constraintdef(k.oid), 'validated', k.convalidated,
                          'deferrable', k.condeferrable, 'deferred', k.condeferred,
                          'comment', obj_description(k.oid, 'pg_constraint'))
FROM pg_constraint k JOIN relations r ON r.oid = k.conrelid
WHERE k.contype <> 'n'  -- PostgreSQL 18's NOT NULL constraints: the column says it already
UNION ALL
SELECT 'index', quote_ident(r.nspname) || '.' || quote_ident(i.relname),
       jsonb_build_object('definition', pg_get_indexdef(x.indexrelid), 'valid', x.indisvalid,
                          'comment', obj_description(i.oid, 'pg_class'))
FROM pg_index x JOIN relations r ON r.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
UNION ALL
SELECT 'sequence', r.qualified,
       jsonb_build_object('type', q.seqtypid::regtype::text, 'start', q.seqstart,
                          'increment', q.seqincrement, 'min', q.seqmin, 'max', q.seqmax,
                          'cycle', q.seqcycle, 'owned by', (
                              SELECT o.refobjid::regclass::text || '.' || quote_ident(oa.attname)
                              FROM pg_depend o JOIN pg_attribute oa
                                ON oa.attrelid = o.refobjid AND oa.attnum = o.refobjsubid
                              WHERE o.classid = 'pg_class'::regclass AND o.objid = r.oid
                                AND o.deptype IN ('a', 'i') LIMIT 1))
FROM relations r JOIN pg_sequence q ON q.seqrelid = r.oid
UNION ALL
SELECT CASE t.typtype WHEN 'e' THEN 'enum type' ELSE 'domain' END,
       quote_ident(s.nspname) || '.' || quote_ident(t.typname),
       CASE t.typtype
         WHEN 'e' THEN jsonb_build_object('labels', (
             SELECT jsonb_agg(e.enumlabel ORDER BY e.enumsortorder)
             FROM pg_enum e WHERE e.enumtypid = t.oid))
         ELSE jsonb_build_object('type', format_type(t.typbasetype, t.typtypmod),
             'not null', t.typnotnull, 'default', t.typdefault, 'checks', (
             SELECT jsonb_agg(pg_get_constraintdef(dc.oid) ORDER BY dc.conname)
             FROM pg_constraint dc WHERE dc.contypid = t.oid))
       END || jsonb_build_object('comment', obj_description(t.oid, 'pg_type'))
FROM pg_type t JOIN schemas s ON s.oid = t.typnamespace
WHERE t.typtype IN ('e', 'd')
  AND NOT EXISTS (SELECT 1 FROM extension_members e
                  WHERE e.objid = t.oid AND e.classid = 'pg_type'::regclass)
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END,
       quote_ident(s.nspname) || '.' || quote_ident(p.proname)
           || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       jsonb_build_object('definition',
           CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid) END,
           'comment', obj_description(p.oid, 'pg_proc'))
FROM pg_proc p JOIN schemas s ON s.oid = p.pronamespace
WHERE NOT EXISTS (SELECT 1 FROM extension_members e
                  WHERE e.objid = p.oid AND e.classid = 'pg_proc'::regclass)
UNION ALL
SELECT 'trigger', r.qualified || ' ' || quote_ident(g.tgname),
       jsonb_build_object('definition', pg_get_triggerdef(g.oid), 'enabled', g.tgenabled)
FROM pg_trigger g JOIN relations r ON r.oid = g.tgrelid
WHERE NOT g.tgisinternal
UNION ALL
SELECT 'policy', r.qualified || ' ' || quote_ident(pol.polname),
       jsonb_build_object('command', pol.polcmd, 'permissive', pol.polpermissive,
                          'using', pg_get_expr(pol.polqual, pol.polrelid),
                          'check', pg_get_expr(pol.polwithcheck, pol.polrelid))
FROM pg_policy pol JOIN relations r ON r.oid = pol.polrelid
"""


@dataclass(frozen=True)
class Snapshot:
    """Every schema object as ``(kind, name) -> attributes``; ``digest`` compares in one step."""

    objects: Mapping[tuple[str, str], Mapping[str, Any]]
    digest: str = field(compare=False)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Snapshot) and self.digest == other.digest

    def __hash__(self) -> int:
        return hash(self.digest)


def take_snapshot(
    connection: Any, version_table: str = "alembic_version", version_schema: str = "public"
) -> Snapshot:
    """Read the schema through a SQLAlchemy ``Connection``; ends any transaction it began."""
    raw = connection.exec_driver_sql(
        SNAPSHOT_SQL, {"version_table": version_table, "version_schema": version_schema}
    ).fetchall()
    if connection.in_transaction():
        connection.rollback()  # read-only: nothing to keep, and Alembic wants no open transaction
    objects = {}
    for kind, name, attributes in raw:
        objects[(kind, name)] = {k: v for k, v in attributes.items() if v is not None}
    canonical = json.dumps(sorted(objects.items()), sort_keys=True, default=str)
    return Snapshot(objects, hashlib.blake2b(canonical.encode(), digest_size=16).hexdigest())
