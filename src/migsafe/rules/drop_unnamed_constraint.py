"""drop-unnamed-constraint: ``op.drop_constraint(None, ...)`` cannot run."""

from __future__ import annotations

from collections.abc import Iterator

from alembic.operations import ops

from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext, table_values
from migsafe.rule import DOWNGRADE, UPGRADE, Category, Rule, py_literal
from migsafe.sql import TableName

RULE = Rule(
    code="MS015",
    name="drop-unnamed-constraint",
    severity=Severity.ERROR,
    category=Category.ROLLBACK,
    help="Name the constraint; a naming convention on the MetaData makes autogenerate do so.",
    directions=(UPGRADE, DOWNGRADE),
    summary="A constraint cannot be dropped without its name.",
    why=(
        "Autogenerate writes op.drop_constraint(None, ...) for constraints it created without "
        "a name (typically in downgrade()). PostgreSQL needs the real name, so the migration "
        "fails the day somebody needs it. A naming convention on the MetaData gives every "
        "constraint a predictable name."
    ),
    fix="""\
op.drop_constraint({name}, {table!r}{type}{schema})  # {whence}
# and set a naming convention so autogenerate writes names, e.g.
# MetaData(naming_convention={{
#     "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}})""",
    bad=(
        """\
def upgrade():
    op.create_foreign_key(None, "orders", "users", ["user_id"], ["id"])

def downgrade():
    op.drop_constraint(None, "orders", type_="foreignkey")
""",
    ),
    good=(
        """\
def upgrade():
    op.create_foreign_key("fk_orders_user_id_users", "orders", "users", ["user_id"], ["id"])

def downgrade():
    op.drop_constraint("fk_orders_user_id_users", "orders", type_="foreignkey")
""",
    ),
    fails=True,
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    captures = {UPGRADE: rev.upgrade_capture, DOWNGRADE: rev.downgrade_capture}
    for capture in (captures[direction] for direction in RULE.directions):
        for item in capture.operations:
            operation = item.operation
            if isinstance(operation, ops.DropConstraintOp) and operation.constraint_name is None:
                table = TableName(operation.schema, operation.table_name)
                outcome = (
                    "SQLAlchemy refuses it, the migration's except catches that, and the "
                    "constraint stays (nor does the rest of that try block run)"
                    if item.caught
                    else "the migration fails when it runs"
                )
                known = _only_one(rev, capture.function, table, operation.constraint_type)
                yield rev.finding(
                    RULE,
                    item.line,
                    f"{capture.function}() drops a constraint of {table.sql} "
                    f"without naming it: {outcome}.",
                    **table_values(table),
                    type=_type_argument(operation.constraint_type),
                    name=py_literal(known) if known else '"<its name>"',
                    whence=(
                        f"the only {_KINDS[operation.constraint_type]} of {table.sql} when "
                        f"{capture.function}() starts"
                        if known
                        else f"psql's \\d {table.sql} lists it"
                    ),
                )


# Alembic's type_= and the catalog's kinds
_KINDS = {
    "foreignkey": "foreign key",
    "unique": "unique",
    "check": "check",
    "primary": "primary key",
}


def _only_one(
    rev: RevisionContext, function: str, table: TableName, constraint_type: str | None
) -> str | None:
    """The name of the one constraint of that type the table has when the function starts
    (aim's downgrade drops by None the key its upgrade named ``fk_experiment_note``): where
    the history made the table whole, and every revision before was captured to its end
    (or this one made it)."""
    kind = _KINDS.get(constraint_type or "")
    schema = rev.schema_before if function == UPGRADE else rev.schema_after_upgrade()
    if kind is None or schema is None:
        return None
    known = schema.tables.get(table.key)
    if known is None or not schema.certain(table.key, rev.script.revision):
        return None  # a table the history only altered may have keys it does not know
    names = [name for name, c in known.constraints.items() if c.kind == kind]
    return names[0] if len(names) == 1 else None


def _type_argument(constraint_type: str | None) -> str:
    """``, type_="foreignkey"`` as the user wrote it; nothing when they left it out, since
    PostgreSQL drops a constraint by its name alone."""
    return f", type_={py_literal(constraint_type)}" if constraint_type else ""
