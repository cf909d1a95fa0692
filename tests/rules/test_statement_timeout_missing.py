"""statement-timeout-missing (MS059, opt-in): nothing bounds how long a statement holds its
lock."""

from __future__ import annotations

from pathlib import Path

from tests.rules.envpy import findings, lines

RULE = "statement-timeout-missing"


def test_names_the_table_and_its_lock(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.alter_column("users", "email", type_=sa.Text(), schema="app")
"""
    (finding,) = findings(tmp_path, body, rule=RULE)
    assert finding.message == (
        'Nothing bounds how long this statement on "app"."users" runs, holding its ACCESS '
        "EXCLUSIVE lock: no statement_timeout is set."
    )
    assert "SET statement_timeout = '15min'" in finding.hint


def test_a_set_before_counts(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("SET statement_timeout = '10min'")
    op.add_column("users", sa.Column("a", sa.Text()))
"""
    assert lines(tmp_path, body, rule=RULE) == []


def test_autocommit_blocks_and_new_tables_are_not_judged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.create_table("t", sa.Column("id", sa.Integer()))
    op.add_column("t", sa.Column("a", sa.Text()))
    with op.get_context().autocommit_block():
        op.create_index("ix_users_a", "users", ["a"], postgresql_concurrently=True)
"""
    assert lines(tmp_path, body, rule=RULE) == []


def test_downgrades_are_not_judged(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.execute("SET statement_timeout = '10min'")
    op.add_column("users", sa.Column("a", sa.Text()))

def downgrade():
    op.drop_column("users", "a")
"""
    assert lines(tmp_path, body, rule=RULE) == []


def test_it_runs_only_when_selected(write_migration) -> None:
    from migsafe import command
    from migsafe.config import Overrides

    path = write_migration("def upgrade():\n    op.add_column('u', sa.Column('a', sa.Text()))\n")
    (path.parent.parent / "env.py").write_text("from alembic import context\n")
    assert RULE not in {f.rule for f in command.check([path.parent]).findings}
    selected = command.check([path.parent], overrides=Overrides(extend_select=(RULE,)))
    assert RULE in {f.rule for f in selected.findings}
