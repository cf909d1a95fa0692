"""autocommit-without-transaction-per-migration (MS060): autocommit_block() while env.py runs
every revision in one transaction, which it then commits halfway."""

from __future__ import annotations

import shutil
from pathlib import Path

from migsafe import command

RULE = "autocommit-without-transaction-per-migration"
REPO = Path(__file__).resolve().parents[2]
CONCURRENT = (
    '"""Index users."""\nimport sqlalchemy as sa\nfrom alembic import op\n\n'
    "revision = 'c1'\ndown_revision = '1a2b3c4d5e05'\n\n\ndef upgrade():\n"
    "    with op.get_context().autocommit_block():\n"
    "        op.create_index('ix_users_email', 'users', ['email'], "
    "postgresql_concurrently=True)\n\n\ndef downgrade():\n"
    "    with op.get_context().autocommit_block():\n"
    "        op.drop_index('ix_users_email', table_name='users', "
    "postgresql_concurrently=True)\n"
)


def shop_with(tmp_path: Path, transaction_per_migration: str | None) -> Path:
    project = tmp_path / "shop"
    shutil.copytree(REPO / "examples" / "shop", project)
    (project / "migrations" / "versions" / "c1.py").write_text(CONCURRENT)
    env = project / "migrations" / "env.py"
    text = env.read_text()
    replacement = (
        "" if transaction_per_migration is None
        else f", transaction_per_migration={transaction_per_migration}"
    )  # fmt: skip
    env.write_text(text.replace(", transaction_per_migration=True", replacement))
    return project


def found(project: Path) -> list[tuple[str, int, str]]:
    return [(f.path.name, f.line, f.message) for f in command.check([project]).findings
            if f.rule == RULE]  # fmt: skip


def test_flagged_when_env_py_runs_every_revision_in_one_transaction(tmp_path: Path) -> None:
    findings = found(shop_with(tmp_path, None))
    assert [(name, line) for name, line, _ in findings] == [
        ("2026-11-09_index_orders_by_user.py", 17),  # the shop's own concurrent index
        ("c1.py", 10),
    ]
    assert "commits everything this `alembic upgrade` did before it" in findings[0][2]
    (first, *_) = [f for f in command.check([shop_with(tmp_path / "again", None)]).findings
                   if f.rule == RULE]  # fmt: skip
    assert first.hint.splitlines()[-1] == "    transaction_per_migration=True,"  # one keyword
    # more in the call env.py has (mage-ai's passes render_as_batch=True, kept)


def test_an_explicit_commit_is_named_for_what_it_is(tmp_path: Path) -> None:
    """bodhi's ``op.execute("COMMIT")``, before a concurrent index: no autocommit block."""
    project = shop_with(tmp_path, None)
    script = project / "migrations" / "versions" / "c1.py"
    script.write_text(
        CONCURRENT.replace(
            "    with op.get_context().autocommit_block():\n        op.create_index(",
            "    op.execute('COMMIT')\n    op.create_index(",
            1,
        )
    )
    line, message = next((line, m) for name, line, m in found(project) if name == "c1.py")
    assert (line, message.split(" everything")[0]) == (10, "This COMMIT commits")


HEAD = (
    '"""Backfill."""\nimport sqlalchemy as sa\nfrom alembic import op\n'
    "from sqlalchemy import orm\n\n"
    "revision = 'c1'\ndown_revision = '1a2b3c4d5e05'\n\n\ndef upgrade():\n"
    "    session = orm.Session(bind=op.get_bind())\n"
)
RAISING = """\
    with session.begin():
        session.execute(sa.text("UPDATE users SET email = lower(email)"))
        raise ValueError("what a stood-in model raises")
"""
CAUGHT = """\
    try:
        with session.begin():
            session.execute(sa.text("UPDATE users SET email = lower(email)"))
            raise ValueError("what a stood-in model raises")
    except ValueError:
        pass
"""


def test_a_session_that_raises_rolls_back_only_if_the_migration_goes_on(
    tmp_path: Path,
) -> None:
    """cinder's Session block raised (a stood-in model): the ROLLBACK it set off on the way
    out is no COMMIT, and the function ends there. Caught, the ROLLBACK is the migration's
    path, and undoes what the run did before it (a Session bound to Alembic's connection
    rolls back Alembic's transaction)."""
    project = shop_with(tmp_path, None)
    script = project / "migrations" / "versions" / "c1.py"
    script.write_text(HEAD + RAISING)
    assert [name for name, _, _ in found(project)] == ["2026-11-09_index_orders_by_user.py"]
    script.write_text(HEAD + CAUGHT)
    (message,) = [m for name, _, m in found(project) if name == "c1.py"]
    assert message.startswith(
        "This ROLLBACK undoes everything this `alembic upgrade` did before it, earlier "
        "revisions included, and Alembic goes on as if it had not"
    )


def test_not_flagged_with_transaction_per_migration(tmp_path: Path) -> None:
    assert found(shop_with(tmp_path, "True")) == []


def test_not_flagged_when_env_py_decides_at_run_time(tmp_path: Path) -> None:
    assert found(shop_with(tmp_path, "settings.per_migration")) == []


def test_not_flagged_without_an_env_py(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "c1.py").write_text(CONCURRENT.replace("'1a2b3c4d5e05'", "None"))
    assert [f for f in command.check([versions]).findings if f.rule == RULE] == []


def test_not_flagged_on_the_first_revision_of_a_run(tmp_path: Path) -> None:
    """skypilot's initial revisions build indexes in an autocommit block: nothing ran before
    them to commit; a revision after them is still flagged."""
    project = shop_with(tmp_path, None)
    versions = project / "migrations" / "versions"
    for script in versions.glob("*.py"):
        script.unlink()
    (versions / "c1.py").write_text(
        CONCURRENT.replace("down_revision = '1a2b3c4d5e05'", "down_revision = None")
    )
    (versions / "c2.py").write_text(
        CONCURRENT.replace("revision = 'c1'", "revision = 'c2'")
        .replace("down_revision = '1a2b3c4d5e05'", "down_revision = 'c1'")
        .replace("ix_users_email", "ix_users_name")
    )
    assert [(name, line) for name, line, _ in found(project)] == [("c2.py", 10)]
