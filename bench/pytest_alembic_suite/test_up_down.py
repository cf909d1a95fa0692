"""pytest-alembic's own test, imported as its documentation suggests."""

from pytest_alembic.tests import test_up_down_consistency  # noqa: F401
