"""type-does-not-exist: a column or cast of a type (or a collation) another database has and
PostgreSQL has not."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pglast import ast

from migsafe.catalog import DEFAULT_SCHEMA
from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule
from migsafe.sql import Statement, refused_by_postgresql

RULE = Rule(
    code="MS071",
    name="type-does-not-exist",
    severity=Severity.ERROR,
    category=Category.ROLLBACK,
    help="Use the PostgreSQL type (bytea, timestamp, double precision, text, smallint, ...), "
    "which SQLAlchemy's generic types render for each database; no collation, or one "
    "PostgreSQL has; a name for an enum.",
    references=(PG_DOCS + "datatype.html",),
    directions=(UPGRADE, DOWNGRADE),
    since="0.3.0",
    summary="A column or cast of a type MySQL, SQLite or SQL Server has and PostgreSQL has "
    "not (BLOB, DATETIME, DOUBLE, TINYINT, LONGTEXT, ..., or TEXT with a length), a "
    "collation of theirs (utf8mb4_bin, NOCASE), or an enum without a name: the statement "
    "fails.",
    why=(
        "SQLAlchemy renders an uppercase type as it is named: sa.BLOB() is BLOB, "
        "sa.DATETIME() is DATETIME, mysql.DOUBLE() is DOUBLE, for every database. PostgreSQL "
        "has none of these, and the statement fails with 'type \"blob\" does not exist', and "
        "with it the revision: freezer-api's first revision cannot run on PostgreSQL, nor "
        "aim's downgrade. The generic types (sa.LargeBinary, sa.DateTime, sa.Float, sa.Text, "
        "sa.SmallInteger) render the type each database has; sa.Text(length=N) renders "
        "TEXT(N), which PostgreSQL refuses too. A type of that name the history creates "
        "itself is left alone. So is it with collations: refstack's "
        "String(collation='latin1_swedish_ci') is MySQL's, and PostgreSQL says 'collation "
        '"latin1_swedish_ci" for encoding "UTF8" does not exist\'.'
    ),
    fix="""\
# PostgreSQL has no {what}: write the column with {instead}""",
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
    fails=True,
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
        if stmt.node is None and refused_by_postgresql(stmt.error):
            yield rev.finding(  # group-based-policy's sa.Enum("a", "b") with no name
                RULE,
                stmt,
                "An enum type without a name: PostgreSQL has none, and SQLAlchemy refuses the "
                "statement ('PostgreSQL ENUM type requires a name'), and with it the revision.",
                what="enum type without a name",
                instead='sa.Enum(..., name="<table>_<column>") (or native_enum=False: a '
                "VARCHAR and a CHECK)",
            )
            continue
        types = [t for t in stmt.nodes(ast.TypeName) if len(t.names) == 1]
        named = dict.fromkeys(t.names[-1].sval for t in types if t.names[-1].sval in _INSTEAD)
        if any(t.names[-1].sval == "text" and t.typmods for t in types):
            yield rev.finding(  # trove's and cloudkitty's sa.Text(length=N)
                RULE,
                stmt,
                "PostgreSQL's text takes no length: TEXT(n) fails ('type modifier is not "
                'allowed for type "text"\'), and with it the revision.',
                what="type TEXT(n)",
                instead="sa.Text() (no length), or sa.String(n) (varchar(n))",
            )
        for collation, owner in dict.fromkeys(_foreign_collations(rev, stmt)):
            yield rev.finding(
                RULE,
                stmt,
                f'PostgreSQL has no collation "{collation}" ({owner}\'s): the statement fails '
                f"('collation \"{collation}\" ... does not exist'), and with it the revision.",
                what=f'collation "{collation}" ({owner}\'s)',
                instead="no collation (the database's own orders it), or one PostgreSQL has "
                '(collation="C" compares bytes; an ICU one such as "und-x-icu")',
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
                what=f"type {name.upper()}",
                instead=_INSTEAD[name],
            )


# MySQL's collations are its character set's name and a suffix (utf8mb4_unicode_ci,
# latin1_swedish_ci, utf8mb4_bin); SQL Server's end in their case and accent sensitivity
# (SQL_Latin1_General_CP1_CI_AS); SQLite has NOCASE and RTRIM
_MYSQL_COLLATION = re.compile(
    r"^(utf8mb4|utf8mb3|utf8|latin[1257]|ascii|binary|ucs2|utf16(le)?|utf32|cp\d+|gbk|gb2312|"
    r"gb18030|big5|sjis|ujis|euckr|koi8[ru]|greek|hebrew|tis620|armscii8|macroman|macce|dec8|"
    r"hp8|swe7|keybcs2|geostd8|eucjpms)_\w*(ci|cs|bin)$",
    re.IGNORECASE,
)
_SQL_SERVER_COLLATION = re.compile(r"_c[is]_a[is](_\w+)?$", re.IGNORECASE)
_SQLITE_COLLATIONS = {"nocase", "rtrim"}


def _foreign_collations(rev: RevisionContext, stmt: Statement) -> Iterator[tuple[str, str]]:
    """The collations ``stmt`` names that are another database's, with whose; not one the
    history made (quetz's ``CREATE COLLATION nocase``, for PostgreSQL)."""
    for clause in stmt.nodes(ast.CollateClause):
        if len(clause.collname) != 1:
            continue
        name = clause.collname[0].sval
        made = rev.schema_at(stmt)
        if made is not None and (DEFAULT_SCHEMA, name) in made.collations:
            continue
        if _MYSQL_COLLATION.match(name):
            yield name, "MySQL"
        elif _SQL_SERVER_COLLATION.search(name):
            yield name, "SQL Server"
        elif name.lower() in _SQLITE_COLLATIONS:
            yield name, "SQLite"
