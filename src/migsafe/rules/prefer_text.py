"""prefer-text: ``varchar(n)`` is text with a length limit that takes a migration to change."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa

from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext
from migsafe.rule import PG_DOCS, Category, Rule
from migsafe.rules._columns import check_recipe, column_recipe, columns_defined, text_code
from migsafe.sql import quote_identifier

RULE = Rule(
    code="MS048",
    name="prefer-text",
    severity=Severity.NOTICE,
    category=Category.SCHEMA,
    help="Use text (sa.Text()); if the limit is a rule of the data, state it in a CHECK.",
    references=(PG_DOCS + "datatype-character.html",),
    summary="A column of type varchar(n).",
    why=(
        "In PostgreSQL varchar(n) is text with a length check: same storage, same speed. The "
        "limit is often a guess (255 by habit), and each time the data outgrows it, it takes "
        "a migration. Widening varchar(n) is cheap (a catalog change, no rewrite, though "
        "ALTER COLUMN TYPE still takes a brief ACCESS EXCLUSIVE lock), but narrowing it "
        "rewrites the table. text has no limit to outgrow; when the limit is a rule of the "
        "data, a CHECK (char_length(col) <= n) says so, and can be changed later, tightened "
        "too, without a rewrite (add it NOT VALID, then VALIDATE it). A matter of style more "
        "than of safety: hence opt-in."
    ),
    fix="{definition}{check}",
    bad=(
        """\
def upgrade():
    op.add_column("users", sa.Column("nickname", sa.String(50)))
""",
    ),
    good=(
        """\
def upgrade():
    op.add_column("users", sa.Column("nickname", sa.Text()))
""",
        """\
def upgrade():
    op.add_column("users", sa.Column("bio", sa.String()))
""",
    ),
    opt_in=True,
    since="0.2.0",
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    for column in columns_defined(rev, RULE):
        if column.base_type != "varchar" or not column.modifiers:
            continue
        if isinstance(column.sqlalchemy_type, sa.Enum):
            continue  # a non-native enum: the length is the longest label's
        length = column.modifiers[0]
        check_code = ""
        if not column.is_array:
            condition = f"char_length({quote_identifier(column.name)}) <= {length}"
            check_code = (
                f"\n# if {length} is a rule of the data, a CHECK says so (and can change "
                f"without a rewrite):\n{check_recipe(rev, column, condition)}"
            )
        yield rev.finding(
            RULE,
            column.stmt,
            f"{column.sql} {column.verb} varchar({length}){column.brackets}: text with a "
            "length check, whose limit takes a migration to change.",
            definition=column_recipe(column, text_code(column), "text", rev=rev),
            check=check_code,
        )
