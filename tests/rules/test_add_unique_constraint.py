"""add-unique-constraint (MS014): UNIQUE/PRIMARY KEY builds its index while the table is locked."""

from __future__ import annotations

from pathlib import Path

from migsafe import command
from tests.rules.lint import after_history, assert_renders, lines_flagged, lint

RULE = "add-unique-constraint"


def recipe(tmp_path: Path, body: str) -> list[str]:
    """The one finding's recipe, a line per element, as the user would paste it."""
    (finding,) = lint(tmp_path, body, rule=RULE)
    return finding.hint.splitlines()


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_unique_constraint("uq_users_email", "users", ["email"])
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: Adding UNIQUE constraint "uq_users_email" to "users" builds its index under an ACCESS EXCLUSIVE lock: all reads and writes wait.
        with op.get_context().autocommit_block():
            op.create_index("uq_users_email", "users", ["email"], unique=True,
                            postgresql_concurrently=True)
        op.execute('ALTER TABLE "users" ADD CONSTRAINT "uq_users_email" UNIQUE USING INDEX "uq_users_email"')
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_schema_qualified_table_keeps_its_schema_in_the_recipe(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_unique_constraint("uq_users_org_email", "users", ["org_id", "email"], schema="app")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: Adding UNIQUE constraint "uq_users_org_email" to "app"."users" builds its index under an ACCESS EXCLUSIVE lock: all reads and writes wait.
        with op.get_context().autocommit_block():
            op.create_index("uq_users_org_email", "users", ["org_id", "email"], unique=True,
                            postgresql_concurrently=True, schema="app")
        op.execute('ALTER TABLE "app"."users" ADD CONSTRAINT "uq_users_org_email" UNIQUE USING INDEX "uq_users_org_email"')
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_constraint_using_an_index_built_beforehand_is_fine(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.get_context().autocommit_block():
        op.create_index("uq_users_email", "users", ["email"], unique=True,
                        postgresql_concurrently=True)
    op.execute("ALTER TABLE users ADD CONSTRAINT uq_users_email UNIQUE USING INDEX uq_users_email")
    op.execute("ALTER TABLE users ADD CONSTRAINT users_pkey PRIMARY KEY USING INDEX ix_users_id")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_primary_key_is_attached_as_a_primary_key(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_primary_key("pk_memberships", "memberships", ["user_id", "group_id"])
"""
    assert recipe(tmp_path, body)[-1] == (
        """op.execute('ALTER TABLE "memberships" ADD CONSTRAINT "pk_memberships" """
        """PRIMARY KEY USING INDEX "pk_memberships"')"""
    )


def test_raw_sql_is_judged_like_alembic_operations(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE users ADD CONSTRAINT uq_users_email UNIQUE (email)")
    op.execute("ALTER TABLE users ADD PRIMARY KEY (id)")
    op.execute("ALTER TABLE users ADD UNIQUE (a), ADD CONSTRAINT uq_users_b UNIQUE (b)")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2, 3, 4, 4]


def test_a_column_added_with_an_inline_unique_builds_the_index_too(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("api_key", sa.Text(), unique=True))
    op.execute("ALTER TABLE users ADD COLUMN slug text CONSTRAINT uq_users_slug UNIQUE")
    op.execute("ALTER TABLE users ADD COLUMN nickname text")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2, 3]


def test_other_constraints_build_no_unique_index(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_check_constraint("ck_users_age", "users", "age >= 0")
    op.create_foreign_key("fk_users_org", "users", "orgs", ["org_id"], ["id"])
    op.execute("ALTER TABLE users ADD COLUMN code text NOT NULL DEFAULT ''")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_table_created_earlier_in_the_same_function_is_empty(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_unique_constraint("uq_tags_slug", "tags", ["slug"])
    op.create_table("tags", sa.Column("slug", sa.Text()))
    op.create_unique_constraint("uq_tags_slug2", "tags", ["slug"])
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2]


def test_a_batch_operation_is_flagged_with_its_table(tmp_path: Path) -> None:
    body = """\
def upgrade():
    with op.batch_alter_table("dataset_alias", schema=None) as batch_op:
        batch_op.create_unique_constraint("dataset_alias_name_uq", ["name"])
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [3]
    assert recipe(tmp_path, body)[0].startswith("# after the batch_alter_table() block")
    assert recipe(tmp_path, body)[2] == (
        '    op.create_index("dataset_alias_name_uq", "dataset_alias", ["name"], unique=True,'
    )


def test_a_downgrade_that_restores_a_constraint_says_so(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_constraint("uq_users_email", "users", type_="unique")

def downgrade():
    op.create_unique_constraint("uq_users_email", "users", ["email"])
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith('In downgrade(): Adding UNIQUE constraint "uq_users_email"')


def test_a_deferrable_constraint_stays_deferrable(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_unique_constraint("uq_slots_pos", "slots", ["position"], deferrable=True,
                                initially="DEFERRED")
"""
    assert recipe(tmp_path, body)[-1] == (
        """op.execute('ALTER TABLE "slots" ADD CONSTRAINT "uq_slots_pos" UNIQUE USING INDEX """
        """"uq_slots_pos" DEFERRABLE INITIALLY DEFERRED')"""
    )


def test_the_index_keeps_include_and_nulls_not_distinct(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute(
        "ALTER TABLE users ADD CONSTRAINT uq_users_email UNIQUE NULLS NOT DISTINCT (email)"
        " INCLUDE (name)"
    )
"""
    assert recipe(tmp_path, body)[1:3] == [
        '    op.create_index("uq_users_email", "users", ["email"], unique=True,',
        "                    postgresql_concurrently=True, "
        'postgresql_include=["name"], postgresql_nulls_not_distinct=True)',
    ]


def test_an_unnamed_constraint_is_called_what_postgresql_calls_it(tmp_path: Path) -> None:
    """superset's ``create_unique_constraint(None, "dbs", ["verbose_name"])``: PostgreSQL
    names it ``dbs_verbose_name_key``, and the recipe builds its index under that name."""
    body = """\
def upgrade():
    op.create_unique_constraint(None, "dbs", ["verbose_name"])
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.startswith(
        'Adding UNIQUE constraint "dbs_verbose_name_key" (unnamed: PostgreSQL\'s name for it)'
    )
    assert '"dbs_verbose_name_key", "dbs", ["verbose_name"]' in finding.hint


def test_an_unnamed_constraint_whose_name_is_taken_gets_postgresqls_next_one(
    tmp_path: Path,
) -> None:
    """mistral adds a second unnamed UNIQUE whose default name the first one has: PostgreSQL
    calls it ``..._key1``, and a recipe building an index called ``..._key`` would fail."""
    body = """\
def upgrade():
    op.create_unique_constraint(None, "dbs", ["verbose_name"])
    op.create_unique_constraint(None, "dbs", ["verbose_name"])
"""
    first, second = lint(tmp_path, body, rule=RULE)
    assert '"dbs_verbose_name_key" (unnamed' in first.message
    assert '"dbs_verbose_name_key1" (unnamed' in second.message
    assert '"dbs_verbose_name_key1", "dbs", ["verbose_name"]' in second.hint


def test_dropping_and_adding_it_again_under_a_new_name_is_a_rename(write_migration) -> None:
    """nonebot-plugin-uninfo drops its ``unique_bot`` and adds the same columns back as
    ``nonebot_plugin_uninfo_unique_bot``: the index is built again, for a new name. The
    recipe renames it. Other columns, or another order, are a new constraint."""
    write_migration(
        """
def upgrade():
    op.create_table("bots", sa.Column("self_id", sa.Text()), sa.Column("adapter", sa.Text()),
                    sa.UniqueConstraint("self_id", "adapter", name="unique_bot"))
"""
    )
    body = """
def upgrade():
    op.drop_constraint("unique_bot", "bots", type_="unique")  # drop
    op.create_unique_constraint("plugin_unique_bot", "bots", ["self_id", "adapter"])
"""
    path = write_migration(body, revision="b2", down_revision="a1")
    (finding,) = [f for f in command.check([path.parent]).findings if f.rule == RULE]
    drop = next(n for n, line in enumerate(path.read_text().splitlines(), 1) if "# drop" in line)
    assert finding.message == (
        f'Dropping UNIQUE constraint "unique_bot" (line {drop}) and adding '
        '"plugin_unique_bot" on the same columns builds its index again under an ACCESS '
        "EXCLUSIVE lock: all reads and writes wait, for a new name."
    )
    assert finding.hint.splitlines()[-1] == (
        'op.execute(\'ALTER TABLE "bots" RENAME CONSTRAINT "unique_bot" TO "plugin_unique_bot"\')'
    )
    source = path.read_text()
    path.write_text(source.replace('["self_id", "adapter"]', '["adapter", "self_id"]'))
    (finding,) = [f for f in command.check([path.parent]).findings if f.rule == RULE]
    assert finding.message.startswith('Adding UNIQUE constraint "plugin_unique_bot"')
    # airflow drops and adds back the same name: built again, but no rename
    path.write_text(source.replace('"plugin_unique_bot"', '"unique_bot"'))
    (finding,) = [f for f in command.check([path.parent]).findings if f.rule == RULE]
    assert finding.message.startswith('Adding UNIQUE constraint "unique_bot"')


def test_a_column_added_unique_is_added_first_without_the_flag(tmp_path: Path) -> None:
    """getitfixed adds ``sa.Column("hash", ..., unique=True)``: the recipe's index needs
    the column, and the flag would add the constraint under the lock again."""
    body = """\
def upgrade():
    op.add_column("photo", sa.Column("hash", sa.Text(), nullable=True, unique=True))
"""
    assert recipe(tmp_path, body)[:2] == [
        "# the column first, without unique=True (it adds the constraint):",
        'op.add_column("photo", sa.Column("hash", sa.Text(), nullable=True))',
    ]
    raw = 'def upgrade():\n    op.execute("ALTER TABLE photo ADD COLUMN hash text UNIQUE")\n'
    assert recipe(tmp_path, raw)[0] == (
        "# the column first, without its UNIQUE (which adds the constraint)"
    )


def test_a_key_that_replaces_one_dropped_before_is_built_before_the_drop(
    write_migration,
) -> None:
    """invenio-files-rest drops ``pk_files_object`` and adds a primary key of that name on
    other columns: the recipe built the index CONCURRENTLY at the add, whose autocommit
    block commits the table without a primary key (and, moved before the drop, its name
    clashes with the old key's index). The index is built first under a name of its own,
    and the key added on it in the drop's transaction."""
    before = """\
def upgrade():
    op.create_table("files_object", sa.Column("bucket_id", sa.Integer()),
                    sa.Column("key", sa.Text()), sa.Column("version_id", sa.Integer()),
                    sa.PrimaryKeyConstraint("bucket_id", "key", name="pk_files_object"))
"""
    body = """\
def upgrade():
    op.drop_constraint("pk_files_object", "files_object", type_="primary")
    op.create_primary_key("pk_files_object", "files_object", ["version_id"])
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert finding.hint.splitlines() == [
        '# the table must not be left without "pk_files_object" (dropped at line 10) between '
        "commits:",
        "# build the new index first, under a name of its own, before line 10",
        "with op.get_context().autocommit_block():",
        '    op.create_index("pk_files_object_new", "files_object", ["version_id"], unique=True,',
        "                    postgresql_concurrently=True)",
        '# then drop "pk_files_object" at line 10 as the revision does, and here, in the same '
        "transaction,",
        "# add the key on that index (it takes the key's name):",
        'op.execute(\'ALTER TABLE "files_object" ADD CONSTRAINT "pk_files_object" PRIMARY KEY '
        'USING INDEX "pk_files_object_new"\')',
    ], finding.hint
