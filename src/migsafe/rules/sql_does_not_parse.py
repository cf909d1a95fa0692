"""sql-does-not-parse: SQL a migration runs that PostgreSQL's parser rejects."""

from __future__ import annotations

from collections.abc import Iterator

from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext
from migsafe.rule import DOWNGRADE, UPGRADE, Category, Rule

RULE = Rule(
    code="MS061",
    name="sql-does-not-parse",
    severity=Severity.ERROR,
    category=Category.ROLLBACK,
    help="Fix the SQL: PostgreSQL's own parser rejects it, so the migration fails on deploy.",
    references=("https://www.postgresql.org/docs/current/sql-commands.html",),
    directions=(UPGRADE, DOWNGRADE),
    since="0.2.0",
    summary="A migration runs SQL that PostgreSQL's parser rejects.",
    why=(
        "migsafe parses every statement with PostgreSQL's own parser (libpg_query). A "
        "statement it rejects fails the same way on the server, in the middle of a deploy "
        "(or of a rollback, for downgrade()). It is often SQL written for another database, "
        "or a typo in an op.execute() string; and nothing else about it can be checked."
    ),
    fix="""\
# what PostgreSQL's parser says: {error}
op.execute({sql!r})  # make this valid PostgreSQL""",
    bad=(
        """\
def upgrade():
    op.execute("ALTER TABLE users ADD COLUM nickname text")
""",
    ),
    good=(
        """\
def upgrade():
    op.execute("ALTER TABLE users ADD COLUMN nickname text")
""",
    ),
    fails=True,
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    for stmt in rev.statements(RULE):
        if stmt.node is None and stmt.sql and stmt.error is not None:
            yield rev.finding(
                RULE,
                stmt,
                f"PostgreSQL's parser rejects this SQL ({stmt.error}): the migration fails "
                "here on deploy.",
                error=stmt.error,
                sql=stmt.sql.rstrip().removesuffix(";"),
            )
