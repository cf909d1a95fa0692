"""drop-constraint: the running code may rely on what the constraint guaranteed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from alembic.operations import ops
from pglast import ast
from pglast.enums import AlterTableType, ConstrType, DropBehavior, ObjectType

from migsafe.catalog import Constraint, default_constraint_name, sql_text
from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext, alter_commands
from migsafe.rule import PG_DOCS, Category, Rule, py_literal
from migsafe.rules._known_schema import missing_on_known_schema
from migsafe.rules._same_revision import (
    columns_dropped_later,
    named_in_revision,
    table_dropped_later,
)
from migsafe.sql import Statement, TableName, clipped, quote_identifier

RULE = Rule(
    code="MS039",
    name="drop-constraint",
    severity=Severity.NOTICE,
    category=Category.COMPATIBILITY,
    help="Check that no running code relies on the constraint; add a replacement before dropping.",
    references=(PG_DOCS + "sql-altertable.html", PG_DOCS + "ddl-constraints.html"),
    summary="Dropping a constraint removes a guarantee the running code may rely on.",
    why=(
        "Code is written against the constraints it knows: it catches the IntegrityError a "
        "duplicate raises instead of looking first, upserts with ON CONFLICT on the columns "
        "of a unique constraint (which fails once no constraint matches), counts on ON DELETE "
        "CASCADE to clean up, or trusts that a CHECK kept bad values out. After the drop the "
        "database no longer says no, and data the code did not expect can be written. Often "
        "that is the intent: this notice asks to check."
    ),
    fix="""\
# Make sure no running code relies on {name!r}:
{advice}
{drop}""",
    bad=(
        """\
def upgrade():
    op.drop_constraint("uq_users_email", "users", type_="unique")
""",
        """\
def upgrade():
    op.execute("ALTER TABLE orders DROP CONSTRAINT fk_orders_user_id_users")
""",
    ),
    good=(
        """\
def upgrade():
    op.drop_constraint("fk_orders_user_id_users", "orders", type_="foreignkey")
    op.create_foreign_key("fk_orders_user_id_users", "orders", "users", ["user_id"], ["id"],
                          ondelete="CASCADE")
""",
        """\
def upgrade():
    op.create_check_constraint("ck_orders_total", "orders", "total >= 0")
    op.drop_constraint("ck_orders_total", "orders", type_="check")
""",
    ),
    since="0.2.0",
)

_KINDS = {
    ConstrType.CONSTR_PRIMARY: "primary key",
    ConstrType.CONSTR_UNIQUE: "unique",
    ConstrType.CONSTR_FOREIGN: "foreign key",
    ConstrType.CONSTR_CHECK: "check",
    ConstrType.CONSTR_EXCLUSION: "exclude",
}
_ALEMBIC_KINDS = {"primary": "primary key", "unique": "unique", "foreignkey": "foreign key",
                  "check": "check"}  # fmt: skip
_TYPE_ARGUMENTS = {kind: type_ for type_, kind in _ALEMBIC_KINDS.items()}
_NOUNS = {"primary key": "primary key", "unique": "unique constraint",
          "foreign key": "foreign key", "check": "check constraint",
          "exclude": "exclusion constraint"}  # fmt: skip
_RELIES = {
    "primary key": "the ORM identifies rows by it, and INSERT ... ON CONFLICT on its columns\n"
    "# fails without it",
    "unique": "INSERT ... ON CONFLICT on its columns fails without it, and code that catches\n"
    "# the IntegrityError of a duplicate no longer gets one",
    "foreign key": "rows may point at rows that do not exist, and no ON DELETE action runs",
    "check": "values it kept out can be written from now on",
    "exclude": "rows it kept apart can be written from now on",
}
_UNKNOWN = "whatever it enforced (its kind is not known here) is no longer enforced"


def _advice(relies: str) -> str:
    return f"# {relies}.\n# To replace it, add the new constraint first, in the same revision."


def _added_back(rev: RevisionContext, stmt: Statement, again: tuple[_Added, int]) -> str:
    """What to check of a constraint the function adds back under its name: not a gap, if
    the same transaction does it, but what the new definition lets in or keeps out."""
    added, line = again
    same = any(later is rev.upgrade[added.at] for later in rev.later_in_transaction(stmt))
    gap = (
        "in the same transaction: no other session sees it missing"
        if same
        else "after a commit: until then nothing enforces it"
    )
    named = "" if added.name is None or _drops(stmt, added.name) else f" as {added.name!r}"
    return (
        f"# line {line} adds it back{named} {gap}.\n"
        "# Check that the running code writes nothing the new definition refuses, and expects\n"
        "# what it accepts."
    )


def _drops(stmt: Statement, name: str) -> bool:
    """The statement drops the constraint ``name``."""
    return any(
        cmd.name == name for cmd in alter_commands(stmt.node, AlterTableType.AT_DropConstraint)
    )


@dataclass(frozen=True)
class _Added:
    """A constraint (or unique index) the revision adds: what may replace a dropped one."""

    table: TableName
    name: str | None
    kind: str
    columns: tuple[str, ...]
    at: int  # its statement's index in upgrade()
    expression: str | None = None  # a CHECK's condition, as SQL


def check(rev: RevisionContext) -> Iterator[Finding]:
    """Constraints of existing tables dropped by upgrade(), unless the revision made them,
    replaces them, or drops their table or all their columns (other rules report those).
    All of that is told from what upgrade() does after the drop: when it was not captured
    to its end (backend.ai's re-adds its keys after the line where the capture stopped),
    there is no telling, and nothing is said."""
    if not rev.upgrade_capture.exact:
        return
    final = _final_name(rev)
    added = _added(rev, final)
    renamed = _renamed_columns(rev, final)
    for at, stmt in enumerate(rev.upgrade):
        table = stmt.table
        for cmd in alter_commands(stmt.node, AlterTableType.AT_DropConstraint):
            if named_in_revision(rev, at, table):
                break
            if missing_on_known_schema(rev, stmt, RULE):
                break  # it fails: object-does-not-exist says so (GBP's "PRIMARY")
            known = _known(rev, table, cmd.name, _alembic_kind(stmt.operation))
            if known is None and cmd.missing_ok and _knows_table(rev, table):
                continue  # the history never made it: a no-op on the schema it builds
            kind = known.kind if known is not None else _alembic_kind(stmt.operation)
            named = known.columns if known is not None else ()  # as they are at the drop
            columns = tuple(renamed.get((final(table), column), column) for column in named)
            alone = not _knows_table(rev, table)  # made outside the history read: no telling
            condition = known.expression if known is not None else None
            if _made_or_replaced(
                added, at, final(table), cmd.name, kind, columns, alone, condition
            ):
                continue
            dropped_later = columns_dropped_later(rev, at, table)
            if table_dropped_later(rev, at, table) or set(columns) & dropped_later:
                continue  # it goes with them (with one of its columns: PostgreSQL drops a
                # constraint involving a dropped column), and drop-table or drop-column says so
            if not columns and _named_for_one_of(table, cmd.name, kind, dropped_later):
                continue  # letta's agent_passages_agent_id_fkey, then agent_id itself
            noun = _NOUNS.get(kind or "", "constraint")
            relies = _RELIES.get(kind or "", _UNKNOWN)
            again = _added_again(rev, added, at, final(table), cmd.name, kind)
            # the key itself is no other one, whatever name the drop gives it (octavia drops
            # MySQL's "PRIMARY", which is listener_statistics_pkey on PostgreSQL)
            kept = _narrower_unique(rev, stmt, known.name if known else cmd.name, named)
            if again is None and kind == "unique" and kept and set(kept) == set(named):
                continue  # another one on the same columns stays: nothing is lost
            consequence = (
                _consequence(kind, named, known, kept)
                if again is None
                else _changed(again, columns, condition)
            )
            arguments = _type_argument(stmt.operation, kind) + (
                ", if_exists=True" if cmd.missing_ok else ""  # faraday's IF EXISTS
            )
            yield rev.finding(
                RULE,
                stmt,
                f"Dropping {noun} {quote_identifier(cmd.name)} of {stmt.table.sql} removes a "
                f"guarantee the running code may rely on: {consequence}.",
                name=cmd.name,
                advice=_advice(relies) if again is None else _added_back(rev, stmt, again),
                drop=(  # op.drop_constraint() has no CASCADE: the foreign keys on the key
                    rev.own_statement(stmt)  # would stop it (invenio-accounts' pk_accounts_role)
                    if cmd.behavior == DropBehavior.DROP_CASCADE
                    else f"op.drop_constraint({py_literal(cmd.name)}, "
                    f"{py_literal(stmt.table.name)}{arguments}{stmt.table.schema_argument})"
                ),
            )


def _consequence(
    kind: str | None,
    columns: tuple[str, ...],
    known: Constraint | None,
    narrower: tuple[str, ...] | None = None,
) -> str:
    on = f" ({', '.join(quote_identifier(c) for c in columns)})" if columns else ""
    if kind == "primary key" and narrower and set(narrower) == set(columns):
        return (  # rucio's history tables keep a unique constraint on the key's columns
            "the table has no primary key from now on (a unique constraint on the same "
            "columns still keeps rows distinct, and INSERT ... ON CONFLICT uses it)"
        )
    if kind in ("unique", "primary key") and narrower:
        kept = ", ".join(quote_identifier(c) for c in narrower)
        return (
            f"INSERT ... ON CONFLICT{on} finds no constraint to use from now on (rows stay "
            f"distinct: a unique constraint on ({kept}) remains)"
        )
    if kind in ("unique", "primary key"):
        return f"duplicates{on.replace(' (', ' in (', 1)} are accepted from now on"
    if kind == "foreign key":
        return f"references{on} are no longer enforced"
    if kind == "check":
        if known is not None and known.expression:
            return f"rows breaking CHECK ({clipped(known.expression)}) are accepted from now on"
        return "values it kept out are accepted from now on"
    return "whatever it enforced is no longer enforced"


def _narrower_unique(
    rev: RevisionContext, stmt: Statement, name: str, columns: tuple[str, ...]
) -> tuple[str, ...] | None:
    """The columns of another unique constraint or primary key of the table, on some of the
    dropped one's columns (cloudkitty keeps one on ``field_id`` when it drops the one on
    ``(field_id, name)``): no duplicate of the wider set can get in while it stands."""
    schema = rev.schema_at(stmt)
    table = schema.table(stmt.table.key) if schema is not None and stmt.table else None
    if table is None or not columns:
        return None
    for other in table.constraints.values():
        unique = other.kind in ("unique", "primary key") and bool(other.columns)
        if unique and other.name != name and set(other.columns) <= set(columns):
            return other.columns
    return None


def _added_again(
    rev: RevisionContext,
    added: list[_Added],
    at: int,
    table: TableName,
    name: str,
    kind: str | None,
) -> tuple[_Added, int] | None:
    """The same name added back later in upgrade(), and its line; else the one constraint of
    the dropped one's ``kind`` added to the table after it under another name (qcfractal
    replaces ``ux_..._hash`` by ``ux_..._specification_hash``)."""
    for other in added:
        if other.table == table and other.name == name and other.at > at:
            return other, rev.upgrade[other.at].line
    others = [
        other for other in added
        if other.table == table and other.at > at and kind is not None and other.kind == kind
    ]  # fmt: skip
    if len(others) == 1:
        return others[0], rev.upgrade[others[0].at].line
    return None


def _changed(again: tuple[_Added, int], columns: tuple[str, ...], condition: str | None) -> str:
    other, line = again
    if other.kind == "check":
        was = f" instead of CHECK ({clipped(condition)})" if condition else ""
        return f"line {line} adds it back as CHECK ({clipped(other.expression or '...')}){was}"
    new = ", ".join(quote_identifier(c) for c in other.columns)
    if not columns:
        return (
            f"line {line} adds it back on ({new}), and what it was on before is not known "
            "from the history: check that it guards what the old one did"
        )
    old = ", ".join(quote_identifier(c) for c in columns)
    return f"line {line} adds it back on ({new}) instead of ({old})"


def _flat(sql: str | None) -> str:
    return " ".join((sql or "").split())


def _known(
    rev: RevisionContext, table: TableName, name: str, kind: str | None = None
) -> Constraint | None:
    """The constraint as the earlier revisions made it. A primary key dropped by a name
    the history does not know is still the table's one primary key (invenio-files-rest
    made it unnamed, ``files_object_pkey``, and drops ``pk_files_object``: the name its
    naming convention gave it on the databases it runs on). A constraint the history added
    to a table it only altered is known by its name too (qcfractal's ``ux_..._keys``)."""
    schema = rev.schema_before
    if schema is None:
        return None
    altered = schema.tables.get(table.key)
    if altered is not None and altered.partial:
        return altered.constraints.get(name)
    known = schema.table(table.key)
    if known is None:
        return None
    if name in known.constraints or kind != "primary key":
        return known.constraints.get(name)
    keys = [c for c in known.constraints.values() if c.kind == "primary key"]
    return keys[0] if len(keys) == 1 else None


def _alembic_kind(operation: object) -> str | None:
    if isinstance(operation, ops.DropConstraintOp):
        return _ALEMBIC_KINDS.get(operation.constraint_type or "")
    return None


def _type_argument(operation: object, kind: str | None) -> str:
    """``, type_="unique"``: as the user wrote it, else from what the constraint is."""
    if isinstance(operation, ops.DropConstraintOp) and operation.constraint_type:
        return f", type_={py_literal(operation.constraint_type)}"
    type_ = _TYPE_ARGUMENTS.get(kind or "")
    return f", type_={py_literal(type_)}" if type_ else ""


def _added(rev: RevisionContext, final: Callable[[TableName], TableName]) -> list[_Added]:
    """Every constraint and unique index the upgrade adds to a table (by the table's name at
    the end of the revision), in order."""
    found = []
    unique_indexes: dict[str, tuple[str, ...]] = {}  # built here, by name
    for at, stmt in enumerate(rev.upgrade):
        if stmt.table is None:
            continue
        table = final(stmt.table)
        for cmd in alter_commands(stmt.node, AlterTableType.AT_AddConstraint):
            kind = _KINDS.get(cmd.def_.contype)
            if kind is not None:
                columns = _strings(cmd.def_.fk_attrs if kind == "foreign key" else cmd.def_.keys)
                if not columns and cmd.def_.indexname:  # PRIMARY KEY USING INDEX (qcfractal)
                    columns = unique_indexes.get(cmd.def_.indexname, ())
                condition = sql_text(cmd.def_.raw_expr) if kind == "check" else None
                name = cmd.def_.conname or cmd.def_.indexname  # USING INDEX: the index's
                name = name or _postgresql_name(stmt.table, columns, kind)
                found.append(_Added(table, name, kind, columns, at, condition))
        node = stmt.node
        if isinstance(node, ast.IndexStmt) and node.unique and not node.whereClause:
            columns = tuple(e.name for e in node.indexParams or () if e.name)
            if len(columns) == len(node.indexParams or ()):
                found.append(_Added(table, None, "unique index", columns, at))
                if node.idxname:
                    unique_indexes[node.idxname] = columns
    return found


def _made_or_replaced(
    added: list[_Added],
    at: int,
    table: TableName,
    name: str,
    kind: str | None,
    columns: tuple[str, ...],
    alone: bool,
    condition: str | None,
) -> bool:
    """Made earlier in the revision under that name (no running code knows it), or replaced
    by one of the same kind on the same columns (a unique index does for a unique
    constraint) added anywhere in the revision, under any name. Added back under its name on
    other columns, or when the history read does not know what it was on, is not shown to be
    a replacement:
    the guarantee changed (a primary key made wider accepts rows the old one refused, and
    ON CONFLICT on the old columns fails). A CHECK is replaced by one with the same
    condition; a unique constraint by a primary key too. In a file checked alone, a foreign
    key added back under its name counts as a replacement (its options are what such a
    revision changes); a primary key, unique constraint or CHECK has nothing to change but
    its columns or condition, which were not known."""
    for other in added:
        if other.table != table:
            continue
        if other.name == name and other.at < at:
            return True
        if kind == "check" and other.kind == "check" and condition is not None:
            if _flat(other.expression) == _flat(condition):
                return True
            continue
        same_kind = (
            other.kind == kind
            or (other.kind == "unique index" and kind in ("unique", "primary key"))
            or (other.kind == "primary key" and kind == "unique")
        )
        option_change = other.kind == "foreign key" and kind in ("foreign key", None)
        if other.name == name and not columns and alone and option_change:
            return True  # a file checked alone: the usual way to change ON DELETE
        if columns and same_kind and _same_key(other.columns, columns, kind):
            return True
    return False


def _named_for_one_of(table: TableName, name: str, kind: str | None, columns: set[str]) -> bool:
    """A constraint of a table the history does not know, named as PostgreSQL names one on
    a column the revision drops later: it goes with that column."""
    kinds = (kind,) if kind else ("foreign key", "unique", "check")
    return any(
        name == _postgresql_name(table, (column,), one) for column in columns for one in kinds
    )


def _postgresql_name(table: TableName, columns: tuple[str, ...], kind: str) -> str | None:
    """The name PostgreSQL gives an unnamed key or unique constraint (letta drops
    ``blocks_agents_agent_id_fkey`` and adds the key back unnamed, with ON DELETE)."""
    if kind in ("foreign key", "unique", "primary key") and columns:
        return default_constraint_name(table.name, columns, kind)
    return None


def _same_key(one: tuple[str, ...], other: tuple[str, ...], kind: str | None) -> bool:
    """The same columns; for uniqueness in any order (reana-db's ``(name, owner_id)`` made
    again as ``(owner_id, name)``), for a foreign key in its order (it pairs them)."""
    if kind in ("unique", "primary key"):
        return len(one) == len(other) and set(one) == set(other)
    return one == other


def _knows_table(rev: RevisionContext, table: TableName) -> bool:
    return rev.schema_before is not None and rev.schema_before.table(table.key) is not None


def _final_name(rev: RevisionContext) -> Callable[[TableName], TableName]:
    """A table's name at the end of upgrade(), after the renames in it: a constraint dropped
    before a rename is replaced by the same one added after it."""
    renames = {
        stmt.table: TableName(stmt.table.schema, stmt.node.newname)
        for stmt in rev.upgrade
        if isinstance(stmt.node, ast.RenameStmt)
        and stmt.node.renameType == ObjectType.OBJECT_TABLE
        and stmt.table is not None
    }

    def final(table: TableName) -> TableName:
        for _ in range(len(renames)):
            if table not in renames:
                break
            table = renames[table]
        return table

    return final


def _renamed_columns(
    rev: RevisionContext, final: Callable[[TableName], TableName]
) -> dict[tuple[TableName, str], str]:
    """(table, old name) -> new name for the columns upgrade() renames: a constraint added on
    the new name replaces one dropped on the old."""
    return {
        (final(stmt.table), stmt.node.subname): stmt.node.newname
        for stmt in rev.upgrade
        if isinstance(stmt.node, ast.RenameStmt)
        and stmt.node.renameType == ObjectType.OBJECT_COLUMN
        and stmt.table is not None
    }


def _strings(nodes: object) -> tuple[str, ...]:
    return tuple(n.sval for n in nodes or () if isinstance(n, ast.String))
