"""Ingest survey returns (workbooks, CSV exports): checks against the register, corrections, soft checks.

Hard rules (the enterprise-month is rejected): the enterprise is in the
register and in the sample for that month; the return falls in the survey
window (from the first day of the month to ``survey.close_days`` after its end)
and is not for a future month.

Soft rules (kept, flagged for review): a late return (after
``survey.deadline_day``); production "higher" while electricity fell 40 % or
more on the previous month; an output value ten times the enterprise's usual
(median of its previous twelve months) or a tenth of it.

A return that differs from what is stored for that enterprise and month
replaces it whole; the earlier answers move to ``survey_response_history``.
The same answers again change nothing.
"""

from __future__ import annotations

import calendar
import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import and_, delete, select, tuple_
from sqlalchemy.engine import Connection

from collectors.base import Collected, Issue

from ..store import models as m
from ..store.writes import upsert
from .common import enterprise_ids, now

__all__ = ["ingest_survey"]

_OPS = ["output_value", "electricity_kwh", "sales_value", "finished_goods_inventory", "raw_material_cost",
        "labour_cost", "energy_cost", "other_cost", "production_status", "capacity_utilisation"]


def _period_bounds(period: str) -> tuple[dt.date, dt.date]:
    year, month = int(period[:4]), int(period[5:7])
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def _pairs_frame(col: Collected) -> pd.DataFrame:
    frames = []
    for name in ("survey_response", "enterprise_month", "survey_problem"):
        t = col.tables.get(name)
        if t is not None and len(t):
            frames.append(t[["uscc", "period", "source_row"]])
    if not frames:
        return pd.DataFrame(columns=["uscc", "period", "first_row", "submitted_on"])
    pairs = pd.concat(frames).groupby(["uscc", "period"], as_index=False)["source_row"].min()
    pairs = pairs.rename(columns={"source_row": "first_row"})
    dated = [t[["uscc", "period", "submitted_on"]] for t in (col.tables.get("survey_response"),
                                                              col.tables.get("enterprise_month"))
             if t is not None and len(t) and "submitted_on" in t]
    if dated:
        sub = pd.concat(dated).dropna(subset=["submitted_on"]).groupby(["uscc", "period"])["submitted_on"].min()
        pairs = pairs.merge(sub.rename("submitted_on").reset_index(), how="left")
    else:
        pairs["submitted_on"] = None
    return pairs


def ingest_survey(conn: Connection, col: Collected, source_id: int, *, deadline_day: int, close_days: int,
                  received: dt.datetime | None = None) -> tuple[int, list[Issue]]:
    """Write one collected survey file; the caller owns the transaction.

    Returns
    -------
    (rows_changed, issues)
        Rows inserted or changed across the survey tables, and the issues
        found here (the collector's own issues are not repeated).
    """
    received = received or now()
    name = col.path.name
    sheet = col.meta.get("sheet_questions")
    issues: list[Issue] = []
    pairs = _pairs_frame(col)
    if pairs.empty:
        return 0, issues
    ids = enterprise_ids(conn, pairs["uscc"]).set_index("uscc")
    for column in ("enterprise_id", "panel_start", "panel_end"):
        pairs[column] = pairs["uscc"].map(ids[column]) if len(ids) else None
    keep = np.ones(len(pairs), dtype=bool)
    submitted_at: list[dt.datetime] = []
    for i, rec in enumerate(pairs.itertuples(index=False)):
        row = int(rec.first_row)
        if pd.isna(rec.enterprise_id):
            issues.append(Issue(name, "unknown_enterprise", f"credit code {rec.uscc} is not in the enterprise "
                                "register; register the enterprise first or correct the code", sheet=sheet, row=row,
                                field="uscc", value=rec.uscc))
            keep[i] = False
            submitted_at.append(received)
            continue
        if not (rec.panel_start <= rec.period and (rec.panel_end is None or pd.isna(rec.panel_end)
                                                   or rec.period <= rec.panel_end)):
            issues.append(Issue(name, "not_in_sample", f"enterprise {rec.uscc} is not in the sample for "
                                f"{rec.period} (panel {rec.panel_start}..{rec.panel_end or 'now'})", sheet=sheet,
                                row=row, field="period", value=rec.period))
            keep[i] = False
        first, last = _period_bounds(rec.period)
        when = rec.submitted_on if isinstance(rec.submitted_on, dt.date) else received.date()
        close = last + dt.timedelta(days=close_days)
        if rec.period > f"{received.year:04d}-{received.month:02d}":
            issues.append(Issue(name, "future_period", f"survey month {rec.period} has not begun (received "
                                f"{received.date()})", sheet=sheet, row=row, field="period", value=rec.period))
            keep[i] = False
        elif when < first or when > close:
            issues.append(Issue(name, "outside_survey_window", f"return dated {when} is outside the survey window "
                                f"of {rec.period} ({first} to {close}); check the survey month", sheet=sheet,
                                row=row, field="period", value=rec.period))
            keep[i] = False
        elif when > first + dt.timedelta(days=deadline_day - 1):
            issues.append(Issue(name, "late_submission", f"return for {rec.period} dated {when}, after the "
                                f"deadline (day {deadline_day})", "warning", sheet=sheet, row=row,
                                field="submitted_at", value=str(when)))
        submitted_at.append(dt.datetime.combine(when, dt.time(12)) if isinstance(rec.submitted_on, dt.date)
                            else received)
    pairs["submitted_at"] = submitted_at
    accepted = pairs[keep].copy()
    if accepted.empty:
        return 0, issues
    accepted["enterprise_id"] = accepted["enterprise_id"].astype(int)
    changed = _write_answers(conn, col, accepted, source_id)
    changed += _write_problems(conn, col, accepted, source_id)
    ops_changed, warn = _write_operations(conn, col, accepted, source_id, sheet)
    issues += warn
    return changed + ops_changed, issues


def _attach(frame: pd.DataFrame | None, accepted: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``frame`` whose (uscc, period) was accepted, with ``enterprise_id`` and ``submitted_at``."""
    if frame is None or frame.empty:
        return pd.DataFrame()
    lookup = {(u, p): (e, s) for u, p, e, s in accepted[["uscc", "period", "enterprise_id", "submitted_at"]]
              .itertuples(index=False, name=None)}
    hits = [lookup.get(k) for k in zip(frame["uscc"], frame["period"])]
    keep = [h is not None for h in hits]
    out = frame[keep].copy()
    out["enterprise_id"] = [h[0] for h in hits if h is not None]
    out["submitted_at"] = [h[1] for h in hits if h is not None]
    return out


def _pair_filter(table: object, accepted: pd.DataFrame) -> object:
    keys = list(zip(accepted["enterprise_id"].tolist(), accepted["period"].tolist()))
    return tuple_(table.c.enterprise_id, table.c.period).in_(keys)  # type: ignore[attr-defined]


def _write_answers(conn: Connection, col: Collected, accepted: pd.DataFrame, source_id: int) -> int:
    new = _attach(col.tables.get("survey_response"), accepted)
    if new.empty:
        return 0
    table = m.SurveyResponse.__table__
    old = pd.DataFrame(conn.execute(select(table).where(_pair_filter(table, accepted))).mappings().all())
    changed = 0
    stamp = now()
    for (eid, period), group in new.groupby(["enterprise_id", "period"]):
        before = old[(old["enterprise_id"] == eid) & (old["period"] == period)] if len(old) else old
        now_answers = dict(zip(group["question"], group["answer"].astype(int)))
        if len(before) and dict(zip(before["question"], before["answer"].astype(int))) == now_answers:
            continue  # the same return again
        revision = int(before["revision"].max()) + 1 if len(before) else 1
        if len(before):
            hist = before.assign(superseded_at=stamp)[["enterprise_id", "period", "question", "revision", "answer",
                                                       "submitted_at", "superseded_at", "source_id", "source_row"]]
            upsert(conn, m.SurveyResponseHistory.__table__, hist,
                   ["enterprise_id", "period", "question", "revision"])
            conn.execute(delete(table).where(and_(table.c.enterprise_id == int(eid), table.c.period == period)))
        rows = group.assign(revision=revision, source_id=source_id)[
            ["enterprise_id", "period", "question", "answer", "revision", "submitted_at", "source_id", "source_row"]]
        conn.execute(table.insert(), rows.astype({"enterprise_id": int, "answer": int, "source_row": int})
                     .to_dict("records"))
        changed += len(rows)
    return changed


def _write_problems(conn: Connection, col: Collected, accepted: pd.DataFrame, source_id: int) -> int:
    """Make the stored ticks of each returned enterprise-month equal to the file's (none ticked = none)."""
    ticks = _attach(col.tables.get("survey_problem"), accepted)
    answered = _attach(col.tables.get("survey_response"), accepted)
    parts = [f[["enterprise_id", "period"]] for f in (ticks, answered) if len(f)]
    if not parts:
        return 0
    scope = pd.concat(parts).drop_duplicates()
    table = m.SurveyProblem.__table__
    old = pd.DataFrame(conn.execute(select(table.c.enterprise_id, table.c.period, table.c.problem)
                                    .where(_pair_filter(table, scope))).all(),
                       columns=["enterprise_id", "period", "problem"])
    changed = 0
    for eid, period in scope.itertuples(index=False):
        want = ticks[(ticks["enterprise_id"] == eid) & (ticks["period"] == period)] if len(ticks) else ticks
        want_set = set(want["problem"]) if len(want) else set()
        have = set(old.loc[(old["enterprise_id"] == eid) & (old["period"] == period), "problem"])
        if want_set == have:
            continue
        conn.execute(delete(table).where(and_(table.c.enterprise_id == int(eid), table.c.period == period)))
        if want_set:
            conn.execute(table.insert(), [{"enterprise_id": int(eid), "period": period, "problem": p,
                                           "source_id": source_id, "source_row": int(r)}
                                          for p, r in zip(want["problem"], want["source_row"])])
        changed += len(want_set ^ have)
    return changed


def _write_operations(conn: Connection, col: Collected, accepted: pd.DataFrame, source_id: int,
                      sheet: object) -> tuple[int, list[Issue]]:
    ops = _attach(col.tables.get("enterprise_month"), accepted)
    if ops.empty:
        return 0, []
    name = col.path.name
    issues: list[Issue] = []
    table = m.EnterpriseMonth.__table__
    eids = sorted(ops["enterprise_id"].astype(int).unique().tolist())
    first_period = (pd.Period(ops["period"].min(), "M") - 12).strftime("%Y-%m")
    history = pd.DataFrame(conn.execute(
        select(table.c.enterprise_id, table.c.period, table.c.output_value, table.c.electricity_kwh)
        .where(table.c.enterprise_id.in_(eids), table.c.period >= first_period)).all(),
        columns=["enterprise_id", "period", "output_value", "electricity_kwh"])
    answers = _attach(col.tables.get("survey_response"), accepted)
    for rec in ops.itertuples(index=False):
        past = history[(history["enterprise_id"] == rec.enterprise_id) & (history["period"] < rec.period)]
        prev_period = (pd.Period(rec.period, "M") - 1).strftime("%Y-%m")
        prev = past[past["period"] == prev_period]
        usual = past["output_value"].dropna().tail(12).median() if len(past) else np.nan
        value = rec.output_value
        if pd.notna(value) and pd.notna(usual) and usual > 0 and (value > 10 * usual or value < usual / 10):
            issues.append(Issue(name, "unusual_value", f"output value {value:g} for {rec.period} is far from the "
                                f"enterprise's usual {usual:g} (median of its previous months)", "warning",
                                sheet="经营数据 Operations" if sheet else None, row=int(rec.source_row),
                                field="output_value", value=str(value)))
        cur_kwh = rec.electricity_kwh
        prev_kwh = prev["electricity_kwh"].iloc[0] if len(prev) else np.nan
        if pd.isna(prev_kwh) or pd.isna(cur_kwh):
            cur_kwh, prev_kwh = _metered(conn, int(rec.enterprise_id), rec.period, prev_period)
        said = answers[(answers["enterprise_id"] == rec.enterprise_id) & (answers["period"] == rec.period)
                       & (answers["question"] == "production")]["answer"] if len(answers) else pd.Series([], dtype=int)
        if len(said) and int(said.iloc[0]) == 1 and pd.notna(prev_kwh) and prev_kwh > 0 and pd.notna(cur_kwh) \
                and cur_kwh <= 0.6 * prev_kwh:
            issues.append(Issue(name, "production_vs_electricity", f"production reported higher for {rec.period} "
                                f"while electricity fell {100 * (1 - cur_kwh / prev_kwh):.0f} % on the month",
                                "warning", sheet=sheet if isinstance(sheet, str) else None,
                                row=int(rec.source_row), field="production", value="+1"))
    rows = ops.assign(source_id=source_id)[["enterprise_id", "period", *_OPS, "submitted_at", "source_id",
                                            "source_row"]]
    rows = rows.astype({"enterprise_id": int, "source_row": int})
    rows["production_status"] = rows["production_status"].fillna("normal")
    return upsert(conn, table, rows, ["enterprise_id", "period"], compare=_OPS), issues


def _metered(conn: Connection, enterprise_id: int, period: str, prev_period: str) -> tuple[float, float]:
    """Metered kWh of an enterprise in two months (NaN where nothing was read)."""
    out = []
    for p in (period, prev_period):
        first, last = _period_bounds(p)
        t = m.ElectricityReading.__table__
        total = conn.execute(select(t.c.kwh).where(t.c.enterprise_id == enterprise_id, t.c.day >= first,
                                                   t.c.day <= last)).scalars().all()
        out.append(float(np.sum(total)) if total else np.nan)
    return out[0], out[1]
