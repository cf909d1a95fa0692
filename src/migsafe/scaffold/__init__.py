"""Alembic set up right from the first commit: ``migsafe init`` writes a project from the
templates in ``alembic_templates/``; ``init --existing`` proposes the same safeguards to a
project that has one; ``migsafe revision`` writes a revision and checks it at once."""
