"""ban-char (MS049): char(n) pads its values with blanks that count only some of the time."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import assert_renders, lines_flagged, lint

RULE = "ban-char"


def test_renders_the_users_own_call_and_a_check_for_the_length(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("countries", sa.Column("code", sa.CHAR(2), nullable=False))
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: "countries"."code" is char(2): values are blank-padded to 2 characters, padding that some operations ignore and others do not.
        op.add_column("countries", sa.Column("code", sa.Text(), nullable=False))
        # if the length is a rule of the data, a CHECK says so:
        op.create_check_constraint(op.f("countries_code_check"), "countries", 'char_length("code") <= 2',
                                   postgresql_not_valid=True)  # then VALIDATE it
        """,  # noqa: E501
        rule=RULE,
    )


def test_char_without_a_length_is_char_of_one(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table(
        "flags",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("kind", sa.CHAR(), nullable=False),
        schema="app",
    )
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith(
        '"app"."flags"."kind" is char(1): values are blank-padded to 1 character,'
    )
    assert finding.hint.splitlines() == [
        'sa.Column("kind", sa.Text(), nullable=False),'
        '  # in op.create_table("flags", ..., schema="app")',
        "# if the length is a rule of the data, a CHECK says so:",
        """sa.CheckConstraint('char_length("kind") <= 1', name=op.f("flags_kind_check")),""",
    ]


def test_raw_sql_spellings_of_char_are_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("CREATE TABLE codes (a char(3), b character(4), c character, d nchar(5))")
"""
    messages = [f.message.split(": ")[0] for f in lint(tmp_path, body, rule=RULE)]
    assert messages == [
        '"codes"."a" is char(3)',
        '"codes"."b" is char(4)',
        '"codes"."c" is char(1)',
        '"codes"."d" is char(5)',
    ]


def test_bpchar_without_a_length_has_no_check(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE codes ADD COLUMN e bpchar")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: "codes"."e" is bpchar: values are blank-padded, padding that some operations ignore and others do not.
        # in the SQL: "e" text
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_type_change_to_char_is_flagged_in_sql(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute('ALTER TABLE "codes" ALTER COLUMN "a" TYPE character(2)')
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('"codes"."a" becomes char(2):')
    assert finding.hint.splitlines()[0] == (
        """op.execute('ALTER TABLE "codes" ALTER COLUMN "a" TYPE text')"""
    )


def test_the_internal_char_type_and_text_types_are_not_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute('CREATE TABLE codes (a "char", b varchar(3), c text)')
    op.add_column("codes", sa.Column("d", sa.String(2)))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_an_array_of_char_is_flagged_without_a_check(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("codes", sa.Column("parts", sa.ARRAY(sa.CHAR(2))))
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('"codes"."parts" is char(2)[]:')
    assert finding.hint == 'op.add_column("codes", sa.Column("parts", sa.ARRAY(sa.Text())))'


def test_a_type_of_the_applications_own_schema_is_not_judged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE codes ADD COLUMN f app.bpchar")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_downgrade_is_not_judged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_column("countries", "code")

def downgrade():
    op.add_column("countries", sa.Column("code", sa.CHAR(2)))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []
