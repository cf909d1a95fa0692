"""cluster-or-vacuum-full (MS029): CLUSTER or VACUUM FULL on a table that already exists."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import assert_renders, lines_flagged, lint

RULE = "cluster-or-vacuum-full"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("CLUSTER users USING ix_users_created_at")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: CLUSTER "users" rewrites it under an ACCESS EXCLUSIVE lock: all reads and writes wait until the copy is done.
        # Outside migrations: pg_repack rewrites "users" online (ACCESS EXCLUSIVE only for a moment,
        # at the start and at the end), or run CLUSTER in a maintenance window:
        #   pg_repack --table=users --dbname=DBNAME
        # In the migration, only choose the index it orders by (no rewrite, reads and writes go on):
        op.execute('ALTER TABLE "users" CLUSTER ON "ix_users_created_at"')
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_schema_qualified_table_keeps_its_schema_in_the_recipe(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.get_context().autocommit_block():
        op.execute("VACUUM FULL app.events")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        3: VACUUM FULL "app"."events" rewrites it under an ACCESS EXCLUSIVE lock: all reads and writes wait until the copy is done.
        # Outside migrations: pg_repack rewrites "app"."events" online (ACCESS EXCLUSIVE only for a moment,
        # at the start and at the end), or run VACUUM FULL in a maintenance window:
        #   pg_repack --no-order --table=app.events --dbname=DBNAME
        # In the migration, a plain VACUUM makes dead rows' space reusable, and reads and writes go on:
        with op.get_context().autocommit_block():  # VACUUM cannot run in a transaction
            op.execute('VACUUM (ANALYZE) "app"."events"')
        """,  # noqa: E501
        rule=RULE,
    )


def test_vacuum_full_in_the_migrations_transaction_also_fails(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("VACUUM (FULL, ANALYZE) events")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.endswith(
        "and PostgreSQL refuses to run it inside the migration's transaction."
    )


def test_a_plain_vacuum_or_full_turned_off_is_no_rewrite(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.get_context().autocommit_block():
        op.execute("VACUUM (ANALYZE) events")
        op.execute("VACUUM (FULL false) events")
        op.execute("VACUUM (FULL 0) events")
        op.execute("ANALYZE events")
        op.execute("VACUUM (FULL on) events")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [7]


def test_choosing_the_cluster_index_rewrites_nothing(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE users CLUSTER ON ix_users_created_at")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_without_a_table_every_table_is_rewritten(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("CLUSTER")
    with op.get_context().autocommit_block():
        op.execute("VACUUM FULL")
"""
    cluster, vacuum = lint(tmp_path, body, rule=RULE)
    assert cluster.message.startswith("CLUSTER without a table rewrites every table clustered")
    assert "refuses" in cluster.message
    assert vacuum.message.startswith("VACUUM FULL without a table rewrites every table")


def test_a_table_created_in_the_same_function_has_no_traffic(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("events", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute("CLUSTER events USING events_pkey")
    with op.get_context().autocommit_block():
        op.execute("VACUUM FULL events")
        op.execute("VACUUM FULL events, users")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [6]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('VACUUM FULL "users" rewrites it')


def test_alembics_version_table_is_never_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.get_context().autocommit_block():
        op.execute("VACUUM FULL alembic_version")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_downgrade_that_clusters_says_so(tmp_path: Path) -> None:
    body = """\
def upgrade():
    pass

def downgrade():
    op.execute("CLUSTER users")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('In downgrade(): CLUSTER "users"')
