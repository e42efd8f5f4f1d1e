"""Alembic environment of the store.

The store's code runs migrations programmatically (:func:`monitor.store.migrate.upgrade`)
and passes its open connection in ``config.attributes["connection"]``; the
``alembic`` command line works too, with ``sqlalchemy.url`` set in its config.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from monitor.store.models import metadata

config = context.config


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = engine_from_config(config.get_section(config.config_ini_section) or {}, prefix="sqlalchemy.",
                                poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)
