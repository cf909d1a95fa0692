"""setting-does-not-exist (MS072): SET of a parameter PostgreSQL does not have."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import assert_renders, lines_flagged, lint

RULE = "setting-does-not-exist"


def test_renders_what_to_do(tmp_path: Path) -> None:
    """group-based-policy turns MySQL's foreign key checks off before its drops."""
    body = """\
def upgrade():
    op.execute("SET FOREIGN_KEY_CHECKS = 0")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: PostgreSQL has no parameter "foreign_key_checks": the statement fails ("unrecognized configuration parameter"), and with it the revision.
        # PostgreSQL has no parameter foreign_key_checks (its foreign keys are always checked; SET session_replication_role = replica skips their triggers, for a superuser):
        if op.get_bind().dialect.name == "mysql":
            op.execute("SET FOREIGN_KEY_CHECKS = 0")
        """,  # noqa: E501
        rule=RULE,
    )


def test_every_form_that_names_a_parameter(tmp_path: Path) -> None:
    """refstack sets it through the bind; RESET and set_config() name one too; a
    downgrade's is judged as well."""
    body = """\
def upgrade():
    op.get_bind().execute(sa.text("SET SESSION sql_mode = ''"))
    op.execute("RESET unique_checks")
    op.execute("SELECT set_config('time_zone', 'UTC', false)")

def downgrade():
    op.execute("SET LOCAL max_execution_time = 1000")
"""
    findings = lint(tmp_path, body, rule=RULE)
    assert [f.message.split('"')[1] for f in findings] == [
        "sql_mode",
        "unique_checks",
        "time_zone",
        "max_execution_time",
    ]
    assert findings[-1].message.startswith("In downgrade(): ")


def test_what_postgresql_accepts_passes(tmp_path: Path) -> None:
    """Its parameters in any case, those set through a syntax of their own, one of an
    earlier major, one it hides (``default_with_oids``, which pg_dump files of old still set
    false: taxhub loads one), a placeholder with a dot, SET TRANSACTION and RESET ALL."""
    body = """\
def upgrade():
    op.execute("SET lock_timeout = '5s'")
    op.execute("SET TimeZone = 'UTC'")
    op.execute("SET TIME ZONE 'UTC'")
    op.execute("SET NAMES 'UTF8'")
    op.execute("SET SCHEMA 'public'")
    op.execute("SET ROLE migrator")
    op.execute("SET session_replication_role = replica")
    op.execute("SET wal_keep_segments = 8")
    op.execute("SET default_with_oids = false")
    op.execute("SET app.tenant_id = '42'")
    op.execute("SELECT set_config('app.user', 'x', true)")
    op.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
    op.execute("RESET ALL")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []
