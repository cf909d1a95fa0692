"""detach-partition-not-concurrently (MS027): DETACH PARTITION without CONCURRENTLY."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import assert_renders, lines_flagged, lint

RULE = "detach-partition-not-concurrently"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE events DETACH PARTITION events_2020")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: DETACH PARTITION "events_2020" takes an ACCESS EXCLUSIVE lock on the partitioned table "events": all reads and writes wait.
        with op.get_context().autocommit_block():  # not in a transaction
            op.execute('ALTER TABLE "events" DETACH PARTITION "events_2020" CONCURRENTLY')
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_schema_qualified_table_keeps_its_schema_in_the_recipe(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE app.events DETACH PARTITION app.events_2020")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: DETACH PARTITION "app"."events_2020" takes an ACCESS EXCLUSIVE lock on the partitioned table "app"."events": all reads and writes wait.
        with op.get_context().autocommit_block():  # not in a transaction
            op.execute('ALTER TABLE "app"."events" DETACH PARTITION "app"."events_2020" CONCURRENTLY')
        """,  # noqa: E501
        rule=RULE,
    )


def test_before_postgresql_14_there_is_no_concurrent_form(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE events DETACH PARTITION events_2020")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: DETACH PARTITION "events_2020" takes an ACCESS EXCLUSIVE lock on the partitioned table "events": all reads and writes wait, and PostgreSQL 13 has no concurrent form (14 and later have DETACH PARTITION ... CONCURRENTLY).
        # PostgreSQL 13: no CONCURRENTLY; give up quickly rather than queue every query behind the lock
        op.execute("SET LOCAL lock_timeout = '2s'")
        op.execute('ALTER TABLE "events" DETACH PARTITION "events_2020"')
        """,  # noqa: E501
        rule=RULE,
        pg_version=13,
    )
    (finding,) = lint(tmp_path, body, rule=RULE, pg_version=14)
    assert "CONCURRENTLY')" in finding.hint


def test_a_concurrent_detach_in_an_autocommit_block_is_fine(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE events DETACH PARTITION events_2020 CONCURRENTLY")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_concurrent_detach_in_a_transaction_is_another_rules_finding(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE events DETACH PARTITION events_2020 CONCURRENTLY")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []
    assert lines_flagged(tmp_path, body, rule="concurrently-in-transaction") == [2]


def test_finalize_takes_no_lock_on_reads_or_writes(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE events DETACH PARTITION events_2020 FINALIZE")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_partitioned_table_created_in_the_same_function_has_no_traffic(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("CREATE TABLE events (id bigint, at date) PARTITION BY RANGE (at)")
    op.execute("CREATE TABLE events_2020 PARTITION OF events "
               "FOR VALUES FROM ('2020-01-01') TO ('2021-01-01')")
    op.execute("ALTER TABLE events DETACH PARTITION events_2020")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_partitioned_table_dropped_next_is_locked_by_the_drop_anyway(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE events DETACH PARTITION events_2020")
    op.drop_table("events")
    op.execute("ALTER TABLE logs DETACH PARTITION logs_2020")
    op.drop_table("logs", schema="archive")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]


def test_a_downgrade_that_detaches_what_the_upgrade_attached_says_so(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE events ATTACH PARTITION events_2020 "
               "FOR VALUES FROM ('2020-01-01') TO ('2021-01-01')")

def downgrade():
    op.execute("ALTER TABLE events DETACH PARTITION events_2020")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [6]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith("In downgrade(): DETACH PARTITION")
