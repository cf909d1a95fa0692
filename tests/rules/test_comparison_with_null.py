"""comparison-with-null (MS070): ``= NULL`` in a migration's condition is never true."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import assert_renders, lines_flagged, lint

RULE = "comparison-with-null"


def test_renders_the_test_to_write(tmp_path: Path) -> None:
    """bodhi's downgrade backfills ``WHERE private = NULL``, then sets the column NOT NULL:
    the backfill changes nothing, and SET NOT NULL fails on the rows it meant to fill."""
    body = """\
def downgrade():
    op.execute("UPDATE bugs SET private = FALSE WHERE private = NULL")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: In downgrade(): private = NULL is never true (a comparison with NULL is unknown): the statement changes no row by it; private IS NULL tests for NULL.
        # private = NULL is never true: test with private IS NULL
        op.execute("UPDATE bugs SET private = FALSE WHERE private IS NULL")
        """,  # noqa: E501
        rule=RULE,
    )


def test_each_form_and_its_negation(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("DELETE FROM t WHERE a <> NULL AND b = 1")
    op.execute("UPDATE t SET c = 1 WHERE NULL != t.d")
    t = sa.table("t", sa.column("e"))
    op.execute(t.update().where(t.c.e == None).values(e=1))  # noqa: E711
"""
    findings = lint(tmp_path, body, rule=RULE)
    assert [f.message.split(" is never")[0] for f in findings] == ["a <> NULL", "NULL <> t.d"]
    assert findings[0].hint.endswith('op.execute("DELETE FROM t WHERE a IS NOT NULL AND b = 1")')


def test_is_null_and_other_comparisons_pass(tmp_path: Path) -> None:
    """SQLAlchemy writes ``column == None`` as IS NULL itself."""
    body = """\
def upgrade():
    op.execute("UPDATE t SET c = 1 WHERE a IS NULL OR b IS NOT NULL OR c = 'NULL'")
    op.execute("UPDATE t SET c = NULL WHERE a = 1")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []
