"""Persistence: SQLAlchemy 2 models, engine set-up and queries (SQLite by default, PostgreSQL by URL)."""
