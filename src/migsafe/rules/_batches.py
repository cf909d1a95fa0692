"""A data change as the code that runs it in committed batches (migsafe.runtime.batched_update,
or SQL by ranges of a key), for the rules that move a backfill out of the DDL transaction;
and when a change must stay in it. Not a rule (its name starts with an underscore)."""

from __future__ import annotations

import copy

from pglast import ast
from pglast.enums import (
    AlterTableType,
    LimitOption,
    SetOperation,
    SubLinkType,
)
from pglast.stream import RawStream

from migsafe.revision import (
    NOT_NULL,
    RevisionContext,
    alter_commands,
    constraint_types,
    fills_existing_rows,
)
from migsafe.rule import DOWNGRADE, py_literal, sql_code
from migsafe.sql import Statement, TableName, quote_identifier
from migsafe.sqltree import walk

BATCH = 1000


def empties_for_a_required_column(rev: RevisionContext, stmt: Statement) -> bool:
    """A DELETE of every row that lets a later statement of the same transaction add a NOT
    NULL column without a default (optuna, airflow): it must stay in that transaction (out
    of it, new rows could come in before the column), and the ADD COLUMN's ACCESS EXCLUSIVE
    lock holds the table until the commit anyway."""
    node = stmt.node
    if not isinstance(node, ast.DeleteStmt) or node.whereClause is not None:
        return False
    later = rev.upgrade if stmt.direction != DOWNGRADE else rev.downgrade
    following = later[later.index(stmt) + 1 :]
    for other in following:
        if not other.in_transaction:
            return False  # a commit in between: the table can fill again
        if other.table != stmt.table:
            continue
        for cmd in alter_commands(other.node, AlterTableType.AT_AddColumn):
            column = cmd.def_
            if constraint_types(column) & NOT_NULL and not fills_existing_rows(column):
                return True
    return False


def batched(rev: RevisionContext, stmt: Statement) -> str:
    """The data change as code that commits batch by batch, in an autocommit block, with the
    user's table, SET and WHERE."""
    prelude, body = _batches(rev, stmt)
    how = "each batch commits on its own" if prelude or "while" in body else "its own transaction"
    params = sorted({f"${n.number}" for n in walk(stmt.node) if isinstance(n, ast.ParamRef)})
    if params and "postcompile" not in stmt.sql.lower():
        body += f"\n# {', '.join(params)}: the values the original call binds"
    capture = rev.downgrade_capture if stmt.direction == DOWNGRADE else rev.upgrade_capture
    if any(read.line <= stmt.line for read in capture.reads):
        body += (  # ckanext-files deletes the orphans a query found: offline, none
            "\n# its values come from rows the migration reads first (none offline, so what "
            "is written here\n# may be empty): keep the migration's own code for them"
        )
    if not stmt.in_transaction:  # already in an autocommit block
        return f"{prelude}{body}"
    return f"{prelude}with op.get_context().autocommit_block():  # {how}\n" + "\n".join(
        f"    {line}" for line in body.splitlines()
    )


IMPORT = "from migsafe.runtime import batched_update\n\n"


def _batches(rev: RevisionContext, stmt: Statement) -> tuple[str, str]:
    node = stmt.node
    table = stmt.table
    key, known = key_of(rev, table, stmt)
    column = quote_identifier(key or "id")
    key_note = (  # faraday's roles_users (user_id, role_id), zou's id added as all NULL
        f"  # {table.sql} has no one-column key (unique and NOT NULL) to batch by: add one "
        "first, or write the batches by hand"
        if known and not key
        else ""
    )
    if "postcompile" in stmt.sql.lower():  # an expanding IN: the values are not in the SQL
        source = rev.source_at(stmt.line) or f"op.execute({sql_code(stmt.sql)})"
        return "", f"{source.strip()}  # in batches of rows, by ranges of a key"
    if _reads_its_own_table(node, table):
        return "", (
            f"op.execute({sql_code(stmt.sql)})\n# in one statement: its WHERE reads "
            f"{table.sql} itself, so in batches it would match other rows"
        )
    if isinstance(node, ast.UpdateStmt):
        update = _without_from(node)
        if update is None:
            return IMPORT, (
                "# batched_update() takes a SET and a WHERE on the table alone: write the "
                "join\n# (WITH, an alias, a row assignment) as subqueries, e.g.\n"
                f"batched_update(op.get_bind(), {py_literal(table.name)}, "
                f"{sql_code(f'col = (SELECT ... WHERE ... = {table.sql}.{column})')}"
                f"{_options(table, key)}){key_note}"
            )
        assignments, condition = update
        where = f", where={sql_code(condition)}" if condition else ""
        return IMPORT, (
            f"batched_update(op.get_bind(), {py_literal(table.name)}, "
            f"{sql_code(assignments)}{where}{_options(table, key)}){key_note}"
        )
    if isinstance(node, ast.DeleteStmt) and not (node.usingClause or node.withClause):
        where = f" WHERE {_sql(node.whereClause)}" if node.whereClause else ""
        batch = (
            f"DELETE FROM {table.sql} WHERE {column} IN (SELECT {column} FROM {table.sql}"
            f"{where} ORDER BY {column} LIMIT {BATCH})"
        )
        return "", (
            f"batch = sa.text({sql_code(batch)}){key_note}\n"
            "while op.get_bind().execute(batch).rowcount:\n"
            "    pass"
        )
    return "", f"op.execute({sql_code(stmt.sql)})  # in batches of rows, by ranges of a key"


def _reads_its_own_table(node: ast.Node, table: TableName) -> bool:
    """The condition reads the table the statement changes (bodhi deletes the rows whose
    name ``HAVING count(name) > 1``): after one batch, the next one counts differently."""
    return any(
        isinstance(found, ast.RangeVar)
        and found.relname == table.name
        and found.schemaname in (None, table.schema)
        for found in walk(getattr(node, "whereClause", None))
    )


def _without_from(node: ast.UpdateStmt) -> tuple[str, str | None] | None:
    """The UPDATE's SET list and WHERE as batched_update() takes them; a FROM list becomes a
    subquery in each assignment and an EXISTS in the WHERE (as UPDATE ... FROM, each row
    takes the value of the one row it joins). None for what cannot be said so."""
    if node.withClause or node.returningClause or node.relation.alias:
        return None
    if any(isinstance(target.val, ast.MultiAssignRef) for target in node.targetList):
        return None
    if not node.fromClause:
        where = _sql(node.whereClause) if node.whereClause else None
        return _assignments(node), where
    targets = [
        ast.ResTarget(
            name=target.name,
            indirection=target.indirection,
            val=_sublink(SubLinkType.EXPR_SUBLINK, target.val, node),
        )
        for target in node.targetList
    ]
    exists = _sublink(SubLinkType.EXISTS_SUBLINK, ast.A_Const(val=ast.Integer(1)), node)
    return _assignments(ast.UpdateStmt(relation=node.relation, targetList=targets)), _sql(exists)


def _sublink(kind: SubLinkType, value: ast.Node, node: ast.UpdateStmt) -> ast.SubLink:
    select = ast.SelectStmt(
        targetList=[ast.ResTarget(val=copy.deepcopy(value))],
        fromClause=copy.deepcopy(node.fromClause),
        whereClause=copy.deepcopy(node.whereClause),
        limitOption=LimitOption.LIMIT_OPTION_DEFAULT,
        op=SetOperation.SETOP_NONE,
    )
    return ast.SubLink(subLinkType=kind, subselect=select)


def _assignments(node: ast.UpdateStmt) -> str:
    """The SET list as SQL: ``email = lower(email)``."""
    bare = ast.UpdateStmt(relation=node.relation, targetList=node.targetList)
    rendered = RawStream()(bare)
    prefix = f"UPDATE {RawStream()(node.relation)} SET "
    return rendered[len(prefix) :] if rendered.startswith(prefix) else rendered


def key_of(
    rev: RevisionContext, table: TableName, at: Statement | None = None
) -> tuple[str | None, bool]:
    """The table's one-column key to batch by (its primary key, else a unique NOT NULL
    column), and whether the schema knows the table: as ``at`` meets it (a key made earlier
    in the revision counts: ckanext-files makes ``file_id`` the primary key first), else
    as the revisions before left it."""
    schema = rev.schema_at(at) if at is not None else None
    schema = schema if schema is not None else rev.schema_before
    known = schema.table(table.key) if schema is not None else None
    if known is None:
        return None, False
    keys = [c for c in known.constraints.values() if len(c.columns) == 1]
    for constraint in sorted(keys, key=lambda c: c.kind != "primary key"):
        column = known.columns.get(constraint.columns[0])
        if constraint.kind == "primary key" or (
            constraint.kind == "unique" and column is not None and not column.nullable
        ):
            return constraint.columns[0], True
    return None, True


def _options(table: TableName, key: str | None) -> str:
    options = f", key={py_literal(key)}" if key and key != "id" else ""
    return options + (f", schema={py_literal(table.schema)}" if table.schema else "")


def _sql(node: ast.Node) -> str:
    return RawStream()(copy.deepcopy(node))
