"""The names a migration spells: what it may ask a table made outside the history about.

dagster's tables are made by the application's ``create_all()``, and each revision asks
``if "step_key" not in columns`` before it adds a column. Which columns and indexes such a
table holds beyond those the history gave it is not known; what a script can ask about is
what it names, so the capture runs it once more where the table holds every one of these
(``OfflineCapturer._over_what_is_not_known``).
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable, Iterator
from typing import Any

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*\Z")
_LONGEST = 63  # PostgreSQL's NAMEDATALEN - 1: a longer name is no column's


def names_spelled(tree: ast.Module, function: Callable[..., Any]) -> frozenset[str]:
    """Every string of the script's source that could name a column or an index, and those
    among the values of its module's variables (``from myapp.schema import OLD_COLUMNS``)."""
    names = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
             and isinstance(node.value, str)}  # fmt: skip
    names.update(_in_module_variables(function))
    return frozenset(
        name for name in names if len(name.encode()) <= _LONGEST and _IDENTIFIER.match(name)
    )


def _in_module_variables(function: Callable[..., Any]) -> Iterator[str]:
    """The strings the module of ``function`` holds as variables, alone or in a tuple, list
    or set. Only a real function's module is looked at: a stand-in's attributes are made up."""
    if not inspect.isfunction(function):
        return
    for name, value in function.__globals__.items():
        if name.startswith("__"):
            continue
        if isinstance(value, str):
            yield value
        elif isinstance(value, tuple | list | set | frozenset):
            yield from (item for item in value if isinstance(item, str))
