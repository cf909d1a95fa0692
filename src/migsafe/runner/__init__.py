"""Applying revisions to a real database: the project as Alembic sees it, a migrator that runs
one revision at a time through Alembic's own machinery, and the database it works in. Shared by
roundtrip and by what else runs migrations (autogenerate, tracing, a pytest plugin)."""
