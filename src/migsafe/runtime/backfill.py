"""Backfills in committed batches, outside the migration's DDL transaction.

One UPDATE of a big table holds its row locks, bloats it and replicates as one burst; inside
the migration's transaction it also keeps the DDL's locks for the whole time. Here each batch
is a transaction of its own, on a connection of its own, over a range of the key (keyset
pagination: every batch finds its rows through the index, however far it got). The batch
and the record of how far the backfill got (table ``migsafe_backfill``) commit together, so
a backfill that stops half-way (a deploy killed, a lost connection) goes on after the last
committed batch when it runs again, and never applies a batch twice; one that ran to its end
runs again from the start (after a downgrade, the upgrade runs again).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import text

from migsafe.runtime.names import qualified, quoted

log = logging.getLogger("migsafe.runtime")
PROGRESS_TABLE = "migsafe_backfill"


def batched_update(
    bind: Any,
    table: str,
    assignments: str,
    *,
    where: str | None = None,
    key: str = "id",
    batch_size: int = 1000,
    name: str | None = None,
    schema: str | None = None,
    pause: float = 0.0,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """``UPDATE table SET assignments [WHERE where]`` in batches of ``batch_size`` rows, in
    the order of ``key`` (unique, e.g. the primary key); returns the rows updated by this
    call. ``name`` identifies the backfill across runs (default: the table and the
    assignments); ``pause`` seconds between batches leave room for the application's
    traffic; ``progress(rows, batches)`` is called after each committed batch.

    In a migration, call it inside ``op.get_context().autocommit_block()``, so that the
    schema change before it has committed and is visible to the backfill's connection.
    Where migrations are only written out (``alembic upgrade --sql``, ``migsafe check``) it
    writes the one UPDATE instead.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    relation = qualified(schema, table)
    if _writing_sql():
        from alembic import op

        op.execute(
            text(f"UPDATE {relation} SET {assignments}" + (f" WHERE {where}" if where else ""))
        )
        return 0
    engine = getattr(bind, "engine", bind)
    column = quoted(key)
    name = name or f"{relation} SET {assignments}"
    condition = f" AND ({where})" if where else ""
    done = batches = 0
    with engine.connect() as connection:
        key_type = _key_type(connection, schema, table, key)
        after = _start(connection, name)
        while True:
            with connection.begin():
                bound = f"{column} > CAST(:after AS {key_type})" if after is not None else "TRUE"
                upper = connection.execute(
                    text(
                        f"SELECT max(k)::text FROM (SELECT {column} AS k FROM {relation} "
                        f"WHERE {bound}{condition} ORDER BY {column} LIMIT :n) AS batch"
                    ),
                    {"after": after, "n": batch_size},
                ).scalar()
                if upper is None:
                    _finish(connection, name)
                    break
                updated = connection.execute(
                    text(
                        f"UPDATE {relation} SET {assignments} WHERE {bound} AND "
                        f"{column} <= CAST(:upper AS {key_type}){condition}"
                    ),
                    {"after": after, "upper": upper},
                ).rowcount
                _record(connection, name, upper, updated)
            after, done, batches = upper, done + updated, batches + 1
            log.info("backfill %s: %d rows in %d batches", name, done, batches)
            if progress is not None:
                progress(done, batches)
            if pause:
                time.sleep(pause)
    return done


def _key_type(connection: Any, schema: str | None, table: str, key: str) -> str:
    """The key column's type as SQL, to compare the recorded position with it."""
    found = connection.execute(
        text(
            "SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            "WHERE a.attrelid = to_regclass(:relation) AND a.attname = :key"
        ),
        {"relation": qualified(schema, table), "key": key},
    ).scalar()
    connection.commit()
    if found is None:
        raise ValueError(f"batched_update: no column {key!r} in {qualified(schema, table)}")
    return found


def _start(connection: Any, name: str) -> str | None:
    """Where an earlier run of this backfill stopped (None: from the start). One that ran
    to its end starts again from the start: Alembic runs a migration again only after its
    downgrade, which took the values away (a downgrade drops the column, the upgrade adds it
    back empty, and a backfill that said "already finished" left it NULL)."""
    with connection.begin():
        connection.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {PROGRESS_TABLE} (name text PRIMARY KEY, "
                "last_key text, rows bigint NOT NULL DEFAULT 0, finished_at timestamptz)"
            )
        )
        row = connection.execute(
            text(f"SELECT last_key, finished_at FROM {PROGRESS_TABLE} WHERE name = :name"),
            {"name": name},
        ).first()
        if row is not None and row.finished_at is not None:
            log.info("backfill %s: finished before, run again from the start", name)
            connection.execute(
                text(f"DELETE FROM {PROGRESS_TABLE} WHERE name = :name"), {"name": name}
            )
            return None
    return row.last_key if row is not None else None


def _record(connection: Any, name: str, upper: str, updated: int) -> None:
    connection.execute(
        text(
            f"INSERT INTO {PROGRESS_TABLE} (name, last_key, rows) VALUES (:name, :key, :rows) "
            "ON CONFLICT (name) DO UPDATE SET last_key = EXCLUDED.last_key, "
            f"rows = {PROGRESS_TABLE}.rows + EXCLUDED.rows"
        ),
        {"name": name, "key": upper, "rows": updated},
    )


def _finish(connection: Any, name: str) -> None:
    connection.execute(
        text(
            f"INSERT INTO {PROGRESS_TABLE} (name, finished_at) VALUES (:name, now()) "
            "ON CONFLICT (name) DO UPDATE SET finished_at = now()"
        ),
        {"name": name},
    )


def _writing_sql() -> bool:
    """Whether this runs in an Alembic migration that writes SQL instead of running it."""
    from alembic import op

    try:
        return bool(op.get_context().as_sql)
    except (NameError, AttributeError):  # not in a migration (no proxy, or a finished one)
        return False
