"""type-does-not-exist: a column or cast of a type another database has and PostgreSQL has not."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast

from migsafe.catalog import DEFAULT_SCHEMA
from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule
from migsafe.sqltree import walk

RULE = Rule(
    code="MS071",
    name="type-does-not-exist",
    severity=Severity.ERROR,
    category=Category.ROLLBACK,
    help="Use the PostgreSQL type (bytea, timestamp, double precision, text, smallint, ...): "
    "SQLAlchemy's generic types render it for each database.",
    references=(PG_DOCS + "datatype.html",),
    directions=(UPGRADE, DOWNGRADE),
    since="0.3.0",
    summary="A column or cast of a type MySQL, SQLite or SQL Server has and PostgreSQL has "
    "not (BLOB, DATETIME, DOUBLE, TINYINT, LONGTEXT, ..., or TEXT with a length): the "
    "statement fails.",
    why=(
        "SQLAlchemy renders an uppercase type as it is named: sa.BLOB() is BLOB, "
        "sa.DATETIME() is DATETIME, mysql.DOUBLE() is DOUBLE, for every database. PostgreSQL "
        "has none of these, and the statement fails with 'type \"blob\" does not exist', and "
        "with it the revision: freezer-api's first revision cannot run on PostgreSQL, nor "
        "aim's downgrade. The generic types (sa.LargeBinary, sa.DateTime, sa.Float, sa.Text, "
        "sa.SmallInteger) render the type each database has; sa.Text(length=N) renders "
        "TEXT(N), which PostgreSQL refuses too. A type of that name the history creates "
        "itself is left alone."
    ),
    fix="""\
# PostgreSQL has no type {name}: write the column with {instead}""",
    bad=(
        """\
def upgrade():
    op.add_column("backups", sa.Column("log", sa.BLOB()))
""",
    ),
    good=(
        """\
def upgrade():
    op.add_column("backups", sa.Column("log", sa.LargeBinary()))
""",
    ),
)

# the types other databases have that PostgreSQL has not, with what to write instead
_INSTEAD = {
    "blob": "sa.LargeBinary() (bytea)",
    "tinyblob": "sa.LargeBinary() (bytea)",
    "mediumblob": "sa.LargeBinary() (bytea)",
    "longblob": "sa.LargeBinary() (bytea)",
    "binary": "sa.LargeBinary() (bytea)",
    "varbinary": "sa.LargeBinary() (bytea)",
    "image": "sa.LargeBinary() (bytea)",
    "tinytext": "sa.Text()",
    "mediumtext": "sa.Text()",
    "longtext": "sa.Text()",
    "ntext": "sa.Text()",
    "clob": "sa.Text()",
    "nvarchar": "sa.String(n) (varchar)",
    "tinyint": "sa.SmallInteger() (smallint)",
    "mediumint": "sa.Integer() (integer)",
    "datetime": "sa.DateTime() (timestamp)",
    "datetime2": "sa.DateTime() (timestamp)",
    "smalldatetime": "sa.DateTime() (timestamp)",
    "double": "sa.Float() (double precision)",
    "year": "sa.SmallInteger() (smallint)",
    "uniqueidentifier": "sa.Uuid() (uuid)",
}


def check(rev: RevisionContext) -> Iterator[Finding]:
    for stmt in rev.statements(RULE):
        types = [t for t in walk(stmt.node) if isinstance(t, ast.TypeName) and len(t.names) == 1]
        named = dict.fromkeys(t.names[-1].sval for t in types if t.names[-1].sval in _INSTEAD)
        if any(t.names[-1].sval == "text" and t.typmods for t in types):
            yield rev.finding(  # trove's and cloudkitty's sa.Text(length=N)
                RULE,
                stmt,
                "PostgreSQL's text takes no length: TEXT(n) fails ('type modifier is not "
                'allowed for type "text"\'), and with it the revision.',
                name="TEXT(n)",
                instead="sa.Text() (no length), or sa.String(n) (varchar(n))",
            )
        if not named:
            continue
        schema = rev.schema_at(stmt)  # a type of that name the history made is its own
        made = set(schema.enums) if schema is not None else set()
        for name in (n for n in named if (DEFAULT_SCHEMA, n) not in made):
            yield rev.finding(
                RULE,
                stmt,
                f'PostgreSQL has no type {name.upper()}: the statement fails (\'type "{name}" '
                "does not exist'), and with it the revision.",
                name=name.upper(),
                instead=_INSTEAD[name],
            )
