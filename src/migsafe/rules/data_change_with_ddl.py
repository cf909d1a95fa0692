"""data-change-with-ddl: a data change and a schema change on live tables in one transaction,
so that one holds its locks for as long as the other takes."""

from __future__ import annotations

import ast as ast_py
from collections.abc import Iterator
from dataclasses import replace

import pglast
from pglast import ast
from pglast.enums import A_Expr_Kind, BoolExprType, SetOperation

from migsafe.findings import Finding, Severity
from migsafe.locks import LockMode
from migsafe.revision import RevisionContext, is_version_table
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule
from migsafe.rules._batches import batched, empties_for_a_required_column
from migsafe.sql import Statement, TableName, parse_sql
from migsafe.sqltree import literal, walk

RULE = Rule(
    code="MS034",
    name="data-change-with-ddl",
    severity=Severity.WARNING,
    category=Category.LOCKING,
    help="Run the data change in a transaction of its own: an autocommit_block() with "
    "batched_update(), or a separate revision.",
    references=(
        PG_DOCS + "explicit-locking.html#LOCKING-TABLES",
        PG_DOCS + "explicit-locking.html#LOCKING-DEADLOCKS",
        "https://alembic.sqlalchemy.org/en/latest/api/runtime.html#alembic.runtime.migration.MigrationContext.autocommit_block",
    ),
    directions=(UPGRADE, DOWNGRADE),
    summary="A backfill in the same transaction as a schema change keeps the schema change's "
    "lock held.",
    why=(
        "Alembic runs a migration in one transaction, and PostgreSQL holds every lock until it "
        "commits. An UPDATE, DELETE, MERGE or INSERT ... SELECT after a schema change (ADD COLUMN, "
        "CREATE INDEX, ...) on a live table runs while that change's lock is still held: with "
        "ACCESS EXCLUSIVE, every query on the table waits for the whole backfill. The other "
        "way round, the rows the backfill changed stay locked while the schema change waits "
        "for its lock, so the application's writes to them wait, and an application "
        "transaction that waits for one of them while holding the table deadlocks with the "
        "migration. Give the data change a transaction of its own: an autocommit_block() "
        "(batched_update() commits batch by batch) or a revision of its own; and never call "
        "batched_update() inside the transaction: its connection would wait for the "
        "migration's lock while the migration waits for it. Tables the revision creates have "
        "no traffic yet, and an UPDATE or DELETE that pins a unique key (WHERE id = 42) is a "
        "moment's work: neither is flagged, unless it is made in a loop over the rows of a "
        "read without LIMIT just before (for row in bind.execute(t.select()): ... WHERE id "
        "= row.id), which is a backfill one row at a time."
    ),
    fix="""\
# In a transaction of its own, apart from the schema change's (or in a revision of its own):
{batched}""",
    bad=(
        """\
def upgrade():
    op.add_column("users", sa.Column("email_lower", sa.Text()))
    op.execute("UPDATE users SET email_lower = lower(email)")
""",
    ),
    good=(
        """\
def upgrade():
    from migsafe.runtime import batched_update

    op.add_column("users", sa.Column("email_lower", sa.Text()))
    with op.get_context().autocommit_block():
        batched_update(op.get_bind(), "users", "email_lower = lower(email)")
""",
        """\
def upgrade():
    op.create_table("tags", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("name", sa.Text()))
    op.execute("INSERT INTO tags (id, name) SELECT id, name FROM labels")
    op.create_index("ix_tags_name", "tags", ["name"])
""",
    ),
    since="0.2.0",
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    for transaction in rev.transactions(RULE):
        yield from _judge(rev, transaction)


def _judge(rev: RevisionContext, transaction: list[Statement]) -> Iterator[Finding]:
    schema_changes = [
        (at, replace(s, table=rev.locked_table(s)))  # a DROP INDEX locks its index's table
        for at, s in enumerate(transaction)
        if _is_schema_change(rev, s)
    ]
    for at, stmt in enumerate(transaction):
        kind = _data_change(stmt.node)
        if kind is None or not _is_live(rev, stmt) or _no_row(stmt):
            continue
        each_row_of = _rows_read(rev, stmt) if _one_row(rev, stmt) else None
        if _one_row(rev, stmt) and each_row_of is None:
            continue
        if empties_for_a_required_column(rev, stmt):
            continue
        table = stmt.table.sql
        if each_row_of is not None:  # manila's loop over the rows read, one UPDATE each
            line, whole = each_row_of
            every = ": all of the table's" if whole else ""
            table += f" (one for each row read at line {line}{every})"
        before = [s for where, s in schema_changes if where < at]
        after = [s for where, s in schema_changes if where > at and s.table == stmt.table]
        if "batched_update(" in (rev.source_at(stmt.line) or ""):
            # its batches run on a connection of their own: a lock held here blocks them
            own = [s for s in before if s.table == stmt.table]
            if not own:
                continue
            ddl = max(own, key=lambda s: s.lock)
            message = (
                f"batched_update() of {table} runs its batches on a connection of its own, "
                f"which waits for the {ddl.lock.label} lock this transaction holds on it since "
                f"line {ddl.line}, while the migration waits for batched_update(): it hangs "
                "for good, as PostgreSQL cannot see this deadlock. Call it in an "
                "autocommit_block()."
            )
        elif before:
            # the lock that matters most: on the table itself, else the strongest
            ddl = max(before, key=lambda s: (s.table == stmt.table, s.lock))
            on = "it" if ddl.table == stmt.table else ddl.table.sql
            message = (
                f"{_PHRASE[kind]} {table} runs while the {ddl.lock.label} lock taken on "
                f"{ddl.table.sql} at line {ddl.line} is held: {ddl.lock.blocks} of {on} wait "
                f"until the {kind} is done and the migration commits."
            )
        elif after and kind != "INSERT ... SELECT":  # rows it adds are no one else's yet
            ddl = after[0]
            message = (
                f"{_PHRASE[kind]} {table} runs in the transaction that then takes "
                f"{_article(ddl.lock)} {ddl.lock.label} lock on it at line {ddl.line}: the rows "
                "it changed stay locked while that lock is waited for and held, so the "
                "application's writes to them wait, or deadlock with the migration."
            )
        else:
            continue
        fix = batched(rev, stmt) if each_row_of is None else _each_row_on_its_own(each_row_of[0])
        yield rev.finding(RULE, stmt, message, batched=fix)


def _is_live(rev: RevisionContext, stmt: Statement) -> bool:
    """The statement's table existed before (it has traffic) and is the application's."""
    return (
        stmt.table is not None and not is_version_table(stmt.table) and not rev.is_new_table(stmt)
    )


def _is_schema_change(rev: RevisionContext, stmt: Statement) -> bool:
    """A statement that locks a live table against writes at least (LOCK TABLE is
    lock-table's to judge): the table it names, or a DROP INDEX's."""
    table = rev.locked_table(stmt)
    return (
        table is not None
        and not is_version_table(table)
        and not rev.is_new_table(stmt, table)
        and stmt.lock is not None
        and stmt.lock >= LockMode.SHARE
        and not isinstance(stmt.node, ast.LockStmt)
        and _data_change(stmt.node) is None
    )


_PHRASE = {
    "UPDATE": "UPDATE of",
    "DELETE": "DELETE from",
    "INSERT ... SELECT": "INSERT ... SELECT into",
    "MERGE": "MERGE into",
}


def _data_change(node: ast.Node | None) -> str | None:
    if isinstance(node, ast.UpdateStmt):
        return "UPDATE"
    if isinstance(node, ast.DeleteStmt):
        return "DELETE"
    if isinstance(node, ast.MergeStmt):
        return "MERGE"
    if isinstance(node, ast.InsertStmt) and _reads_a_table(node.selectStmt):
        return "INSERT ... SELECT"
    return None


def _reads_a_table(select: ast.Node | None) -> bool:
    """An INSERT's SELECT that reads rows of a table (INSERT ... VALUES, a SELECT of
    constants, or of a VALUES list, is no backfill)."""
    if not isinstance(select, ast.SelectStmt):
        return False
    if select.op != SetOperation.SETOP_NONE:
        return _reads_a_table(select.larg) or _reads_a_table(select.rarg)
    return any(isinstance(node, ast.RangeVar) for node in walk(select.fromClause))


def _rows_read(rev: RevisionContext, stmt: Statement) -> tuple[int, bool] | None:
    """The line of the read this statement, in a loop, is made once for each row of, and
    whether that read is of every row of its own table: a read without LIMIT earlier in the
    function (manila's ``for record in op.get_bind().execute(el_table.select()): ...
    .where(el_table.c.id == record.id)``, or of the rows a WHERE chose, ``status =
    'available'``, most of them). Pinned to one key, each is a moment's work; all together
    they are a backfill."""
    capture = rev.downgrade_capture if stmt.direction == DOWNGRADE else rev.upgrade_capture
    loop = _innermost_loop(rev, stmt.line)
    if loop is not None:
        in_body = loop.body[0].lineno <= stmt.line  # at its header: the ORM flushing before
        for read in capture.reads:  # the loop reads, its own objects' or the last loop's
            node = _unbounded_select(read.sql) if _iterates(rev, loop, read.line) else None
            if node is not None and (in_body or _reads_rows_of(node, stmt)):
                return read.line, _reads_every_row_of(node, stmt.table)
        if in_body:
            return None
    loop = _loop_before(rev, stmt.line)  # the ORM flushes what the loop changed later, at
    if loop is None:  # ``session.commit()`` (superset's ``for obj in session.query(...)``)
        return None
    for read in capture.reads:
        node = _unbounded_select(read.sql)
        if node is not None and _iterates(rev, loop, read.line) and _reads_rows_of(node, stmt):
            return read.line, _reads_every_row_of(node, stmt.table)
    return None


def _innermost_loop(rev: RevisionContext, line: int) -> ast_py.For | ast_py.AsyncFor | None:
    """The innermost loop ``line`` is in: its body, or its header, where a statement the ORM
    flushes before the loop's next read comes from (superset's ``paginated_update()``)."""
    loops = [
        node
        for node in rev.script.statements()
        if isinstance(node, ast_py.For | ast_py.AsyncFor)
        and node.lineno <= line <= (node.end_lineno or line)
    ]
    return max(loops, key=lambda loop: loop.lineno, default=None)


def _loop_before(rev: RevisionContext, line: int) -> ast_py.For | ast_py.AsyncFor | None:
    """The last loop of the function of ``line`` that ended before it."""
    functions = [
        node for node in rev.script.tree.body
        if isinstance(node, ast_py.FunctionDef) and node.lineno <= line <= (node.end_lineno or 0)
    ]  # fmt: skip
    if not functions:
        return None
    loops = [
        node
        for node in ast_py.walk(functions[0])
        if isinstance(node, ast_py.For | ast_py.AsyncFor) and (node.end_lineno or line) < line
    ]
    return max(loops, key=lambda loop: loop.end_lineno or 0, default=None)


def _reads_rows_of(node: ast.SelectStmt, stmt: Statement) -> bool:
    """The SELECT reads rows of the statement's table: the ORM objects a loop changed are
    that table's rows."""
    return any(
        isinstance(item, ast.RangeVar) and TableName.of(item) == stmt.table
        for item in walk(node.fromClause)
    )


def _iterates(rev: RevisionContext, loop: ast_py.For | ast_py.AsyncFor, line: int) -> bool:
    """``loop`` goes over what is read at ``line``: its iterable reads there (``for r in
    bind.execute(...)``), names what an assignment there got (``rows = ...fetchall()``),
    or names what a loop over that read filled (open-webui's ``for row in result:
    tag_updates[row.id] = new_id``, then ``for tag_id, new_id in tag_updates.items()``)."""
    if _iterates_directly(rev, loop, line):
        return True
    names = _names_in(loop.iter)
    return any(
        isinstance(node, ast_py.For | ast_py.AsyncFor)
        and node is not loop
        and _iterates_directly(rev, node, line)
        and names & _filled_in(node)
        for node in rev.script.statements()
    )


def _iterates_directly(rev: RevisionContext, loop: ast_py.For | ast_py.AsyncFor, line: int) -> bool:
    """The loop's iterable reads at ``line``, or is a name last assigned there before the
    loop (open-webui names two reads ``result``: each loop goes over the one before it)."""
    if loop.iter.lineno <= line <= (loop.iter.end_lineno or line):
        return True
    names = _names_in(loop.iter)
    assigned = {
        target.id: node.lineno
        for node in rev.script.statements()
        if isinstance(node, ast_py.Assign) and node.lineno < loop.lineno
        for target in node.targets
        if isinstance(target, ast_py.Name) and target.id in names
    }  # the last assignment of each before the loop (statements come in source order)
    return any(
        node.lineno == assigned.get(target.id)
        for node in rev.script.statements()
        if isinstance(node, ast_py.Assign) and node.lineno <= line <= (node.end_lineno or line)
        for target in node.targets
        if isinstance(target, ast_py.Name)
    )


def _names_in(node: ast_py.AST) -> set[str]:
    return {name.id for name in ast_py.walk(node) if isinstance(name, ast_py.Name)}


def _filled_in(loop: ast_py.For | ast_py.AsyncFor) -> set[str]:
    """The names a loop's body puts something into: ``name[key] = ...``, and a statement
    ``name.append(...)`` (or ``add``, ``extend``, ``update``, ``setdefault``, ``insert``; a
    call inside another, ``bind.execute(t.update())``, fills nothing)."""
    filled = set()
    for node in ast_py.walk(loop):
        if isinstance(node, ast_py.Assign):
            for target in node.targets:
                if isinstance(target, ast_py.Subscript) and isinstance(target.value, ast_py.Name):
                    filled.add(target.value.id)
        elif isinstance(node, ast_py.Expr) and isinstance(node.value, ast_py.Call):
            called = node.value.func
            if (
                isinstance(called, ast_py.Attribute) and called.attr in _FILLS
                and isinstance(called.value, ast_py.Name)
            ):  # fmt: skip
                filled.add(called.value.id)
    return filled


_FILLS = frozenset(("append", "add", "extend", "update", "setdefault", "insert"))


def _unbounded_select(sql: str) -> ast.SelectStmt | None:
    """The SELECT ``sql`` is, if it has no LIMIT (a batch's is bounded)."""
    try:
        (parsed,) = parse_sql(sql)
    except (pglast.parser.ParseError, ValueError):
        return None
    node = parsed.stmt
    return node if isinstance(node, ast.SelectStmt) and node.limitCount is None else None


def _reads_every_row_of(node: ast.SelectStmt, table: TableName) -> bool:
    return (
        node.whereClause is None
        and len(node.fromClause or ()) == 1
        and isinstance(node.fromClause[0], ast.RangeVar)
        and TableName.of(node.fromClause[0]) == table
    )


def _each_row_on_its_own(line: int) -> str:
    return (
        "with op.get_context().autocommit_block():  # each statement commits on its own\n"
        f"    ...  # the loop over the rows read at line {line}, as written"
    )


def _no_row(stmt: Statement) -> bool:
    """``WHERE false``: what SQLAlchemy writes for ``.where(column is None)``, a Python
    comparison that is always False (mistral's); or two different constants compared
    (designate's ``WHERE 'key' = 'master'``, quoted as a string): it changes no row."""
    where = getattr(stmt.node, "whereClause", None)
    if isinstance(where, ast.A_Const):
        return isinstance(where.val, ast.Boolean) and not where.val.boolval
    return (
        isinstance(where, ast.A_Expr) and where.kind == A_Expr_Kind.AEXPR_OP
        and [n.sval for n in where.name] == ["="]
        and isinstance(where.lexpr, ast.A_Const) and isinstance(where.rexpr, ast.A_Const)
        and None not in (literal(where.lexpr), literal(where.rexpr))
        and literal(where.lexpr) != literal(where.rexpr)
    )  # fmt: skip


def _one_row(rev: RevisionContext, stmt: Statement) -> bool:
    """An UPDATE or DELETE whose WHERE pins a unique key to constants (``id = 42``,
    ``id IN (1, 2)``): a few rows, changed in a moment, no backfill."""
    node = stmt.node
    if not isinstance(node, (ast.UpdateStmt, ast.DeleteStmt)) or node.whereClause is None:
        return False
    if getattr(node, "fromClause", None) or getattr(node, "usingClause", None):
        return False  # a join may match each row many times over
    pinned = set()
    for term in _conjuncts(node.whereClause):
        column = _pinned_column(term)
        if column is not None:
            pinned.add(column)
    return any(set(key) <= pinned for key in _unique_keys(rev, stmt.table))


def _conjuncts(where: ast.Node) -> Iterator[ast.Node]:
    if isinstance(where, ast.BoolExpr) and where.boolop == BoolExprType.AND_EXPR:
        for arg in where.args:
            yield from _conjuncts(arg)
    else:
        yield where


def _pinned_column(term: ast.Node) -> str | None:
    """The column of ``col = constant`` or ``col IN (constants)``."""
    if not isinstance(term, ast.A_Expr) or term.name[-1].sval != "=":
        return None  # NOT IN is written <>
    if term.kind == A_Expr_Kind.AEXPR_OP:
        for column, value in ((term.lexpr, term.rexpr), (term.rexpr, term.lexpr)):
            if isinstance(column, ast.ColumnRef) and _is_constant(value):
                return _column_name(column)
    if term.kind == A_Expr_Kind.AEXPR_IN:
        values = term.rexpr if isinstance(term.rexpr, (list, tuple)) else [term.rexpr]
        if isinstance(term.lexpr, ast.ColumnRef) and all(_is_constant(v) for v in values):
            return _column_name(term.lexpr)
    return None


def _is_constant(node: object) -> bool:
    while isinstance(node, ast.TypeCast):
        node = node.arg
    return isinstance(node, (ast.A_Const, ast.ParamRef))


def _column_name(column: ast.ColumnRef) -> str | None:
    last = column.fields[-1]
    return last.sval if isinstance(last, ast.String) else None


def _unique_keys(rev: RevisionContext, table: TableName) -> list[tuple[str, ...]]:
    """The table's unique keys as the earlier revisions made them; ``id`` when the history
    is not known (the file is checked alone)."""
    catalog = rev.schema_before
    known = catalog.table(table.key) if catalog is not None else None
    if known is None:
        return [("id",)]
    keys = [
        c.columns
        for c in known.constraints.values()
        if c.kind in ("primary key", "unique") and c.columns
    ]
    keys += [
        tuple(index.columns)
        for index in catalog.indexes_of(table.key)
        if index.unique and index.where is None and index.columns and None not in index.columns
    ]
    return keys


def _article(lock: LockMode) -> str:
    return "an" if lock.label.startswith(("A", "E")) else "a"
