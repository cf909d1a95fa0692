"""The shipped lists of built-ins are what PostgreSQL says. MS013 follows the non-volatile
functions: a default that calls anything else (a user function, a volatile built-in)
rewrites; setting-does-not-exist follows the parameters."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from migsafe.builtins import is_non_volatile, is_parameter
from migsafe.builtins.generate import COMMAND, LISTS, generate
from migsafe.check import check_trusted_file
from migsafe.config import Settings
from migsafe.postgres.url import scratch_database
from tests.conftest import migration_source

# default expression -> whether ADD COLUMN with it rewrites the table on PostgreSQL 11+
DEFAULTS = {
    "now()": False,
    "pg_catalog.now()": False,
    "current_timestamp": False,  # an SQLValueFunction, no function call
    "coalesce(NULL, now())": False,  # a CoalesceExpr, no function call
    "lower('X')": False,
    "extract(year from now())": False,  # pg_catalog.extract
    # pg_proc marks txid_current() stable: evaluated once, like now(), so no rewrite
    "txid_current()": False,
    "random()": True,
    "gen_random_uuid()": True,
    "clock_timestamp()": True,
    "timeofday()": True,
    "nextval('users_id_seq')": True,
    "my_token()": True,  # a user function: its volatility is not known here
    "lower(my_token())": True,
    "public.lower('X')": True,  # qualified with a schema that is not pg_catalog
}

# what the server needs for every default above to be valid; public.lower is plpgsql
# because PostgreSQL inlines a one-line SQL function, and its volatility with it
SETUP = (
    "CREATE TABLE users (id int)",
    "INSERT INTO users SELECT generate_series(1, 10)",
    "CREATE SEQUENCE users_id_seq",
    "CREATE FUNCTION my_token() RETURNS text LANGUAGE sql AS $$SELECT md5(random()::text)$$",
    "CREATE FUNCTION public.lower(t text) RETURNS text LANGUAGE plpgsql"
    " AS $$BEGIN RETURN md5(t); END$$",
)


def body_lines(content: str) -> list[str]:
    return [line for line in content.splitlines() if not line.startswith("#")]


def test_shipped_lists_are_what_the_server_says(server_url: str) -> None:
    current = generate(server_url)
    for listed in LISTS:
        shipped = body_lines(listed.path.read_text(encoding="utf-8"))
        now = body_lines(current[listed.name])
        assert shipped == now, (
            f"the shipped {listed.name} is stale "
            f"(new: {sorted(set(now) - set(shipped))[:10]}, "
            f"gone: {sorted(set(shipped) - set(now))[:10]}); regenerate it: {COMMAND}"
        )


def test_shipped_lists_say_how_they_were_made() -> None:
    for listed in LISTS:
        content = listed.path.read_text(encoding="utf-8")
        header = "\n".join(line for line in content.splitlines() if line.startswith("#"))
        assert COMMAND in header
        assert re.search(r"from PostgreSQL \d+", header), "the header names the server's major"
        names = body_lines(content)
        assert names == sorted(names) and len(set(names)) == len(names)


@pytest.mark.parametrize(
    ("name", "known"),
    [
        ("lock_timeout", True),
        ("TimeZone", True),  # pg_settings' own spelling; names are not case-sensitive
        ("role", True),  # not shown by pg_settings
        ("wal_keep_segments", True),  # PostgreSQL 12's, removed in 13
        ("app.tenant", True),  # a placeholder: an extension's or the application's
        ("foreign_key_checks", False),  # MySQL's
        ("sql_mode", False),
    ],
)
def test_parameters(name: str, known: bool) -> None:
    assert is_parameter(name) is known


@pytest.mark.parametrize("name", ["now", "pg_catalog.now", "lower", "btrim", "txid_current"])
def test_non_volatile_builtins(name: str) -> None:
    assert is_non_volatile(name)


@pytest.mark.parametrize(
    "name",
    [
        "gen_random_uuid",
        "random",
        "clock_timestamp",
        "nextval",
        "my_token",
        "public.lower",
        "NOW",  # a quoted "NOW"() is not now()
        "ts_rewrite",  # one overload is volatile
        "rank",  # an aggregate or window function, never a default
    ],
)
def test_volatile_or_unknown_functions(name: str) -> None:
    assert not is_non_volatile(name)


def codes_for_default(tmp_path: Path, default: str) -> list[str]:
    body = f"""\
        def upgrade():
            op.add_column("users", sa.Column("t", sa.Text(), server_default={default}))
        """
    path = tmp_path / "example.py"
    path.write_text(migration_source(body), encoding="utf-8")
    return [finding.code for finding in check_trusted_file(path, Settings()).findings]


@pytest.mark.parametrize(("expression", "rewrites"), DEFAULTS.items())
def test_rule_flags_exactly_the_rewriting_defaults(
    tmp_path: Path, expression: str, rewrites: bool
) -> None:
    codes = codes_for_default(tmp_path, f"sa.text({expression!r})")
    assert ("MS013" in codes) == rewrites


def test_func_now_is_not_flagged(tmp_path: Path) -> None:
    assert "MS013" not in codes_for_default(tmp_path, "sa.func.now()")


def test_message_names_the_volatile_call(tmp_path: Path) -> None:
    path = tmp_path / "example.py"
    body = """\
        def upgrade():
            op.add_column("users", sa.Column("t", sa.Text(), server_default=sa.text("my_token()")))
        """
    path.write_text(migration_source(body), encoding="utf-8")
    findings = check_trusted_file(path, Settings()).findings
    (finding,) = [finding for finding in findings if finding.code == "MS013"]
    assert "the volatile default my_token()" in finding.message


def test_postgres_rewrites_exactly_for_the_flagged_defaults(server_url: str) -> None:
    """The table's relfilenode changes when, and only when, ADD COLUMN rewrote it."""
    rewrote = {}
    with scratch_database(server_url) as url:
        engine = create_engine(url, poolclass=NullPool)
        try:
            with engine.begin() as connection:
                for statement in SETUP:
                    connection.execute(text(statement))
                node = text("SELECT relfilenode FROM pg_class WHERE oid = 'users'::regclass")
                for index, expression in enumerate(DEFAULTS):
                    before = connection.execute(node).scalar_one()
                    add = f"ALTER TABLE users ADD COLUMN c{index} text DEFAULT {expression}"
                    connection.execute(text(add))
                    rewrote[expression] = connection.execute(node).scalar_one() != before
        finally:
            engine.dispose()
    assert rewrote == DEFAULTS
