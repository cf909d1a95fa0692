"""missing-downgrade: a revision that cannot be rolled back."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

from alembic.operations import ops

from migsafe.findings import Finding, Severity
from migsafe.project import BodyShape, body_shape
from migsafe.revision import RevisionContext
from migsafe.rule import Category, Rule

RULE = Rule(
    code="MS007",
    name="missing-downgrade",
    severity=Severity.WARNING,
    category=Category.ROLLBACK,
    help="Write the reverse operations in downgrade(), or raise there if it is one-way.",
    summary="The revision has no working downgrade().",
    why=(
        "When a deploy goes wrong, `alembic downgrade` is the way back. A downgrade() that is "
        "missing, `pass` or only a docstring silently does nothing: Alembic records the "
        "revision as undone while the schema keeps every change, and the next upgrade fails "
        "on objects that already exist. If the revision truly cannot be undone, say so by "
        "raising."
    ),
    fix="""\
def downgrade():
    {undo}
# or, for a deliberately one-way revision:
# def downgrade():
#     raise NotImplementedError("{revision} cannot be undone: <why>")""",
    bad=(
        """\
def upgrade():
    op.add_column("users", sa.Column("nickname", sa.Text()))

def downgrade():
    pass
""",
    ),
    good=(
        """\
def upgrade():
    op.add_column("users", sa.Column("nickname", sa.Text()))

def downgrade():
    op.drop_column("users", "nickname")
""",
    ),
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    shape = body_shape(rev.script.function("downgrade"))
    upgrade = body_shape(rev.script.function("upgrade"))
    if shape not in (BodyShape.ABSENT, BodyShape.EMPTY) or upgrade is BodyShape.EMPTY:
        return
    function = rev.script.function("downgrade")
    line = function.lineno if function else rev.script.function("upgrade").lineno
    what = "has no downgrade()" if shape is BodyShape.ABSENT else "has an empty downgrade()"
    yield rev.finding(
        RULE,
        line,
        f"Revision {rev.script.revision} {what}: rolling it back would do nothing while "
        "Alembic records it as undone.",
        undo=_undo_hint(rev),
        revision=rev.script.revision,
    )


def _undo_hint(rev: RevisionContext) -> str:
    """Alembic's own reverse of each upgrade operation, rendered as code, last one first."""
    operations = reversed(rev.upgrade_capture.operations)
    rendered = [_render_reverse(item.operation) for item in operations]
    lines = "\n".join(code for code in rendered if code)
    return textwrap.indent(lines, "    ").lstrip() if lines else "..."


def _render_reverse(operation: ops.MigrateOperation) -> str | None:
    from alembic.autogenerate import render_python_code  # imports Mako: only when needed

    try:
        code = render_python_code(ops.UpgradeOps(ops=[operation.reverse()]))
    except Exception:  # no reverse (raw SQL), or autogenerate cannot render it
        return None
    body = "\n".join(line for line in code.splitlines() if not line.strip().startswith("# ###"))
    return textwrap.dedent(body).strip()
