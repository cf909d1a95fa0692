"""comparison-with-null: ``= NULL`` in a migration's condition is never true."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import A_Expr_Kind
from pglast.stream import RawStream

from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule, sql_code
from migsafe.sqltree import walk

RULE = Rule(
    code="MS070",
    name="comparison-with-null",
    severity=Severity.ERROR,
    category=Category.ROLLBACK,
    help="Write IS NULL (or IS NOT NULL): a comparison with NULL is never true.",
    references=(PG_DOCS + "functions-comparison.html",),
    directions=(UPGRADE, DOWNGRADE),
    since="0.3.0",
    summary="A condition compares with NULL (= NULL, <> NULL): it is never true, so the "
    "statement changes no row.",
    why=(
        "In SQL a comparison with NULL is unknown, never true: `WHERE private = NULL` "
        "matches no row, so a backfill written that way does nothing, and the SET NOT NULL "
        "that usually follows it fails on every table that has the NULLs it was meant to "
        "fill (bodhi's downgrade). PostgreSQL's transform_null_equals, off by default, is "
        "the only thing that reads `= NULL` as IS NULL. IS NULL and IS NOT NULL test for "
        "NULL."
    ),
    fix="""\
# {condition} is never true: test with {instead}
op.execute({statement})""",
    bad=(
        """\
def upgrade():
    op.execute("UPDATE bugs SET private = FALSE WHERE private = NULL")
""",
    ),
    good=(
        """\
def upgrade():
    op.execute("UPDATE bugs SET private = FALSE WHERE private IS NULL")
""",
    ),
)

_NEGATED = {"=": False, "<>": True, "!=": True}


def check(rev: RevisionContext) -> Iterator[Finding]:
    for stmt in rev.statements(RULE):
        node = stmt.node
        if not isinstance(node, (ast.UpdateStmt, ast.DeleteStmt, ast.SelectStmt)):
            continue
        for expr in walk(node.whereClause):
            compared = _compared_with_null(expr)
            if compared is None:
                continue
            operand, negated = compared
            condition = RawStream()(expr)
            instead = f"{operand} IS {'NOT ' if negated else ''}NULL"
            statement = RawStream()(node).replace(condition, instead, 1)
            yield rev.finding(
                RULE,
                stmt,
                f"{condition} is never true (a comparison with NULL is unknown): the "
                f"statement changes no row by it; {instead} tests for NULL.",
                condition=condition,
                instead=instead,
                statement=sql_code(statement),
            )


def _compared_with_null(expr: object) -> tuple[str, bool] | None:
    """The other operand (as SQL) of ``x = NULL``, ``x <> NULL``, and whether it is the
    negated form; None for anything else."""
    if not isinstance(expr, ast.A_Expr) or expr.kind != A_Expr_Kind.AEXPR_OP:
        return None
    operator = expr.name[-1].sval if expr.name else None
    if operator not in _NEGATED:
        return None
    for null, other in ((expr.rexpr, expr.lexpr), (expr.lexpr, expr.rexpr)):
        if isinstance(null, ast.A_Const) and null.isnull and other is not None:
            return RawStream()(other), _NEGATED[operator]
    return None
