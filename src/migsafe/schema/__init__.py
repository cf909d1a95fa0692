"""A live database's schema, read from PostgreSQL's catalogs, and the difference of two."""
