"""drop-column: the code still running during the deploy selects and inserts the column."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType, ObjectType

from migsafe.catalog import BATCH_COPY, sql_text
from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext, alter_commands
from migsafe.rule import PG_DOCS, Category, Rule, py_literal
from migsafe.rules import drop_add_looks_like_rename
from migsafe.rules._same_revision import dropped_tables, named_in_revision
from migsafe.sql import Statement, TableName, quote_identifier

RULE = Rule(
    code="MS037",
    name="drop-column",
    severity=Severity.WARNING,
    category=Category.COMPATIBILITY,
    help="Deploy code that no longer maps the column first; drop it in a later revision.",
    references=(PG_DOCS + "sql-altertable.html#SQL-ALTERTABLE-DESC-DROP-COLUMN",),
    summary="Dropping a column breaks running code whose model still selects and inserts it.",
    why=(
        "During a rolling deploy the old version of the application keeps running until the "
        "new one has replaced it. Its ORM model still lists the column, so every SELECT of "
        'the model and every INSERT names it, and each fails with "column does not exist" '
        "from the moment the migration commits. Dropping a column is a contract step: it "
        "belongs in a revision deployed after the code that stopped using the column."
    ),
    fix="""\
# {header}
{steps}""",
    bad=(
        """\
def upgrade():
    op.drop_column("users", "legacy_flags")
""",
        """\
def upgrade():
    op.execute("ALTER TABLE users DROP COLUMN legacy_flags")
""",
    ),
    good=(
        """\
def upgrade():
    op.add_column("users", sa.Column("nickname", sa.Text(), nullable=True))
""",
        """\
def upgrade():
    op.create_table("drafts", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("body", sa.Text()))
    op.drop_column("drafts", "body")
""",
    ),
    since="0.2.0",
)

_CONTRACT = "A contract step, after the deploy: no code then running may use {columns}."
_AGAIN_HEADER = (
    "Dropped and added again, {column} loses its values while the running code reads it."
)
_AGAIN = """\
{change}
# or add a new column beside it, backfill it, deploy code that reads it, then drop
# {column} in a later revision."""
_UNMAP = """\
# {n}. deploy code without {columns} (remove from the model, or leave unmapped
#    meanwhile: __mapper_args__ = {{"exclude_properties": {names}}})
"""
_STEPS = (
    _UNMAP
    + """\
# {m}. then, in a later revision{now}:
{drops}"""
)
# NOT NULL without a default: the code that stops writing the column needs it nullable first
_STRICT_STEPS = (
    """\
# 1. this revision: let inserts leave it out (NOT NULL without a default)
{relax}
"""
    + _STEPS
)


def _keys_going(rev: RevisionContext, stmt: Statement, columns: list[str]) -> str:
    """The primary key and unique constraints PostgreSQL drops with the columns, said: the
    table is left without them (manila drops ``host`` of drivers_private_data's key), unless
    the revision adds one back after."""
    schema = rev.schema_at(stmt)
    table = schema.tables.get(stmt.table.key) if schema is not None and stmt.table else None
    if table is None:
        return ""
    keys = [
        c for c in table.constraints.values()
        if c.kind in ("primary key", "unique") and set(c.columns) & set(columns)
    ]  # fmt: skip
    if not keys:
        return ""
    back = {
        cmd.def_.contype
        for later in rev.upgrade[rev.index_of(stmt) + 1 :]
        if later.table == stmt.table
        for cmd in alter_commands(later.node, AlterTableType.AT_AddConstraint)
    }
    said = []
    for key in keys:
        kind = "primary key" if key.kind == "primary key" else "unique constraint"
        on = ", ".join(quote_identifier(c) for c in key.columns)
        again = " (added back after)" if _KIND_OF.get(key.kind) in back else ""
        said.append(f"{kind} {quote_identifier(key.name)} ({on}){again}")
    it = "it" if len(columns) == 1 else "them"
    return f"; and PostgreSQL drops {' and '.join(said)} with {it}"


# the constraint kinds as pglast's ConstrType names them
_KIND_OF = {"primary key": ConstrType.CONSTR_PRIMARY, "unique": ConstrType.CONSTR_UNIQUE}


def _renames_column(node: object) -> bool:
    return isinstance(node, ast.RenameStmt) and node.renameType == ObjectType.OBJECT_COLUMN


def check(rev: RevisionContext) -> Iterator[Finding]:
    """Columns of existing tables dropped in upgrade(): not one added (or renamed to) earlier
    in the same function, not the drop that drop-add-looks-like-rename reports as a lost
    rename, not one added again or renamed to later (which only an upgrade() captured to its
    end tells)."""
    renamed = _reported_as_renames(rev)
    added: set[tuple[TableName, str]] = set()
    for at, stmt in enumerate(rev.upgrade):
        table = stmt.table
        for cmd in alter_commands(stmt.node, AlterTableType.AT_AddColumn):
            added.add((table, cmd.def_.colname))
        if _renames_column(stmt.node):  # fides renames a column aside, then drops it
            added.add((table, stmt.node.newname))
        dropped = [
            cmd.name
            for cmd in alter_commands(stmt.node, AlterTableType.AT_DropColumn)
            if (table, cmd.name) not in added
        ]
        if not dropped or (table, stmt.line) in renamed or named_in_revision(rev, at, table):
            continue
        again = _added_later(rev, at, table)
        replaced = set(again) | _renamed_to(rev, at, table)
        gone = [name for name in dropped if name not in replaced]
        if gone and rev.upgrade_capture.exact:  # else it may come back past the capture
            one = len(gone) == 1
            columns = ", ".join(quote_identifier(name) for name in gone)
            yield rev.finding(
                RULE,
                stmt,
                f"Dropping {'column' if one else 'columns'} {columns} of {table.sql} breaks "
                f"the running application if its model still maps {'it' if one else 'them'}: "
                "every SELECT and INSERT of the model names "
                f"{'it' if one else 'them'} until the new code is deployed"
                f"{_keys_going(rev, stmt, gone)}.",
                header=_CONTRACT.format(columns=columns),
                steps=_steps(rev, table, gone, columns),
            )
        if _emptied_before(rev, at, table):
            continue  # no value to lose: the function emptied the table first
        computed = _generated_later(rev, at, table)
        for name in (name for name in dropped if name in again and name not in computed):
            column = quote_identifier(name)
            line, definition = again[name]
            yield rev.finding(
                RULE,
                stmt,
                f"Column {column} of {table.sql} is dropped and added again (line "
                f"{line}): every value in it is lost, and the running code reads NULL "
                "in their place.",
                header=_AGAIN_HEADER.format(column=column),
                steps=_AGAIN.format(change=_in_place(rev, stmt, table, definition), column=column),
            )
    yield from _lost_in_swaps(rev)


def _lost_in_swaps(rev: RevisionContext) -> Iterator[Finding]:
    """A table dropped and replaced by another renamed into its place (networking-odl's
    journal, copied into ``opendaylightjournal_new``): the running code's queries of the
    name reach the replacement, and a column it lacks is gone as if it were dropped."""
    if not rev.upgrade_capture.exact:
        return
    for at, stmt in enumerate(rev.upgrade):
        node = stmt.node
        if not (isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_TABLE):
            continue
        schema = rev.schema_at(stmt)
        for table in dropped_tables(node):
            old = schema.table(table.key) if schema is not None else None
            if old is None or old.partial or named_in_revision(rev, at, table):
                continue
            columns = list(old.columns)
            swap = _renamed_into_place(rev, at, table)
            if swap is None:
                continue
            rename, replacement = swap
            new = rev.schema_at(rename)
            kept = new.table(replacement.key) if new is not None else None
            if kept is None or kept.partial:
                continue
            gone = [name for name in columns if name not in kept.columns]
            if not gone:
                continue
            one = len(gone) == 1
            names = ", ".join(quote_identifier(name) for name in gone)
            replaced = (  # cloudkitty renames a column in a batch block that recreates
                f"rebuilt by a batch_alter_table() block (line {rename.line})"
                if replacement.name.startswith(BATCH_COPY)
                else f"replaced by {replacement.sql} (renamed into its place at line {rename.line})"
            )
            yield rev.finding(
                RULE,
                stmt,
                f"Table {table.sql} is {replaced}, which leaves out "
                f"{'column' if one else 'columns'} {names}: "
                f"the running application's model still maps {'it' if one else 'them'}, and "
                "every SELECT and INSERT of the model fails until the new code is deployed.",
                header=_CONTRACT.format(columns=names),
                steps=_steps(rev, table, gone, names),
            )


def _renamed_into_place(
    rev: RevisionContext, at: int, table: TableName
) -> tuple[Statement, TableName] | None:
    """The later statement of upgrade() that renames another table to ``table``'s name,
    and that table, unless one is created under the name first."""
    for stmt in rev.upgrade[at + 1 :]:
        node = stmt.node
        if isinstance(node, ast.CreateStmt) and TableName.of(node.relation) == table:
            return None
        if (
            isinstance(node, ast.RenameStmt) and node.renameType == ObjectType.OBJECT_TABLE
            and TableName(node.relation.schemaname or None, node.newname) == table
        ):  # fmt: skip
            source = TableName.of(node.relation)
            return (stmt, source) if source is not None else None
    return None


def _in_place(rev: RevisionContext, stmt: Statement, table: TableName, added: ast.ColumnDef) -> str:
    """The change that keeps the values: of the type, converting them; where the column
    comes back with the type it had (zun drops ``request_id`` and adds it back NULL), of
    its NULL alone, or none."""
    name = added.colname
    before = rev.column_before(stmt, name, "type")
    if before is None or sql_text(before) != sql_text(added.typeName):
        using = f", type_=..., postgresql_using='{quote_identifier(name)}::...'"
        return "# Keep the data: change the column in place, converting its values,\n" + _call(
            "alter_column", table, name, using + table.schema_argument
        )
    nullable = not any(
        c.contype in (ConstrType.CONSTR_NOTNULL, ConstrType.CONSTR_PRIMARY)
        for c in added.constraints or ()
    )
    if rev.column_before(stmt, name, "nullable") in (None, nullable):
        return f"# Keep the data: it comes back as it was ({sql_text(before)}): leave out both"
    return (
        f"# Keep the data: it keeps its type ({sql_text(before)}); change its NULL in place,\n"
        + _call("alter_column", table, name, f", nullable={nullable}{table.schema_argument}")
    )


def _renamed_to(rev: RevisionContext, at: int, table: TableName) -> set[str]:
    """The names upgrade() gives columns of ``table`` after its statement ``at``: a column
    renamed to a dropped one's name takes its place (a change of type, if any, is
    change-column-type's)."""
    return {
        stmt.node.newname
        for stmt in rev.upgrade[at + 1 :]
        if stmt.table == table
        and isinstance(stmt.node, ast.RenameStmt)
        and stmt.node.renameType == ObjectType.OBJECT_COLUMN
    }


def _emptied_before(rev: RevisionContext, at: int, table: TableName) -> bool:
    """upgrade() deletes every row of ``table`` (DELETE without WHERE, TRUNCATE) before its
    statement ``at``: dropping a column then loses no value."""
    for stmt in rev.upgrade[:at]:
        node = stmt.node
        if isinstance(node, ast.DeleteStmt) and node.whereClause is None and stmt.table == table:
            return True
        if isinstance(node, ast.TruncateStmt) and any(
            TableName.of(relation) == table for relation in node.relations or ()
        ):
            return True
    return False


def _added_later(
    rev: RevisionContext, at: int, table: TableName
) -> dict[str, tuple[int, ast.ColumnDef]]:
    """The columns upgrade() adds to ``table`` after its statement ``at``: the line and the
    definition of each."""
    added: dict[str, tuple[int, ast.ColumnDef]] = {}
    for stmt in rev.upgrade[at + 1 :]:
        if stmt.table == table:
            for cmd in alter_commands(stmt.node, AlterTableType.AT_AddColumn):
                added.setdefault(cmd.def_.colname, (stmt.line, cmd.def_))
    return added


def _generated_later(rev: RevisionContext, at: int, table: TableName) -> set[str]:
    """The columns added back later as generated columns (tacker's ``GENERATED ALWAYS AS
    (...) STORED``): PostgreSQL computes every value again, none is lost."""
    return {
        cmd.def_.colname
        for stmt in rev.upgrade[at + 1 :]
        if stmt.table == table
        for cmd in alter_commands(stmt.node, AlterTableType.AT_AddColumn)
        if any(c.contype == ConstrType.CONSTR_GENERATED for c in cmd.def_.constraints or ())
    }


def _steps(rev: RevisionContext, table: TableName, dropped: list[str], columns: str) -> str:
    """The recipe's steps; one more first when a column is NOT NULL without a default (as
    the earlier revisions left it): the code that stops writing it could not insert."""
    schema = table.schema_argument
    values = {
        "columns": columns,
        "names": py_literal(dropped),
        "drops": "\n".join(_call("drop_column", table, name, schema) for name in dropped),
    }
    strict = [name for name in dropped if _strict(rev, table, name)]
    if not strict:
        return _STEPS.format(n=1, m=2, now=" (this one, if that code is out already)", **values)
    relax = "\n".join(_relaxed(rev, table, name) for name in strict)
    return _STRICT_STEPS.format(n=2, m=3, now="", relax=relax, **values)


def _relaxed(rev: RevisionContext, table: TableName, name: str) -> str:
    """The call that lets inserts leave the column out; for a column of the primary key,
    which cannot be NULL (manila's ``host`` of drivers_private_data), the key to give the
    table first."""
    known = rev.schema_before.table(table.key) if rev.schema_before else None
    key = next((c for c in known.constraints.values() if c.kind == "primary key"
                and name in c.columns), None) if known is not None else None  # fmt: skip
    if key is None:
        return _call("alter_column", table, name, table.schema_argument + ", nullable=True")
    kept = ", ".join(quote_identifier(c) for c in key.columns if c != name) or "..."
    return (
        f"# {quote_identifier(name)} is in the primary key {quote_identifier(key.name)}, "
        "whose columns cannot be NULL: give the table\n"
        f"# its new key first (CREATE UNIQUE INDEX CONCURRENTLY on ({kept}), then drop "
        f"{quote_identifier(key.name)}\n# and ADD PRIMARY KEY USING INDEX)"
    )


def _call(function: str, table: TableName, column: str, rest: str) -> str:
    return f"op.{function}({py_literal(table.name)}, {py_literal(column)}{rest})"


def _strict(rev: RevisionContext, table: TableName, name: str) -> bool:
    """NOT NULL without a default or identity, as the earlier revisions made the column."""
    known = rev.schema_before.table(table.key) if rev.schema_before else None
    column = known.columns.get(name) if known is not None else None
    return (
        column is not None and not column.nullable and column.default is None
        and not column.identity
    )  # fmt: skip


def _reported_as_renames(rev: RevisionContext) -> set[tuple[TableName, int]]:
    """(table, line) of the drops drop-add-looks-like-rename reports: it pairs exactly one
    drop with one add on a table, and its finding is at the drop."""
    lines = {finding.line for finding in drop_add_looks_like_rename.check(rev)}
    drops: dict[TableName, list[int]] = {}
    for stmt in rev.existing_table_statements(RULE):
        for _ in alter_commands(stmt.node, AlterTableType.AT_DropColumn):
            drops.setdefault(stmt.table, []).append(stmt.line)
    return {(table, at[0]) for table, at in drops.items() if len(at) == 1 and at[0] in lines}
