"""Allow ``python -m migsafe``."""

from migsafe.cli import main

main()
