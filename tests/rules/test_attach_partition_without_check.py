"""attach-partition-without-check (MS028): ATTACH PARTITION with no CHECK that proves the
bound."""

from __future__ import annotations

from pathlib import Path

from migsafe.command import check
from migsafe.config import Settings
from tests.conftest import migration_source
from tests.rules.lint import assert_renders, lines_flagged, lint

RULE = "attach-partition-without-check"

ATTACH = """\
    op.execute("ALTER TABLE events ATTACH PARTITION events_2020 "
               "FOR VALUES FROM ('2020-01-01') TO ('2021-01-01')")
"""


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    assert_renders(
        tmp_path,
        "def upgrade():\n" + ATTACH,
        """\
        2: ATTACH PARTITION "events_2020" reads all of it to check the bound, under an ACCESS EXCLUSIVE lock on it and a SHARE UPDATE EXCLUSIVE lock on "events": for the whole scan, other schema changes and VACUUM, but not reads or writes wait on "events".
        # KEY: the partition key of "events"
        op.create_check_constraint("ck_events_2020_bound", "events_2020",
                                   "KEY IS NOT NULL AND KEY >= '2020-01-01' AND KEY < '2021-01-01'",
                                   postgresql_not_valid=True)
        with op.get_context().autocommit_block():  # validate in its own transaction
            op.execute('ALTER TABLE "events_2020" VALIDATE CONSTRAINT "ck_events_2020_bound"')
        op.execute("ALTER TABLE events ATTACH PARTITION events_2020 FOR VALUES FROM ('2020-01-01') TO ('2021-01-01')")  # no scan: the CHECK proves the bound
        op.drop_constraint("ck_events_2020_bound", "events_2020", type_="check")
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_schema_qualified_partition_keeps_its_schema_in_the_recipe(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE app.events ATTACH PARTITION app.events_eu FOR VALUES IN ('de', 'fr')")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: ATTACH PARTITION "app"."events_eu" reads all of it to check the bound, under an ACCESS EXCLUSIVE lock on it and a SHARE UPDATE EXCLUSIVE lock on "app"."events": for the whole scan, other schema changes and VACUUM, but not reads or writes wait on "app"."events".
        # KEY: the partition key of "app"."events"
        op.create_check_constraint("ck_events_eu_bound", "events_eu",
                                   "KEY IS NOT NULL AND KEY IN ('de', 'fr')",
                                   postgresql_not_valid=True, schema="app")
        with op.get_context().autocommit_block():  # validate in its own transaction
            op.execute('ALTER TABLE "app"."events_eu" VALIDATE CONSTRAINT "ck_events_eu_bound"')
        op.execute("ALTER TABLE app.events ATTACH PARTITION app.events_eu FOR VALUES IN ('de', 'fr')")  # no scan: the CHECK proves the bound
        op.drop_constraint("ck_events_eu_bound", "events_eu", type_="check", schema="app")
        """,  # noqa: E501
        rule=RULE,
    )


def test_before_postgresql_12_the_partitioned_table_is_locked_against_all(tmp_path: Path) -> None:
    body = "def upgrade():\n" + ATTACH
    (old,) = lint(tmp_path, body, rule=RULE, pg_version=11)
    (new,) = lint(tmp_path, body, rule=RULE, pg_version=12)
    assert 'and an ACCESS EXCLUSIVE lock on "events"' in old.message
    assert "all reads and writes wait on" in old.message
    assert 'a SHARE UPDATE EXCLUSIVE lock on "events"' in new.message


def test_each_kind_of_bound_gets_the_condition_that_proves_it(tmp_path: Path) -> None:
    def condition(bound: str) -> str:
        body = f'def upgrade():\n    op.execute("ALTER TABLE events ATTACH PARTITION p {bound}")\n'
        (finding,) = lint(tmp_path, body, rule=RULE)
        return finding.hint.splitlines()[2].strip()

    assert condition("FOR VALUES FROM (MINVALUE) TO (10)") == '"KEY IS NOT NULL AND KEY < 10",'
    assert condition("FOR VALUES IN (1, NULL)") == '"KEY IS NULL OR KEY IN (1)",'
    assert condition("FOR VALUES WITH (MODULUS 4, REMAINDER 1)") == (
        "\"satisfies_hash_partition('events'::regclass, 4, 1, KEY)\","
    )
    assert condition("DEFAULT") == '"KEY ...",'


def test_a_check_validated_before_the_attach_proves_the_bound(tmp_path: Path) -> None:
    body = (
        """\
def upgrade():
    op.create_check_constraint("ck_bound", "events_2020",
                               "at >= '2020-01-01' AND at < '2021-01-01'",
                               postgresql_not_valid=True)
    op.execute('ALTER TABLE events_2020 VALIDATE CONSTRAINT ck_bound')
"""
        + ATTACH
    )
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_check_left_not_valid_proves_nothing(tmp_path: Path) -> None:
    body = (
        """\
def upgrade():
    op.create_check_constraint("ck_bound", "events_2020",
                               "at >= '2020-01-01' AND at < '2021-01-01'",
                               postgresql_not_valid=True)
"""
        + ATTACH
    )
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]


def test_a_not_null_check_or_a_check_on_another_table_proves_nothing(tmp_path: Path) -> None:
    body = (
        """\
def upgrade():
    op.create_check_constraint("ck_at", "events_2020", "at IS NOT NULL")
    op.create_check_constraint("ck_bound", "events_2021", "at >= '2021-01-01'")
"""
        + ATTACH
    )
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]


def test_a_partition_created_in_the_same_function_is_empty(tmp_path: Path) -> None:
    body = (
        """\
def upgrade():
    op.execute("CREATE TABLE events_2020 (LIKE events INCLUDING ALL)")
"""
        + ATTACH
    )
    assert lines_flagged(tmp_path, body, rule=RULE) == []
    assert lines_flagged(tmp_path, body, rule=RULE, pg_version=11) == []


def test_a_partitioned_table_created_in_the_same_function_has_no_traffic(tmp_path: Path) -> None:
    body = (
        """\
def upgrade():
    op.execute("CREATE TABLE events (id bigint, at date) PARTITION BY RANGE (at)")
"""
        + ATTACH
    )
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_downgrade_that_attaches_says_so(tmp_path: Path) -> None:
    body = (
        """\
def upgrade():
    op.execute("ALTER TABLE events DETACH PARTITION events_2020 CONCURRENTLY")

def downgrade():
"""
        + ATTACH
    )
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith("In downgrade(): ATTACH PARTITION")


def test_a_check_an_earlier_revision_validated_proves_the_bound(tmp_path: Path) -> None:
    first = """\
def upgrade():
    op.execute("CREATE TABLE events (id bigint, at date) PARTITION BY RANGE (at)")
    op.execute("CREATE TABLE events_2020 (id bigint, at date, "
               "CONSTRAINT ck_bound CHECK (at >= '2020-01-01' AND at < '2021-01-01'))")
    op.execute("CREATE TABLE events_2021 (id bigint, at date, "
               "CONSTRAINT ck_at CHECK (at IS NOT NULL))")
"""
    second = """\
def upgrade():
    op.execute("ALTER TABLE events ATTACH PARTITION events_2020 "
               "FOR VALUES FROM ('2020-01-01') TO ('2021-01-01')")
    op.execute("ALTER TABLE events ATTACH PARTITION events_2021 "
               "FOR VALUES FROM ('2021-01-01') TO ('2022-01-01')")
"""
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "r1.py").write_text(migration_source(first, revision="r1"))
    (versions / "r2.py").write_text(migration_source(second, revision="r2", down_revision="r1"))
    result = check(versions, Settings(pg_version=16))
    flagged = [
        (f.path.name, f.message.split(" reads")[0]) for f in result.findings if f.rule == RULE
    ]
    assert flagged == [("r2.py", 'ATTACH PARTITION "events_2021"')]
