"""drop-index-of-constraint: DROP INDEX fails on the index a UNIQUE or PRIMARY KEY owns."""

from __future__ import annotations

from collections.abc import Iterator

from pglast.enums import ObjectType

from migsafe.catalog import DEFAULT_SCHEMA, Catalog, Constraint
from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule, py_literal
from migsafe.sql import Statement, TableName
from migsafe.sqltree import dropped_names

_TABLE = """\
def upgrade():
    op.create_table(
        "containers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(255)),
        sa.UniqueConstraint("name", name="uniq_container0name"),
    )
"""  # what both examples create

RULE = Rule(
    code="MS065",
    name="drop-index-of-constraint",
    severity=Severity.ERROR,
    category=Category.ROLLBACK,
    help="Drop the constraint instead: its index goes with it.",
    references=(PG_DOCS + "sql-dropindex.html", PG_DOCS + "sql-altertable.html"),
    directions=(UPGRADE, DOWNGRADE),
    since="0.3.0",
    summary="DROP INDEX of the index a UNIQUE, PRIMARY KEY or EXCLUDE constraint owns fails.",
    why=(
        "A UNIQUE, PRIMARY KEY or EXCLUDE constraint is enforced by an index of the same "
        'name, which belongs to the constraint: PostgreSQL refuses to drop it ("cannot drop '
        'index ... because constraint ... requires it"), so the migration fails there, on '
        "deploy or, in downgrade(), when a rollback is needed. It happens when a constraint "
        "was made with sa.UniqueConstraint or create_unique_constraint and is removed as if "
        "it were an index (op.drop_index)."
    ),
    fix="""\
op.drop_constraint({name}, {table}, type_={kind}{schema})  # its index goes with it""",
    bad=(
        _TABLE
        + """

def downgrade():
    op.drop_index("uniq_container0name", table_name="containers")
    op.drop_table("containers")
""",
    ),
    good=(
        _TABLE
        + """

def downgrade():
    op.drop_constraint("uniq_container0name", "containers", type_="unique")
    op.drop_table("containers")
""",
    ),
    fails=True,
)

_TYPES = {"unique": "unique", "primary key": "primary", "exclude": "exclude"}


def check(rev: RevisionContext) -> Iterator[Finding]:
    for stmt in rev.statements(RULE):
        names = dropped_names(stmt.node, ObjectType.OBJECT_INDEX)
        if not names:
            continue
        schema = rev.schema_at(stmt)
        if schema is None:
            continue
        for schema_name, name in names:
            owner = _owner(rev, schema, (schema_name or DEFAULT_SCHEMA, name))
            if owner is not None:
                yield _finding(rev, stmt, *owner)


def _owner(
    rev: RevisionContext, schema: Catalog, index: tuple[str, str]
) -> tuple[TableName, Constraint] | None:
    """The table and the constraint that own the index, when that is known for sure."""
    known = schema.indexes.get(index)
    if known is None or not schema.certain(known.table, rev.script.revision):
        return None
    table = schema.tables[known.table]
    constraint = table.constraints.get(index[1])
    if constraint is None or constraint.kind not in _TYPES:
        return None
    return TableName.from_key(table.name), constraint


def _finding(
    rev: RevisionContext, stmt: Statement, table: TableName, constraint: Constraint
) -> Finding:
    return rev.finding(
        RULE,
        stmt,
        f'DROP INDEX "{constraint.name}" fails: the index belongs to the {constraint.kind} '
        f"constraint of the same name on {table.sql}, and PostgreSQL drops it only with "
        "the constraint.",
        name=py_literal(constraint.name),
        table=py_literal(table.name),
        kind=py_literal(_TYPES[constraint.kind]),
        schema=table.schema_argument,
    )
