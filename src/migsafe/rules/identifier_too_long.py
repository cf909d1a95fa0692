"""identifier-too-long: PostgreSQL silently cuts a name to its first 63 bytes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from pglast import ast
from pglast.enums import AlterTableType, ObjectType
from pglast.parser import ParseError, scan

from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext, alter_commands
from migsafe.rule import PG_DOCS, Category, Rule
from migsafe.rules._columns import alembics_own
from migsafe.sql import Statement

RULE = Rule(
    code="MS051",
    name="identifier-too-long",
    severity=Severity.WARNING,
    category=Category.SCHEMA,
    help="Keep every name within 63 bytes (UTF-8): PostgreSQL cuts longer ones.",
    references=(PG_DOCS + "sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS",),
    summary="A table, column, index, constraint or sequence name is longer than 63 bytes.",
    why=(
        "PostgreSQL keeps the first 63 bytes of a name (NAMEDATALEN - 1; bytes of UTF-8, so "
        "fewer characters when they are not ASCII) and drops the rest with only a NOTICE: the "
        "object in the database is not called what the code calls it. SQL that names it in "
        "full is cut the same way and still works, but everything that compares names does "
        "not: SQLAlchemy refuses an index or constraint name over 63 characters, so a later "
        "op.drop_index() or op.drop_constraint() with the full name fails; reflection "
        "(inspect(), has_table()) returns the short name, so autogenerate proposes to drop "
        "and create the object again; and two names that agree on their first 63 bytes "
        'collide ("relation already exists"). Names SQLAlchemy shortens itself, with a hash '
        "(op.f() and naming conventions), are not flagged. An operation SQLAlchemy refuses "
        "to render for a name over 63 characters fails on every database: that is an error."
    ),
    fix="""\
# name the {kind} in 63 bytes or fewer, here and wherever the code names it: this name has
# {length} bytes, and PostgreSQL would keep only "{truncated}\"""",
    bad=(
        """\
def upgrade():
    op.add_column(
        "subscriptions",
        sa.Column("notify_customer_by_email_when_the_subscription_is_about_to_renew", sa.Text()),
    )
""",
    ),
    good=(
        """\
def upgrade():
    op.add_column("subscriptions", sa.Column("renewal_email", sa.Text()))
""",
    ),
    opt_in=False,
    since="0.2.0",
)

LIMIT = 63  # NAMEDATALEN - 1
_RENAMED = {
    ObjectType.OBJECT_TABLE: "table",
    ObjectType.OBJECT_COLUMN: "column",
    ObjectType.OBJECT_INDEX: "index",
    ObjectType.OBJECT_SEQUENCE: "sequence",
    ObjectType.OBJECT_TABCONSTRAINT: "constraint",
    ObjectType.OBJECT_VIEW: "view",
    ObjectType.OBJECT_MATVIEW: "materialized view",
    ObjectType.OBJECT_TYPE: "type",
    ObjectType.OBJECT_SCHEMA: "schema",
}


def check(rev: RevisionContext) -> Iterator[Finding]:
    for stmt in rev.statements(RULE):
        if stmt.node is None:
            yield from _refused(rev, stmt)
            continue
        if stmt.table is not None and alembics_own(stmt.table):
            continue
        # the parser has already cut the names: a cut one is 60 to 63 bytes long
        defined = {n: kind for n, kind in _names_defined(stmt.node) if _size(n) > LIMIT - 4}
        if not defined:
            continue
        seen: set[str] = set()
        for name in _identifiers(stmt.sql):
            truncated = clip(name)
            kind = defined.get(truncated)
            if _size(name) <= LIMIT or kind is None or name in seen:
                continue
            seen.add(name)
            yield rev.finding(
                RULE,
                stmt,
                f'{kind.capitalize()} name "{name}" is {_size(name)} bytes: PostgreSQL silently '
                f"keeps only its first {LIMIT}.",
                kind=kind,
                length=_size(name),
                truncated=truncated,
            )


# SQLAlchemy's refusal to render a name longer than the dialect allows
_REFUSED = re.compile(r"^IdentifierError: Identifier '(?P<name>.+)' exceeds maximum length")


def _refused(rev: RevisionContext, stmt: Statement) -> Iterator[Finding]:
    """An operation SQLAlchemy would not render for the name's length: it fails on every
    database (nonebot-plugin-user drops a key of 64 characters, inside a try/except that
    then hides it), which is an error, not a name cut short."""
    refused = _REFUSED.match(stmt.error or "")
    if refused is None:
        return
    name = refused.group("name")
    kind = "index" if "Index" in type(stmt.operation).__name__ else "constraint"
    finding = rev.finding(
        RULE,
        stmt,
        f'{kind.capitalize()} name "{name}" has {len(name)} characters: SQLAlchemy refuses '
        f"to render it for PostgreSQL (at most {LIMIT}), so this operation fails on every "
        "database.",
        kind=kind,
        length=_size(name),
        truncated=clip(name),
    )
    yield replace(finding, severity=Severity.ERROR)


def clip(name: str) -> str:
    """``name`` as PostgreSQL keeps it: its first 63 bytes, never half a character."""
    return name.encode()[:LIMIT].decode("utf-8", errors="ignore")


def _size(name: str) -> int:
    return len(name.encode())


def _identifiers(sql: str) -> Iterator[str]:
    """Every identifier of a statement as written, before PostgreSQL cuts it: quoted ones
    unquoted, the others lowercased (ASCII letters only, as PostgreSQL does)."""
    try:
        tokens = scan(sql)
    except ParseError:
        return
    for token in tokens:
        if token.name != "IDENT":
            continue
        text = sql[token.start : token.end + 1]
        if text.startswith('"') and text.endswith('"') and len(text) > 1:
            yield text[1:-1].replace('""', '"')
        else:
            yield "".join(c.lower() if c.isascii() else c for c in text)


def _names_defined(node: ast.Node | None) -> Iterator[tuple[str, str]]:
    """The names a statement gives (as parsed, so already cut), each with what it names."""
    if isinstance(node, ast.CreateStmt):
        yield node.relation.relname, "table"
        for element in node.tableElts or ():
            if isinstance(element, ast.ColumnDef):
                yield element.colname, "column"
                yield from _constraint_names(element.constraints)
            else:
                yield from _constraint_names([element])
    elif isinstance(node, ast.AlterTableStmt):
        for command in alter_commands(node, AlterTableType.AT_AddColumn):
            yield command.def_.colname, "column"
            yield from _constraint_names(command.def_.constraints)
        for command in alter_commands(node, AlterTableType.AT_AddConstraint):
            yield from _constraint_names([command.def_])
    elif isinstance(node, ast.IndexStmt) and node.idxname:
        yield node.idxname, "index"
    elif isinstance(node, ast.CreateSeqStmt):
        yield node.sequence.relname, "sequence"
    elif isinstance(node, ast.RenameStmt) and node.renameType in _RENAMED:
        yield node.newname, _RENAMED[node.renameType]
    elif isinstance(node, ast.ViewStmt):
        yield node.view.relname, "view"
    elif isinstance(node, ast.CreateTableAsStmt):
        kind = "materialized view" if node.objtype == ObjectType.OBJECT_MATVIEW else "table"
        yield node.into.rel.relname, kind
    elif isinstance(node, ast.CreateEnumStmt):
        yield node.typeName[-1].sval, "type"
    elif isinstance(node, ast.CreateSchemaStmt) and node.schemaname:
        yield node.schemaname, "schema"


def _constraint_names(constraints: object) -> Iterator[tuple[str, str]]:
    for constraint in constraints or ():
        if isinstance(constraint, ast.Constraint) and constraint.conname:
            yield constraint.conname, "constraint"
