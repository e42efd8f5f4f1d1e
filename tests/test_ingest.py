"""Ingestion through the collectors into the store, on SQLite and PostgreSQL: idempotent, atomic, traceable."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from collectors.survey_template import write_survey_workbook
from collectors.uscc import make_uscc
from monitor.ingest import collect_paths, collect_report
from monitor.settings import load_settings
from monitor.store import models as m

DATA = Path(__file__).parent / "data" / "official"
E1 = make_uscc("440112", "MA5ABC12")
E2 = make_uscc("440113", "12345678")  # left the panel at the end of 2016
E3 = make_uscc("440114", "87654321")
UNKNOWN = make_uscc("440115", "11112222")


@pytest.fixture
def settings(tmp_path):
    return load_settings(environ={}, overrides={"data_dir": str(tmp_path / "var"), "ingest.chunk_rows": "1000"})


@pytest.fixture
def bureau(store):
    """A store with three registered enterprises and two months of history for E1."""
    store.upsert(m.Enterprise, [
        dict(uscc=E1, name_zh="广州甲电子有限公司", district_code="440112", industry_code="39", size_class="large",
             sample_weight=1.2, panel_start="2016-01", panel_end=None),
        dict(uscc=E2, name_zh="广州乙服饰有限公司", district_code="440113", industry_code="18", size_class="small",
             sample_weight=12.0, panel_start="2016-01", panel_end="2016-12"),
        dict(uscc=E3, name_zh="广州丙汽车有限公司", district_code="440114", industry_code="36", size_class="medium",
             sample_weight=3.0, panel_start="2016-06", panel_end=None),
    ])
    ids = dict(store.read_frame(select(m.Enterprise.uscc, m.Enterprise.id)).itertuples(index=False))
    store.upsert(m.EnterpriseMonth, [
        dict(enterprise_id=ids[E1], period=p, output_value=800.0, electricity_kwh=100000.0, production_status="normal")
        for p in ("2016-11", "2016-12")])
    return store, ids


def _workbook(folder: Path, name: str, *, uscc=E1, period="2017-01", submitted=dt.date(2017, 1, 20),
              answers=None, **ops) -> Path:
    answers = answers or {"production": 1, "new_orders": 1, "employment": 0, "supplier_delivery_time": 0,
                          "raw_materials_inventory": -1}
    operations = {"electricity_kwh": 98000, "output_value": 820.0, "production_status": "normal"} | ops
    folder.mkdir(parents=True, exist_ok=True)
    return write_survey_workbook(folder / name, uscc=uscc, name="x", period=period, answers=answers,
                                 operations=operations, problems=["tight_funding"], submitted_at=submitted)


def _answers(store, eid, table=m.SurveyResponse):
    frame = store.read_frame(select(table).where(table.enterprise_id == eid))
    return frame.sort_values(["question"]).reset_index(drop=True)


def test_workbook_is_ingested_with_provenance_and_only_once(bureau, settings, tmp_path):
    store, ids = bureau
    path = _workbook(tmp_path / "in", "a.xlsx")
    (out,) = collect_paths(store, settings, [path])
    assert out.status == "loaded" and out.rows_rejected == 0 and out.rows_new > 0
    got = _answers(store, ids[E1])
    assert len(got) == 5 and (got["revision"] == 1).all()
    src = store.read_frame(select(m.IngestSource).where(m.IngestSource.id == int(got["source_id"].iloc[0])))
    assert src["path"].iloc[0] == str(path.absolute()) and len(src["sha256"].iloc[0]) == 64
    assert sorted(got["source_row"]) == [11, 12, 20, 21, 22]  # the sheet rows of the answers
    month = store.read_frame(select(m.EnterpriseMonth).where(m.EnterpriseMonth.period == "2017-01")).iloc[0]
    assert month["output_value"] == 820.0 and month["source_id"] == got["source_id"].iloc[0]
    counts = {t: store.count(t) for t in (m.SurveyResponse, m.EnterpriseMonth, m.SurveyProblem, m.IngestSource)}
    (again,) = collect_paths(store, settings, [path])
    assert again.status == "duplicate" and again.rows_new == 0
    copy = tmp_path / "in" / "renamed copy.xlsx"
    shutil.copy(path, copy)
    (twin,) = collect_paths(store, settings, [copy])
    assert twin.status == "duplicate" and "same content as" in twin.message
    assert counts == {t: store.count(t) for t in counts}


def test_corrected_resubmission_replaces_and_keeps_history(bureau, settings, tmp_path):
    store, ids = bureau
    first = _workbook(tmp_path / "in", "a.xlsx")
    changed = {"production": -1, "new_orders": 1, "employment": 0, "supplier_delivery_time": 0}
    second = _workbook(tmp_path / "in", "a_v2.xlsx", answers=changed, submitted=dt.date(2017, 1, 23))
    outcomes = collect_paths(store, settings, [first, second])
    assert [o.status for o in outcomes] == ["loaded", "loaded"]
    now = _answers(store, ids[E1]).set_index("question")
    assert now["answer"].to_dict() == changed and (now["revision"] == 2).all()
    old = _answers(store, ids[E1], m.SurveyResponseHistory).set_index("question")
    assert len(old) == 5 and (old["revision"] == 1).all()
    assert old.loc["production", "answer"] == 1 and old.loc["raw_materials_inventory", "answer"] == -1
    # The same answers again in a new file: a new source, nothing changes.
    third = _workbook(tmp_path / "in", "a_v3.xlsx", answers=changed, submitted=dt.date(2017, 1, 24))
    (out,) = collect_paths(store, settings, [third])
    assert out.status == "unchanged" and out.rows_new == 0
    assert len(_answers(store, ids[E1], m.SurveyResponseHistory)) == 5


def test_hard_rules_reject_and_soft_rules_flag(bureau, settings, tmp_path):
    store, ids = bureau
    folder = tmp_path / "in"
    files = [
        _workbook(folder, "unknown.xlsx", uscc=UNKNOWN),
        _workbook(folder, "left.xlsx", uscc=E2),
        _workbook(folder, "window.xlsx", uscc=E3, submitted=dt.date(2017, 3, 15)),
        _workbook(folder, "late.xlsx", submitted=dt.date(2017, 1, 28), electricity_kwh=50000, output_value=9000.0),
    ]
    out = {o.path.name: o for o in collect_paths(store, settings, files)}
    assert [i.rule for i in out["unknown.xlsx"].issues] == ["unknown_enterprise"]
    assert [i.rule for i in out["left.xlsx"].issues] == ["not_in_sample"]
    assert [i.rule for i in out["window.xlsx"].issues] == ["outside_survey_window"]
    # a refused enterprise-month rejects every row of it: nothing of these files is counted as accepted (issue 16)
    assert all(out[n].status == "rejected" and out[n].rows_rejected == out[n].rows_read > 1
               for n in ("unknown.xlsx", "left.xlsx", "window.xlsx"))
    late = out["late.xlsx"]
    assert late.status == "loaded" and late.rows_rejected == 0
    assert sorted(i.rule for i in late.issues) == ["late_submission", "production_vs_electricity", "unusual_value"]
    assert store.count(m.SurveyResponse) == 5  # only the late (but valid) return
    rejects = store.read_frame(select(m.IngestReject.rule, m.IngestReject.severity, m.IngestReject.sheet,
                                      m.IngestReject.row_number))
    assert set(rejects.loc[rejects["severity"] == "error", "rule"]) == {"unknown_enterprise", "not_in_sample",
                                                                      "outside_survey_window"}
    assert (rejects["sheet"].dropna() != "").all() and rejects["row_number"].notna().all()
    sources, issues = collect_report(store)
    assert len(sources) == 4 and set(issues["rule"]) >= {"unknown_enterprise", "late_submission"}
    assert any("row" in line for lines in issues["examples"] for line in lines)


def _feed(path: Path, rows: list[tuple[str, str, float]]) -> Path:
    text = "户号,日期,用电量(kWh)\n" + "".join(f"{a},{d},{k}\n" for a, d, k in rows)
    path.write_bytes(text.encode("gbk"))
    return path


def _accounts(path: Path) -> Path:
    path.write_text(f"account_no,uscc,meter_name\nA1,{E1},主变\nA2,{E1},二号变\nB1,{E3},\n", "utf-8-sig")
    return path


def test_electricity_feed_sums_accounts_rejects_bad_rows_and_is_idempotent(bureau, settings, tmp_path):
    store, ids = bureau
    acc = _accounts(tmp_path / "accounts.csv")
    feed = _feed(tmp_path / "feed.csv", [
        ("A1", "2017-01-05", 100.0), ("A2", "2017/1/5", 50.0), ("B1", "20170105", 70.0),
        ("A1", "2017-01-06", 110.0), ("A1", "2017-01-06", 110.0),  # identical duplicate: kept once
        ("B1", "2017-01-06", 80.0), ("B1", "2017-01-06", 81.0),  # conflicting duplicate: both rejected
        ("ZZ", "2017-01-06", 5.0),  # unknown account
        ("A2", "2017-01-06", -1.0),  # negative
    ])
    outcomes = collect_paths(store, settings, [feed, acc])  # the account map is processed first
    assert [o.kind for o in outcomes] == ["electricity_accounts", "electricity"]
    elec = outcomes[1]
    assert elec.status == "loaded"
    assert sorted(i.rule for i in elec.issues) == ["duplicate_conflict", "duplicate_conflict", "negative_kwh",
                                                   "unknown_account"]
    assert sorted(i.row for i in elec.issues if i.rule == "duplicate_conflict") == [7, 8]
    sums = store.read_frame(select(m.ElectricityReading.enterprise_id, m.ElectricityReading.day,
                                   m.ElectricityReading.kwh).order_by(m.ElectricityReading.enterprise_id,
                                                                      m.ElectricityReading.day))
    got = {(int(e), str(d), k) for e, d, k in sums.itertuples(index=False)}
    assert got == {(ids[E1], "2017-01-05", 150.0), (ids[E1], "2017-01-06", 110.0), (ids[E3], "2017-01-05", 70.0)}
    (again,) = collect_paths(store, settings, [feed], force=True)
    assert again.rows_new == 0 and store.count(m.ElectricityAccountReading) == 4
    fix = _feed(tmp_path / "feed_fix.csv", [("A2", "2017-01-05", 60.0), ("B1", "2017-01-06", 80.0)])
    (fixed,) = collect_paths(store, settings, [fix])
    assert fixed.rows_new == 2
    e1 = store.read_frame(select(m.ElectricityReading.kwh).where(m.ElectricityReading.enterprise_id == ids[E1],
                                                                 m.ElectricityReading.day == dt.date(2017, 1, 5)))
    assert e1["kwh"].iloc[0] == 160.0


def test_a_file_interrupted_midway_leaves_the_store_as_it_was(bureau, settings, tmp_path):
    store, _ = bureau
    collect_paths(store, settings, [_accounts(tmp_path / "accounts.csv")])
    days = pd.date_range("2017-01-01", periods=1500).strftime("%Y-%m-%d")
    feed = _feed(tmp_path / "big.csv", [("A1", d, 10.0) for d in days])
    before = {t: store.count(t) for t in (m.ElectricityAccountReading, m.ElectricityReading, m.IngestSource)}
    calls = []

    def interrupt(message: str) -> None:
        calls.append(message)
        if "1,000 rows" in message:  # after the first chunk has been staged
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        collect_paths(store, settings, [feed], progress=interrupt)
    assert before == {t: store.count(t) for t in before}
    (out,) = collect_paths(store, settings, [feed])  # and it can be ingested afterwards
    assert out.status == "loaded" and store.count(m.ElectricityAccountReading) == 1500


def test_official_tables_and_dry_run(bureau, settings, tmp_path):
    store, _ = bureau
    path = DATA / "china_electricity_consumption_monthly.csv"
    (dry,) = collect_paths(store, settings, [path], dry_run=True)
    assert dry.status == "checked" and dry.rows_new == 223
    assert store.count(m.OfficialStatistic) == 0 and store.count(m.IngestSource) == 0
    (out,) = collect_paths(store, settings, [path])
    assert out.rows_new == 223
    value = store.read_frame(select(m.OfficialStatistic.value, m.OfficialStatistic.source_row).where(
        m.OfficialStatistic.period == "2020-02"))
    assert value["value"].iloc[0] == pytest.approx(4.3976e7, rel=1e-4) and value["source_row"].iloc[0] > 9


def test_unreadable_file_is_recorded_as_failed_and_nothing_else(bureau, settings, tmp_path):
    store, _ = bureau
    good = _workbook(tmp_path / "in", "a.xlsx").read_bytes()
    bad = tmp_path / "in" / "broken.xlsx"
    bad.write_bytes(good[:1000])
    (out,) = collect_paths(store, settings, [bad])
    assert out.status == "failed" and "not a readable .xlsx" in out.message
    assert store.count(m.SurveyResponse) == 0
    sources, _ = collect_report(store)
    assert sources["status"].tolist() == ["failed"] and "broken.xlsx" in sources["note"].iloc[0]
    empty = tmp_path / "in" / "empty.csv"
    empty.write_bytes(b"")
    (out,) = collect_paths(store, settings, [empty])
    assert out.status == "failed" and "empty" in out.message


def test_a_damaged_file_is_refused_and_the_others_still_go_in(bureau, settings, tmp_path):
    store, _ = bureau
    import zipfile

    good = _workbook(tmp_path / "in", "good.xlsx")
    bad = tmp_path / "in" / "damaged.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            dst.writestr(item, data[: len(data) // 2] if item.filename.endswith("sheet1.xml") else data)
    outcomes = {o.path.name: o for o in collect_paths(store, settings, [tmp_path / "in"])}
    assert outcomes["damaged.xlsx"].status == "failed" and "damaged" in outcomes["damaged.xlsx"].message
    assert outcomes["good.xlsx"].status == "loaded"
    assert store.count(m.SurveyResponse) == 5


def test_upsert_keeps_the_last_of_repeated_keys_on_every_backend(store):
    rows = [{"series_key": "pmi/headline", "period": "2017-01", "vintage": dt.date(2017, 2, 1), "raw": 1.0,
             "computed_at": dt.datetime(2017, 2, 1)},
            {"series_key": "pmi/headline", "period": "2017-01", "vintage": dt.date(2017, 2, 1), "raw": 2.0,
             "computed_at": dt.datetime(2017, 2, 1)}]
    assert store.upsert(m.SeriesValue, rows) == 1
    assert store.read_frame(select(m.SeriesValue.raw))["raw"].tolist() == [2.0]
