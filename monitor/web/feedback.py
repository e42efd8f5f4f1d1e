"""Something back for the respondent: after release day, the city PMI it contributed to and its own answers
over time against its industry's indices (the way private PMI compilers reward their panel)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from ..periods import now as _now
from ..settings import Settings
from ..store import Store
from ..store import portal as q

__all__ = ["Feedback", "feedback", "release_day", "FEEDBACK_QUESTIONS"]

FEEDBACK_QUESTIONS = ("production", "new_orders", "employment", "expectations")


def release_day(settings: Settings, period: str) -> dt.datetime:
    """When a month's figures are out: ``publish.release_day`` of the next month at ``publish.release_time``."""
    nxt = pd.Period(period, "M") + 1
    hour, minute = (int(x) for x in settings["publish.release_time"].split(":"))
    return dt.datetime(nxt.year, nxt.month, min(settings["publish.release_day"], 28), hour, minute)


@dataclass
class Feedback:
    """Released months (newest first): city PMI, the industry's PMI, the enterprise's answers and the industry's
    indices of the same questions; ``next_release`` for the month not yet out."""

    industry_code: str
    rows: list[dict[str, object]]
    pending: str | None
    next_release: dt.datetime | None


def feedback(store: Store, settings: Settings, enterprise_id: int, *, months: int = 12,
             now: dt.datetime | None = None) -> Feedback:
    """The feedback table of an enterprise (only months whose release day has passed)."""
    now = now or _now()
    last = pd.Period(now.strftime("%Y-%m"), "M") - 1
    released = [p for p in (last - i for i in range(months + 1)) if release_day(settings, str(p)) <= now][:months]
    pending = None if last in released else str(last)
    with store.engine.connect() as conn:
        ent = q.enterprise_by_id(conn, enterprise_id)
        assert ent is not None, f"enterprise {enterprise_id} of an account is in the register (foreign key)"
        code = ent.industry_code
        since = str(released[-1]) if released else str(last)
        keys = ["pmi/headline", f"pmi/headline/industry/{code}"] + [
            f"pmi/{k}/industry/{code}" for k in FEEDBACK_QUESTIONS]
        series = q.series_values(conn, keys, since=since)
        answers = q.answers_over_time(conn, enterprise_id, since=since)
    rows = []
    for p in released:
        key = str(p)
        row: dict[str, object] = {"period": key, "city": series["pmi/headline"].get(key),
                                  "industry": series[f"pmi/headline/industry/{code}"].get(key)}
        for k in FEEDBACK_QUESTIONS:
            row[f"answer_{k}"] = answers.get(key, {}).get(k)
            row[f"index_{k}"] = series[f"pmi/{k}/industry/{code}"].get(key)
        rows.append(row)
    return Feedback(code, rows, pending, release_day(settings, pending) if pending else None)
