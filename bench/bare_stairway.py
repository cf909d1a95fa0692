"""The bare stairway: the same upgrade/downgrade/upgrade steps through Alembic, no snapshots.

For each revision from FIRST on: upgrade to it, downgrade to its parent, upgrade again; stops
at the first error. Runs in a scratch database on SERVER_URL, through the script directory's
env.py, one connection for the whole run.

Two ways of driving Alembic:
- ``command``: Alembic's command API, as a user writes it by hand; every command loads the
  script directory again (imports every revision file).
- ``reuse`` (the stricter baseline): what the command API does, with one ScriptDirectory
  loaded once, so that only the migration steps themselves are timed.

Usage: python bench/bare_stairway.py SERVER_URL SCRIPT_DIR FIRST [command|reuse]
"""

from __future__ import annotations

import sys

from alembic import command
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from migsafe.postgres.url import scratch_database


def reusing(config: Config, scripts: ScriptDirectory):
    """upgrade/downgrade functions like alembic.command's, over one loaded ScriptDirectory."""

    def run(destination: str, upgrade: bool) -> None:
        def steps(heads, context):
            if upgrade:
                return scripts._upgrade_revs(destination, heads)
            return scripts._downgrade_revs(destination, heads)

        with EnvironmentContext(config, scripts, fn=steps, destination_rev=destination):
            scripts.run_env()

    return (lambda config, rev: run(rev, True)), (lambda config, rev: run(rev, False))


def main(server_url: str, script_dir: str, first: str, mode: str = "reuse") -> None:
    config = Config()
    config.set_main_option("script_location", script_dir)
    config.set_main_option("path_separator", "os")
    scripts = ScriptDirectory.from_config(config)
    order = list(reversed(list(scripts.walk_revisions())))
    start = next(i for i, script in enumerate(order) if script.revision == first)
    if mode == "reuse":
        upgrade, downgrade = reusing(config, scripts)
    else:
        upgrade, downgrade = command.upgrade, command.downgrade
    with scratch_database(server_url) as url:
        engine = create_engine(url, poolclass=NullPool)
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            upgrade(config, order[start].down_revision or "base")
            for script in order[start:]:
                upgrade(config, script.revision)
                downgrade(config, script.down_revision or "base")
                upgrade(config, script.revision)
        engine.dispose()


if __name__ == "__main__":
    main(*sys.argv[1:5])
