"""set-not-null (MS011): SET NOT NULL on a table that already exists."""

from __future__ import annotations

from pathlib import Path

from migsafe import command
from tests.rules.lint import after_history, assert_renders, lines_flagged, lint

RULE = "set-not-null"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("users", "email", existing_type=sa.Text(), nullable=False)
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: SET NOT NULL on "users"."email" scans the whole table under an ACCESS EXCLUSIVE lock: all reads and writes wait.
        op.create_check_constraint("ck_users_email_not_null", "users", '"email" IS NOT NULL',
                                   postgresql_not_valid=True)
        with op.get_context().autocommit_block():  # validate in its own transaction
            op.execute('ALTER TABLE "users" VALIDATE CONSTRAINT "ck_users_email_not_null"')
        op.alter_column("users", "email", nullable=False)  # no scan on PostgreSQL >= 12
        op.drop_constraint("ck_users_email_not_null", "users", type_="check")
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_schema_qualified_table_keeps_its_schema_in_the_recipe(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("users", "email", existing_type=sa.Text(), nullable=False, schema="app")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: SET NOT NULL on "app"."users"."email" scans the whole table under an ACCESS EXCLUSIVE lock: all reads and writes wait.
        op.create_check_constraint("ck_users_email_not_null", "users", '"email" IS NOT NULL',
                                   postgresql_not_valid=True, schema="app")
        with op.get_context().autocommit_block():  # validate in its own transaction
            op.execute('ALTER TABLE "app"."users" VALIDATE CONSTRAINT "ck_users_email_not_null"')
        op.alter_column("users", "email", nullable=False, schema="app")  # no scan on PostgreSQL >= 12
        op.drop_constraint("ck_users_email_not_null", "users", type_="check", schema="app")
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_validated_check_proves_its_own_column(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_check_constraint("ck_email", "users", "email IS NOT NULL", postgresql_not_valid=True)
    op.execute('ALTER TABLE users VALIDATE CONSTRAINT ck_email')
    op.alter_column("users", "email", existing_type=sa.Text(), nullable=False)
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []
    assert lines_flagged(tmp_path, body, rule=RULE, pg_version=11) == [4]


def test_a_validated_check_on_another_column_proves_nothing(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_check_constraint("ck_name", "users", "name IS NOT NULL", postgresql_not_valid=True)
    op.execute('ALTER TABLE users VALIDATE CONSTRAINT ck_name')
    op.alter_column("users", "name", existing_type=sa.Text(), nullable=False)
    op.alter_column("users", "email", existing_type=sa.Text(), nullable=False)
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]


def test_a_check_left_not_valid_proves_nothing(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_check_constraint("ck_email", "users", "email IS NOT NULL", postgresql_not_valid=True)
    op.alter_column("users", "email", existing_type=sa.Text(), nullable=False)
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [3]


def test_a_check_on_the_same_column_of_another_table_proves_nothing(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_check_constraint("ck_email", "staff", "email IS NOT NULL", postgresql_not_valid=True)
    op.execute('ALTER TABLE staff VALIDATE CONSTRAINT ck_email')
    op.alter_column("users", "email", existing_type=sa.Text(), nullable=False)
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]


def test_a_column_already_not_null_is_not_scanned(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("users", "email", existing_type=sa.Text(), existing_nullable=False,
                    nullable=False)
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_table_created_in_the_same_revision_is_empty(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("users", sa.Column("email", sa.Text()))
    op.alter_column("users", "email", existing_type=sa.Text(), nullable=False)
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_raw_sql_is_judged_like_alembic_operations(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE users ALTER COLUMN email SET NOT NULL")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2]


def test_a_downgrade_that_sets_not_null_says_so(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("users", "email", existing_type=sa.Text(), nullable=True)

def downgrade():
    op.alter_column("users", "email", existing_type=sa.Text(), nullable=False)
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith("In downgrade(): SET NOT NULL")


def test_a_check_validated_in_upgrade_proves_nothing_in_downgrade(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_check_constraint("ck_name", "users", "name IS NOT NULL")
    op.drop_constraint("ck_name", "users", type_="check")

def downgrade():
    op.execute("SELECT 1")
    op.alter_column("users", "name", existing_type=sa.Text(), nullable=False)
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [7]


def test_a_check_validated_in_downgrade_proves_its_column_there(tmp_path: Path) -> None:
    body = """\
def upgrade():
    pass

def downgrade():
    op.create_check_constraint("ck_name", "users", "name IS NOT NULL")
    op.alter_column("users", "name", existing_type=sa.Text(), nullable=False)
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_column_already_not_null_is_found_after_its_table_was_renamed(write_migration) -> None:
    """tacker renames ``devices`` to ``vnf`` and then sets NOT NULL on columns that already
    are: the history's schema knows the table by its new name from the rename on."""
    before = """\
def upgrade():
    op.create_table("devices", sa.Column("id", sa.Integer()),
                    sa.Column("tenant_id", sa.String(64), nullable=False))
"""
    body = """\
def upgrade():
    op.rename_table("devices", "vnf")
    op.alter_column("vnf", "tenant_id", existing_type=sa.String(64), nullable=False)
"""
    assert after_history(write_migration, before, body, rule=RULE) == []


def test_a_column_of_another_history_may_be_not_null_already(write_migration) -> None:
    """neutron-dynamic-routing alters neutron's ``bgp_speakers``, which its own history never
    created: the finding says the column may be NOT NULL already, and how to tell migsafe."""
    before = """\
def upgrade():
    op.create_table("bgp_peers", sa.Column("id", sa.Integer()), sa.Column("remote_as", sa.Integer))
"""
    body = """\
def upgrade():
    op.alter_column("bgp_speakers", "local_as", nullable=False, type_=sa.BigInteger())
    op.alter_column("bgp_peers", "remote_as", nullable=False, type_=sa.BigInteger())
"""
    unknown, known = after_history(write_migration, before, body, rule=RULE)
    assert unknown.message.endswith(
        "all reads and writes wait (unless it is NOT NULL already, which the history does "
        "not tell: then say so with existing_nullable=False)."
    )
    assert known.message.endswith("all reads and writes wait.")


# a revision whose capture stops after it made ``dag``: what follows it is not known
STOPPED_EARLY = """\
def upgrade():
    op.create_table("dag", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("concurrency", sa.Integer()))
    raise RuntimeError("needs the application")
"""


def test_a_column_known_only_from_a_revision_not_checked_to_its_end_is_hedged(
    write_migration,
) -> None:
    """airflow's 0069 sets ``dag.concurrency`` NOT NULL after the line where its capture
    stopped (a stand-in): what the schema says of the column may be out of date."""
    body = """\
def upgrade():
    op.alter_column("dag", "concurrency", nullable=False)
"""
    (finding,) = after_history(write_migration, STOPPED_EARLY, body, rule=RULE)
    assert finding.message.endswith(
        "(unless it is NOT NULL already: a revision before it was not checked to its end)."
    )


def test_a_column_after_a_do_block_of_dynamic_sql_names_the_block(write_migration) -> None:
    """fab's revision runs ALTER TABLE built from a catalog query in a DO block, then sets a
    column NOT NULL: the hedge blamed a revision before it, each of which was checked to its
    end."""
    before = """\
def upgrade():
    op.create_table("ab_user", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("email", sa.String(256)))
"""
    body = """\
def upgrade():
    op.execute("DO $$ BEGIN EXECUTE 'ALTER TABLE ab_user DROP CONSTRAINT ' || "
               "(SELECT conname FROM pg_constraint LIMIT 1); END $$")
    op.alter_column("ab_user", "email", nullable=False)
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert finding.message.endswith(
        "(unless it is NOT NULL already: line 10 changes the schema in ways not followed)."
    )


def test_a_column_made_after_a_revision_not_checked_to_its_end_is_known(
    write_migration,
) -> None:
    """fractal-server adds ``resource_id`` NULL long after such a revision, and then sets
    it NOT NULL: that revision cannot have changed a column made after it; nor one made
    NULL or NOT NULL after it."""
    body = """\
def upgrade():
    op.add_column("dag", sa.Column("resource_id", sa.Integer(), nullable=True))
    op.alter_column("dag", "concurrency", nullable=True)
    op.create_table("project", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("owner_id", sa.Integer()))
"""
    write_migration(STOPPED_EARLY, revision="a1", name="1_a1.py")
    write_migration(body, revision="b2", down_revision="a1", name="2_b2.py")
    after = """\
def upgrade():
    op.alter_column("dag", "resource_id", nullable=False)
    op.alter_column("dag", "concurrency", nullable=False)
    op.alter_column("project", "owner_id", nullable=False)
"""
    path = write_migration(after, revision="c3", down_revision="b2", name="3_c3.py")
    result = command.check([path.parent])
    messages = [f.message for f in result.findings if f.rule == RULE and f.path == path]
    assert len(messages) == 3 and all(m.endswith("all reads and writes wait.") for m in messages)


def test_a_column_made_earlier_in_the_same_revision_is_known(write_migration) -> None:
    """dstack adds a column NULL, fills it and sets it NOT NULL in one revision, after one
    that was not checked to its end: that revision cannot have changed it."""
    body = """\
def upgrade():
    op.add_column("dag", sa.Column("instance_num", sa.Integer(), nullable=True))
    op.execute("UPDATE dag SET instance_num = 0")
    op.alter_column("dag", "instance_num", nullable=False)
    op.alter_column("dag", "concurrency", nullable=True)
    op.alter_column("dag", "concurrency", nullable=False)
"""
    findings = after_history(write_migration, STOPPED_EARLY, body, rule=RULE)
    assert len(findings) == 2
    assert all(f.message.endswith("all reads and writes wait.") for f in findings)


def test_a_table_only_altered_by_a_history_that_made_none_is_hedged(write_migration) -> None:
    """neutron-dynamic-routing alters neutron's tables and makes none of its own: a column
    it never made may be NOT NULL already."""
    before = """\
def upgrade():
    op.add_column("bgp_speakers", sa.Column("note", sa.Text()))
"""
    body = """\
def upgrade():
    op.alter_column("bgp_speakers", "local_as", nullable=False, type_=sa.BigInteger())
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert finding.message.endswith(
        "(unless it is NOT NULL already, which the history does not tell: then say so with "
        "existing_nullable=False)."
    )


def test_under_a_convention_built_on_the_constraint_name_the_recipe_keeps_its_name(
    tmp_path: Path,
) -> None:
    """fmn's (and migsafe adopt's) ``"ck": "%(table_name)s_%(constraint_name)s_check"``:
    Alembic would name the CHECK ``users_ck_..._check``, and the VALIDATE by name would
    fail; ``op.f()`` keeps the name as written."""
    from tests.rules import envpy

    env_py = """\
import sqlalchemy as sa
from alembic import context

target_metadata = sa.MetaData(naming_convention={
    "ck": "%(table_name)s_%(constraint_name)s_check",
})


def run_migrations(connection):
    context.configure(connection=connection, target_metadata=target_metadata,
                      transaction_per_migration=True)
"""
    body = 'def upgrade():\n    op.alter_column("users", "email", nullable=False)\n'
    (finding,) = envpy.findings(tmp_path, body, rule=RULE, env_py=env_py)
    lines = finding.hint.splitlines()
    assert lines[0].startswith('op.create_check_constraint(op.f("ck_users_email_not_null"), ')
    assert lines[-1].startswith('op.drop_constraint(op.f("ck_users_email_not_null"), ')
    assert 'VALIDATE CONSTRAINT "ck_users_email_not_null"' in lines[3]


def test_a_downgrade_setting_back_what_its_upgrade_dropped_is_known(tmp_path: Path) -> None:
    """fmn's upgrade makes ``rules.name`` NULL, a table its history never made; the
    downgrade's SET NOT NULL meets a column the upgrade made NULL: no hedge."""
    body = """\
def upgrade():
    op.alter_column("rules", "name", existing_type=sa.TEXT(), nullable=True)

def downgrade():
    op.alter_column("rules", "name", existing_type=sa.TEXT(), nullable=False)
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.endswith("all reads and writes wait.")
