"""redundant-index: a new index that another index on the table already serves."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pglast import ast
from pglast.enums import SortByDir, SortByNulls

from migsafe.catalog import Catalog, Index, sql_text
from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext, is_version_table
from migsafe.rule import PG_DOCS, Category, Rule
from migsafe.sql import Statement, TableName, quote_identifier

RULE = Rule(
    code="MS054",
    name="redundant-index",
    severity=Severity.NOTICE,
    category=Category.SCHEMA,
    help="Leave the index out: the other index serves the same lookups.",
    references=(PG_DOCS + "indexes-multicolumn.html", PG_DOCS + "indexes-unique.html"),
    summary="A new index duplicates another index of the table, or its columns lead one.",
    why=(
        "A B-tree index on (a, b) serves every lookup and sort an index on (a) alone serves, "
        "and a primary key or a unique constraint is an index too. An index the table has "
        "already costs work on every INSERT, on every UPDATE of its columns and in every "
        "VACUUM, takes disk and cache, and is never needed by the planner. Compared: the "
        "indexes this revision creates, with every index on the table at the end of the "
        "upgrade that this revision makes, and the primary keys and unique constraints of "
        "the earlier revisions (their plain indexes are not compared: the history's catalog "
        "does not keep their method and operator classes). A partial or expression index is "
        "compared only with an identical one; a unique index is redundant only beside a "
        "unique index on the same columns."
    ),
    fix="""\
# {other} already serves every lookup on {columns}: leave this index out.
# Delete from upgrade():
{call}
# and its op.drop_index({name!r}, ...) from downgrade().""",
    bad=(
        """\
def upgrade():
    op.create_index("ix_orders_user_id_created_at", "orders", ["user_id", "created_at"])
    op.create_index("ix_orders_user_id", "orders", ["user_id"])
""",
        """\
def upgrade():
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("email", sa.Text(), nullable=False, unique=True),
    )
    op.create_index("ix_users_email", "users", ["email"], unique=True)
""",
    ),
    good=(
        """\
def upgrade():
    op.create_index("ix_orders_user_id_created_at", "orders", ["user_id", "created_at"])
    op.create_index("ix_orders_created_at", "orders", ["created_at"])
""",
        """\
def upgrade():
    op.create_index("ix_orders_user_id", "orders", ["user_id"])
    op.create_index("ix_orders_open", "orders", ["user_id"],
                    postgresql_where=sa.text("status = 'open'"))
""",
    ),
    opt_in=True,
    since="0.2.0",
)

_KIND_NAMES = {"primary key": "primary key", "unique": "unique constraint"}


@dataclass(frozen=True)
class _Shape:
    """What decides which lookups an index serves."""

    name: str
    method: str
    keys: tuple[tuple[object, ...], ...]  # per element: column or expression, opclass, order
    columns: tuple[str | None, ...]  # None for an expression element
    include: frozenset[str]
    where: str | None
    unique: bool
    nulls_not_distinct: bool = False
    listed: str = ""  # its elements as SQL: ("user_id", "created_at")
    kind: str = ""  # what backs it: "primary key", "unique constraint", or none

    @property
    def described(self) -> str:
        """How a message names it."""
        kind = f"the {self.kind} " if self.kind else ""
        return f"{kind}{quote_identifier(self.name)} {self.listed}"

    @property
    def plain(self) -> bool:
        return self.where is None and None not in self.columns

    @property
    def covered(self) -> frozenset[str]:
        return frozenset(c for c in self.columns if c) | self.include


def check(rev: RevisionContext) -> Iterator[Finding]:
    """The indexes upgrade() creates that still exist when it ends, each compared with the
    other indexes of its table then."""
    catalog = rev.schema_before.copy() if rev.schema_before is not None else Catalog()
    created: dict[tuple[str, str], tuple[int, Statement, _Shape]] = {}
    for position, stmt in enumerate(rev.upgrade):
        if stmt.applied is None:
            continue
        catalog.apply(stmt.applied, rev.script.revision)
        node, table = stmt.node, stmt.table
        if (
            isinstance(node, ast.IndexStmt)
            and node.idxname
            and table is not None
            and not is_version_table(table)
        ):
            created[(table.key[0], node.idxname)] = (position, stmt, _shape(node))
    for key, (position, stmt, shape) in created.items():
        index = catalog.indexes.get(key)
        if index is None or index.table != stmt.table.key:
            continue  # dropped, or renamed, before the upgrade ends
        for other in catalog.indexes_of(index.table):
            if other.name == key:
                continue
            mine = created.get(other.name)
            other_shape = mine[2] if mine is not None else _constraint_shape(catalog, other)
            if other_shape is None:
                continue
            verdict = _redundant(shape, other_shape)
            if (
                verdict == "duplicate"
                and mine is not None
                and mine[0] > position
                and _redundant(other_shape, shape) == "duplicate"
            ):
                continue  # of two identical new indexes, the second is the redundant one
            if verdict is not None:
                yield _finding(rev, stmt, stmt.table, shape, other_shape, verdict)
                break


def _redundant(new: _Shape, other: _Shape) -> str | None:
    """``"duplicate"`` or ``"prefix"`` when ``other`` serves every lookup ``new`` serves."""
    if new.method != other.method or new.where != other.where:
        return None
    same_keys = new.keys == other.keys
    if not (new.plain and other.plain) or new.method != "btree":
        verdict = "duplicate" if same_keys else None  # compared only when identical
    elif other.keys[: len(new.keys)] == new.keys:
        verdict = "duplicate" if same_keys else "prefix"
    else:
        verdict = None
    if verdict is None or not new.include <= other.covered:
        return None
    if new.unique and not (
        other.unique and same_keys and new.nulls_not_distinct == other.nulls_not_distinct
    ):
        return None  # it enforces what the other does not
    return verdict


def _shape(node: ast.IndexStmt) -> _Shape:
    elements = list(node.indexParams or ())
    columns = tuple(e.name or None for e in elements)
    return _Shape(
        name=node.idxname,
        method=(node.accessMethod or "btree").lower(),
        keys=tuple(_key(e) for e in elements),
        columns=columns,
        include=frozenset(e.name for e in node.indexIncludingParams or () if e.name),
        where=sql_text(node.whereClause),
        unique=bool(node.unique),
        nulls_not_distinct=bool(getattr(node, "nulls_not_distinct", False)),
        listed=_listed(columns, elements),
    )


def _key(element: ast.IndexElem) -> tuple[object, ...]:
    descending = element.ordering == SortByDir.SORTBY_DESC
    nulls = element.nulls_ordering
    nulls_first = (
        nulls == SortByNulls.SORTBY_NULLS_FIRST
        if nulls != SortByNulls.SORTBY_NULLS_DEFAULT
        else descending
    )
    return (
        element.name or sql_text(element.expr),
        tuple(s.sval for s in element.opclass or () if isinstance(s, ast.String)),
        tuple(s.sval for s in element.collation or () if isinstance(s, ast.String)),
        bool(element.opclassopts),
        descending,
        nulls_first,
    )


def _constraint_shape(catalog: Catalog, index: Index) -> _Shape | None:
    """A primary key's or a unique constraint's index: B-tree, on plain columns. Other
    indexes of the earlier revisions are not known well enough (method, opclasses)."""
    table = catalog.table(index.table)
    constraint = table.constraints.get(index.name[1]) if table is not None else None
    if (
        constraint is None
        or constraint.kind not in ("primary key", "unique")
        or not constraint.columns
        or tuple(index.columns) != constraint.columns
    ):
        return None
    columns = constraint.columns
    return _Shape(
        name=constraint.name,
        method="btree",
        keys=tuple((c, (), (), False, False, False) for c in columns),
        columns=columns,
        include=frozenset(),
        where=None,
        unique=True,
        listed=_listed(columns),
        kind=_KIND_NAMES[constraint.kind],
    )


def _listed(columns: tuple[str | None, ...], elements: list | None = None) -> str:
    parts = [
        quote_identifier(c) if c else (sql_text(elements[i].expr) if elements else "?")
        for i, c in enumerate(columns)
    ]
    return f"({', '.join(parts)})"


def _finding(
    rev: RevisionContext,
    stmt: Statement,
    table: TableName,
    new: _Shape,
    other: _Shape,
    verdict: str,
) -> Finding:
    relation = (
        f"duplicates {other.described}"
        if verdict == "duplicate"
        else f"is a leading part of {other.described}"
    )
    source = rev.source_at(stmt.line) or stmt.sql
    call = "\n".join(f"#     {line}" for line in source.rstrip().splitlines())
    columns = new.listed
    return rev.finding(
        RULE,
        stmt,
        f"Index {quote_identifier(new.name)} on {table.sql} {columns} {relation}, which "
        "serves the same lookups: it only costs work on every write to the table, and disk.",
        other=other.described,
        columns=columns,
        call=call,
        name=new.name,
    )
