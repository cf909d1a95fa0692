"""work-after-access-exclusive-lock: slow work later in the transaction that took an ACCESS
EXCLUSIVE lock on a live table keeps every query of that table waiting for it."""

from __future__ import annotations

from collections.abc import Iterator

from alembic.operations import ops
from pglast import ast
from pglast.enums import AlterTableType, ConstrType, ObjectType

from migsafe.findings import Finding, Severity
from migsafe.locks import LockMode
from migsafe.revision import RevisionContext, alter_commands, is_version_table, table_values
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule, filled, sql_code
from migsafe.rules._index_calls import concurrent_call
from migsafe.rules._passes import VALIDATION
from migsafe.rules._same_revision import dropped_after
from migsafe.rules.several_alters_same_table import statement_passes
from migsafe.sql import Statement, TableName, quote_identifier

RULE = Rule(
    code="MS025",
    name="work-after-access-exclusive-lock",
    severity=Severity.WARNING,
    category=Category.LOCKING,
    help="Commit the ACCESS EXCLUSIVE statement before the slow work: an autocommit_block() "
    "or a revision of its own for the work, or take the lock last.",
    references=(
        PG_DOCS + "explicit-locking.html#LOCKING-TABLES",
        "https://alembic.sqlalchemy.org/en/latest/api/runtime.html#alembic.runtime.migration.MigrationContext.autocommit_block",
    ),
    directions=(UPGRADE, DOWNGRADE),
    rewrites_batch_blocks=True,
    summary="Slow work after an ACCESS EXCLUSIVE lock in the same transaction keeps the table "
    "locked while it runs.",
    why=(
        "Alembic runs a migration in one transaction, and PostgreSQL holds every lock until it "
        "commits. A quick ALTER TABLE (ADD COLUMN, DROP COLUMN, a rename) takes ACCESS "
        "EXCLUSIVE for a moment, but whatever runs after it in the same transaction runs "
        "with that lock still held, so every read and write of the table waits for it too: "
        "an index build (CREATE INDEX lets reads through on its own, not under this lock), a "
        "validation or another scan, a table rewrite, REINDEX, CLUSTER, REFRESH MATERIALIZED "
        "VIEW, CREATE TABLE AS. Counted as work are the statements that read or rewrite a "
        "table's rows; catalog-only changes are not, nor a statement that takes ACCESS "
        "EXCLUSIVE on the same table itself (it would block that table anyway). Data changes "
        "(UPDATE, DELETE, INSERT ... SELECT) are data-change-with-ddl's to report. Tables the "
        "revision creates have no traffic yet, and statements in an autocommit_block() each "
        "commit on their own. A foreign key or CHECK whose only slow part is checking the rows "
        "is added NOT VALID instead, and validated after the commit: committing before it "
        "would leave a key the revision dropped to replace missing in between."
    ),
    fix="{recipe}",
    bad=(
        """\
def upgrade():
    op.add_column("orders", sa.Column("tenant_id", sa.Integer()))
    op.create_index("ix_orders_tenant_id", "orders", ["tenant_id"])
""",
    ),
    good=(
        """\
def upgrade():
    op.add_column("orders", sa.Column("tenant_id", sa.Integer()))
    with op.get_context().autocommit_block():
        op.create_index("ix_orders_tenant_id", "orders", ["tenant_id"],
                        postgresql_concurrently=True)
""",
        """\
def upgrade():
    op.create_index("ix_orders_created_at", "orders", ["created_at"])
    op.add_column("orders", sa.Column("note", sa.Text()))
""",
    ),
    since="0.2.0",
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    for transaction in rev.transactions(RULE):
        yield from _judge(rev, transaction)


def _renamed_to(lock: Statement, table: TableName) -> TableName | None:
    """The table's new name when the statement that locked it renamed it."""
    node = lock.node
    if isinstance(node, ast.RenameStmt) and node.renameType == ObjectType.OBJECT_TABLE:
        return TableName(table.schema, node.newname)
    return None


def _judge(rev: RevisionContext, transaction: list[Statement]) -> Iterator[Finding]:
    """One finding per held lock: at the first slow statement under it, naming the others."""
    # the first statement that took ACCESS EXCLUSIVE on each live table, with the table
    held: list[tuple[Statement, TableName]] = []
    under: dict[int, tuple[Statement, TableName, list[tuple[Statement, str]]]] = {}
    for stmt in transaction:
        work = _work(rev, stmt) if held else None  # nothing held: nothing waits
        taken = _lock_that_matters(held, stmt) if work is not None else None
        if taken is not None:
            works = under.setdefault(id(taken[0]), (*taken, []))[2]
            if all(_call(s) != _call(stmt) for s, _ in works):
                works.append((stmt, work))  # one call may render several statements
        for table in _takes_access_exclusive(rev, stmt):
            if all(t != table for _, t in held):
                held.append((stmt, table))
    for lock, table, works in under.values():
        (stmt, work), others = works[0], [s.line for s, _ in works[1:]]  # a loop's: each
        shared = stmt.line == lock.line  # one call renders both (ADD COLUMN ... REFERENCES)
        renamed = _renamed_to(lock, table)  # fides renames a table, then indexes it
        on = "it" if stmt.table in (table, renamed) else table.sql
        held_on = f"{table.sql} (renamed {renamed.sql} there)" if renamed else table.sql
        also_locked = [t for s, t in held if s is lock and t != table]  # ckanext-harvest's
        if also_locked:  # dropped key locks the table it refers to, CKAN's ``package``
            held_on = f"{held_on} and {', '.join(t.sql for t in also_locked)}"
            on = "them"
        more = f", {_as_do(others)} after it ({_lines(others)})" if others else ""
        also = f"\n    # and the same for the slow work at {_lines(others)}" if others else ""
        values = dict(
            lock=_source(rev, lock, transaction, shared=shared, upto=True),
            between=_between(transaction, lock, stmt),
            lock_line=lock.line,
        )
        not_valid = None if shared else _not_valid(rev, stmt)
        replacing = None if shared else _key_dropped_for(rev, transaction, stmt)
        missing = None if shared else _dropped_until_later(rev, transaction, stmt)
        if not_valid is None and replacing is not None:  # invenio-accounts drops its primary
            recipe = filled(_KEY_BEFORE, **values, **replacing)  # key CASCADE, re-adds it
        elif not_valid is None and missing is not None:  # and retypes the column that
            recipe = filled(_KEY_MISSING, **values, **missing)  # referred to it meanwhile
        elif not_valid is not None:  # celery-director drops its key and adds it back
            recipe = filled(
                _VALIDATE_LATER, **values, work=not_valid[0], validate=not_valid[1]
            ) + also.replace("\n    #", "\n#")  # (ckanext-harvest re-adds three in one)
        else:
            work_source = _source(rev, stmt, transaction, shared=shared, upto=False)
            recipe = filled(
                _COMMIT_FIRST, **values, work=work_source.replace("\n", "\n    ") + also
            )
        yield rev.finding(
            RULE,
            stmt,
            f"{work} runs while the ACCESS EXCLUSIVE lock taken on {held_on} at line "
            f"{lock.line} is held{more}: all reads and writes of {on} wait until "
            f"{'they are' if others else 'it is'} done and the migration commits.",
            recipe=recipe,
        )


_COMMIT_FIRST = """\
{lock}{between}
with op.get_context().autocommit_block():  # commits first: the lock of line {lock_line} is released
    {work}
# (or run it before line {lock_line} if it does not need that change, or in its own revision)"""

_KEY_BEFORE = """\
{lock}{between}
# it adds a key in the place of "{dropped}", which this transaction dropped: a commit
# before it would leave the table without either. Build the key's index before line
# {lock_line} instead, CONCURRENTLY, under a name of its own:
#     with op.get_context().autocommit_block():
#         op.create_index({index!r}, {table!r}, {columns!r}, unique=True,
#                         postgresql_concurrently=True{schema})
# and add the key here on that index, in this transaction (it takes the key's name):
op.execute('ALTER TABLE {table_sql} ADD CONSTRAINT "{name}" {kind} USING INDEX "{index}"')"""

_KEY_MISSING = """\
{lock}{between}
# "{dropped}" (dropped at line {dropped_line}) is added back at line {added_line}: a commit
# before this would leave it missing in between, and a failure here would leave it gone.
# Keep the work in this transaction and deploy when its lock can be afforded, or change
# the schema beside the old one instead (a new column, backfilled, swapped in a later
# revision), where no key has to go."""

_VALIDATE_LATER = """\
{lock}{between}
# NOT VALID: it no longer reads the rows while the lock of line {lock_line} is held
{work}
with op.get_context().autocommit_block():  # commits first; VALIDATE locks no reads or writes
    op.execute({validate})"""

# the operations that can add their constraint NOT VALID, and check the rows later
_NOT_VALID_CALLS = (ops.CreateForeignKeyOp, ops.CreateCheckConstraintOp)


def _not_valid(rev: RevisionContext, stmt: Statement) -> tuple[str, str] | None:
    """For a constraint whose only slow part is checking the rows, added by an Alembic call:
    the call with ``postgresql_not_valid=True``, and the VALIDATE to run after the commit.
    Committing before the call instead would leave the table without the constraint it
    dropped at the lock (celery-director drops a key and adds it back with a new ON
    DELETE): a window where rows skip the check, and no constraint if the add fails."""
    if not isinstance(stmt.operation, _NOT_VALID_CALLS) or stmt.table is None:
        return None
    if list(dict.fromkeys(statement_passes(rev, stmt))) != [VALIDATION]:
        return None
    added = next(alter_commands(stmt.node, AlterTableType.AT_AddConstraint), None)
    constraint = added.def_ if added is not None else None
    if not isinstance(constraint, ast.Constraint):
        return None
    name = constraint.conname
    if not name and constraint.contype == ConstrType.CONSTR_FOREIGN:  # ironic's
        columns = tuple(s.sval for s in constraint.fk_attrs or ())  # create_foreign_key(None,
        name = rev.name_chosen(stmt, columns, "foreign key")  # ...): PostgreSQL names it
    if not name:
        return None
    if rev.in_batch_block(stmt.line) or rev.in_loop(stmt.line):  # batch_op's call runs
        # when its block ends, after the VALIDATE; a loop's names its variables: as SQL
        call = f"op.execute({sql_code(f'{stmt.sql} NOT VALID')})"
    else:
        source = rev.code_at(stmt.line)
        if source is None or not source.rstrip().endswith(")"):
            return None
        call = source.rstrip()[:-1].rstrip().rstrip(",") + ", postgresql_not_valid=True)"
    validate = f"ALTER TABLE {stmt.table.sql} VALIDATE CONSTRAINT {quote_identifier(name)}"
    return call, sql_code(validate)


def _key_dropped_for(
    rev: RevisionContext, transaction: list[Statement], work: Statement
) -> dict[str, object] | None:
    """What the recipe says of a primary key or unique constraint the work adds in the place
    of one the transaction dropped from its table (the dropped one's name, the new one's
    name, kind, columns and index): a commit between the two would leave the table
    without either."""
    table = work.table
    added = next(
        (
            cmd.def_ for cmd in alter_commands(work.node, AlterTableType.AT_AddConstraint)
            if isinstance(cmd.def_, ast.Constraint)
            and cmd.def_.contype in (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE)
        ),
        None,
    )  # fmt: skip
    if added is None or table is None:
        return None
    dropped = next(
        (
            cmd.name for stmt in transaction[: transaction.index(work)] if stmt.table == table
            for cmd in alter_commands(stmt.node, AlterTableType.AT_DropConstraint)
        ),
        None,
    )  # fmt: skip
    if dropped is None:
        return None
    primary = added.contype == ConstrType.CONSTR_PRIMARY
    columns = tuple(key.sval for key in added.keys or ())
    name = added.conname or rev.name_chosen(work, columns, "primary key" if primary else "unique")
    return {
        "dropped": dropped, "name": name, "index": f"{name}_new", "columns": list(columns),
        "kind": "PRIMARY KEY" if primary else "UNIQUE", **table_values(table),
    }  # fmt: skip


def _dropped_until_later(
    rev: RevisionContext, transaction: list[Statement], work: Statement
) -> dict[str, object] | None:
    """A constraint the transaction dropped before the work that the function adds back
    after it (its name, and the two lines): committing before the work would leave the
    schema without it in between."""
    statements = rev.downgrade if work.direction == DOWNGRADE else rev.upgrade
    after = statements[statements.index(work) :] if work in statements else []
    for stmt in transaction[: transaction.index(work)]:
        for cmd in alter_commands(stmt.node, AlterTableType.AT_DropConstraint):
            for later in after:
                for add in alter_commands(later.node, AlterTableType.AT_AddConstraint):
                    if getattr(add.def_, "conname", None) == cmd.name:
                        return {
                            "dropped": cmd.name, "dropped_line": stmt.line,
                            "added_line": later.line,
                        }  # fmt: skip
    return None


def _between(transaction: list[Statement], lock: Statement, work: Statement) -> str:
    """The statements of the transaction between the two, which the recipe leaves where they
    are (lemur adds the column its foreign key needs there): said, so that nobody drops them
    when replacing the lines."""
    start, end = transaction.index(lock), transaction.index(work)
    lines = sorted(
        {s.line for s in transaction[start + 1 : end]} - {lock.line, work.line}
    )  # fmt: skip
    if not lines:
        return ""
    return f"\n# ... and what {_lines(lines)} do{'es' if len(lines) == 1 else ''}, as before ..."


def _call(stmt: Statement) -> object:
    """The call that issued ``stmt``: one Alembic operation may render several statements,
    and a loop issues one from the same line each time round (networking-bgpvpn's four
    tables), each a statement of its own."""
    return id(stmt.operation) if stmt.operation is not None else stmt.line


def _as_do(lines: list[int]) -> str:
    if len(lines) == 1:
        return "as does 1 more slow statement"
    return f"as do {len(lines)} more slow statements"


def _lines(lines: list[int]) -> str:
    lines = sorted(set(lines))
    if len(lines) == 1:
        return f"line {lines[0]}"
    return f"lines {', '.join(str(n) for n in lines[:-1])} and {lines[-1]}"


def _lock_that_matters(
    held: list[tuple[Statement, TableName]], work: Statement
) -> tuple[Statement, TableName] | None:
    """The held lock to name: on the work's own table, else the one held longest. A lock on
    the table the work itself locks ACCESS EXCLUSIVE adds nothing: it is left out."""
    itself = work.lock == LockMode.ACCESS_EXCLUSIVE
    candidates = [(s, t) for s, t in held if not (itself and t == work.table)]
    same = [(s, t) for s, t in candidates if t == work.table]
    return (same or candidates or [None])[0]


def _takes_access_exclusive(rev: RevisionContext, stmt: Statement) -> list[TableName]:
    """The live tables a statement holds ACCESS EXCLUSIVE on until commit: the one it names,
    or the table of the index a DROP INDEX drops, and the tables the foreign keys it drops
    refer to (octavia drops ``fk_listener_pool_id``: ``pool`` is locked from there). LOCK
    TABLE is lock-table's to judge."""
    node = stmt.node
    if isinstance(node, ast.LockStmt) or stmt.lock != LockMode.ACCESS_EXCLUSIVE:
        return []
    if isinstance(node, ast.RenameStmt) and node.renameType == ObjectType.OBJECT_INDEX:
        return []
    if isinstance(node, ast.AlterTableStmt) and node.objtype == ObjectType.OBJECT_INDEX:
        return []
    candidates = [rev.locked_table(stmt), *rev.keys_dropped_to(stmt)]
    return [
        table
        for table in dict.fromkeys(t for t in candidates if t is not None)
        if not is_version_table(table)
        and not rev.is_new_table(stmt, table)
        # fittrackee drops an index, then its table: drop-table says what breaks
        and not dropped_after(rev, stmt, table)
    ]


def _work(rev: RevisionContext, stmt: Statement) -> str | None:
    """What makes ``stmt`` slow, in words; None for a statement that only changes the
    catalog (or a data change, which data-change-with-ddl reports)."""
    node = stmt.node
    if isinstance(node, ast.IndexStmt):
        if node.concurrent or rev.is_new_table(stmt):
            return None
        name = f' "{node.idxname}"' if node.idxname else ""
        return f"Building index{name} on {stmt.table.sql}"
    if isinstance(node, ast.AlterTableStmt):
        if stmt.table is None or rev.is_new_table(stmt):
            return None
        passes = list(dict.fromkeys(statement_passes(rev, stmt)))
        if not passes:
            return None
        return f"ALTER TABLE {stmt.table.sql} ({', '.join(passes)})"
    if isinstance(node, ast.ReindexStmt):
        concurrent = any(p.defname == "concurrently" for p in node.params or ())
        return None if concurrent else "REINDEX"
    if isinstance(node, ast.ClusterStmt):
        return f"CLUSTER {stmt.table.sql}" if stmt.table else "CLUSTER"
    if isinstance(node, ast.RefreshMatViewStmt) and not node.skipData:
        return f"REFRESH MATERIALIZED VIEW {stmt.table.sql}"
    if isinstance(node, ast.CreateTableAsStmt) and not node.into.skipData:
        what = "MATERIALIZED VIEW" if node.objtype == ObjectType.OBJECT_MATVIEW else "TABLE"
        return f"CREATE {what} ... AS"
    return None


def _source(
    rev: RevisionContext,
    stmt: Statement,
    transaction: list[Statement],
    *,
    shared: bool,
    upto: bool,
) -> str:
    """The user's own call; as op.execute() of the statements it rendered when the source is
    no single call, a batch operation (which runs when its batch_alter_table() block ends,
    so that wrapping the call alone changes nothing), or a call that renders both the lock
    and the work (``shared``): then the statements of that line up to ``stmt`` (``upto``,
    the lock's part) or from it on (the work's part), so that none runs twice."""
    if isinstance(stmt.node, ast.IndexStmt) and not shared:  # out of the transaction, it can
        return concurrent_call(stmt.operation, stmt.node)  # be concurrent
    source = rev.source_at(stmt.line)
    moved = shared or rev.in_batch_block(stmt.line) or rev.in_loop(stmt.line)
    if source is not None and not moved:
        return source.strip()
    at = transaction.index(stmt)
    same_line = [
        s for i, s in enumerate(transaction)
        if s.line == stmt.line and (i <= at if upto else i >= at)
    ]  # fmt: skip
    rendered = dict.fromkeys(  # an index out of the transaction can be built concurrently
        concurrent_call(None, s.node) if isinstance(s.node, ast.IndexStmt) and not upto
        else f"op.execute({sql_code(s.sql)})"
        for s in same_line
    )  # fmt: skip
    return "\n".join(rendered)
