"""irreversible-downgrade: a revision that refuses to be rolled back, on purpose."""

from __future__ import annotations

from collections.abc import Iterator

from migsafe.findings import Finding, Severity
from migsafe.project import BodyShape, body_shape
from migsafe.revision import RevisionContext
from migsafe.rule import Category, Rule

RULE = Rule(
    code="MS008",
    name="irreversible-downgrade",
    severity=Severity.NOTICE,
    category=Category.ROLLBACK,
    help="Nothing to change if one-way is intended; plan the rollout for a restore.",
    summary="The revision's downgrade() raises: it is a one-way revision.",
    why=(
        "A downgrade() that raises is an explicit, honest statement that the revision cannot "
        "be undone (data was deleted, a type was narrowed). That is allowed, but it means "
        "rollback past this revision needs a restore from backup, so the deploy plan must "
        "say so."
    ),
    fix="""\
# Nothing to change if one-way is intended; make sure the rollout plan covers it.
# If it can be undone after all, write the reverse operations in downgrade().""",
    bad=(
        """\
def upgrade():
    op.drop_column("users", "legacy_flags")

def downgrade():
    raise NotImplementedError("legacy_flags data is gone")
""",
    ),
    good=(
        """\
def upgrade():
    op.drop_column("users", "legacy_flags")

def downgrade():
    op.add_column("users", sa.Column("legacy_flags", sa.Integer(), nullable=True))
""",
    ),
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    function = rev.script.function("downgrade")
    captured = rev.downgrade_capture
    if captured.ran and captured.failure is None and not captured.one_way:
        return  # it returned before its raise (letta's guard: the raise is SQLite's)
    if body_shape(function) is BodyShape.RAISES:
        yield rev.finding(
            RULE,
            function.lineno,
            f"Revision {rev.script.revision} cannot be downgraded (downgrade() raises): "
            "rolling back past it needs a restore.",
        )
