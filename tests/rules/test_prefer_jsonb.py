"""prefer-jsonb (MS050): json is text parsed again on every access, with no equality."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import assert_renders, lines_flagged, lint

RULE = "prefer-jsonb"


def test_renders_the_users_own_call_with_jsonb(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("events", sa.Column("payload", sa.JSON(), nullable=False))
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: "events"."payload" is json: parsed again on every access, with no equality operator and no GIN index; jsonb has both.
        op.add_column("events", sa.Column("payload", postgresql.JSONB(), nullable=False))
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_new_table_keeps_the_columns_other_arguments(tmp_path: Path) -> None:
    body = """\
from sqlalchemy.dialects import postgresql

def upgrade():
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("data", postgresql.JSON(), server_default=sa.text("'{}'"), comment="raw"),
        schema="audit",
    )
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('"audit"."events"."data" is json:')
    assert finding.hint == (
        """sa.Column("data", postgresql.JSONB(), server_default=sa.text("'{}'"), comment="raw"),"""
        '  # in op.create_table("events", ..., schema="audit")'
    )


def test_none_as_null_is_kept(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("events", sa.Column("meta", sa.JSON(none_as_null=True)))
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.hint == (
        'op.add_column("events", sa.Column("meta", postgresql.JSONB(none_as_null=True)))'
    )


def test_raw_sql_is_answered_in_sql(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("CREATE TABLE hooks (id bigint PRIMARY KEY, body json NOT NULL)")
    op.execute("ALTER TABLE hooks ALTER COLUMN headers TYPE json USING headers::json")
"""
    findings = lint(tmp_path, body, rule=RULE)
    assert [(f.message.split(":")[0], f.hint) for f in findings] == [
        ('"hooks"."body" is json', '# in the SQL: "body" jsonb'),
        (
            '"hooks"."headers" becomes json',
            """op.execute('ALTER TABLE "hooks" ALTER COLUMN "headers" TYPE jsonb')""",
        ),
    ]


def test_a_type_change_to_json_keeps_the_users_call(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column(
        "hooks", "headers", type_=sa.JSON(), existing_type=sa.Text(),
        postgresql_using="headers::json",
    )
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.hint.splitlines() == [
        "op.alter_column(",
        '    "hooks", "headers", type_=postgresql.JSONB(), existing_type=sa.Text(),',
        '    postgresql_using="headers::json",',
        ")",
    ]


def test_jsonb_and_text_are_not_flagged(tmp_path: Path) -> None:
    body = """\
from sqlalchemy.dialects import postgresql

def upgrade():
    op.add_column("events", sa.Column("payload", postgresql.JSONB()))
    op.add_column("events", sa.Column("raw", sa.Text()))
    op.execute("ALTER TABLE events ADD COLUMN extra jsonb")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_json_type_of_the_applications_own_schema_is_not_judged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE events ADD COLUMN doc app.json")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_an_array_of_json_is_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE events ADD COLUMN parts json[]")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('"events"."parts" is json[]:')
    assert finding.hint == '# in the SQL: "parts" jsonb[]'


def test_downgrade_is_not_judged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_column("events", "payload")

def downgrade():
    op.add_column("events", sa.Column("payload", sa.JSON()))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []
