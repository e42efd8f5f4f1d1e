"""Shared pieces of ingestion: the outcome of a file, provenance rows, rejects."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Connection

from collectors.base import Issue

from ..periods import now
from ..store import ingest as q

__all__ = ["FileOutcome", "find_source", "new_source", "finish_source", "write_issues", "enterprise_ids", "now"]




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
    return q.find_source(conn, kind, sha256)


def new_source(conn: Connection, kind: str, path: Path, sha256: str, note: str | None = None) -> int:
    """Insert the provenance row of a file being ingested.

    An earlier failed attempt with the same bytes is replaced; an earlier
    successful one (a forced re-ingest) is reused, so rows keep one source.
    """
    earlier = find_source(conn, kind, sha256)
    if earlier is not None and earlier[2] != "failed":
        q.update_source(conn, earlier[0], path=str(path), received_at=now(), status="loading", note=note)
        q.replace_source_rejects(conn, earlier[0])
        return earlier[0]
    q.delete_failed_sources(conn, kind, sha256)
    return q.add_source(conn, kind=kind, path=str(path), sha256=sha256, received_at=now(), rows_accepted=0,
                        rows_rejected=0, status="loading", note=note)


def finish_source(conn: Connection, source_id: int, *, accepted: int, rejected: int, status: str = "loaded",
                  note: str | None = None) -> None:
    """Record the counts and the final status of a source."""
    values: dict[str, object] = {"rows_accepted": accepted, "rows_rejected": rejected, "status": status}
    if note is not None:
        values["note"] = note
    q.update_source(conn, source_id, **values)


def write_issues(conn: Connection, source_id: int, issues: Iterable[Issue]) -> int:
    """Store rejects and warnings of a source; returns how many."""
    rows = [{"source_id": source_id, "severity": i.severity, "sheet": i.sheet, "row_number": i.row,
             "field": i.field, "rule": i.rule, "value": None if i.value is None else str(i.value)[:500],
             "message": i.message} for i in issues]
    return q.add_rejects(conn, rows)


def enterprise_ids(conn: Connection, usccs: Iterable[str]) -> pd.DataFrame:
    """``uscc, enterprise_id, panel_start, panel_end`` of the known enterprises among ``usccs``."""
    return q.enterprise_ids(conn, usccs)
