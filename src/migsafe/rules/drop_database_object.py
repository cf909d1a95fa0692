"""drop-database-object: a view, function, type, sequence or schema the running code uses."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ObjectType

from migsafe.catalog import Column
from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext, alter_commands
from migsafe.rule import PG_DOCS, Category, Rule, py_literal
from migsafe.sql import quote_identifier

RULE = Rule(
    code="MS043",
    name="drop-database-object",
    severity=Severity.WARNING,
    category=Category.COMPATIBILITY,
    help="Deploy code that no longer uses the object first; drop it in a later revision.",
    references=(
        PG_DOCS + "sql-dropview.html",
        PG_DOCS + "sql-dropfunction.html",
        PG_DOCS + "sql-droptype.html",
    ),
    summary="Dropping a view, function, type, sequence or schema breaks running code using it.",
    why=(
        "During a rolling deploy the old version of the application keeps running until the "
        "new one has replaced it, with its queries of views, calls of functions, casts to "
        "types and nextval() of sequences: each fails from the moment the drop commits. "
        "Dropping is a contract step: it belongs in a revision deployed after the code that "
        "stopped using the object. Replacing it (dropped and created again in the same "
        "revision), dropping what the revision created or renamed aside (alembic-postgresql-enum's "
        "<name>_old types), a type or sequence whose columns are gone, and a function without "
        "arguments in a revision that drops a trigger (the trigger was its user) are not "
        "flagged."
    ),
    fix="""\
# A contract step, after the deploy: no code then running may use {name}.
# 1. deploy code that no longer {verb} {it}
# 2. then, in a later revision (this one, if that code is out already):
{statement}""",
    bad=(
        """\
def upgrade():
    op.execute("DROP VIEW active_users")
""",
        """\
def upgrade():
    op.execute("DROP FUNCTION IF EXISTS order_total(integer)")
""",
    ),
    good=(
        """\
def upgrade():
    op.execute("DROP VIEW active_users")
    op.execute("CREATE VIEW active_users AS SELECT id, email FROM users WHERE active")
""",
        """\
def upgrade():
    op.execute("ALTER TYPE status RENAME TO status_old")
    op.execute("CREATE TYPE status AS ENUM ('new', 'done')")
    op.execute("ALTER TABLE orders ALTER COLUMN status TYPE status USING status::text::status")
    op.execute("DROP TYPE status_old")
""",
    ),
    since="0.2.0",
)

# What a DROP removes, by family: a replacement may be of another kind in the family.
_FAMILIES = {
    ObjectType.OBJECT_VIEW: ("view", "view", "queries"),
    ObjectType.OBJECT_MATVIEW: ("view", "materialized view", "queries"),
    ObjectType.OBJECT_FOREIGN_TABLE: ("table", "foreign table", "queries"),
    ObjectType.OBJECT_FUNCTION: ("function", "function", "calls"),
    ObjectType.OBJECT_PROCEDURE: ("function", "procedure", "calls"),
    ObjectType.OBJECT_ROUTINE: ("function", "routine", "calls"),
    ObjectType.OBJECT_TYPE: ("type", "type", "uses"),
    ObjectType.OBJECT_DOMAIN: ("type", "domain", "uses"),
    ObjectType.OBJECT_SEQUENCE: ("sequence", "sequence", "draws from"),
    ObjectType.OBJECT_SCHEMA: ("schema", "schema", "uses"),
    ObjectType.OBJECT_EXTENSION: ("extension", "extension", "uses"),
}
_RENAMED = {
    ObjectType.OBJECT_VIEW: "view",
    ObjectType.OBJECT_MATVIEW: "view",
    ObjectType.OBJECT_FOREIGN_TABLE: "table",
    ObjectType.OBJECT_FUNCTION: "function",
    ObjectType.OBJECT_PROCEDURE: "function",
    ObjectType.OBJECT_ROUTINE: "function",
    ObjectType.OBJECT_TYPE: "type",
    ObjectType.OBJECT_DOMAIN: "type",
    ObjectType.OBJECT_SEQUENCE: "sequence",
    ObjectType.OBJECT_SCHEMA: "schema",
}
Key = tuple[str, str, str]  # (family, schema, name); schema "public" when not given


def check(rev: RevisionContext) -> Iterator[Finding]:
    """Objects that existed before the revision, dropped by upgrade() and not made again."""
    # named before the drop: made in the revision; named after it: made again, a replacement
    made = {key for stmt in rev.upgrade for key in _named(stmt.node)}
    drops_trigger = any(
        isinstance(stmt.node, ast.DropStmt) and stmt.node.removeType == ObjectType.OBJECT_TRIGGER
        for stmt in rev.upgrade
    )
    for at, stmt in enumerate(rev.upgrade):
        node = stmt.node
        if not isinstance(node, ast.DropStmt) or node.removeType not in _FAMILIES:
            continue
        family, noun, verb = _FAMILIES[node.removeType]
        dropped = []
        for item in node.objects or ():
            named = _dropped(family, item)
            if named is None:
                continue
            key, sql = named
            if key in made or _old_enum(key, made):
                continue
            if drops_trigger and family == "function" and _trigger_function(item):
                continue  # the trigger the revision drops was its user, not running code
            if family in ("type", "sequence") and _left_unused(rev, at, key):
                continue
            dropped.append(sql)
        if not dropped:
            continue
        names = ", ".join(dropped)
        one = len(dropped) == 1
        it = "it" if one else "them"
        yield rev.finding(
            RULE,
            stmt,
            f"Dropping {noun if one else noun + 's'} {names} breaks running code that still "
            f"{verb} {it}: each such statement fails until the new code is deployed.",
            name=names,
            verb=verb,
            it=it,
            statement=_execute(stmt.sql),
        )


def _trigger_function(item: object) -> bool:
    """A function dropped without arguments, as trigger functions are declared."""
    return isinstance(item, ast.ObjectWithArgs) and not item.objargs


def _dropped(family: str, item: object) -> tuple[Key, str] | None:
    """The key of an object a DROP names, and its name as SQL."""
    if isinstance(item, ast.String):  # a schema or an extension
        return (family, "", item.sval), quote_identifier(item.sval)
    names = _names(item)
    if not names:
        return None
    return _qualified(family, names), ".".join(quote_identifier(n) for n in names[-2:])


def _names(item: object) -> list[str]:
    """The dotted name of a DROP's item or a CREATE's name, as strings."""
    if isinstance(item, ast.TypeName):
        item = item.names
    elif isinstance(item, ast.ObjectWithArgs):
        item = item.objname
    elif isinstance(item, ast.RangeVar):
        return [n for n in (item.schemaname, item.relname) if n]
    if not isinstance(item, (tuple, list)):
        return []
    return [s.sval for s in item if isinstance(s, ast.String)]


def _qualified(family: str, names: list[str]) -> Key:
    return (family, names[-2] if len(names) > 1 else "public", names[-1])


def _named(node: ast.Node | None) -> Iterator[Key]:
    """What a statement gives a name to: it creates it, or renames something to it."""
    if isinstance(node, ast.ViewStmt):
        yield _qualified("view", _names(node.view))
    elif isinstance(node, ast.CreateTableAsStmt) and node.objtype == ObjectType.OBJECT_MATVIEW:
        yield _qualified("view", _names(node.into.rel))
    elif isinstance(node, ast.CreateFunctionStmt):
        yield _qualified("function", _names(node.funcname))
    elif isinstance(node, (ast.CreateEnumStmt, ast.CreateRangeStmt)):
        yield _qualified("type", _names(node.typeName))
    elif isinstance(node, ast.CompositeTypeStmt):
        yield _qualified("type", _names(node.typevar))
    elif isinstance(node, ast.CreateDomainStmt):
        yield _qualified("type", _names(node.domainname))
    elif isinstance(node, ast.DefineStmt) and node.kind == ObjectType.OBJECT_TYPE:
        yield _qualified("type", _names(node.defnames))
    elif isinstance(node, ast.CreateSeqStmt):
        yield _qualified("sequence", _names(node.sequence))
    elif isinstance(node, ast.CreateSchemaStmt) and node.schemaname:
        yield ("schema", "", node.schemaname)
    elif isinstance(node, ast.CreateExtensionStmt):
        yield ("extension", "", node.extname)
    elif isinstance(node, ast.CreateForeignTableStmt):
        yield _qualified("table", _names(node.base.relation))
    elif isinstance(node, ast.RenameStmt) and node.renameType in _RENAMED:
        family = _RENAMED[node.renameType]
        if node.renameType == ObjectType.OBJECT_SCHEMA:
            yield ("schema", "", node.newname)
            return
        old = _names(node.relation) if node.relation is not None else _names(node.object)
        if old:
            yield _qualified(family, [*old[:-1], node.newname])


def _old_enum(key: Key, made: set[Key]) -> bool:
    """alembic-postgresql-enum's ``<name>_old``: the type it renamed aside to replace it."""
    family, schema, name = key
    return family == "type" and name.endswith("_old") and (family, schema, name[:-4]) in made


def _left_unused(rev: RevisionContext, at: int, key: Key) -> bool:
    """The object's users are gone by the time it is dropped, as the earlier revisions and
    this one so far leave them: the columns of the type, or the columns drawing their
    default from the sequence, were dropped or changed (drop-table, drop-column,
    change-column-type report those). So is a type the history made that no column uses.
    Not a sequence without such columns: code draws from it with nextval() itself."""
    catalog = rev.schema_before
    if catalog is None:
        return False
    family, schema, name = key
    uses = _uses_type if family == "type" else _uses_sequence
    users = {
        (table.name, column.name)
        for table in catalog.tables.values()
        for column in table.columns.values()
        if uses(column, schema, name)
    }
    if not users:
        return family == "type" and (schema, name) in catalog.enums
    changes = (AlterTableType.AT_DropColumn, AlterTableType.AT_AlterColumnType,
               AlterTableType.AT_ColumnDefault)  # fmt: skip
    for stmt in rev.upgrade[:at]:
        node = stmt.node
        if isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_TABLE:
            gone = {_qualified("", _names(item))[1:] for item in node.objects or ()}
            users = {user for user in users if user[0] not in gone}
        elif stmt.table is not None:
            changed = {cmd.name for cmd in alter_commands(node, *changes)}
            users = {u for u in users if not (u[0] == stmt.table.key and u[1] in changed)}
    return not users


def _uses_type(column: Column, schema: str, name: str) -> bool:
    if column.type is None:
        return False
    names = [s.sval for s in column.type.names if isinstance(s, ast.String)]
    return bool(names) and names[-1] == name and (len(names) == 1 or names[-2] == schema)


def _uses_sequence(column: Column, schema: str, name: str) -> bool:
    """The column's default draws from the sequence: ``nextval('name'::regclass)``."""
    default = column.default or ""
    return (
        "nextval(" in default and re.search(rf"[.'\"]{re.escape(name)}[\"']", default) is not None
    )


def _execute(sql: str) -> str:
    """``op.execute()`` of the statement, single-quoted when it quotes identifiers."""
    if '"' in sql and "'" not in sql and "\\" not in sql:
        return f"op.execute('{sql}')"
    return f"op.execute({py_literal(sql)})"
