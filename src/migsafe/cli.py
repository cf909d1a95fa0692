"""Command line: options → one call of ``migsafe.command`` → a reporter → an exit code.

No logic lives here. The same option means the same thing in every command (``-c/--config``,
``--pg-version``, ``--timeout``, ``--format``, ``--debug``); every error a user can fix is
one line on stderr and exit code 2 (``_handled``).
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

import click

from migsafe import __version__, own_process
from migsafe.errors import MigsafeError
from migsafe.findings import Severity

if TYPE_CHECKING:
    from migsafe.cache import ResultCache

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, own_process.INTERRUPTED

SEVERITY_CHOICE = click.Choice([str(s) for s in Severity], case_sensitive=False)


def _option(*declarations: str, **attributes: object) -> Callable[[Callable], Callable]:
    return click.option(*declarations, **attributes)  # type: ignore[arg-type]


def config_option(command: Callable) -> Callable:
    """-c/--config: an alembic.ini, in every command that reads a project."""
    return _option(
        "-c", "--config", "config_file", type=click.Path(path_type=Path),
        help="An Alembic configuration (alembic.ini, or any name) whose script_location holds "
        "the migrations.",
    )(command)  # fmt: skip


def pg_version_option(command: Callable) -> Callable:
    return _option(
        "--pg-version", type=click.IntRange(9, 30),
        help="PostgreSQL major version the migrations run on (check: the rules' verdicts; "
        "roundtrip, postgres: the server started). [default: postgres-version in "
        "[tool.migsafe], else 15 for check and any for a server]",
    )(command)  # fmt: skip


def postgres_option(command: Callable) -> Callable:
    return _option(
        "--postgres", default="auto", show_default=True,
        metavar="auto|embedded|system|docker|URL",
        help="Where the server comes from; a URL gets a scratch database on that server.",
    )(command)  # fmt: skip


def _timeout(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    from migsafe.config import MAX_TIMEOUT, valid_timeout

    if value is not None and not valid_timeout(value):
        raise click.BadParameter(
            f"{value:g} is not a number of seconds > 0, at most {MAX_TIMEOUT:g}"
        )
    return value


def timeout_option(command: Callable) -> Callable:
    return _option(
        "--timeout", type=float, callback=_timeout, metavar="SECONDS",
        help="Time limit for running one script (check) or one step (roundtrip), in seconds "
        "up to 86400. "
        "[default: timeout in [tool.migsafe], else 60]",
    )(command)  # fmt: skip


def x_option(command: Callable) -> Callable:
    return _option(
        "-x", "x_arguments", multiple=True, metavar="KEY=VALUE",
        help="Passed to the migrations as Alembic's -x (context.get_x_argument()); "
        "repeatable.",
    )(command)  # fmt: skip


def format_option(command_name: str) -> Callable[[Callable], Callable]:
    from migsafe.report import format_names

    return _option(
        "--format", "output_format", type=click.Choice(format_names(command_name)),
        default="text", show_default=True, help="Output format.",
    )  # fmt: skip


def no_cache_option(command: Callable) -> Callable:
    return _option(
        "--no-cache", is_flag=True,
        help="Check everything again, even if nothing changed since the last check.",
    )(command)  # fmt: skip


def _result_cache(no_cache: bool) -> ResultCache | None:
    """The result cache, unless --no-cache (which then costs nothing: not even its import)."""
    if no_cache:
        return None
    from migsafe.cache import ResultCache

    return ResultCache()


def output_option(command_name: str) -> Callable[[Callable], Callable]:
    """-o/--output FORMAT=PATH: the same result in more formats, from the one run (a CI job
    writes its annotations, SARIF, summary and junit without running anything twice)."""
    from migsafe.report import format_names

    names = format_names(command_name)

    def parse(context: click.Context, parameter: click.Parameter, values: tuple[str, ...]):
        outputs = []
        for value in values:
            name, _, path = value.partition("=")
            if name not in names or not path:
                raise click.BadParameter(
                    f"{value!r}: expected FORMAT=PATH, FORMAT one of {', '.join(names)}"
                )
            target = Path(path)
            if not target.parent.is_dir():  # said now, not after a roundtrip of minutes
                raise click.BadParameter(f"{value!r}: no directory {str(target.parent)!r}")
            if target.is_dir():
                raise click.BadParameter(f"{value!r}: {path!r} is a directory, not a file")
            outputs.append((name, target))
        return outputs

    return _option(
        "-o", "--output", "outputs", multiple=True, metavar="FORMAT=PATH", callback=parse,
        help="Also write the report in FORMAT to PATH; repeatable.",
    )  # fmt: skip


def debug_option(command: Callable) -> Callable:
    return _option("--debug", is_flag=True, help="Show tracebacks for internal errors.")(command)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="migsafe")
def cli() -> None:
    """Catch unsafe Alembic migrations before they reach a live PostgreSQL database."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@config_option
@format_option("check")
@_option("--fail-on", type=SEVERITY_CHOICE,
         help="Exit 1 when a finding is at least this severe. [default: warning]")  # fmt: skip
@pg_version_option
@_option("--select", multiple=True, metavar="RULE",
         help="Run only these rules (names, codes, code prefixes such as MS01, or ALL; "
         "comma-separated or repeated), instead of [tool.migsafe] select.")  # fmt: skip
@_option("--extend-select", multiple=True, metavar="RULE",
         help="Run these rules too (how opt-in rules are turned on).")  # fmt: skip
@_option("--ignore", multiple=True, metavar="RULE",
         help="Skip a rule (name, code or code prefix; comma-separated or repeated).")  # fmt: skip
@_option("--report-unused-ignores", is_flag=True, default=None,
         help="A notice for each # migsafe: ignore that hides no finding.")  # fmt: skip
@_option("--since", metavar="GIT_REF",
         help="Judge only the revisions whose files changed since GIT_REF (committed or "
         "not); the others still run, for the schema they build.")  # fmt: skip
@timeout_option
@x_option
@no_cache_option
@output_option("check")
@debug_option
def check(
    paths: tuple[Path, ...],
    config_file: Path | None,
    output_format: str,
    fail_on: str | None,
    pg_version: int | None,
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    report_unused_ignores: bool | None,
    since: str | None,
    timeout: float | None,
    x_arguments: tuple[str, ...],
    no_cache: bool,
    outputs: list[tuple[str, Path]],
    debug: bool,
) -> None:
    """Flag unsafe operations in Alembic migration scripts.

    PATHS may be versions directories, single migration files, a project directory holding
    alembic.ini, or alembic.ini itself (default: the current directory). A versions
    directory is read with the revisions in its subdirectories (versions/<release>/expand/).

    Each script's upgrade() and downgrade() really run, offline, as under
    `alembic upgrade --sql`: only check migrations you would run. A re-run on an unchanged
    project answers from the last run's result (see --no-cache).

    \b
    Exit codes: 0 nothing at or above --fail-on, 1 findings, 2 bad input or usage,
    130 interrupted.
    """
    from migsafe import command
    from migsafe.config import Overrides
    from migsafe.report import renderer

    overrides = Overrides(
        pg_version=pg_version,
        fail_on=Severity.parse(fail_on) if fail_on else None,
        ignore=ignore,
        select=select or None,
        extend_select=extend_select,
        report_unused_ignores=report_unused_ignores,
        timeout=timeout,
    )
    with _handled(debug):
        result = command.check(
            paths, overrides=overrides, config_file=config_file, x_arguments=x_arguments,
            since=since, cache=_result_cache(no_cache),
        )  # fmt: skip
    if result.checked == 0 and not result.diagnostics and not paths and config_file is None:
        # nothing named and nothing here: a hook or a CI step run from the wrong directory
        # would pass without checking anything
        _fail(
            f"no Alembic project in {Path.cwd()} (no alembic.ini, no versions directory): "
            "name it, as in `migsafe check backend/`"
        )
    if result.checked == 0 and not result.diagnostics:
        click.echo("no migrations found", err=output_format != "text")
        if output_format == "text":
            sys.exit(EXIT_OK)
    renderer("check", output_format)(result, sys.stdout)
    for name, path in outputs:
        with _handled(debug), _written(path) as out:
            renderer("check", name)(result, out)
    sys.exit(result.exit_code)


@cli.command(name="rules")
@click.option(
    "--docs",
    "docs_dir",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Write the rule reference (DIR/rules.md and a page per rule in DIR/rules/).",
)
def list_rules(docs_dir: Path | None) -> None:
    """List every rule with its code, severity and summary."""
    from migsafe.explain import rule_table, write_rule_docs

    if docs_dir is None:
        click.echo(rule_table())
        return
    written = write_rule_docs(docs_dir)
    click.echo(f"wrote {len(written)} files under {docs_dir}", err=True)


@cli.command()
@click.argument("rule")
def explain(rule: str) -> None:
    """Explain one rule (by name or code): why it matters and what to write instead."""
    from migsafe.explain import explain_rule
    from migsafe.rules import closest_rule

    text = explain_rule(rule)
    if text is None:
        _fail(f"unknown rule {rule!r}{closest_rule(rule)}; `migsafe rules` lists them")
    click.echo(text)


@cli.command()
@postgres_option
@pg_version_option
@debug_option
def postgres(postgres: str, pg_version: int | None, debug: bool) -> None:
    """Start a disposable PostgreSQL and keep it until Ctrl-C.

    Handy for `alembic revision --autogenerate` and for debugging a migration by hand.
    Everything it created is removed when it stops.
    """
    from migsafe.postgres import disposable_postgres
    from migsafe.postgres.url import masked

    stopped = "stopped; nothing left behind."
    with _handled(debug, stopped), disposable_postgres(postgres, pg_version) as database:
        click.echo(f"using {database.description}", err=True)
        # a server of the user's: its password is theirs, never echoed
        shown = masked(database.url) if database.provider == "url" else database.url
        click.echo(shown)
        if database.psql_command:
            click.echo(f"psql: {database.psql_command}", err=True)
        click.echo("Press Ctrl-C to stop and remove it.", err=True)
        _wait_for_interrupt()


@cli.command()
@click.argument("project", required=False, type=click.Path(path_type=Path))
@config_option
@postgres_option
@pg_version_option
@click.option("--from", "start", metavar="REV", help="First revision to roundtrip.")
@click.option("--to", "stop", metavar="REV", help="Last revision to roundtrip.")
@click.option(
    "--since", metavar="GIT_REF", help="Only revisions whose files changed since GIT_REF."
)
@_option("--shard", metavar="K/N",
         help="Only shard K of N: the selected revisions cut into N contiguous, nearly "
         "equal slices, for a CI matrix (merge their junit with migsafe merge-junit).")  # fmt: skip
@format_option("roundtrip")
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
@x_option
@output_option("roundtrip")
@debug_option
def roundtrip(
    project: Path | None,
    config_file: Path | None,
    postgres: str,
    pg_version: int | None,
    start: str | None,
    stop: str | None,
    since: str | None,
    shard: str | None,
    output_format: str,
    use_env: bool,
    metadata: str | None,
    one_way: str,
    timeout: float | None,
    x_arguments: tuple[str, ...],
    outputs: list[tuple[str, Path]],
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
    from migsafe import command
    from migsafe.config import Overrides
    from migsafe.report.roundtrip import streaming_renderer
    from migsafe.report.roundtrip.progress import RevisionProgress
    from migsafe.roundtrip import RoundtripOptions

    stream = streaming_renderer(output_format, sys.stdout)
    overrides = Overrides(pg_version=pg_version, metadata=metadata, timeout=timeout)
    options = RoundtripOptions(postgres, start, stop, since, use_env, one_way == "fail", shard)
    with _handled(debug), RevisionProgress(stream.revision) as progress:
        result = command.roundtrip(
            [project] if project else [], options, progress=progress, overrides=overrides,
            config_file=config_file, x_arguments=x_arguments,
        )  # fmt: skip
    if not result.revisions and not result.diagnostics and not result.interrupted:
        if result.shard is None:
            click.echo("no migrations found", err=output_format != "text")
        else:
            click.echo(f"shard {result.shard}: no revisions in this slice", err=True)
    stream.finish(result)
    for name, path in outputs:
        with _handled(debug), _written(path) as out:
            report = streaming_renderer(name, out)
            for revision in result.revisions:
                report.revision(revision)
            report.finish(result)
    if result.interrupted:
        click.echo("interrupted; the databases it created are removed.", err=True)
    sys.exit(result.exit_code)


@cli.command()
@click.argument("project", required=False, type=click.Path(path_type=Path))
@config_option
@_option("--since", metavar="GIT_REF",
         help="Only the revisions whose files changed since GIT_REF (committed or not): "
         "a pull request's.")  # fmt: skip
@_option("--from", "start", metavar="REV", help="First revision of the plan (id or prefix).")
@_option("--to", "stop", metavar="REV", help="Last revision of the plan (id or prefix).")
@_option("--roundtrip", "roundtrip_json", type=click.Path(path_type=Path), metavar="FILE",
         help="The report of `migsafe roundtrip --format json`: the downgrades that passed "
         "it are the rollback path.")  # fmt: skip
@format_option("runbook")
@pg_version_option
@timeout_option
@x_option
@no_cache_option
@output_option("runbook")
@debug_option
def runbook(
    project: Path | None,
    config_file: Path | None,
    since: str | None,
    start: str | None,
    stop: str | None,
    roundtrip_json: Path | None,
    output_format: str,
    pg_version: int | None,
    timeout: float | None,
    x_arguments: tuple[str, ...],
    no_cache: bool,
    outputs: list[tuple[str, Path]],
    debug: bool,
) -> None:
    """Plan shipping the revisions without downtime, one at a time, in order.

    For each: its phase (before the deploy: additive; after it: the code must stop using
    something first; a maintenance window: a strong lock on a table with rows), a call-out
    with how to split a revision that mixes both, the locks it takes and what they block,
    the timeouts, the alembic command, the checks to run after, and the rollback path
    (--roundtrip tells which downgrades passed). PROJECT is as for roundtrip (default: the
    current directory). The revisions run offline, as for `migsafe check`.

    \b
    Exit codes: 0 a plan was made (maintenance windows included: it is a plan, not a
    gate; `migsafe check` is the gate), 2 bad input or usage, 130 interrupted.
    """
    from migsafe import command
    from migsafe.config import Overrides
    from migsafe.report import renderer

    overrides = Overrides(pg_version=pg_version, timeout=timeout)
    with _handled(debug):
        plan = command.runbook(
            [project] if project else [], overrides=overrides, config_file=config_file,
            x_arguments=x_arguments, since=since, start=start, stop=stop,
            roundtrip_json=roundtrip_json, cache=_result_cache(no_cache),
        )  # fmt: skip
    renderer("runbook", output_format)(plan, sys.stdout)
    for name, path in outputs:
        with _handled(debug), _written(path) as out:
            renderer("runbook", name)(plan, out)
    sys.exit(plan.exit_code)


@cli.command()
@click.argument("directory", required=False, default=".", type=click.Path(path_type=Path))
@_option("--template", type=click.Choice(["sync", "async"]), default="sync", show_default=True,
         help="The engine env.py and database.py use: sync, or async (psycopg 3).")  # fmt: skip
@_option("--metadata", metavar="MODULE:ATTR",
         help="Your models' MetaData, e.g. app.models:Base.metadata (else a models.py "
         "starter is written).")  # fmt: skip
@_option("--existing", is_flag=True,
         help="For a project that has Alembic already: print the changes as a patch.")  # fmt: skip
@_option("--apply", is_flag=True, help="With --existing: make the changes instead.")
@config_option
@debug_option
def init(
    directory: Path,
    template: str,
    metadata: str | None,
    existing: bool,
    apply: bool,
    config_file: Path | None,
    debug: bool,
) -> None:
    """Set up Alembic safely in DIRECTORY (default: here): a file name that sorts by date and
    cannot collide, a constraint naming convention, lock and statement timeouts, and a hook
    that checks every new revision as it is written.

    Never overwrites a file. With --existing, proposes the same safeguards to a project that
    already uses Alembic, as a patch to review (or --apply it).
    """
    from migsafe import command

    with _handled(debug):
        if existing:
            adoption = command.adopt(config_file or directory / "alembic.ini", metadata)
            for note in adoption.notes:
                click.echo(f"note: {note}", err=True)
            if not adoption.changes:
                click.echo("nothing to change", err=True)
            elif apply:
                for path in adoption.apply():
                    click.echo(f"changed {path}", err=True)
            else:
                click.echo(adoption.patch, nl=False)
                click.echo("review it, then: git apply (or run again with --apply)", err=True)
            sys.exit(EXIT_OK)
        if apply or config_file:
            _fail("--apply and -c go with --existing")
        result = command.init(directory, template, metadata)
    for path in result.written:
        click.echo(f"wrote {path}")
    if result.pyproject:
        click.echo(f"added [tool.migsafe] to {result.pyproject}")
    elif result.pyproject_note:
        click.echo(result.pyproject_note)
    click.echo("\nNext:")
    for line in result.next_commands:
        click.echo(f"  {line}")


@cli.command()
@click.argument("project", required=False, type=click.Path(path_type=Path))
@config_option
@_option("-m", "--message", help="The revision's message (its file name's slug).")
@_option("--autogenerate", is_flag=True,
         help="Compare the models with a disposable database upgraded to head.")  # fmt: skip
@_option("--head", default="head", show_default=True, help="The head to base it on.")
@_option("--splice", is_flag=True, help="Allow a non-head revision as the head.")
@_option("--branch-label", help="A label for the new revision's branch.")
@_option("--depends-on", help="Revisions it depends on (comma-separated).")
@_option("--rev-id", help="Its revision id, instead of a generated one.")
@_option("--version-path", help="The versions directory to write it into.")
@postgres_option
@pg_version_option
@timeout_option
@x_option
@debug_option
def revision(
    project: Path | None,
    config_file: Path | None,
    message: str | None,
    autogenerate: bool,
    head: str,
    splice: bool,
    branch_label: str | None,
    depends_on: str | None,
    rev_id: str | None,
    version_path: str | None,
    postgres: str,
    pg_version: int | None,
    timeout: float | None,
    x_arguments: tuple[str, ...],
    debug: bool,
) -> None:
    """Write a new revision, as `alembic revision` does, then check it.

    PROJECT is a directory holding alembic.ini, or alembic.ini itself (default: here). With
    --autogenerate the models are compared with a disposable PostgreSQL upgraded to head
    (--postgres), through your env.py: no database of your own is needed.

    \b
    Exit codes: 0 written (its findings, if any, are printed), 2 bad input (several heads
    without --head, no metadata for --autogenerate, ...), 130 interrupted.
    """
    from migsafe import command
    from migsafe.config import Overrides
    from migsafe.report import display_path, renderer
    from migsafe.scaffold.revision import RevisionOptions

    options = RevisionOptions(
        message, autogenerate, head, splice, branch_label, depends_on, rev_id, version_path,
        postgres,
    )  # fmt: skip
    with _handled(debug):
        result = command.revision(
            [project] if project else [], options, overrides=Overrides(pg_version=pg_version,
            timeout=timeout), config_file=config_file, x_arguments=x_arguments,
        )  # fmt: skip
    for path in result.paths:
        click.echo(f"wrote {display_path(path)}", err=True)
    if result.check is not None:
        renderer("check", "text")(result.check, sys.stdout)
    sys.exit(EXIT_OK)


@cli.command(name="merge-junit")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--output", "output", type=click.Path(path_type=Path),
              help="Write the merged report here instead of standard output.")  # fmt: skip
@debug_option
def merge_junit(files: tuple[Path, ...], output: Path | None, debug: bool) -> None:
    """Merge the junit reports of roundtrip's shards (--shard K/N) into one, as the
    unsharded run would have written it."""
    from migsafe.report.roundtrip.junit_merge import merge_junit as merge

    documents = []
    for path in files:
        try:
            documents.append(path.read_text(encoding="utf-8"))
        except OSError as exc:
            _fail(f"{path}: cannot read the report: {exc.strerror}")
    with _handled(debug):
        merged = merge(documents, names=[str(path) for path in files])
    if output is None:
        click.echo(merged, nl=False)
    else:
        with _written(output) as out:
            out.write(merged)


@contextmanager
def _written(path: Path) -> Iterator[TextIO]:
    """``path`` open for a report; a path that cannot be written is bad input (exit 2)."""
    try:
        with path.open("w", encoding="utf-8") as out:
            yield out
    except OSError as exc:
        _fail(f"{path}: cannot write the report: {exc.strerror}")


@contextmanager
def _handled(debug: bool, interrupted: str = own_process.NOTHING_CHANGED) -> Iterator[None]:
    """One place that turns what a command raises into a line on stderr and an exit code."""
    try:
        yield
    except MigsafeError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        click.echo(interrupted, err=True)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:
        if debug:
            raise
        _fail(f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)")


def _wait_for_interrupt() -> None:
    import threading

    threading.Event().wait()


def _fail(message: str) -> NoReturn:
    click.echo(f"migsafe: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def main() -> None:
    """Run the command line in a process claimed for it (``migsafe.__main__``).

    Click's own ending is off (``standalone_mode=False``): it would turn a Ctrl-C that comes
    while it parses the arguments, before a command's ``_handled``, into "Aborted!" and exit
    code 1, where migsafe says it was interrupted and exits 130 at any moment.
    """
    try:
        code = cli.main(standalone_mode=False)
    except SystemExit as done:  # every command ends with sys.exit
        code = done.code
    except (click.exceptions.Abort, KeyboardInterrupt):
        own_process.interrupted()
    except click.ClickException as exc:  # a usage error: what click itself prints
        exc.show()
        code = exc.exit_code
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        code = 1  # the reader went away (| head)
    own_process.exit_now(code)
