"""The SQL statements inside a ``DO`` block's PL/pgSQL body.

Migrations make objects in DO blocks when they must not fail if the object is there
(datajunction's ``DO $$ BEGIN CREATE TYPE ... EXCEPTION WHEN duplicate_object THEN null;
END $$``), and PostgreSQL's parser sees such a block as one opaque string. pglast's PL/pgSQL
parser opens it: each statement the body runs as SQL (``PLpgSQL_stmt_execsql``), wherever
it stands (an exception block, an IF branch, a loop).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pglast
from pglast import ast

_DELIMITER = "$migsafe_do$"


@dataclass(frozen=True)
class DoBody:
    """What a DO block runs: its SQL statements, parsed, and whether it also runs SQL built
    at run time (``EXECUTE``, ``FOR ... IN EXECUTE``), which cannot be known here."""

    statements: tuple[ast.Node, ...]
    dynamic: bool


def do_body(node: ast.DoStmt) -> DoBody | None:
    """The body of a PL/pgSQL DO block; None for another language, or one that does not
    parse (what it does is not known)."""
    options = {item.defname: item.arg for item in node.args or ()}
    body = getattr(options.get("as"), "sval", None)
    language = getattr(options.get("language"), "sval", "plpgsql")
    if body is None or language.lower() != "plpgsql" or _DELIMITER in body:
        return None
    try:
        function = pglast.parse_plpgsql(f"DO {_DELIMITER}{body}{_DELIMITER}")
        statements = []
        for query in _queries(function):
            statements.extend(raw.stmt for raw in pglast.parse_sql(query))
    except pglast.parser.ParseError:
        return None
    return DoBody(tuple(statements), _dynamic(function))


_DYNAMIC = ("PLpgSQL_stmt_dynexecute", "PLpgSQL_stmt_dynfors", "PLpgSQL_stmt_open")


def _dynamic(tree: Any) -> bool:
    if isinstance(tree, dict):
        return any(key in _DYNAMIC or _dynamic(value) for key, value in tree.items())
    if isinstance(tree, list):
        return any(_dynamic(item) for item in tree)
    return False


def _queries(tree: Any) -> Iterator[str]:
    """Every statement the function runs as SQL, in the order written."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            if key == "PLpgSQL_stmt_execsql":
                query = value.get("sqlstmt", {}).get("PLpgSQL_expr", {}).get("query")
                if isinstance(query, str):
                    yield query
            else:
                yield from _queries(value)
    elif isinstance(tree, list):
        for item in tree:
            yield from _queries(item)
