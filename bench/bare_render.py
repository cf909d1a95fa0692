"""The floor of any SQL-based migration linter: Alembic's offline render, and nothing else.

For every script of a versions directory this runs ``upgrade()`` and ``downgrade()`` under
Alembic's offline ``MigrationContext`` (PostgreSQL dialect, ``as_sql``) and writes the SQL to
stdout, exactly what ``alembic upgrade base:head --sql`` does per script, except that a script
that fails (an import, ``op.get_bind()``) is skipped instead of ending the run: the real
histories we measure on cannot be rendered by ``alembic ... --sql`` as shipped.

Usage: python bench/bare_render.py VERSIONS_DIR
"""

from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path

from alembic.migration import MigrationContext
from alembic.operations import Operations


def render(versions: Path) -> tuple[int, int]:
    rendered = failed = 0
    out = io.StringIO()
    for index, path in enumerate(sorted(versions.glob("*.py"))):
        if path.name == "__init__.py":
            continue
        spec = importlib.util.spec_from_file_location(f"_bare_{index}", path)
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception:
            failed += 1
            continue
        for name in ("upgrade", "downgrade"):
            context = MigrationContext.configure(
                dialect_name="postgresql",
                opts={"as_sql": True, "output_buffer": out, "literal_binds": True},
            )
            with Operations.context(context):
                try:
                    getattr(module, name)()
                    rendered += 1
                except Exception:
                    failed += 1
    sys.stdout.write(out.getvalue())
    return rendered, failed


if __name__ == "__main__":
    ok, bad = render(Path(sys.argv[1]))
    print(f"-- rendered {ok} functions, {bad} failed", file=sys.stderr)
