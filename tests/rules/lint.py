"""What every per-rule test module uses: lint a migration body, get one rule's findings
rendered as a user reads them, and pin that text.

A rule's test module pins the message and the hint of its typical finding with
:func:`assert_renders`, so a change to either shows up as a diff in review, and lists
its edge cases beside it with :func:`lines_flagged` (``[]`` means "not flagged").
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from migsafe import command
from migsafe.check import check_trusted_file
from migsafe.config import Overrides, Settings
from migsafe.findings import Diagnostic, Finding
from migsafe.rules import all_rules
from tests.conftest import HEADER, migration_source

#: the first line of the body passed to :func:`lint` is this line of the written file
FIRST_BODY_LINE = HEADER.count("\n") + 1


def lint(
    tmp_path: Path, body: str, *, rule: str, pg_version: int = 16, revision: str = "a1"
) -> list[Finding]:
    """The findings of the rule named ``rule`` on a migration whose functions are ``body``.

    Line numbers are returned as in the written file; :func:`lines_flagged` gives them
    relative to ``body``. Notices about the input fail the test: a rule's cases must run
    offline the way a user's migration does.
    """
    findings, notices = lint_with_notices(
        tmp_path, body, rule=rule, pg_version=pg_version, revision=revision
    )
    assert notices == [], [d.message for d in notices]
    return findings


def lint_with_notices(
    tmp_path: Path, body: str, *, rule: str, pg_version: int = 16, revision: str = "a1"
) -> tuple[list[Finding], list[Diagnostic]]:
    """Like :func:`lint`, for a case about a migration that cannot be captured whole (it
    raises, a type cannot be rendered): the rule's findings, and the notices about it."""
    assert any(r.name == rule for r in all_rules()), f"no rule named {rule!r}"
    path = tmp_path / f"{revision}.py"
    path.write_text(migration_source(body, revision=revision), encoding="utf-8")
    report = check_trusted_file(path, Settings(pg_version=pg_version))
    return [f for f in report.findings if f.rule == rule], report.diagnostics


def lines_flagged(tmp_path: Path, body: str, *, rule: str, pg_version: int = 16) -> list[int]:
    """The lines of ``body`` (1-based, as in the test's source text) the rule flags."""
    findings = lint(tmp_path, body, rule=rule, pg_version=pg_version)
    return [f.line - FIRST_BODY_LINE + 1 for f in findings]


def rendered(finding: Finding) -> str:
    """One finding as the text report shows it: the line, the message, the recipe."""
    return f"{finding.line - FIRST_BODY_LINE + 1}: {finding.message}\n{finding.hint}\n"


def assert_renders(
    tmp_path: Path, body: str, expected: str, *, rule: str, pg_version: int = 16
) -> None:
    """The rule flags ``body`` exactly once, and renders it as ``expected`` (dedented)."""
    findings = lint(tmp_path, body, rule=rule, pg_version=pg_version)
    assert len(findings) == 1, [rendered(f) for f in findings]
    (finding,) = findings
    assert finding.help and finding.url.endswith(f"/{rule}.md")
    assert rendered(finding) == textwrap.dedent(expected)


def assert_recipe_is_python(tmp_path: Path, body: str, *, rule: str) -> None:
    """The rule flags ``body`` once, with a recipe that is valid Python to paste."""
    (finding,) = lint(tmp_path, body, rule=rule)
    ast.parse(finding.hint)


def after_history(write_migration, before: str, body: str, *, rule: str) -> list[Finding]:
    """The findings of ``rule`` (selected, if opt-in) on ``body``, a revision checked after
    ``before``, which made the schema it works on: what the history's catalog tells."""
    write_migration(before, revision="a1", name="1_a1.py")
    path = write_migration(body, revision="b2", down_revision="a1", name="2_b2.py")
    result = command.check([path.parent], overrides=Overrides(extend_select=(rule,)))
    return [f for f in result.findings if f.rule == rule and f.path.name == path.name]
