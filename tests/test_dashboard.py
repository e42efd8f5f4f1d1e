"""The officials' dashboard through HTTP (Starlette's test client on a real store, SQLite and PostgreSQL): what
each role sees, district scoping of pages, downloads, JSON, charts and the explorer, warnings (silence,
acknowledge, audit), publication actions by role, formula-safe downloads."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from monitor.alerts.lifecycle import active_silences
from monitor.store import models as m
from monitor.web import create_app
from tests.dash_helpers import LAST, PW, accounts, seed
from tests.web_helpers import A, csrf_of, login, settings_for

EVIL = "=HYPERLINK(\"http://x\",\"<b>甲</b>\")"


@pytest.fixture
def dash(store, tmp_path):
    seed(store, name_a=EVIL)
    names = accounts(store)
    app = create_app(settings_for(tmp_path), store)

    def client(role: str) -> TestClient:
        c = TestClient(app, follow_redirects=False)
        r = login(c, names[role], PW)
        assert r.status_code == 303, r.text[:300]
        return c

    client.app = app
    return client, store


def _audit(store, action):
    with store.engine.connect() as conn:
        return conn.execute(text("SELECT username, target, detail FROM audit_log WHERE action = :a ORDER BY id"),
                            {"a": action}).all()


def test_leader_sees_city_overview_with_every_district(dash):
    client, _ = dash
    c = client("leader")
    assert c.get("/").headers["location"] == "/dash"
    page = c.get("/dash?lang=zh")
    assert page.status_code == 200
    html = page.text
    assert "全市概览" in html and "制造业PMI" in html and "95%置信区间" in html
    assert 'id="indices"' in html and html.count("<tr>") > 13
    assert "/dash/d/440104" in html and "/dash/d/440103" in html  # every district reachable
    assert "/dash/chart/city/headline.svg" in html and "/dash/chart/city/headline.csv" in html
    data = c.get("/dash/data/city.json").json()
    assert data["period"] == LAST and {t["region"] for t in data["targets"]} == {"440100", "440103", "440104"}
    assert data["headline"]["value"] is not None and data["headline"]["lower_95"] < data["headline"]["value"]
    assert [f["key"] for f in data["forecasts"]] == ["pmi/headline"]
    assert len(data["alerts"]) == 3
    en = c.get("/dash?lang=en").text
    assert "City overview" in en and "The 13 indices" in en
    svg = c.get("/dash/chart/city/headline.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content[:400]
    assert c.get("/dash/d/440104").status_code == 200


def test_district_official_sees_own_district_and_city_totals_only(dash):
    client, store = dash
    c = client("district")
    assert c.get("/").headers["location"] == "/dash"
    assert c.get("/dash").headers["location"] == "/dash/d/440103"
    own = c.get("/dash/d/440103")
    assert own.status_code == 200 and "荔湾区" in own.text and 'id="city-totals"' in own.text
    assert "越秀区" not in own.text and "440104" not in own.text  # nothing of the neighbouring district
    data = c.get("/dash/data/440103.json").json()
    assert {t["region"] for t in data["targets"]} == {"440100", "440103"}
    assert [a["region"] for a in data["alerts"]] == ["440103"]
    assert [e["uscc"] for e in data["dispatch"]] == [A]
    assert data["city"]["headline"]["value"] is not None  # the city totals, on the district's own page
    assert c.get("/dash/chart/city/headline.svg").status_code == 200
    for url in ("/dash/d/440104", "/dash/data/440104.json", "/dash/data/440104.csv",
                "/dash/chart/440104/headline.svg", "/dash/chart/440104/headline.csv",
                "/dash/series?key=pmi/headline/district/440104",
                "/dash/series/download.csv?key=pmi/headline/district/440104",
                "/dash/series/download.xlsx?key=pmi/headline/district/440104",
                "/dash/series/chart.svg?key=pmi/headline/district/440104", "/dash/d/999999",
                "/dash/chart/city/districts.svg", "/dash/data/city.json", "/dash/data/city.csv"):
            r = c.get(url)
            assert r.status_code in (403, 404), url
            assert "越秀区" not in r.text and "53.0" not in r.text, url
    assert len(_audit(store, "forbidden")) >= 13
    hits = c.get("/dash/series?q=pmi headline").text
    assert "pmi/headline/district/440103" in hits and "pmi/headline/district/440104" not in hits
    assert c.get("/dash/pubs").status_code == 403


def test_enterprise_cannot_open_the_dashboard(dash):
    client, store = dash
    c = client("enterprise")
    for url in ("/dash", "/dash/d/440103", "/dash/data/city.json", "/dash/series", "/dash/warnings", "/dash/pubs",
                "/dash/chart/city/headline.svg"):
        assert c.get(url).status_code == 403, url


def test_anonymous_is_sent_to_sign_in(dash):
    client, _ = dash
    c = TestClient(client.app, follow_redirects=False)
    r = c.get("/dash/data/city.json")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_leader_cannot_finalise_silence_or_acknowledge(dash):
    client, store = dash
    c = client("leader")
    csrf = csrf_of(c.get("/dash/warnings").text)
    assert c.post("/dash/pubs/1/finalise", data={"csrf": csrf}).status_code == 403
    assert c.post("/dash/pubs/1/correct", data={"csrf": csrf, "note": "x"}).status_code == 403
    assert c.post("/dash/warnings/1/ack", data={"csrf": csrf}).status_code == 403
    assert c.post("/dash/warnings/silence", data={"csrf": csrf, "reason": "r", "hours": "2",
                                                  "region": "440103"}).status_code == 403
    assert 'id="silence-form"' not in c.get("/dash/warnings").text


def test_warnings_silence_and_acknowledge_scoped_and_audited(dash):
    client, store = dash
    d = client("district")
    page = d.get("/dash/warnings")
    assert page.status_code == 200 and 'id="event-1"' in page.text and 'id="event-2"' not in page.text
    csrf = csrf_of(page.text)
    # a silence for the neighbouring district is refused; the own district's is recorded with reason and expiry
    assert d.post("/dash/warnings/silence", data={"csrf": csrf, "region": "440104", "reason": "x",
                                                  "hours": "5"}).status_code == 403
    assert d.post("/dash/warnings/silence", data={"csrf": csrf, "reason": "", "hours": "5"}).status_code == 400
    assert d.post("/dash/warnings/silence", data={"csrf": csrf, "reason": "停产检修", "hours": "9999"}).status_code == 400
    r = d.post("/dash/warnings/silence", data={"csrf": csrf, "rule": "electricity_drop", "reason": "停产检修 <b>",
                                               "hours": "48"})
    assert r.status_code == 303
    with store.engine.connect() as conn:
        (sil,) = active_silences(conn)
    assert sil.region == "440103" and sil.reason == "停产检修 <b>" and sil.created_by == "liwan1"
    assert "停产检修 &lt;b&gt;" in d.get("/dash/warnings").text
    # acknowledging: own district yes, the neighbour's no (404, as if it did not exist), without CSRF no
    assert d.post("/dash/warnings/2/ack", data={"csrf": csrf}).status_code == 404
    assert d.post("/dash/warnings/1/ack", data={}).status_code == 403
    assert d.post("/dash/warnings/1/ack", data={"csrf": csrf}).status_code == 303
    assert "liwan1" in d.get("/dash/warnings").text
    assert [(u, t) for u, t, _ in _audit(store, "alert_ack")] == [("liwan1", "alert:1")]
    assert [u for u, *_ in _audit(store, "alert_silence")] == ["liwan1"]
    s = client("staff")
    scsrf = csrf_of(s.get("/dash/warnings").text)
    assert s.post("/dash/warnings/2/ack", data={"csrf": scsrf}).status_code == 303
    assert s.post(f"/dash/warnings/silence/{sil.id}/end", data={"csrf": scsrf}).status_code == 303
    with store.engine.connect() as conn:
        assert active_silences(conn) == []
    assert [u for u, *_ in _audit(store, "alert_silence_end")] == ["staff1"]


def test_downloads_are_formula_safe(dash):
    client, _ = dash
    c = client("staff")
    body = c.get("/dash/data/city.csv").content.decode("utf-8-sig")
    assert "'=HYPERLINK" in body and "\n=HYPERLINK" not in body and ",=HYPERLINK" not in body
    page = c.get("/dash").text
    assert "&lt;b&gt;甲&lt;/b&gt;" in page and "<b>甲</b>" not in page
    xlsx = c.get("/dash/series/download.xlsx?key=pmi/headline")
    assert xlsx.status_code == 200
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("series", "key", "period", "raw") and len(rows) == 31
    assert all(not (isinstance(v, str) and v.startswith("=")) for r in rows for v in r)
    csv = c.get("/dash/series/download.csv?key=pmi/headline").content.decode("utf-8-sig").splitlines()
    assert csv[0].startswith("series,key,period,raw,sa,value,se") and len(csv) == 31


def test_explorer_search_vintages_and_as_of(dash):
    client, store = dash
    c = client("leader")
    hits = c.get("/dash/series?q=新订单 荔湾").text
    assert "pmi/new_orders/district/440103" in hits and "pmi/new_orders/district/440104" not in hits
    assert "pmi/new_orders/district/440103" in c.get("/dash/series?q=new orders liwan").text
    import datetime as dt

    later = dt.datetime(2026, 2, 1, 9, 0)
    store.upsert(m.SeriesValue, [dict(series_key="pmi/headline", period=LAST, vintage=later, raw=40.0, sa=41.0,
                                      se=1.0, n=100, computed_at=later)])
    page = c.get("/dash/series?key=pmi/headline")
    assert "41.00" in page.text and "2026-02-01 09:00:00" in page.text and "2026-01-05 08:00:00" in page.text
    # vintages are stored as UTC (the option values, as_of and downloads keep them) and shown in bureau time
    assert ">2026-02-01 17:00:00 北京时间</option>" in page.text and "<td class=\"muted\">2026-02-01 17:00:00 北京时间" in page.text
    old = c.get("/dash/series?key=pmi/headline&as_of=2026-01-05").text
    assert "41.00" not in old
    old_csv = c.get("/dash/series/download.csv?key=pmi/headline&as_of=2026-01-05").text
    assert ",41.0," not in old_csv and LAST in old_csv
    assert c.get("/dash/series?key=no/such/key").status_code == 404


def test_publication_actions(dash, tmp_path):
    client, store = dash
    html = tmp_path / "pmi_draft.html"
    html.write_text("<html><body><p>草稿</p><script>alert(1)</script></body></html>", encoding="utf-8")
    import datetime as dt

    with store.begin() as conn:
        conn.execute(m.Publication.__table__.insert().values(
            id=7, kind="pmi", period=LAST, lang="zh", version=0, final=False, files=json.dumps([str(html)]),
            checksum="0" * 64, published_at=dt.datetime(2026, 1, 5), release_at=dt.datetime(2099, 1, 1)))
    lead = client("leader")
    listing = lead.get("/dash/pubs")
    assert listing.status_code == 200 and "/dash/pubs/7/preview" in listing.text and "finalise-7" not in listing.text
    prev = lead.get("/dash/pubs/7/preview")
    assert prev.status_code == 200 and "sandbox" in prev.headers["content-security-policy"]
    assert lead.get("/dash/pubs/7/file.pdf").status_code == 404
    s = client("staff")
    csrf = csrf_of(s.get("/dash/pubs").text)
    assert s.post("/dash/pubs/7/finalise", data={}).status_code == 403  # no CSRF token
    r = s.post("/dash/pubs/7/finalise", data={"csrf": csrf})
    assert r.status_code == 409  # refused: before the release time or a failed check, never made final
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM publication WHERE final = :t"), {"t": True}).scalar() == 0
    assert _audit(store, "publication_finalise_refused")
    assert s.post("/dash/pubs/7/correct", data={"csrf": csrf, "note": ""}).status_code == 400
    assert s.post("/dash/pubs/99/finalise", data={"csrf": csrf}).status_code == 404
