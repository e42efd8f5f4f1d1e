"""What came in and what was rejected: the data behind ``imon collect report``."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import desc, func, select

from ..store import Store
from ..store import models as m

__all__ = ["collect_report"]


def _where(sheet: object, row: object) -> str:
    """``"sheet row N: "`` for an issue; parts that are missing (None, or NaN once in a frame) are left out."""
    has_sheet = isinstance(sheet, str) and sheet != ""
    has_row = row is not None and not pd.isna(row) and int(row) > 0
    if not has_row:
        return f"{sheet}: " if has_sheet else ""
    return (f"{sheet} " if has_sheet else "") + f"row {int(row)}: "


def collect_report(store: Store, *, last: int = 20, examples: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The latest sources and their issues.

    Parameters
    ----------
    last
        How many of the most recent sources to list.
    examples
        Example messages kept per (source, rule).

    Returns
    -------
    (sources, issues)
        ``sources``: id, kind, path, received_at, status, rows_accepted,
        rows_rejected, warnings, note.  ``issues``: source_id, path, severity,
        rule, count, examples (``sheet row: message`` lines).
    """
    src = m.IngestSource
    rej = m.IngestReject
    with store.engine.connect() as conn:
        sources = pd.DataFrame(conn.execute(
            select(src.id, src.kind, src.path, src.received_at, src.status, src.rows_accepted, src.rows_rejected,
                   src.note).order_by(desc(src.received_at), desc(src.id)).limit(last)).all(),
            columns=["id", "kind", "path", "received_at", "status", "rows_accepted", "rows_rejected", "note"])
        if sources.empty:
            return sources.assign(warnings=[]), pd.DataFrame(columns=["source_id", "path", "severity", "rule",
                                                                      "count", "examples"])
        ids = sources["id"].tolist()
        counts = pd.DataFrame(conn.execute(
            select(rej.source_id, rej.severity, rej.rule, func.count()).where(rej.source_id.in_(ids))
            .group_by(rej.source_id, rej.severity, rej.rule)).all(),
            columns=["source_id", "severity", "rule", "count"])
        detail = pd.DataFrame(conn.execute(
            select(rej.source_id, rej.rule, rej.sheet, rej.row_number, rej.message).where(rej.source_id.in_(ids))
            .order_by(rej.source_id, rej.rule, rej.row_number)).all(),
            columns=["source_id", "rule", "sheet", "row", "message"])
    warn = counts[counts["severity"] == "warning"].groupby("source_id")["count"].sum()
    sources["warnings"] = sources["id"].map(warn).fillna(0).astype(int)
    if counts.empty:
        return sources, counts.assign(path=[], examples=[])
    detail["line"] = [_where(s, r) + str(msg) for s, r, msg in zip(detail["sheet"], detail["row"], detail["message"])]
    ex = detail.groupby(["source_id", "rule"])["line"].apply(lambda s: list(s.head(examples))).rename("examples")
    issues = counts.merge(ex.reset_index(), on=["source_id", "rule"], how="left")
    issues["path"] = issues["source_id"].map(dict(zip(sources["id"], sources["path"])))
    return sources, issues.sort_values(["source_id", "severity", "count"], ascending=[False, True, False])
