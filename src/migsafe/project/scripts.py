"""One migration script as migsafe reads it: from its source, without running it.

Scripts are read with ``ast`` rather than imported: a broken import in one script must not
stop the others from being ordered and checked, and reading identifiers is much cheaper than
running module code.
"""

from __future__ import annotations

import ast
import enum
import functools
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from migsafe.findings import Diagnostic

REVISION_VARIABLES = ("revision", "down_revision", "branch_labels", "depends_on")


@dataclass(frozen=True)
class MigrationScript:
    """One migration file and the identifiers that place it in the revision graph."""

    path: Path
    source: str
    tree: ast.Module
    revision: str
    down_revisions: tuple[str, ...]
    branch_labels: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    # revision variables computed when the script is imported (invenio's depends_on, from
    # the packages installed), with their line: their values are not known
    computed: tuple[tuple[str, int], ...] = ()
    # ``depends_on`` entries that name no revision of the history read (another package's
    # branch: invenio-communities depends on invenio-accounts'), set by the history: they
    # run before this one, and what they do is not known
    outside: tuple[str, ...] = ()

    @property
    def starts_a_history(self) -> bool:
        """No parent, and no revision of this history it depends on: another history may
        start here (prefect 2's versions for SQLite), run on another database. A root that
        depends on one of this history's (pypnusershub's sample data) runs on its database."""
        within = set(self.depends_on) - set(self.outside)
        return not self.down_revisions and not within

    @property
    def title(self) -> str:
        """The first line of its docstring (Alembic's ``-m`` message)."""
        lines = (ast.get_docstring(self.tree) or "").strip().splitlines()
        return lines[0].strip() if lines else ""

    @property
    def revision_line(self) -> int:
        """The line that sets ``revision``: where a finding about the whole file points."""
        for number, line in enumerate(self.source.splitlines(), start=1):
            if line.lstrip().startswith("revision"):
                return number
        return 1

    def function(self, name: str) -> ast.FunctionDef | None:
        """The module-level ``def name()``, if the script has one."""
        for node in self.tree.body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                return node
        return None

    def statements(self) -> Iterator[ast.AST]:
        """Every statement of the script, nested ones too (in functions, loops, ``with`` and
        ``try`` blocks, exception handlers): a walk that skips the expressions, most of a
        tree, for what only a statement can be."""
        return iter(self._statements)

    @functools.cached_property
    def _statements(self) -> tuple[ast.AST, ...]:
        """The walk ``statements()`` gives, made once: rules ask for it per statement they
        judge (airflow's squashed revision: 222 times)."""
        return tuple(_statements_in(self.tree.body))

    @functools.cached_property
    def guarded_lines(self) -> frozenset[int]:
        """The lines inside a ``try`` whose handler catches the error PostgreSQL's refusal
        comes as (``except:``, ``except Exception:``, ``except ProgrammingError:``): an
        operation that fails there goes on in the handler, as superset's ``try:
        op.drop_constraint(None, ...) except: pass`` does."""
        return guarded_lines_in(self.source, self.tree)

    @functools.cached_property
    def raise_lines(self) -> frozenset[int]:
        """The lines of the script's ``raise`` statements, in any function of it."""
        if "raise" not in self.source:
            return frozenset()
        return frozenset(
            line
            for node in self.statements()
            if isinstance(node, ast.Raise)
            for line in range(node.lineno, (node.end_lineno or node.lineno) + 1)
        )


def guarded_lines_in(source: str, tree: ast.Module | None = None) -> frozenset[int]:
    """``MigrationScript.guarded_lines`` of any module (a helper the migration calls: skypilot
    adds its columns through one that takes ProgrammingError)."""
    if not _TRY.search(source):  # most modules: no walk of their tree
        return frozenset()
    if tree is None:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            return frozenset()
    lines: set[int] = set()
    for node in _statements_in(tree.body):
        if isinstance(node, ast.Try) and any(map(_catches_any_error, node.handlers)):
            first, last = node.body[0].lineno, node.body[-1].end_lineno or node.lineno
            lines.update(range(first, last + 1))
    return frozenset(lines)


_TRY = re.compile(r"\btry\s*:")
_BLOCKS = ("body", "handlers", "orelse", "finalbody", "cases")


def _statements_in(body: list[ast.AST]) -> Iterator[ast.AST]:
    for node in body:
        yield node
        for field in _BLOCKS:
            block = getattr(node, field, None)
            if isinstance(block, list):
                yield from _statements_in(block)


def read_script(path: Path) -> MigrationScript | Diagnostic:
    """Parse one file; return a fatal diagnostic when it cannot be a migration script."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return Diagnostic(path, f"cannot read file: {exc.strerror}", fatal=True)
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Diagnostic(path, f"not UTF-8 text (invalid byte at offset {exc.start})", fatal=True)
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        return Diagnostic(path, f"Python syntax error: {exc.msg}", fatal=True, line=exc.lineno)
    try:
        values, computed = _module_literals(tree)
    except ValueError as exc:
        return Diagnostic(path, str(exc), fatal=True)
    revision = values.get("revision")
    if "revision" in values and not isinstance(revision, str):
        return Diagnostic(path, f"`revision` is {revision!r}, not a string", fatal=True)
    if not isinstance(revision, str) or not revision:
        return Diagnostic(path, "no `revision` variable: not an Alembic migration", fatal=True)
    return MigrationScript(
        path=path,
        source=source,
        tree=tree,
        revision=revision,
        down_revisions=_as_tuple(values.get("down_revision")),
        branch_labels=_as_tuple(values.get("branch_labels")),
        depends_on=_as_tuple(values.get("depends_on")),
        computed=tuple(computed.items()),
    )


def _module_stores(tree: ast.Module) -> Counter[str]:
    """How often each module-level name is assigned: by the module's own statements, or by
    a function that declares it ``global``. The functions' bodies, most of a migration, are
    not walked for their expressions."""
    stored: Counter[str] = Counter()
    for statement in tree.body:
        if not isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            stored.update(
                name.id for name in ast.walk(statement)
                if isinstance(name, ast.Name) and isinstance(name.ctx, ast.Store)
            )  # fmt: skip
    for statement in _statements_in(tree.body):
        if isinstance(statement, ast.Global):
            stored.update({name: 2 for name in statement.names})  # set elsewhere too
    return stored


def _module_literals(tree: ast.Module) -> tuple[dict[str, object], dict[str, int]]:
    """The revision variables' values, and the lines of those computed at import.

    ``revision`` and ``down_revision`` place the script in the graph: they must be literals.
    Branch labels set from names keep their source text (``_expressions``); a ``depends_on``
    computed when the script is imported is not known, and only ``down_revision`` orders
    the script (a ``depends_on`` outside the history does not order it either).
    """
    values: dict[str, object] = {}
    computed: dict[str, int] = {}
    constants: dict[str, object] = {}  # module-level names set once, to immutable literals
    stored = _module_stores(tree)
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if not isinstance(target, ast.Name):
                continue
            try:
                constant = _literal(value, constants)
            except ValueError:
                constant = None
            else:
                if stored[target.id] == 1 and isinstance(constant, (str, tuple)):
                    constants[target.id] = constant
            if target.id in REVISION_VARIABLES:
                try:
                    values[target.id] = _literal(value, constants)
                except ValueError:
                    if target.id == "branch_labels":
                        values[target.id] = _expressions(value)
                    elif target.id == "depends_on":
                        values[target.id], computed[target.id] = None, node.lineno
                    else:
                        raise ValueError(
                            f"`{target.id}` (line {node.lineno}) is not a literal string, "
                            "tuple or None"
                        ) from None
    return values, computed


def _literal(node: ast.expr, constants: dict[str, object]) -> object:
    """A literal's value, a name set to one earlier in the module standing for it
    (``revision = REV``, which Alembic reads as well), in a tuple or list too."""
    if isinstance(node, ast.Name) and node.id in constants:
        return constants[node.id]
    if isinstance(node, (ast.Tuple, ast.List)):
        items = tuple(_literal(item, constants) for item in node.elts)
        return items if isinstance(node, ast.Tuple) else list(items)
    return ast.literal_eval(node)


def _expressions(value: ast.expr) -> tuple[str, ...]:
    """Branch labels set from names (``(cli.EXPAND_BRANCH,)``, as OpenStack's are): their
    source text. Their values take running the application, but that there are labels is
    all the graph needs, and the revision keeps its place in it."""
    items = value.elts if isinstance(value, (ast.Tuple, ast.List)) else [value]
    return tuple(ast.unparse(item) for item in items)


# the handlers that take what PostgreSQL's refusal comes as (a ProgrammingError: migsafe's
# FailsOnPostgreSQL too), or any error
_CATCH_ALL = {
    "Exception", "BaseException", "SQLAlchemyError", "CompileError", "DBAPIError",
    "DatabaseError", "ProgrammingError",
}  # fmt: skip


def _catches_any_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(
        (node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)) in _CATCH_ALL
        for node in names
    )


def _as_tuple(value: object) -> tuple[str, ...]:
    """A revision variable's revisions; Alembic takes an empty string as none (invenio-
    accounts' ``depends_on = ""``)."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    return (str(value),)


class BodyShape(enum.Enum):
    """What a migration function's body is, read from its source."""

    ABSENT = "absent"  # no such function
    EMPTY = "empty"  # pass, ``...`` or only a docstring
    RAISES = "raises"  # raises unconditionally (a top-level raise): deliberately one-way
    CODE = "code"


def body_shape(function: ast.FunctionDef | None) -> BodyShape:
    if function is None:
        return BodyShape.ABSENT
    body = [
        node
        for node in function.body
        if not (
            isinstance(node, ast.Pass)
            or _is_constant_expression(node)
            or _is_unraised_exception(node)
            or _is_early_return(node)
        )
    ]
    if not body:
        return BodyShape.EMPTY
    if any(isinstance(node, ast.Raise) for node in body):  # unconditionally, at some point
        return BodyShape.RAISES
    return BodyShape.CODE


def raised_on_purpose(function: ast.FunctionDef | None, line: int | None) -> bool:
    """The function stopped at one of its own top-level ``raise`` statements (a one-way
    revision saying so), not at an error before it: a downgrade that drops a column that
    is not there, then raises NotImplementedError, failed, and is no one-way revision."""
    if function is None or line is None or body_shape(function) is not BodyShape.RAISES:
        return False
    return any(
        isinstance(node, ast.Raise) and node.lineno <= line <= (node.end_lineno or node.lineno)
        for node in function.body
    )


def _is_constant_expression(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)


def _is_early_return(node: ast.stmt) -> bool:
    """``if name: return`` (nonebot-plugin-orm's template, for each bind but the default):
    it returns, or goes on to what follows, so it does nothing itself."""
    return (
        isinstance(node, ast.If)
        and not node.orelse
        and all(
            isinstance(inner, ast.Pass) or (isinstance(inner, ast.Return) and _is_none(inner.value))
            for inner in node.body
        )
    )


def _is_none(node: ast.expr | None) -> bool:
    return node is None or (isinstance(node, ast.Constant) and node.value is None)


def _is_unraised_exception(node: ast.stmt) -> bool:
    """``NotImplementedError()`` written without ``raise`` (subunit2sql's downgrades): the
    exception is made and thrown away, so the function does nothing."""
    if not isinstance(node, ast.Expr) or not isinstance(node.value, ast.Call):
        return False
    called = node.value.func
    name = called.id if isinstance(called, ast.Name) else getattr(called, "attr", "")
    return name.endswith(("Error", "Exception"))


def stopped_itself(exc: BaseException, script: MigrationScript) -> bool:
    """The script refused to go on: ``exc`` was raised by one of its own ``raise``
    statements (innermost), not while handling another error (langflow's ``if duplicates:
    raise RuntimeError("Rename conflicting files before downgrading")``). An error a
    library raised on a value, or a ``raise ... from`` one, is no refusal."""
    tb = exc.__traceback__
    if tb is None or not isinstance(exc, Exception) or exc.__context__ is not None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    names = {str(script.path), str(script.path.resolve())}
    return tb.tb_frame.f_code.co_filename in names and tb.tb_lineno in script.raise_lines


def failing_line(exc: BaseException, path: Path) -> int | None:
    """The line of the migration file ``path`` that was running, innermost, when ``exc``
    was raised (a helper or a loop in the file gives its own line); None if it never ran."""
    names = {str(path), str(path.resolve())}
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename in names:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
