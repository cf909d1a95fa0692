"""What a statement's syntax tree says (migsafe.sqltree), read the same way by every rule."""

from __future__ import annotations

import pglast
import pytest
from pglast.enums import ConstrType, ObjectType

from migsafe.sqltree import constraints_added, dropped_names, walk


def node(sql: str) -> pglast.ast.Node:
    (raw,) = pglast.parse_sql(sql)
    return raw.stmt


def test_constraints_added_inline_and_apart_say_their_column() -> None:
    create = node(
        "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint REFERENCES users (id),"
        " total int NOT NULL, CONSTRAINT ck_total CHECK (total >= 0))"
    )
    found = [(c.contype, column) for c, column in constraints_added(create)]
    assert found == [
        (ConstrType.CONSTR_PRIMARY, "id"),
        (ConstrType.CONSTR_FOREIGN, "user_id"),
        (ConstrType.CONSTR_NOTNULL, "total"),
        (ConstrType.CONSTR_CHECK, None),
    ]
    alter = node(
        "ALTER TABLE orders ADD COLUMN shop_id bigint REFERENCES shops (id),"
        " ADD CONSTRAINT uq_ref UNIQUE (ref), DROP COLUMN legacy"
    )
    assert [(c.contype, column) for c, column in constraints_added(alter)] == [
        (ConstrType.CONSTR_UNIQUE, None),
        (ConstrType.CONSTR_FOREIGN, "shop_id"),
    ]


@pytest.mark.parametrize("sql", ["SELECT 1", "DROP INDEX ix_a", "CREATE INDEX ON t (a)"])
def test_statements_that_add_no_constraint(sql: str) -> None:
    assert list(constraints_added(node(sql))) == []


def test_dropped_names_keep_the_schema_given_and_only_of_the_kind_asked() -> None:
    drop = node("DROP TABLE IF EXISTS app.sessions, tokens CASCADE")
    assert dropped_names(drop, ObjectType.OBJECT_TABLE) == [("app", "sessions"), (None, "tokens")]
    assert dropped_names(drop, ObjectType.OBJECT_INDEX) == []
    assert dropped_names(node("DROP INDEX CONCURRENTLY ix_a"), ObjectType.OBJECT_INDEX) == [
        (None, "ix_a")
    ]
    assert dropped_names(None, ObjectType.OBJECT_TABLE) == []


def test_walk_reaches_every_node_below() -> None:
    update = node("UPDATE t SET a = (SELECT max(b) FROM u WHERE u.id = t.id)")
    tables = [n.relname for n in walk(update) if isinstance(n, pglast.ast.RangeVar)]
    assert tables == ["t", "u"]
