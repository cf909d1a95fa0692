"""Command line: parse options, call one function, pick a reporter. No logic lives here."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import click

from migsafe import __version__
from migsafe.config import ConfigError, Settings, load_settings
from migsafe.findings import Severity

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130

SEVERITY_CHOICE = click.Choice([str(s) for s in Severity], case_sensitive=False)


def timeout_option(command: Callable) -> Callable:
    """--timeout, the same for every command that runs migration code."""
    return click.option(
        "--timeout",
        type=click.FloatRange(min=0, min_open=True),
        metavar="SECONDS",
        help="Time limit for running one script (check) or one step (roundtrip). "
        "[default: 60, or timeout in [tool.migsafe]]",
    )(command)


def postgres_options(command: Callable) -> Callable:
    """--postgres and --pg-version, shared by every command that needs a database."""
    command = click.option(
        "--pg-version", type=click.IntRange(9, 30), help="PostgreSQL major version."
    )(command)
    return click.option(
        "--postgres",
        "choice",
        default="auto",
        show_default=True,
        metavar="auto|embedded|system|docker|URL",
        help="Where the server comes from; a URL gets a scratch database on that server.",
    )(command)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="migsafe")
def cli() -> None:
    """Catch unsafe Alembic migrations before they reach a live PostgreSQL database."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "-c",
    "--config",
    "config_file",
    type=click.Path(path_type=Path),
    help="An alembic.ini whose script_location holds the migrations.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--fail-on",
    type=SEVERITY_CHOICE,
    help="Exit 1 when a finding is at least this severe. [default: warning]",
)
@click.option(
    "--postgres-version",
    type=click.IntRange(9, 30),
    help="PostgreSQL major version the migrations run on. [default: 15]",
)
@click.option(
    "--ignore",
    multiple=True,
    metavar="RULE",
    help="Skip a rule (name or code; comma-separated or repeated).",
)
@timeout_option
@click.option(
    "-x",
    "x_arguments",
    multiple=True,
    metavar="KEY=VALUE",
    help="Passed to the migrations as Alembic's -x (context.get_x_argument()); repeatable.",
)
@click.option("--debug", is_flag=True, help="Show tracebacks for internal errors.")
def check(
    paths: tuple[Path, ...],
    config_file: Path | None,
    output_format: str,
    fail_on: str | None,
    postgres_version: int | None,
    ignore: tuple[str, ...],
    timeout: float | None,
    x_arguments: tuple[str, ...],
    debug: bool,
) -> None:
    """Flag unsafe operations in Alembic migration scripts.

    PATHS may be versions directories, single migration files, a project directory holding
    alembic.ini, or alembic.ini itself (default: the current directory).

    Each script's upgrade() and downgrade() really run, offline, as under
    `alembic upgrade --sql`: only check migrations you would run.

    \b
    Exit codes: 0 nothing at or above --fail-on, 1 findings, 2 bad input or usage.
    """
    from migsafe.check import check_paths
    from migsafe.report import renderer
    from migsafe.rules import UnknownRule, resolve_rules

    _exempt_imports_from_gc()
    targets = paths or (() if config_file else (Path.cwd(),))
    settings = _settings_near([*targets, *([config_file] if config_file else [])])
    try:
        ignored = resolve_rules(settings.ignore, f"{settings.source} [tool.migsafe] ignore")
        ignored |= resolve_rules(ignore, "--ignore")
    except UnknownRule as exc:
        _fail(str(exc))
    settings = settings.with_overrides(
        pg_version=postgres_version,
        fail_on=Severity.parse(fail_on) if fail_on else None,
        ignore=ignored,
        timeout=timeout,
    )
    try:
        result = check_paths(targets, settings, config_file, x_arguments)
    except KeyboardInterrupt:
        click.echo("interrupted; nothing was changed.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:
        if debug:
            raise
        _fail(f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)")

    if result.checked == 0 and not result.diagnostics:
        click.echo("no migrations found", err=output_format != "text")
        if output_format == "text":
            sys.exit(EXIT_OK)
    renderer(output_format)(result, sys.stdout)
    if result.has_fatal:
        sys.exit(EXIT_BAD_INPUT)
    if any(f.severity >= settings.fail_on for f in result.findings):
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_OK)


@cli.command(name="rules")
@click.option("--markdown", is_flag=True, help="Print the full rule reference (docs/rules.md).")
def list_rules(markdown: bool) -> None:
    """List every rule with its code, severity and summary."""
    from migsafe.explain import rule_table, rules_markdown

    click.echo(rules_markdown() if markdown else rule_table(), nl=not markdown)


@cli.command()
@click.argument("rule")
def explain(rule: str) -> None:
    """Explain one rule (by name or code): why it matters and what to write instead."""
    from migsafe.explain import explain_rule

    text = explain_rule(rule)
    if text is None:
        _fail(f"unknown rule {rule!r}; `migsafe rules` lists them")
    click.echo(text)


@cli.command()
@postgres_options
def postgres(choice: str, pg_version: int | None) -> None:
    """Start a disposable PostgreSQL and keep it until Ctrl-C.

    Handy for `alembic revision --autogenerate` and for debugging a migration by hand.
    Everything it created is removed when it stops.
    """
    from migsafe.postgres import PostgresUnavailable, disposable_postgres
    from migsafe.postgres.url import masked

    try:
        with disposable_postgres(choice, pg_version) as database:
            click.echo(f"using {database.why}", err=True)
            # a server of the user's: its password is theirs, never echoed
            shown = masked(database.url) if database.provider == "url" else database.url
            click.echo(shown)
            if database.psql_command:
                click.echo(f"psql: {database.psql_command}", err=True)
            click.echo("Press Ctrl-C to stop and remove it.", err=True)
            _wait_for_interrupt()
    except PostgresUnavailable as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        click.echo("stopped; nothing left behind.", err=True)


@cli.command()
@click.argument("project", required=False, type=click.Path(path_type=Path))
@postgres_options
@click.option("--from", "start", metavar="REV", help="First revision to roundtrip.")
@click.option("--to", "stop", metavar="REV", help="Last revision to roundtrip.")
@click.option(
    "--since", metavar="GIT_REF", help="Only revisions whose files changed since GIT_REF."
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "junit", "markdown"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--use-env",
    is_flag=True,
    help="Run through the project's env.py, handing it the connection in "
    "config.attributes['connection'].",
)
@click.option(
    "--metadata",
    metavar="MODULE:ATTR",
    help="Target metadata for the drift check, e.g. app.models:Base.metadata.",
)
@click.option(
    "--one-way",
    type=click.Choice(["allow", "fail"]),
    default="allow",
    show_default=True,
    help="Whether a downgrade that raises on purpose fails the run.",
)
@timeout_option
@click.option("--debug", is_flag=True, help="Show tracebacks for internal errors.")
def roundtrip(
    project: Path | None,
    choice: str,
    pg_version: int | None,
    start: str | None,
    stop: str | None,
    since: str | None,
    output_format: str,
    use_env: bool,
    metadata: str | None,
    one_way: str,
    timeout: float | None,
    debug: bool,
) -> None:
    """Upgrade, downgrade and upgrade again every revision on a disposable PostgreSQL.

    The whole schema is compared after each step: a downgrade must restore exactly what was
    there before, and the second upgrade must give exactly what the first gave. PROJECT is a
    directory holding alembic.ini, alembic.ini itself, or a versions directory (default: the
    current directory). The migrations run in a process of their own: one that exits,
    crashes or runs past --timeout fails its revision, and the run goes on.

    \b
    Exit codes: 0 every revision passed, 1 a revision failed or the models drifted,
    2 bad input, or no PostgreSQL could be had, 130 interrupted (what was done is reported).
    """
    from migsafe.postgres import PostgresUnavailable
    from migsafe.report.roundtrip import streaming_renderer
    from migsafe.report.roundtrip.progress import RevisionProgress
    from migsafe.roundtrip import RoundtripOptions, run_roundtrip
    from migsafe.rules import UnknownRule, resolve_rules

    _exempt_imports_from_gc()
    location = project or Path.cwd()
    settings = _settings_near([location])
    try:
        ignored = resolve_rules(settings.ignore, f"{settings.source} [tool.migsafe] ignore")
    except UnknownRule as exc:
        _fail(str(exc))
    options = RoundtripOptions(
        location=location,
        postgres=choice,
        pg_version=pg_version,
        start=start,
        stop=stop,
        since=since,
        use_env=use_env,
        metadata=metadata or settings.metadata,
        version_table=settings.version_table,
        version_table_schema=settings.version_table_schema,
        one_way_fails=one_way == "fail",
        timeout=timeout or settings.timeout,
        ignore=ignored,
    )
    stream = streaming_renderer(output_format, sys.stdout)
    try:
        with RevisionProgress(stream.revision) as progress:
            result = run_roundtrip(options, progress)
    except PostgresUnavailable as exc:
        _fail(str(exc))
    except Exception as exc:
        if debug:
            raise
        _fail(f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)")
    if not result.revisions and not result.diagnostics and not result.interrupted:
        click.echo("no migrations found", err=output_format != "text")
    stream.finish(result)
    if result.interrupted:
        click.echo("interrupted; the databases it created are removed.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    if result.has_fatal:
        sys.exit(EXIT_BAD_INPUT)
    sys.exit(EXIT_OK if result.passed else EXIT_FINDINGS)


def _wait_for_interrupt() -> None:
    import threading

    threading.Event().wait()


def _exempt_imports_from_gc() -> None:
    """Keep the garbage collector from walking, again and again, the objects that importing
    Alembic, SQLAlchemy and pglast created: they live until the process exits anyway.

    Each full collection visits every live object; on mlflow's history that was 0.3 s of a
    1.5 s check (docs/benchmarks.md). Objects made later (migrations, parse trees) are
    collected as usual. Only in migsafe's own process: a host that runs the commands
    in-process (tests) keeps its collector as it was.
    """
    if (click.get_current_context().find_root().obj or {}).get("own_process"):
        gc.freeze()


def _settings_near(locations: list[Path]) -> Settings:
    """``[tool.migsafe]`` from the pyproject.toml nearest the project being worked on."""
    first = locations[0] if locations else Path.cwd()
    start = first if first.is_dir() else first.parent
    try:
        return load_settings(start)
    except ConfigError as exc:
        _fail(str(exc))


def _fail(message: str) -> NoReturn:
    click.echo(f"migsafe: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def main() -> None:
    cli(obj={"own_process": True})
