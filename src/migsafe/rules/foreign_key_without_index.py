"""foreign-key-without-index: deleting from the referenced table scans the referencing one."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ConstrType

from migsafe.catalog import Catalog
from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext, table_values
from migsafe.rule import PG_DOCS, Category, Rule, py_literal
from migsafe.sql import TableName
from migsafe.sqltree import constraints_added

RULE = Rule(
    code="MS053",
    name="foreign-key-without-index",
    severity=Severity.NOTICE,
    category=Category.SCHEMA,
    help="Index the referencing columns (an index that starts with them).",
    references=(PG_DOCS + "ddl-constraints.html#DDL-CONSTRAINTS-FK",),
    summary="A foreign key's referencing columns have no index.",
    why=(
        "PostgreSQL indexes the referenced side of a foreign key (it must be unique) but not "
        "the referencing columns. Without an index there, every DELETE from the referenced "
        "table, and every UPDATE of its key, scans the whole referencing table to find the "
        "rows that point at it (or to cascade to them), once per row, while its locks are "
        "held: deleting a thousand users reads the orders table a thousand times. Joins "
        "from a row to its children want the same index. Any index whose leading columns "
        "are the foreign key's serves (a primary key or unique constraint too), including "
        "one created later in the same revision; the schema the earlier revisions built "
        "counts as well. A small table rarely deleted from may do without."
    ),
    fix="{create_index}",
    bad=(
        """\
def upgrade():
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), sa.ForeignKey("users.id"), nullable=False),
    )
""",
    ),
    good=(
        """\
def upgrade():
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), sa.ForeignKey("users.id"), nullable=False),
    )
    op.create_index("orders_user_id_idx", "orders", ["user_id"])
""",
    ),
    opt_in=True,
    since="0.2.0",
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    added = [
        (stmt, stmt.table, columns, constraint)
        for stmt in rev.statements(RULE)
        if stmt.table is not None
        for constraint, columns in _foreign_keys(stmt.node)
    ]
    if not added:
        return
    after = schema_after(rev)
    for stmt, table, columns, constraint in added:
        known = after.table(table.key)
        if known is None or not any(
            c.kind == "foreign key" and c.columns == columns for c in known.constraints.values()
        ):
            continue  # a table the history does not show, or a key dropped again
        if any(_serves(index, columns) for index in after.indexes_of(table.key)):
            continue
        referred = TableName.of(constraint.pktable)
        listed = ", ".join(f'"{c}"' for c in columns)
        new = table in rev.tables_created or rev.is_new_table(stmt)
        yield rev.finding(
            RULE,
            stmt,
            f"The foreign key {table.sql}({listed}) has no index that starts with its "
            f"columns: each DELETE from {referred.sql if referred else 'the referenced table'} "
            f"scans {table.sql} for the rows that refer to it.",
            create_index=_create_index(table, columns, new),
        )


def schema_after(rev: RevisionContext) -> Catalog:
    """The schema once the revision's upgrade has run: the earlier revisions' plus its own."""
    catalog = (rev.schema_before or Catalog()).copy()
    for stmt in rev.upgrade:
        if stmt.applied is not None:
            catalog.apply(stmt.applied, rev.script.revision)
    return catalog


def _foreign_keys(node: ast.Node | None) -> Iterator[tuple[ast.Constraint, tuple[str, ...]]]:
    """Each foreign key a statement adds, with its referencing columns."""
    for constraint, column in constraints_added(node):
        if constraint.contype == ConstrType.CONSTR_FOREIGN:
            columns = tuple(a.sval for a in constraint.fk_attrs or ())
            yield constraint, columns or ((column,) if column else ())


def _serves(index: object, columns: tuple[str, ...]) -> bool:
    """True when the index's leading columns are the foreign key's (in any order), with no
    predicate: lookups by the key's values can use it."""
    leading = index.columns[: len(columns)]
    return index.where is None and None not in leading and set(leading) == set(columns)


def _create_index(table: TableName, columns: tuple[str, ...], new: bool) -> str:
    values = table_values(table)
    name = py_literal(f"{table.name}_{'_'.join(columns)}_idx")
    call = (
        f"op.create_index(op.f({name}), {py_literal(values['table'])}, {py_literal(list(columns))}"
    )
    if new:  # no rows yet: no need to build it concurrently
        return f"{call}{values['schema']})"
    return (
        "with op.get_context().autocommit_block():\n"
        f"    {call}, postgresql_concurrently=True{values['schema']})"
    )
