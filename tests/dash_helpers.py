"""Shared set-up of the dashboard tests: the portal's three enterprises plus series, forecasts, target odds and
alerts for the city and the districts 440103 and 440104, and one account per official role."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import update

from monitor.reference import QUESTIONS
from monitor.store import models as m
from monitor.web.accounts import add_user
from tests.web_helpers import PERIOD, A, register

PW = "official password 1"
LAST = str(pd.Period(PERIOD, "M") - 1)  # the latest data month
VINTAGE = dt.datetime(2026, 1, 5, 8, 0)


def _series(key: str, base: float, months: int = 30, se: float | None = 1.2) -> list[dict]:
    end = pd.Period(LAST, "M")
    return [dict(series_key=key, period=str(end - k), vintage=VINTAGE, raw=base + (k % 5) - 2.0,
                 sa=base + (k % 3) - 1.0, se=se, n=120, computed_at=VINTAGE) for k in range(months)]


def seed(store, *, name_a: str = "广州甲电子有限公司") -> dict[str, int]:
    """The store of a dashboard test (see the module docstring); returns the enterprises' ids."""
    ids = register(store, name_a=name_a)
    rows: list[dict] = []
    for region, base in (("", 51.0), ("/district/440103", 49.0), ("/district/440104", 53.0)):
        rows += _series(f"pmi/headline{region}", base)
        for q in QUESTIONS:
            rows += _series(f"pmi/{q.code}{region}", base + 1, months=3)
        suffix = region or "/city"
        rows += _series(f"electricity/yoy{suffix}", 3.5 if region != "/district/440104" else -7.25, se=None)
        rows += _series(f"status/stopped_count{suffix}", 4, months=2, se=None)
    store.upsert(m.SeriesValue, rows)
    store.upsert(m.Forecast, [dict(series_key="pmi/headline", origin=LAST, period=str(pd.Period(LAST, "M") + h),
                                   model="combination", mean=50.5, lower_80=49.0, upper_80=52.0, lower_95=48.0,
                                   upper_95=53.0, created_at=VINTAGE) for h in (1, 2, 3)])
    odds = []
    for region, prob in (("440100", 0.72), ("440103", 0.31), ("440104", 0.88)):
        odds.append(dict(year=int(LAST[:4]), indicator="iva/ytd_yoy", region=region, origin=LAST, comparison=">=",
                         target=6.0, ytd=5.5, required=6.5, expected=5.9, lower_80=5.0, upper_80=6.8,
                         probability=prob, method="ytd-history", simulations=0, created_at=VINTAGE))
    store.upsert(m.TargetOdds, odds)
    with store.begin() as conn:
        conn.execute(update(m.EnterpriseMonth.__table__).where(
            m.EnterpriseMonth.__table__.c.enterprise_id == ids[A], m.EnterpriseMonth.__table__.c.period == LAST
        ).values(production_status="stopped"))
        t = m.AlertEvent.__table__
        for rid, (region, subject) in enumerate((("440103", "electricity/yoy/district/440103"),
                                                 ("440104", "electricity/yoy/district/440104"),
                                                 ("440100", "pmi/headline")), 1):
            conn.execute(t.insert().values(
                id=rid, rule="electricity_drop", subject=subject, region=region, severity="warning", state="firing",
                value=-7.25, started_period=LAST, last_period=LAST, fingerprint=f"fp{rid}", recipients="district",
                fired_at=VINTAGE, created_at=VINTAGE, updated_at=VINTAGE))
    return ids


def accounts(store) -> dict[str, str]:
    """One account per role: leader, district official of 440103, staff, enterprise A; user name by role."""
    add_user(store, username="leader1", role="leader", password=PW)
    add_user(store, username="liwan1", role="district", password=PW, district="440103")
    add_user(store, username="staff1", role="staff", password=PW)
    add_user(store, username=A, role="enterprise", password=PW, uscc=A)
    return {"leader": "leader1", "district": "liwan1", "staff": "staff1", "enterprise": A}
