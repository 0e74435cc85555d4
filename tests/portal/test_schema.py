"""Migration 0004 (webhooks, the not_before index, the NOTIFY trigger) matches the models and reverts."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from exchange.store import migrate
from exchange.store.db import Database
from exchange.store.models import Base


def test_stream_tables_match_the_models_and_migrate_both_ways(site_db: tuple[str, dict[str, str]]) -> None:
    url, _ = site_db
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            diff = [d for d in compare_metadata(MigrationContext.configure(conn), Base.metadata)
                    if "webhook_" in repr(d) or "not_before" in repr(d)]
        assert diff == []
        cfg = migrate.alembic_config(url)
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0003")
        tables = set(inspect(db.engine).get_table_names())
        assert not {"webhook_subscriptions", "webhook_deliveries"} & tables
        assert "ix_acl_grants_not_before" not in {i["name"] for i in inspect(db.engine).get_indexes("acl_grants")}
    finally:
        migrate.upgrade(db)
        db.dispose()
    db = Database(url)
    assert {"webhook_subscriptions", "webhook_deliveries"} <= set(inspect(db.engine).get_table_names())
    db.dispose()
