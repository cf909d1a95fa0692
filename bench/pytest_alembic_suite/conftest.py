"""pytest-alembic on the benchmark history: its test_up_down_consistency, against a scratch
database on the server the benchmark started (BENCH_SERVER_URL), with downgrades stopping
at BENCH_MINIMUM_DOWNGRADE (the revision before the stairway's range)."""

import os

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from migsafe.postgres.url import scratch_database


@pytest.fixture
def alembic_config():
    return {
        "script_location": os.environ["BENCH_SCRIPT_DIR"],
        "minimum_downgrade_revision": os.environ["BENCH_MINIMUM_DOWNGRADE"],
    }


@pytest.fixture
def alembic_engine():
    with scratch_database(os.environ["BENCH_SERVER_URL"]) as url:
        engine = create_engine(url, poolclass=NullPool)
        yield engine
        engine.dispose()
