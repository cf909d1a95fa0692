"""drop-constraint (MS039): the running code may rely on what the constraint guaranteed."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import (
    FIRST_BODY_LINE,
    after_history,
    assert_renders,
    lines_flagged,
    lint,
    lint_with_notices,
)

RULE = "drop-constraint"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_constraint("uq_users_email", "users", type_="unique")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: Dropping unique constraint "uq_users_email" of "users" removes a guarantee the running code may rely on: duplicates are accepted from now on.
        # Make sure no running code relies on "uq_users_email":
        # INSERT ... ON CONFLICT on its columns fails without it, and code that catches
        # the IntegrityError of a duplicate no longer gets one.
        # To replace it, add the new constraint first, in the same revision.
        op.drop_constraint("uq_users_email", "users", type_="unique")
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_schema_qualified_table_keeps_its_schema_in_the_recipe(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_constraint("fk_orders_user_id_users", "orders", type_="foreignkey", schema="app")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: Dropping foreign key "fk_orders_user_id_users" of "app"."orders" removes a guarantee the running code may rely on: references are no longer enforced.
        # Make sure no running code relies on "fk_orders_user_id_users":
        # rows may point at rows that do not exist, and no ON DELETE action runs.
        # To replace it, add the new constraint first, in the same revision.
        op.drop_constraint("fk_orders_user_id_users", "orders", type_="foreignkey", schema="app")
        """,  # noqa: E501
        rule=RULE,
    )


BEFORE = """\
def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("email", sa.Text()), sa.Column("org", sa.Integer()),
                    sa.Column("age", sa.Integer()),
                    sa.UniqueConstraint("email", name="uq_users_email"),
                    sa.UniqueConstraint("org", name="uq_users_org"),
                    sa.CheckConstraint("age > 0", name="ck_users_age"))
"""


def history_lines(write_migration, body: str) -> list[int]:
    """The lines of ``body`` the rule flags, in a revision after BEFORE."""
    findings = after_history(write_migration, BEFORE, body, rule=RULE)
    return [f.line - FIRST_BODY_LINE + 1 for f in findings]


def test_what_the_earlier_revisions_made_names_what_is_lost(write_migration) -> None:
    body = 'def upgrade():\n    op.execute("ALTER TABLE users DROP CONSTRAINT ck_users_age")\n'
    (finding,) = after_history(write_migration, BEFORE, body, rule=RULE)
    assert finding.message == (
        'Dropping check constraint "ck_users_age" of "users" removes a guarantee the running '
        "code may rely on: rows breaking CHECK (age > 0) are accepted from now on."
    )
    assert finding.hint.endswith('op.drop_constraint("ck_users_age", "users", type_="check")')


def test_a_unique_index_on_the_same_columns_replaces_a_unique_constraint(
    write_migration,
) -> None:
    body = """\
def upgrade():
    op.drop_constraint("uq_users_email", "users")
    op.create_index("ix_users_email", "users", ["email"], unique=True)
    op.drop_constraint("uq_users_org", "users")
    op.create_index("ix_users_org", "users", ["org"], unique=True, postgresql_where="org > 0")
"""
    assert history_lines(write_migration, body) == [4]  # a partial index is no replacement


def test_constraints_that_go_with_their_columns_or_table_are_left_to_those_rules(
    write_migration,
) -> None:
    body = """\
def upgrade():
    op.drop_constraint("uq_users_org", "users")
    op.drop_column("users", "org")
    op.drop_constraint("uq_users_email", "users")
    op.drop_table("users")
"""
    assert history_lines(write_migration, body) == []


def test_dropping_if_exists_what_the_history_never_made_changes_nothing(write_migration) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE users DROP CONSTRAINT IF EXISTS users_legacy_key")
    op.execute("ALTER TABLE users DROP CONSTRAINT IF EXISTS uq_users_email")
"""
    assert history_lines(write_migration, body) == [3]


def test_raw_sql_and_batch_mode_are_flagged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE orders DROP CONSTRAINT fk_orders_user_id_users")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_constraint("ck_users_age", type_="check")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2, 4]


def test_a_constraint_added_again_under_its_name_is_a_replacement(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_constraint("fk_orders_user_id_users", "orders", type_="foreignkey")
    op.create_foreign_key("fk_orders_user_id_users", "orders", "users", ["user_id"], ["id"],
                          ondelete="CASCADE")
    op.drop_constraint("fk_orders_shop_id_shops", "orders", type_="foreignkey")
    op.create_foreign_key("fk_orders_shop_id_shops", "items", "shops", ["shop_id"], ["id"])
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5]  # the new one is on another table


def test_alone_a_key_or_check_added_back_under_its_name_is_not_shown_to_be_one(
    tmp_path: Path,
) -> None:
    """mlflow's metric_pk on a table its history never made: a primary key, a unique
    constraint or a CHECK has nothing to change but its columns or condition, unknown here
    (squawk's ban-drop-constraint rightly flags it); a foreign key's options are what such a
    revision usually changes."""
    body = """\
def upgrade():
    with op.batch_alter_table("metrics") as batch_op:
        batch_op.drop_constraint(constraint_name="metric_pk", type_="primary")
        batch_op.create_primary_key(constraint_name="metric_pk",
                                    columns=["key", "timestamp", "step"])
    op.drop_constraint("uq_users_email", "users", type_="unique")
    op.create_unique_constraint("uq_users_email", "users", ["email", "tenant_id"])
    op.drop_constraint("ck_runs_status", "runs", type_="check")
    op.create_check_constraint("ck_runs_status", "runs", "status IN ('RUNNING', 'KILLED')")
    op.drop_constraint("fk_runs_experiment_id", "runs", type_="foreignkey")
    op.create_foreign_key("fk_runs_experiment_id", "runs", "experiments", ["experiment_id"],
                          ["id"], ondelete="CASCADE")
"""
    findings = lint(tmp_path, body, rule=RULE)
    assert [f.line - FIRST_BODY_LINE + 1 for f in findings] == [3, 6, 8]
    assert findings[0].message.endswith(
        f'line {FIRST_BODY_LINE + 3} adds it back on ("key", "timestamp", "step"), and what it '
        "was on before is not known from the history: check that it guards what the old one did."
    )
    assert findings[2].message.endswith(
        f"line {FIRST_BODY_LINE + 8} adds it back as CHECK (status IN ('RUNNING', 'KILLED'))."
    )
    # the recipe says what to check of a constraint added back, not to add one first
    # (indico-plugin-livesync: its kind was not known, the message says it is a CHECK)
    assert findings[2].hint.splitlines()[1:4] == [
        f"# line {FIRST_BODY_LINE + 8} adds it back in the same transaction: no other "
        "session sees it missing.",
        "# Check that the running code writes nothing the new definition refuses, and expects",
        "# what it accepts.",
    ]


def test_a_constraint_added_back_after_a_commit_leaves_a_gap(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_constraint("ck_runs_status", "runs", type_="check")
    with op.get_context().autocommit_block():
        op.execute("SELECT 1")
    op.create_check_constraint("ck_runs_status", "runs", "status IN ('RUNNING', 'KILLED')")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.hint.splitlines()[1] == (
        f"# line {FIRST_BODY_LINE + 4} adds it back after a commit: until then nothing enforces it."
    )


def test_a_replacement_after_the_table_is_renamed_is_still_one(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_constraint("dataset_event_fkey", "dataset_event", type_="foreignkey")
    op.rename_table("dataset_event", "asset_event")
    op.create_foreign_key("dataset_event_fkey", "asset_event", "asset", ["asset_id"], ["id"])
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_constraint_made_in_the_same_revision_has_no_running_code(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_check_constraint("ck_orders_total", "orders", "total >= 0")
    op.drop_constraint("ck_orders_total", "orders", type_="check")
    op.create_table("tags", sa.Column("id", sa.Integer()),
                    sa.UniqueConstraint("id", name="uq_tags_id"))
    op.drop_constraint("uq_tags_id", "tags", type_="unique")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_downgrade_that_drops_what_the_upgrade_added_is_the_rollback(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_unique_constraint("uq_users_email", "users", ["email"])

def downgrade():
    op.drop_constraint("uq_users_email", "users", type_="unique")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_added_back_under_its_name_on_other_columns_changes_the_guarantee(
    write_migration,
) -> None:
    """mlflow's metric_pk, widened by a column: rows the old key refused are accepted."""
    metrics = """\
def upgrade():
    op.create_table("metrics", sa.Column("key", sa.Text()), sa.Column("run_uuid", sa.Text()),
                    sa.Column("step", sa.Integer()),
                    sa.PrimaryKeyConstraint("key", "run_uuid", name="metric_pk"))
"""
    body = """\
def upgrade():
    op.drop_constraint("metric_pk", "metrics", type_="primary")
    op.create_primary_key("metric_pk", "metrics", {columns})
"""
    widened = body.format(columns='["key", "run_uuid", "step"]')
    (finding,) = after_history(write_migration, metrics, widened, rule=RULE)
    assert finding.message.startswith('Dropping primary key "metric_pk" of "metrics"')
    assert finding.message.endswith(
        'line 11 adds it back on ("key", "run_uuid", "step") instead of ("key", "run_uuid").'
    )
    same = body.format(columns='["key", "run_uuid"]')
    assert after_history(write_migration, metrics, same, rule=RULE) == []


def test_a_check_added_back_says_how_its_condition_changed(write_migration) -> None:
    before = """\
def upgrade():
    op.create_table("annotations", sa.Column("kind", sa.Text()),
                    sa.CheckConstraint("kind IN ('LLM', 'HUMAN')", name="valid_kind"))
"""
    body = """\
def upgrade():
    with op.batch_alter_table("annotations") as batch_op:
        batch_op.drop_constraint("valid_kind", type_="check")
        batch_op.create_check_constraint("valid_kind", {condition})
"""
    wider = body.format(condition="\"kind IN ('LLM', 'CODE', 'HUMAN')\"")
    (finding,) = after_history(write_migration, before, wider, rule=RULE)
    assert finding.message.endswith(
        "line 12 adds it back as CHECK (kind IN ('LLM', 'CODE', 'HUMAN')) instead of "
        "CHECK (kind IN ('LLM', 'HUMAN'))."
    )
    same = body.format(condition="\"kind IN ('LLM', 'HUMAN')\"")
    assert after_history(write_migration, before, same, rule=RULE) == []


def test_a_primary_key_on_the_same_columns_keeps_a_unique_constraints_guarantee(
    write_migration,
) -> None:
    before = """\
def upgrade():
    op.create_table("team", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("name", sa.Text()), sa.UniqueConstraint("name", name="team_name_uq"))
"""
    body = """\
def upgrade():
    with op.batch_alter_table("team") as batch_op:
        batch_op.drop_constraint("team_pkey", type_="primary")
        batch_op.drop_constraint("team_name_uq", type_="unique")
        batch_op.drop_column("id")
        batch_op.create_primary_key("team_pkey", ["name"])
"""
    assert after_history(write_migration, before, body, rule=RULE) == []


def test_nothing_is_said_when_upgrade_was_not_captured_to_its_end(tmp_path: Path) -> None:
    """backend.ai's revision re-adds its keys after the line where the capture stopped:
    whether a dropped key is replaced cannot be told, so it is not judged."""
    body = """\
def upgrade():
    op.drop_constraint("fk_kernels_session", "kernels", type_="foreignkey")
    raise RuntimeError("needs the application's settings")
    op.create_foreign_key("fk_kernels_session", "kernels", "sessions", ["session_id"], ["id"])
"""
    findings, notices = lint_with_notices(tmp_path, body, rule=RULE)
    assert findings == [] and "RuntimeError" in notices[0].message
    assert lines_flagged(tmp_path, body.replace("    raise Runtime", "    # raise Runtime"),
                         rule=RULE) == []  # fmt: skip
    without = body.replace("    raise Runtime", "    # raise Runtime").replace(
        "    op.create_foreign_key", "    # op.create_foreign_key"
    )
    assert lines_flagged(tmp_path, without, rule=RULE) == [2]


def test_a_unique_constraint_on_fewer_columns_still_keeps_rows_distinct(write_migration) -> None:
    """cloudkitty drops its unique constraint on (field_id, name) while one on field_id
    alone stays: no duplicate can get in; what breaks is ON CONFLICT on the two columns."""
    before = """\
def upgrade():
    op.create_table("fields", sa.Column("field_id", sa.Integer()), sa.Column("name", sa.Text()),
                    sa.UniqueConstraint("field_id", name="uq_fields_field_id"),
                    sa.UniqueConstraint("field_id", "name", name="uniq_field"))
"""
    body = 'def upgrade():\n    op.drop_constraint("uniq_field", "fields", type_="unique")\n'
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert "duplicates" not in finding.message
    assert finding.message.endswith(
        'INSERT ... ON CONFLICT ("field_id", "name") finds no constraint to use from now on '
        '(rows stay distinct: a unique constraint on ("field_id") remains).'
    )


def test_the_message_names_the_columns_as_they_are_at_the_drop(write_migration) -> None:
    """designate drops its foreign keys, then renames ``domain_id`` to ``zone_id``: at the
    drop the column is still ``domain_id``."""
    before = """\
def upgrade():
    op.create_table("domains", sa.Column("id", sa.Integer(), primary_key=True))
    op.create_table("records", sa.Column("id", sa.Integer()),
                    sa.Column("domain_id", sa.Integer(),
                              sa.ForeignKey("domains.id", name="fk_records_domain")))
"""
    body = """\
def upgrade():
    op.drop_constraint("fk_records_domain", "records", type_="foreignkey")
    op.alter_column("records", "domain_id", new_column_name="zone_id")
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert 'references ("domain_id")' in finding.message and "zone_id" not in finding.message


def test_the_recipe_keeps_if_exists(tmp_path: Path) -> None:
    """faraday drops a constraint no revision made with ``DROP CONSTRAINT IF EXISTS``: the
    recipe's drop keeps it, or it fails wherever the constraint is absent."""
    body = """\
def upgrade():
    op.execute("ALTER TABLE vulnerability DROP CONSTRAINT IF EXISTS check_vulnerability_risk")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.hint.endswith(
        'op.drop_constraint("check_vulnerability_risk", "vulnerability", if_exists=True)'
    )


def test_a_primary_key_dropped_by_another_name_is_the_table_s_key(write_migration) -> None:
    """invenio-files-rest created its primary key unnamed and drops it by its naming
    convention's name: a table has one primary key, and the history knows its columns.
    (Where the schema is known whole, a name it does not have is object-does-not-exist's:
    here a revision before was not captured to its end.)"""
    before = """\
def upgrade():
    op.create_table("files_object", sa.Column("bucket_id", sa.Integer(), nullable=False),
                    sa.Column("version_id", sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint("bucket_id", "version_id"))
    raise RuntimeError("the rest needs the application")
"""
    body = """\
def upgrade():
    op.drop_constraint("pk_files_object", "files_object", type_="primary")
    op.create_primary_key("pk_files_object", "files_object", ["version_id"])
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert 'instead of ("bucket_id", "version_id")' in finding.message


def test_a_primary_key_added_back_using_an_index_is_on_its_columns(write_migration) -> None:
    """qcfractal: ``ADD CONSTRAINT user_session_pkey PRIMARY KEY USING INDEX ...`` over a
    unique index on ``public_id``; the key is added back on that column, not on ()."""
    before = """\
def upgrade():
    op.create_table("s", sa.Column("session_id", sa.Integer(), primary_key=True))
"""
    body = """\
def upgrade():
    op.add_column("s", sa.Column("public_id", sa.Integer(), nullable=False))
    op.drop_constraint("s_pkey", "s")
    op.execute("CREATE UNIQUE INDEX s_pkey ON s USING btree (public_id)")
    op.execute("ALTER TABLE s ADD CONSTRAINT s_pkey PRIMARY KEY USING INDEX s_pkey")
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert finding.message.endswith('adds it back on ("public_id") instead of ("session_id").')


def test_a_unique_constraint_made_again_on_its_columns_in_another_order(
    write_migration,
) -> None:
    """reana-db replaces ``uq_workflow_name (name, owner_id)`` by ``uq_workflow_owner_id
    (owner_id, name)``: the same rows are refused."""
    before = """\
def upgrade():
    op.create_table("workflow", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("name", sa.Text()), sa.Column("owner_id", sa.Integer()))
    op.create_unique_constraint("uq_workflow_name", "workflow", ["name", "owner_id"])
"""
    body = """\
def upgrade():
    op.drop_constraint("uq_workflow_name", "workflow", type_="unique")
    op.create_unique_constraint("uq_workflow_owner_id", "workflow", ["owner_id", "name"])
"""
    assert after_history(write_migration, before, body, rule=RULE) == []


def test_a_key_dropped_while_a_unique_constraint_on_its_columns_stays(write_migration) -> None:
    """rucio drops its history tables' primary keys, which a unique constraint on the same
    columns duplicates: rows stay distinct and ON CONFLICT still finds an arbiter; the
    table has no primary key any more. A duplicate unique constraint goes unremarked."""
    before = """\
def upgrade():
    op.create_table("h", sa.Column("section", sa.Text(), nullable=False),
                    sa.Column("opt", sa.Text(), nullable=False))
    op.create_primary_key("h_pk", "h", ["section", "opt"])
    op.create_unique_constraint("h_uq", "h", ["opt", "section"])
    op.create_unique_constraint("h_uq2", "h", ["section", "opt"])
"""
    body = """\
def upgrade():
    op.drop_constraint("h_uq2", "h", type_="unique")
    op.drop_constraint("h_pk", "h", type_="primary")
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert finding.message.endswith(
        "the table has no primary key from now on (a unique constraint on the same columns "
        "still keeps rows distinct, and INSERT ... ON CONFLICT uses it)."
    )


def test_a_key_of_a_table_made_elsewhere_added_back_unnamed_replaces_it(tmp_path: Path) -> None:
    """letta drops ``blocks_agents_agent_id_fkey`` and adds the key back unnamed, with ON
    DELETE CASCADE: PostgreSQL names it as before. The table is not the history's, so the
    columns are not known, but the name says the same key came back."""
    body = """\
def upgrade():
    op.drop_constraint("blocks_agents_agent_id_fkey", "blocks_agents", type_="foreignkey")
    op.create_foreign_key(None, "blocks_agents", "agents", ["agent_id"], ["id"],
                          ondelete="CASCADE")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_key_named_for_a_column_dropped_after_it_goes_with_the_column(tmp_path: Path) -> None:
    """letta drops ``agent_passages_agent_id_fkey``, then ``agent_id``: drop-column says what
    breaks. A key named for another column is still a lost guarantee."""
    body = """\
def upgrade():
    op.drop_constraint("agent_passages_agent_id_fkey", "agent_passages", type_="foreignkey")
    op.drop_column("agent_passages", "agent_id")
    op.drop_constraint("agent_passages_source_id_fkey", "agent_passages", type_="foreignkey")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]


def test_a_replacement_under_another_name_is_named(write_migration) -> None:
    """qcfractal drops ``ux_..._hash`` and adds ``ux_..._specification_hash`` on the same
    table: the message says what replaces it, not that nothing is enforced."""
    body = """\
def upgrade():
    op.drop_constraint("uq_users_email", "users", type_="unique")
    op.create_unique_constraint("uq_users_email_org", "users", ["email", "org"])
"""
    (finding,) = after_history(write_migration, BEFORE, body, rule=RULE)
    assert finding.message.endswith(
        f'line {FIRST_BODY_LINE + 2} adds it back on ("email", "org") instead of ("email").'
    )
    assert (
        f"# line {FIRST_BODY_LINE + 2} adds it back as 'uq_users_email_org' in the same transaction"
    ) in finding.hint


def test_a_constraint_the_history_added_to_a_table_it_only_altered_is_known(
    write_migration,
) -> None:
    """qcfractal adds ``ux_neb_specification_keys`` to a table its history never made, and
    a later revision drops it and adds it back NULLS NOT DISTINCT: what it was on is known."""
    before = """\
def upgrade():
    op.create_unique_constraint("ux_neb_keys", "neb_specification", ["a", "b"])
"""
    body = """\
def upgrade():
    op.drop_constraint("ux_neb_keys", "neb_specification", type_="unique")
    op.create_unique_constraint("ux_neb_keys", "neb_specification", ["a", "b"],
                                postgresql_nulls_not_distinct=True)
"""
    findings = after_history(write_migration, before, body, rule=RULE)
    assert all("is not known from the history" not in f.message for f in findings)


def test_a_key_one_of_whose_columns_is_dropped_after_goes_with_it(write_migration) -> None:
    """qcfractal drops the key on (owner_user_id, owner_group_id), then owner_group_id:
    PostgreSQL would drop the key with that column; drop-column says what breaks."""
    before = """\
def upgrade():
    op.create_table("ds", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("u", sa.Integer()), sa.Column("g", sa.Integer()),
                    sa.UniqueConstraint("u", "g", name="uq_ds_owner"))
"""
    body = """\
def upgrade():
    op.drop_constraint("uq_ds_owner", "ds", type_="unique")
    op.drop_column("ds", "g")
"""
    assert after_history(write_migration, before, body, rule=RULE) == []


def test_a_primary_key_dropped_by_another_name_is_not_kept_by_itself(write_migration) -> None:
    """octavia drops MySQL's ``PRIMARY`` (PostgreSQL's ``listener_statistics_pkey``) and adds
    a key on more columns: the message said a unique constraint on the same columns
    remained, which was the dropped key itself."""
    before = """\
def upgrade():
    op.create_table("listener_statistics", sa.Column("listener_id", sa.String(36),
                                                     primary_key=True),
                    sa.Column("amphora_id", sa.String(36)))
    raise RuntimeError("the rest needs the application")
"""
    body = """\
def upgrade():
    op.drop_constraint("PRIMARY", "listener_statistics", type_="primary")
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert "still keeps rows distinct" not in finding.message
    assert 'duplicates in ("listener_id") are accepted from now on' in finding.message


def test_a_drop_with_cascade_keeps_it_in_the_recipe(write_migration) -> None:
    """invenio-accounts drops its role table's primary key CASCADE (a foreign key depends on
    it); the recipe's ``op.drop_constraint()``, which has no CASCADE, would fail there: the
    statement is kept as written."""
    before = """\
def upgrade():
    op.create_table("roles", sa.Column("id", sa.Integer(), primary_key=True))
    op.create_table("members", sa.Column("role_id", sa.Integer(), sa.ForeignKey("roles.id")))
"""
    body = """\
def upgrade():
    op.execute("ALTER TABLE roles DROP CONSTRAINT roles_pkey CASCADE")
"""
    (finding,) = after_history(write_migration, before, body, rule=RULE)
    assert finding.hint.splitlines()[-1] == (
        'op.execute("ALTER TABLE roles DROP CONSTRAINT roles_pkey CASCADE")'
    ), finding.hint
