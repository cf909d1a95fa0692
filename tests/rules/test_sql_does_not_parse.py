"""sql-does-not-parse (MS061): SQL PostgreSQL's parser rejects is a finding, never a crash."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import assert_renders, lines_flagged, lint

RULE = "sql-does-not-parse"


def test_renders_the_parsers_words_and_the_sql(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE users ADD COLUM nickname text")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: PostgreSQL's parser rejects this SQL (syntax error at or near "text", at index 37): the migration fails here on deploy.
        # what PostgreSQL's parser says: syntax error at or near "text", at index 37
        op.execute("ALTER TABLE users ADD COLUM nickname text")  # make this valid PostgreSQL
        """,  # noqa: E501
        rule=RULE,
    )


def test_valid_sql_is_fine(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE users ADD COLUMN nickname text")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_sql_of_another_database_is_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE users MODIFY nickname VARCHAR(20)")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2]


def test_a_downgrade_says_so(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("SELECT 1")

def downgrade():
    op.execute("DROP TABL users")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith("In downgrade(): PostgreSQL's parser rejects")


def test_the_other_statements_are_still_judged(tmp_path: Path) -> None:
    from migsafe.check import check_trusted_file
    from migsafe.config import Settings
    from tests.conftest import migration_source

    path = tmp_path / "a1.py"
    path.write_text(migration_source(
        "def upgrade():\n    op.execute('CREATE INDX oops')\n"
        "    op.create_index('ix_users_a', 'users', ['a'])\n"
    ))  # fmt: skip
    report = check_trusted_file(path, Settings())
    assert {f.rule for f in report.findings} >= {RULE, "create-index-not-concurrently"}
    assert report.diagnostics == []
