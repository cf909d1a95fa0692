"""migsafe: catch unsafe Alembic migrations before they reach a live PostgreSQL database."""

__version__ = "0.1.0"
