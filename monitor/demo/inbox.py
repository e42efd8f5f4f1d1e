"""The demo's current round as real input files, so ``imon demo`` goes files -> collectors -> store.

For the last month of a build the demo writes, into ``<inbox>/<YYYY-MM>/``:

- ``survey/<YYYY-MM>_<credit code>.xlsx``: a filled workbook for every enterprise
  that returned the questionnaire or its figures (a corrected return comes as a
  second file ``..._v2.xlsx``);
- ``electricity/accounts.csv``: the utility's account map (UTF-8 with BOM, as
  Excel saves it) and ``electricity/<YYYY-MM>_utility_export.csv``: daily kWh
  per account in GBK with Chinese headers, as the utility sends it;
- ``official/<YYYY-MM>_official_monthly.csv``: a data-terminal (Wind-style) GBK
  export of the official monthly series of the city and its districts, newest
  first, January missing as the statistics bureau publishes it.

Everything before the last month is loaded straight into the store, as a bureau
migrating its archive would.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd

from collectors.survey_template import write_survey_workbook

from ..reference import CITY_CODE, DISTRICTS
from .generator import DemoData

__all__ = ["write_inbox", "OFFICIAL_NAMES"]

#: Series key -> indicator name as a data terminal spells it (after the region).
OFFICIAL_NAMES = {
    "iva/yoy": "规模以上工业增加值:当月同比",
    "iva/ytd_yoy": "规模以上工业增加值:累计同比",
    "output/ytd_yoy": "规模以上工业总产值:累计同比",
    "investment/industrial/ytd_yoy": "工业投资:累计同比",
    "investment/tech_transformation/ytd_yoy": "技术改造投资:累计同比",
}
_OPS = ["electricity_kwh", "output_value", "sales_value", "finished_goods_inventory", "raw_material_cost",
        "labour_cost", "energy_cost", "other_cost", "production_status", "capacity_utilisation"]


def _write_one(kwargs: dict[str, Any]) -> str:
    return str(write_survey_workbook(**kwargs))


def _workbook_jobs(data: DemoData, period: str, folder: Path) -> list[dict[str, Any]]:
    ent = data.enterprises.set_index("id")
    resp = data.responses[data.responses["period"] == period]
    hist = data.history[data.history["period"] == period]
    monthly = data.monthly[data.monthly["period"] == period].set_index("enterprise_id")
    problems = data.problems[data.problems["period"] == period].groupby("enterprise_id")["problem"].apply(list)
    jobs = []
    ids = sorted(set(resp["enterprise_id"]) | set(monthly.index))
    by_firm = dict(tuple(resp.groupby("enterprise_id")))
    corrected = dict(tuple(hist.groupby("enterprise_id")))
    for eid in ids:
        rows = by_firm.get(eid)
        ops = monthly.loc[eid, _OPS].to_dict() if eid in monthly.index else None
        base = {"uscc": ent.at[eid, "uscc"], "name": ent.at[eid, "name_zh"], "period": period,
                "operations": ops, "problems": problems.get(eid, []), "respondent": "统计员"}
        if rows is None:
            when = pd.Timestamp(monthly.at[eid, "submitted_at"]).date()
            jobs.append({**base, "path": folder / f"{period}_{base['uscc']}.xlsx", "answers": None,
                         "submitted_at": when})
            continue
        answers = dict(zip(rows["question"], rows["answer"].astype(int)))
        first = pd.Timestamp(rows["submitted_at"].min()).date()
        if eid in corrected:
            old = corrected[eid]
            original = {**answers, **dict(zip(old["question"], old["answer"].astype(int)))}
            first = pd.Timestamp(old["submitted_at"].min()).date()
            jobs.append({**base, "path": folder / f"{period}_{base['uscc']}.xlsx", "answers": original,
                         "submitted_at": first})
            jobs.append({**base, "path": folder / f"{period}_{base['uscc']}_v2.xlsx", "answers": answers,
                         "submitted_at": pd.Timestamp(rows["submitted_at"].max()).date()})
        else:
            jobs.append({**base, "path": folder / f"{period}_{base['uscc']}.xlsx", "answers": answers,
                         "submitted_at": first})
    return jobs


def _write_electricity(data: DemoData, period: str, folder: Path) -> list[Path]:
    p = pd.Period(period, "M")
    elec = data.electricity[(data.electricity["day"] >= p.start_time) & (data.electricity["day"] <= p.end_time)]
    active = set(elec["enterprise_id"])
    accounts = data.accounts[data.accounts["enterprise_id"].isin(active)]
    acc_path = folder / "accounts.csv"
    accounts.assign(valid_from="")[["account_no", "uscc", "meter_name", "valid_from"]].to_csv(
        acc_path, index=False, encoding="utf-8-sig")
    split = elec.merge(accounts[["account_no", "enterprise_id", "share"]], on="enterprise_id")
    feed = pd.DataFrame({"户号": split["account_no"], "日期": split["day"].dt.strftime("%Y/%m/%d"),
                         "用电量(kWh)": (split["kwh"] * split["share"]).round(1)})
    feed_path = folder / f"{period}_utility_export.csv"
    feed.sort_values(["户号", "日期"]).to_csv(feed_path, index=False, encoding="gbk")
    return [acc_path, feed_path]


def _write_official(data: DemoData, period: str, folder: Path) -> Path:
    off = data.official[data.official["series"].isin(list(OFFICIAL_NAMES)) & (data.official["period"] <= period)]
    names = {CITY_CODE: "广州"} | {d.code: f"广州:{d.name_zh}" for d in DISTRICTS}
    wide = off.pivot_table(index="period", columns=["series", "region"], values="value", aggfunc="first")
    months = pd.period_range(pd.Period(off["period"].min(), "M"), pd.Period(period, "M"), freq="M")
    wide = wide.reindex([str(m) for m in months])[::-1]
    cols = list(wide.columns)
    header = [
        ["国家"] + ["中国"] * len(cols),
        ["指标名称"] + [f"{names[r]}:{OFFICIAL_NAMES[s]}" for s, r in cols],
        ["频率"] + ["月"] * len(cols),
        ["单位"] + ["%"] * len(cols),
        ["指标ID"] + [f"GZ{i:05d}" for i in range(len(cols))],
        ["来源"] + ["广州市统计局"] * len(cols),
    ]
    lines = [",".join(r) for r in header]
    for month, row in wide.iterrows():
        end = pd.Period(month, "M").end_time.date()
        cells = ["#N/A" if pd.isna(v) else f"{v:g}" for v in row]
        lines.append(",".join([f"{end.year}/{end.month}/{end.day}", *cells]))
    lines += [",", "数据来源：广州市统计局,"]
    path = folder / f"{period}_official_monthly.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    return path


def write_inbox(data: DemoData, inbox: Path, *, processes: int = 2) -> Path:
    """Write the build's last month as input files under ``inbox/<YYYY-MM>``; return that folder.

    The folder is replaced if it exists (it belongs to the demo).
    """
    period = str(data.params.end)
    root = inbox / period
    if root.exists():
        for f in sorted(root.rglob("*"), reverse=True):
            f.unlink() if f.is_file() else f.rmdir()
    for sub in ("survey", "electricity", "official"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    jobs = _workbook_jobs(data, period, root / "survey")
    if processes > 1 and len(jobs) > 50:
        with ProcessPoolExecutor(processes) as pool:
            list(pool.map(_write_one, jobs, chunksize=32))
    else:
        for job in jobs:
            _write_one(job)
    _write_electricity(data, period, root / "electricity")
    _write_official(data, period, root / "official")
    return root


def current_round_cutoff(data: DemoData) -> tuple[str, dt.date]:
    """The last month (``YYYY-MM``) and its first day: rows from there on come through the inbox."""
    p = data.params.end
    return str(p), p.start_time.date()
