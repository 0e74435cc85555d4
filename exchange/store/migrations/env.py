"""Alembic environment: migrations run against the URL given by exchange.store.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from exchange.audit import models as _audit_models  # noqa: F401  (audit tables on Base.metadata)
from exchange.identity import models as _identity_models  # noqa: F401  (identity tables on Base.metadata)
from exchange.store.models import Base
from exchange.stream import models as _stream_models  # noqa: F401  (webhook tables on Base.metadata)

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(connection=connectable, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(config.get_section(config.config_ini_section) or {}, prefix="sqlalchemy.",
                                poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
