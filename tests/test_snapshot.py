"""The catalog snapshot against a real PostgreSQL (the embedded provider): it sees every kind
of object it claims to, names them in full, and tells equal schemas from different ones."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from migsafe.postgres.url import scratch_database
from migsafe.project import load_project
from migsafe.runner.alembic_project import alembic_project
from migsafe.runner.migrator import Migrator
from migsafe.runner.workspace import Workspace
from migsafe.schema.diff import diff_snapshots
from migsafe.schema.snapshot import FIELDS
from tests.conftest import migration_source

EVERY_KIND = """
CREATE SCHEMA billing;
COMMENT ON SCHEMA billing IS 'money';
CREATE TYPE billing.state AS ENUM ('open', 'paid');
CREATE DOMAIN billing.cents AS bigint NOT NULL CHECK (VALUE >= 0);
CREATE TYPE billing.pair AS (a int, b int);
CREATE TABLE billing.invoice (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    state billing.state NOT NULL DEFAULT 'open',
    total billing.cents,
    doubled bigint GENERATED ALWAYS AS (total * 2) STORED,
    CONSTRAINT total_small CHECK (total < 1000000)
);
CREATE INDEX invoice_state ON billing.invoice (state) WHERE state = 'open';
CREATE SEQUENCE billing.numbers START 100 OWNED BY billing.invoice.id;
CREATE VIEW billing.open_invoice AS SELECT id FROM billing.invoice WHERE state = 'open';
CREATE MATERIALIZED VIEW billing.totals AS SELECT sum(total) AS total FROM billing.invoice;
CREATE FUNCTION billing.touch() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN RETURN NEW; END $$;
CREATE PROCEDURE billing.close_all() LANGUAGE sql
    AS $$ UPDATE billing.invoice SET state = 'paid' $$;
CREATE AGGREGATE billing.total_of (bigint) (SFUNC = int8pl, STYPE = bigint);
CREATE TRIGGER invoice_touch BEFORE UPDATE ON billing.invoice
    FOR EACH ROW EXECUTE FUNCTION billing.touch();
ALTER TABLE billing.invoice ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_invoices ON billing.invoice USING (state = 'open');
"""


@pytest.fixture
def workspace(server_url: str) -> Iterator[Workspace]:
    with scratch_database(server_url) as url, Workspace(url) as workspace:
        workspace.open()
        yield workspace


@contextmanager
def connected(workspace: Workspace) -> Iterator[Connection]:
    """A connection of its own to the workspace's database, as the migrations' worker has."""
    engine = create_engine(workspace.database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def execute(workspace: Workspace, sql: str) -> None:
    with connected(workspace) as connection:
        connection.exec_driver_sql(sql)
        connection.commit()


def test_every_kind_of_object_is_seen(workspace: Workspace) -> None:
    execute(workspace, EVERY_KIND)
    kinds = {kind for kind, _ in workspace.snapshot().objects}
    assert kinds == set(FIELDS) - {"extension"}  # the embedded server ships no extensions


def test_long_names_are_not_cut_at_63_bytes(workspace: Workspace) -> None:
    """Qualified names are longer than a catalog ``name`` can hold: two columns that differ
    only after the 63rd byte must stay two objects."""
    table, column = "t" * 60, "c" * 60
    execute(workspace, f'CREATE TABLE "{table}" ("{column}_a" int, "{column}_b" text)')
    names = {name for kind, name in workspace.snapshot().objects if kind == "column"}
    assert names == {f"public.{table}.{column}_a", f"public.{table}.{column}_b"}


def test_equal_schemas_compare_equal_and_changes_are_named(workspace: Workspace) -> None:
    execute(workspace, EVERY_KIND)
    before = workspace.snapshot()
    execute(workspace, "CREATE INDEX invoice_total ON billing.invoice (total)")
    execute(workspace, "DROP INDEX billing.invoice_total")
    assert workspace.snapshot() == before  # recreated OIDs and catalog rows change nothing

    execute(workspace, "ALTER TYPE billing.state ADD VALUE 'void'")
    execute(workspace, "COMMENT ON COLUMN billing.invoice.total IS 'in cents'")
    changes = [str(change) for change in diff_snapshots(before, workspace.snapshot())]
    assert changes == [
        "column billing.invoice.total: changed (comment: none → in cents)",
        "enum type billing.state: changed (labels: 'open', 'paid' → 'open', 'paid', 'void')",
    ]


def test_the_version_table_is_left_out(server_url: str) -> None:
    with scratch_database(server_url) as url, Workspace(url, "history", "billing") as workspace:
        workspace.open()
        execute(workspace, "CREATE SCHEMA billing; CREATE TABLE billing.history (v text)")
        execute(workspace, "CREATE TABLE public.history (v text)")
        tables = {name for kind, name in workspace.snapshot().objects if kind == "table"}
    assert tables == {"public.history"}


def test_a_migration_waits_for_the_snapshot_being_read(workspace: Workspace, tmp_path: Path):
    """A snapshot is read beside Alembic's look at the version table, never beside a change."""
    versions = tmp_path / "versions"
    versions.mkdir()
    body = 'def upgrade():\n    op.create_table("t", sa.Column("id", sa.Integer))\n'
    (versions / "a1.py").write_text(migration_source(body, "a1"))
    seen: list[str] = []

    def wait_for_snapshot() -> None:
        seen.append("wait_for_snapshot")
        workspace.wait_for_snapshot()

    before = workspace.snapshot()
    project = alembic_project(load_project([versions]))
    with connected(workspace) as connection:
        migrator = Migrator(project, connection, before_changes=wait_for_snapshot)

        def record(conn: object, cursor: object, statement: str, *rest: object) -> None:
            seen.append(statement.split()[0])

        event.listen(connection, "before_cursor_execute", record)
        migrator.upgrade("a1")

    first_wait = seen.index("wait_for_snapshot")
    assert set(seen[:first_wait]) == {"SELECT"}
    assert seen.count("CREATE") == 2  # the version table, then the migration's table
    assert ("table", "public.t") not in before.objects
    assert ("table", "public.t") in workspace.snapshot().objects
