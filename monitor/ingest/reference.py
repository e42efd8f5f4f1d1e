"""Ingest official statistics tables and the utility's account map."""

from __future__ import annotations

import pandas as pd
from sqlalchemy.engine import Connection

from collectors.base import Collected, Issue

from ..store import models as m
from ..store.writes import upsert
from .common import enterprise_ids

__all__ = ["ingest_official", "ingest_accounts"]


def ingest_official(conn: Connection, col: Collected, source_id: int) -> tuple[int, list[Issue]]:
    """Upsert official figures on (series, region, period); unchanged figures are not touched."""
    rows = col.tables["official_statistic"].assign(source_id=source_id)
    return upsert(conn, m.OfficialStatistic, rows, ["series", "region", "period"],
                  compare=["value", "unit"]), []


def ingest_accounts(conn: Connection, col: Collected, source_id: int) -> tuple[int, list[Issue]]:
    """Upsert the account map; accounts of enterprises not in the register are rejected."""
    frame = col.tables["electricity_account"]
    ids = enterprise_ids(conn, frame["uscc"])
    merged = frame.merge(ids[["uscc", "enterprise_id"]], on="uscc", how="left")
    issues = [Issue(col.path.name, "unknown_enterprise", f"account {r.account_no}: credit code {r.uscc} is not in "
                    "the enterprise register", row=int(r.source_row), field="uscc", value=r.uscc)
              for r in merged[merged["enterprise_id"].isna()].itertuples()]
    good = merged.dropna(subset=["enterprise_id"]).astype({"enterprise_id": int})
    rows = good[["account_no", "enterprise_id", "meter_name", "valid_from", "source_row"]].assign(source_id=source_id)
    rows["valid_from"] = rows["valid_from"].astype(object).where(pd.notna(rows["valid_from"]), None)
    return upsert(conn, m.ElectricityAccount, rows, ["account_no"],
                  compare=["enterprise_id", "meter_name", "valid_from"]), issues
