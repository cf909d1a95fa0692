"""The rest of a project module whose import raised: each top-level definition after the
statement that raised (a class, a constant, an import), run on its own.

mlflow's ``dbmodels/models.py`` builds a list of run statuses from protobuf enums near its
top; with protobuf not installed that line raises, and every model class after it (the
thirty the migrations name for their ``__tablename__``) would be lost to a stand-in. Those
classes do not depend on the line that raised, and importing with the dependency installed
defines them just as running them one by one here does. A statement that does depend on
what was lost raises in its turn (a ``NameError``) and is skipped too, so what is defined is
only what the real import would define, and the rest stays stood in.

A function is left out (it stays a stand-in): its body runs later, when it is called, and
whether it needs what was lost shows only then, as an error inside the application's code
(airflow's ``utcnow()`` handing a stood-in pendulum timezone to ``datetime.now``) where a
stand-in would have let the migration go on. A class body or an assignment runs now, so it
is kept only when it does not need what was lost. A call made for its effect, a loop, a
branch or a block does work the real import never did, and is not run; what is run gets 2 s
and may not end the process.
"""

from __future__ import annotations
import __future__

import ast
import types
from typing import Any

from migsafe.capture.no_process_exit import no_process_exit
from migsafe.capture.time_limit import RunTooLong, time_limit

# what the real import never ran gets this long (a module that raises to stop its import,
# before work that would not end offline); the statements not run by then stay stood in
_SECONDS = 2.0

# what a statement after the error may be: a definition of a name (a class, a constant, an
# import); not a call made for its effect, a loop, a branch or a block, which do work the
# real import never did
_DEFINITIONS = (ast.ClassDef, ast.Assign, ast.AnnAssign, ast.Import, ast.ImportFrom)

_FUTURE_FLAGS = {
    name: getattr(__future__, name).compiler_flag for name in __future__.all_feature_names
}


def run_the_rest(module: types.ModuleType, loader: Any, error: BaseException) -> None:
    """Run, in ``module``'s namespace, each top-level definition after the statement that
    raised ``error``; one that raises (or exits) is skipped. Nothing is run when the
    module's source or the statement that raised cannot be told."""
    line = _line_that_raised(module, error)
    source = _source(module, loader)
    if line is None or source is None:
        return
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return
    after = [
        statement
        for statement in tree.body
        if statement.lineno > line and isinstance(statement, _DEFINITIONS)
    ]
    flags = _future_flags(tree)
    filename = module.__spec__.origin if module.__spec__ else module.__name__
    limit = None
    try:
        with time_limit(_SECONDS) as limit, no_process_exit():
            for statement in after:
                code = compile(
                    ast.Module([statement], type_ignores=[]), filename, "exec", flags,
                    dont_inherit=True,
                )  # fmt: skip
                try:
                    exec(code, vars(module))
                except (Exception, SystemExit):
                    continue
    except RunTooLong as exc:
        if limit is None or exc.args[0] is not limit:
            raise  # an outer limit's: the run it bounds stops


def _line_that_raised(module: types.ModuleType, error: BaseException) -> int | None:
    """The line of the module's own top-level code at which ``error`` went through it."""
    line = None
    traceback = error.__traceback__
    while traceback is not None:
        frame = traceback.tb_frame
        if frame.f_globals is vars(module) and frame.f_code.co_name == "<module>":
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


def _source(module: types.ModuleType, loader: Any) -> str | None:
    try:
        return loader.get_source(module.__name__)
    except (ImportError, OSError, AttributeError):
        return None


def _future_flags(tree: ast.Module) -> int:
    """The ``from __future__`` imports of the module (``annotations`` above all), which a
    statement compiled on its own would otherwise lose."""
    flags = 0
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
            flags |= sum(_FUTURE_FLAGS.get(alias.name, 0) for alias in statement.names)
    return flags
