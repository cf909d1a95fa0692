"""SQL a library wrote with a stand-in's name: exact but for a value, or a guess."""

from __future__ import annotations

import pytest

from migsafe.capture.stood_in_values import UNKNOWN_MODIFIER, with_unknown_values

SIZE = "myapp.constants.SIZE"
U = UNKNOWN_MODIFIER


@pytest.mark.parametrize(
    ("sql", "shaped"),
    [
        (f"ALTER TABLE t ADD COLUMN a VARCHAR({SIZE})", f"ALTER TABLE t ADD COLUMN a VARCHAR({U})"),
        (f"CREATE TABLE t (a NUMERIC({SIZE}, 2), b CHAR({SIZE}))",
         f"CREATE TABLE t (a NUMERIC({U}, 2), b CHAR({U}))"),
        (f"UPDATE t SET a='{SIZE}' WHERE b = 'x{SIZE}y'",
         f"UPDATE t SET a='{SIZE}' WHERE b = 'x{SIZE}y'"),
        (f"CREATE TABLE ü (a VARCHAR({SIZE}) DEFAULT 'é{SIZE}')",
         f"CREATE TABLE ü (a VARCHAR({U}) DEFAULT 'é{SIZE}')"),
        # neutron's sa.Enum(constants.EGRESS_DIRECTION, ...): the type and its name are
        # known, a label's text is not
        (f"CREATE TYPE mode AS ENUM ('{SIZE}', 'b')", f"CREATE TYPE mode AS ENUM ('{SIZE}', 'b')"),
    ],
)  # fmt: skip
def test_a_name_where_a_value_goes_leaves_the_statement_exact(sql: str, shaped: str) -> None:
    assert with_unknown_values(sql, [SIZE]) == shaped


@pytest.mark.parametrize(
    "sql",
    [
        f'CREATE TABLE "{SIZE}" (a INTEGER)',  # an identifier
        f"ALTER TABLE t ADD COLUMN a INTEGER DEFAULT {SIZE}",  # an expression
        f"COMMENT ON TABLE t IS '{SIZE}'",
        f"ALTER TABLE t ADD COLUMN a VARCHAR({SIZE}",  # does not parse either way
    ],
)
def test_a_name_anywhere_else_is_not_exact(sql: str) -> None:
    assert with_unknown_values(sql, [SIZE]) is None


def test_a_name_inside_a_longer_one_is_each_its_own() -> None:
    longer = f"{SIZE}_LONG"
    sql = f"CREATE TABLE t (a VARCHAR({SIZE}), b VARCHAR({longer}))"
    assert with_unknown_values(sql, [SIZE, longer]) == (
        f"CREATE TABLE t (a VARCHAR({U}), b VARCHAR({U}))"
    )
