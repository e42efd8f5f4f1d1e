"""Vintages of computed series: a vintage is one compute (or adjustment) run, identified by its timestamp.

A run stamps every value it writes with the same timestamp (UTC, microseconds, :func:`new_vintage`), so two
runs on the same day make two vintages and a later run never rewrites an earlier one.  Once a final edition
of a publication has read a vintage of a series, the pair (series key, vintage) is *locked*
(:func:`lock_vintages`, table ``vintage_lock``): :func:`locked_overwrites` finds the rows a writer would change
there, and :func:`monitor.results.write_series` refuses them.

``as_of`` arguments accept a date (the whole day: every vintage stamped that day or before), or a timestamp
(every vintage stamped at or before it; a time-zone-aware timestamp is converted to UTC, a naive one is read as
UTC).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
from sqlalchemy import select, tuple_
from sqlalchemy.engine import Connection

from . import models as m
from .writes import upsert

__all__ = ["new_vintage", "as_vintage", "as_of_limit", "lock_vintages", "locked_overwrites", "vintage_text"]


def new_vintage() -> dt.datetime:
    """The vintage of a run starting now: the UTC time to the microsecond, without tzinfo."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def as_vintage(value: Any) -> dt.datetime:
    """A vintage from what a caller or the database gives: a datetime, a date (its midnight) or ISO text."""
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    text = str(value).strip()
    if len(text) == 10:
        return dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
    return as_vintage(pd.Timestamp(text).to_pydatetime())


def as_of_limit(as_of: Any) -> dt.datetime | None:
    """The latest vintage an ``as_of`` admits (None for None): a date admits its whole day, a timestamp itself."""
    if as_of is None:
        return None
    if isinstance(as_of, dt.date) and not isinstance(as_of, dt.datetime):
        return dt.datetime.combine(as_of, dt.time.max)
    if isinstance(as_of, str) and len(as_of.strip()) == 10:
        return dt.datetime.combine(dt.date.fromisoformat(as_of.strip()), dt.time.max)
    return as_vintage(as_of)


def vintage_text(value: Any) -> str:
    """``2026-12-07 13:45:02.123456 UTC`` (what the CLI prints)."""
    return as_vintage(value).isoformat(sep=" ") + " UTC"


def lock_vintages(conn: Connection, publication_id: int, series: Mapping[str, Any]) -> int:
    """Lock the (series key, vintage) pairs a final edition read (``series``: ``{key: vintage}``)."""
    rows = [{"series_key": k, "vintage": as_vintage(v), "publication_id": publication_id}
            for k, v in sorted(series.items()) if v]
    if not rows:
        return 0
    return upsert(conn, m.VintageLock.__table__, rows, ["series_key", "vintage"])


def locked_overwrites(conn: Connection, pairs: Iterable[tuple[str, dt.datetime]]) -> dict[tuple[str, dt.datetime], int]:
    """Which of the (series key, vintage) pairs are locked, and by which publication."""
    wanted = sorted(set(pairs))
    out: dict[tuple[str, dt.datetime], int] = {}
    t = m.VintageLock.__table__
    for i in range(0, len(wanted), 400):
        chunk = wanted[i:i + 400]
        rows = conn.execute(select(t.c.series_key, t.c.vintage, t.c.publication_id)
                            .where(tuple_(t.c.series_key, t.c.vintage).in_(chunk)))
        for key, vintage, pub in rows:
            out[(key, as_vintage(vintage))] = int(pub)
    return out
