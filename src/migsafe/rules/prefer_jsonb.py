"""prefer-jsonb: ``json`` is text re-parsed on every access, with no equality and no index."""

from __future__ import annotations

from collections.abc import Iterator

from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext
from migsafe.rule import PG_DOCS, Category, Rule
from migsafe.rules._columns import ColumnDefined, column_recipe, columns_defined

RULE = Rule(
    code="MS050",
    name="prefer-jsonb",
    severity=Severity.NOTICE,
    category=Category.SCHEMA,
    help="Use jsonb: postgresql.JSONB() (from sqlalchemy.dialects import postgresql).",
    references=(PG_DOCS + "datatype-json.html",),
    summary="A column of type json rather than jsonb.",
    why=(
        "json stores the text as it was written and parses it again on every access; jsonb "
        "stores it parsed: faster to query, indexable (GIN for @>, ? and jsonpath), and it "
        "has an equality operator, which json lacks, so SELECT DISTINCT, GROUP BY, UNION and "
        "UNIQUE fail on a json column. SQLAlchemy's sa.JSON() is json on PostgreSQL. Keep json "
        "only when the text must stay exactly as written (key order, duplicate keys, "
        "whitespace: a payload whose signature is checked later). Choose when the column is "
        "created: changing the type later rewrites the table under an ACCESS EXCLUSIVE lock."
    ),
    fix="{definition}",
    bad=(
        """\
def upgrade():
    op.add_column("events", sa.Column("payload", sa.JSON()))
""",
    ),
    good=(
        """\
def upgrade():
    from sqlalchemy.dialects import postgresql

    op.add_column("events", sa.Column("payload", postgresql.JSONB()))
""",
    ),
    opt_in=True,
    since="0.2.0",
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    for column in columns_defined(rev, RULE):
        if column.base_type != "json":
            continue
        yield rev.finding(
            RULE,
            column.stmt,
            f"{column.sql} {column.verb} json{column.brackets}: parsed again on every access, "
            "with no equality operator and no GIN index; jsonb has both.",
            definition=column_recipe(column, _jsonb_code(column), "jsonb", rev=rev),
        )


def _jsonb_code(column: ColumnDefined) -> str:
    """``postgresql.JSONB()``, keeping ``none_as_null=True`` when ``sa.JSON`` had it."""
    sql_type = column.sqlalchemy_type
    sql_type = getattr(sql_type, "item_type", sql_type)  # an ARRAY's elements
    keep = "none_as_null=True" if getattr(sql_type, "none_as_null", False) else ""
    return f"postgresql.JSONB({keep})"
