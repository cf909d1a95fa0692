"""drop-type-still-used: DROP TYPE fails while a column still has that type."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ObjectType
from pglast.stream import maybe_double_quote_name

from migsafe.catalog import dotted_name
from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule, py_literal
from migsafe.rules._enums import columns_of_type
from migsafe.rules._same_revision import restricted_drops
from migsafe.sql import TableName, quote_identifier

RULE = Rule(
    code="MS073",
    name="drop-type-still-used",
    severity=Severity.ERROR,
    category=Category.ROLLBACK,
    help="Change the columns to another type (or drop them) before dropping the type.",
    references=(PG_DOCS + "sql-droptype.html", PG_DOCS + "ddl-depend.html"),
    directions=(UPGRADE, DOWNGRADE),
    since="0.3.0",
    summary="DROP TYPE of an enum (or other type) a column still has fails.",
    why=(
        'PostgreSQL refuses to drop a type while a column has it ("cannot drop type ... '
        'because other objects depend on it"), so the migration fails there: on deploy, or '
        "in downgrade(), exactly when a rollback is needed. It is the usual slip of an enum "
        "migration that drops the type first and changes the column after it "
        "(datajunction's downgrade). Change the column's type first (`postgresql_using=` "
        "with a cast), or drop the column; DROP TYPE ... CASCADE would drop the columns "
        "silently, data and all."
    ),
    fix="""\
# first the columns that have it, to another type (or dropped):
{first}
{statement}""",
    bad=(
        """\
def upgrade():
    op.execute("CREATE TYPE granularity AS ENUM ('day', 'hour')")
    op.create_table("partition", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("granularity", sa.Enum(name="granularity", create_type=False)))

def downgrade():
    op.execute("DROP TYPE granularity")
    op.alter_column("partition", "granularity", type_=sa.Text(),
                    postgresql_using="granularity::text")
""",
    ),
    good=(
        """\
def upgrade():
    op.execute("CREATE TYPE granularity AS ENUM ('day', 'hour')")
    op.create_table("partition", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("granularity", sa.Enum(name="granularity", create_type=False)))

def downgrade():
    op.alter_column("partition", "granularity", type_=sa.Text(),
                    postgresql_using="granularity::text")
    op.execute("DROP TYPE granularity")
""",
    ),
    fails=True,
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    for stmt, node, schema in restricted_drops(rev, RULE, ObjectType.OBJECT_TYPE):
        for dropped in node.objects or ():
            if not isinstance(dropped, ast.TypeName):
                continue
            key = dotted_name(dropped.names)
            using = columns_of_type(schema, key, rev.script.revision)
            if not using:
                continue
            listed = ", ".join(f'{table.sql}."{column}"' for table, column in using)
            yield rev.finding(
                RULE,
                stmt,
                f"DROP TYPE {quote_identifier(key[1])} fails: {listed} still "
                f"{'has' if len(using) == 1 else 'have'} it, and PostgreSQL does not drop a "
                "type a column depends on.",
                first="\n".join(_retyped(table, column) for table, column in using),
                statement=rev.own_statement(stmt),
            )


def _retyped(table: TableName, column: str) -> str:
    cast = py_literal(f"{maybe_double_quote_name(column)}::text")
    return (
        f"op.alter_column({py_literal(table.name)}, {py_literal(column)}, type_=sa.Text(), "
        f"postgresql_using={cast}{table.schema_argument})"
    )
