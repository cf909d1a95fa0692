"""enum-labels-not-added: alter_column() to an enum of the same name with new labels, which
PostgreSQL takes for the type the column has already."""

from __future__ import annotations

from collections.abc import Iterator

from alembic.operations import ops
from pglast import ast

from migsafe.capture.stood_in_arguments import has_stood_in_labels
from migsafe.catalog import Name, dotted_name
from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule, sql_code
from migsafe.rules._enums import enum_key, enum_type, native_enum
from migsafe.sql import Statement, TableName, add_enum_values

RULE = Rule(
    code="MS067",
    name="enum-labels-not-added",
    severity=Severity.ERROR,
    category=Category.COMPATIBILITY,
    help="Add the labels to the type itself: ALTER TYPE ... ADD VALUE, in an autocommit block.",
    references=(PG_DOCS + "sql-altertype.html", PG_DOCS + "datatype-enum.html"),
    directions=(UPGRADE, DOWNGRADE),
    since="0.3.0",
    summary="alter_column() to an enum of the same name with more labels adds none of them.",
    why=(
        "An enum's labels belong to its type, not to the column. op.alter_column() with "
        "type_=sa.Enum(..., name=<the column's type>) renders ALTER COLUMN ... TYPE <that "
        "type>: PostgreSQL changes nothing, and the new labels do not exist. The migration "
        "passes, and the first INSERT of a new value fails in production with 'invalid "
        "input value for enum'. So does an alter_column() that gives the enum with the "
        "new labels as existing_type= and no type_= (on MySQL, whose MODIFY writes the "
        "existing type out, that adds them). ALTER TYPE ... ADD VALUE adds a label; in an "
        "autocommit block it is committed before anything uses it."
    ),
    fix="""\
with op.get_context().autocommit_block():  # {where}
{statements}""",
    bad=(
        """\
def upgrade():
    op.execute("CREATE TYPE network_type AS ENUM ('flat', 'vlan')")
    op.execute("CREATE TABLE networks (id integer PRIMARY KEY, kind network_type)")
    op.alter_column("networks", "kind",
                    type_=sa.Enum("flat", "vlan", "vxlan", name="network_type"),
                    existing_type=sa.Enum("flat", "vlan", name="network_type"))
""",
    ),
    good=(
        """\
def upgrade():
    op.execute("CREATE TYPE network_type AS ENUM ('flat', 'vlan')")
    op.execute("CREATE TABLE networks (id integer PRIMARY KEY, kind network_type)")
    with op.get_context().autocommit_block():
        op.execute("ALTER TYPE network_type ADD VALUE IF NOT EXISTS 'vxlan'")
""",
    ),
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    judged: set[int] = set()  # one alter_column() renders the type and NOT NULL apart
    for stmt in rev.statements(RULE):
        operation = stmt.operation
        if not isinstance(operation, ops.AlterColumnOp) or stmt.table is None:
            continue
        if id(operation) in judged:
            continue
        judged.add(id(operation))
        enum = native_enum(operation)
        claimed = enum is None and operation.modify_type is None  # MySQL's MODIFY idiom
        if claimed:
            enum = enum_type(operation.existing_type)
        if enum is None or has_stood_in_labels(enum):
            continue  # neutron's labels from neutron_lib.constants: which are new is unknown
        schema = rev.schema_at(stmt)
        name = enum_key(enum)
        labels = schema.enums.get(name) if schema is not None and schema.exact else None
        if labels is None:
            continue  # a new type, or one the schema does not know: enum-type-missing's
        current = rev.column_before(stmt, operation.column_name, "type")
        if current is None or dotted_name(current.names) != name:
            continue  # another type: a real change (change-column-type's)
        added = [label for label in enum.enums if label not in labels]
        added = [label for label in added if not _added_later(rev, stmt, name, label)]
        if not added:
            continue
        type_sql = TableName.from_key(name).sql
        listed = ", ".join(f"'{label}'" for label in added)
        column = f'{stmt.table.sql}."{operation.column_name}"'
        said = (
            f"with existing_type= an enum named {type_sql} with more labels adds none: "
            "existing_type only says what the column is (MySQL's MODIFY writes it out, "
            "PostgreSQL's ALTER does not), so"
            if claimed
            else f"to an enum named {type_sql}, the type it has, adds no label:"
        )
        yield rev.finding(
            RULE,
            stmt,
            f"alter_column() of {column} {said} {listed} "
            f"{'is' if len(added) == 1 else 'are'} not in the type after it, and the first "
            "row that uses one fails.",
            where=(
                "besides the alter_column(), which keeps its other changes"
                if claimed
                else "in place of the alter_column()"
            ),
            statements="\n".join(
                f"    op.execute({sql_code(statement)})"
                for statement in add_enum_values(type_sql, labels, enum.enums, only=added)
            ),
        )


def _added_later(rev: RevisionContext, stmt: Statement, name: Name, label: str) -> bool:
    """The same function gives the type the label later (gnocchi's alter_column() is a
    no-op on PostgreSQL, and the PostgreSQL branch after it swaps the type for one with
    the new labels)."""
    statements = rev.downgrade if stmt.direction == DOWNGRADE else rev.upgrade
    for later in statements[rev.index_of(stmt) + 1 :]:
        node = later.node
        if isinstance(node, (ast.CreateEnumStmt, ast.AlterEnumStmt)):
            made = dotted_name(node.typeName)
            if isinstance(node, ast.CreateEnumStmt):
                values = [value.sval for value in node.vals or () if isinstance(value, ast.String)]
            else:
                values = [node.newVal]
            if made == name and label in values:
                return True
    return False
