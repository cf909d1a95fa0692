"""The command line's entry point, for ``migsafe`` and ``python -m migsafe``.

The process is claimed as migsafe's (``own_process``) before the command line is imported,
so that what it imports is made with the collector off.
"""

import os
import sys

from migsafe import own_process


def main() -> None:
    own_process.claim()
    try:
        from migsafe.cli import main as run_command_line
    except KeyboardInterrupt:
        own_process.interrupted()
    run_command_line()


if __name__ == "__main__":
    # ``python -m`` puts the working directory first on the import path, where a project's
    # own package named like a library hides it (zuul keeps an ``alembic`` package beside
    # its alembic.ini): migsafe imports what it is installed with, as the ``migsafe``
    # command does, and the project's modules from the paths its configuration names
    if sys.path and os.path.realpath(sys.path[0] or ".") == os.path.realpath(os.getcwd()):
        del sys.path[0]
    main()
