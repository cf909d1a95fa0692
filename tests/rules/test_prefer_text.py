"""prefer-text (MS048): varchar(n) is text with a limit that takes a migration to change."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import assert_renders, lines_flagged, lint

RULE = "prefer-text"


def test_renders_the_users_own_call_and_a_check_for_the_limit(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("nickname", sa.String(50), nullable=False))
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: "users"."nickname" is varchar(50): text with a length check, whose limit takes a migration to change.
        op.add_column("users", sa.Column("nickname", sa.Text(), nullable=False))
        # if 50 is a rule of the data, a CHECK says so (and can change without a rewrite):
        op.create_check_constraint(op.f("users_nickname_check"), "users", 'char_length("nickname") <= 50',
                                   postgresql_not_valid=True)  # then VALIDATE it
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_new_table_keeps_foreign_key_and_comment_and_gets_a_table_check(
    tmp_path: Path,
) -> None:
    body = """\
def upgrade():
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("country", sa.String(2), sa.ForeignKey("countries.code"), comment="ISO"),
        schema="app",
    )
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('"app"."users"."country" is varchar(2):')
    assert finding.hint.splitlines() == [
        'sa.Column("country", sa.Text(), sa.ForeignKey("countries.code"), comment="ISO"),'
        '  # in op.create_table("users", ..., schema="app")',
        "# if 2 is a rule of the data, a CHECK says so (and can change without a rewrite):",
        """sa.CheckConstraint('char_length("country") <= 2', name=op.f("users_country_check")),""",
    ]


def test_a_column_of_a_table_created_earlier_needs_no_not_valid(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("users", sa.Column("id", sa.BigInteger(), primary_key=True))
    op.add_column("users", sa.Column("email", sa.String(320)))
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.hint.splitlines()[-1] == (
        'op.create_check_constraint(op.f("users_email_check"), "users", '
        """'char_length("email") <= 320')"""
    )


def test_varchar_without_a_length_is_text_already(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("bio", sa.String()))
    op.add_column("users", sa.Column("about", sa.Text()))
    op.execute("ALTER TABLE users ADD COLUMN motto character varying")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_non_native_enum_is_not_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column(
        "orders",
        sa.Column("status", sa.Enum("new", "paid", name="status", native_enum=False)),
    )
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_raw_sql_is_answered_in_sql(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE users ALTER COLUMN name TYPE varchar(100)")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: "users"."name" becomes varchar(100): text with a length check, whose limit takes a migration to change.
        op.execute('ALTER TABLE "users" ALTER COLUMN "name" TYPE text')
        # if 100 is a rule of the data, a CHECK says so (and can change without a rewrite):
        # in the SQL: CHECK (char_length("name") <= 100)
        """,  # noqa: E501
        rule=RULE,
    )


def test_alter_column_keeps_its_other_arguments(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.batch_alter_table("users", schema="app") as batch:
        batch.alter_column("code", type_=sa.String(length=20), existing_type=sa.String(10))
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('"app"."users"."code" becomes varchar(20):')
    assert finding.hint.splitlines()[0] == (
        'batch.alter_column("code", type_=sa.Text(), existing_type=sa.String(10))'
    )


def test_a_collation_is_kept(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("slug", sa.String(40, collation="C")))
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.hint.splitlines()[0] == (
        'op.add_column("users", sa.Column("slug", sa.Text(collation="C")))'
    )


def test_an_array_gets_no_check(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("tags", sa.ARRAY(sa.String(20))))
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('"users"."tags" is varchar(20)[]:')
    assert finding.hint == 'op.add_column("users", sa.Column("tags", sa.ARRAY(sa.Text())))'


def test_a_column_built_in_a_loop_gets_a_rebuilt_call(tmp_path: Path) -> None:
    body = """\
def upgrade():
    for name in ("first_name", "last_name"):
        op.add_column("users", sa.Column(name, sa.String(80), nullable=False))
"""
    findings = lint(tmp_path, body, rule=RULE)
    assert [f.hint.splitlines()[0] for f in findings] == [
        'op.add_column("users", sa.Column("first_name", sa.Text(), nullable=False))',
        'op.add_column("users", sa.Column("last_name", sa.Text(), nullable=False))',
    ]


def test_alembic_version_is_not_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
    op.execute("ALTER TABLE alembic_version ALTER COLUMN version_num TYPE varchar(64)")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_the_applications_own_types_are_not_judged(tmp_path: Path) -> None:
    body = """\
class Email(sa.types.TypeDecorator):
    impl = sa.String(255)
    cache_ok = True


def upgrade():
    op.add_column("users", sa.Column("email", Email()))
    op.execute("ALTER TABLE users ADD COLUMN phone app.varchar(20)")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_downgrade_is_not_judged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_column("users", "nickname")

def downgrade():
    op.add_column("users", sa.Column("nickname", sa.String(50)))
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_batch_modes_copy_of_an_existing_table_is_not_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    users = sa.Table(
        "users",
        sa.MetaData(),
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("name", sa.String(20)),
    )
    with op.batch_alter_table("users", recreate="always", copy_from=users) as batch:
        batch.alter_column("name", new_column_name="full_name")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []
