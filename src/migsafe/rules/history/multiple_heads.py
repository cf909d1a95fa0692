"""multiple-heads: two revisions claim to be the latest one."""

from __future__ import annotations

from collections.abc import Iterator

from migsafe.findings import Finding, Severity
from migsafe.project import History
from migsafe.rule import Category, Rule

RULE = Rule(
    code="MS016",
    name="multiple-heads",
    severity=Severity.ERROR,
    category=Category.HISTORY,
    help="Merge the heads with `alembic merge heads` (and check their operations do not clash).",
    summary="The history has more than one head.",
    why=(
        "Two branches each added a revision on top of the same parent (typically two pull "
        "requests merged one after the other). `alembic upgrade head` then refuses to run "
        '("Multiple head revisions are present"), and the deploy stops.'
    ),
    fix="""\
# merge the heads into one revision (then check that their operations do not conflict):
alembic merge -m "merge heads" {heads}""",
    bad=(),
    good=(),
)


def check_history(history: History) -> Iterator[Finding]:
    if not history.complete or len(history.heads) < 2:
        return
    ids = [script.revision for script in history.heads]
    for script in history.heads:
        others = ", ".join(i for i in ids if i != script.revision)
        yield Finding(
            code=RULE.code,
            rule=RULE.name,
            severity=RULE.severity,
            path=script.path,
            line=_revision_line(script),
            revision=script.revision,
            message=f"Revision {script.revision} is a head, and so is {others}: "
            "`alembic upgrade head` refuses to run.",
            hint=RULE.hint(heads=" ".join(ids)),
            help=RULE.help,
            url=RULE.url,
        )


def _revision_line(script: object) -> int:
    for number, line in enumerate(script.source.splitlines(), start=1):
        if line.lstrip().startswith("revision"):
            return number
    return 1
