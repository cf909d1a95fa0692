"""prefer-timestamptz (MS047): timestamp without time zone is a clock reading, not an
instant."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import assert_renders, lines_flagged, lint

RULE = "prefer-timestamptz"


def test_renders_the_users_own_call_with_timezone(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column(
        "events",
        sa.Column("happened_at", sa.DateTime(), nullable=False, server_default=sa.func.now()),
    )
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: "events"."happened_at" is timestamp without time zone: a clock reading with no zone, not an instant.
        op.add_column(
            "events",
            sa.Column("happened_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        )
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_column_of_a_new_table_keeps_its_other_arguments(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("at", sa.TIMESTAMP(), index=True, comment="when"),
        schema="audit",
    )
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('"audit"."events"."at" is timestamp without time zone')
    assert finding.hint == (
        'sa.Column("at", sa.DateTime(timezone=True), index=True, comment="when"),'
        '  # in op.create_table("events", ..., schema="audit")'
    )


def test_a_precision_is_kept(tmp_path: Path) -> None:
    body = """\
from sqlalchemy.dialects import postgresql

def upgrade():
    op.add_column("events", sa.Column("at", postgresql.TIMESTAMP(precision=3)))
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.hint == (
        'op.add_column("events", sa.Column("at", postgresql.TIMESTAMP(timezone=True, precision=3)))'
    )


def test_raw_sql_is_answered_in_sql(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("CREATE TABLE events (id bigint PRIMARY KEY, at timestamp(6) NOT NULL)")
    op.execute("ALTER TABLE events ALTER COLUMN seen_at TYPE timestamp without time zone")
"""
    hints = [f.hint for f in lint(tmp_path, body, rule=RULE)]
    assert hints == [
        '# in the SQL: "at" timestamptz(6)',
        """op.execute('ALTER TABLE "events" ALTER COLUMN "seen_at" TYPE timestamptz')""",
    ]


def test_a_type_change_to_timestamp_becomes_one(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("events", "at", type_=sa.DateTime(), existing_type=sa.Date())
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('"events"."at" becomes timestamp without time zone')
    assert finding.hint == (
        'op.alter_column("events", "at", type_=sa.DateTime(timezone=True), existing_type=sa.Date())'
    )


def test_timestamptz_date_and_time_are_not_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("events", sa.Column("at", sa.DateTime(timezone=True)))
    op.add_column("events", sa.Column("day", sa.Date()))
    op.add_column("events", sa.Column("opens", sa.Time()))
    op.execute("ALTER TABLE events ADD COLUMN seen timestamp with time zone")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_type_of_the_applications_own_schema_is_not_judged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("CREATE TABLE events (at app.timestamp)")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_the_applications_own_sqlalchemy_type_is_not_judged(tmp_path: Path) -> None:
    body = """\
class UTCDateTime(sa.types.TypeDecorator):
    impl = sa.DateTime
    cache_ok = True


def upgrade():
    op.add_column("events", sa.Column("at", UTCDateTime()))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_an_array_of_timestamps_is_flagged_as_one(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("events", sa.Column("retries", sa.ARRAY(sa.DateTime())))
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.hint == (
        'op.add_column("events", sa.Column("retries", sa.ARRAY(sa.DateTime(timezone=True))))'
    )


def test_downgrade_is_not_judged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_column("events", "at")

def downgrade():
    op.add_column("events", sa.Column("at", sa.DateTime()))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []
