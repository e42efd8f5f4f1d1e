"""Shared set-up of the web portal tests: a store with three enterprises, settings, an app and sign-in helpers."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
from sqlalchemy import select

from collectors.uscc import make_uscc
from monitor.settings import load_settings
from monitor.store import models as m

A = make_uscc("440103", "A1234567")
B = make_uscc("440104", "B7654321")
C = make_uscc("440103", "C1122334")
PERIOD = dt.date.today().strftime("%Y-%m")  # the current month: inside the survey window whatever the day
PASSWORD = "correct horse battery"
STAFF_PW = "staff password 1"


def register(store, *, name_a: str = "广州甲电子有限公司") -> dict[str, int]:
    """Three enterprises (A and C in 440103, B in 440104) with twelve months of figures (output 100, kWh 10,000)."""
    store.upsert(m.Enterprise, [
        dict(uscc=A, name_zh=name_a, district_code="440103", industry_code="39", size_class="large",
             sample_weight=1.0, panel_start="2020-01", contact_name="张三", contact_phone="020-12345678"),
        dict(uscc=B, name_zh="广州乙服饰有限公司", district_code="440104", industry_code="18", size_class="small",
             sample_weight=1.0, panel_start="2020-01", contact_name="李四", contact_phone="020-87654321"),
        dict(uscc=C, name_zh="广州丙汽车有限公司", district_code="440103", industry_code="36", size_class="medium",
             sample_weight=1.0, panel_start="2020-01", contact_name="王五", contact_phone="020-11112222"),
    ])
    ids = dict(store.read_frame(select(m.Enterprise.uscc, m.Enterprise.id)).itertuples(index=False))
    cur = pd.Period(PERIOD, "M")
    rows = [dict(enterprise_id=ids[u], period=str(cur - k), output_value=100.0, electricity_kwh=10_000.0,
                 production_status="normal", submitted_at=dt.datetime(2020, 1, 1)) for u in (A, B, C)
            for k in range(1, 13)]
    store.upsert(m.EnterpriseMonth, rows)
    return ids


def settings_for(tmp_path, **extra):
    """Settings of a test: data under tmp_path, a deadline that never makes a return late."""
    values = {"data_dir": str(tmp_path), "survey__deadline_day": 31, "web__secret_key": "test-key-" + "x" * 32}
    values.update(extra)
    return load_settings(None).with_overrides(**values)


def csrf_of(html: str) -> str:
    """The CSRF token of the first form of a page."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def login(client, username: str, password: str, *, follow: bool = False):
    """Sign in through the login form; returns the POST's response."""
    page = client.get("/login")
    return client.post("/login", data={"csrf": csrf_of(page.text), "username": username, "password": password},
                       follow_redirects=follow)


def seq_of(html: str) -> int:
    return int(re.search(r'name="seq" value="(\d+)"', html).group(1))


def good_form(csrf: str, uscc: str, seq: int = 0, **changes) -> dict:
    """A complete, plausible questionnaire (every question answered, usual figures)."""
    form = {"csrf": csrf, "uscc": uscc, "seq": str(seq), "action": "submit"}
    for code in ("production", "new_orders", "new_export_orders", "backlog_orders", "finished_goods_inventory",
                 "purchase_quantity", "imports", "input_prices", "output_prices", "raw_materials_inventory",
                 "employment", "supplier_delivery_time", "expectations"):
        form[f"q_{code}"] = "0"
    form.update({"f_electricity_kwh": "10000", "f_output_value": "105", "f_sales_value": "100",
                 "f_production_status": "normal", "f_capacity_utilisation": "80"})
    form.update(changes)
    return form
