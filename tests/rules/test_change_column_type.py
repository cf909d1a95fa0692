"""change-column-type (MS012): a type change that rewrites the table under a full lock."""

from __future__ import annotations

from pathlib import Path

import pytest

from migsafe.findings import Severity
from tests.rules.lint import (
    FIRST_BODY_LINE,
    after_history,
    assert_renders,
    lines_flagged,
    lint,
    lint_with_notices,
)

RULE = "change-column-type"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("orders", "amount", existing_type=sa.Integer(), type_=sa.BigInteger())
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: Changing the type of "orders"."amount" from int4 to int8 rewrites the table under an ACCESS EXCLUSIVE lock.
        # Expand and contract: add a column of the new type, dual-write, backfill, switch, drop.
        op.add_column("orders", sa.Column("amount_new", ...))  # int8
        # backfill in batches: UPDATE "orders" SET amount_new = amount::int8 WHERE ...
        # deploy code that reads "amount_new"; drop "amount" in a later revision
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_schema_qualified_table_keeps_its_schema_in_the_recipe(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("orders", "amount", existing_type=sa.Integer(), type_=sa.BigInteger(),
                    schema="app")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: Changing the type of "app"."orders"."amount" from int4 to int8 rewrites the table under an ACCESS EXCLUSIVE lock.
        # Expand and contract: add a column of the new type, dual-write, backfill, switch, drop.
        op.add_column("orders", sa.Column("amount_new", ...), schema="app")  # int8
        # backfill in batches: UPDATE "app"."orders" SET amount_new = amount::int8 WHERE ...
        # deploy code that reads "amount_new"; drop "amount" in a later revision
        """,  # noqa: E501
        rule=RULE,
    )


def test_widening_a_varchar_or_making_it_text_is_binary_coercible(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("users", "name", existing_type=sa.String(20), type_=sa.String(40))
    op.alter_column("users", "bio", existing_type=sa.String(20), type_=sa.Text())
    op.alter_column("users", "note", existing_type=sa.Text(), type_=sa.String())
    op.alter_column("users", "code", existing_type=sa.String(40), type_=sa.String(20))
    op.alter_column("users", "slug", existing_type=sa.Text(), type_=sa.String(40))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5, 6]


def test_text_to_citext_and_back_is_binary_coercible(tmp_path: Path) -> None:
    """fides makes its usernames citext: citext declares its casts from and to text and
    varchar WITHOUT FUNCTION, so the values keep their bytes (only the indexes are built
    again); to a varchar of a length, each value is checked, and that is flagged."""
    body = """\
def upgrade():
    op.execute("ALTER TABLE fidesuser ALTER COLUMN username TYPE citext")
    citext = sa.dialects.postgresql.CITEXT()
    op.alter_column("users", "email", existing_type=sa.String(255), type_=citext)
    op.alter_column("users", "handle", existing_type=citext, type_=sa.Text())
    op.alter_column("users", "code", existing_type=citext, type_=sa.String(8))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2, 6]


def test_numeric_precision_may_grow_but_its_scale_may_not_change(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("items", "price", existing_type=sa.Numeric(10, 2), type_=sa.Numeric(12, 2))
    op.alter_column("items", "price", existing_type=sa.Numeric(10, 2), type_=sa.Numeric(12, 4))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [3]


def test_timestamp_precision_may_grow_but_a_time_zone_rewrites(tmp_path: Path) -> None:
    body = """\
from sqlalchemy.dialects import postgresql

def upgrade():
    op.alter_column("runs", "start", existing_type=postgresql.TIMESTAMP(precision=3),
                    type_=postgresql.TIMESTAMP(precision=6))
    op.alter_column("runs", "end", existing_type=sa.DateTime(), type_=sa.DateTime(timezone=True))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [6]


def test_an_unknown_old_type_is_flagged_and_says_so(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("users", "name", type_=sa.String(40))
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert "(old type unknown: pass existing_type=" in finding.message


def test_raw_sql_is_flagged_since_it_never_names_the_old_type(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE users ALTER COLUMN name TYPE text")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.line - FIRST_BODY_LINE + 1 == 2
    assert "(old type unknown: the history does not tell it)" in finding.message  # bodhi


def test_a_using_that_only_casts_the_column_keeps_a_safe_change_safe(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("users", "name", existing_type=sa.String(20), type_=sa.String(40),
                    postgresql_using="name::varchar(40)")
    op.alter_column("users", "bio", existing_type=sa.String(20), type_=sa.Text(),
                    postgresql_using="bio")
    op.alter_column("users", "code", existing_type=sa.String(20), type_=sa.String(40),
                    postgresql_using="upper(code)")
    op.alter_column("users", "slug", existing_type=sa.String(20), type_=sa.String(40),
                    postgresql_using="slug::text")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [6, 8]


def test_a_using_on_a_real_conversion_is_flagged(tmp_path: Path) -> None:
    body = """\
from sqlalchemy.dialects import postgresql

def upgrade():
    op.alter_column("runs", "payload", existing_type=sa.JSON(), type_=postgresql.JSONB(),
                    postgresql_using="payload::jsonb")
    op.alter_column("runs", "status", existing_type=sa.Enum("ok", "failed", name="run_status"),
                    type_=sa.String(20), postgresql_using="status::text")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4, 6]


def test_changing_only_nullability_is_no_type_change(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("users", "name", existing_type=sa.String(20), type_=sa.String(20),
                    nullable=True)
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_batch_operation_is_judged_like_a_plain_one(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.batch_alter_table("dag_run") as batch_op:
        batch_op.alter_column("run_id", existing_type=sa.String(250), type_=sa.String(500))
        batch_op.alter_column("conf", existing_type=sa.LargeBinary(), type_=sa.Text())
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]


def test_a_table_created_earlier_in_the_function_is_empty(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("orders", sa.Column("amount", sa.Integer()))
    op.alter_column("orders", "amount", existing_type=sa.Integer(), type_=sa.BigInteger())
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_the_downgrade_of_a_widening_narrows_and_says_so(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("users", "name", existing_type=sa.String(20), type_=sa.String(40))

def downgrade():
    op.alter_column("users", "name", existing_type=sa.String(40), type_=sa.String(20))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('In downgrade(): Changing the type of "users"."name"')


def test_timestamp_to_timestamptz_needs_no_rewrite_in_utc_from_postgresql_12(
    tmp_path: Path,
) -> None:
    body = """\
def upgrade():
    op.alter_column("events", "at", existing_type=sa.DateTime(),
                    type_=sa.DateTime(timezone=True))
"""
    (on_12,) = lint(tmp_path, body, rule=RULE, pg_version=12)
    (on_11,) = lint(tmp_path, body, rule=RULE, pg_version=11)
    assert on_12.message.endswith(
        "rewrites the table under an ACCESS EXCLUSIVE lock (unless the session's TimeZone is "
        "UTC: SET LOCAL TIME ZONE 'UTC' first)."
    )
    assert on_11.message.endswith("rewrites the table under an ACCESS EXCLUSIVE lock.")


def test_a_using_expression_rewrites_whatever_the_time_zone(tmp_path: Path) -> None:
    """qcfractal converts with ``postgresql_using="timestamp at time zone 'Etc/UTC'"``:
    computed for every row, it rewrites even under UTC; left out under UTC, nothing is."""
    body = """\
def upgrade():
    op.alter_column("access_log", "timestamp", existing_type=sa.DateTime(),
                    type_=sa.DateTime(timezone=True),
                    postgresql_using="timestamp at time zone 'Etc/UTC'")
"""
    (finding,) = lint(tmp_path, body, rule=RULE, pg_version=15)
    assert finding.message.endswith(
        "(a USING expression rewrites it whatever the TimeZone; leave it out and SET LOCAL "
        "TIME ZONE 'UTC' first, and nothing is rewritten)."
    )


def test_timestamptz_to_timestamp_is_the_same_case_the_other_way(tmp_path: Path) -> None:
    """PostgreSQL skips the rewrite both ways (``ATColumnChangeRequiresRewrite``)."""
    body = """\
def upgrade():
    op.alter_column("events", "at", existing_type=sa.DateTime(timezone=True),
                    type_=sa.DateTime())
"""
    (finding,) = lint(tmp_path, body, rule=RULE, pg_version=15)
    assert finding.message.endswith("(unless the session's TimeZone is UTC: SET LOCAL TIME "
                                    "ZONE 'UTC' first).")  # fmt: skip


@pytest.mark.parametrize("setting", ["SET LOCAL TIME ZONE 'UTC'", "SET timezone = 'Etc/UTC'"])
def test_a_change_of_zone_after_the_session_is_set_to_utc_rewrites_nothing(
    tmp_path: Path, setting: str
) -> None:
    """letta sets UTC first, then turns its timestamptz columns into timestamp: no rewrite,
    nothing to say. A zone set in an earlier transaction, or another zone, is not that."""
    body = f"""\
def upgrade():
    op.execute("{setting}")
    op.alter_column("events", "at", existing_type=sa.DateTime(timezone=True),
                    type_=sa.DateTime())
    op.execute("SET LOCAL TIME ZONE 'Europe/Paris'")
    op.alter_column("events", "seen", existing_type=sa.DateTime(), type_=sa.DateTime(True))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [6]


def test_the_schema_the_history_built_outweighs_a_stale_existing_type(write_migration) -> None:
    """mistral's and tacker's alter_column() calls pass an ``existing_type=`` older than the
    column (copied from an earlier revision): the column is varchar(1024) by then, and making
    it text rewrites nothing."""
    before = """\
def upgrade():
    op.create_table("workflows", sa.Column("id", sa.Integer()), sa.Column("spec", sa.String(100)))
    op.alter_column("workflows", "spec", existing_type=sa.String(100), type_=sa.String(1024))
"""
    body = """\
def upgrade():
    op.alter_column("workflows", "spec", existing_type=sa.String(100), type_=sa.Text())
    op.alter_column("workflows", "spec", existing_type=sa.String(100), type_=sa.Integer(),
                    postgresql_using="length(spec)")
"""
    findings = after_history(write_migration, before, body, rule=RULE)
    assert [f.line for f in findings] == [11]  # only the real conversion, judged from text
    assert "from text to int4" in findings[0].message


def test_an_existing_type_this_function_made_stale_says_nothing(write_migration) -> None:
    """invenio-accounts' downgrade makes ``id`` integer, then calls alter_column() on it again
    with the same ``existing_type=String(80)``: integer to integer rewrites nothing, and the
    stale type is the function's own doing, not an edited revision's (the notice said so)."""
    before = """\
def upgrade():
    op.create_table("roles", sa.Column("id", sa.String(80)))
"""
    body = """\
def upgrade():
    op.alter_column("roles", "id", existing_type=sa.String(80), type_=sa.Integer,
                    postgresql_using="id::integer")
    op.alter_column("roles", "id", existing_type=sa.String(80), type_=sa.Integer,
                    nullable=False)
"""
    findings = after_history(write_migration, before, body, rule=RULE)
    assert [f.line for f in findings] == [FIRST_BODY_LINE + 1]
    assert "from varchar(80) to int4" in findings[0].message


def test_an_existing_type_given_as_a_class_is_read(tmp_path: Path) -> None:
    """invenio passes ``existing_type=sa.Integer``, which SQLAlchemy takes as well."""
    body = """\
def upgrade():
    op.alter_column("accounts_role", "id", existing_type=sa.Integer, type_=sa.BigInteger())
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert "from int4 to int8" in finding.message


def test_the_backfill_converts_as_the_migration_does(tmp_path: Path) -> None:
    """open-webui converts with ``postgresql_using``: timestamp has no cast to bigint, so the
    recipe's backfill uses the migration's own expression."""
    body = """\
def upgrade():
    op.alter_column("folder", "created_at", existing_type=sa.DateTime(), type_=sa.BigInteger(),
                    postgresql_using="extract(epoch from created_at)::bigint")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert "SET created_at_new = CAST(EXTRACT(EPOCH FROM created_at) AS bigint) WHERE" in (
        finding.hint
    )
    plain = body.replace(
        ',\n                    postgresql_using="extract(epoch from created_at)::bigint"', ""
    )
    (finding,) = lint(tmp_path, plain, rule=RULE)
    assert "SET created_at_new = created_at::int8 WHERE" in finding.hint


def test_a_length_from_a_module_not_installed_is_not_judged(tmp_path: Path) -> None:
    """neutron's ``sa.String(length=db_const.NAME_FIELD_SIZE)`` with neutron_lib not
    installed: whether the new length is wider is not known, so the rule says it cannot
    judge instead of calling it a rewrite or a safe widening."""
    body = """\
from myapp_not_installed.db import constants

def upgrade():
    op.alter_column("ports", "name", existing_type=sa.String(36),
                    type_=sa.String(length=constants.NAME_FIELD_SIZE))
"""
    findings, notices = lint_with_notices(tmp_path, body, rule=RULE)
    assert findings == []
    (notice,) = [d.message for d in notices]
    assert notice == (
        'change-column-type cannot judge this: the type change of "ports"."name" involves '
        "varchar(?), whose length or precision comes from a module that cannot be imported "
        "here"
    )


def test_a_type_from_a_module_not_installed_is_not_judged(tmp_path: Path) -> None:
    """airflow's ``UtcDateTime`` with airflow not installed: the rule cannot tell a rewrite."""
    body = """\
from myapp_not_installed.types import UtcDateTime

def upgrade():
    op.alter_column("dag_run", "start_date", existing_type=UtcDateTime(), type_=sa.DateTime())
"""
    findings, notices = lint_with_notices(tmp_path, body, rule=RULE)
    assert findings == []
    assert [d.message for d in notices] == [
        'change-column-type cannot judge this: the type change of "dag_run"."start_date" '
        "involves migsafe_unknown.UtcDateTime, a type whose module cannot be imported here"
    ]


def test_a_column_added_to_a_table_made_outside_the_history_is_known(write_migration) -> None:
    """Kotti creates ``nodes`` with ``metadata.create_all()``; a revision adds ``path``
    varchar(1000), a later one widens it without existing_type=: no rewrite."""
    before = """\
def upgrade():
    op.add_column("nodes", sa.Column("path", sa.Unicode(1000)))
"""
    body = """\
def upgrade():
    op.alter_column("nodes", "path", type_=sa.Unicode(2000))
"""
    assert after_history(write_migration, before, body, rule=RULE) == []


def test_a_change_postgresql_cannot_cast_by_itself_fails(tmp_path: Path) -> None:
    """mindsdb's downgrade turns a varchar back into an integer without USING: PostgreSQL
    refuses ("cannot be cast automatically"); with postgresql_using= it is a rewrite."""
    body = """\
def upgrade():
    op.alter_column("tasks", "company_id", existing_type=sa.String(), type_=sa.Integer())
    op.alter_column("tasks", "owner_id", existing_type=sa.String(), type_=sa.Integer(),
                    postgresql_using="owner_id::integer")
    op.alter_column("tasks", "id", existing_type=sa.Integer(), type_=sa.String())
"""
    failing, converted, to_text = lint(tmp_path, body, rule=RULE)
    assert failing.message.endswith(
        "from varchar to int4 fails: PostgreSQL casts varchar to int4 only when told how "
        "(postgresql_using=), and the migration stops here on deploy."
    )
    assert converted.message.endswith("rewrites the table under an ACCESS EXCLUSIVE lock.")
    assert to_text.message.endswith("rewrites the table under an ACCESS EXCLUSIVE lock.")


def test_an_enum_of_the_schema_takes_no_other_type_by_itself(tmp_path: Path) -> None:
    """neutron-vpnaas changes a column from one enum type to another (misnamed): no cast."""
    body = """\
def upgrade():
    op.execute("CREATE TYPE vpn_pfs AS ENUM ('group2', 'group5')")
    op.execute("CREATE TYPE vpn_auth AS ENUM ('sha1', 'sha256')")
    op.alter_column("ipsecpolicies", "auth_algorithm",
                    existing_type=sa.Enum("sha1", "sha256", name="vpn_auth", create_type=False),
                    type_=sa.Enum("group2", "group5", name="vpn_pfs", create_type=False))
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert "from vpn_auth to vpn_pfs fails" in finding.message


def test_an_enum_swapped_for_one_with_more_labels_gets_them_added_in_place(
    write_migration,
) -> None:
    """fides renames ``ctype`` aside, makes ``ctype`` again with one label more and converts
    every row to it: adding the label to the type rewrites nothing."""
    before = """\
def upgrade():
    op.execute("CREATE TYPE ctype AS ENUM ('a', 'b')")
    op.execute("CREATE TABLE cfg (id integer PRIMARY KEY, ctype ctype)")
"""
    body = """\
def upgrade():
    op.execute("ALTER TYPE ctype RENAME TO ctype_old")
    op.execute("CREATE TYPE ctype AS ENUM ('a', 'b', 'it''s')")
    op.execute("ALTER TABLE cfg ALTER COLUMN ctype TYPE ctype USING ctype::text::ctype")
    op.execute("DROP TYPE ctype_old")
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert finding.hint.splitlines()[:4] == [
        "# ctype only adds labels to ctype_old: add them to the type in place instead",
        "# (no rewrite), and leave the rename, the new type and the column change out:",
        """op.execute("ALTER TYPE \\"ctype\\" ADD VALUE IF NOT EXISTS 'it''s'")""",
        "# or else:",
    ]


def test_labels_added_between_the_types_own_go_before_the_next_one(write_migration) -> None:
    """fidesops swaps ``('mariadb', 'saas')`` for ``('mariadb', 'bigquery', 'saas',
    'manual')``: a plain ADD VALUE puts 'bigquery' after 'saas', another order for ORDER BY
    and ``<``. It goes BEFORE 'saas'. An order of the type's own labels ADD VALUE cannot
    make gets no in-place recipe."""
    before = """\
def upgrade():
    op.execute("CREATE TYPE ctype AS ENUM ('mariadb', 'saas')")
    op.execute("CREATE TABLE cfg (id integer PRIMARY KEY, ctype ctype)")
"""
    body = """\
def upgrade():
    op.execute("ALTER TYPE ctype RENAME TO ctype_old")
    op.execute("CREATE TYPE ctype AS ENUM ('mariadb', 'bigquery', 'saas', 'manual')")
    op.execute("ALTER TABLE cfg ALTER COLUMN ctype TYPE ctype USING ctype::text::ctype")
    op.execute("DROP TYPE ctype_old")
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert finding.hint.splitlines()[2:4] == [
        """op.execute("ALTER TYPE \\"ctype\\" ADD VALUE IF NOT EXISTS 'bigquery' BEFORE 'saas'")""",
        """op.execute("ALTER TYPE \\"ctype\\" ADD VALUE IF NOT EXISTS 'manual'")""",
    ]
    reordered = body.replace("'mariadb', 'bigquery', 'saas'", "'saas', 'bigquery', 'mariadb'")
    (finding,) = after_history(write_migration, before, reordered, rule=RULE)
    assert "only adds labels" not in finding.hint


def test_to_text_from_an_unknown_type_says_a_text_type_is_not_rewritten(tmp_path: Path) -> None:
    """mailman retypes columns its application made (old type unknown) to its own
    ``SAUnicode`` (varchar): from any text type nothing is rewritten, and the message says
    so; to varchar(n), from a varchar of at most n (bodhi widens its ``alias``)."""
    body = """\
def upgrade():
    op.alter_column("mailinglist", "info", type_=sa.Unicode())
    op.alter_column("mailinglist", "name", type_=sa.Unicode(40))
"""
    unbounded, bounded = lint(tmp_path, body, rule=RULE)
    assert unbounded.message.endswith(
        "(unless it is text or varchar already: then nothing is rewritten)."
    )
    assert bounded.message.endswith(
        "(unless it is a varchar of at most 40 characters already: then nothing is rewritten)."
    )


def test_the_type_the_downgrade_sets_back_is_the_old_type(tmp_path: Path) -> None:
    """Kotti and bodhi widen a column their application made, and their downgrade narrows it
    back: that is the type it had, so the widening rewrites nothing and the narrowing does."""
    body = """\
def upgrade():
    op.alter_column("updates", "alias", type_=sa.Unicode(64))
    op.alter_column("updates", "notes", type_=sa.Integer())

def downgrade():
    op.alter_column("updates", "alias", type_=sa.Unicode(32))
    op.alter_column("updates", "notes", type_=sa.Unicode(32))
"""
    findings = lint(tmp_path, body, rule=RULE)
    assert [f.message.split(" to ")[0] for f in findings] == [
        'Changing the type of "updates"."notes" from varchar(32) (what downgrade() sets it '
        "back to)",
        'In downgrade(): Changing the type of "updates"."alias" from varchar(64)',
        'In downgrade(): Changing the type of "updates"."notes" from int4',
    ]


def test_the_type_a_downgrade_in_sql_sets_back_is_the_old_type_too(tmp_path: Path) -> None:
    """indico widens a price's precision in SQL and narrows it back in SQL: the widening
    rewrites nothing (it said "old type unknown ... rewrites the table")."""
    body = """\
def upgrade():
    op.execute("ALTER TABLE event_registration.forms ALTER COLUMN base_price "
               "TYPE numeric(11,2) USING base_price::numeric(11,2)")

def downgrade():
    op.execute("ALTER TABLE event_registration.forms ALTER COLUMN base_price "
               "TYPE numeric(8,2)")
"""
    findings = lint(tmp_path, body, rule=RULE)
    assert [f.message.split(" to ")[0] for f in findings] == [
        'In downgrade(): Changing the type of "event_registration"."forms"."base_price" '
        "from numeric(11, 2)",
    ]


def test_a_call_that_says_the_column_is_otherwise_than_the_history_made_it_is_a_notice(
    write_migration,
) -> None:
    """celery-director's first revision was edited to make ``key`` varchar(255), and a
    later one, "only useful for an existing instance", changes it from VARCHAR to
    varchar(255): nothing is rewritten on the databases the history migrated, and the
    table is rewritten where the column is what the call says. Said as a notice."""
    before = """\
def upgrade():
    op.create_table("tasks", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("key", sa.String(255)))
"""
    body = """\
def upgrade():
    op.alter_column("tasks", "key", existing_type=sa.VARCHAR(), type_=sa.String(255))
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert finding.severity is Severity.NOTICE
    assert finding.message == (
        'The history made "tasks"."key" varchar(255), so changing it to varchar(255) rewrites '
        "nothing on the databases it migrated; the call says existing_type=varchar, and where "
        "the column is that (a database made before an earlier revision was edited), it "
        "rewrites the table under an ACCESS EXCLUSIVE lock."
    )
    same = body.replace("sa.VARCHAR()", "sa.String(255)")
    assert after_history(write_migration, before, same, rule=RULE) == []


def test_a_type_set_on_a_table_the_history_never_made_is_the_next_changes_old_type(
    write_migration,
) -> None:
    """mailman widens ``pendedkeyvalue.value`` (a table made by its application, not its
    history) to varchar, and later to text: the second change starts from varchar, and
    varchar to text rewrites nothing; so does the downgrade back to varchar."""
    before = """\
def upgrade():
    op.alter_column("kv", "value", type_=sa.Unicode())
"""
    body = """\
def upgrade():
    op.alter_column("kv", "value", type_=sa.Text())

def downgrade():
    op.alter_column("kv", "value", type_=sa.Unicode())
"""
    assert after_history(write_migration, before, body, rule=RULE) == []


def test_a_column_of_another_type_taking_a_dropped_ones_name_changes_its_type(
    write_migration,
) -> None:
    """ironic-inspector adds ``temp_started_at`` (timestamp), copies, drops ``started_at``
    (float) and renames the new column to it: the running code still writes floats. A
    widening swap (varchar to text) changes nothing it reads."""
    before = """\
def upgrade():
    op.create_table("nodes", sa.Column("uuid", sa.String(36), primary_key=True),
                    sa.Column("started_at", sa.Float()), sa.Column("name", sa.String(20)))
"""
    body = """\
def upgrade():
    op.add_column("nodes", sa.Column("temp_started_at", sa.DateTime()))
    op.add_column("nodes", sa.Column("temp_name", sa.Text()))
    with op.batch_alter_table("nodes") as batch_op:
        batch_op.drop_column("started_at")
        batch_op.drop_column("name")
        batch_op.alter_column("temp_started_at", new_column_name="started_at")
        batch_op.alter_column("temp_name", new_column_name="name")
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert finding.message == (
        'Column "started_at" of "nodes" changes type from float8 to timestamp: '
        '"temp_started_at" takes its name here, dropped at line '
        f"{FIRST_BODY_LINE + 4}, and the running code reads and writes it as float8."
    )


def test_a_column_the_history_made_the_new_type_already_says_so(write_migration) -> None:
    """skypilot's first revision builds its tables from today's models; a later one changes
    a column to timestamptz with a USING expression (a rewrite whatever the type was):
    "from timestamptz to timestamptz" said nothing."""
    before = """\\
def upgrade():
    op.create_table("job_events", sa.Column("ts", sa.DateTime(timezone=True)))
"""
    body = """\\
def upgrade():
    op.alter_column("job_events", "ts", type_=sa.DateTime(timezone=True),
                    existing_type=sa.DateTime(timezone=False),
                    postgresql_using="ts AT TIME ZONE 'UTC'")
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert finding.message.startswith(
        'Changing the type of "job_events"."ts" (already timestamptz, as the history made it, '
        "though existing_type= says timestamp) to timestamptz rewrites the table"
    )


def test_a_column_added_under_the_name_of_one_renamed_aside_changes_its_type(
    write_migration,
) -> None:
    """open-webui renames ``chat.chat`` (text) to ``old_chat``, adds a JSON ``chat``, copies
    and drops the old one: the running code reads and writes ``chat`` as text, and gets
    JSON. Added back as it was, nothing changes for it."""
    before = """\
def upgrade():
    op.create_table("chat", sa.Column("id", sa.Text()), sa.Column("chat", sa.Text()),
                    sa.Column("title", sa.Text()))
"""
    body = """\
def upgrade():
    op.alter_column("chat", "chat", new_column_name="old_chat")
    op.add_column("chat", sa.Column("chat", sa.JSON()))
    op.execute("UPDATE chat SET chat = old_chat::json")
    op.drop_column("chat", "old_chat")
    op.alter_column("chat", "title", new_column_name="old_title")
    op.add_column("chat", sa.Column("title", sa.Text()))
    op.execute("UPDATE chat SET title = old_title")
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert finding.line == FIRST_BODY_LINE + 2
    assert finding.message.startswith(
        'Column "chat" of "chat" changes type from text to json: the column added here takes '
        f'its name, renamed to "old_chat" at line {FIRST_BODY_LINE + 1}'
    )


def test_an_enum_column_moved_to_a_type_with_more_labels_is_no_change(write_migration) -> None:
    """fides renames its enum type aside, makes it anew with one more label, renames the
    column aside and adds it back of the new type: the running code writes the same labels,
    which the new type takes (moving the old column to the renamed type rewrites it)."""
    before = """\
def upgrade():
    op.create_table("messagingconfig", sa.Column("id", sa.Integer()),
                    sa.Column("service_type", sa.Enum("mailgun", "twilio", name="servicetype")))
"""
    body = """\
def upgrade():
    op.execute("ALTER TYPE servicetype RENAME TO servicetype_old")
    op.alter_column("messagingconfig", "service_type", new_column_name="service_type_old")
    op.execute("ALTER TABLE messagingconfig ALTER COLUMN service_type_old TYPE servicetype_old"
               " USING service_type_old::text::servicetype_old")
    enum = sa.dialects.postgresql.ENUM
    enum("mailgun", "twilio", "mailchimp", name="servicetype").create(op.get_bind())
    op.add_column("messagingconfig", sa.Column(
        "service_type", enum(name="servicetype", create_type=False)))
"""
    findings = after_history(write_migration, before, body, rule=RULE)
    assert [f.line for f in findings] == [FIRST_BODY_LINE + 3]  # the ALTER ... TYPE rewrites
