"""change-column-type: most type changes rewrite the table under an ACCESS EXCLUSIVE lock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from alembic.operations import ops
from pglast import ast
from pglast.enums import AlterTableType, ObjectType
from pglast.stream import RawStream

from migsafe.catalog import Name, dotted_name
from migsafe.findings import Finding, Severity
from migsafe.locks import alter_table_command_lock
from migsafe.revision import (
    RevisionContext,
    alter_commands,
    existing_type,
    has_unknown_modifier,
    is_unknown_type,
    table_values,
    type_name,
    type_parts,
)
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule, sql_code
from migsafe.rules._casts import no_automatic_cast
from migsafe.rules._passes import (
    keeps_contents,
    no_rewrite,
    restored_type,
    utc_session,
    zone_only_change,
)
from migsafe.sql import Statement, TableName, add_enum_values, keeps_order, quote_identifier

RULE = Rule(
    code="MS012",
    name="change-column-type",
    severity=Severity.ERROR,
    category=Category.LOCKING,
    help="Add a column of the new type, write both, backfill, switch reads, drop the old one.",
    references=(PG_DOCS + "sql-altertable.html", PG_DOCS + "explicit-locking.html#LOCKING-TABLES"),
    directions=(UPGRADE, DOWNGRADE),
    summary="Changing a column's type rewrites the table and breaks running code.",
    why=(
        "Unless the old and new types are binary-coercible (varchar(n) to a wider varchar or "
        "to text, text to citext and back, numeric to a wider precision, ...; the indexes on "
        "the column are still built again), PostgreSQL rewrites the table and its "
        "indexes under an ACCESS EXCLUSIVE lock: no reads or writes for the whole rewrite. "
        "The running application may also break on values of the new type. The type before "
        "is the one the history made; when the call's existing_type= says otherwise and the "
        "change would rewrite from that one, a notice says so (a revision written for "
        "databases made before an earlier one was edited). A column of another type added "
        "and renamed to a dropped column's name changes its type for the running code too."
    ),
    fix="""\
{added}# Expand and contract: add a column of the new type, dual-write, backfill, switch, drop.
op.add_column({table!r}, sa.Column({new_column!r}, ...){schema})  # {new_type}
# backfill in batches: UPDATE {table_sql} SET {new_column} = {converted} WHERE ...
# deploy code that reads {new_column!r}; drop {column!r} in a later revision""",
    bad=(
        """\
def upgrade():
    op.alter_column("orders", "amount", existing_type=sa.Integer(), type_=sa.BigInteger())
""",
        """\
def upgrade():
    op.alter_column("users", "name", existing_type=sa.String(100), type_=sa.String(50))
""",
    ),
    good=(
        """\
def upgrade():
    op.alter_column("users", "name", existing_type=sa.String(50), type_=sa.String(100))
""",
        """\
def upgrade():
    op.alter_column("users", "bio", existing_type=sa.String(200), type_=sa.Text())
""",
    ),
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    yield from _swapped_in(rev)
    yield from _added_in_place(rev)
    for stmt in rev.existing_table_statements(RULE):
        for cmd in alter_commands(stmt.node, AlterTableType.AT_AlterColumnType):
            new = cmd.def_.typeName
            old = rev.column_before(stmt, cmd.name, "type")
            restored = None
            if old is None:  # Kotti's and bodhi's downgrades set it back to what it was
                old = restored = restored_type(rev, stmt, cmd.name)
            unknown = [t for t in (old, new) if is_unknown_type(t)]
            if unknown:
                what = (
                    "whose length or precision comes from a module that"
                    if has_unknown_modifier(unknown[0])
                    else "a type whose module"
                )
                rev.cannot_judge(
                    RULE, stmt.line, f'the type change of {stmt.table.sql}."{cmd.name}" involves '
                    f"{type_name(unknown[0])}, {what} cannot be imported here",
                )  # fmt: skip
                continue
            using = cmd.def_.raw_default
            if old is not None and keeps_contents(using, cmd.name, new) and no_rewrite(old, new):
                claimed = existing_type(stmt.operation)
                if (
                    claimed is not None and not no_rewrite(claimed, new)
                    and not _retyped_before(rev, stmt, cmd.name)
                ):  # fmt: skip
                    yield _claimed_otherwise(rev, stmt, cmd.name, old, claimed, new)
                continue
            if (
                using is None
                and zone_only_change(old, new, rev.pg_version)
                and utc_session(rev, stmt)
            ):
                continue  # the values keep their bits: no rewrite (letta sets UTC first)
            old_text = (
                _old_type_unknown(stmt) if old is None
                else _same_type(stmt, old) if type_name(old) == type_name(new)
                else f"from {type_name(old)} (what downgrade() sets it back to) " if restored
                else f"from {type_name(old)} "
            )  # fmt: skip
            lock = alter_table_command_lock(cmd)
            effect = (
                f"fails: PostgreSQL casts {type_name(old)} to {type_name(new)} only when told "
                "how (postgresql_using=), and the migration stops here on deploy"
                if using is None and no_automatic_cast(rev, stmt, old, new)
                else f"rewrites the table under an {lock.label} lock"
                f"{_unless_utc(old, new, rev.pg_version, using)}{_unless_text_already(old, new)}"
            )
            yield rev.finding(
                RULE,
                stmt,
                f'Changing the type of {stmt.table.sql}."{cmd.name}" {old_text}to '
                f"{type_name(new)} {effect}.",
                **table_values(stmt.table),
                column=cmd.name,
                new_column=f"{cmd.name}_new",
                new_type=type_name(new),
                converted=_converted(cmd, new),
                added=_labels_added(rev, stmt, old, new),
            )


def _swapped_in(rev: RevisionContext) -> Iterator[Finding]:
    """A column of another type that takes a dropped column's name (ironic-inspector adds
    ``temp_started_at``, copies, drops ``started_at`` and renames the new one to it): the
    type changes under the running code as with ALTER COLUMN ... TYPE, without the
    rewrite (drop-column leaves such a drop to this rule)."""
    for stmt in rev.existing_table_statements(RULE):
        node = stmt.node
        renamed = isinstance(node, ast.RenameStmt) and node.renameType == ObjectType.OBJECT_COLUMN
        if not renamed or stmt.table is None:
            continue
        drop = next(
            (
                earlier for earlier in rev.earlier(stmt)
                if earlier.table == stmt.table
                and any(cmd.name == node.newname for cmd in
                        alter_commands(earlier.node, AlterTableType.AT_DropColumn))
            ),
            None,
        )  # fmt: skip
        before = rev.schema_at(drop) if drop is not None else None
        old = before.column(stmt.table.key, node.newname) if before is not None else None
        old_type = old.type if old is not None else None  # read before the next schema_at()
        now = rev.schema_at(stmt)
        new = now.column(stmt.table.key, node.subname) if now is not None else None
        new_type = new.type if new is not None else None
        if drop is None or old_type is None or new_type is None:
            continue
        if any(map(is_unknown_type, (old_type, new_type))) or no_rewrite(old_type, new_type):
            continue
        yield rev.finding(
            RULE,
            stmt,
            f'Column "{node.newname}" of {stmt.table.sql} changes type from '
            f"{type_name(old_type)} to {type_name(new_type)}: {quote_identifier(node.subname)} "
            f"takes its name here, dropped at line {drop.line}, and the running code reads "
            f"and writes it as {type_name(old_type)}.",
            **table_values(stmt.table),
            column=node.newname,
            new_column=node.subname,
            new_type=type_name(new_type),
            converted=f"{node.newname}::{type_name(new_type)}",
            added="",
        )


def _added_in_place(rev: RevisionContext) -> Iterator[Finding]:
    """A column of another type added under the name of one renamed aside earlier in the
    function (open-webui renames ``chat`` to ``old_chat``, adds a JSON ``chat``, copies and
    drops the old one): the type changes under the running code as with ALTER COLUMN ...
    TYPE (rename-column leaves such a rename, added back, to this rule)."""
    for stmt in rev.existing_table_statements(RULE):
        for cmd in alter_commands(stmt.node, AlterTableType.AT_AddColumn):
            name = cmd.def_.colname
            aside = next(
                (
                    earlier for earlier in rev.earlier(stmt)
                    if earlier.table == stmt.table and isinstance(earlier.node, ast.RenameStmt)
                    and earlier.node.renameType == ObjectType.OBJECT_COLUMN
                    and earlier.node.subname == name
                ),
                None,
            )  # fmt: skip
            if aside is None:
                continue
            old_type = rev.column_before(aside, name, "type")
            new_type = cmd.def_.typeName
            if old_type is None or any(map(is_unknown_type, (old_type, new_type))):
                continue
            if no_rewrite(old_type, new_type) or _labels_kept(rev, stmt, old_type, new_type):
                continue
            renamed = aside.node.newname
            yield rev.finding(
                RULE,
                stmt,
                f'Column "{name}" of {stmt.table.sql} changes type from {type_name(old_type)} '
                f"to {type_name(new_type)}: the column added here takes its name, renamed to "
                f'"{renamed}" at line {aside.line}, and the running code reads and writes it as '
                f"{type_name(old_type)}.",
                **table_values(stmt.table),
                column=name,
                new_column=f"{name}_new",
                new_type=type_name(new_type),
                converted=f"{renamed}::{type_name(new_type)}",
                added="",
            )


def _labels_kept(
    rev: RevisionContext, stmt: Statement, old: ast.TypeName, new: ast.TypeName
) -> bool:
    """Both are enum types, and the new one has every label of the old: fides renames its
    enum type aside, makes it anew with one more label, and moves the column over; the
    running code writes the same labels as text, which the new type takes."""
    schema = rev.schema_at(stmt)
    if schema is None:
        return False
    labels = [schema.enums.get(dotted_name(kind.names)) for kind in (old, new)]
    return labels[0] is not None and labels[1] is not None and set(labels[0]) <= set(labels[1])


def _retyped_before(rev: RevisionContext, stmt: Statement, column: str) -> bool:
    """The same function changed the column's type before ``stmt``: an ``existing_type=``
    that names the type it had then is stale by the function's own doing (invenio-accounts'
    downgrade makes ``id`` integer, then passes existing_type=String(80) again), not because
    an earlier revision was edited."""
    return any(
        earlier.table == stmt.table and cmd.name == column
        for earlier in rev.earlier(stmt)
        for cmd in alter_commands(earlier.node, AlterTableType.AT_AlterColumnType)
    )


def _claimed_otherwise(
    rev: RevisionContext,
    stmt: Statement,
    column: str,
    old: ast.TypeName,
    claimed: ast.TypeName,
    new: ast.TypeName,
) -> Finding:
    """The history made the column what the change asks, or as good (nothing is rewritten on
    the databases it migrated), while the call's ``existing_type=`` says it is a type from
    which the change would rewrite: the revision was written for databases made before an
    earlier revision was edited (celery-director's, bentoml's). A notice, not a verdict."""
    finding = rev.finding(
        RULE,
        stmt,
        f'The history made {stmt.table.sql}."{column}" {type_name(old)}, so changing it to '
        f"{type_name(new)} rewrites nothing on the databases it migrated; the call says "
        f"existing_type={type_name(claimed)}, and where the column is that (a database made "
        "before an earlier revision was edited), it rewrites the table under an ACCESS "
        "EXCLUSIVE lock.",
        **table_values(stmt.table),
        column=column,
        new_column=f"{column}_new",
        new_type=type_name(new),
        converted=f"{column}::{type_name(new)}",
        added="",
    )
    return replace(finding, severity=Severity.NOTICE)


def _labels_added(rev: RevisionContext, stmt: Statement, old: ast.TypeName | None,
                  new: ast.TypeName) -> str:  # fmt: skip
    """For one enum swapped for another that only adds labels (fides renames ``ctype`` to
    ``ctype_old``, creates ``ctype`` with one label more and converts every row): the labels
    added to the type in place instead, which rewrites nothing."""
    schema = rev.schema_at(stmt)
    if old is None or schema is None:
        return ""
    before, after = dotted_name(old.names), dotted_name(new.names)
    old_labels, new_labels = schema.enums.get(before), schema.enums.get(after)
    if old_labels is None or new_labels is None or before == after:
        return ""
    added = [label for label in new_labels if label not in old_labels]
    if not added or any(label not in new_labels for label in old_labels):
        return ""
    if not keeps_order(old_labels, new_labels):
        return ""  # ADD VALUE cannot put the type's own labels in another order
    name = _name_before_renames(rev, stmt, before)
    statements = add_enum_values(name, old_labels, new_labels)
    lines = "\n".join(f"op.execute({sql_code(statement)})" for statement in statements)
    return (
        f"# {type_name(new)} only adds labels to {type_name(old)}: add them to the type in "
        "place instead\n# (no rewrite), and leave the rename, the new type and the column "
        f"change out:\n{lines}\n# or else:\n"
    )


def _same_type(stmt: Statement, old: ast.TypeName) -> str:
    """The history made the column the type it is changed to already (skypilot's initial
    revision builds its tables from today's models): "from timestamptz to timestamptz" said
    nothing; what the call says it was is named, where it says so."""
    claimed = existing_type(stmt.operation)
    said = (
        f", though existing_type= says {type_name(claimed)}"
        if claimed is not None and type_name(claimed) != type_name(old)
        else ""
    )
    return f"(already {type_name(old)}, as the history made it{said}) "


def _old_type_unknown(stmt: Statement) -> str:
    """What to say when neither the history nor the call tells the former type: an Alembic
    call can say it (``existing_type=``), raw SQL cannot."""
    if isinstance(stmt.operation, ops.AlterColumnOp):
        return "(old type unknown: pass existing_type= to let migsafe tell a safe change) "
    return "(old type unknown: the history does not tell it) "


def _converted(cmd: ast.AlterTableCmd, new: ast.TypeName) -> str:
    """How the backfill computes a new value: the migration's own USING expression (open-
    webui's ``extract(epoch from created_at)::bigint``: timestamp has no cast to bigint),
    else a cast of the column."""
    using = cmd.def_.raw_default
    if using is not None:
        return RawStream()(using)
    return f"{cmd.name}::{type_name(new)}"


def _unless_utc(
    old: ast.TypeName | None, new: ast.TypeName, pg_version: int, using: ast.Node | None
) -> str:
    """timestamp to timestamptz, and back, keeps every value's bits when the session's
    TimeZone is UTC: PostgreSQL 12 and later skip the rewrite then (only the column's indexes
    are rebuilt). Not with a USING expression (qcfractal's ``timestamp at time zone
    'Etc/UTC'``), which is computed for every row: without it, under UTC, the values are
    the same."""
    if not zone_only_change(old, new, pg_version):
        return ""
    if using is not None:
        return (
            " (a USING expression rewrites it whatever the TimeZone; leave it out and SET "
            "LOCAL TIME ZONE 'UTC' first, and nothing is rewritten)"
        )
    return " (unless the session's TimeZone is UTC: SET LOCAL TIME ZONE 'UTC' first)"


def _unless_text_already(old: ast.TypeName | None, new: ast.TypeName) -> str:
    """To text or a varchar of no length every text type goes without a rewrite, and to
    varchar(n) a varchar of n or fewer: with the old type unknown (mailman's Storm-era
    columns made by its application, bodhi's widened alias), that is said."""
    name, modifiers = type_parts(new)
    if old is not None or new.arrayBounds or name not in ("text", "varchar"):
        return ""
    if modifiers:
        return (
            f" (unless it is a varchar of at most {modifiers[0]} characters already: then "
            "nothing is rewritten)"
        )
    return " (unless it is text or varchar already: then nothing is rewritten)"


def _name_before_renames(rev: RevisionContext, stmt: Statement, enum: Name) -> str:
    """The type's name before the function renamed it aside (``ALTER TYPE ctype RENAME TO
    ctype_old``), as SQL."""
    for earlier in reversed(list(rev.earlier(stmt))):
        node = earlier.node
        renamed = isinstance(node, ast.RenameStmt) and node.renameType == ObjectType.OBJECT_TYPE
        if renamed and (enum[0], node.newname) == enum:
            enum = dotted_name(node.object)
    return TableName.from_key(enum).sql
