"""Schema migrations (Alembic), run from code so a new store migrates itself."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine

from ..exceptions import StoreRevisionError
from ..settings import mask_url

__all__ = ["alembic_config", "head_revision", "current_revision", "upgrade", "ensure_schema", "upgrade_store"]

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None) -> Config:
    """Return an Alembic config pointing at the package's migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest revision in the package."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the package ships no migrations"
    return head


def _known_revisions() -> set[str]:
    return {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    """The revision the store is at, or None for an empty database."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Apply migrations up to ``revision`` in one transaction.

    Returns
    -------
    (before, after)
        The revisions before and after.
    """
    before = current_revision(engine)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)
    return before, current_revision(engine) or ""


def ensure_schema(engine: Engine, *, auto_upgrade: bool = False) -> None:
    """Migrate an empty database; refuse a store at another revision unless ``auto_upgrade``.

    ``auto_upgrade`` is for disposable stores (the demo's); a real store is
    upgraded on purpose with ``imon db upgrade`` after a backup.

    Raises
    ------
    StoreRevisionError
        The database holds tables but no revision (not a store), or a revision
        other than the package's head.
    """
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return
    if current is None:
        existing = [t for t in inspect(engine).get_table_names() if t != "alembic_version"]
        if existing:
            raise StoreRevisionError(
                f"the database {mask_url(engine.url.render_as_string(hide_password=False))!r} holds tables "
                f"({', '.join(sorted(existing)[:5])}...) but is not an industry-monitor store; "
                "point store.url at an empty database or an existing store"
            )
        upgrade(engine)
        return
    if auto_upgrade and current in _known_revisions():
        upgrade(engine)
        return
    raise StoreRevisionError(
        f"the store is at schema revision {current!r} but this version of industry-monitor needs {head!r}; "
        "run `imon db upgrade` (back the store up first)"
    )


def upgrade_store(url: str, revision: str = "head", *, echo: bool = False) -> tuple[str | None, str]:
    """Open the database at ``url`` (without migrating it on the way) and :func:`upgrade` it to ``revision``."""
    from .engine import create_store_engine

    engine = create_store_engine(url, echo=echo)
    try:
        return upgrade(engine, revision)
    finally:
        engine.dispose()
