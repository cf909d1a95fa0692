"""Helpers for env.py and migrations that roll out without downtime (docs/runbook.md).

They import only SQLAlchemy and Alembic, so a project can use them wherever its migrations
run; that environment needs ``alembic-migsafe`` installed.
"""

from migsafe.runtime.backfill import batched_update
from migsafe.runtime.patterns import (
    add_foreign_key_safely,
    create_index_concurrently,
    set_not_null_safely,
)
from migsafe.runtime.retry import (
    LockTimeoutRetriesExhausted,
    is_lock_timeout,
    retry_on_lock_timeout,
)

__all__ = [
    "LockTimeoutRetriesExhausted",
    "add_foreign_key_safely",
    "batched_update",
    "create_index_concurrently",
    "is_lock_timeout",
    "retry_on_lock_timeout",
    "set_not_null_safely",
]
