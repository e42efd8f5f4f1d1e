"""Alembic environment of the store.

The store's code runs migrations programmatically (:func:`monitor.store.migrate.upgrade`)
and passes its open connection in ``config.attributes["connection"]``; the
``alembic`` command line works too, with ``sqlalchemy.url`` set in its config.

Tables that other software keeps in the store's database are not the store's schema: APScheduler's job table
(``apscheduler_jobs``, created by ``imon schedule``) is left out of autogenerate comparisons (``alembic check``,
``alembic revision --autogenerate``), so it is never reported as "removed" nor dropped by a generated migration.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from monitor.store.models import metadata

config = context.config

#: Tables in the store's database that belong to other software (see :mod:`monitor.scheduling`).
FOREIGN_TABLES = frozenset({"apscheduler_jobs"})


def include_name(name, type_, parent_names) -> bool:  # type: ignore[no-untyped-def]
    """Autogenerate filter: skip the tables of :data:`FOREIGN_TABLES` (and so their indexes and columns)."""
    return not (type_ == "table" and name in FOREIGN_TABLES)


def include_object(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
    """Same filter for objects reached otherwise (an index of a foreign table named on its own)."""
    table = obj if type_ == "table" else getattr(obj, "table", None)
    return getattr(table, "name", None) not in FOREIGN_TABLES


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
        include_object=include_object,
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
