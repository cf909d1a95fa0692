"""rename-index-or-constraint: whatever names the old name breaks."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ObjectType

from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext, alter_commands
from migsafe.rule import PG_DOCS, Category, Rule
from migsafe.rules._same_revision import dropped_tables, named_in_revision
from migsafe.sql import Statement, TableName, quote_identifier

RULE = Rule(
    code="MS041",
    name="rename-index-or-constraint",
    severity=Severity.NOTICE,
    category=Category.COMPATIBILITY,
    help="Make the running code name neither the old nor the new name, then rename.",
    references=(PG_DOCS + "sql-alterindex.html", PG_DOCS + "sql-altertable.html"),
    summary="Renaming an index or a constraint breaks code that names it.",
    why=(
        "Few queries name an index or a constraint, but those that do break the moment the "
        "rename commits: INSERT ... ON CONFLICT ON CONSTRAINT, error handlers that match the "
        "name PostgreSQL reports for a violation, query hints. The models that declare the "
        "old name (Index(...), UniqueConstraint(name=...)) no longer match the database, so "
        "the next autogenerate drops and recreates it, and migrations that refer to the old "
        "name fail. A swap (a replacement built under a temporary name, then given the old "
        "one in the same revision) keeps the name the code uses, and is not flagged."
    ),
    fix="""\
# Code that names {old_sql} at run time breaks at once: make it name neither
# ({instead}error handlers that accept both names),
# deploy it first, and rename it in the models too.
op.execute('{statement}')""",
    bad=(
        """\
def upgrade():
    op.execute("ALTER INDEX ix_user_email RENAME TO ix_users_email")
""",
        """\
def upgrade():
    op.execute("ALTER TABLE users RENAME CONSTRAINT user_email_key TO uq_users_email")
""",
    ),
    good=(
        """\
def upgrade():
    op.create_index("ix_users_email_tmp", "users", ["email"])
    op.execute("ALTER INDEX ix_users_email_tmp RENAME TO ix_users_email")
""",
    ),
    since="0.2.0",
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    """Renames of indexes and constraints that existed before the revision, unless the old
    name is given to a new one in the revision, or the new name is one the revision freed
    (the two halves of a swap: the name the code uses goes on existing)."""
    for at, stmt in enumerate(rev.upgrade):
        renamed = _renamed(rev, stmt)
        if renamed is None:
            continue
        noun, table, old, new = renamed
        if _named_in(rev.upgrade[:at], table, old) or _named_in(rev.upgrade[at + 1 :], table, old):
            continue
        if _freed_in(rev.upgrade[:at], noun, table, new):
            continue
        if noun == "constraint" and named_in_revision(rev, at, table):
            continue
        if noun == "index" and _follows_a_table_rename(rev, at, table, new):
            continue
        constraint = noun == "constraint"
        of = f" of {table.sql}" if constraint else ""
        old_sql = quote_identifier(old) if constraint else table.sql  # an index's own schema
        uses = "ON CONFLICT ON CONSTRAINT, error handlers" if constraint else (
            "error handlers, query hints"
        )  # fmt: skip
        yield rev.finding(
            RULE,
            stmt,
            f"Renaming {noun} {old_sql}{of} to {quote_identifier(new)} breaks "
            f"code that names {quote_identifier(old)} ({uses}) and models that still declare "
            "it under that name.",
            old_sql=quote_identifier(old),
            instead="ON CONFLICT (columns) instead of ON CONFLICT ON CONSTRAINT,\n# "
            if constraint
            else "",
            statement=_statement(noun, table, old, new).replace("'", "\\'"),
        )


def _renamed(rev: RevisionContext, stmt: Statement) -> tuple[str, TableName, str, str] | None:
    """(noun, table or index, old name, new name) of an index or constraint rename of an
    existing table; an index is named by its own (schema, name)."""
    node = stmt.node
    if not isinstance(node, ast.RenameStmt) or stmt.table is None:
        return None
    if node.renameType == ObjectType.OBJECT_TABCONSTRAINT:
        return "constraint", stmt.table, node.subname, node.newname
    if node.renameType == ObjectType.OBJECT_INDEX or (
        node.renameType == ObjectType.OBJECT_TABLE and _known_index(rev, stmt.table)
    ):
        return "index", stmt.table, stmt.table.name, node.newname
    return None


def _follows_a_table_rename(rev: RevisionContext, at: int, index: TableName, new: str) -> bool:
    """The index belongs to a table the revision renamed (or made) before renaming it, as
    the earlier revisions tell, or its new name is its old one with the table's new name in
    it: part of that rename, which rename-table reports."""
    catalog = rev.schema_before
    known = catalog.indexes.get(index.key) if catalog is not None else None
    for stmt in rev.upgrade[:at]:
        node = stmt.node
        if not (isinstance(node, ast.RenameStmt) and node.renameType == ObjectType.OBJECT_TABLE):
            continue
        old_table = stmt.table
        if known is not None and known.table == old_table.key:
            return True
        if old_table.name in index.name and index.name.replace(old_table.name, node.newname) == new:
            return True
    if known is None:
        return False
    schema, name = known.table
    return named_in_revision(rev, at, TableName(None if schema == "public" else schema, name))


def _known_index(rev: RevisionContext, name: TableName) -> bool:
    """ALTER TABLE ... RENAME names an index the earlier revisions made (not a table)."""
    catalog = rev.schema_before
    return catalog is not None and name.key in catalog.indexes and name.key not in catalog.tables


def _named_in(statements: list[Statement], table: TableName, name: str) -> bool:
    """One of ``statements`` gives ``name`` to an index (in ``table``'s schema, for an
    index) or a constraint of ``table``: created in the revision, or given back later."""
    for stmt in statements:
        node = stmt.node
        if isinstance(node, ast.IndexStmt) and node.idxname == name:
            return True
        if isinstance(node, ast.RenameStmt) and node.newname == name:
            return True
        if stmt.table == table and any(
            cmd.def_.conname == name
            for cmd in alter_commands(node, AlterTableType.AT_AddConstraint)
        ):
            return True
        if isinstance(node, ast.CreateStmt) and any(
            isinstance(e, ast.Constraint) and e.conname == name for e in node.tableElts or ()
        ):
            return True
    return False


def _freed_in(statements: list[Statement], noun: str, table: TableName, name: str) -> bool:
    """One of ``statements`` frees ``name``: renames the index or constraint of that name to
    another, or drops it (an index in ``table``'s schema; a constraint of ``table``)."""
    if noun == "index":
        return any(_frees_index(stmt, (table.key[0], name)) for stmt in statements)
    return any(
        stmt.table is not None and stmt.table.key == table.key and _frees_constraint(stmt, name)
        for stmt in statements
    )


def _frees_index(stmt: Statement, key: tuple[str, str]) -> bool:
    node = stmt.node
    if isinstance(node, ast.RenameStmt) and node.renameType == ObjectType.OBJECT_INDEX:
        return stmt.table is not None and stmt.table.key == key
    if isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_INDEX:
        return any(dropped.key == key for dropped in dropped_tables(node))
    return False


def _frees_constraint(stmt: Statement, name: str) -> bool:
    node = stmt.node
    if isinstance(node, ast.RenameStmt) and node.renameType == ObjectType.OBJECT_TABCONSTRAINT:
        return node.subname == name
    return any(cmd.name == name for cmd in alter_commands(node, AlterTableType.AT_DropConstraint))


def _statement(noun: str, table: TableName, old: str, new: str) -> str:
    if noun == "constraint":
        return (
            f"ALTER TABLE {table.sql} RENAME CONSTRAINT {quote_identifier(old)} "
            f"TO {quote_identifier(new)}"
        )
    return f"ALTER INDEX {table.sql} RENAME TO {quote_identifier(new)}"
