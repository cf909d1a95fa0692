"""object-does-not-exist: a table, index or column the history says is not there is dropped,
altered or referred to."""

from __future__ import annotations

from collections.abc import Iterator

from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule
from migsafe.rules._known_schema import aborted_transactions, on_known_schema

RULE = Rule(
    code="MS069",
    name="object-does-not-exist",
    severity=Severity.ERROR,
    category=Category.ROLLBACK,
    help="Drop or change it where it still exists, make it first, or leave the statement out.",
    references=(PG_DOCS + "sql-droptable.html", PG_DOCS + "sql-altertable.html"),
    directions=(UPGRADE, DOWNGRADE),
    since="0.3.0",
    summary="A table or index the history dropped, or a column or constraint a table it "
    "made does not have, is dropped, renamed, changed or referred to: the statement fails on "
    "PostgreSQL.",
    why=(
        'A statement that names what is not there fails with "does not exist", and with it '
        "the whole revision, on every database the history built: an index dropped after "
        "the table it went with, a foreign key to a table a downgrade makes only later, a "
        "column dropped under a name it never had. The history says so only for what it "
        "made itself: a table or an index it made and then dropped (or renamed away), a "
        'column or a constraint of a table it made whole (MySQL\'s "PRIMARY" is '
        "<table>_pkey on PostgreSQL; a name written unquoted is lower case). A table it never "
        "made may exist all the same "
        "(the application made it), so naming one is left alone. Judged only where every "
        "revision before was captured to its end, so the schema is known whole; IF EXISTS, "
        "and a statement inside a try/except, are left alone."
    ),
    fix="""\
# {what} does not exist here: drop or change it before it is gone, create it first, or
# leave this statement out""",
    bad=(
        """\
def upgrade():
    op.create_table("projects", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("name", sa.Text()))
    op.create_index("projects_name", "projects", ["name"])

def downgrade():
    op.drop_table("projects")
    op.drop_index("projects_name")
""",
    ),
    good=(
        """\
def upgrade():
    op.create_table("projects", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("name", sa.Text()))
    op.create_index("projects_name", "projects", ["name"])

def downgrade():
    op.drop_index("projects_name", table_name="projects")
    op.drop_table("projects")
""",
    ),
    fails=True,
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    yield from aborted_transactions(  # a tester's helper in a try block
        rev,
        RULE,
        "does not exist",
        what="what it names",
    )
    for schema, stmt in on_known_schema(rev, RULE):
        for what, why in schema.missing_for(stmt.node):
            yield rev.finding(
                RULE,
                stmt,
                f"{what[0].upper()}{what[1:]} does not exist here ({why}): this statement "
                "fails on PostgreSQL, and with it the revision.",
                what=what,
            )
