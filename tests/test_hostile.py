"""Migrations are somebody else's code: whatever one does, migsafe check goes on with the others.

Each case is a small history whose middle revision misbehaves; the revisions around it must
still be checked, the misbehaving one must get a one-line error naming it, and the exit code
must be 2 (never 0: a migration that exits must not turn into a pass).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from migsafe.cli import cli
from migsafe.isolation import Worker, answers_in_order

UNSAFE_INDEX = "def upgrade():\n    op.create_index('ix_{name}', 't', ['a'])\n"

HOSTILE = {
    "exit 0 at import": ("import sys\nsys.exit(0)\n", "importing it called sys.exit(0)"),
    "exit 3 in upgrade": (
        "import sys\ndef upgrade():\n    sys.exit(3)\n",
        "upgrade() called sys.exit(3)",
    ),
    "os._exit in upgrade": (
        "import os\ndef upgrade():\n    os._exit(3)\n",
        "running it ended the process (exit code 3)",
    ),
    "segfault": (
        "import os, signal\ndef upgrade():\n    os.kill(os.getpid(), signal.SIGSEGV)\n",
        "running it killed the process (SIGSEGV)",
    ),
    "endless loop at import": ("while True:\n    pass\n", "did not finish within 1 s"),
    "endless loop in upgrade": (
        "def upgrade():\n    while True:\n        pass\n",
        "did not finish within 1 s",
    ),
}


def history_around(write_migration, middle: str) -> Path:
    """a → hostile → c, where a and c each have a finding of their own."""
    write_migration(UNSAFE_INDEX.format(name="a"), revision="a", name="1_a.py")
    path = write_migration(middle, revision="b", down_revision="a", name="2_hostile.py")
    write_migration(UNSAFE_INDEX.format(name="c"), revision="c", down_revision="b", name="3_c.py")
    return path.parent


def check_json(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["check", "--format", "json", *args])
    return result.exit_code, json.loads(result.stdout)


def index_findings(report: dict) -> list[str]:
    """The files with a create-index-not-concurrently finding (the cases' marker)."""
    return sorted(
        Path(f["path"]).name
        for f in report["findings"]
        if f["rule"] == "create-index-not-concurrently"
    )


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_migration_is_an_error_and_the_others_are_checked(
    case: str, write_migration
) -> None:
    body, expected = HOSTILE[case]
    versions = history_around(write_migration, body)
    started = time.monotonic()
    code, report = check_json("--timeout", "1", str(versions))
    assert code == 2
    (error,) = [d for d in report["diagnostics"] if d["fatal"]]
    assert error["path"].endswith("2_hostile.py") and expected in error["message"]
    assert index_findings(report) == ["1_a.py", "3_c.py"]
    assert time.monotonic() - started < 20
    assert multiprocessing.active_children() == []  # no worker outlives the check


# what a migration does only in a world migsafe makes up: where a table made outside the
# history holds the names it spells, where a read finds a row, where a table asked for
# exists; with the revision before it (made outside: the history only adds a column)
ALTERS = "def upgrade():\n    op.add_column('t', sa.Column('a', sa.Integer))\n"
CREATES = "def upgrade():\n    op.create_table('t', sa.Column('a', sa.Integer))\n"
MADE_UP = {
    "os._exit where a spelled column is there": (
        ALTERS,
        "    columns = [c['name'] for c in sa.inspect(op.get_bind()).get_columns('t')]\n"
        "    if 'legacy' in columns:\n        os._exit(0)\n",
    ),
    "SIGKILL of itself where a read finds a row": (
        CREATES,
        "    if op.get_bind().execute(sa.text('SELECT a FROM t')).fetchall():\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n",
    ),
    "signal.raise_signal(SIGKILL) where a read finds a row": (
        CREATES,
        "    if op.get_bind().execute(sa.text('SELECT a FROM t')).fetchall():\n"
        "        signal.raise_signal(signal.SIGKILL)\n",
    ),
    "KeyboardInterrupt where a read finds a row": (
        CREATES,
        "    if op.get_bind().execute(sa.text('SELECT a FROM t')).fetchall():\n"
        "        raise KeyboardInterrupt\n",
    ),
    "a retry loop under a bare except where a read finds a row": (
        "def upgrade():\n"
        "    op.create_table('t', sa.Column('a', sa.Integer), sa.Column('meta', sa.Text))\n",
        "    import json\n"
        "    for r in op.get_bind().execute(sa.text('SELECT a, meta FROM t')).fetchall():\n"
        "        while True:\n"
        "            try:\n"
        "                url = json.loads(r.meta)['url']\n"
        "                break\n"
        "            except:  # noqa: E722 (takes the time limit's exception too)\n"
        "                continue\n",
    ),
    "os.abort where a table asked for exists": (
        CREATES,
        "    if sa.inspect(op.get_bind()).has_table('ghost'):\n        os.abort()\n",
    ),
}


@pytest.mark.parametrize("case", sorted(MADE_UP))
def test_what_a_made_up_world_makes_a_migration_do_cannot_end_the_check(
    case: str, write_migration
) -> None:
    """A migration that ends the process only in a world migsafe made up to see what it
    would do there took the worker down with it, and the script was an error for what no
    database made it do: its real run is judged, and the made-up world is dropped."""
    first, hostile = MADE_UP[case]
    write_migration(first, revision="a", name="1_a.py")
    body = (
        "import os, signal\n\ndef upgrade():\n"
        + hostile
        + ("    op.create_index('ix_b', 't', ['a'])\n")
    )
    path = write_migration(body, revision="b", down_revision="a", name="2_b.py")
    code, report = check_json(str(path.parent))
    assert not [d for d in report["diagnostics"] if d["fatal"]], report["diagnostics"]
    assert code == 1
    assert multiprocessing.active_children() == []


def test_the_schema_so_far_survives_a_lost_worker(write_migration) -> None:
    """After a worker dies, the next one is given the schema the earlier revisions built."""
    write_migration(
        "def upgrade():\n    op.create_table('t', sa.Column('a', sa.Integer))\n",
        revision="a",
        name="1_a.py",
    )
    write_migration("import os\nos._exit(1)\n", revision="b", down_revision="a", name="2_b.py")
    path = write_migration(
        "def upgrade():\n"
        "    if sa.inspect(op.get_bind()).has_table('t'):\n"
        "        op.create_index('ix_t_a', 't', ['a'])\n",
        revision="c",
        down_revision="b",
        name="3_c.py",
    )
    code, report = check_json(str(path.parent))
    assert code == 2
    assert index_findings(report) == ["3_c.py"]


def test_sqlalchemy_s_warnings_about_a_migration_are_not_printed(write_migration) -> None:
    """tiled writes ``primary_eky=True``: SQLAlchemy warns when missing-downgrade builds the
    reverse of that create_table(), which printed a warning pointing into migsafe. (In its
    own process: pytest records warnings instead of printing them.)"""
    path = write_migration(
        "def upgrade():\n"
        "    op.create_table('t', sa.Column('id', sa.Integer(), primary_eky=True))\n"
        "\ndef downgrade():\n    pass\n"
    )
    command = [sys.executable, "-m", "migsafe", "check", "--format", "json", str(path.parent)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    report = json.loads(done.stdout)
    assert [f["rule"] for f in report["findings"]] == ["missing-downgrade"]
    assert "Warning" not in done.stderr, done.stderr


def test_a_bare_raise_is_named_without_an_empty_message(write_migration) -> None:
    path = write_migration("def upgrade():\n    raise NotImplementedError\n")
    _, report = check_json(str(path.parent))
    (notice,) = report["diagnostics"]
    assert notice["message"].startswith("upgrade() raised NotImplementedError; only what")


def test_input_does_not_hang_and_prints_do_not_corrupt_the_report(write_migration) -> None:
    path = write_migration("def upgrade():\n    print('hello from the migration')\n    input()\n")
    _, report = check_json(str(path.parent))  # json.loads would fail on stray output
    (notice,) = report["diagnostics"]
    assert "EOFError" in notice["message"] and not notice["fatal"]


def test_a_migration_that_deletes_a_file_deletes_it_but_every_script_is_checked(
    write_migration,
) -> None:
    """Documented behaviour: check runs migration code with the user's rights, like
    `alembic upgrade --sql`; every script was read before any ran, so none is lost."""
    write_migration(
        "import pathlib\npathlib.Path(__file__).with_name('2_b.py').unlink()\n",
        revision="a",
        name="1_a.py",
    )
    path = write_migration(UNSAFE_INDEX.format(name="b"), "b", "a", name="2_b.py")
    code, report = check_json(str(path.parent))
    assert not path.exists()
    assert code == 1 and report["checked"] == 2
    assert index_findings(report) == ["2_b.py"]


def test_a_process_a_migration_forks_does_not_outlive_the_check(
    tmp_path: Path, write_migration
) -> None:
    """A forked child does not get the worker's parent-death signal; the worker's process
    group is killed whole when it stops."""
    pid_file = tmp_path / "child.pid"
    body = (
        "import os, time\n"
        "def upgrade():\n"
        "    if os.fork() == 0:\n"
        f"        open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        "        time.sleep(120)\n"
        "        os._exit(0)\n"
    )
    versions = history_around(write_migration, body)
    code, report = check_json(str(versions))
    assert code == 1 and index_findings(report) == ["1_a.py", "3_c.py"]
    deadline = time.monotonic() + 10
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)  # the child may not have written it when the worker was killed
    if pid_file.exists() and pid_file.read_text():
        assert _gone(int(pid_file.read_text()), deadline)


@pytest.mark.skipif(sys.platform != "linux", reason="orphans are adopted through prctl")
def test_a_process_a_migration_detaches_does_not_outlive_the_check(
    tmp_path: Path, write_migration
) -> None:
    """A tester's migration started ``sleep`` in a session of its own, and another through a
    double fork: neither was in the worker's group, both outlived the check, and held its
    output open (``migsafe check | cat`` hung). The worker adopts what is orphaned below it,
    and kills every process below it."""
    pid_file = tmp_path / "detached.pids"
    body = (
        "import os, subprocess, time\n"
        "def both_said():\n"  # until the grandchild has said its pid: the middle process's
        "    deadline = time.monotonic() + 10\n"  # os._exit() kills what is below it
        f"    while len(open({str(pid_file)!r}).read().split()) < 2:\n"
        "        assert time.monotonic() < deadline\n"
        "        time.sleep(0.01)\n"
        "def upgrade():\n"
        "    child = subprocess.Popen(['sleep', '120'], start_new_session=True)\n"
        f"    open({str(pid_file)!r}, 'a').write(f'{{child.pid}}\\n')\n"
        "    if os.fork() == 0:\n"
        "        os.setsid()\n"
        "        if os.fork() == 0:\n"
        f"            open({str(pid_file)!r}, 'a').write(f'{{os.getpid()}}\\n')\n"
        "            time.sleep(120)\n"
        "        both_said()\n"
        "        os._exit(0)\n"
        "    both_said()\n"
    )
    versions = history_around(write_migration, body)
    code, report = check_json(str(versions))
    assert code == 1 and index_findings(report) == ["1_a.py", "3_c.py"]
    pids = [int(line) for line in pid_file.read_text().split()]
    assert len(pids) == 2
    deadline = time.monotonic() + 10
    assert all(_gone(pid, deadline) for pid in pids)


@pytest.mark.skipif(sys.platform != "linux", reason="orphans are adopted through prctl")
def test_what_a_migration_detaches_before_ending_the_worker_does_not_outlive_it(
    tmp_path: Path, write_migration
) -> None:
    """After ``os._exit()`` the worker's adopted orphans passed to init: a tester's
    detached ``sleep`` held ``migsafe check | tail`` for ten minutes."""
    pid_file = tmp_path / "detached.pid"
    body = (
        "import os, subprocess\n"
        "def upgrade():\n"
        "    child = subprocess.Popen(['sleep', '120'], start_new_session=True)\n"
        f"    open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "    os._exit(3)\n"
    )
    versions = history_around(write_migration, body)
    code, report = check_json(str(versions))
    assert code == 2 and index_findings(report) == ["1_a.py", "3_c.py"]
    assert _gone(int(pid_file.read_text()), time.monotonic() + 10)


def _gone(pid: int, deadline: float) -> bool:
    """The process has ended (a zombie waiting for init counts) by ``deadline``."""
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


def test_what_a_migration_does_to_the_process_is_undone_for_the_next(write_migration) -> None:
    """Closing the standard streams (as objects and as descriptors) or changing directory
    in one migration does not make the next ones fail."""
    write_migration(UNSAFE_INDEX.format(name="a"), revision="a", name="1_a.py")
    write_migration(
        "import os, sys\n"
        "def upgrade():\n"
        "    sys.stdout.close()\n"
        "    sys.stderr.close()\n"
        "    os.close(1)\n"
        "    os.close(2)\n"
        "    os.chdir('/')\n",
        revision="b",
        down_revision="a",
        name="2_hostile.py",
    )
    cwd = os.getcwd()
    path = write_migration(
        "import os\n"
        "def upgrade():\n"
        "    print('the next migration prints')\n"
        f"    assert os.getcwd() == {cwd!r}, os.getcwd()\n"
        "    op.create_index('ix_c', 't', ['a'])\n",
        revision="c",
        down_revision="b",
        name="3_c.py",
    )
    code, report = check_json(str(path.parent))
    assert report["diagnostics"] == []
    assert code == 1 and index_findings(report) == ["1_a.py", "3_c.py"]


def test_five_thousand_operations_are_all_checked(write_migration) -> None:
    body = "def upgrade():\n" + "".join(
        f"    op.add_column('t', sa.Column('c{i}', sa.Integer(), nullable=False))\n"
        for i in range(5000)
    )
    path = write_migration(body)
    code, report = check_json(str(path.parent))
    assert code == 1 and report["summary"]["error"] == 5000


def test_ctrl_c_stops_check_at_once_and_leaves_no_worker(tmp_path: Path, write_migration):
    path = write_migration("def upgrade():\n    while True:\n        pass\n")
    command = [sys.executable, "-m", "migsafe", "check", "--timeout", "600", str(path)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, start_new_session=True)
    time.sleep(2)
    os.killpg(process.pid, signal.SIGINT)  # as a terminal does: the whole process group
    _, stderr = process.communicate(timeout=20)
    assert process.returncode == 130 and "interrupted" in stderr
    leftover = subprocess.run(["pgrep", "-f", str(path)], capture_output=True)
    assert leftover.stdout == b""  # the worker leads a group of its own: found by its path


def test_work_done_meanwhile_that_raises_leaves_no_worker() -> None:
    """The parent's own work while the first worker runs (the revision graph's findings)
    may fail; the worker it started must not outlive the call."""
    started = []

    def start_worker(answers: list[object]) -> Worker:
        started.append(Worker(_sleep_forever))
        return started[0]

    def meanwhile() -> None:
        raise RuntimeError("the graph could not be read")

    with pytest.raises(RuntimeError, match="graph"):
        answers_in_order(start_worker, 1, 60, lambda index, how: how, meanwhile)
    assert len(started) == 1 and not started[0].process.is_alive()


def _sleep_forever(connection: object) -> None:
    time.sleep(3600)


def test_ctrl_c_while_the_arguments_are_parsed_is_an_interruption_too() -> None:
    """Before a command's own handler runs, click would print "Aborted!" and exit 1."""
    script = (
        "import sys\n"
        "from migsafe import cli, own_process\n"
        "def parse(*args, **kwargs):\n"
        "    raise KeyboardInterrupt  # as Ctrl-C does, while click reads the arguments\n"
        "cli.cli.make_context = parse\n"
        "own_process.claim()\n"
        "sys.argv = ['migsafe', 'check', '.']\n"
        "cli.main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 130
    assert done.stderr.strip() == "interrupted; nothing was changed."


def test_a_ctrl_c_swallowed_somewhere_still_ends_the_wait_for_a_worker() -> None:
    """Ctrl-C during a roundtrip was ignored about once in fifty tries (the wait went on
    until the step's time limit): the KeyboardInterrupt can be lost on its way (a
    finalizer's "Exception ignored"); the wait also looks at whether Ctrl-C was pressed."""
    from migsafe.isolation import interrupts_noticed

    with interrupts_noticed():
        worker = Worker(_sleep_forever)
        try:
            try:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(1)
            except KeyboardInterrupt:
                pass  # swallowed, as a finalizer would
            started = time.monotonic()
            with pytest.raises(KeyboardInterrupt):
                worker.receive(60)
            assert time.monotonic() - started < 2
        finally:
            worker.stop()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_check_lets_no_migration_reach_a_database(write_migration, server_url: str) -> None:
    """A tester's check wrote rows to the database alembic.ini named: migrations build an
    engine from the config's URL, or connect through the driver. check runs them offline:
    the URL leads nowhere, and a connection of their own is refused (a notice)."""
    query = dict(part.split("=", 1) for part in server_url.split("?", 1)[1].split("&"))
    dsn = f"host={query['host']} port={query['port']} user=postgres dbname=postgres"
    versions = write_migration(
        "import psycopg\nfrom alembic import context\n"
        "def upgrade():\n"
        "    url = context.config.get_main_option('sqlalchemy.url')\n"
        "    try:\n"
        "        with sa.create_engine(url).begin() as connection:\n"
        "            connection.execute(sa.text('CREATE TABLE from_the_url (id int)'))\n"
        "    except Exception:\n"
        "        pass\n"
        f"    with psycopg.connect({dsn!r}) as connection:\n"
        "        connection.execute('CREATE TABLE from_the_driver (id int)')\n"
    ).parent
    (versions.parent / "alembic.ini").write_text(
        f"[alembic]\nscript_location = {versions.parent}\nsqlalchemy.url = {server_url}\n"
    )
    (versions.parent / "env.py").write_text("")
    _, report = check_json(str(versions.parent))
    (notice,) = report["diagnostics"]
    assert "ConnectionRefused: check runs migrations offline" in notice["message"]
    import psycopg

    with psycopg.connect(dsn) as connection:
        found = connection.execute(
            "SELECT to_regclass('from_the_url'), to_regclass('from_the_driver')"
        ).fetchone()
    assert found == (None, None)


def test_a_scripts_made_up_runs_together_have_a_time_of_their_own(write_migration) -> None:
    """A migration that drops each of forty tables where it exists, then makes it: each
    table is taken to exist in a run of its own, and a slow fixture load made the forty
    runs outlast the script's limit, which lost the script. Together they get a time of
    their own; the script is judged."""
    write_migration("def upgrade():\n    pass\n", revision="a", name="1_a.py")
    body = (
        "import time\n\ndef upgrade():\n"
        "    time.sleep(0.6)\n"
        "    existing = sa.inspect(op.get_bind()).get_table_names()\n"
        "    for name in [f't{i}' for i in range(40)]:\n"
        "        if name in existing:\n"
        "            op.drop_table(name)\n"
        "        op.create_table(name, sa.Column('id', sa.Integer))\n"
    )
    path = write_migration(body, revision="b", down_revision="a", name="2_b.py")
    started = time.monotonic()
    code, report = check_json(str(path.parent), "--timeout", "20")
    assert code == 1  # its findings (drop-table: where they exist, the rows are lost)
    assert not [d for d in report["diagnostics"] if d["fatal"]], report["diagnostics"]
    assert time.monotonic() - started < 18
