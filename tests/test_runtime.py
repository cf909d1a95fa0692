"""migsafe.runtime on a real PostgreSQL: the lock-timeout retry against a lock another
connection holds, batched_update seen from another connection and stopped half-way, and the
pattern helpers taking, step by step, the lock modes migsafe.locks gives their statements."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pglast
import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from migsafe.locks import lock_for
from migsafe.postgres.url import scratch_database
from migsafe.runtime import (
    LockTimeoutRetriesExhausted,
    add_foreign_key_safely,
    batched_update,
    create_index_concurrently,
    retry_on_lock_timeout,
    set_not_null_safely,
)


@pytest.fixture
def engine(server_url: str) -> Iterator[Engine]:
    with scratch_database(server_url) as url:
        engine = create_engine(url, poolclass=NullPool)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE users (id int PRIMARY KEY, email text)"))
            connection.execute(text(
                "CREATE TABLE orders (id int PRIMARY KEY, user_id int, counter int DEFAULT 0)"
            ))  # fmt: skip
            connection.execute(
                text("INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 10) g")
            )
            connection.execute(
                text("INSERT INTO orders (id, user_id) SELECT g, g FROM generate_series(1, 10) g")
            )
        yield engine
        engine.dispose()


def test_the_retry_waits_out_a_lock_held_elsewhere(engine: Engine) -> None:
    holder = engine.connect()
    holder.begin()
    holder.execute(text("LOCK TABLE users IN ACCESS EXCLUSIVE MODE"))
    attempts = []

    def migrate() -> None:
        attempts.append(time.monotonic())
        with engine.begin() as connection:
            connection.execute(text("SET LOCAL lock_timeout = '100ms'"))
            connection.execute(text("ALTER TABLE users ADD COLUMN nickname text"))

    def release_after_two_attempts(seconds: float) -> None:
        if len(attempts) == 2:
            holder.rollback()
        time.sleep(seconds)

    retry_on_lock_timeout(migrate, attempts=5, first_delay=0.05, sleep=release_after_two_attempts)
    holder.close()
    assert len(attempts) == 3
    with engine.connect() as connection:
        columns = connection.execute(text(
            "SELECT count(*) FROM information_schema.columns WHERE column_name = 'nickname'"
        )).scalar()  # fmt: skip
    assert columns == 1


def test_the_retry_gives_up_saying_where(engine: Engine) -> None:
    holder = engine.connect()
    holder.begin()
    holder.execute(text("LOCK TABLE users IN ACCESS EXCLUSIVE MODE"))
    waits: list[float] = []

    def migrate() -> None:
        with engine.begin() as connection:
            connection.execute(text("SET LOCAL lock_timeout = '50ms'"))
            connection.execute(text("ALTER TABLE users ADD COLUMN nickname text"))

    with pytest.raises(LockTimeoutRetriesExhausted, match="gave up after 3 attempts") as raised:
        retry_on_lock_timeout(migrate, attempts=3, first_delay=1.0, max_delay=1.5,
                              sleep=waits.append)  # fmt: skip
    holder.close()
    assert "ALTER TABLE users ADD COLUMN nickname" in str(raised.value)
    assert len(waits) == 2 and 0.5 <= waits[0] <= 1.0 and 0.75 <= waits[1] <= 1.5  # jitter


def test_other_errors_are_not_retried(engine: Engine) -> None:
    calls = []

    def broken() -> None:
        calls.append(1)
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE no_such_table ADD COLUMN x int"))

    with pytest.raises(Exception, match="no_such_table"):
        retry_on_lock_timeout(broken, attempts=5, sleep=lambda s: None)
    assert calls == [1]


def test_batched_update_commits_each_batch(engine: Engine) -> None:
    seen = []

    def look(rows: int, batches: int) -> None:  # from another connection, during the run
        with engine.connect() as other:
            count = text("SELECT count(*) FROM orders WHERE counter = 1")
            seen.append((rows, other.execute(count).scalar()))

    done = batched_update(engine, "orders", "counter = counter + 1", batch_size=3, progress=look)
    assert done == 10
    assert seen == [(3, 3), (6, 6), (9, 9), (10, 10)]


class Stop(Exception):
    pass


def test_batched_update_resumes_without_applying_a_batch_twice(engine: Engine) -> None:
    def crash_after_two(rows: int, batches: int) -> None:
        if batches == 2:
            raise Stop

    with pytest.raises(Stop):
        batched_update(engine, "orders", "counter = counter + 1", batch_size=4,
                       progress=crash_after_two, name="orders-counter")  # fmt: skip
    assert batched_update(engine, "orders", "counter = counter + 1", batch_size=4,
                          name="orders-counter") == 2  # fmt: skip
    with engine.connect() as connection:
        counters = connection.execute(text("SELECT counter FROM orders ORDER BY id")).scalars()
        assert list(counters) == [1] * 10  # each row exactly once
        progress = connection.execute(
            text("SELECT rows, finished_at IS NOT NULL FROM migsafe_backfill WHERE name = :n"),
            {"n": "orders-counter"},
        ).one()
    assert tuple(progress) == (10, True)


def test_a_finished_backfill_runs_again_after_a_downgrade(engine: Engine) -> None:
    """The README's example failed migsafe's own roundtrip: its downgrade drops the column,
    the upgrade adds it back empty, and the backfill said it had finished, leaving NULLs
    for the SET NOT NULL after it."""
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE orders ADD COLUMN buyer int"))
    fill = {"where": "buyer IS NULL", "batch_size": 4, "name": "orders-buyer"}
    assert batched_update(engine, "orders", "buyer = id", **fill) == 10
    with engine.begin() as connection:  # the downgrade, and the upgrade again
        connection.execute(text("ALTER TABLE orders DROP COLUMN buyer"))
        connection.execute(text("ALTER TABLE orders ADD COLUMN buyer int"))
    assert batched_update(engine, "orders", "buyer = id", **fill) == 10
    with engine.connect() as connection:
        empty = connection.execute(text("SELECT count(*) FROM orders WHERE buyer IS NULL"))
        assert empty.scalar() == 0


def test_batched_update_honours_where_and_a_text_key(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE tags (name text PRIMARY KEY, slug text)"))
        connection.execute(text("INSERT INTO tags VALUES ('B', NULL), ('a', 'keep'), ('c', NULL)"))
    assert batched_update(engine, "tags", "slug = lower(name)", where="slug IS NULL",
                          key="name", batch_size=1) == 2  # fmt: skip
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT name, slug FROM tags ORDER BY name")).all()
    assert [tuple(r) for r in rows] == [("B", "b"), ("a", "keep"), ("c", "c")]


def pg_mode(statement: str) -> tuple[str, str]:
    """The table and the pg_locks mode migsafe.locks gives a statement."""
    node = pglast.parse_sql(statement)[0].stmt
    mode = lock_for(node)
    relation = getattr(node, "relation", None)
    assert mode is not None and relation is not None, statement
    return relation.relname, "".join(word.capitalize() for word in mode.label.split()) + "Lock"


def observed_locks(engine: Engine, helper) -> list[tuple[str, tuple[str, str]]]:
    """Each DDL statement ``helper`` runs, with the lock it asked for: before each, a second
    connection holds ACCESS EXCLUSIVE on both tables, so the statement waits; a third reads
    what it waits for in pg_locks, then the second lets it go. A statement whose table the
    helper's own transaction has locked already is not waited for, nor observed."""
    observed: list[tuple[str, tuple[str, str]]] = []
    connection = engine.connect()
    pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
    connection.commit()
    blocker = engine.connect()
    lookout = engine.connect()
    watching: list[threading.Thread] = []

    def watch(sql: str) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            row = lookout.execute(text(
                "SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE l.pid = :pid AND NOT l.granted"
            ), {"pid": pid}).first()  # fmt: skip
            lookout.rollback()
            if row is not None:
                observed.append((sql, (row.relname, row.mode)))
                break
            time.sleep(0.01)
        blocker.rollback()

    def before(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().split()[0].upper() not in ("ALTER", "CREATE", "DROP"):
            return
        for thread in watching:
            thread.join()
        blocker.begin()
        try:
            blocker.execute(text("LOCK TABLE users, orders IN ACCESS EXCLUSIVE MODE NOWAIT"))
        except Exception:  # the helper holds one of them already, in its open transaction
            blocker.rollback()
            return
        watching.append(threading.Thread(target=watch, args=(statement,)))
        watching[-1].start()

    event.listen(connection, "before_cursor_execute", before)
    migration = MigrationContext.configure(connection, opts={"transaction_per_migration": True})
    with Operations.context(migration), migration.begin_transaction(_per_migration=True):
        helper()
    connection.commit()
    for thread in watching:
        thread.join()
    for each in (connection, blocker, lookout):
        each.close()
    return observed


@pytest.mark.parametrize(
    ("helper", "steps"),
    [
        (lambda: create_index_concurrently("ix_orders_user_id", "orders", ["user_id"]),
         ["CREATE INDEX CONCURRENTLY"]),
        (lambda: add_foreign_key_safely("fk_orders_user_id", "orders", "users", ["user_id"],
                                        ["id"]),
         ["ADD CONSTRAINT", "VALIDATE CONSTRAINT"]),
        (lambda: set_not_null_safely("users", "email"),
         ["ADD CONSTRAINT", "VALIDATE CONSTRAINT", "SET NOT NULL"]),
    ],
    ids=["create_index_concurrently", "add_foreign_key_safely", "set_not_null_safely"],
)  # fmt: skip
def test_each_step_takes_the_lock_the_runbook_gives_it(engine: Engine, helper, steps) -> None:
    observed = observed_locks(engine, helper)
    for step in steps:
        assert any(step in statement for statement, _ in observed), (step, observed)
    for statement, lock in observed:
        assert lock == pg_mode(statement), statement


def test_a_failed_concurrent_build_is_dropped_and_built_again(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO users VALUES (11, 'u1')"))  # a duplicate email
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        with pytest.raises(Exception, match="could not create unique index"):
            connection.execute(text(
                "CREATE UNIQUE INDEX CONCURRENTLY ix_users_email ON users (email)"
            ))  # fmt: skip
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM users WHERE id = 11"))
    connection = engine.connect()
    migration = MigrationContext.configure(connection, opts={"transaction_per_migration": True})
    with Operations.context(migration), migration.begin_transaction(_per_migration=True):
        create_index_concurrently("ix_users_email", "users", ["email"], unique=True)
    connection.commit()
    valid = connection.execute(text(
        "SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_users_email'::regclass"
    )).scalar()  # fmt: skip
    connection.close()
    assert valid is True


def test_migrations_written_with_the_helpers_pass_check(write_migration) -> None:
    from migsafe import command

    path = write_migration(
        "from migsafe.runtime import (add_foreign_key_safely, batched_update,\n"
        "    create_index_concurrently, set_not_null_safely)\n\n"
        "def upgrade():\n"
        "    op.add_column('orders', sa.Column('buyer_id', sa.Integer()))\n"
        "    create_index_concurrently('ix_orders_buyer_id', 'orders', ['buyer_id'])\n"
        "    add_foreign_key_safely('fk_orders_buyer', 'orders', 'users', ['buyer_id'], ['id'])\n"
        "    with op.get_context().autocommit_block():\n"
        "        batched_update(op.get_bind(), 'orders', 'buyer_id = user_id')\n"
        "    set_not_null_safely('orders', 'buyer_id')\n\n"
        "def downgrade():\n"
        "    op.drop_column('orders', 'buyer_id')\n"
    )
    result = command.check([path])
    assert result.findings == [] and result.diagnostics == [], (
        [f.message for f in result.findings], [d.message for d in result.diagnostics],
    )  # fmt: skip


def run_helper(engine: Engine, helper) -> None:
    connection = engine.connect()
    migration = MigrationContext.configure(connection, opts={"transaction_per_migration": True})
    with Operations.context(migration), migration.begin_transaction(_per_migration=True):
        helper()
    connection.commit()
    connection.close()


def test_a_helper_stopped_half_way_goes_on_when_run_again(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE orders SET user_id = 99 WHERE id = 1"))  # no such user
    foreign_key = lambda: add_foreign_key_safely(  # noqa: E731
        "fk_orders_user_id", "orders", "users", ["user_id"], ["id"]
    )
    with pytest.raises(Exception, match="violates foreign key constraint"):
        run_helper(engine, foreign_key)  # added NOT VALID, then the validation failed
    with engine.begin() as connection:
        connection.execute(text("UPDATE orders SET user_id = 1 WHERE id = 1"))
    run_helper(engine, foreign_key)
    with engine.connect() as connection:
        validated = connection.execute(text(
            "SELECT convalidated FROM pg_constraint WHERE conname = 'fk_orders_user_id'"
        )).scalar()  # fmt: skip
    assert validated is True


def test_a_backfill_leaves_no_trace_for_roundtrip(tmp_path, server_url: str) -> None:
    from tests.conftest import migration_source, roundtrip

    versions = tmp_path / "versions"
    versions.mkdir()
    first = (
        "def upgrade():\n    op.create_table('t', sa.Column('id', sa.Integer(), primary_key=True),"
        " sa.Column('a', sa.Integer()))\n    op.execute('INSERT INTO t SELECT g, g FROM "
        "generate_series(1, 50) g')\n\ndef downgrade():\n    op.drop_table('t')\n"
    )
    second = (
        "from migsafe.runtime import batched_update\n\n"
        "def upgrade():\n    op.add_column('t', sa.Column('b', sa.Integer()))\n"
        "    with op.get_context().autocommit_block():\n"
        "        batched_update(op.get_bind(), 't', 'b = a * 2', batch_size=7)\n\n"
        "def downgrade():\n    op.drop_column('t', 'b')\n"
    )
    (versions / "r1.py").write_text(migration_source(first, "r1", None))
    (versions / "r2.py").write_text(migration_source(second, "r2", "r1"))
    result = roundtrip(versions, server_url)
    assert [str(r.verdict) for r in result.revisions] == ["ok", "ok"], result.revisions
