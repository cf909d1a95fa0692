"""drop-unnamed-constraint (MS015): op.drop_constraint(None, ...) fails when it runs."""

from __future__ import annotations

from pathlib import Path

from tests.rules.lint import assert_renders, lines_flagged, lint

RULE = "drop-unnamed-constraint"


def test_renders_the_recipe_with_the_users_names(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_foreign_key(None, "orders", "users", ["user_id"], ["id"])

def downgrade():
    op.drop_constraint(None, "orders", type_="foreignkey")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        5: downgrade() drops a constraint of "orders" without naming it: the migration fails when it runs.
        op.drop_constraint("<its name>", "orders", type_="foreignkey")  # psql's \\d "orders" lists it
        # and set a naming convention so autogenerate writes names, e.g.
        # MetaData(naming_convention={
        #     "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"})
        """,  # noqa: E501
        rule=RULE,
    )


def test_a_schema_qualified_table_keeps_its_schema_in_the_recipe(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_constraint(None, "orders", type_="unique", schema="app")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        2: upgrade() drops a constraint of "app"."orders" without naming it: the migration fails when it runs.
        op.drop_constraint("<its name>", "orders", type_="unique", schema="app")  # psql's \\d "app"."orders" lists it
        # and set a naming convention so autogenerate writes names, e.g.
        # MetaData(naming_convention={
        #     "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"})
        """,  # noqa: E501
        rule=RULE,
    )


def test_the_recipe_is_python_that_compiles(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_constraint(None, "orders", type_="check", schema="app")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    compile(finding.hint, "<hint>", "exec")


def test_a_constraint_without_type_gets_no_type_none_in_the_recipe(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_constraint(None, "orders")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.hint.startswith('op.drop_constraint("<its name>", "orders")  #')


def test_both_directions_are_judged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_constraint(None, "orders", type_="foreignkey")

def downgrade():
    op.drop_constraint(None, "orders", type_="unique")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2, 5]


def test_keyword_arguments_are_judged_like_positional_ones(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_constraint(constraint_name=None, table_name="orders", type_="check")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [2]


def test_batch_mode_needs_the_name_too(tmp_path: Path) -> None:
    body = """\
def upgrade():
    pass

def downgrade():
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(None, type_="foreignkey")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [6]


def test_a_naming_convention_name_is_a_name(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_constraint(op.f("fk_orders_user_id_users"), "orders", type_="foreignkey")
    op.drop_constraint("orders_user_id_fkey", "orders", type_="foreignkey")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_raw_sql_always_names_the_constraint(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("ALTER TABLE orders DROP CONSTRAINT orders_user_id_fkey")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_table_created_in_the_same_function_still_needs_the_name(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("orders", sa.Column("id", sa.Integer(), primary_key=True))
    op.drop_constraint(None, "orders", type_="primary")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [3]


def test_each_unnamed_drop_is_its_own_finding(tmp_path: Path) -> None:
    body = """\
def upgrade():
    pass

def downgrade():
    op.drop_constraint(None, "orders", type_="foreignkey")
    op.drop_constraint(None, "orders", type_="unique")
    op.drop_table("orders")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [5, 6]


def test_a_drop_inside_a_try_goes_to_its_handler_as_it_does_under_alembic(
    tmp_path: Path,
) -> None:
    """superset's ``try: ...; op.drop_constraint(None, ...); ... except: pass``: SQLAlchemy
    refuses the drop online as offline, the handler takes the error, and nothing after it in
    the try block runs, so nothing there is judged; the code after the handler still is."""
    body = """\
def upgrade():
    try:
        op.drop_constraint(None, "orders", type_="foreignkey")
        op.drop_column("orders", "user_id")
    except Exception:
        pass
    op.drop_column("orders", "note")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message == (
        'upgrade() drops a constraint of "orders" without naming it: SQLAlchemy refuses it, '
        "the migration's except catches that, and the constraint stays (nor does the rest "
        "of that try block run)."
    )
    assert lines_flagged(tmp_path, body, rule="drop-column") == [7]


def test_a_handler_for_other_errors_does_not_catch_it(tmp_path: Path) -> None:
    body = """\
def upgrade():
    try:
        op.drop_constraint(None, "orders", type_="foreignkey")
    except KeyError:
        pass
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.message.endswith("without naming it: the migration fails when it runs.")


def test_the_one_key_a_table_made_whole_has_is_named(tmp_path: Path) -> None:
    """aim's downgrade drops by None the key its upgrade named ``fk_experiment_note``: the
    recipe names it, since the table has no other; with two, it cannot tell."""
    body = """\
def upgrade():
    op.create_table("note", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("experiment_id", sa.Integer()))
    op.create_foreign_key("fk_experiment_note", "note", "note", ["experiment_id"], ["id"])

def downgrade():
    op.drop_constraint(None, "note", type_="foreignkey")
"""
    (finding,) = lint(tmp_path, body, rule=RULE)
    assert finding.hint.splitlines()[0] == (
        'op.drop_constraint("fk_experiment_note", "note", type_="foreignkey")  # the only '
        'foreign key of "note" when downgrade() starts'
    )
    two = body.replace(
        "\n\ndef downgrade",
        '\n    op.create_foreign_key("fk_two", "note", "note", ["id"], ["id"])\n\ndef downgrade',
    )
    (finding,) = lint(tmp_path, two, rule=RULE)
    assert finding.hint.startswith('op.drop_constraint("<its name>", "note"')
