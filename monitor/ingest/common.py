"""Shared pieces of ingestion: the outcome of a file, provenance rows, rejects."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Connection

from collectors.base import Issue

from ..store import models as m

__all__ = ["FileOutcome", "find_source", "new_source", "finish_source", "write_issues", "enterprise_ids", "now"]


def now() -> dt.datetime:
    """The bureau's clock (naive, China Standard Time on the server), to the second."""
    return dt.datetime.now().replace(microsecond=0)


@dataclass
class FileOutcome:
    """What happened to one file.

    ``status``: ``loaded`` (new rows or changes), ``unchanged`` (valid, but
    everything was already stored), ``rejected`` (every row refused),
    ``duplicate`` (the same bytes were already
    ingested, maybe under another name), ``failed`` (refused whole: nothing
    written) or ``checked`` (``--dry-run``).
    """

    path: Path
    kind: str | None
    status: str
    rows_read: int = 0
    rows_new: int = 0
    rows_rejected: int = 0
    warnings: int = 0
    message: str = ""
    issues: list[Issue] = field(default_factory=list)
    source_id: int | None = None


def find_source(conn: Connection, kind: str, sha256: str) -> tuple[int, str, str, dt.datetime] | None:
    """An earlier successful ingest of the same bytes: ``(id, path, status, received_at)``."""
    row = conn.execute(
        select(m.IngestSource.id, m.IngestSource.path, m.IngestSource.status, m.IngestSource.received_at)
        .where(m.IngestSource.kind == kind, m.IngestSource.sha256 == sha256)
    ).first()
    return None if row is None else (row[0], row[1], row[2], row[3])


def new_source(conn: Connection, kind: str, path: Path, sha256: str, note: str | None = None) -> int:
    """Insert the provenance row of a file being ingested.

    An earlier failed attempt with the same bytes is replaced; an earlier
    successful one (a forced re-ingest) is reused, so rows keep one source.
    """
    earlier = find_source(conn, kind, sha256)
    if earlier is not None and earlier[2] != "failed":
        conn.execute(m.IngestSource.__table__.update().where(m.IngestSource.id == earlier[0]).values(
            path=str(path), received_at=now(), status="loading", note=note))
        conn.execute(m.IngestReject.__table__.delete().where(m.IngestReject.source_id == earlier[0]))
        return earlier[0]
    conn.execute(m.IngestSource.__table__.delete().where(
        m.IngestSource.kind == kind, m.IngestSource.sha256 == sha256, m.IngestSource.status == "failed"))
    return int(conn.execute(m.IngestSource.__table__.insert().values(
        kind=kind, path=str(path), sha256=sha256, received_at=now(), rows_accepted=0, rows_rejected=0,
        status="loading", note=note)).inserted_primary_key[0])


def finish_source(conn: Connection, source_id: int, *, accepted: int, rejected: int, status: str = "loaded",
                  note: str | None = None) -> None:
    """Record the counts and the final status of a source."""
    values: dict[str, object] = {"rows_accepted": accepted, "rows_rejected": rejected, "status": status}
    if note is not None:
        values["note"] = note
    conn.execute(m.IngestSource.__table__.update().where(m.IngestSource.id == source_id).values(**values))


def write_issues(conn: Connection, source_id: int, issues: Iterable[Issue]) -> int:
    """Store rejects and warnings of a source; returns how many."""
    rows = [{"source_id": source_id, "severity": i.severity, "sheet": i.sheet, "row_number": i.row,
             "field": i.field, "rule": i.rule, "value": None if i.value is None else str(i.value)[:500],
             "message": i.message} for i in issues]
    if rows:
        conn.execute(m.IngestReject.__table__.insert(), rows)
    return len(rows)


def enterprise_ids(conn: Connection, usccs: Iterable[str]) -> pd.DataFrame:
    """``uscc, enterprise_id, panel_start, panel_end`` of the known enterprises among ``usccs``."""
    wanted = sorted(set(usccs))
    if not wanted:
        return pd.DataFrame(columns=["uscc", "enterprise_id", "panel_start", "panel_end"])
    frames = []
    for start in range(0, len(wanted), 500):
        result = conn.execute(select(m.Enterprise.uscc, m.Enterprise.id, m.Enterprise.panel_start,
                                     m.Enterprise.panel_end).where(m.Enterprise.uscc.in_(wanted[start:start + 500])))
        frames.append(pd.DataFrame(result.fetchall(), columns=["uscc", "enterprise_id", "panel_start", "panel_end"]))
    return pd.concat(frames, ignore_index=True)
