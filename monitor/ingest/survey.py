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

Returns are processed in batches (a month's workbooks arrive by the hundred):
every query covers the whole batch, files are applied in order (a ``_v2``
correction after its original), and each file keeps its own provenance,
rejects and counts.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from collectors.base import Collected, Issue

from ..store import ingest as q
from ..store import models as m
from ..store.writes import upsert
from .common import enterprise_ids, now

__all__ = ["ingest_survey", "SurveyFile", "survey_window"]

_OPS = ["output_value", "electricity_kwh", "sales_value", "finished_goods_inventory", "raw_material_cost",
        "labour_cost", "energy_cost", "other_cost", "production_status", "capacity_utilisation"]
_KEY = ["enterprise_id", "period"]


@dataclass
class SurveyFile:
    """One collected file of a batch, and what ingesting it did."""

    collected: Collected
    source_id: int
    changed: int = 0
    issues: list[Issue] = field(default_factory=list)


def _period_bounds(period: str) -> tuple[dt.date, dt.date]:
    year, month = int(period[:4]), int(period[5:7])
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def survey_window(period: str, *, deadline_day: int, close_days: int) -> tuple[dt.date, dt.date, dt.date]:
    """First day, deadline and last day of a month's survey window: the rule :func:`ingest_survey` applies
    (and the portal shows)."""
    first, last = _period_bounds(period)
    return first, first + dt.timedelta(days=deadline_day - 1), last + dt.timedelta(days=close_days)


def _tables(files: list[SurveyFile], name: str) -> pd.DataFrame:
    frames = [f.collected.tables[name].assign(file=i) for i, f in enumerate(files)
              if name in f.collected.tables and len(f.collected.tables[name])]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _pairs(files: list[SurveyFile], answers: pd.DataFrame, ops: pd.DataFrame, probs: pd.DataFrame) -> pd.DataFrame:
    """One row per (file, enterprise, month) returned: its first source row, its number of rows and the earliest
    date it says it was submitted.  Plain Python over the columns: a portal submission is one small file, and
    pandas' per-call overhead was most of its cost (a month's workbooks are a few tens of thousands of rows)."""
    first: dict[tuple, int] = {}
    count: dict[tuple, int] = {}
    dated: dict[tuple, object] = {}
    for t in (answers, ops, probs):
        if not len(t):
            continue
        keys = list(zip(t["file"].tolist(), t["uscc"].tolist(), t["period"].tolist()))
        for k, row in zip(keys, t["source_row"].tolist(), strict=True):
            if k not in first or row < first[k]:
                first[k] = row
            count[k] = count.get(k, 0) + 1
        if t is not probs and "submitted_on" in t:
            for k, day in zip(keys, t["submitted_on"].tolist(), strict=True):
                if day is None or pd.isna(day):
                    continue
                if k not in dated or day < dated[k]:  # type: ignore[operator]
                    dated[k] = day
    columns = ["file", "uscc", "period", "first_row", "nrows", "submitted_on"]
    if not first:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame([(*k, first[k], count[k], dated.get(k)) for k in sorted(first)], columns=columns)


def ingest_survey(conn: Connection, files: list[SurveyFile], *, deadline_day: int, close_days: int,
                  received: dt.datetime | None = None) -> None:
    """Write a batch of collected survey files, in order; the caller owns the transaction.

    Each :class:`SurveyFile` gets its ``changed`` count and the ``issues``
    found here (the collector's own issues are not repeated).
    """
    received = received or now()
    answers, ops, probs = (_tables(files, n) for n in ("survey_response", "enterprise_month", "survey_problem"))
    pairs = _pairs(files, answers, ops, probs)
    if pairs.empty:
        return
    ids = enterprise_ids(conn, pairs["uscc"]).set_index("uscc")
    for column in ("enterprise_id", "panel_start", "panel_end"):
        pairs[column] = pairs["uscc"].map(ids[column]) if len(ids) else None
    keep = np.ones(len(pairs), dtype=bool)
    submitted_at: list[dt.datetime] = []
    this_month = f"{received.year:04d}-{received.month:02d}"
    for i, rec in enumerate(pairs.itertuples(index=False)):
        f = files[rec.file]
        name, sheet, row = f.collected.path.name, f.collected.meta.get("sheet_questions"), int(rec.first_row)

        def issue(rule: str, message: str, field: str, value: object, severity: str = "error", *,
                  f: SurveyFile = f, name: str = name, sheet: object = sheet, row: int = row,
                  rows: int = int(rec.nrows)) -> None:
            # a refused enterprise-month stands for all its rows of the file (counts stay exact)
            f.issues.append(Issue(name, rule, message, severity, sheet=sheet, row=row,  # type: ignore[arg-type]
                                  field=field, value=str(value), rows=rows if severity == "error" else 1))

        dated = isinstance(rec.submitted_on, dt.date)
        when = rec.submitted_on if dated else received.date()
        submitted_at.append(dt.datetime.combine(when, dt.time(12)) if dated else received)
        if pd.isna(rec.enterprise_id):
            issue("unknown_enterprise", f"credit code {rec.uscc} is not in the enterprise register; register the "
                  "enterprise first or correct the code", "uscc", rec.uscc)
            keep[i] = False
            continue
        end = rec.panel_end if isinstance(rec.panel_end, str) else None
        if not (rec.panel_start <= rec.period and (end is None or rec.period <= end)):
            issue("not_in_sample", f"enterprise {rec.uscc} is not in the sample for {rec.period} "
                  f"(panel {rec.panel_start}..{end or 'now'})", "period", rec.period)
            keep[i] = False
            continue
        first, deadline, close = survey_window(rec.period, deadline_day=deadline_day, close_days=close_days)
        if rec.period > this_month:
            issue("future_period", f"survey month {rec.period} has not begun (received {received.date()})",
                  "period", rec.period)
            keep[i] = False
        elif when < first or when > close:
            issue("outside_survey_window", f"return dated {when} is outside the survey window of {rec.period} "
                  f"({first} to {close}); check the survey month", "period", rec.period)
            keep[i] = False
        elif when > deadline:
            issue("late_submission", f"return for {rec.period} dated {when}, after the deadline (day "
                  f"{deadline_day})", "submitted_at", when, "warning")
    pairs["submitted_at"] = submitted_at
    accepted = pairs[keep].astype({"enterprise_id": int})
    if accepted.empty:
        return
    key = ["file", "uscc", "period"]
    attach = accepted[[*key, "enterprise_id", "submitted_at"]]
    answers = answers.merge(attach, on=key) if len(answers) else answers
    ops = ops.merge(attach, on=key) if len(ops) else ops
    probs = probs.merge(attach, on=key) if len(probs) else probs
    scope = accepted[_KEY].drop_duplicates()
    _write_answers(conn, files, answers, scope)
    _write_problems(conn, files, probs, answers, scope)
    _write_operations(conn, files, ops, answers)


def _select_pairs(conn: Connection, table: str, scope: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    keys = list(zip(scope["enterprise_id"].astype(int).tolist(), scope["period"].tolist()))
    return q.pair_rows(conn, table, keys, columns)


def _write_answers(conn: Connection, files: list[SurveyFile], answers: pd.DataFrame, scope: pd.DataFrame) -> None:
    """Apply each pair's returns in file order; every change of answers moves the old set to history."""
    if answers.empty:
        return
    table = "survey_response"
    cols = ["enterprise_id", "period", "question", "answer", "revision", "submitted_at", "source_id", "source_row"]
    stored = _select_pairs(conn, table, scope, cols)
    stored_by = {k: g for k, g in stored.groupby(_KEY)} if len(stored) else {}
    stamp = now()
    history, current, replaced = [], [], []
    for (eid, period), group in answers.groupby(_KEY, sort=False):
        before = stored_by.get((eid, period))
        state = before
        revision = int(before["revision"].max()) if before is not None else 0
        for file_idx, version in group.groupby("file", sort=True):
            new = dict(zip(version["question"], version["answer"].astype(int)))
            if state is not None and dict(zip(state["question"], state["answer"].astype(int))) == new:
                continue
            if state is not None:
                history.append(state.assign(revision=revision, superseded_at=stamp))
            revision += 1
            state = version.assign(revision=revision, source_id=files[file_idx].source_id)[cols]
            files[file_idx].changed += len(state)
        if state is not before:
            current.append(state)
            if before is not None:
                replaced.append((int(eid), period))
    if history:
        hist = pd.concat(history)[["enterprise_id", "period", "question", "revision", "answer", "submitted_at",
                                   "superseded_at", "source_id", "source_row"]]
        upsert(conn, m.SurveyResponseHistory, hist, ["enterprise_id", "period", "question", "revision"])
    q.delete_pairs(conn, table, replaced)
    if current:
        rows = pd.concat(current).astype({"enterprise_id": int, "answer": int, "revision": int, "source_row": int})
        q.insert_rows(conn, table, rows.to_dict("records"))


def _write_problems(conn: Connection, files: list[SurveyFile], probs: pd.DataFrame, answers: pd.DataFrame,
                    scope: pd.DataFrame) -> None:
    """Make the stored ticks of each returned enterprise-month equal to its last file's (none ticked = none)."""
    last_file: dict[tuple[int, str], int] = {}
    for f in (probs, answers):
        if len(f):
            for file_idx, eid, period in zip(f["file"].tolist(), f["enterprise_id"].tolist(), f["period"].tolist(),
                                             strict=True):
                k = (int(eid), period)
                last_file[k] = max(last_file.get(k, file_idx), file_idx)
    if not last_file:
        return
    table = "survey_problem"
    stored = _select_pairs(conn, table, scope, ["enterprise_id", "period", "problem"])
    have: dict[tuple[int, str], set] = {}
    for eid, period, problem in stored.itertuples(index=False):
        have.setdefault((int(eid), period), set()).add(problem)
    want: dict[tuple[int, str], set] = {}
    rows: list[dict] = []
    if len(probs):
        for file_idx, eid, period, problem, row in zip(probs["file"].tolist(), probs["enterprise_id"].tolist(),
                                                       probs["period"].tolist(), probs["problem"].tolist(),
                                                       probs["source_row"].tolist(), strict=True):
            k = (int(eid), period)
            if last_file[k] == file_idx:
                want.setdefault(k, set()).add(problem)
                rows.append({"enterprise_id": k[0], "period": period, "problem": problem,
                             "source_id": files[file_idx].source_id, "source_row": int(row)})
    changed = [k for k in sorted(last_file) if want.get(k, set()) != have.get(k, set())]
    if not changed:
        return
    q.delete_pairs(conn, table, changed)
    moved = set(changed)
    rows = [r for r in rows if (r["enterprise_id"], r["period"]) in moved]
    q.insert_rows(conn, table, rows)
    for k in changed:
        files[last_file[k]].changed += max(len(want.get(k, set()) ^ have.get(k, set())), 1)


def _write_operations(conn: Connection, files: list[SurveyFile], ops: pd.DataFrame, answers: pd.DataFrame) -> None:
    if ops.empty:
        return
    table = m.EnterpriseMonth
    eids = sorted(ops["enterprise_id"].astype(int).unique().tolist())
    first_period = (pd.Period(ops["period"].min(), "M") - 12).strftime("%Y-%m")
    history = q.enterprise_month_history(conn, eids, first_period)
    metered = _metered(conn, eids, first_period, ops["period"].max())
    said: dict[tuple, int] = {}
    if len(answers):
        prod = answers[answers["question"] == "production"]
        said = dict(zip(zip(prod["enterprise_id"].tolist(), prod["period"].tolist(), prod["file"].tolist()),
                        prod["answer"].tolist(), strict=True))
    # each enterprise's stored months in order (plain Python: a portal submission is one enterprise-month)
    past_by: dict[int, list[tuple[str, float, float]]] = {}
    for eid, period, output, kwh in sorted(history.itertuples(index=False, name=None), key=lambda r: (r[0], r[1])):
        past_by.setdefault(int(eid), []).append((period, output, kwh))
    for rec in ops.itertuples(index=False):
        f = files[rec.file]
        sheet = "经营数据 Operations" if f.collected.path.suffix.lower() in (".xlsx", ".xlsm") else None
        past = [r for r in past_by.get(int(rec.enterprise_id), []) if r[0] < rec.period]
        prev_period = (pd.Period(rec.period, "M") - 1).strftime("%Y-%m")
        outputs = [float(o) for _, o, _ in past if o is not None and not pd.isna(o)][-12:]
        usual = float(np.median(outputs)) if outputs else np.nan
        value = rec.output_value
        if pd.notna(value) and pd.notna(usual) and usual > 0 and (value > 10 * usual or value < usual / 10):
            f.issues.append(Issue(f.collected.path.name, "unusual_value", f"output value {value:g} for {rec.period} "
                                  f"is far from the enterprise's usual {usual:g} (median of its previous months)",
                                  "warning", sheet=sheet, row=int(rec.source_row), field="output_value",
                                  value=str(value)))
        prev = [k for p_, _, k in past if p_ == prev_period]
        cur_kwh, prev_kwh = rec.electricity_kwh, (np.nan if not prev or prev[0] is None else prev[0])
        if pd.isna(prev_kwh) or pd.isna(cur_kwh):
            cur_kwh = metered.get((rec.enterprise_id, rec.period), np.nan)
            prev_kwh = metered.get((rec.enterprise_id, prev_period), np.nan)
        higher = said.get((rec.enterprise_id, rec.period, rec.file)) == 1
        if higher and pd.notna(prev_kwh) and prev_kwh > 0 and pd.notna(cur_kwh) and cur_kwh <= 0.6 * prev_kwh:
            f.issues.append(Issue(f.collected.path.name, "production_vs_electricity", f"production reported higher "
                                  f"for {rec.period} while electricity fell {100 * (1 - cur_kwh / prev_kwh):.0f} % on "
                                  "the month", "warning", sheet=f.collected.meta.get("sheet_questions"),  # type: ignore
                                  row=int(rec.source_row), field="production", value="+1"))
    latest = ops.sort_values("file").drop_duplicates(_KEY, keep="last")
    rows = latest.assign(source_id=[files[i].source_id for i in latest["file"]])
    rows = rows[["enterprise_id", "period", *_OPS, "submitted_at", "source_id", "source_row"]].astype(
        {"enterprise_id": int, "source_row": int})
    rows["production_status"] = rows["production_status"].astype(object).fillna("normal")  # all-missing: float
    changed_keys: list[tuple] = []
    upsert(conn, table, rows, _KEY, compare=_OPS, keys_out=changed_keys)
    file_of = dict(zip(zip(latest["enterprise_id"].astype(int), latest["period"]), latest["file"]))
    for key in changed_keys:
        files[int(file_of[(int(key[0]), key[1])])].changed += 1


def _metered(conn: Connection, eids: list[int], first: str, last: str) -> dict[tuple[int, str], float]:
    """Metered kWh per enterprise and month (``YYYY-MM``) over a range of months."""
    start = _period_bounds(first)[0]
    end = _period_bounds(last)[1]
    frame = q.metered_days(conn, eids, start, end)
    if frame.empty:
        return {}
    frame["period"] = pd.to_datetime(frame["day"]).dt.strftime("%Y-%m")
    return frame.groupby(["enterprise_id", "period"])["kwh"].sum().to_dict()

