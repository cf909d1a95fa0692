"""attach-partition-without-check: ATTACH PARTITION reads the whole partition to check its
bound, unless a validated CHECK constraint already proves it."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType
from pglast.stream import RawStream

from migsafe.findings import Finding, Severity
from migsafe.locks import LockMode, alter_table_command_lock
from migsafe.revision import RevisionContext, alter_commands, is_null_constant
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule, sql_code
from migsafe.sql import Statement, TableName

RULE = Rule(
    code="MS028",
    name="attach-partition-without-check",
    severity=Severity.WARNING,
    category=Category.LOCKING,
    help="Prove the bound first: a CHECK added NOT VALID and validated, then ATTACH PARTITION.",
    references=(
        PG_DOCS + "sql-altertable.html#SQL-ALTERTABLE-ATTACH-PARTITION",
        PG_DOCS + "ddl-partitioning.html#DDL-PARTITIONING-DECLARATIVE-MAINTENANCE",
    ),
    directions=(UPGRADE, DOWNGRADE),
    summary="Attaching a partition reads all of it to check its bound while locks are held.",
    why=(
        "ALTER TABLE ... ATTACH PARTITION checks that every row of the table being attached "
        "fits the partition bound: a full scan under an ACCESS EXCLUSIVE lock on that table, "
        "while the partitioned table is locked too (SHARE UPDATE EXCLUSIVE since PostgreSQL "
        "12, ACCESS EXCLUSIVE before: then all its reads and writes wait for the scan). The "
        "scan is skipped when a validated CHECK constraint on the table implies the bound, "
        "and that CHECK can be added NOT VALID and validated under a lock that lets reads and "
        "writes through. (A default partition, if the table has one, is scanned too, unless "
        "its own CHECK excludes the new bound.)"
    ),
    fix="""\
{check_comment}op.create_check_constraint({check!r}, {partition!r},
                           {condition},
                           postgresql_not_valid=True{schema})
with op.get_context().autocommit_block():  # validate in its own transaction
    op.execute('ALTER TABLE {partition_sql} VALIDATE CONSTRAINT "{check}"')
op.execute({attach})  # no scan: the CHECK proves the bound
op.drop_constraint({check!r}, {partition!r}, type_="check"{schema})""",
    bad=(
        """\
def upgrade():
    op.execute("ALTER TABLE events ATTACH PARTITION events_2020 "
               "FOR VALUES FROM ('2020-01-01') TO ('2021-01-01')")
""",
    ),
    good=(
        """\
def upgrade():
    op.create_check_constraint("ck_events_2020_bound", "events_2020",
                               "at >= '2020-01-01' AND at < '2021-01-01'",
                               postgresql_not_valid=True)
    with op.get_context().autocommit_block():
        op.execute('ALTER TABLE "events_2020" VALIDATE CONSTRAINT "ck_events_2020_bound"')
    op.execute("ALTER TABLE events ATTACH PARTITION events_2020 "
               "FOR VALUES FROM ('2020-01-01') TO ('2021-01-01')")
    op.drop_constraint("ck_events_2020_bound", "events_2020", type_="check")
""",
        """\
def upgrade():
    op.execute("CREATE TABLE events_2021 (LIKE events INCLUDING ALL)")
    op.execute("ALTER TABLE events ATTACH PARTITION events_2021 "
               "FOR VALUES FROM ('2021-01-01') TO ('2022-01-01')")
""",
    ),
    since="0.2.0",
)

KEY = "KEY"  # the partition key, which the ATTACH statement does not name


def check(rev: RevisionContext) -> Iterator[Finding]:
    for stmt in rev.existing_table_statements(RULE):
        for cmd in alter_commands(stmt.node, AlterTableType.AT_AttachPartition):
            partition = TableName.of(cmd.def_.name)
            if rev.is_new_table(stmt, partition):
                continue  # created in this function (or change): empty, nothing to scan
            if _bound_proven(rev, stmt, partition):
                continue
            parent_lock = alter_table_command_lock(cmd)
            if rev.pg_version < 12:
                parent_lock = LockMode.ACCESS_EXCLUSIVE
            own_lock = LockMode.ACCESS_EXCLUSIVE
            condition = _bound_condition(cmd.def_.bound, stmt.table)
            yield rev.finding(
                RULE,
                stmt,
                f"ATTACH PARTITION {partition.sql} reads all of it to check the bound, under "
                f"an {own_lock.label} lock on it and {_article(parent_lock)} "
                f"{parent_lock.label} lock on {stmt.table.sql}: for the whole scan, "
                f"{parent_lock.blocks} wait on {stmt.table.sql}.",
                check=f"ck_{partition.name}_bound"[:63],
                partition=partition.name,
                partition_sql=partition.sql,
                schema=partition.schema_argument,
                condition=sql_code(condition or f"{KEY} ..."),
                check_comment=(
                    f"# {KEY}: the partition key of {stmt.table.sql}\n"
                    if condition
                    else f"# a condition on the partition key of {stmt.table.sql} that implies "
                    "the bound\n"
                ),
                attach=sql_code(stmt.sql),
            )


def _bound_proven(rev: RevisionContext, attach: Statement, partition: TableName) -> bool:
    """A validated CHECK on the partition (other than NOT NULL alone) before the ATTACH: from
    an earlier revision, or earlier in the same function. Whether it implies the bound is
    PostgreSQL's to prove; one written for it is taken to."""
    statements = rev.downgrade if attach.direction == DOWNGRADE else rev.upgrade
    pending: set[str] = set()
    for stmt in statements:
        if stmt is attach:
            break
        if stmt.table != partition:
            continue
        for cmd in alter_commands(stmt.node, AlterTableType.AT_AddConstraint):
            if _is_bound_check(cmd.def_):
                if not cmd.def_.skip_validation:
                    return True
                pending.add(cmd.def_.conname or "")
        for cmd in alter_commands(stmt.node, AlterTableType.AT_ValidateConstraint):
            if cmd.name in pending:
                return True
    table = rev.schema_before.table(partition.key) if rev.schema_before else None
    return table is not None and any(
        c.kind == "check" and c.validated and c.not_null_column is None
        for c in table.constraints.values()
    )


def _is_bound_check(constraint: ast.Node | None) -> bool:
    return (
        isinstance(constraint, ast.Constraint)
        and constraint.contype == ConstrType.CONSTR_CHECK
        and not isinstance(constraint.raw_expr, ast.NullTest)
    )


def _bound_condition(bound: ast.PartitionBoundSpec | None, parent: TableName) -> str | None:
    """A CHECK condition on ``KEY`` that is exactly the partition constraint, for a bound on
    one column (None for a default partition or a bound on several columns)."""
    if bound is None or bound.is_default:
        return None
    if bound.strategy == "r" and len(bound.lowerdatums or ()) == 1 == len(bound.upperdatums or ()):
        parts = [f"{KEY} IS NOT NULL"]
        (lower,), (upper,) = bound.lowerdatums, bound.upperdatums
        if not _is_infinite(lower):
            parts.append(f"{KEY} >= {_sql(lower)}")
        if not _is_infinite(upper):
            parts.append(f"{KEY} < {_sql(upper)}")
        return " AND ".join(parts)
    if bound.strategy == "l":
        values = [d for d in bound.listdatums or () if not is_null_constant(d)]
        listed = f"{KEY} IN ({', '.join(_sql(v) for v in values)})" if values else None
        if len(values) < len(bound.listdatums or ()):
            return f"{KEY} IS NULL OR {listed}" if listed else f"{KEY} IS NULL"
        return f"{KEY} IS NOT NULL AND {listed}" if listed else None
    if bound.strategy == "h":
        simple = all(part.isidentifier() and part == part.lower() for part in parent.key)
        regclass = str(parent) if simple else parent.sql.replace("'", "''")
        return (
            f"satisfies_hash_partition('{regclass}'::regclass, {bound.modulus}, "
            f"{bound.remainder}, {KEY})"
        )
    return None


def _is_infinite(datum: ast.Node) -> bool:
    return isinstance(datum, ast.ColumnRef) and datum.fields[-1].sval in ("minvalue", "maxvalue")


def _sql(node: ast.Node) -> str:
    return RawStream()(node)


def _article(lock: LockMode) -> str:
    return "an" if lock.label.startswith(("A", "E")) else "a"
