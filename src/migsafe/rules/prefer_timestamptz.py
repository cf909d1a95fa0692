"""prefer-timestamptz: ``timestamp without time zone`` stores a clock reading, not an instant."""

from __future__ import annotations

from collections.abc import Iterator

from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext
from migsafe.rule import PG_DOCS, Category, Rule
from migsafe.rules._columns import column_recipe, columns_defined

RULE = Rule(
    code="MS047",
    name="prefer-timestamptz",
    severity=Severity.NOTICE,
    category=Category.SCHEMA,
    help="Use timestamptz: sa.DateTime(timezone=True).",
    references=(PG_DOCS + "datatype-datetime.html",),
    summary="A column of type timestamp without time zone.",
    why=(
        "timestamp without time zone stores a wall-clock reading and no zone, so what it means "
        "depends on who wrote it: two application servers (or sessions) in different time "
        "zones store the same instant as two values, an hour repeats when daylight saving "
        "time ends, and comparing with now() assumes a zone. timestamptz stores the instant "
        "(in UTC, in the same 8 bytes) and shows it in the session's zone. SQLAlchemy's "
        "sa.DateTime() is timestamp without time zone unless timezone=True. Choose when the "
        "column is created: changing the type later rewrites the table under an ACCESS "
        "EXCLUSIVE lock (PostgreSQL 12 and later skip the rewrite only when the session's "
        "TimeZone is UTC). A column that holds a local time on purpose (an appointment at "
        "9:00 wherever it is, its zone stored beside it) is the exception."
    ),
    fix="{definition}",
    bad=(
        """\
def upgrade():
    op.add_column("events", sa.Column("happened_at", sa.DateTime()))
""",
    ),
    good=(
        """\
def upgrade():
    op.add_column("events", sa.Column("happened_at", sa.DateTime(timezone=True)))
""",
    ),
    opt_in=True,
    since="0.2.0",
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    for column in columns_defined(rev, RULE):
        if column.base_type != "timestamp":
            continue
        precision = column.modifiers
        if precision:
            code = f"postgresql.TIMESTAMP(timezone=True, precision={precision[0]})"
            sql = f"timestamptz({precision[0]})"
        else:
            code, sql = "sa.DateTime(timezone=True)", "timestamptz"
        yield rev.finding(
            RULE,
            column.stmt,
            f"{column.sql} {column.verb} timestamp without time zone: a clock reading with no "
            "zone, not an instant.",
            definition=column_recipe(column, code, sql, rev=rev),
        )
