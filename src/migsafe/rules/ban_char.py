"""ban-char: ``char(n)`` pads its values with blanks, which count only some of the time."""

from __future__ import annotations

from collections.abc import Iterator

from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext
from migsafe.rule import PG_DOCS, Category, Rule
from migsafe.rules._columns import check_recipe, column_recipe, columns_defined, text_code
from migsafe.sql import quote_identifier

RULE = Rule(
    code="MS049",
    name="ban-char",
    severity=Severity.NOTICE,
    category=Category.SCHEMA,
    help="Use text (sa.Text()), with a CHECK on its length if the length is a rule.",
    references=(PG_DOCS + "datatype-character.html",),
    summary="A column of type char(n) (character(n)), which pads values with blanks.",
    why=(
        "char(n) pads every value with spaces to n characters and then treats the padding as "
        "insignificant in some places and not in others: 'ab'::char(3) = 'ab ' is true, but "
        "the spaces are dropped when the value is cast to text, so LIKE, regular "
        "expressions, concatenation and the application's own comparisons see something "
        "else than the column stores. It is no faster than text or varchar in PostgreSQL "
        "(storing the padding makes it the slowest of the three), and char with no length "
        "is char(1). Use text; when the length is a rule of the data, a CHECK says so."
    ),
    fix="{definition}{check}",
    bad=(
        """\
def upgrade():
    op.add_column("countries", sa.Column("code", sa.CHAR(2)))
""",
    ),
    good=(
        """\
def upgrade():
    op.add_column("countries", sa.Column("code", sa.Text()))
""",
    ),
    opt_in=True,
    since="0.2.0",
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    for column in columns_defined(rev, RULE):
        if column.base_type != "bpchar":
            continue
        declared, padded, check_code = "bpchar", "blank-padded", ""  # bpchar: no length
        if column.modifiers:
            length = column.modifiers[0]
            declared = f"char({length})"
            padded = f"blank-padded to {length} character{'s' if length > 1 else ''}"
            if not column.is_array:
                condition = f"char_length({quote_identifier(column.name)}) <= {length}"
                check_code = "\n# if the length is a rule of the data, a CHECK says so:\n"
                check_code += check_recipe(rev, column, condition)
        yield rev.finding(
            RULE,
            column.stmt,
            f"{column.sql} {column.verb} {declared}{column.brackets}: values are {padded}, "
            "padding that some operations ignore and others do not.",
            definition=column_recipe(column, text_code(column), "text", rev=rev),
            check=check_code,
        )
