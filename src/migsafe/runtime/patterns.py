"""The safe forms of three schema changes, written once (through ``alembic.op``, so they
work in migrations and in ``alembic upgrade --sql``). Each step takes the lock the runbook
gives it, from ``migsafe.locks``:

- ``create_index_concurrently``: CREATE INDEX CONCURRENTLY IF NOT EXISTS (SHARE UPDATE
  EXCLUSIVE: reads and writes go on) in an autocommit block, after dropping an INVALID index
  of that name that a failed build left behind; a valid one an earlier run built is kept, so
  running the revision again goes on (``if_not_exists=False`` to fail on it instead);
- ``add_foreign_key_safely``: ADD ... NOT VALID (SHARE ROW EXCLUSIVE on both tables, for a
  moment), then VALIDATE in its own transaction (SHARE UPDATE EXCLUSIVE);
- ``set_not_null_safely``: a CHECK (column IS NOT NULL) added NOT VALID, validated (SHARE
  UPDATE EXCLUSIVE), then SET NOT NULL, which PostgreSQL 12 and later do without scanning
  (ACCESS EXCLUSIVE, for a moment), then the CHECK dropped.

The NOT VALID constraint commits before it is validated; if the validation fails (a lock
timeout, a row that breaks it), running the revision again goes on from there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text

from migsafe.runtime.names import qualified, quoted


def create_index_concurrently(
    name: str, table: str, columns: Sequence[Any], *, schema: str | None = None, **kw: Any
) -> None:
    from alembic import op

    context = op.get_context()
    with context.autocommit_block():
        if not context.as_sql:
            _drop_invalid_index(op.get_bind(), name, schema)
        kw.setdefault("if_not_exists", True)
        op.create_index(name, table, list(columns), schema=schema, postgresql_concurrently=True,
                        **kw)  # fmt: skip


def add_foreign_key_safely(
    name: str,
    source: str,
    referent: str,
    local_columns: Sequence[str],
    remote_columns: Sequence[str],
    *,
    source_schema: str | None = None,
    referent_schema: str | None = None,
    **kw: Any,
) -> None:
    from alembic import op

    state = _constraint_state(op, source_schema, source, name)
    if state is None:
        op.create_foreign_key(
            name, source, referent, list(local_columns), list(remote_columns),
            source_schema=source_schema, referent_schema=referent_schema,
            postgresql_not_valid=True, **kw,
        )  # fmt: skip
    if state != VALID:
        _validate(op, source, source_schema, name)


def set_not_null_safely(
    table: str, column: str, *, schema: str | None = None, check_name: str | None = None
) -> None:
    from alembic import op

    check = check_name or f"{table}_{column}_not_null"[:63]
    state = _constraint_state(op, schema, table, check)
    if state is None:
        op.create_check_constraint(
            check, table, f"{quoted(column)} IS NOT NULL", schema=schema, postgresql_not_valid=True
        )
    if state != VALID:
        _validate(op, table, schema, check)
    op.alter_column(table, column, nullable=False, schema=schema)
    op.drop_constraint(check, table, type_="check", schema=schema)


VALID, NOT_VALID = "valid", "not valid"


def _constraint_state(op: Any, schema: str | None, table: str, name: str) -> str | None:
    """Whether the constraint exists already (an earlier run that stopped half-way added it):
    None when it does not, or when migrations are only written out (``--sql``)."""
    if op.get_context().as_sql:
        return None
    validated = (
        op.get_bind()
        .execute(
            text(
                "SELECT convalidated FROM pg_constraint "
                "WHERE conname = :name AND conrelid = to_regclass(:relation)"
            ),
            {"name": name, "relation": qualified(schema, table)},
        )
        .scalar()
    )
    if validated is None:
        return None
    return VALID if validated else NOT_VALID


def _validate(op: Any, table: str, schema: str | None, constraint: str) -> None:
    """VALIDATE in a transaction of its own: the ADD before it commits first, so its
    stronger lock is not held while every row is checked."""
    with op.get_context().autocommit_block():
        op.execute(
            f"ALTER TABLE {qualified(schema, table)} VALIDATE CONSTRAINT {quoted(constraint)}"
        )


def _drop_invalid_index(bind: Any, name: str, schema: str | None) -> None:
    invalid = bind.execute(
        text(
            "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = :name "
            "AND n.nspname = coalesce(:schema, current_schema()) AND NOT i.indisvalid"
        ),
        {"name": name, "schema": schema},
    ).first()
    if invalid is not None:
        bind.execute(text(f"DROP INDEX CONCURRENTLY IF EXISTS {qualified(schema, name)}"))
