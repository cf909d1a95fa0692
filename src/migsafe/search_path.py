"""``SET search_path``: where the unqualified names of the statements after it live.

A migration that runs a schema dump (GeoNature's ``taxonomie.sql``: ``SET search_path =
taxonomie, pg_catalog, public``, then ``CREATE TABLE bib_noms ...``) makes its tables in
that schema, and PostgreSQL keeps the setting for the rest of the session, so later
revisions find them there by their bare names. The catalog follows the setting it meets
(``Catalog.apply``): each relation a statement names without a schema is given the schema
PostgreSQL would resolve it to, in the parsed statement itself, so the schema the history
builds and the statements rules read agree. Without a SET, nothing changes: unqualified
names are ``public``'s, as in a new database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from pglast import ast
from pglast.enums import ObjectType, VariableSetKind

from migsafe.sqltree import set_config_call, walk

Name = tuple[str, str]

# schemas a search path names that hold no table of the application
_NOT_THE_APPLICATIONS = {"$user", "pg_catalog", "pg_temp", "information_schema"}

# what a DROP of these names is: a relation, found along the path
_DROPPED = {
    ObjectType.OBJECT_TABLE, ObjectType.OBJECT_VIEW, ObjectType.OBJECT_MATVIEW,
    ObjectType.OBJECT_INDEX, ObjectType.OBJECT_SEQUENCE, ObjectType.OBJECT_FOREIGN_TABLE,
}  # fmt: skip


def search_path_setting(node: ast.Node | None) -> tuple[str, ...] | None:
    """The search path ``node`` sets (``()``: back to the default), or None when it is
    not a setting of it: ``SET [LOCAL] search_path``, ``RESET``, and ``set_config()``."""
    if isinstance(node, ast.VariableSetStmt) and node.name == "search_path":
        if node.kind != VariableSetKind.VAR_SET_VALUE:
            return ()  # RESET, SET ... TO DEFAULT
        return tuple(a.val.sval for a in node.args or () if isinstance(a.val, ast.String))
    called = set_config_call(node)
    if called is not None and called[0] == "search_path":
        return tuple(part.strip().strip('"') for part in called[1].split(",") if part.strip())
    return None


def qualify(
    node: ast.Node, path: tuple[str, ...], schemas: set[str], exists: Callable[[Name], bool]
) -> None:
    """Give every relation ``node`` names without a schema the one PostgreSQL resolves it
    to along ``path``: a relation it makes, the first schema of the path that exists (in
    ``schemas``); one it names, the first schema that has it (``exists``), else that one."""
    candidates = [s for s in path if s not in _NOT_THE_APPLICATIONS]
    if not candidates or candidates == ["public"]:
        return
    home = next((s for s in candidates if s in schemas), candidates[0])

    def found(name: str) -> str:
        return next((s for s in candidates if exists((s, name))), home)

    made = _made_relation(node)
    for relation in _relations(node):
        if relation.schemaname is None and relation.catalogname is None:
            relation.schemaname = home if relation is made else found(relation.relname)
    if isinstance(node, ast.DropStmt) and node.removeType in _DROPPED:
        node.objects = tuple(
            (ast.String(found(names[0].sval)), *names) if len(names) == 1 else names
            for names in node.objects or ()
        )


def _made_relation(node: ast.Node) -> ast.RangeVar | None:
    if isinstance(node, ast.CreateTableAsStmt):
        return node.into.rel
    if isinstance(node, ast.CreateSeqStmt):
        return node.sequence
    if isinstance(node, ast.ViewStmt):
        return node.view
    if isinstance(node, ast.CreateStmt):
        return node.relation
    return None


def _relations(node: object) -> Iterator[ast.RangeVar]:
    """Every RangeVar in ``node``'s tree (a CTE's name too: it is looked up and not found,
    which changes nothing migsafe models)."""
    return (found for found in walk(node) if isinstance(found, ast.RangeVar))
