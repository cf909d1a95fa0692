"""The command line's entry point, for ``migsafe`` and ``python -m migsafe``.

The process is claimed as migsafe's (``own_process``) before the command line is imported,
so that what it imports is made with the collector off.
"""

from migsafe import own_process


def main() -> None:
    own_process.claim()
    try:
        from migsafe.cli import main as run_command_line
    except KeyboardInterrupt:
        own_process.interrupted()
    run_command_line()


if __name__ == "__main__":
    main()
