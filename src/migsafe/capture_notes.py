"""What the capture of a script could not follow exactly, as notes with their lines: a
failure, a guess on a stand-in, rows read, tables asked for that no revision made (or taken
to exist), tables reflected in part. check attaches them to the script's report."""

from __future__ import annotations

from collections.abc import Sequence

from migsafe.capture import Capture
from migsafe.capture.recorder import AskedAbsent
from migsafe.capture.stand_ins import Reach
from migsafe.catalog import Name
from migsafe.findings import Diagnostic
from migsafe.project import MigrationScript
from migsafe.revision import is_version_table
from migsafe.sql import TableName, clipped


def capture_notes(script: MigrationScript, *captures: Capture) -> list[Diagnostic]:
    """What the capture could not follow exactly, each once, with its line."""
    notes: dict[tuple[int | None, str], Diagnostic] = {}

    def note(line: int | None, message: str, fatal: bool = False) -> None:
        notes.setdefault((line, message), Diagnostic(script.path, message, fatal, line))

    for capture in captures:
        name = f"{capture.function}()"
        if capture.failure is not None:
            failure = capture.failure
            behind = failure.stood_in or capture.stood_in
            cause = _stood_in_clause(behind) if failure.stand_ins_behind else ""
            rest = "nothing of it is checked" if failure.message.startswith("importing") else (
                f"only what {name} did before that is checked"
            )  # fmt: skip
            note(failure.line, f"{failure.message}{cause}; {rest}", failure.fatal)
        for guess in capture.guesses:
            did = f"{name} {guess.how.format(name=guess.name)}{_stood_in_clause(guess.modules)}"
            if guess.reach is Reach.ROWS:
                note(guess.line, f"{did}: the rows that statement writes are not known, so it "
                     "is not checked; the statements after it are")  # fmt: skip
            elif guess.reach is Reach.HANDLED:
                note(guess.line, f"{did} in a try block: it is not known offline, so it "
                     "raised there and the migration's handler went on; the statements "
                     "after it are checked")  # fmt: skip
            elif guess.reach is Reach.EFFECT:
                note(guess.line, f"{did}: what it does is not known, so it is not checked; "
                     "the statements after it are")  # fmt: skip
            else:
                note(guess.line, f"{did}: from this line on it is not checked")
                break
        if capture.exact:  # else a note above says what of it is not known
            for line, message in _asked_absent_notes(name, capture.tables_asked_absent):
                note(line, message)
        if not capture.assumed_covers:  # else where they do not exist, it does no more
            for line, message in _asked_absent_notes(name, capture.tables_assumed, True):
                note(line, message)
        for line, message in _partial_reflection_notes(name, capture.recorder.partial_reflections):
            note(line, message)
        if capture.online_left_out:
            note(
                capture.recorder.asked_offline,
                f"{name} asks whether it runs offline ({capture.online_left_out}), so it is "
                "checked as under alembic upgrade --sql; what it does online is not",
            )
        for refused in capture.recorder.refused:  # privacyidea makes its indexes again
            note(
                refused.line,
                f"{name} runs {clipped(refused.sql)} in a try block, which fails on "
                f"PostgreSQL ({refused.why}): the migration's handler takes the error, as "
                "under alembic upgrade, and the rest of the try block does not run",
            )
        if capture.reads and capture.raised_empty is not None:
            read, raised = capture.reads[0], capture.raised_empty
            note(
                read.line,
                f"{name} reads rows through op.get_bind() ({clipped(read.sql)}): where they "
                f"come back as from an empty database, it {raised.message.split(' ', 1)[1]} "
                f"(line {raised.line}); it is checked as where each query finds one row, and "
                "what other rows would change is not",
            )
        elif capture.reads and not capture.rows_followed:
            read = capture.reads[0]
            more = f" and {len(capture.reads) - 1} more" if len(capture.reads) > 1 else ""
            note(
                read.line,
                f"{name} reads rows through op.get_bind() ({clipped(read.sql)}{more}): offline, "
                "they come back as from an empty database, so statements that depend on "
                "them are not checked",
            )
    return list(notes.values())


def _partial_reflection_notes(
    function: str, reflected: dict[Name, tuple[int, bool]]
) -> list[tuple[int, str]]:
    """One note per line that reflected tables the history only altered (or made in a
    revision not captured to its end): the columns it did not add are not known."""
    by_line: dict[tuple[int, bool], list[str]] = {}
    for table, (line, exact) in reflected.items():
        by_line.setdefault((line, exact), []).append(TableName.from_key(table).sql)
    notes = []
    for (line, exact), tables in by_line.items():
        one = len(tables) == 1
        which = f"table {tables[0]}" if one else f"tables {_listed(tables)}"
        known = (
            f"which no revision creates (it only alters {'it' if one else 'them'})"
            if exact
            else f"which no revision before it is known to create (it only alters "
            f"{'it' if one else 'them'}, or a revision before it not checked to its end made "
            f"{'it' if one else 'them'})"
        )
        notes.append((
            line,
            f"{function} reflects {which}, {known}: of {'its' if one else 'their'} columns "
            "only those the history added are known, so from this line on it is not checked",
        ))  # fmt: skip
    return notes


def _listed(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _asked_absent_notes(
    function: str, asked: Sequence[AskedAbsent], assumed: bool = False
) -> list[tuple[int, str]]:
    """One note per line that asked for tables the schema built so far does not hold (not
    for bookkeeping: sqlalchemy-migrate's table, a batch copy a failed run left); or, with
    ``assumed``, that such tables were taken to exist for the run judged."""
    by_line: dict[int, list[AskedAbsent]] = {}
    for item in asked:
        if not is_version_table(TableName.from_key(item.table)):
            by_line.setdefault(item.line, []).append(item)
    notes = []
    for line, items in by_line.items():
        tables = [TableName.from_key(item.table).sql for item in items]
        if len(tables) == 1:
            which, it, they = f"table {tables[0]} exists", "it", "it does"
        else:
            which = f"tables {_listed(tables)} exist"
            it, they = "them", "they do"
        why = (
            f"no revision before it creates {it}"
            if all(item.exact for item in items)
            else f"the schema migsafe built does not hold {it}, but it is not known whole "
            "there (a revision before it was not checked to its end, or depends on another "
            "history's)"
        )
        if assumed:
            message = (
                f"{function} asks whether {which}: {why}; it is checked as where {they}, "
                "made outside the history, whose columns are not known"
            )
        else:
            message = (
                f"{function} asks whether {which}: {why}, so offline {they} not, and what "
                f"{function} does otherwise is not checked"
            )
        notes.append((line, message))
    return notes


def _stood_in_clause(modules: Sequence[tuple[str, str]]) -> str:
    """`` (myapp is stood in: no module named 'myapp')`` for the first stood-in module."""
    if not modules:
        return ""
    module, why = modules[0]
    more = f" and {len(modules) - 1} more" if len(modules) > 1 else ""
    return f" ({module}{more} stood in: {why})"
