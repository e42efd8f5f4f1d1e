"""Publications: phrasing, numbers against the store, formats, glyphs, vintages, release discipline."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import subprocess
import sys
import warnings
import zipfile
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from monitor.compute import compute_range
from monitor.demo.load import load_demo
from monitor.exceptions import PeriodError, PublicationFinalError, PublishError, ReleaseTimeError
from monitor.publish import phrasing as ph
from monitor.publish import publish, rerender
from monitor.publish.charts import find_cjk_font
from monitor.results import read_series, write_series
from monitor.settings import load_settings
from monitor.store import Store
from monitor.store import models as m

TZ = ZoneInfo("Asia/Shanghai")
AFTER = dt.datetime(2020, 11, 20, 10, 0, tzinfo=TZ)


# ------------------------------------------------------------------------------------------------ phrasing
@pytest.mark.parametrize("cur, prev, text", [
    (50.6, 50.3, "比上月上升0.3个百分点"),
    (49.1, 50.3, "比上月下降1.2个百分点"),
    (50.04, 49.96, "与上月持平"),  # both print as 50.0
    (51.25, 51.2, "比上月上升0.1个百分点"),  # half-up rounding of 51.25 -> 51.3
])
def test_change_phrase_zh(cur, prev, text):
    assert ph.change_phrase(cur, prev, "zh") == text


@pytest.mark.parametrize("cur, prev, text", [
    (50.6, 50.3, "高于临界点"),
    (50.2, 50.6, "仍高于临界点"),
    (48.0, 47.5, "仍低于临界点"),
    (47.5, 48.0, "低于临界点"),
    (50.4, 49.6, "升至临界点以上"),
    (49.6, 50.4, "降至临界点以下"),
    (50.0, 49.0, "位于临界点"),
    (50.6, None, "高于临界点"),
])
def test_threshold_phrase_zh(cur, prev, text):
    assert ph.threshold_phrase(cur, prev, "zh") == text


def test_headline_sentence_reads_like_the_release():
    assert ph.index_sentence_tail(50.6, 50.3) == "为50.6%，比上月上升0.3个百分点，高于临界点"
    s = ph.component_sentence("production", "生产指数", 52.6, 52.5)
    assert s == "生产指数为52.6%，比上月上升0.1个百分点，高于临界点，表明制造业生产扩张加快。"
    assert ph.component_sentence("raw_materials_inventory", "原材料库存指数", 47.2, 47.0).endswith(
        "仍低于临界点，表明制造业主要原材料库存量减少幅度收窄。")
    assert "由扩张转为收缩" in ph.component_sentence("new_orders", "新订单指数", 49.0, 51.0)
    assert "由收缩转为扩张" in ph.component_sentence("new_orders", "新订单指数", 51.0, 49.0)
    assert "继续扩张" in ph.component_sentence("production", "生产指数", 51.0, 51.0)
    assert "总体稳定" in ph.component_sentence("production", "生产指数", 50.0, 51.0)
    assert "收缩幅度扩大" in ph.component_sentence("production", "生产指数", 48.0, 49.0)
    en = ph.component_sentence("production", "production", 50.6, 50.3, "en")
    assert en.startswith("The production index was 50.6, up 0.3 points from the previous month, above the 50 mark")


def test_growth_phrases():
    assert ph.growth_phrase(5.23) == "同比增长5.2%"
    assert ph.growth_phrase(-1.04) == "同比下降1.0%"
    assert ph.growth_phrase(0.04) == "与上年同期持平"
    assert ph.growth_change_phrase(5.5, 5.2) == "增速比上月加快0.3个百分点"
    assert ph.growth_change_phrase(5.0, 5.2) == "增速比上月回落0.2个百分点"
    assert ph.updown_count([1.0, 2.0, -0.5, 0.01]) == "2正1负1平"
    assert ph.fmt(-0.04) == "0.0" and ph.round_half_up(50.25) == 50.3


# ------------------------------------------------------------------------------------------------ store
@pytest.fixture(scope="module")
def pub_store(medium_demo, tmp_path_factory):
    folder = tmp_path_factory.mktemp("publish")
    store = Store.open(f"sqlite:///{folder / 'store.sqlite'}")
    load_demo(store, medium_demo)
    settings = load_settings(environ={}, overrides={"data_dir": str(folder)})
    compute_range(store, settings, pd.Period("2019-07", "M"), pd.Period("2020-09", "M"), vintage=dt.date(2020, 10, 1))
    yield store, settings, folder
    store.close()


class _Numbers(HTMLParser):
    """Collect (attrs, text) of every element carrying data-src, and all paragraph texts."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[tuple[dict[str, str], str]] = []
        self.paras: list[tuple[dict[str, str], str]] = []
        self._stack: list[tuple[str, dict[str, str], list[str]]] = []

    def handle_starttag(self, tag, attrs):
        self._stack.append((tag, dict(attrs), []))

    def handle_data(self, data):
        for _, _, buf in self._stack:
            buf.append(data)

    def handle_endtag(self, tag):
        while self._stack:
            t, attrs, buf = self._stack.pop()
            text = "".join(buf)
            if t == "td" and "data-src" in attrs:
                self.cells.append((attrs, text))
            if t == "p":
                self.paras.append((attrs, text))
            if t == tag:
                break


def _parse(path) -> _Numbers:
    parser = _Numbers()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _stored(store, attrs) -> float:
    key, period, col = attrs["data-key"], attrs["data-period"], attrs.get("data-col", "best")
    frame = read_series(store, key)
    row = frame.loc[pd.Period(period, "M")]
    if col == "best":
        return row["sa"] if pd.notna(row["sa"]) else row["raw"]
    return row[col]


def test_pmi_release_numbers_equal_the_store(pub_store):
    store, settings, folder = pub_store
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r".*[Gg]lyph .* missing from", category=UserWarning)
        result = publish(store, settings, "pmi", "2020-09", formats="html", now=AFTER, out_dir=folder / "out")
    html = result.files[0]
    # the release time carries its zone (issue 13: times in two zones without labels)
    assert re.search(r"计划发布时间：2020年10月\d+日 \d\d:\d\d（北京时间）", html.read_text(encoding="utf-8"))
    parsed = _parse(html)
    checked = 0
    for attrs, text in parsed.cells:
        if attrs["data-src"] != "series" or text == "—":
            continue
        digits = int(attrs.get("data-digits", "1"))
        low = "lown" in attrs.get("class", "")  # a low-n cell is flagged with *
        assert text == ph.fmt(_stored(store, attrs), digits) + ("*" if low else ""), attrs
        assert low == (int(attrs.get("data-n", 10 ** 6)) < settings["compute.min_respondents"])
        checked += 1
    assert checked > 13 * 14  # tables 1 and 2 in full, plus the districts
    # district changes equal the difference of the printed values
    for attrs, text in parsed.cells:
        if attrs["data-src"] == "change" and text != "—":
            key, p = attrs["data-key"], pd.Period(attrs["data-period"], "M")
            frame = read_series(store, key)
            best = frame["sa"].where(frame["sa"].notna(), frame["raw"])
            expect = ph.round_half_up(ph.round_half_up(best[p]) - ph.round_half_up(best[p - 1]))
            assert float(text) == pytest.approx(expect)
    # sentences: the value after "为" and the change are the stored ones
    sentences = [(a, t) for a, t in parsed.paras if a.get("data-src") == "series" and "data-key" in a]
    assert len(sentences) >= 14
    for attrs, text in sentences:
        if "data-prev" not in attrs:
            continue
        frame = read_series(store, attrs["data-key"])
        best = frame["sa"].where(frame["sa"].notna(), frame["raw"])
        cur, prev = best[pd.Period(attrs["data-period"], "M")], best[pd.Period(attrs["data-prev"], "M")]
        assert f"为{ph.fmt(cur)}%" in text
        assert ph.change_phrase(cur, prev) in text
        # a change within its standard error says where the index stands, not how it moved (issue 13)
        quiet = "基本持平" in text
        assert quiet == ("data-se-change" in attrs and not ph.significant(cur, prev, float(attrs["data-se-change"])))
        assert ph.threshold_phrase(cur, None if quiet else prev) in text


def test_pdf_and_docx_carry_the_same_numbers(pub_store):
    docx = pytest.importorskip("docx")
    pypdf = pytest.importorskip("pypdf")
    store, settings, folder = pub_store
    result = publish(store, settings, "pmi", "2020-09", lang="zh", now=AFTER, out_dir=folder / "fmt")
    files = {p.suffix: p for p in result.files}
    parsed = _parse(files[".html"])
    numbers = [t for a, t in parsed.cells if a["data-src"] == "series" and t != "—"]
    pdf_text = "".join(page.extract_text() for page in pypdf.PdfReader(files[".pdf"]).pages)
    d = docx.Document(files[".docx"])
    docx_text = "\n".join(p.text for p in d.paragraphs) + "\n".join(
        c.text for t in d.tables for row in t.rows for c in row.cells)
    head = next(t for a, t in parsed.paras if a.get("data-key") == "pmi/headline" and "data-prev" in a)
    value = re.search(r"为(\d+\.\d)%", head).group(1)
    for text in (pdf_text, docx_text):
        assert value in text
        assert "制造业采购经理指数" in text
        missing = [n for n in numbers if n not in text]
        assert not missing, missing[:10]
    # PDF and DOCX are deterministic too: dates (PDF metadata, DOCX core properties and zip entries) come from
    # the release time, not the clock; a re-render gives the same bytes
    again = rerender(store, settings, result.publication_id, out_dir=folder / "fmt2", formats=("pdf", "docx"))
    for path in again.files:
        assert path.read_bytes() == files[path.suffix].read_bytes(), path.suffix
    with zipfile.ZipFile(files[".docx"]) as z:
        assert {i.date_time[:3] for i in z.infolist()} == {(2020, 10, 15)}


def test_operations_dispatch_annual_render_and_show_missing_inputs(pub_store):
    store, settings, folder = pub_store
    out = folder / "others"
    ops = publish(store, settings, "operations", "2020-09", formats="html", now=AFTER, out_dir=out)
    text = ops.files[0].read_text(encoding="utf-8")
    assert "即时预测：暂无数据" in text  # the nowcast table is empty
    for attrs, value in _parse(ops.files[0]).cells:
        if attrs["data-src"] == "series" and value != "—":
            assert value == ph.fmt(_stored(store, attrs), int(attrs.get("data-digits", "1"))), attrs
    # the forecasting work fills nowcast and target_odds: the sections then show them
    now = dt.datetime(2020, 10, 1)
    with store.begin() as conn:
        conn.execute(m.Nowcast.__table__.insert().values(
            series_key="iva/yoy", region="440100", origin="2020-09", period="2020-10", model="dfm", mean=3.46,
            lower_80=1.2, upper_80=5.7, previous=3.0, converged=True, news=json.dumps(
                [{"series": "pmi/headline", "period": "2020-09", "actual": 51.0, "expected": 50.2, "weight": 0.3,
                  "impact": 0.24}]), created_at=now))
        # a nowcast of a month whose official figure is already published is not printed (issue 13)
        conn.execute(m.Nowcast.__table__.insert().values(
            series_key="iva/yoy", region="440100", origin="2020-09", period="2020-09", model="dfm", mean=9.99,
            lower_80=8.0, upper_80=12.0, previous=None, converged=True, news=None, created_at=now))
        conn.execute(m.TargetOdds.__table__.insert().values(
            year=2020, indicator="iva/ytd_yoy", region="440100", origin="2020-09", comparison=">=", target=6.5,
            ytd=2.0, required=9.0, expected=4.0, lower_80=3.0, upper_80=5.0, probability=0.123, method="sim",
            simulations=1000, created_at=now))
    ops = publish(store, settings, "operations", "2020-09", formats="html", now=AFTER, out_dir=out)
    text = ops.files[0].read_text(encoding="utf-8")
    assert "即时预测为3.5%" in text and "80%区间1.2%至5.7%" in text and "比上期预测上升0.5个百分点" in text
    assert "2020-09规上工业增加值增速即时预测" not in text and "即时预测为10.0%" not in text
    assert "本月规上工业增加值已公布" in text
    assert "即时预测修正的来源" in text and "即时预测的构成" not in text
    # a bridge nowcast stores each input's contribution (no actual/expected): its own table, no empty column
    with store.begin() as conn:
        conn.execute(m.Nowcast.__table__.update().where(m.Nowcast.period == "2020-10").values(
            model="bridge:base+pmi", news=json.dumps(
                [{"series": "pmi/headline", "period": "2020-10", "actual": None, "expected": None, "weight": None,
                  "impact": 0.31}, {"series": "iva/yoy", "period": "2019-10", "actual": None, "expected": None,
                                    "weight": None, "impact": -0.12}])))
    ops = publish(store, settings, "operations", "2020-09", formats="html", now=AFTER, out_dir=out)
    text = ops.files[0].read_text(encoding="utf-8")
    assert "即时预测的构成" in text and "即时预测修正的来源" not in text
    news = [t for a, t in _parse(ops.files[0]).cells if a["data-src"] == "nowcast-news"]
    assert news == ["0.31", "-0.12"]
    disp = publish(store, settings, "dispatch", "2020Q3", formats="html", now=AFTER, out_dir=out)
    cells = _parse(disp.files[0]).cells
    odds = [t for a, t in cells if a["data-src"] == "target_odds" and a["data-key"] == "iva/ytd_yoy@440100"]
    assert odds == ["12"]
    text = disp.files[0].read_text(encoding="utf-8")
    if "停产、半停产企业调度清单" in text:  # the demo registers a contact (name and mobile) per enterprise
        assert re.search(r"<td[^>]*>[\u4e00-\u9fff]{2,3} 1[3-9]\d{9}</td>", text)
    annual = publish(store, settings, "annual", "2019", lang="en", formats="html", now=AFTER, out_dir=out)
    assert "The PMI averaged" in annual.files[0].read_text(encoding="utf-8")
    en = publish(store, settings, "pmi", "2020-09", lang="en", formats="html", now=AFTER, out_dir=out)
    text = en.files[0].read_text(encoding="utf-8")
    listed = re.search(r"Of the five components of the PMI, ([^<]*)", text).group(1)
    assert re.search(r" (was|were) (above|at|below) 50", listed) and not re.search(r", [A-Z]", listed), listed
    assert not re.search(r"[\u4e00-\u9fff]", re.sub(r"<td>[^<]*</td>", "", text.split("<body>", 1)[1])), \
        "Chinese outside table cells in an English release"
    with pytest.raises(PeriodError, match="YYYYQn"):
        publish(store, settings, "dispatch", "2020-09", now=AFTER, out_dir=out)
    with pytest.raises(PublishError, match="no PMI"):
        publish(store, settings, "pmi", "2015-01", formats="html", now=AFTER, out_dir=out)


def test_no_cjk_font_says_so_without_boxes(pub_store):
    store, settings, folder = pub_store
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r".*[Gg]lyph .* missing from", category=UserWarning)
        result = publish(store, settings, "operations", "2020-09", formats="html", now=AFTER,
                         out_dir=folder / "nofont", allow_cjk=False)
    assert "本机未安装中文字体" in result.files[0].read_text(encoding="utf-8")


def test_fonttools_fallback_cuts_the_cjk_face_once(tmp_path):
    from monitor.publish import render_pdf as rp

    if not rp.cjk_font_files():
        pytest.skip("Noto Sans CJK SC is not installed")
    css = rp._font_css("<p>制造业PMI为50.6%</p>", tmp_path)
    assert css.count("@font-face") == len(rp.cjk_font_files())
    cached = sorted(tmp_path.glob("cjk-*.otf"))
    assert len(cached) == len(rp.cjk_font_files())
    stamp = [f.stat().st_mtime_ns for f in cached]
    assert rp._font_css("<p>制造业PMI为50.6%</p>", tmp_path) == css  # from the cache, same bytes
    assert [f.stat().st_mtime_ns for f in cached] == stamp


def test_the_operation_report_reads_the_lamp_definitions_without_loading_the_indicator_engine():
    """The lamp panel uses DEFAULT_LAMPS itself; importing it must stay cheap (no calendar, no statsmodels)."""
    code = ("import sys, monitor.publish.operations as o; "
            "assert o.LAMPS and o.COLOURS; "
            "heavy = [m for m in ('forecasting.calendar', 'statsmodels', 'monitor.indicators.electricity') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out


@pytest.mark.skipif(find_cjk_font() is None, reason="no CJK font installed (apt-get install fonts-noto-cjk)")
def test_cjk_font_is_installed_for_charts():
    assert find_cjk_font() is not None


def test_past_publication_is_unchanged_after_new_data(pub_store):
    store, settings, folder = pub_store
    first = publish(store, settings, "pmi", "2020-08", formats="html", now=AFTER, out_dir=folder / "vint")
    before = first.files[0].read_bytes()
    again = publish(store, settings, "pmi", "2020-08", formats="html", now=AFTER, out_dir=folder / "vint2")
    assert again.files[0].read_bytes() == before  # deterministic
    # a revised headline for 2020-08 arrives as a new vintage
    with store.begin() as conn:
        write_series(conn, pd.DataFrame({"series_key": ["pmi/headline"], "period": ["2020-08"], "raw": [12.3],
                                         "sa": [12.3]}), vintage=dt.date(2020, 11, 30), columns=("raw", "sa"))
    redo = rerender(store, settings, first.publication_id, out_dir=folder / "vint3")
    assert redo.matches and redo.files[0].read_bytes() == before
    fresh = publish(store, settings, "pmi", "2020-08", formats="html", now=AFTER, out_dir=folder / "vint4")
    assert "为12.3%" in fresh.files[0].read_text(encoding="utf-8")


def test_release_discipline_and_editions(pub_store):
    store, settings, folder = pub_store
    out = folder / "rel"
    early = dt.datetime(2020, 10, 15, 9, 29, tzinfo=TZ)
    with pytest.raises(ReleaseTimeError, match="2020-10-15 09:30"):
        publish(store, settings, "pmi", "2020-09", lang="en", formats="html", final=True, now=early, out_dir=out)
    draft = publish(store, settings, "pmi", "2020-09", lang="en", formats="html", now=early, out_dir=out)
    assert not draft.final and "DRAFT" in draft.files[0].read_text(encoding="utf-8")
    first = publish(store, settings, "pmi", "2020-09", lang="en", formats="html", final=True,
                    now=dt.datetime(2020, 10, 15, 9, 30, tzinfo=TZ), out_dir=out)
    assert first.final and first.version == 1
    with pytest.raises(PublicationFinalError, match="--correct"):
        publish(store, settings, "pmi", "2020-09", lang="en", formats="html", final=True, now=AFTER, out_dir=out)
    with pytest.raises(PublicationFinalError, match="no more drafts"):
        publish(store, settings, "pmi", "2020-09", lang="en", formats="html", now=AFTER, out_dir=out)
    second = publish(store, settings, "pmi", "2020-09", lang="en", formats="html", correct="表3 海珠区数据更正", now=AFTER,
                     out_dir=out)
    assert second.version == 2
    text = second.files[0].read_text(encoding="utf-8")
    assert "Correction (edition 2): 表3 海珠区数据更正" in text and "Edition 2 (corrected)" in text
    assert first.files[0].read_bytes() != second.files[0].read_bytes() and first.files[0].exists()
    rows = store.read_records("SELECT version, final, note FROM publication WHERE kind = 'pmi' AND period = '2020-09' "
                              "AND lang = 'en' AND version > 0 ORDER BY version")
    assert rows["version"].tolist() == [1, 2] and rows["note"].tolist()[1] == "表3 海珠区数据更正"
    with pytest.raises(PublishError, match="no final edition to correct"):
        publish(store, settings, "pmi", "2020-06", formats="html", correct="x", now=AFTER, out_dir=out)


def test_cli_publish_bad_input_is_one_line(tmp_path, capsys, monkeypatch):
    from monitor.cli import main

    monkeypatch.chdir(tmp_path)  # whatever store the working directory holds, a bad period is refused first

    with pytest.raises(SystemExit) as exc:
        main(["publish", "annual", "20x5"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("imon: error: the annual summary needs a year") and "Traceback" not in err
    assert io  # keep the import used


# ------------------------------------------------------------------------------------------ publish check (#13)
def _plant(path, old_pattern: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    changed, n = re.subn(old_pattern, new, text, count=count)
    assert n == count, old_pattern
    path.write_text(changed, encoding="utf-8")


def test_publish_check_passes_and_catches_each_planted_error(pub_store):
    from click.testing import CliRunner

    from monitor.cli import cli
    from monitor.publish.check import check_publication

    store, settings, folder = pub_store
    out = folder / "audit"
    pmi = publish(store, settings, "pmi", "2020-09", formats="html", now=AFTER, out_dir=out)
    report = check_publication(store, settings, "pmi", "2020-09")
    assert report.ok, [f.line() for f in report.findings]
    assert report.counted["number"] > 13 * 14 and report.counted["low-n"] > 0 and report.counted["wording"] > 5
    ops = publish(store, settings, "operations", "2020-09", formats="html", now=AFTER, out_dir=out)
    ops_report = check_publication(store, settings, "operations", "2020-09")
    assert ops_report.counted.get("sum") == 1  # the districts' contributions against the city's growth
    assert not [f for f in ops_report.findings if f.check in ("number", "sum", "bounds", "wording")]
    html = pmi.files[0]
    clean = html.read_text(encoding="utf-8")
    # 1. a wrong number in Table 1
    _plant(html, r'(<td class="num" data-col="best" data-digits="1" data-key="pmi/production" data-period="2020-09"'
                 r'[^>]*>)(\d+\.\d)', r"\g<1>12.3")
    assert [f.check for f in check_publication(store, settings, "pmi", "2020-09").findings] == ["number"]
    # 2. a sign/wording mismatch in the headline sentence
    html.write_text(clean, encoding="utf-8")
    _plant(html, r"比上月(上升|下降)", "比上月下降" if "比上月上升" in clean.split("制造业采购经理指数（PMI）")[1][:40]
           else "比上月上升")
    found = check_publication(store, settings, "pmi", "2020-09").findings
    assert found and {f.check for f in found} == {"wording"}
    # 3. an empty section
    html.write_text(clean, encoding="utf-8")
    _plant(html, r'(<h2>三、重点行业</h2>\n<p class="[a-z]*"[^>]*>)[^<]*', r"\g<1>暂无数据")
    assert {f.check for f in check_publication(store, settings, "pmi", "2020-09").findings} >= {"empty"}
    # 4. a sum that does not add up: one district's contribution
    ops_html = ops.files[0]
    _plant(ops_html, r'(data-sum-part="contribution"[^>]*>)(-?\d+\.\d\d)', r"\g<1>9.99")
    sums = [f for f in check_publication(store, settings, "operations", "2020-09").findings if f.check == "sum"]
    assert len(sums) == 1 and "add up" in sums[0].message
    # --final refuses, one line per failed check, exit 1; without it the audit reports and exits 0
    html.write_text(clean, encoding="utf-8")
    _plant(html, r'(<td class="num" data-col="best" data-digits="1" data-key="pmi/production" data-period="2020-09"'
                 r'[^>]*>)(\d+\.\d)', r"\g<1>12.3")
    config = folder / "audit.toml"
    config.write_text(f'data_dir = "{folder}"\n[store]\nurl = "sqlite:///{folder / "store.sqlite"}"\n',
                      encoding="utf-8")
    res = CliRunner().invoke(cli, ["--config", str(config), "publish", "check", "pmi", "2020-09", "--final"])
    assert res.exit_code == 1
    refused = [line for line in res.output.splitlines() if line.startswith("refused: ")]
    assert len(refused) == 1 and "number: " in refused[0] and "12.3" in refused[0]
    res = CliRunner().invoke(cli, ["--config", str(config), "publish", "check", "pmi", "2020-09"])
    assert res.exit_code == 0 and "audit 1 failed" in res.output


def test_annual_summary_is_a_full_document_and_comparisons_are_marked_synthetic(pub_store):
    """Issue 13: the annual summary had two pages (city targets, PMI, "暂无数据"); the operation report's province
    and country columns were empty."""
    store, settings, folder = pub_store
    out = folder / "full"
    annual = publish(store, settings, "annual", "2019", formats="html", now=AFTER, out_dir=out)
    text = annual.files[0].read_text(encoding="utf-8")
    districts = store.read_records("SELECT DISTINCT region FROM target WHERE year = 2019 AND region <> '440100'")
    assert len(districts) > 0
    for heading in ("表1 2019年全市和各区目标完成情况", "三、工业用电", "图2 样本企业工业用电量同比增速",
                    "四、停产、半停产企业", "表3 停产、半停产样本企业", "五、全年预警"):
        assert heading in text, heading
    rows = [a for a, _ in _parse(annual.files[0]).cells if a.get("data-src") == "official"]
    assert {a["data-key"].split("@")[1] for a in rows} >= set(districts["region"])  # every district's targets
    ops = publish(store, settings, "operations", "2020-09", formats="html", now=AFTER, out_dir=out)
    text = ops.files[0].read_text(encoding="utf-8")
    assert "<th>全省</th>" in text and "<th>全国</th>" in text and "合成数据" in text
    cells = [(a, t) for a, t in _parse(ops.files[0]).cells if a.get("data-key", "").endswith("@440000")]
    assert cells and all(t != "—" for _, t in cells)


def test_a_change_within_its_standard_error_is_worded_as_not_significant():
    """Issue 13: the release printed a city change of -2.4 with no word that its standard error made it
    insignificant; and a change within its error must not read as a crossing of 50 either."""
    assert ph.index_sentence_tail(50.4, 52.8, "zh", se_change=3.0) == \
        "为50.4%，比上月下降2.4个百分点，变化在抽样误差范围内，与上月基本持平，高于临界点"
    assert "基本持平" not in ph.index_sentence_tail(50.4, 52.8, "zh", se_change=2.2)
    tail = ph.index_sentence_tail(50.3, 49.4, "zh", se_change=1.5)
    assert "升至临界点以上" not in tail and tail.endswith("基本持平，高于临界点")
    en = ph.component_sentence("production", "production", 50.3, 49.4, "en", se_change=1.5)
    assert "not significant" in en and "after the previous month" not in en
    assert ph.component_sentence("production", "生产指数", 51.0, 50.2, se_change=1.0).endswith("表明制造业生产扩张。")


def test_the_plans_fibre_to_home_target_is_present_and_tracked(medium_demo, pub_store):
    """Issue 13: the demo plan lacked the fibre-to-home rate of 85 %; it is a target like the others, with the
    city's yearly figure, and the annual summary scores it."""
    targets = medium_demo.targets
    fibre = targets[targets["indicator"] == "fibre_to_home/rate"]
    assert set(fibre["year"]) == set(targets["year"]) and (fibre["value"] == 85.0).all()
    assert set(fibre["comparison"]) == {">="} and set(fibre["region"]) == {"440100"}
    official = medium_demo.official
    rate = official[official["series"] == "fibre_to_home/rate"]
    assert len(rate) and rate["value"].between(50, 100).all() and set(rate["region"]) == {"440100"}
    store, settings, folder = pub_store
    annual = publish(store, settings, "annual", "2019", formats="html", now=AFTER, out_dir=folder / "fibre")
    text = annual.files[0].read_text(encoding="utf-8")
    assert "光纤入户率" in text
    cells = [t for a, t in _parse(annual.files[0]).cells if a.get("data-key") == "fibre_to_home/rate@440100"]
    assert cells and all(t != "—" for t in cells)


def test_dispatch_ranking_flags_district_pmis_from_few_respondents(pub_store):
    """Issue 13: the quarterly dispatch ranking printed district PMIs from a handful of firms unflagged; they carry
    the release's low-n flag (``compute.min_respondents``), and ``publish check`` agrees."""
    from monitor.publish.check import audit_html

    store, settings, folder = pub_store
    minimum = int(settings["compute.min_respondents"])
    disp = publish(store, settings, "dispatch", "2020Q3", formats="html", now=AFTER, out_dir=folder / "lown")
    html = disp.files[0].read_text(encoding="utf-8")
    cells = [(a, t) for a, t in _parse(disp.files[0]).cells
             if a.get("data-key", "").startswith("pmi/headline/district/") and t != "—"]
    assert cells and all("data-n" in a for a, _ in cells)
    for a, t in cells:
        assert t.endswith("*") == (int(a["data-n"]) < minimum), (a, t)
    assert any(t.endswith("*") for _, t in cells)  # 80 firms in 11 districts: small cells exist
    assert f"样本数少于{minimum}家" in html
    findings, _ = audit_html(html, store, min_respondents=minimum)
    assert not [f for f in findings if f.check == "low-n"], findings


def test_a_cjk_font_installed_after_matplotlib_cached_its_font_list_is_found(tmp_path, monkeypatch):
    # `make demo` installs fonts-noto-cjk when missing; matplotlib may have cached its font list before (a first
    # run, the note "install a Chinese font" followed): the publications must see the font, not the stale cache
    import copy

    import matplotlib
    from matplotlib import font_manager

    from monitor import fonts
    from monitor.publish import render_pdf as rp
    from monitor.publish.charts import find_cjk_font

    if not any("cjk" in f.lower() for f in font_manager.findSystemFonts()):
        pytest.skip("no CJK font file installed (apt-get install fonts-noto-cjk)")
    stale = copy.copy(font_manager.fontManager)
    stale.ttflist = [f for f in font_manager.fontManager.ttflist if "CJK" not in f.name and "Han Sans" not in f.name]
    monkeypatch.setattr(font_manager, "fontManager", stale)
    monkeypatch.setattr(matplotlib, "get_cachedir", lambda: str(tmp_path))
    caches = [fonts._refreshed, find_cjk_font] + [f for f in (rp.cjk_font_files,) if hasattr(f, "cache_clear")]
    for cached in caches:
        cached.cache_clear()
    try:
        assert find_cjk_font() is not None
        assert rp.cjk_font_files()
        assert list(tmp_path.glob("fontlist-*.json")), "the refreshed list is cached for the next process"
    finally:
        for cached in caches:
            cached.cache_clear()
