"""The per-rule helpers assert; let pytest show their diffs."""

import pytest

pytest.register_assert_rewrite("tests.rules.lint")
