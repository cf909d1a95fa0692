"""What PostgreSQL has built in, as rules need it with no server around: lists generated from
a server's catalog by ``migsafe.builtins.generate`` and shipped in the package.

- **Functions that are not volatile.** PostgreSQL evaluates a column default once, and
  stores the value in the catalog instead of rewriting the table, only when no function in
  it is volatile. A hand-picked list of volatile functions misses every user function and
  most volatile built-ins, so this is the other way round: an allowlist of the built-ins
  that are immutable or stable (``pg_proc``). Anything not on it counts as volatile.
- **Run-time parameters** (``pg_settings``): ``SET foreign_key_checks = 0`` (MySQL's) fails
  on PostgreSQL, "unrecognized configuration parameter". A name with a dot is an
  extension's or the application's own (``app.tenant``), which PostgreSQL accepts.

Kept free of the database layer: rules import it while parsing.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

FUNCTIONS_LIST = "non_volatile_functions.txt"
PARAMETERS_LIST = "parameters.txt"
BUILTIN_SCHEMA = "pg_catalog"

# parameters pg_settings does not show (set through their own syntax, or hidden), and those
# the supported majors before the listed one had: a migration written for them may set them
_UNLISTED_PARAMETERS = frozenset((
    "role", "session_authorization", "seed", "is_superuser",
    "wal_keep_segments",  # removed in 13
    "operator_precedence_warning", "vacuum_cleanup_index_scale_factor",  # in 14
    "stats_temp_directory",  # in 15
    "promote_trigger_file", "force_parallel_mode", "vacuum_defer_cleanup_age",  # in 16
    "db_user_namespace", "old_snapshot_threshold", "trace_recovery_messages",  # in 17
    "default_with_oids",  # hidden since 12, which takes false still: old dumps set it
))  # fmt: skip


@cache
def _listed(name: str) -> frozenset[str]:
    """A shipped list, read once: one name a line, ``#`` lines are its header."""
    text = Path(__file__).with_name(name).read_text(encoding="utf-8")  # in the wheel
    lines = (line.strip() for line in text.splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


def non_volatile_functions() -> frozenset[str]:
    return _listed(FUNCTIONS_LIST)


def is_non_volatile(name: str) -> bool:
    """Whether a call of ``name`` leaves a default constant (evaluated once, no rewrite).

    ``name`` is the function name as the parser gives it, the parts of a qualified name joined
    by dots (``now``, ``pg_catalog.now``, ``public.lower``). The parser already folds unquoted
    identifiers to lower case, so the name is compared as it is: a quoted ``"NOW"()`` is not
    ``now()``. Only ``pg_catalog`` holds built-ins; a function qualified with any other schema
    is the user's, whose volatility cannot be known here, so it counts as volatile.
    """
    schema, _, function = name.rpartition(".")
    return schema in ("", BUILTIN_SCHEMA) and function in non_volatile_functions()


def is_parameter(name: str) -> bool:
    """Whether PostgreSQL accepts ``SET name``: a built-in parameter (of any supported
    major; names are not case-sensitive), or a name with a dot (a placeholder for an
    extension's or the application's own setting)."""
    name = name.lower()
    return "." in name or name in _listed(PARAMETERS_LIST) or name in _UNLISTED_PARAMETERS
