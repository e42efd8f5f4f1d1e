"""Collectors on real files and on every kind of bad input: a clear error or a clean read, never a traceback."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from collectors.electricity import iter_electricity, parse_days, read_account_map
from collectors.exceptions import CollectorError
from collectors.official import parse_period, read_official_table
from collectors.survey import read_survey_csv, read_survey_workbook
from collectors.survey_layout import SHEET_QUESTIONS
from collectors.survey_template import write_survey_workbook
from collectors.uscc import make_uscc

DATA = Path(__file__).parent / "data" / "official"
USCC = make_uscc("440112", "MA5ABC12")


# ------------------------------------------------------------------------------------------ official tables
def _values(name: str) -> pd.Series:
    frame = read_official_table(DATA / name).tables["official_statistic"]
    return frame.set_index(["series", "period"])["value"]


def test_national_electricity_export_matches_its_provenance_note():
    col = read_official_table(DATA / "china_electricity_consumption_monthly.csv")
    assert col.meta["encoding"] == "gb18030"
    frame = col.tables["official_statistic"]
    assert set(frame["series"]) == {"electricity/total"} and set(frame["region"]) == {"100000"}
    v = frame.set_index("period")["value"]
    assert v["2020-02"] == pytest.approx(4.3976e7, rel=1e-4)
    assert v["2019-12"] == pytest.approx(7.1109e7, rel=1e-4)
    assert v.index.min() == "2006-03" and v.index.max() == "2025-03"
    assert "2025-01" not in v.index  # '#N/A' is a missing month, not a zero
    assert any(i.rule == "january_missing" and i.severity == "warning" for i in col.issues)
    assert not col.errors


def test_hubei_exports_map_region_and_series():
    iva = _values("hubei_industrial_value_added_yoy.csv")
    assert iva.index.get_level_values(0).unique().tolist() == ["iva/yoy"]
    assert iva[("iva/yoy", "2000-01")] == 7.7 and iva[("iva/yoy", "2025-03")] == 8.4
    frame = read_official_table(DATA / "hubei_electricity_consumption_monthly.csv").tables["official_statistic"]
    assert set(frame["region"]) == {"420000"}
    assert frame.set_index("period").loc["2020-02", "value"] == 1040000


def test_nbs_database_export_parses_wide_layout():
    v = _values("nbs_pmi_original_export.csv")
    assert v[("nbs/pmi/headline", "2020-02")] == 35.7
    assert v[("nbs/pmi/production", "2020-02")] == 27.8
    assert v[("nbs/pmi/new_orders", "2020-02")] == 29.3
    assert v[("nbs/pmi/headline", "2008-11")] == 38.8
    assert v.loc["nbs/pmi/headline"].size == 224
    assert v.loc["nbs/pmi/output_prices"].index.min() == "2016-02"


def test_gbk_file_forced_as_utf8_gives_a_clear_error():
    with pytest.raises(CollectorError, match="not valid utf-8 .*looks like GBK.*export it again") as info:
        read_official_table(DATA / "china_electricity_consumption_monthly.csv", encoding="utf-8")
    assert "--encoding" not in str(info.value)  # imon has no such option (issue 16)


@pytest.mark.parametrize(("text", "period"), [("2006/3/31", "2006-03"), ("2017-01", "2017-01"), ("201702", "2017-02"),
                                              ("2017年3月", "2017-03"), ("Aug 2023", "2023-08"),
                                              ("June 2020", "2020-06"), ("Oct2012", "2012-10"), ("2017-13", None), ("spam", None)])
def test_periods_in_the_formats_sources_use(text, period):
    assert parse_period(text) == period


def test_empty_and_header_only_official_tables(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(CollectorError, match="empty"):
        read_official_table(empty)
    header_only = tmp_path / "header.csv"
    header_only.write_text("指标名称,广州:规模以上工业增加值:累计同比\n频率,月\n单位,%\n", "utf-8")
    with pytest.raises(CollectorError, match="no values"):
        read_official_table(header_only)


# ------------------------------------------------------------------------------------------ survey workbook
def _workbook(path: Path, **kw) -> Path:
    args = dict(uscc=USCC, name="广州测试电子有限公司", period="2017-01",
                answers={"production": 1, "new_orders": 0, "employment": -1, "supplier_delivery_time": 1,
                         "raw_materials_inventory": 0},
                operations={"electricity_kwh": 120000, "output_value": 850.5, "production_status": "normal",
                            "capacity_utilisation": 81.5},
                problems=["insufficient_demand"], submitted_at=dt.date(2017, 1, 20), respondent="李四")
    args.update(kw)
    return write_survey_workbook(path, **args)


def test_workbook_round_trip(tmp_path):
    col = read_survey_workbook(_workbook(tmp_path / "w.xlsx"))
    assert not col.issues
    answers = col.tables["survey_response"].set_index("question")["answer"].to_dict()
    assert answers == {"production": 1, "new_orders": 0, "employment": -1, "supplier_delivery_time": 1,
                       "raw_materials_inventory": 0}
    ops = col.tables["enterprise_month"].iloc[0]
    assert ops["output_value"] == 850.5 and ops["production_status"] == "normal"
    assert col.tables["survey_problem"]["problem"].tolist() == ["insufficient_demand"]
    assert col.meta["submitted_on"] == dt.date(2017, 1, 20)


def test_blank_template_reads_as_non_response(tmp_path):
    path = write_survey_workbook(tmp_path / "t.xlsx", uscc=USCC, name="x", period="2017-01")
    col = read_survey_workbook(path)
    assert col.tables["survey_response"].empty and not col.errors


def test_answers_in_other_spellings_and_invalid_ones(tmp_path):
    path = _workbook(tmp_path / "w.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb[SHEET_QUESTIONS]
    rows = {ws.cell(r, 2).value: r for r in range(1, ws.max_row + 1)}
    ws.cell(rows["production"], 4, "增加")  # Chinese part only
    ws.cell(rows["new_orders"], 4, "lower")  # English part
    ws.cell(rows["imports"], 4, -1)  # a number
    ws.cell(rows["employment"], 4, "很多")  # invalid
    wb.save(path)
    col = read_survey_workbook(path)
    answers = col.tables["survey_response"].set_index("question")["answer"].to_dict()
    assert answers["production"] == 1 and answers["new_orders"] == -1 and answers["imports"] == -1
    assert "employment" not in answers
    (err,) = col.errors
    assert err.rule == "invalid_answer" and err.sheet == SHEET_QUESTIONS and err.row == rows["employment"]
    assert "很多" in err.message and "增加 Higher" in err.message


def test_truncated_workbook(tmp_path):
    good = _workbook(tmp_path / "w.xlsx").read_bytes()
    bad = tmp_path / "truncated.xlsx"
    bad.write_bytes(good[: len(good) // 2])
    with pytest.raises(CollectorError, match="truncated.xlsx: not a readable .xlsx workbook.*sent again"):
        read_survey_workbook(bad)


def test_password_protected_workbook(tmp_path):
    # An encrypted xlsx is an OLE compound file, as is a legacy .xls: this is its signature.
    bad = tmp_path / "locked.xlsx"
    bad.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4096)
    with pytest.raises(CollectorError, match="password-protected .*without a password"):
        read_survey_workbook(bad)


def test_wrong_sheet_and_renamed_column(tmp_path):
    path = _workbook(tmp_path / "w.xlsx")
    wb = openpyxl.load_workbook(path)
    wb[SHEET_QUESTIONS].title = "Sheet1"
    wb.save(tmp_path / "renamed_sheet.xlsx")
    with pytest.raises(CollectorError, match="no sheet '问卷 Questionnaire' \\(sheets: Sheet1"):
        read_survey_workbook(tmp_path / "renamed_sheet.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb[SHEET_QUESTIONS]
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == "回答 Answer":
                cell.value = "Reply"
    wb.save(tmp_path / "renamed_column.xlsx")
    with pytest.raises(CollectorError, match=r"\[问卷 Questionnaire\] row 10: no column headed 回答 / answer"):
        read_survey_workbook(tmp_path / "renamed_column.xlsx")


def test_changed_credit_code_refuses_the_file(tmp_path):
    path = _workbook(tmp_path / "w.xlsx", uscc=USCC[:-1] + ("0" if USCC[-1] != "0" else "1"))
    with pytest.raises(CollectorError, match="row 3: credit code .*final check character"):
        read_survey_workbook(path)


def test_survey_csv_export(tmp_path):
    other = make_uscc("440113", "12345678")
    path = tmp_path / "export.csv"
    path.write_text(
        "uscc,period,submitted_at,section,code,value\n"
        f"{USCC},2017-01,2017-01-21,question,production,增加 Higher\n"
        f"{USCC},2017-01,2017-01-21,operations,output_value,\"1,234.5\"\n"
        f"{USCC},2017-01,2017-01-21,problem,tight_funding,是 Yes\n"
        f"{other},2017-01,2017/1/22,question,new_orders,持平\n"
        f"{other},2017-13,2017-01-22,question,production,增加\n"
        "BADCODE,2017-01,2017-01-22,question,production,增加\n"
        f"{other},2017-01,2017-01-22,operations,labour_cost,-5\n", "utf-8")
    col = read_survey_csv(path)
    assert len(col.tables["survey_response"]) == 2
    assert col.tables["enterprise_month"].set_index("uscc").loc[USCC, "output_value"] == 1234.5
    assert sorted(i.rule for i in col.errors) == ["bad_period", "invalid_uscc", "negative_value"]
    assert {i.row for i in col.errors} == {6, 7, 8}


# ------------------------------------------------------------------------------------------ electricity feed
def test_feed_in_gbk_with_chinese_headers_and_mixed_dates(tmp_path):
    path = tmp_path / "feed.csv"
    text = ("户号,日期,用电量(kWh)\n0301,2017-01-05,\"1,234.5\"\n0301,2017/1/6,1200\n0302,20170105,0\n"
            "0302,2017.01.06,abc\n0303,2017-02-30,5\n,2017-01-05,5\n0304,2017-01-05,-3\n")
    path.write_bytes(text.encode("gbk"))
    chunks = list(iter_electricity(path, chunksize=1000))
    rows = pd.concat([c.rows for c in chunks])
    assert rows["account_no"].tolist() == ["0301", "0301", "0302"]
    assert rows["day"].dt.strftime("%Y-%m-%d").tolist() == ["2017-01-05", "2017-01-06", "2017-01-05"]
    assert rows["kwh"].tolist() == [1234.5, 1200.0, 0.0]
    issues = {(i.row, i.rule) for c in chunks for i in c.issues}
    assert issues == {(5, "non_numeric_kwh"), (6, "bad_date"), (7, "missing_account"), (8, "negative_kwh")}


def test_feed_chunks_keep_row_numbers(tmp_path):
    path = tmp_path / "feed.csv"
    days = pd.date_range("2017-01-01", periods=2500)
    pd.DataFrame({"account_no": "A1", "date": days.strftime("%Y-%m-%d"), "kwh": 1.0}).to_csv(path, index=False)
    chunks = list(iter_electricity(path, chunksize=1000))
    assert [len(c.rows) for c in chunks] == [1000, 1000, 500]
    assert chunks[2].rows["source_row"].iloc[0] == 2002


@pytest.mark.parametrize(("content", "message"), [
    (b"", "empty"),
    ("户号,日期,用电量\n".encode("gbk"), "header but no readings"),
    (b"meter,when,amount\n1,2017-01-01,3\n", "lacks an account, date or kWh column"),
])
def test_bad_feeds(tmp_path, content, message):
    path = tmp_path / "feed.csv"
    path.write_bytes(content)
    with pytest.raises(CollectorError, match=message):
        list(iter_electricity(path))


def test_feed_in_excel(tmp_path):
    path = tmp_path / "feed.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["户号", "日期", "用电量"])
    ws.append(["0301", dt.datetime(2017, 1, 5), 12.5])
    ws.append(["0301", "2017/1/6", "13"])
    wb.save(path)
    rows = pd.concat(c.rows for c in iter_electricity(path))
    assert rows["kwh"].tolist() == [12.5, 13.0] and rows["day"].dt.day.tolist() == [5, 6]


def test_parse_days_handles_excel_serials():
    out = parse_days(pd.Series(["42740", "2017-01-05", "x"]), serial=True)  # xlsx cells
    assert out.iloc[0] == pd.Timestamp("2017-01-05") and out.iloc[1] == pd.Timestamp("2017-01-05")
    assert pd.isna(out.iloc[2])
    assert pd.isna(parse_days(pd.Series(["45000"])).iloc[0])  # in a CSV a number is not a date (issue 16)


def test_account_map(tmp_path):
    path = tmp_path / "accounts.csv"
    other = make_uscc("440113", "12345678")
    path.write_text(f"户号,统一社会信用代码,电表名称\nA1,{USCC},主变\nA2,{USCC},二号变\nA3,{other},\n"
                    f"A3,{USCC},\nA4,NOTACODE,\n", "utf-8-sig")
    col = read_account_map(path)
    assert col.tables["electricity_account"]["account_no"].tolist() == ["A1", "A2"]
    assert sorted(i.rule for i in col.errors) == ["account_conflict", "account_conflict", "invalid_uscc"]


def test_xlsx_signature_of_a_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "notes.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(CollectorError, match="not a readable .xlsx workbook"):
        read_survey_workbook(path)


def test_official_table_saved_as_xlsx_with_date_cells(tmp_path):
    path = tmp_path / "official.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["指标名称", "广州:规模以上工业增加值:当月同比"])
    ws.append(["频率", "月"])
    ws.append([dt.datetime(2025, 3, 31), 5.1])
    ws.append([dt.datetime(2025, 2, 28), 4.2])
    wb.save(path)
    frame = read_official_table(path).tables["official_statistic"]
    assert frame.set_index("period")["value"].to_dict() == {"2025-03": 5.1, "2025-02": 4.2}
    assert set(frame["region"]) == {"440100"} and set(frame["series"]) == {"iva/yoy"}


def test_survey_csv_dates_with_times_and_unreadable_ones(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("uscc,period,submitted_at,section,code,value\n"
                    f"{USCC},2017-01,2017-01-21T09:30:00,question,production,增加\n"
                    f"{USCC},2017-02,someday,question,production,增加\n", "utf-8")
    col = read_survey_csv(path)
    answers = col.tables["survey_response"].set_index("period")["submitted_on"]
    assert answers["2017-01"] == dt.date(2017, 1, 21) and pd.isna(answers["2017-02"])
    assert [(i.rule, i.severity) for i in col.issues] == [("bad_date", "warning")]


def test_feed_row_numbers_count_blank_lines(tmp_path):
    path = tmp_path / "feed.csv"
    path.write_text("account_no,date,kwh\nA1,2017-01-01,1\n\n\nA1,2017-01-02,x\nA1,2017-01-03,3\n", "utf-8")
    chunks = list(iter_electricity(path))
    rows = pd.concat(c.rows for c in chunks)
    assert rows["source_row"].tolist() == [2, 6]
    assert [(i.row, i.rule) for c in chunks for i in c.issues] == [(5, "non_numeric_kwh")]
