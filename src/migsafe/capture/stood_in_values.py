"""SQL a library wrote with a stand-in's name in it: when only a value is unknown.

SQLAlchemy turns a stand-in into text while it renders an operation: neutron's
``sa.String(length=db_const.UUID_FIELD_SIZE)`` with ``neutron_lib`` not installed gives
``VARCHAR(neutron_lib.db.constants.UUID_FIELD_SIZE)``, and a ``server_default`` given a
stood-in constant gives ``DEFAULT 'myapp.settings.DEFAULT_MODE'``. Where the name stands only
where a value goes, a type's length or precision or the inside of a string literal, the
statement is the one the real module would give but for that value: its table, columns and
constraints are exact, and so is what the revisions after it build on it. Anywhere else (an
identifier, an expression) the statement's shape depends on the stand-in, and the capture
is a guess from there on (``Recorder``).

A stood-in length becomes ``UNKNOWN_MODIFIER``, a number no PostgreSQL type accepts, so that
the statement parses; ``migsafe.revision.is_unknown_type`` tells rules that such a type is
unknown, as it does for a stood-in type (``UNKNOWN_TYPE_SCHEMA``).
"""

from __future__ import annotations

import re
from collections.abc import Collection

import pglast
from pglast import ast

from migsafe.sql import parse_sql
from migsafe.sqltree import walk

# larger than any length or precision PostgreSQL allows (varchar: 10485760), and still an
# integer its parser reads as a type modifier (a 32-bit one)
UNKNOWN_MODIFIER = 2_147_480_001


def with_unknown_values(sql: str, names: Collection[str]) -> str | None:
    """``sql`` with each of ``names`` that stands as a type's modifier replaced by
    ``UNKNOWN_MODIFIER``, when every occurrence of every name is a type modifier or inside a
    string literal; None when one stands anywhere else, or the text does not parse."""
    try:
        tokens = pglast.parser.scan(sql)
    except pglast.parser.ParseError:
        return None
    literals = [(t.start, t.end) for t in tokens if t.name == "SCONST"]
    bare: list[tuple[int, int]] = []  # spans outside literals, replaced by the modifier
    in_literals: dict[str, int] = {}
    for name in sorted(names, key=len, reverse=True):  # ``X.SIZE`` inside ``X.SIZE_LONG``
        start = sql.find(name)
        while start != -1:
            end = start + len(name)
            if any(first <= start and end <= last + 1 for first, last in literals):
                in_literals[name] = in_literals.get(name, 0) + 1
            elif not any(start < e and s < end for s, e in bare):
                bare.append((start, end))
            start = sql.find(name, end)
    shaped = sql
    for start, end in sorted(bare, reverse=True):
        shaped = f"{shaped[:start]}{UNKNOWN_MODIFIER}{shaped[end:]}"
    try:
        statements = parse_sql(shaped)
    except pglast.parser.ParseError:
        return None
    modifiers, constants = 0, 0
    literal_counts = dict.fromkeys(in_literals, 0)
    for node in walk([raw.stmt for raw in statements]):
        if isinstance(node, ast.TypeName):
            modifiers += sum(_is_unknown_modifier(m) for m in node.typmods or ())
        elif isinstance(node, ast.A_Const):
            constants += _is_unknown_modifier(node)
        elif isinstance(node, ast.String):  # a constant's text, or an enum's label
            for name in literal_counts:
                literal_counts[name] += node.sval.count(name)
    if modifiers != len(bare) or constants != len(bare) or literal_counts != in_literals:
        return None
    return shaped


def _is_unknown_modifier(node: object) -> bool:
    return isinstance(node, ast.A_Const) and getattr(node.val, "ival", None) == UNKNOWN_MODIFIER


def as_placeholders(sql: str, names: Collection[str]) -> str:
    """``sql`` with each of ``names`` left in a string literal marked as what it is, a value
    not known offline (``'<oslo_config.cfg.CONF.default_portgroup_mode>'``): recipes quote
    the statement, and ironic's read as if the setting's name were the value to write."""
    for name in sorted(names, key=len, reverse=True):
        pattern = rf"(?<![<\w.]){re.escape(name)}(?![\w>])"
        sql = re.sub(pattern, f"<{name}>", sql)
    return sql
