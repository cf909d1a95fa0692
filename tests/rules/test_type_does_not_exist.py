"""type-does-not-exist (MS071): a type other databases have and PostgreSQL has not."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import assert_renders, lines_flagged, lint, lint_with_notices

RULE = "type-does-not-exist"


def test_renders_the_type_to_write(tmp_path: Path) -> None:
    """freezer-api's first revision has ``sa.Column('log', sa.BLOB())``: SQLAlchemy writes
    BLOB for PostgreSQL too, which has no such type."""
    body = """\
def upgrade():
    op.add_column("backups", sa.Column("log", sa.BLOB()))
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: PostgreSQL has no type BLOB: the statement fails ('type "blob" does not exist'), and with it the revision.
        # PostgreSQL has no type BLOB: write the column with sa.LargeBinary() (bytea)
        """,  # noqa: E501
        rule=RULE,
    )


def test_each_type_once_per_statement_and_casts_too(tmp_path: Path) -> None:
    """aim's downgrade creates a table with ``sa.DATETIME()`` columns; monasca's has
    ``mysql.DOUBLE()`` and ``sa.BINARY(20)``."""
    body = """\
from sqlalchemy.dialects import mysql

def downgrade():
    op.create_table("tags", sa.Column("created_at", sa.DATETIME()),
                    sa.Column("updated_at", sa.DATETIME()),
                    sa.Column("value", mysql.DOUBLE()),
                    sa.Column("hash", sa.BINARY(20)))
    op.execute("UPDATE tags SET created_at = '2020-01-01'::datetime")
"""
    findings = lint(tmp_path, body, rule=RULE)
    assert [f.message.split(":")[1].split(" has no type ")[1] for f in findings] == [
        "DATETIME", "DOUBLE", "BINARY", "DATETIME",
    ]  # fmt: skip


def test_a_type_only_another_dialect_can_render_is_named(tmp_path: Path) -> None:
    """mlrun's MySQL history has ``mysql.MEDIUMBLOB()`` and ``mysql.LONGTEXT()``, which
    SQLAlchemy's PostgreSQL compiler cannot render at all: the tables were left out with a
    notice that they cannot be rendered. They are written with the type's own name, which
    PostgreSQL does not have, and the statement fails."""
    body = """\
from sqlalchemy.dialects import mysql

def upgrade():
    op.create_table("artifacts", sa.Column("id", sa.Integer()),
                    sa.Column("body", mysql.MEDIUMBLOB()))
    op.add_column("artifacts", sa.Column("log", mysql.LONGTEXT()))
"""
    findings, notices = lint_with_notices(tmp_path, body, rule=RULE)
    assert notices == []
    assert [f.message.split(":")[0] for f in findings] == [
        "PostgreSQL has no type MEDIUMBLOB", "PostgreSQL has no type LONGTEXT",
    ]  # fmt: skip


def test_postgresql_types_and_a_type_the_history_makes_pass(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("CREATE TYPE year AS ENUM ('2025', '2026')")
    op.create_table("t", sa.Column("a", sa.LargeBinary()), sa.Column("b", sa.DateTime()),
                    sa.Column("c", sa.Float()), sa.Column("d", sa.Text()),
                    sa.Column("e", sa.SmallInteger()), sa.Column("f", sa.Enum("2025", name="year")),
                    sa.Column("g", sa.dialects.postgresql.DOUBLE_PRECISION()))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_text_with_a_length_fails(tmp_path: Path) -> None:
    """trove's and cloudkitty's ``sa.Text(length=65535)`` renders TEXT(65535)."""
    body = """\
def upgrade():
    op.add_column("t", sa.Column("notes", sa.Text(length=65535)))
    op.add_column("t", sa.Column("more", sa.Text()))
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith("PostgreSQL's text takes no length")
    assert "sa.Text() (no length)" in finding.hint


def test_a_collation_of_another_database_fails(tmp_path: Path) -> None:
    """refstack's ``String(collation='latin1_swedish_ci')`` is MySQL's; SQL Server's and
    SQLite's fail the same; PostgreSQL's own ("C", an ICU locale, en_US.utf8) pass."""
    body = """\
def upgrade():
    op.create_table("products", sa.Column("name", sa.String(512, collation="latin1_swedish_ci")))
    op.add_column("products", sa.Column("code", sa.String(20, collation="utf8mb4_bin")))
    op.execute("ALTER TABLE products ADD COLUMN a text COLLATE \\"SQL_Latin1_General_CP1_CI_AS\\"")
    op.add_column("products", sa.Column("b", sa.Text(collation="NOCASE")))
    op.add_column("products", sa.Column("c", sa.Text(collation="C")))
    op.add_column("products", sa.Column("d", sa.Text(collation="und-x-icu")))
    op.add_column("products", sa.Column("e", sa.Text(collation="en_US.utf8")))
"""
    findings = lint(tmp_path, body, rule=RULE)
    assert [f.message.split(": the")[0] for f in findings] == [
        'PostgreSQL has no collation "latin1_swedish_ci" (MySQL\'s)',
        'PostgreSQL has no collation "utf8mb4_bin" (MySQL\'s)',
        'PostgreSQL has no collation "SQL_Latin1_General_CP1_CI_AS" (SQL Server\'s)',
        'PostgreSQL has no collation "NOCASE" (SQLite\'s)',
    ]
    assert findings[0].hint.startswith(
        '# PostgreSQL has no collation "latin1_swedish_ci" (MySQL\'s): write the column with '
        "no collation"
    )


def test_an_enum_without_a_name_fails(tmp_path: Path) -> None:
    """group-based-policy's ``sa.Enum("tcp", "udp")``: SQLAlchemy refuses it for PostgreSQL,
    online as offline; said as an error of the revision, not a notice that it could not be
    rendered."""
    body = """\
def upgrade():
    op.create_table("rules", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("protocol", sa.Enum("tcp", "udp")))
"""
    findings, notices = lint_with_notices(tmp_path, body, rule=RULE)
    assert [f.message.split(":")[0] for f in findings] == ["An enum type without a name"]
    assert notices == []


def test_a_collation_the_history_makes_is_its_own(tmp_path: Path) -> None:
    """quetz makes ``nocase`` (ICU, case-insensitive) on PostgreSQL, then uses it."""
    body = """\
def upgrade():
    op.execute("CREATE COLLATION IF NOT EXISTS nocase (provider = icu, "
               "locale = 'und-u-ks-level2', deterministic = false)")
    op.add_column("channels", sa.Column("name2", sa.String(100, collation="nocase")))
    op.execute("DROP COLLATION nocase")
    op.add_column("channels", sa.Column("name3", sa.String(100, collation="nocase")))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [6]
