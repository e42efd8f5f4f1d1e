"""What came in and what was rejected: the data behind ``imon collect report``."""

from __future__ import annotations

import math
import numbers

import pandas as pd

from ..store import Store
from ..store.ingest import recent_sources, reject_counts, reject_details

__all__ = ["collect_report"]


def _where(sheet: object, row: object) -> str:
    """``"sheet row N: "`` for an issue; parts that are missing (None, or NaN once in a frame) are left out."""
    has_sheet = isinstance(sheet, str) and sheet != ""
    number = int(float(row)) if isinstance(row, numbers.Real) and not math.isnan(float(row)) else 0
    if number <= 0:
        return f"{sheet}: " if has_sheet else ""
    return (f"{sheet} " if has_sheet else "") + f"row {number}: "


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
    sources = recent_sources(store, last)
    if sources.empty:
        return sources.assign(warnings=[]), pd.DataFrame(columns=["source_id", "path", "severity", "rule",
                                                                  "count", "examples"])
    ids = sources["id"].tolist()
    counts = reject_counts(store, ids)
    detail = reject_details(store, ids)
    warn = counts[counts["severity"] == "warning"].groupby("source_id")["count"].sum()
    sources["warnings"] = sources["id"].map(warn).fillna(0).astype(int)
    if counts.empty:
        return sources, counts.assign(path=[], examples=[])
    detail["line"] = [_where(s, r) + str(msg) for s, r, msg in zip(detail["sheet"], detail["row"], detail["message"])]
    ex = detail.groupby(["source_id", "rule"])["line"].apply(lambda s: list(s.head(examples))).rename("examples")
    issues = counts.merge(ex.reset_index(), on=["source_id", "rule"], how="left")
    issues["path"] = issues["source_id"].map(dict(zip(sources["id"], sources["path"])))
    return sources, issues.sort_values(["source_id", "severity", "count"], ascending=[False, True, False])
