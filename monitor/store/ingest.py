"""Store queries of ingestion: provenance (``ingest_source``) and rejects, the enterprises a file names, the
survey returns of enterprise-months, and what ``imon collect report`` and the demo loader read.

The functions taking a ``Connection`` work in the caller's transaction (a file is written whole or not at all);
those taking a ``Store`` open their own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Table, delete, desc, func, select, tuple_
from sqlalchemy.engine import Connection

from . import models as m
from .core import Store

__all__ = ["find_source", "add_source", "update_source", "replace_source_rejects", "delete_failed_sources",
           "add_rejects", "enterprise_ids", "pair_rows", "delete_pairs", "insert_rows", "enterprise_month_history",
           "metered_days", "recent_sources", "reject_counts", "reject_details", "source_kinds", "has_enterprises",
           "empty_tables"]

_SRC = m.IngestSource.__table__
_REJ = m.IngestReject.__table__
#: The enterprise-month tables whose rows a survey return replaces (keyed by enterprise and period).
_PAIR_TABLES: dict[str, Table] = {t.name: t for t in (m.SurveyResponse.__table__, m.SurveyProblem.__table__)}


# --------------------------------------------------------------------------------------------- provenance
def find_source(conn: Connection, kind: str, sha256: str) -> tuple[int, str, str, dt.datetime] | None:
    """An earlier ingest of the same bytes: ``(id, path, status, received_at)``."""
    row = conn.execute(select(_SRC.c.id, _SRC.c.path, _SRC.c.status, _SRC.c.received_at)
                       .where(_SRC.c.kind == kind, _SRC.c.sha256 == sha256)).first()
    return None if row is None else (int(row[0]), row[1], row[2], row[3])


def add_source(conn: Connection, **values: Any) -> int:
    """Insert a provenance row (``values``: the ``ingest_source`` columns); return its id."""
    return int(conn.execute(_SRC.insert().values(**values).returning(_SRC.c.id)).scalar_one())


def update_source(conn: Connection, source_id: int, **values: Any) -> None:
    """Change columns of a provenance row."""
    conn.execute(_SRC.update().where(_SRC.c.id == source_id).values(**values))


def replace_source_rejects(conn: Connection, source_id: int) -> None:
    """Forget the rejects and warnings recorded for a source (it is being ingested again)."""
    conn.execute(_REJ.delete().where(_REJ.c.source_id == source_id))


def delete_failed_sources(conn: Connection, kind: str, sha256: str) -> None:
    """Delete the failed attempts at ingesting these bytes."""
    conn.execute(_SRC.delete().where(_SRC.c.kind == kind, _SRC.c.sha256 == sha256, _SRC.c.status == "failed"))


def add_rejects(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
    """Store reject and warning rows (the ``ingest_reject`` columns); return how many."""
    if rows:
        conn.execute(_REJ.insert(), list(rows))
    return len(rows)


def enterprise_ids(conn: Connection, usccs: Iterable[str]) -> pd.DataFrame:
    """``uscc, enterprise_id, panel_start, panel_end`` of the known enterprises among ``usccs``."""
    columns = ["uscc", "enterprise_id", "panel_start", "panel_end"]
    wanted = sorted(set(usccs))
    if not wanted:
        return pd.DataFrame(columns=columns)
    t = m.Enterprise.__table__
    frames = []
    for start in range(0, len(wanted), 500):
        result = conn.execute(select(t.c.uscc, t.c.id, t.c.panel_start, t.c.panel_end)
                              .where(t.c.uscc.in_(wanted[start:start + 500])))
        frames.append(pd.DataFrame(result.fetchall(), columns=columns))
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------------------------- survey returns
def pair_rows(conn: Connection, table: str, pairs: Sequence[tuple[int, str]], columns: Sequence[str]) -> pd.DataFrame:
    """``columns`` of the rows of ``table`` (``survey_response`` or ``survey_problem``) of the (enterprise id,
    period) ``pairs``."""
    t = _PAIR_TABLES[table]
    out = []
    for start in range(0, len(pairs), 500):
        rows = conn.execute(select(*[t.c[c] for c in columns]).where(
            tuple_(t.c.enterprise_id, t.c.period).in_(list(pairs[start:start + 500])))).all()
        out.append(pd.DataFrame(rows, columns=list(columns)))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=list(columns))


def delete_pairs(conn: Connection, table: str, pairs: Sequence[tuple[int, str]]) -> None:
    """Delete the rows of ``table`` (``survey_response`` or ``survey_problem``) of the (enterprise id, period)
    ``pairs``."""
    t = _PAIR_TABLES[table]
    for start in range(0, len(pairs), 500):
        conn.execute(t.delete().where(tuple_(t.c.enterprise_id, t.c.period).in_(list(pairs[start:start + 500]))))


def insert_rows(conn: Connection, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows into ``table`` (``survey_response`` or ``survey_problem``)."""
    if rows:
        conn.execute(_PAIR_TABLES[table].insert(), list(rows))


def enterprise_month_history(conn: Connection, enterprise_ids: Sequence[int], first: str) -> pd.DataFrame:
    """``enterprise_id, period, output_value, electricity_kwh`` of the enterprises' monthly reports from ``first``."""
    t = m.EnterpriseMonth.__table__
    return pd.DataFrame(conn.execute(
        select(t.c.enterprise_id, t.c.period, t.c.output_value, t.c.electricity_kwh)
        .where(t.c.enterprise_id.in_(list(enterprise_ids)), t.c.period >= first)).all(),
        columns=["enterprise_id", "period", "output_value", "electricity_kwh"])


def metered_days(conn: Connection, enterprise_ids: Sequence[int], first: dt.date, last: dt.date) -> pd.DataFrame:
    """``enterprise_id, day, kwh``: the enterprises' metered electricity from ``first`` to ``last`` (inclusive)."""
    t = m.ElectricityReading.__table__
    rows = conn.execute(select(t.c.enterprise_id, t.c.day, t.c.kwh).where(
        t.c.enterprise_id.in_(list(enterprise_ids)), t.c.day >= first, t.c.day <= last)).all()
    return pd.DataFrame(rows, columns=["enterprise_id", "day", "kwh"])


# --------------------------------------------------------------------------------------------- the report
def recent_sources(store: Store, last: int) -> pd.DataFrame:
    """The ``last`` sources received most recently (``id, kind, path, received_at, status, rows_accepted,
    rows_rejected, note``), newest first."""
    with store.engine.connect() as conn:
        return pd.DataFrame(conn.execute(
            select(_SRC.c.id, _SRC.c.kind, _SRC.c.path, _SRC.c.received_at, _SRC.c.status, _SRC.c.rows_accepted,
                   _SRC.c.rows_rejected, _SRC.c.note).order_by(desc(_SRC.c.received_at), desc(_SRC.c.id))
            .limit(last)).all(),
            columns=["id", "kind", "path", "received_at", "status", "rows_accepted", "rows_rejected", "note"])


def reject_counts(store: Store, source_ids: Sequence[int]) -> pd.DataFrame:
    """``source_id, severity, rule, count`` of the rejects and warnings of the sources."""
    with store.engine.connect() as conn:
        return pd.DataFrame(conn.execute(
            select(_REJ.c.source_id, _REJ.c.severity, _REJ.c.rule, func.count())
            .where(_REJ.c.source_id.in_(list(source_ids)))
            .group_by(_REJ.c.source_id, _REJ.c.severity, _REJ.c.rule)).all(),
            columns=["source_id", "severity", "rule", "count"])


def reject_details(store: Store, source_ids: Sequence[int]) -> pd.DataFrame:
    """``source_id, rule, sheet, row, message`` of every stored reject and warning of the sources, by source, rule
    and row."""
    with store.engine.connect() as conn:
        return pd.DataFrame(conn.execute(
            select(_REJ.c.source_id, _REJ.c.rule, _REJ.c.sheet, _REJ.c.row_number, _REJ.c.message)
            .where(_REJ.c.source_id.in_(list(source_ids)))
            .order_by(_REJ.c.source_id, _REJ.c.rule, _REJ.c.row_number)).all(),
            columns=["source_id", "rule", "sheet", "row", "message"])


# --------------------------------------------------------------------------------------------- the demo
def source_kinds(store: Store) -> list[tuple[str, str | None]]:
    """``(kind, note)`` of every provenance row."""
    with store.engine.connect() as conn:
        return [(str(k), n) for k, n in conn.execute(select(_SRC.c.kind, _SRC.c.note))]


def has_enterprises(store: Store) -> bool:
    """Whether the register holds any enterprise."""
    with store.engine.connect() as conn:
        return conn.execute(select(m.Enterprise.__table__.c.id).limit(1)).first() is not None


def empty_tables(conn: Connection, tables: Iterable[str]) -> None:
    """Delete every row of the tables named, in the order given (children before their parents)."""
    for name in tables:
        conn.execute(delete(m.metadata.tables[name]))
