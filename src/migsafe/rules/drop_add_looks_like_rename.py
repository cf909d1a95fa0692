"""drop-add-looks-like-rename: autogenerate's version of a rename silently loses the data."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType
from pglast.visitors import Visitor

from migsafe.findings import Finding, Severity
from migsafe.revision import (
    RevisionContext,
    alter_commands,
    is_unknown_type,
    table_values,
    type_parts,
)
from migsafe.rule import Category, Rule
from migsafe.sql import TableName

RULE = Rule(
    code="MS003",
    name="drop-add-looks-like-rename",
    severity=Severity.WARNING,
    category=Category.COMPATIBILITY,
    help="If it is a rename, add the new column and copy the data before dropping the old one.",
    summary="Dropping one column and adding another on the same table looks like a lost rename.",
    why=(
        "Alembic's autogenerate cannot see renames: when a model attribute is renamed it emits "
        "drop_column for the old name and add_column for the new one. Run as written, every "
        "value of the old column is deleted and the new column starts empty."
    ),
    fix="""\
# If "{added}" is "{dropped}" renamed, keep the data: add, copy, drop later.
op.add_column({table!r}, sa.Column({added!r}, ...){schema})
op.execute('UPDATE {table_sql} SET "{added}" = "{dropped}"')  # in batches on big tables
# drop {dropped!r} in a later revision, once no running code reads it""",
    bad=(
        """\
def upgrade():
    op.drop_column("users", "fullname")
    op.add_column("users", sa.Column("full_name", sa.Text(), nullable=True))
""",
    ),
    good=(
        """\
def upgrade():
    op.add_column("users", sa.Column("full_name", sa.Text(), nullable=True))
    op.execute('UPDATE "users" SET "full_name" = "fullname"')
""",
    ),
)


class _ColumnsRead(Visitor):
    """The column names an expression reads, qualified or not."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def visit_ColumnRef(self, ancestors: object, node: ast.ColumnRef) -> None:
        last = node.fields[-1]
        if isinstance(last, ast.String):
            self.names.add(last.sval)


def _copies(node: ast.Node | None) -> Iterator[tuple[str, str]]:
    """(target, source) for each ``SET target = <expression>`` of an UPDATE that reads
    source, in the expression or in its WHERE (zenml's ``SET private = TRUE WHERE scope =
    'user'``): once carried over there, the source's values survive its drop."""
    if isinstance(node, ast.UpdateStmt):
        condition = _ColumnsRead()
        if node.whereClause is not None:
            condition(node.whereClause)
        for target in node.targetList or ():
            reader = _ColumnsRead()
            reader(target.val)
            for source in {*reader.names, *condition.names}:
                yield target.name, source


def check(rev: RevisionContext) -> Iterator[Finding]:
    """One column dropped and another added on a table, unless the data is copied across
    (or the new column is filled from other columns: pypn-ref-geo's ``SET geom_4326 =
    ST_Transform(geom, 4326)``, values of its own), the two hold different kinds of values
    (a flag dropped, a count added: no rename), or the names are the same (a destructive
    type change, not a rename). Whether the data is copied is told from the whole function:
    not when its capture stopped early, when some of its SQL could not be read, or when it
    read rows (mindsdb copies each row it reads, and offline there are none to copy)."""
    capture = rev.upgrade_capture
    if not capture.exact or capture.reads or any(stmt.node is None for stmt in rev.upgrade):
        return  # a copy may be in SQL not read (zenml's MySQL UPDATE with backticks)
    dropped: dict[TableName, list[tuple[str, int, ast.TypeName | None]]] = {}
    added: dict[TableName, list[tuple[str, int, ast.TypeName | None]]] = {}
    copied: set[tuple[TableName, str, str]] = set()
    for stmt in rev.existing_table_statements(RULE):
        for cmd in alter_commands(stmt.node, AlterTableType.AT_DropColumn):
            kind = rev.column_before(stmt, cmd.name, "type")
            dropped.setdefault(stmt.table, []).append((cmd.name, stmt.line, kind))
        for cmd in alter_commands(stmt.node, AlterTableType.AT_AddColumn):
            added.setdefault(stmt.table, []).append(
                (cmd.def_.colname, stmt.line, cmd.def_.typeName)
            )
        copied.update((stmt.table, target, source) for target, source in _copies(stmt.node))
    for table, drops in dropped.items():
        adds = added.get(table, [])
        if len(drops) != 1 or len(adds) != 1:
            continue
        (old, drop_line, old_type), (new, add_line, new_type) = drops[0], adds[0]
        families = {_family(old_type), _family(new_type)} - {None}
        if len(families) > 1:
            continue
        filled = any(target == new for where, target, _ in copied if where == table)
        if old != new and not filled:  # filled from other columns: a value of its own
            yield rev.finding(
                RULE,
                drop_line,
                f'Column "{old}" of {table.sql} is dropped and "{new}" added (line {add_line}): '
                f'if this is a rename, every value in "{old}" is lost.',
                **table_values(table),
                dropped=old,
                added=new,
            )


_FAMILIES = {
    **dict.fromkeys(("int2", "int4", "int8", "numeric", "float4", "float8"), "number"),
    **dict.fromkeys(("varchar", "text", "bpchar", "char", "citext", "name"), "text"),
    **dict.fromkeys(("timestamp", "timestamptz", "date", "time", "timetz"), "time"),
    **dict.fromkeys(("json", "jsonb"), "json"),
}


def _family(type_node: ast.TypeName | None) -> str | None:
    """What kind of value a column holds, as far as a rename goes: a rename may widen a
    varchar to text, never turn a boolean into a count (None: not known, any may match)."""
    if type_node is None or is_unknown_type(type_node):
        return None
    name = type_parts(type_node)[0]
    return _FAMILIES.get(name, name)
