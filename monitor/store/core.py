"""The :class:`Store`: an engine, its schema and the reference data."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import pandas as pd
from sqlalchemy import Table, func, select, text
from sqlalchemy.engine import Connection, Engine

from .. import reference as ref
from ..settings import Settings, mask_url
from . import models as m
from .engine import create_store_engine
from .migrate import ensure_schema
from .writes import bulk_insert, upsert

__all__ = ["Store", "open_store", "natural_key"]


def _table(target: Table | type[m.Base]) -> Table:
    return target if isinstance(target, Table) else target.__table__  # type: ignore[return-value]


def natural_key(table: Table) -> list[str]:
    """The natural key of a table: its first unique constraint, else its primary key.

    Tables with a surrogate ``id`` (enterprise, survey_response, ...) are keyed
    by their unique constraint; the others by their primary key.
    """
    pk = [c.name for c in table.primary_key.columns]
    if pk != ["id"]:
        return pk
    for constraint in sorted(table.constraints, key=lambda c: str(c.name or "")):
        cols = getattr(constraint, "columns", None)
        if constraint.__class__.__name__ == "UniqueConstraint" and cols is not None:
            return [c.name for c in cols]
    for column in table.columns:
        if column.unique:
            return [column.name]
    raise ValueError(f"table {table.name} has no natural key")


class Store:
    """A migrated database with the platform's schema.

    Parameters
    ----------
    engine
        An engine whose database is already at the package's schema head
        (use :meth:`open` or :func:`open_store` to get one).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str, *, echo: bool = False, migrate: bool = True, auto_upgrade: bool = False) -> Store:
        """Open the store at ``url``; a new (empty) database is migrated and seeded.

        ``auto_upgrade`` also migrates a store at an older revision (for the
        disposable demo store; real stores are upgraded with ``imon db upgrade``).

        Raises
        ------
        ConfigError, StoreUnreachableError, StoreRevisionError
            See :func:`monitor.store.engine.create_store_engine` and
            :func:`monitor.store.migrate.ensure_schema`.
        """
        engine = create_store_engine(url, echo=echo)
        try:
            if migrate:
                ensure_schema(engine, auto_upgrade=auto_upgrade)
            store = cls(engine)
            if migrate:
                store.ensure_reference()
        except BaseException:
            engine.dispose()
            raise
        return store

    # ------------------------------------------------------------------ basics
    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @property
    def url(self) -> str:
        """The URL with any password masked."""
        return mask_url(self.engine.url.render_as_string(hide_password=False))

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None for a server."""
        if self.dialect == "sqlite" and self.engine.url.database not in (None, "", ":memory:"):
            return Path(self.engine.url.database).resolve()
        return None

    def size_bytes(self) -> int | None:
        """Size of the SQLite file (with its WAL) or of the PostgreSQL database."""
        if self.path is not None:
            return sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())
        if self.dialect == "postgresql":
            with self.engine.connect() as conn:
                return int(conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar_one())
        return None

    def checkpoint(self) -> None:
        """Fold SQLite's write-ahead log back into the file (after a big load); no-op elsewhere."""
        if self.dialect == "sqlite":
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        """Release all pooled connections."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection in one transaction: committed on success, rolled back on error."""
        with self.engine.begin() as conn:
            yield conn

    # ------------------------------------------------------------------ writes
    def upsert(
        self,
        target: Table | type[m.Base],
        rows: pd.DataFrame | Iterable[Mapping[str, Any]],
        *,
        key: Sequence[str] | None = None,
        conn: Connection | None = None,
    ) -> int:
        """Idempotent insert-or-update on the natural key; see :func:`monitor.store.writes.upsert`."""
        table = _table(target)
        keys = list(key) if key is not None else natural_key(table)
        if conn is not None:
            return upsert(conn, table, rows, keys)
        with self.begin() as own:
            return upsert(own, table, rows, keys)

    def bulk_insert(self, target: Table | type[m.Base], frame: pd.DataFrame, *, conn: Connection) -> int:
        """Fast append of new rows; see :func:`monitor.store.writes.bulk_insert`."""
        return bulk_insert(conn, _table(target), frame)

    def ensure_reference(self) -> int:
        """Load (or refresh) the reference tables; returns rows changed.

        The tables are read first and written only when they differ from the code's reference data: opening
        the store for a read-only command (``db status``, ``collect report``, ...) never writes, so it neither
        waits for nor blocks a long collect, and works on a read-only store file.
        """
        wanted = [
            (_table(m.District), [vars(d) for d in ref.DISTRICTS], ["code"]),
            (_table(m.Industry), [vars(i) for i in ref.INDUSTRIES], ["code"]),
            (_table(m.KeySector), [{"code": k.code, "name_zh": k.name_zh, "name_en": k.name_en}
                                   for k in ref.KEY_SECTORS], ["code"]),
            (_table(m.IndustryKeySector), [{"industry_code": d, "sector_code": k.code} for k in ref.KEY_SECTORS
                                           for d in k.divisions], ["industry_code", "sector_code"]),
            (_table(m.SizeClass), [{"code": s.code, "name_zh": s.name_zh, "name_en": s.name_en,
                                    "min_employees": s.min_employees, "min_revenue": s.min_revenue_10k_yuan,
                                    "rank": s.rank} for s in ref.SIZE_CLASSES], ["code"]),
            (_table(m.Question), [vars(q) for q in ref.QUESTIONS], ["code"]),
            (_table(m.Problem), [{"code": c, "name_zh": zh, "name_en": en} for c, zh, en in ref.PROBLEMS], ["code"]),
        ]
        stale = []
        with self.engine.connect() as conn:
            for table, rows, key in wanted:
                columns = sorted(rows[0]) if rows else []
                stored = {tuple(r) for r in conn.execute(select(*[table.c[c] for c in columns])).all()}
                if {tuple(r[c] for c in columns) for r in rows} - stored:
                    stale.append((table, rows, key))
        changed = 0
        if stale:
            with self.begin() as conn:
                for table, rows, key in stale:
                    changed += upsert(conn, table, rows, key)
        return changed

    # ------------------------------------------------------------------ reads
    def count(self, target: Table | type[m.Base]) -> int:
        """Number of rows in a table."""
        table = _table(target)
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())

    def table_counts(self) -> dict[str, int]:
        """Rows per table of the schema, in dependency order."""
        return {t.name: self.count(t) for t in m.metadata.sorted_tables}

    def read_records(self, sql: str, **params: Any) -> pd.DataFrame:
        """Run a SELECT through the driver directly and return a frame: the fast path for millions of rows.

        Values come as the driver gives them (SQLite returns dates as ``YYYY-MM-DD`` text, PostgreSQL as
        ``datetime.date``): parse the columns you need.  Use :meth:`read_frame` for typed results.
        """
        with self.engine.connect() as conn:
            rows, names = raw_query(conn, sql, params)
        return pd.DataFrame.from_records(rows, columns=names)

    def read_frame(self, sql: Any, **params: Any) -> pd.DataFrame:
        """Run a SELECT (text or Core) and return a frame."""
        with self.engine.connect() as conn:
            result = conn.execute(sql, params) if params else conn.execute(sql)
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def raw_query(conn: Connection, sql: str, params: Mapping[str, Any]) -> tuple[list[tuple], list[str]]:
    """Run ``sql`` (with ``:name`` parameters) on the driver's cursor of ``conn``; return rows and column names."""
    stmt = text(sql).bindparams(**params) if params else text(sql)
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    bound = compiled.construct_params()
    args: Any = [bound[k] for k in compiled.positiontup] if compiled.positional else bound  # type: ignore[union-attr]
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), args)
        names = [str(d[0]) for d in cursor.description]
        return cast("list[tuple[Any, ...]]", cursor.fetchall()), names
    finally:
        cursor.close()


def open_store(settings: Settings, *, migrate: bool = True, auto_upgrade: bool = False) -> Store:
    """Open the store named by ``settings`` (``store.url`` or the SQLite default)."""
    return Store.open(settings.store_url, echo=settings["store.echo"], migrate=migrate, auto_upgrade=auto_upgrade)
