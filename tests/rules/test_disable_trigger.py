"""disable-trigger (MS032): DISABLE TRIGGER on a table that already exists."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import assert_renders, lines_flagged, lint

RULE = "disable-trigger"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE orders DISABLE TRIGGER ALL")
    op.execute("UPDATE orders SET total = total * 100")
    op.execute("ALTER TABLE orders ENABLE TRIGGER ALL")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: DISABLE TRIGGER ALL on "orders" takes a SHARE ROW EXCLUSIVE lock, held until the migration commits: all writes (INSERT, UPDATE, DELETE) wait, and the rows the migration writes meanwhile skip its triggers, foreign key checks included.
        # Skip the triggers of "orders" for this transaction's own writes only: no lock on the
        # table, and the application's writes still fire them (it needs superuser, or on
        # PostgreSQL 15+ the SET privilege on session_replication_role).
        op.execute("SET LOCAL session_replication_role = replica")
        # ... the writes that must not fire them, with no DISABLE / ENABLE TRIGGER ...
        op.execute("SET LOCAL session_replication_role = DEFAULT")
        # session_replication_role = replica skips the foreign key checks too: check the rows written
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_schema_qualified_table_keeps_its_schema_in_the_message(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE app.orders DISABLE TRIGGER orders_audit")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: DISABLE TRIGGER "orders_audit" on "app"."orders" takes a SHARE ROW EXCLUSIVE lock, and it stays disabled after the migration: from then on the application's writes skip the trigger.
        # Skip the triggers of "app"."orders" for this transaction's own writes only: no lock on the
        # table, and the application's writes still fire them (it needs superuser, or on
        # PostgreSQL 15+ the SET privilege on session_replication_role).
        op.execute("SET LOCAL session_replication_role = replica")
        # ... the writes that must not fire them, with no DISABLE / ENABLE TRIGGER ...
        op.execute("SET LOCAL session_replication_role = DEFAULT")
        # A trigger the application must no longer fire: drop it (DROP TRIGGER) once no code relies on it
        """,  # noqa: E501
        rule=RULE,
    )


def test_enabled_again_after_a_commit_the_application_skips_it_meanwhile(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE orders DISABLE TRIGGER USER")
    with op.get_context().autocommit_block():
        op.execute("UPDATE orders SET total = total * 100 WHERE id < 1000")
    op.execute("ALTER TABLE orders ENABLE TRIGGER USER")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert "until it is enabled again in a later transaction, the application's writes" in (
        finding.message
    )


def test_only_an_enable_that_covers_the_trigger_counts(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE orders DISABLE TRIGGER ALL")
    op.execute("ALTER TABLE orders ENABLE TRIGGER USER")
    op.execute("ALTER TABLE orders DISABLE TRIGGER orders_audit")
    op.execute("ALTER TABLE orders ENABLE TRIGGER orders_totals")
    op.execute("ALTER TABLE invoices DISABLE TRIGGER invoices_audit")
    op.execute("ALTER TABLE invoices ENABLE TRIGGER ALL")
"""
    every, audit, invoices = lint(tmp_path, body, rule=RULE)
    assert "stays disabled after the migration" in every.message
    assert "stays disabled after the migration" in audit.message
    assert "held until the migration commits" in invoices.message


def test_enabling_a_trigger_is_not_this_rule(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE orders ENABLE TRIGGER orders_audit")
    op.execute("ALTER TABLE orders ENABLE ALWAYS TRIGGER orders_audit")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_session_replication_role_is_fine(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("SET LOCAL session_replication_role = replica")
    op.execute("UPDATE orders SET total = total * 100")
    op.execute("SET LOCAL session_replication_role = DEFAULT")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_table_created_in_the_same_function_has_no_traffic(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("orders", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute("ALTER TABLE orders DISABLE TRIGGER ALL")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_downgrade_that_disables_a_trigger_says_so(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE orders ENABLE TRIGGER orders_audit")

def downgrade():
    op.execute("ALTER TABLE orders DISABLE TRIGGER orders_audit")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('In downgrade(): DISABLE TRIGGER "orders_audit"')
