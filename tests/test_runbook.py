"""migsafe runbook: the phase of each revision (before the deploy, after it, a maintenance
window), the call-out of a revision to split, the locks, timeouts, commands, checks after and
rollback path; the classification of statements behind it; its formats, pinned on the fixture
project tests/fixtures/runbook (regenerate with MIGSAFE_UPDATE_GOLDEN=1)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from migsafe import command
from migsafe.cache import ResultCache
from migsafe.cli import cli
from migsafe.errors import MigsafeError
from migsafe.findings import ChangeKind
from migsafe.report import format_names, renderer
from migsafe.report.runbook import markdown
from migsafe.rollout.plan import Phase, Rollback, Runbook
from tests.conftest import migration_source
from tests.test_golden import REPO, assert_golden, run

FIXTURE = REPO / "tests" / "fixtures" / "runbook"
ALEMBIC = "alembic -c tests/fixtures/runbook/alembic.ini"


@pytest.fixture(scope="module")
def plan() -> Runbook:
    """The fixture's runbook, made as from the repository root (paths shown from there)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(REPO)
        return command.runbook(Path("tests/fixtures/runbook"))


def steps(runbook: Runbook) -> dict[str, object]:
    return {step.revision: step for step in runbook.steps}


@pytest.mark.parametrize("output_format", format_names("runbook"))
def test_runbook_output(output_format: str, monkeypatch: pytest.MonkeyPatch) -> None:
    code, output = run(
        monkeypatch, "runbook", "tests/fixtures/runbook", "--no-cache", "--format", output_format
    )
    assert code == 0  # a plan, not a gate: a maintenance window is no failure
    assert_golden(f"runbook.{output_format}", output, output_format)


def test_each_revision_gets_its_phase(plan: Runbook) -> None:
    phases = {step.revision: step.phase for step in plan.steps}
    assert phases == {
        "rb01": Phase.BEFORE_DEPLOY,  # new tables
        "rb02": Phase.BEFORE_DEPLOY,  # new table, nullable columns, index built concurrently
        "rb03": Phase.MAINTENANCE,  # int4 → int8 rewrites orders under ACCESS EXCLUSIVE
        "rb04": Phase.BEFORE_DEPLOY,  # a backfill
        "rb05": Phase.AFTER_DEPLOY,  # drop column, SET NOT NULL
        "rb06": Phase.AFTER_DEPLOY,  # a rename: both at once
    }
    assert plan.exit_code == 0
    assert plan.steps[plan.deploy_at].revision == "rb05"
    by_id = steps(plan)
    assert [s.revision for s in plan.steps if s.mixed] == ["rb06"]
    assert 'add "users"."full_name" here' in by_id["rb06"].split[0]
    assert [f.rule for f in by_id["rb03"].blocking] == ["change-column-type"]
    assert by_id["rb05"].blocking == ()  # set-not-null is a warning: no window
    assert [f.rule for f in by_id["rb05"].findings] == ["drop-column", "set-not-null"]


def test_changes_locks_timeouts_and_checks(plan: Runbook) -> None:
    rb02, rb03, rb04 = (steps(plan)[r] for r in ("rb02", "rb03", "rb04"))
    assert [(str(c.kind), c.what) for c in rb02.changes] == [
        ("expand", 'create table "accounts"'),
        ("expand", 'add column "users"."account_id"'),
        ("expand", 'add column "users"."nickname"'),
        ("expand", 'add foreign key "fk_users_account_id" on "users" NOT VALID'),
        ("expand", 'create index "ix_users_nickname" on "users" concurrently'),
    ]
    assert [(lock.table, lock.mode) for lock in rb02.locks] == [('"users"', "ACCESS EXCLUSIVE")]
    assert rb02.locks[0].blocks == "all reads and writes"
    assert rb02.timeouts.lock_timeout == "5s"
    assert rb02.timeouts.lifted_for == ('create index "ix_users_nickname" on "users" concurrently',)
    assert ["INVALID" in c.what for c in rb02.checks] == [True, False]
    assert "convalidated" in rb02.checks[1].sql and "'\"users\"'::regclass" in rb02.checks[1].sql
    assert rb02.commands == (f"{ALEMBIC} upgrade rb02",)
    assert [c.sql for c in rb03.checks] == ['ANALYZE "orders";']
    assert [c.sql for c in rb04.checks] == ['ANALYZE "users";']
    assert plan.before == (
        "migsafe check tests/fixtures/runbook",
        "migsafe roundtrip tests/fixtures/runbook --from rb01 --to rb06",
    )


def test_rollback_paths_without_a_roundtrip(plan: Runbook) -> None:
    rollback = {step.revision: step.rollback for step in plan.steps}
    assert rollback == {
        **dict.fromkeys(["rb01", "rb02", "rb03", "rb05", "rb06"], Rollback.NOT_ROUNDTRIPPED),
        "rb04": Rollback.ONE_WAY,
    }
    by_id = steps(plan)
    assert by_id["rb04"].rollback_text == "one-way (downgrade raises): roll forward instead"
    assert by_id["rb04"].rollback_command is None
    assert by_id["rb01"].rollback_command.endswith("downgrade base")
    # a line of revisions: down to its parent (``rb03@-1`` counts from the current head,
    # and undid the last revision applied, whichever it was)
    assert by_id["rb03"].rollback_command.endswith("downgrade rb02")


def test_in_a_history_that_branches_the_rollback_stays_on_its_branch(write_migration) -> None:
    """Down to the parent would also take back the sibling branch applied since."""
    from migsafe import command

    write_migration(_made_and_dropped("a"), revision="a1", name="1_a1.py")
    write_migration(_made_and_dropped("b"), "b1", "a1", name="2_b1.py")
    path = write_migration(_made_and_dropped("c"), "c1", "a1", name="3_c1.py")
    plan = command.runbook([path.parent])
    commands = {step.revision: step.rollback_command for step in plan.steps}
    assert commands["b1"].endswith("downgrade b1@-1")
    assert commands["c1"].endswith("downgrade c1@-1")
    assert commands["a1"].endswith("downgrade base")


def test_a_roundtrip_report_gives_the_rollback_paths(
    server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from migsafe.roundtrip import RoundtripOptions

    monkeypatch.chdir(REPO)
    result = command.roundtrip(FIXTURE, RoundtripOptions(postgres=server_url))
    report = tmp_path / "roundtrip.json"
    with report.open("w", encoding="utf-8") as out:
        renderer("roundtrip", "json")(result, out)
    planned = command.runbook(FIXTURE, roundtrip_json=report)
    assert {s.revision: s.rollback for s in planned.steps} == {
        **dict.fromkeys(["rb01", "rb02", "rb03", "rb05", "rb06"], Rollback.ROUNDTRIPPED),
        "rb04": Rollback.ONE_WAY,
    }
    assert steps(planned)["rb01"].rollback_text == "downgrade exists and passed roundtrip"
    assert planned.roundtrip == report
    text = io.StringIO()
    renderer("runbook", "text")(planned, text)
    assert text.getvalue().count("rollback: downgrade exists and passed roundtrip") == 5
    assert "not roundtripped" not in text.getvalue()


def test_a_report_of_another_version_of_a_file_is_not_trusted(tmp_path: Path) -> None:
    """A report is matched to the files it ran by their digest: one made before an edit
    (or in another checkout) said a downgrade that now fails had passed."""
    from migsafe.footprint import file_digest

    report = tmp_path / "roundtrip.json"
    rb01 = next(FIXTURE.rglob("*rb01*.py"))
    revisions = [
        {"revision": "rb01", "verdict": "ok", "digest": file_digest(rb01)},
        {"revision": "rb02", "verdict": "ok", "digest": "0" * 32},
        {"revision": "rb03", "verdict": "ok"},  # a report without digests is taken as it is
    ]
    report.write_text(json.dumps({"schema_version": 1, "revisions": revisions}))
    by_id = steps(command.runbook(FIXTURE, roundtrip_json=report))
    assert by_id["rb01"].rollback is Rollback.ROUNDTRIPPED
    assert by_id["rb03"].rollback is Rollback.ROUNDTRIPPED
    assert by_id["rb02"].rollback is Rollback.NOT_ROUNDTRIPPED
    assert by_id["rb02"].rollback_text == (
        "downgrade exists; the roundtrip report is of another version of this file: "
        "roundtrip it again"
    )


def test_a_failed_roundtrip_is_the_rollback_path(tmp_path: Path) -> None:
    report = tmp_path / "roundtrip.json"
    verdicts = [("rb01", "ok"), ("rb02", "downgrade-leaves-trace"), ("rb03", "upgrade-failed")]
    revisions = [{"revision": r, "verdict": v} for r, v in verdicts]
    report.write_text(json.dumps({"schema_version": 1, "revisions": revisions}))
    by_id = steps(command.runbook(FIXTURE, roundtrip_json=report))
    assert by_id["rb01"].rollback is Rollback.ROUNDTRIPPED
    assert by_id["rb02"].rollback is Rollback.FAILED_ROUNDTRIP
    assert "(downgrade-leaves-trace)" in by_id["rb02"].rollback_text
    assert by_id["rb03"].rollback is Rollback.NOT_ROUNDTRIPPED
    assert by_id["rb03"].notes == (
        "the roundtrip did not upgrade it (upgrade-failed): fix that before the rollout",
    )
    assert by_id["rb05"].rollback is Rollback.NOT_ROUNDTRIPPED  # not in the report


def git(repository: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repository), *args], capture_output=True, check=True)


def test_since_plans_only_the_changed_revisions(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(FIXTURE, project)
    versions = project / "migrations" / "versions"
    later = {path.name: path.read_text() for path in sorted(versions.glob("rb0[456]*.py"))}
    for name in later:
        (versions / name).unlink()
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "config", "user.email", "dev@example.com")
    git(tmp_path, "config", "user.name", "dev")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "deployed")
    git(tmp_path, "checkout", "-q", "-b", "feature")
    for name, text in later.items():
        (versions / name).write_text(text)
    planned = command.runbook(project, since="main")
    assert [s.revision for s in planned.steps] == ["rb04", "rb05", "rb06"]
    assert planned.selection == "the revisions changed since main"
    assert planned.before[1].endswith("--since main")
    assert planned.steps[0].commands[0].endswith("upgrade rb04")


def test_from_and_to_select_by_id_or_prefix(plan: Runbook) -> None:
    planned = command.runbook(FIXTURE, start="rb02", stop="rb03")
    assert [s.revision for s in planned.steps] == ["rb02", "rb03"]
    assert [s.phase for s in planned.steps] == [Phase.BEFORE_DEPLOY, Phase.MAINTENANCE]
    assert planned.before[1].endswith("--from rb02 --to rb03")
    assert [s.revision for s in command.runbook(FIXTURE, start="rb05").steps] == ["rb05", "rb06"]


def test_the_cache_keeps_the_plan(
    tmp_path: Path, plan: Runbook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    cache = ResultCache(tmp_path / "cache")
    first = command.runbook(FIXTURE, cache=cache)
    again = command.runbook(FIXTURE, cache=cache)
    assert list((tmp_path / "cache" / "check").glob("*.json"))
    assert again.steps == first.steps == plan.steps


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--roundtrip", "missing.json"], "missing.json: cannot read the roundtrip report"),
        (["--from", "zz"], "--from zz: no such revision in this history"),
        (["--from", "rb0"], "--from rb0 is ambiguous"),
        (["--since", "main", "--to", "rb02"], "--since selects the revisions by git"),
    ],
)
def test_bad_input_is_one_line(
    arguments: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(cli, ["runbook", "tests/fixtures/runbook", *arguments])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not JSON"),
        ('{"schema_version": 1, "passed": true}', "no list of revisions"),
        ('{"schema_version": 2, "revisions": []}', "schema_version 2"),
        ('{"schema_version": 1, "revisions": [{"revision": "a"}]}', "without its id or verdict"),
    ],
)
def test_a_file_that_is_no_roundtrip_report(content: str, message: str, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text(content)
    with pytest.raises(MigsafeError, match=message) as raised:
        command.runbook(FIXTURE, roundtrip_json=report)
    assert str(report) in str(raised.value)


def test_outputs_and_help(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    target = tmp_path / "plan.md"
    result = CliRunner().invoke(
        cli, ["runbook", "tests/fixtures/runbook", "--format", "json", "-o", f"markdown={target}"]
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout)["deploy_before"] == "rb05"
    assert target.read_text().startswith("## migsafe runbook: 6 revisions")
    help_text = CliRunner().invoke(cli, ["runbook", "--help"]).stdout
    assert "Exit codes: 0 a plan was made" in help_text


def test_markdown_stays_under_its_budget(plan: Runbook) -> None:
    full = markdown.document(plan)
    assert "<details>" in full and len(full.encode()) < 20_000
    cut = markdown.document(plan, budget=len(full.encode()) - 1)
    assert "<details>" not in cut and "left out" in cut
    assert "🛑 `rb03` needs a maintenance window" in cut  # the call-outs stay


def plan_of(write_migration, *bodies: str) -> Runbook:
    """The runbook of revisions r1, r2, ... (each on the one before) of ``bodies``."""
    path = None
    for number, body in enumerate(bodies, start=1):
        parent = f"r{number - 1}" if number > 1 else None
        path = write_migration(body, revision=f"r{number}", down_revision=parent)
    return command.runbook(path.parent)


BASE = """\
def upgrade():
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(50)),
        sa.Column("email", sa.Text()),
    )
    op.create_index("ix_users_name", "users", ["name"])

def downgrade():
    op.drop_table("users")
"""


def changes_of(write_migration, body: str) -> list[tuple[str, str]]:
    planned = plan_of(write_migration, BASE, body)
    return [(str(c.kind), c.what) for c in planned.steps[-1].changes]


@pytest.mark.parametrize(
    ("upgrade", "expected"),
    [
        (
            'op.add_column("users", sa.Column("age", sa.Integer(), nullable=False))',
            ("breaking", 'add column "users"."age" NOT NULL without a default'),
        ),
        (
            'op.add_column("users", sa.Column("age", sa.Integer(), nullable=False, '
            'server_default="0"))',
            ("expand", 'add column "users"."age"'),
        ),
        (
            'op.create_index("ix_users_email", "users", ["email"], unique=True)',
            ("contract", 'create unique index "ix_users_email" on "users"'),
        ),
        (
            'op.create_check_constraint("ck_users_name", "users", "name <> \'\'")',
            ("contract", 'add check constraint "ck_users_name" on "users"'),
        ),
        ('op.drop_table("users")', ("contract", 'drop table "users"')),
        (
            'op.drop_index("ix_users_name", table_name="users")',
            ("neutral", 'drop index "ix_users_name"'),
        ),
        (
            'op.alter_column("users", "email", existing_type=sa.Text(), nullable=True)',
            ("neutral", 'drop not null on "users"."email"'),
        ),
        (
            'op.alter_column("users", "name", existing_type=sa.String(50), type_=sa.String(80))',
            ("expand", 'change type of "users"."name" to varchar(80)'),
        ),
        (
            'op.alter_column("users", "name", existing_type=sa.String(50), type_=sa.String(20))',
            ("breaking", 'change type of "users"."name" to varchar(20)'),
        ),
        (  # the type before, from the revisions before it
            'op.execute("ALTER TABLE users ALTER COLUMN name TYPE varchar(80)")',
            ("expand", 'change type of "users"."name" to varchar(80)'),
        ),
        (
            'op.execute("ALTER TABLE users ALTER COLUMN email TYPE integer USING 0")',
            ("breaking", 'change type of "users"."email" to int4'),
        ),
        ('op.rename_table("users", "people")', ("breaking", 'rename table "users" to "people"')),
        (
            'op.execute("ALTER TABLE users ALTER COLUMN email DROP DEFAULT")',
            ("contract", 'drop default of "users"."email"'),
        ),
        ('op.execute("DELETE FROM users WHERE id < 0")', ("data", 'delete from "users"')),
        ("op.execute(\"CREATE TYPE mood AS ENUM ('ok')\")", ("expand", 'create type "mood"')),
        (
            "op.execute(\"ALTER TYPE mood RENAME VALUE 'ok' TO 'fine'\")",
            ("breaking", "rename value 'ok' of type \"mood\" to 'fine'"),
        ),
        ("op.execute(\"COMMENT ON TABLE users IS 'people'\")", ("neutral", "comment")),
    ],
)
def test_classification(write_migration, upgrade: str, expected: tuple[str, str]) -> None:
    assert changes_of(write_migration, f"def upgrade():\n    {upgrade}\n") == [expected]


def test_what_a_revision_does_to_its_own_new_table_is_part_of_creating_it(
    write_migration,
) -> None:
    body = """\
def upgrade():
    op.create_table("t", sa.Column("id", sa.Integer()), sa.Column("a", sa.Text()))
    op.add_column("users", sa.Column("team_id", sa.Integer()))
    op.create_foreign_key("fk_users_team", "users", "t", ["team_id"], ["id"])
    op.create_index("ix_t_a", "t", ["a"], unique=True)
    op.drop_column("t", "a")
    op.rename_table("t", "teams")
"""
    kinds = [kind for kind, _ in changes_of(write_migration, body)]
    assert kinds == ["expand", "expand", "expand", "expand", "neutral", "neutral"]


def test_expand_and_contract_together_is_called_out(write_migration) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("full_name", sa.Text()))
    op.drop_column("users", "name")
"""
    step = plan_of(write_migration, BASE, body).steps[-1]
    assert step.phase is Phase.AFTER_DEPLOY and step.mixed
    assert step.split == (
        'keep add column "users"."full_name" in this revision, before the deploy; move '
        'drop column "users"."name" to a later revision, run after the deploy',
    )


def test_an_addition_after_a_contract_revision_is_called_out(write_migration) -> None:
    contract = 'def upgrade():\n    op.drop_column("users", "name")\n'
    expand = 'def upgrade():\n    op.add_column("users", sa.Column("nick", sa.Text()))\n'
    planned = plan_of(write_migration, BASE, contract, expand)
    assert planned.deploy_at == 1
    assert "it builds on r2, which waits for the deploy" in planned.steps[2].notes[0]


def test_a_lock_error_in_the_downgrade_is_no_maintenance_window(write_migration) -> None:
    body = """\
def upgrade():
    with op.get_context().autocommit_block():
        op.drop_index("ix_users_name", table_name="users", postgresql_concurrently=True)

def downgrade():
    op.create_index("ix_users_name", "users", ["name"])
"""
    step = plan_of(write_migration, BASE, body).steps[-1]
    assert [f.rule for f in step.findings] == ["create-index-not-concurrently"]
    assert step.blocking == () and step.phase is Phase.BEFORE_DEPLOY


def test_downgrades_that_are_missing_or_have_nothing_to_undo(write_migration) -> None:
    empty = 'def upgrade():\n    op.add_column("users", sa.Column("x", sa.Text()))\n'
    nothing = "def upgrade():\n    pass\n"
    planned = plan_of(write_migration, BASE, empty, nothing)
    assert [s.rollback for s in planned.steps[1:]] == [
        Rollback.ONE_WAY, Rollback.NOTHING_TO_UNDO,
    ]  # fmt: skip
    assert planned.steps[1].rollback_text == "one-way (downgrade is missing): roll forward instead"


def test_no_revisions_changed(tmp_path: Path) -> None:
    (tmp_path / "versions").mkdir()
    planned = command.runbook(tmp_path / "versions")
    assert planned.steps == [] and planned.exit_code == 0
    out = io.StringIO()
    renderer("runbook", "text")(planned, out)
    assert out.getvalue() == "migsafe runbook: no revisions to roll out (every revision)\n"


def test_a_broken_script_makes_an_incomplete_plan(write_migration) -> None:
    path = write_migration(BASE, revision="r1")
    (path.parent / "r2.py").write_text(
        migration_source("def upgrade(:\n", "r2", "r1"), encoding="utf-8"
    )
    planned = command.runbook(path.parent)
    assert planned.exit_code == 2
    assert [s.revision for s in planned.steps] == ["r1"]
    out = io.StringIO()
    renderer("runbook", "text")(planned, out)
    assert "incomplete: the input errors below" in out.getvalue()
    assert "Python syntax error" in out.getvalue()
    assert ChangeKind.EXPAND in {c.kind for c in planned.steps[0].changes}


def test_a_table_renamed_with_a_view_under_its_old_name_is_expand(write_migration) -> None:
    body = """\
def upgrade():
    op.rename_table("users", "people")
    op.execute("CREATE VIEW users AS SELECT * FROM people")
"""
    assert changes_of(write_migration, body)[0] == (
        "expand",
        'rename table "users" to "people", a view keeps "users"',
    )
    step = plan_of(write_migration, BASE, body).steps[-1]
    assert step.phase is Phase.BEFORE_DEPLOY and not step.mixed


def test_a_drop_index_locks_its_table(write_migration) -> None:
    """The runbook's locks name the table of an index dropped without CONCURRENTLY."""
    path = write_migration(
        'def upgrade():\n    op.drop_index("ix_revoked_token_digest", table_name="revoked_token")\n'
    )
    (step,) = command.runbook([path]).steps
    assert [(lock.table, lock.mode) for lock in step.locks] == [
        ('"revoked_token"', "ACCESS EXCLUSIVE")
    ]


def test_a_binary_coercible_type_change_rewrites_nothing(write_migration) -> None:
    """ihatemoney lengthens a varchar: catalog only, so no statistics to refresh and no
    statement timeout to lift; a change to bigint rewrites the table."""
    path = write_migration(
        "def upgrade():\n"
        '    op.alter_column("project", "name", existing_type=sa.String(128),\n'
        "                    type_=sa.String(256))\n"
        '    op.alter_column("project", "id", existing_type=sa.Integer(), type_=sa.BigInteger())\n'
    )
    (step,) = command.runbook([path]).steps
    assert [(c.what, c.tags) for c in step.changes] == [
        ('change type of "project"."name" to varchar(256)', ()),
        ('change type of "project"."id" to int8', ("rewrite",)),
    ]


def test_a_new_table_referring_to_a_live_one_locks_that_one(write_migration) -> None:
    """buildbot 067 creates a table with a foreign key to ``projects``: the new table has no
    traffic, but ``projects`` is locked SHARE ROW EXCLUSIVE while the key is added."""
    path = write_migration(
        "def upgrade():\n"
        '    op.create_table("codebases", sa.Column("id", sa.Integer(), primary_key=True),\n'
        '                    sa.Column("projectid", sa.Integer(), sa.ForeignKey("projects.id")))\n'
    )
    (step,) = command.runbook([path]).steps
    assert [(lock.table, lock.mode) for lock in step.locks] == [
        ('"projects"', "SHARE ROW EXCLUSIVE")
    ]


def test_a_dropped_foreign_key_locks_the_table_it_refers_to(write_migration) -> None:
    """networking-bagpipe drops a table with a key to neutron's ``networks``, and refstack a
    key to ``product_version``: PostgreSQL removes the key's triggers on the referred table
    under ACCESS EXCLUSIVE too."""
    write_migration(
        "def upgrade():\n"
        '    op.create_table("networks", sa.Column("id", sa.Integer(), primary_key=True))\n'
        '    op.create_table("hops", sa.Column("id", sa.Integer(), primary_key=True),\n'
        '                    sa.Column("net", sa.Integer(), sa.ForeignKey("networks.id")))\n'
        '    op.create_table("ports", sa.Column("id", sa.Integer(), primary_key=True),\n'
        '                    sa.Column("net", sa.Integer(),\n'
        '                              sa.ForeignKey("networks.id", name="fk_ports_net")))\n',
        revision="a1",
    )
    path = write_migration(
        "def upgrade():\n"
        '    op.drop_table("hops")\n'
        '    op.drop_constraint("fk_ports_net", "ports", type_="foreignkey")\n',
        revision="b2",
        down_revision="a1",
    )
    step = command.runbook([path.parent]).steps[-1]
    assert [(lock.table, lock.mode) for lock in step.locks] == [
        ('"hops"', "ACCESS EXCLUSIVE"),
        ('"networks"', "ACCESS EXCLUSIVE"),
        ('"ports"', "ACCESS EXCLUSIVE"),
    ]


def test_an_upgrade_that_fails_as_written_is_no_maintenance_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The shop's 1a2b3c4d5e04 adds a NOT NULL column without a default: that upgrade fails
    on any table with rows, window or not. The plan says to rewrite it, and does not give
    it as a reason for a window (its type change, which holds a lock, still is one)."""
    monkeypatch.chdir(REPO)
    step = steps(command.runbook(Path("examples/shop")))["1a2b3c4d5e04"]
    assert [f.rule for f in step.blocking] == ["change-column-type"]
    assert step.notes[0] == (
        "its upgrade fails as written (add-column-not-null-without-default, line 18): "
        "rewrite it before the rollout, no window makes it run"
    )


def test_the_plan_says_what_it_takes_of_earlier_tables(write_migration) -> None:
    """A tester got two verdicts on one revision, with and without ``--from`` (a selection
    is rolled out together: a table an earlier revision of it makes has no rows yet), and
    nothing said why."""
    from migsafe import command
    from migsafe.report.runbook import assumption

    write_migration(
        "def upgrade():\n    op.create_table('users', sa.Column('id', sa.Integer()))\n",
        revision="a1", name="1_a1.py",
    )  # fmt: skip
    path = write_migration(
        "def upgrade():\n"
        "    op.add_column('users', sa.Column('phone', sa.Text(), nullable=False))\n",
        "b1", "a1", name="2_b1.py",
    )  # fmt: skip
    every = command.runbook([path.parent])
    together = command.runbook([path.parent], start="a1")
    assert [s.phase for s in every.steps] != [s.phase for s in together.steps]
    assert assumption(every).startswith("each revision as if the ones before it ran long ago")
    assert assumption(together).startswith("rolled out together: a table an earlier one")


def test_a_selection_of_one_branch_stays_on_its_branch(write_migration) -> None:
    """A tester's ``--from e3`` on a history with a second branch printed ``downgrade e2``,
    which also took back the other branch applied since: the history's branches count, not
    the selection's."""
    from migsafe import command

    write_migration(_made_and_dropped("a"), revision="e1", name="1_e1.py")
    write_migration(_made_and_dropped("b"), "e2", "e1", name="2_e2.py")
    write_migration(_made_and_dropped("c"), "e3", "e2", name="3_e3.py")
    path = write_migration(_made_and_dropped("f"), "f1", "e2", name="4_f1.py")
    plan = command.runbook([path.parent], start="e3", stop="e3")
    (step,) = plan.steps
    assert step.rollback_command.endswith("downgrade e3@-1")


def _made_and_dropped(table: str) -> str:
    """A revision's body that makes ``table`` and whose downgrade drops it."""
    return (
        f"def upgrade():\n    op.create_table('{table}', sa.Column('id', sa.Integer()))\n\n"
        f"def downgrade():\n    op.drop_table('{table}')\n"
    )
