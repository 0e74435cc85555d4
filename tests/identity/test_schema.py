"""The identity migration applies, reverts and re-applies, and matches the models."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from exchange.identity import models as identity_models
from exchange.store import migrate
from exchange.store.db import Database
from exchange.store.models import Base

IDENTITY_TABLES = {t.name for t in Base.metadata.sorted_tables if t.name.startswith("identity_")}


def test_identity_tables_migrate_both_ways(fresh_db_url: str) -> None:
    assert identity_models.IdentityEvent.__tablename__ in IDENTITY_TABLES and len(IDENTITY_TABLES) == 8
    db = Database(fresh_db_url)
    try:
        assert IDENTITY_TABLES <= set(inspect(db.engine).get_table_names())
        with db.engine.connect() as conn:
            diff = [d for d in compare_metadata(MigrationContext.configure(conn), Base.metadata)
                    if "identity_" in repr(d)]
        assert diff == []
        cfg = migrate.alembic_config(fresh_db_url)
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0001")
        assert not IDENTITY_TABLES & set(inspect(db.engine).get_table_names())
    finally:
        migrate.upgrade(db)
        db.dispose()
    assert migrate.current(Database(fresh_db_url)) is not None

