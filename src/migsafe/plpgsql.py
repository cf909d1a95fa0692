"""The SQL statements inside a ``DO`` block's PL/pgSQL body.

Migrations make objects in DO blocks when they must not fail if the object is there
(datajunction's ``DO $$ BEGIN CREATE TYPE ... EXCEPTION WHEN duplicate_object THEN null;
END $$``), and PostgreSQL's parser sees such a block as one opaque string. pglast's PL/pgSQL
parser opens it: each statement the body runs as SQL (``PLpgSQL_stmt_execsql``), wherever
it stands (an exception block, an IF branch, a loop).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pglast
from pglast import ast

_DELIMITER = "$migsafe_do$"


def do_body_statements(node: ast.DoStmt) -> list[ast.Node]:
    """The statements a PL/pgSQL DO block may run, parsed; none for another language, or
    a body that does not parse."""
    options = {item.defname: item.arg for item in node.args or ()}
    body = getattr(options.get("as"), "sval", None)
    language = getattr(options.get("language"), "sval", "plpgsql")
    if body is None or language.lower() != "plpgsql" or _DELIMITER in body:
        return []
    try:
        function = pglast.parse_plpgsql(f"DO {_DELIMITER}{body}{_DELIMITER}")
        statements = []
        for query in _queries(function):
            statements.extend(raw.stmt for raw in pglast.parse_sql(query))
    except pglast.parser.ParseError:
        return []
    return statements


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
