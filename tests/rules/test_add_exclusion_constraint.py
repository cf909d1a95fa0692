"""add-exclusion-constraint (MS020): an EXCLUDE constraint's index built with the table locked."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import assert_renders, lines_flagged, lint

RULE = "add-exclusion-constraint"


def test_renders_the_recipe_with_the_users_call(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_exclude_constraint("ex_bookings_no_overlap", "bookings",
                                 ("room_id", "="), ("during", "&&"), using="gist")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: Adding EXCLUDE constraint "ex_bookings_no_overlap" to "bookings" builds its index under an ACCESS EXCLUSIVE lock: all reads and writes wait, and PostgreSQL has no online form of it.
        # EXCLUDE has no NOT VALID, CONCURRENTLY or USING INDEX form: the index is built locked.
        # A small table, or a quiet time: keep the statement, and give up rather than queue:
        op.execute("SET LOCAL lock_timeout = '5s'")
        op.create_exclude_constraint("ex_bookings_no_overlap", "bookings",
                                     ("room_id", "="), ("during", "&&"), using="gist")
        # A large table: create a copy of "bookings" with the constraint, fill it in batches while a
        # trigger keeps it current, then rename both in one short transaction.
        """,  # noqa: E501
        rule=RULE,
    )


def test_raw_sql_on_a_schema_qualified_table_is_kept_as_sql(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE app.bookings ADD EXCLUDE USING gist (room_id WITH =, during WITH &&)")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith(
        'Adding EXCLUDE constraint "bookings_excl" to "app"."bookings" builds its index'
    )
    assert (
        'op.execute("ALTER TABLE app.bookings ADD EXCLUDE USING gist (room_id WITH =, during '
        'WITH &&)")\n# A large table: create a copy of "app"."bookings"'
    ) in finding.hint


def test_one_statement_of_several_in_one_execute_is_given_alone(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist; "
               "ALTER TABLE bookings ADD CONSTRAINT ex_room EXCLUDE USING gist (room_id WITH =)")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert "btree_gist" not in finding.hint
    assert 'op.execute("ALTER TABLE bookings ADD CONSTRAINT ex_room EXCLUDE' in finding.hint


def test_a_lock_timeout_already_set_is_not_repeated(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("SET lock_timeout = '2s'")
    op.execute("ALTER TABLE bookings ADD CONSTRAINT ex_room EXCLUDE USING gist (room_id WITH =)")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert "lock_timeout" not in finding.hint


def test_a_table_created_in_the_same_revision_is_empty(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("CREATE TABLE bookings (room_id integer, during tstzrange)")
    op.create_exclude_constraint("ex_room", "bookings", ("room_id", "="), using="gist")
    op.create_exclude_constraint("ex_slot", "slots", ("room_id", "="), using="gist")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]


def test_a_create_table_with_an_exclude_constraint_is_not_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("CREATE TABLE bookings (room_id integer, EXCLUDE USING gist (room_id WITH =))")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_other_constraints_are_other_rules(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_unique_constraint("uq_bookings_ref", "bookings", ["ref"])
    op.create_check_constraint("ck_bookings_room", "bookings", "room_id > 0")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_downgrade_that_restores_the_constraint_says_so(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_constraint("ex_room", "bookings")

def downgrade():
    op.create_exclude_constraint("ex_room", "bookings", ("room_id", "="), using="gist")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('In downgrade(): Adding EXCLUDE constraint "ex_room"')
