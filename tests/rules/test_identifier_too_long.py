"""identifier-too-long (MS051): PostgreSQL silently cuts a name to its first 63 bytes."""

from __future__ import annotations

from pathlib import Path

from migsafe.findings import Severity
from tests.rules.lint import FIRST_BODY_LINE, assert_renders, lines_flagged, lint, lint_with_notices

RULE = "identifier-too-long"

LONG_COLUMN = "notify_customer_by_email_when_the_subscription_is_about_to_renew"  # 64 bytes


def test_renders_the_name_postgresql_would_keep(tmp_path: Path) -> None:
    body = f"""\
def upgrade():
    op.add_column("subscriptions", sa.Column("{LONG_COLUMN}", sa.Text()))
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: Column name "notify_customer_by_email_when_the_subscription_is_about_to_renew" is 64 bytes: PostgreSQL silently keeps only its first 63.
        # name the column in 63 bytes or fewer, here and wherever the code names it: this name has
        # 64 bytes, and PostgreSQL would keep only "notify_customer_by_email_when_the_subscription_is_about_to_rene"
        """,  # noqa: E501
        rule=RULE,
    )


def test_exactly_63_bytes_is_kept_whole(tmp_path: Path) -> None:
    body = f"""\
def upgrade():
    op.add_column("subscriptions", sa.Column("{LONG_COLUMN[:63]}", sa.Text()))
    op.create_table("{"t" * 63}", sa.Column("id", sa.BigInteger(), primary_key=True))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_long_table_name_in_a_schema_is_flagged(tmp_path: Path) -> None:
    body = f"""\
def upgrade():
    op.create_table(
        "{"t" * 70}",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        schema="app",
    )
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message == (
        f'Table name "{"t" * 70}" is 70 bytes: PostgreSQL silently keeps only its first 63.'
    )


def test_raw_sql_names_are_flagged_as_postgresql_folds_them(tmp_path: Path) -> None:
    body = f"""\
def upgrade():
    op.execute("CREATE INDEX Ix_{LONG_COLUMN} ON subscriptions (id)")
    op.execute(
        "ALTER TABLE subscriptions ADD CONSTRAINT ck_{LONG_COLUMN} CHECK (id > 0)"
    )
    op.execute('ALTER TABLE subscriptions RENAME COLUMN email TO "{LONG_COLUMN}"')
"""
    messages = [f.message.split(" is ")[0] for f in lint(tmp_path, body, rule=RULE)]
    assert messages == [
        f'Index name "ix_{LONG_COLUMN}"',
        f'Constraint name "ck_{LONG_COLUMN}"',
        f'Column name "{LONG_COLUMN}"',
    ]


def test_names_sqlalchemy_shortens_itself_are_not_flagged(tmp_path: Path) -> None:
    body = f"""\
def upgrade():
    op.create_index(op.f("ix_subscriptions_{LONG_COLUMN}"), "subscriptions", ["id"])
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_long_name_only_referred_to_is_not_flagged(tmp_path: Path) -> None:
    body = f"""\
def upgrade():
    op.execute("UPDATE subscriptions SET {LONG_COLUMN} = true")
    op.create_index("ix_renew", "subscriptions", ["{LONG_COLUMN}"])
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_name_is_flagged_once_per_statement(tmp_path: Path) -> None:
    body = f"""\
def upgrade():
    op.execute(
        "CREATE TABLE s ({LONG_COLUMN} text, CHECK ({LONG_COLUMN} <> ''))"
    )
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2]


def test_downgrade_is_not_judged(tmp_path: Path) -> None:
    body = f"""\
def upgrade():
    op.drop_column("subscriptions", "{LONG_COLUMN}")

def downgrade():
    op.add_column("subscriptions", sa.Column("{LONG_COLUMN}", sa.Text()))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_version_table_of_the_project_is_not_flagged(tmp_path: Path) -> None:
    body = f"""\
def upgrade():
    op.execute("ALTER TABLE alembic_version ADD COLUMN {LONG_COLUMN} text")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_bytes_are_counted_not_characters(tmp_path: Path) -> None:
    name = "é" * 32  # 32 characters, 64 bytes
    body = f"""\
def upgrade():
    op.execute('CREATE TABLE "{name}" (id bigint); CREATE INDEX ON "{name}" (id)')
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message == (
        f'Table name "{name}" is 64 bytes: PostgreSQL silently keeps only its first 63.'
    )
    assert finding.hint.endswith(f'PostgreSQL would keep only "{"é" * 31}"')


def test_batch_modes_copy_of_a_table_is_not_the_users_name(tmp_path: Path) -> None:
    body = """\
def upgrade():
    name = "subscriptions_with_a_rather_long_but_legal_name_of_55_c"
    table = sa.Table(name, sa.MetaData(), sa.Column("id", sa.BigInteger(), primary_key=True))
    with op.batch_alter_table(name, recreate="always", copy_from=table) as batch:
        batch.add_column(sa.Column("note", sa.Text()))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_name_sqlalchemy_refuses_to_render_fails_on_every_database(tmp_path: Path) -> None:
    """nonebot-plugin-user drops a foreign key by a name of 64 characters: SQLAlchemy
    raises IdentifierError before anything reaches PostgreSQL, on every database (there,
    inside a try/except that hides it). An error, not a notice that it could not be
    checked."""
    name = "fk_nonebot_plugin_user_bind_original_id_nonebot_plugin_user_user"
    body = f"""\
def upgrade():
    try:
        op.drop_constraint("{name}", "bind", type_="foreignkey")
    except Exception:
        pass
"""
    findings, notices = lint_with_notices(tmp_path, body, rule=RULE)
    (finding,) = findings
    assert (finding.line - FIRST_BODY_LINE + 1, finding.severity) == (3, Severity.ERROR)
    assert finding.message == (
        f'Constraint name "{name}" has 64 characters: SQLAlchemy refuses to render it for '
        "PostgreSQL (at most 63), so this operation fails on every database."
    )
    assert notices == []  # the finding says why the operation has no SQL
