"""The store: one schema on SQLite and PostgreSQL, migrated by Alembic, plus content-addressed blobs."""
