"""Which functions may appear in a column default without making it volatile.

PostgreSQL evaluates a default once, and stores the value in the catalog instead of rewriting
the table, only when no function in it is volatile. A hand-picked list of volatile functions
misses every user function and most volatile built-ins, so this is the other way round: an
allowlist of the built-ins that are immutable or stable, generated from ``pg_proc`` by
``migsafe.volatility.generate``. Anything not on it counts as volatile.

Kept free of the database layer: rules import it while parsing, with no server around.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

LIST_NAME = "non_volatile_functions.txt"
BUILTIN_SCHEMA = "pg_catalog"


@cache
def non_volatile_functions() -> frozenset[str]:
    """The shipped allowlist, read once: one name a line, ``#`` lines are its header."""
    text = Path(__file__).with_name(LIST_NAME).read_text(encoding="utf-8")  # in the wheel
    lines = (line.strip() for line in text.splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


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
