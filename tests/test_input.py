"""Input users can trust: rule names that exist, settings from the project's own
pyproject.toml, package-style script locations, passwords never echoed."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from migsafe.cli import cli

UNSAFE = (
    "def upgrade():\n    op.create_index('ix_t_a', 't', ['a'])\n\n"
    "def downgrade():\n    raise NotImplementedError('one-way')\n"
)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_an_unknown_rule_in_ignore_is_an_error_naming_the_closest(write_migration) -> None:
    path = write_migration(UNSAFE)
    code, output = run("check", str(path), "--ignore", "create-index-concurrently")
    assert code == 2
    assert output.strip().splitlines() == [
        "migsafe: --ignore: no rule named 'create-index-concurrently' "
        "(did you mean 'create-index-not-concurrently'?); `migsafe rules` lists them"
    ]


def test_the_closest_rule_to_a_code_is_shown_as_a_code(write_migration) -> None:
    """``--select MS999`` suggested 'ms069': codes are written in capitals."""
    code, output = run("check", str(write_migration(UNSAFE)), "--select", "MS999")
    assert code == 2 and "(did you mean 'MS069'?)" in output, output


@pytest.mark.parametrize(
    "ignore", ["ms004", "MS004,missing-downgrade", "Create-Index-Not-Concurrently"]
)
def test_codes_match_in_any_case_and_lists_work(ignore: str, write_migration) -> None:
    path = write_migration(UNSAFE)
    code, output = run("check", str(path), "--ignore", ignore)
    assert code == 0, output


def test_an_unknown_rule_in_the_config_is_an_error_naming_the_file(
    tmp_path: Path, write_migration
) -> None:
    write_migration(UNSAFE)
    (tmp_path / "pyproject.toml").write_text('[tool.migsafe]\nignore = ["MS404"]\n')
    code, output = run("check", str(tmp_path / "versions"))
    assert code == 2
    assert "pyproject.toml [tool.migsafe] ignore: no rule named 'MS404'" in output


def test_an_unknown_rule_inline_is_a_warning_with_its_line(write_migration) -> None:
    path = write_migration(
        "def upgrade():\n"
        "    # migsafe: ignore[create-index-concurently]\n"
        "    op.create_index('ix_t_a', 't', ['a'])\n\n"
        "def downgrade():\n"
        "    op.drop_index('ix_t_a', table_name='t')\n"
    )
    result = CliRunner().invoke(cli, ["check", "--format", "json", str(path)])
    report = json.loads(result.stdout)
    (warning,) = report["diagnostics"]
    assert warning["line"] == 10 and not warning["fatal"]
    assert "'create-index-concurently'" in warning["message"]
    assert "did you mean 'create-index-not-concurrently'" in warning["message"]
    assert [f["rule"] for f in report["findings"]] == [
        "create-index-not-concurrently",
        "drop-index-not-concurrently",  # downgrade() drops it on a table that stays
    ]


def test_multiple_heads_honours_suppressions(tmp_path: Path, write_migration) -> None:
    write_migration("def upgrade():\n    pass\n", revision="a")
    write_migration("# migsafe: ignore-file[multiple-heads]\ndef upgrade():\n    pass\n", "b")
    code, output = run("check", str(tmp_path / "versions"))
    assert code == 1  # a's finding remains: only b's file suppresses it
    assert output.count("multiple-heads") == 1 and "a.py" in output


def test_settings_come_from_the_pyproject_nearest_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "service"
    versions = project / "migrations" / "versions"
    versions.mkdir(parents=True)
    (versions / "a.py").write_text(
        "from alembic import op\nrevision = 'a'\ndown_revision = None\n" + UNSAFE
    )
    (project / "pyproject.toml").write_text('[tool.migsafe]\nignore = ["MS004"]\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "pyproject.toml").write_text('[tool.migsafe]\nfail-on = "notice"\n')
    monkeypatch.chdir(elsewhere)
    code, output = run("check", str(versions))
    assert code == 0, output  # the service's ignore applies; the working directory's does not


def test_a_package_style_script_location_resolves(tmp_path: Path) -> None:
    package = tmp_path / "app_pkg_for_test"
    (package / "migrations" / "versions").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "migrations" / "env.py").write_text("")
    (package / "migrations" / "versions" / "a.py").write_text(
        "from alembic import op\nrevision = 'a'\ndown_revision = None\n" + UNSAFE
    )
    ini = tmp_path / "alembic.ini"
    ini.write_text("[alembic]\nscript_location = app_pkg_for_test:migrations\n")
    code, output = run("check", "-c", str(ini))
    assert code == 1 and "create-index-not-concurrently" in output
    ini.write_text("[alembic]\nscript_location = not_a_package_here:migrations\n")
    code, output = run("check", "-c", str(ini))
    assert code == 2
    assert output.strip().splitlines()[0] == (
        f"{ini}: error: script_location 'not_a_package_here:migrations': "
        "cannot find the package 'not_a_package_here' on the import path"
    )


def test_a_package_style_script_location_is_found_without_running_the_package(
    tmp_path: Path,
) -> None:
    """aim's alembic.ini says ``aim:web/migrations``, and importing aim needs aimrocks, which
    is not installed: the directory is found all the same, and the package's code never runs
    in migsafe's process."""
    package = tmp_path / "app_pkg_not_importable"
    versions = package / "web" / "migrations" / "versions"
    versions.mkdir(parents=True)
    (package / "__init__.py").write_text("import os\nos._exit(7)\n")
    (package / "web" / "migrations" / "env.py").write_text("")
    (versions / "a.py").write_text(
        "from alembic import op\nrevision = 'a'\ndown_revision = None\n" + UNSAFE
    )
    ini = tmp_path / "alembic.ini"
    ini.write_text("[alembic]\nscript_location = app_pkg_not_importable:web/migrations\n")
    code, output = run("check", "-c", str(ini))
    assert code == 1 and "create-index-not-concurrently" in output, output


def test_postgres_with_a_url_never_echoes_its_password(server_url: str) -> None:
    with_password = make_url(server_url).set(password="s3cret-value")
    url = with_password.render_as_string(hide_password=False)
    command = [sys.executable, "-m", "migsafe", "postgres", "--postgres", url]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    printed = process.stdout.readline()
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert "***" in printed and "s3cret-value" not in printed + stderr


def test_alembic_s_pyproject_layout_is_read_as_alembic_reads_it(tmp_path: Path) -> None:
    """``alembic init -t pyproject`` keeps script_location in pyproject.toml's
    [tool.alembic]; alembic.ini holds only the URL and logging: "No 'script_location' key
    found" was an input error."""
    from alembic import command as alembic_command
    from alembic.config import Config

    project = tmp_path / "app"
    project.mkdir()
    config = Config(str(project / "alembic.ini"), toml_file=str(project / "pyproject.toml"))
    alembic_command.init(config, str(project / "migrations"), template="pyproject")
    versions = project / "migrations" / "versions"
    (versions / "a.py").write_text(
        "from alembic import op\nrevision = 'a'\ndown_revision = None\n" + UNSAFE
    )
    for target in (project, project / "alembic.ini"):
        code, output = run("check", str(target))
        assert code == 1 and "create-index-not-concurrently" in output, output
    (project / "alembic.ini").unlink()  # Alembic's settings in pyproject.toml alone
    code, output = run("check", str(project))
    assert code == 1 and "create-index-not-concurrently" in output, output
    # named with -c, as alembic.ini would be ("cannot be read as an ini file")
    code, output = run("check", "-c", str(project / "pyproject.toml"))
    assert code == 1 and "create-index-not-concurrently" in output, output


def test_a_config_file_with_another_name_is_read_as_alembic_reads_it(tmp_path: Path) -> None:
    """mailman's configuration is ``alembic.cfg``: ``-c`` reads it as Alembic does, not as a
    migration script."""
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (tmp_path / "migrations" / "env.py").write_text("")
    (versions / "a.py").write_text(
        "from alembic import op\nrevision = 'a'\ndown_revision = None\n" + UNSAFE
    )
    config = tmp_path / "alembic.cfg"
    config.write_text("[alembic]\nscript_location: %(here)s/migrations\n")
    code, output = run("check", "-c", str(config))
    assert code == 1 and "create-index-not-concurrently" in output, output
    code, output = run("check", "-c", str(tmp_path))
    assert code == 2 and f"{tmp_path}: error: not a file" in output, output


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "[alembic]\nscript_location = v\nschema = a\nschema = b\n",
            "line 4 sets 'schema' of [alembic] a second time",
        ),
        ("script_location = v\n", "line 1 ('script_location = v') comes before any [section]"),
        ("[alembic]\n[alembic]\n", "line 2 opens [alembic] a second time"),
        ("[alembic]\n=x\n", "line 2 ('=x') is neither a [section] nor a key"),
    ],
)
def test_an_ini_file_configparser_refuses_is_one_input_error(
    text: str, problem: str, tmp_path: Path, write_migration
) -> None:
    """rucio's alembic.ini.template sets version_table_schema twice: an input error naming
    the line, not an internal error; the scripts named beside it are still checked."""
    ini = tmp_path / "alembic.ini"
    ini.write_text(text)
    versions = write_migration(UNSAFE).parent
    for command in (["check"], ["roundtrip"]):
        code, output = run(*command, "-c", str(ini), str(versions))
        assert code == 2 and "internal error" not in output, output
        assert f"{ini}: error: cannot be read as an ini file: {problem}" in output, output
    code, output = run("check", "-c", str(ini), str(versions))
    assert "create-index-not-concurrently" in output, output


def test_a_script_location_that_is_no_directory_says_how_alembic_reads_it(
    tmp_path: Path, monkeypatch
) -> None:
    """dstack's alembic.ini says ``script_location = migrations``, relative to the working
    directory; nbgrader ships a template (``{alembic_dir}``): Alembic's advice to run
    ``alembic init`` fits neither."""
    ini = tmp_path / "alembic.ini"
    ini.write_text("[alembic]\nscript_location = migrations\n")
    monkeypatch.chdir(tmp_path.parent)
    code, output = run("check", "-c", str(ini))
    assert code == 2
    assert output.strip().splitlines()[0] == (
        f"{tmp_path.name}/alembic.ini: error: script_location 'migrations' is no directory, "
        "taken from the working "
        "directory as Alembic takes a relative path: run from the directory it is relative "
        "to, or write it as %(here)s/..."
    )


@pytest.mark.parametrize("location", ["script_location = .\n", ""])
def test_a_flask_migrate_folder_is_its_own_script_location(
    location: str, tmp_path: Path, monkeypatch, write_migration
) -> None:
    """Flask-Migrate runs Alembic with script_location set to the folder of its alembic.ini,
    whatever the file says: ihatemoney's says ``.``, fittrackee's nothing. Run from another
    directory, migsafe looked for env.py in the working directory (ihatemoney: found none,
    and lock-timeout-missing went silent) or refused the file (fittrackee: "No
    'script_location' key found", exit 2). The file's folder is the location."""
    versions = write_migration(
        "def upgrade():\n    op.add_column('users', sa.Column('nickname', sa.Text()))\n"
    ).parent
    project = versions.parent
    (project / "env.py").write_text("from alembic import context\n")
    (project / "alembic.ini").write_text(f"[alembic]\n{location}")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for arguments in (["-c", str(project / "alembic.ini"), str(versions)], [str(project)]):
        code, output = run("check", *arguments)
        assert code == 1, output
        assert "lock-timeout-missing" in output and "notice" not in output


def test_a_relative_script_location_without_env_py_says_so(
    tmp_path: Path, monkeypatch, write_migration
) -> None:
    """A relative script_location that holds no env.py, from the working directory nor from
    the file's folder: Alembic could not run it, and what env.py would set is not known."""
    versions = write_migration(
        "def upgrade():\n    op.add_column('users', sa.Column('nickname', sa.Text()))\n"
    ).parent
    project = versions.parent
    (project / "alembic.ini").write_text("[alembic]\nscript_location = .\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, output = run("check", "-c", str(project / "alembic.ini"), str(versions))
    assert code == 2, output  # the versions given are not under that script_location
    assert (
        "script_location '.' holds no env.py, which Alembic runs (taken from the working "
        "directory as Alembic takes a relative path: run from the directory it is relative "
        "to, or write it as %(here)s/...): what it would set (lock_timeout, the naming "
        "convention) is not known"
    ) in output


def test_python_m_migsafe_is_not_shadowed_by_a_package_in_the_working_directory(
    tmp_path: Path,
) -> None:
    """zuul keeps an ``alembic`` package beside its alembic.ini: ``python -m migsafe`` run
    there imports the real Alembic, as the ``migsafe`` command does."""
    (tmp_path / "alembic").mkdir()
    (tmp_path / "alembic" / "__init__.py").write_text("raise SystemExit('the wrong alembic')\n")
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "a.py").write_text(
        "from alembic import op\nrevision = 'a'\ndown_revision = None\n" + UNSAFE
    )
    command = [sys.executable, "-m", "migsafe", "check", "versions"]
    completed = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert completed.returncode == 1, completed.stderr
    assert "create-index-not-concurrently" in completed.stdout


def test_a_sqlalchemy_migrate_repository_is_one_input_error(tmp_path: Path) -> None:
    """tricircle's ``migrate_repo/`` holds sqlalchemy-migrate scripts: one error naming the
    directory and what it is, not one per file; and a summary that claims no pass."""
    repository = tmp_path / "migrate_repo"
    (repository / "versions").mkdir(parents=True)
    (repository / "migrate.cfg").write_text("[db_settings]\nrepository_id=tricircle\n")
    (repository / "versions" / "001_init.py").write_text("def upgrade(migrate_engine):\n    pass\n")
    for target in (repository, repository / "versions"):
        code, output = run("check", str(target))
        assert code == 2, output
        assert output.splitlines() == [
            f"{target}: error: a sqlalchemy-migrate repository (migrate.cfg), not an Alembic "
            "history: migsafe checks Alembic migrations; point it at the project's Alembic "
            "versions directory, if it has one",
            "Checked no migration: 1 input error.",
        ]


def test_a_migrate_cfg_left_beside_an_alembic_history_is_not_a_repository(
    tmp_path: Path,
) -> None:
    """glance keeps sqlalchemy-migrate's ``migrate.cfg`` beside its Alembic env.py: its
    versions directory, the one the message pointed at, was refused."""
    location = tmp_path / "alembic_migrations"
    (location / "versions").mkdir(parents=True)
    (location / "migrate.cfg").write_text("[db_settings]\nversion_table=alembic_version\n")
    (location / "env.py").write_text("")
    (location / "versions" / "a1_init.py").write_text(
        "revision = 'a1'\ndown_revision = None\nfrom alembic import op\n"
        "def upgrade():\n    op.create_index('ix_t_a', 't', ['a'])\n"
        "def downgrade():\n    pass\n"
    )
    for target in (location, location / "versions"):
        code, output = run("check", str(target))
        assert code == 1, output
        assert "sqlalchemy-migrate" not in output
        assert "Checked 1 migration" in output, output
    (location / "env.py").unlink()  # no env.py, but its scripts declare revisions
    code, output = run("check", str(location / "versions"))
    assert code == 1 and "sqlalchemy-migrate" not in output, output


@pytest.mark.parametrize("value", ["0", "-1", "inf", "nan", "1e9"])
def test_a_timeout_that_is_no_time_limit_is_a_usage_error(value: str, write_migration) -> None:
    """``--timeout 1e9`` made the pipe's poll() raise OverflowError: an internal error."""
    path = write_migration(UNSAFE)
    for command in ("check", "roundtrip"):
        code, output = run(command, "--timeout", value, str(path.parent))
        assert code == 2 and "internal error" not in output, output
        assert "is not a number of seconds > 0, at most 86400" in output, output


def test_a_timeout_in_the_config_is_checked_the_same(tmp_path: Path, write_migration) -> None:
    path = write_migration(UNSAFE)
    (tmp_path / "pyproject.toml").write_text("[tool.migsafe]\ntimeout = 1e400\n")
    code, output = run("check", str(path.parent))
    assert code == 2 and "timeout must be a number of seconds > 0, at most 86400" in output


def test_roundtrip_of_a_history_alembic_cannot_walk_is_an_input_error(write_migration) -> None:
    """A depends_on naming no revision: Alembic fails with KeyError, which roundtrip blamed
    on the first revision (exit 1); check, which judges what it has, notices it."""
    write_migration("", revision="a1", name="1.py")
    path = write_migration("depends_on = 'zzzz'\n", revision="b1", down_revision="a1", name="2.py")
    code, output = run("roundtrip", str(path.parent))
    assert code == 2, output
    assert output.splitlines()[0] == (
        f"{path}: error: depends_on 'zzzz' names no revision of this history, so Alembic "
        "cannot run it: roundtrip it with the history it depends on (an alembic.ini whose "
        "version_locations name both)"
    )


def test_a_select_naming_no_rule_is_an_error(tmp_path: Path, write_migration) -> None:
    """``--select "$RULES"`` with the variable empty ran no rule and passed."""
    path = write_migration(UNSAFE)
    code, output = run("check", "--select", "", str(path.parent))
    assert code == 2 and "select names no rule, so nothing would be checked" in output
    (tmp_path / "pyproject.toml").write_text("[tool.migsafe]\nselect = []\n")
    code, output = run("check", str(path.parent))
    assert code == 2 and "select names no rule" in output


def test_an_ini_file_without_an_alembic_section_is_one_input_error(tmp_path: Path) -> None:
    """fief's alembic.ini has one section per database, no [alembic]: an internal error
    ("No config file ... found"); now the sections it has, and a way to check one."""
    from alembic.config import Config

    from migsafe import command

    (tmp_path / "versions").mkdir()
    (tmp_path / "versions" / "a1_init.py").write_text(
        "revision = 'a1'\ndown_revision = None\nfrom alembic import op\n"
        "def upgrade():\n    op.create_index('ix_t_a', 't', ['a'])\n"
        "def downgrade():\n    pass\n"
    )
    ini = tmp_path / "alembic.ini"
    ini.write_text(
        f"[main]\nscript_location = {tmp_path}\npath_separator = os\n"
        f"version_locations = {tmp_path / 'versions'}\n"
        f"[workspace]\nscript_location = {tmp_path}\n"
    )
    for arguments in (("-c", str(ini)), (str(tmp_path),)):
        code, output = run("check", *arguments)
        assert code == 2, output
        assert output.splitlines()[0] == (
            f"{ini if arguments[0] == '-c' else tmp_path / 'alembic.ini'}: error: has no "
            "[alembic] section (its sections: [main], [workspace]); to check one of them, call "
            "migsafe.command.check(alembic.config.Config(path, ini_section=NAME)) from Python "
            "(the command line has no --name yet)"
        )
    result = command.check(Config(str(ini), ini_section="main"))
    assert result.checked == 1 and not result.diagnostics
    assert "create-index-not-concurrently" in [f.rule for f in result.findings]


def test_a_path_outside_the_project_c_names_is_an_input_error(tmp_path: Path) -> None:
    """``check ../other -c alembic.ini`` mixed two projects into duplicate-id errors."""
    for name in ("one", "other"):
        (tmp_path / name / "versions").mkdir(parents=True)
        (tmp_path / name / "versions" / "a.py").write_text(
            "revision = 'a'\ndown_revision = None\ndef upgrade():\n    pass\n"
            "def downgrade():\n    pass\n"
        )
        (tmp_path / name / "env.py").write_text("")
    ini = tmp_path / "one" / "alembic.ini"
    ini.write_text(f"[alembic]\nscript_location = {tmp_path / 'one'}\n")
    code, output = run("check", str(tmp_path / "other"), "-c", str(ini))
    assert code == 2 and "duplicate" not in output, output
    assert f"{tmp_path / 'other'}: error: not part of the project the configuration names" in output
    for inside in (tmp_path / "one", tmp_path / "one" / "versions" / "a.py"):
        code, output = run("check", str(inside), "-c", str(ini))
        assert code == 0, output
