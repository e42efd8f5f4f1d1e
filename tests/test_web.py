"""The web portal through HTTP (Starlette's test client on a real store): activation, sign-in, the
questionnaire with the workbook path's rules, drafts, corrections, receipts, roles, CSRF, lock-out, isolation
between enterprises, bad input and staff operations."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import threading

import pytest
from sqlalchemy import text, update
from starlette.testclient import TestClient

from monitor.store import models as m
from monitor.web import create_app
from monitor.web.accounts import add_user, invite
from monitor.web.questionnaire import FormData, submit
from tests.web_helpers import (
    PASSWORD,
    PERIOD,
    STAFF_PW,
    A,
    B,
    C,
    csrf_of,
    good_form,
    login,
    register,
    seq_of,
    settings_for,
)


@pytest.fixture
def portal(store, tmp_path):
    """(client factory, store, settings, ids, activation codes by credit code)."""
    ids = register(store, name_a="<script>alert(1)</script>=HYPERLINK(\"http://x\")")
    settings = settings_for(tmp_path)
    codes = {i.uscc: i.code for i in invite(store, settings, PERIOD)}
    app = create_app(settings, store)

    def client() -> TestClient:
        return TestClient(app, follow_redirects=False)

    return client, store, settings, ids, codes


def _activate(client, code: str, password: str = PASSWORD, email: str = ""):
    page = client.get("/activate")
    return client.post("/activate", data={"csrf": csrf_of(page.text), "code": code, "password": password,
                                          "email": email})


def _enterprise(portal, uscc=A, email=""):
    client_factory, *_ , codes = portal
    c = client_factory()
    r = _activate(c, codes[uscc], email=email)
    assert r.status_code == 303, r.text[:300]
    return c


def _rows(store, sql, **params):
    with store.engine.connect() as conn:
        return conn.execute(text(sql), params).all()


def test_activate_submit_confirm_correct_keeps_history_and_provenance(portal):
    client_factory, store, settings, ids, codes = portal
    c = _enterprise(portal)
    page = c.get(f"/q/{PERIOD}")
    assert page.status_code == 200 and "13." in page.text
    csrf = csrf_of(page.text)
    # a hard error: nothing written, the message next to the field
    r = c.post(f"/q/{PERIOD}", data=good_form(csrf, A, f_output_value="12x"))
    assert r.status_code == 400
    assert re.search(r'id="field-output_value".*?id="error-output_value"', r.text, re.S)
    assert _rows(store, "SELECT * FROM survey_response") == []
    # soft warnings (output ten times the usual; production higher while electricity fell 90 %): confirm
    bad = dict(f_output_value="2000", q_production="1", f_electricity_kwh="1000")
    r = c.post(f"/q/{PERIOD}", data=good_form(csrf, A, **bad))
    assert r.status_code == 200 and 'id="warnings"' in r.text
    keys = re.findall(r'name="reason__([^"]+)"', r.text)
    assert sorted(keys) == ["production_vs_electricity__production", "unusual_value__output_value"]
    assert _rows(store, "SELECT * FROM survey_response") == []
    reasons = {f"reason__{k}": "新生产线投产 <b>" for k in keys}
    r = c.post(f"/q/{PERIOD}", data=good_form(csrf, A, **bad, **reasons))
    assert r.status_code == 303 and r.headers["location"].startswith("/receipt/")
    receipt = c.get(r.headers["location"])
    assert receipt.status_code == 200 and "新生产线投产 &lt;b&gt;" in receipt.text
    eid = ids[A]
    stored = dict(_rows(store, "SELECT question, answer FROM survey_response WHERE enterprise_id = :e", e=eid))
    assert stored["production"] == 1 and len(stored) == 13
    src = _rows(store, "SELECT s.kind, s.path, s.note FROM survey_response r JOIN ingest_source s ON s.id = "
                "r.source_id WHERE r.enterprise_id = :e", e=eid)
    assert {row[0] for row in src} == {"portal"} and all(A in row[1] and A in row[2] for row in src)
    ops = _rows(store, "SELECT output_value, source_id FROM enterprise_month WHERE enterprise_id = :e AND "
                "period = :p", e=eid, p=PERIOD)
    assert ops[0][0] == 2000.0 and ops[0][1] is not None
    flagged = _rows(store, "SELECT rule, message FROM ingest_reject WHERE severity = 'warning'")
    assert {f[0] for f in flagged} == {"unusual_value", "production_vs_electricity"}
    assert all("新生产线投产" in f[1] for f in flagged)
    # a correction replaces the answers; the replaced ones go to history exactly as for a corrected workbook
    page = c.get(f"/q/{PERIOD}")
    assert seq_of(page.text) == 1
    r = c.post(f"/q/{PERIOD}", data=good_form(csrf, A, seq=1, q_production="-1"))
    assert r.status_code == 303
    assert dict(_rows(store, "SELECT question, answer FROM survey_response WHERE enterprise_id = :e",
                      e=eid))["production"] == -1
    assert _rows(store, "SELECT DISTINCT revision FROM survey_response WHERE enterprise_id = :e", e=eid) == [(2,)]
    hist = _rows(store, "SELECT question, answer, revision FROM survey_response_history WHERE enterprise_id = :e",
                 e=eid)
    assert len(hist) == 13 and ("production", 1, 1) in hist
    audit = [a for (a,) in _rows(store, "SELECT action FROM audit_log ORDER BY id")]
    assert audit.count("submit") == 1 and audit.count("correct") == 1 and "activate" in audit


def test_receipt_pdf(portal):
    client_factory, store, *_ = portal
    c = _enterprise(portal)
    csrf = csrf_of(c.get(f"/q/{PERIOD}").text)
    r = c.post(f"/q/{PERIOD}", data=good_form(csrf, A))
    pdf = c.get(r.headers["location"].split("?")[0] + ".pdf")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    assert pdf.headers["content-type"] == "application/pdf"


def test_draft_survives_an_expired_session(portal):
    client_factory, store, settings, ids, codes = portal
    c = _enterprise(portal)
    csrf = csrf_of(c.get(f"/q/{PERIOD}").text)
    form = good_form(csrf, A, q_new_orders="1", f_output_value="123", action="draft")
    r = c.post(f"/q/{PERIOD}", data=form)
    assert r.status_code == 200 and 'id="draft-saved"' in r.text
    assert 'value="123"' in c.get(f"/q/{PERIOD}").text
    # the session ends while the form is open; the next post keeps what was typed and asks to sign in
    with store.begin() as conn:
        conn.execute(update(m.WebSession).values(expires_at=dt.datetime(2000, 1, 1)))
    r = c.post(f"/q/{PERIOD}", data=good_form(csrf, A, f_output_value="456"))
    assert r.status_code == 303 and "session_expired" in r.headers["location"]
    assert _rows(store, "SELECT * FROM survey_response") == []
    r = login(c, A, PASSWORD)
    assert r.status_code == 303 and r.headers["location"] == f"/q/{PERIOD}?msg=draft_restored"
    page = c.get(r.headers["location"])
    assert 'value="456"' in page.text and "draft" in page.text.lower() or "草稿" in page.text
    assert _rows(store, "SELECT * FROM survey_response") == []


def test_an_enterprise_cannot_touch_another_ones_questionnaire(portal):
    client_factory, store, settings, ids, codes = portal
    b = _enterprise(portal, B)
    csrf_b = csrf_of(b.get(f"/q/{PERIOD}").text)
    rb = b.post(f"/q/{PERIOD}", data=good_form(csrf_b, B))
    b_receipt = rb.headers["location"].split("?")[0]
    a = _enterprise(portal, A)
    csrf_a = csrf_of(a.get(f"/q/{PERIOD}").text)
    before = _rows(store, "SELECT count(*) FROM audit_log WHERE username = :b", b=B)
    # the hidden field edited to B's code: refused, nothing written for B, logged as A
    r = a.post(f"/q/{PERIOD}", data=good_form(csrf_a, B, q_production="-1"))
    assert r.status_code == 403
    assert dict(_rows(store, "SELECT question, answer FROM survey_response WHERE enterprise_id = :e",
                      e=ids[B]))["production"] == 0
    # B's receipt by id: not found for A (HTML and PDF)
    assert a.get(b_receipt).status_code == 404
    assert a.get(b_receipt + ".pdf").status_code == 404
    assert _rows(store, "SELECT count(*) FROM audit_log WHERE username = :b", b=B) == before
    assert _rows(store, "SELECT action FROM audit_log WHERE username = :a AND action = 'forbidden'", a=A)
    assert a.get("/ops").status_code == 403 and a.get("/admin/users").status_code == 403


def test_every_post_needs_a_valid_csrf_token(portal):
    client_factory, store, settings, ids, codes = portal
    anon = client_factory()
    anon.get("/login")
    assert anon.post("/login", data={"username": A, "password": PASSWORD}).status_code == 403
    assert anon.post("/activate", data={"code": codes[A], "password": PASSWORD, "csrf": "forged"}).status_code == 403
    c = _enterprise(portal)
    c.get(f"/q/{PERIOD}")
    for path, data in [(f"/q/{PERIOD}", good_form("forged", A)), (f"/q/{PERIOD}", {k: v for k, v in
                       good_form("x", A).items() if k != "csrf"}), ("/logout", {}), ("/password", {"old": "x"})]:
        assert c.post(path, data=data).status_code == 403, path
    assert _rows(store, "SELECT * FROM survey_response") == []
    add_user(store, username="staff1", role="staff", password=STAFF_PW)
    s = client_factory()
    login(s, "staff1", STAFF_PW)
    for path in (f"/ops/{PERIOD}/close", f"/ops/{PERIOD}/remind", f"/ops/{PERIOD}/note", "/admin/users",
                 f"/admin/users/{A}/reset"):
        assert s.post(path, data={"csrf": "nope"}).status_code == 403, path
    assert _rows(store, "SELECT status FROM survey_round") == [("open",)]


def test_lock_out_after_wrong_passwords_and_no_secret_in_logs(portal, caplog):
    client_factory, store, settings, ids, codes = portal
    caplog.set_level(logging.DEBUG)
    _enterprise(portal)
    c = client_factory()
    for _ in range(settings["web.lockout_attempts"] - 1):
        r = login(c, A, "wrong password 123")
        assert r.status_code == 401 and 'id="login-error"' in r.text
    r = login(c, A, "wrong password 123")
    assert r.status_code == 401 and ("锁定" in r.text or "locked" in r.text)
    r = login(c, A, PASSWORD)  # the right password no longer helps until the lock ends
    assert r.status_code == 401 and SESSION not in r.headers.get("set-cookie", "")
    with store.begin() as conn:
        conn.execute(update(m.AppUser).values(locked_until=dt.datetime(2000, 1, 1)))
    r = login(c, A, PASSWORD)
    assert r.status_code == 303
    token = re.search(r"imon_session=([^;]+)", r.headers["set-cookie"]).group(1)
    dump = json.dumps([list(map(str, row)) for row in _rows(store, "SELECT * FROM audit_log")], ensure_ascii=False)
    dump += "".join(str(row) for row in _rows(store, "SELECT * FROM web_session"))
    dump += "".join(str(row) for row in _rows(store, "SELECT * FROM activation_code"))
    dump += caplog.text + (settings.data_dir / "imon.log").read_text() if (settings.data_dir / "imon.log").exists() \
        else caplog.text
    for secret in (PASSWORD, "wrong password 123", token, token.split(".")[0], codes[A], codes[A].replace("-", "")):
        assert secret not in dump
    failures = _rows(store, "SELECT detail FROM audit_log WHERE action = 'login_failed'")
    assert len(failures) == settings["web.lockout_attempts"]


SESSION = "imon_session="


def test_untrusted_text_is_inert(portal, tmp_path):
    client_factory, store, settings, ids, codes = portal
    c = _enterprise(portal)
    page = c.get(f"/q/{PERIOD}")
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;" in page.text
    assert "script-src" not in page.headers["content-security-policy"]  # no script may run at all
    assert page.headers["x-frame-options"] == "DENY"
    csrf = csrf_of(page.text)
    r = c.post(f"/q/{PERIOD}", data=good_form(csrf, A, f_output_value="<script>x</script>"))
    assert r.status_code == 400 and "<script>x</script>" not in r.text
    r = c.post(f"/q/{PERIOD}", data=good_form(csrf, A, q_production="=HYPERLINK(\"http://evil\",\"x\")"))
    assert r.status_code == 400 and "<a " not in r.text.split("<main>")[-1].split("</main>")[0].replace(
        '<a href="/', "")
    # the invitation CSV for the survey letters: the formula is text, not a formula
    from click.testing import CliRunner

    from monitor.cli import cli

    out = tmp_path / "codes.csv"
    cfg = tmp_path / "imon.toml"
    cfg.write_text(f'data_dir = "{tmp_path}"\n[store]\nurl = "{store.engine.url.render_as_string(False)}"\n')
    res = CliRunner().invoke(cli, ["--config", str(cfg), "portal", "invite", "--period", PERIOD, "--out", str(out)])
    assert res.exit_code == 0, res.output
    import csv

    rows = list(csv.reader(out.read_text("utf-8-sig").splitlines()))
    assert all(cell[:1] not in ("=", "+", "-", "@") for row in rows for cell in row)
    from monitor.web.cli import _cell

    assert _cell('=HYPERLINK("http://x")') == "'=HYPERLINK(\"http://x\")" and _cell("-1+2") == "'-1+2"


def test_bad_input_is_one_clear_message_and_nothing_written(portal):
    client_factory, store, settings, ids, codes = portal
    c = _enterprise(portal)
    csrf = csrf_of(c.get(f"/q/{PERIOD}").text)
    r = c.post(f"/q/{PERIOD}", data=good_form(csrf, A, f_output_value="9" * 500))
    assert r.status_code == 400 and 'id="error-output_value"' in r.text
    r = c.post(f"/q/{PERIOD}", data=good_form(csrf, A, f_sales_value="一百", f_capacity_utilisation="300"))
    assert r.status_code == 400 and 'id="error-sales_value"' in r.text and 'id="error-capacity_utilisation"' in r.text
    r = c.post(f"/q/{PERIOD}", data=good_form(csrf, A, **{"reason__x__y": "z" * 600}))
    assert r.status_code == 400
    big = c.post(f"/q/{PERIOD}", content=b"a=" + b"x" * 70_000,
                 headers={"content-type": "application/x-www-form-urlencoded"})
    assert big.status_code == 413
    assert _rows(store, "SELECT * FROM survey_response") == [] and _rows(store, "SELECT * FROM portal_submission") == []


def test_closed_round_and_window(portal):
    client_factory, store, settings, ids, codes = portal
    c = _enterprise(portal)
    csrf = csrf_of(c.get(f"/q/{PERIOD}").text)
    old = (dt.date.today().replace(day=1) - dt.timedelta(days=45)).strftime("%Y-%m")
    r = c.post(f"/q/{old}", data=good_form(csrf, A))
    assert r.status_code == 403 and 'id="closed"' in r.text
    add_user(store, username="staff1", role="staff", password=STAFF_PW)
    s = client_factory()
    login(s, "staff1", STAFF_PW)
    r = s.post(f"/ops/{PERIOD}/close", data={"csrf": csrf_of(s.get("/ops").text)})
    assert r.status_code == 303
    page = c.get(f"/q/{PERIOD}")
    assert 'id="round-state"' in page.text and 'id="submit"' not in page.text
    r = c.post(f"/q/{PERIOD}", data=good_form(csrf, A))
    assert r.status_code == 403
    assert _rows(store, "SELECT * FROM survey_response") == []


def test_two_windows_submitting_one_wins_the_other_is_told(portal):
    client_factory, store, settings, ids, codes = portal
    c = _enterprise(portal)
    first, second = c.get(f"/q/{PERIOD}").text, c.get(f"/q/{PERIOD}").text
    assert seq_of(first) == seq_of(second) == 0
    assert c.post(f"/q/{PERIOD}", data=good_form(csrf_of(first), A, q_production="1")).status_code == 303
    r = c.post(f"/q/{PERIOD}", data=good_form(csrf_of(second), A, q_production="-1"))
    assert r.status_code == 409 and 'id="conflict"' in r.text
    assert dict(_rows(store, "SELECT question, answer FROM survey_response WHERE enterprise_id = :e",
                      e=ids[A]))["production"] == 1
    # truly at once, from two threads (the library call behind the page)
    from monitor.store import portal as q
    from monitor.web.accounts import user_from_row

    with store.engine.connect() as conn:
        user = user_from_row(q.user_by_name(conn, A))
    results = []
    barrier = threading.Barrier(2)

    def go(answer: str) -> None:
        barrier.wait()
        form = FormData.from_form({"q_production": answer, "f_output_value": "100"})
        results.append(submit(store, settings, user, PERIOD, form, expected_seq=1, ip="t").status)

    threads = [threading.Thread(target=go, args=(a,)) for a in ("0", "-1")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict", "submitted"]
    assert _rows(store, "SELECT count(*) FROM portal_submission") == [(2,)]


def test_routes_by_role(portal):
    client_factory, store, settings, ids, codes = portal
    add_user(store, username="staff1", role="staff", password=STAFF_PW)
    add_user(store, username="admin1", role="admin", password=STAFF_PW)
    add_user(store, username="leader1", role="leader", password=STAFF_PW)
    add_user(store, username="dist103", role="district", password=STAFF_PW, district="440103")
    ent = _enterprise(portal)
    clients = {"enterprise": ent}
    for name in ("staff1", "admin1", "leader1", "dist103"):
        clients[name] = client_factory()
        assert login(clients[name], name, STAFF_PW).status_code == 303
    anon = client_factory()
    expect = {  # path: statuses for anonymous, enterprise, staff, admin, leader, district
        "/": (303, 303, 303, 303, 303, 303),
        "/login": (200,) * 6,
        "/activate": (200,) * 6,
        "/password": (303, 200, 200, 200, 200, 200),
        "/q": (303, 303, 403, 403, 403, 403),
        f"/q/{PERIOD}": (303, 200, 403, 403, 403, 403),
        "/feedback": (303, 200, 403, 403, 403, 403),
        "/receipt/1": (303, 404, 403, 403, 403, 403),
        "/ops": (303, 403, 200, 200, 200, 200),
        "/admin/users": (303, 403, 200, 200, 403, 403),
        "/admin/audit": (303, 403, 403, 200, 403, 403),
        "/static/portal.css": (200,) * 6,
        "/healthz": (200,) * 6,
    }
    order = [anon, ent, clients["staff1"], clients["admin1"], clients["leader1"], clients["dist103"]]
    for path, statuses in expect.items():
        got = tuple(cl.get(path).status_code for cl in order)
        assert got == statuses, (path, got)
    # a district official sees only the district's enterprises; a leader may not act
    page = clients["dist103"].get(f"/ops?period={PERIOD}").text
    assert C in page and B not in page
    assert B in clients["leader1"].get(f"/ops?period={PERIOD}").text
    leader = clients["leader1"]
    assert leader.post(f"/ops/{PERIOD}/close", data={"csrf": csrf_of(leader.get("/ops").text)}).status_code == 403
    dist = clients["dist103"]
    assert dist.post(f"/ops/{PERIOD}/note", data={"csrf": csrf_of(dist.get("/ops").text), "uscc": B,
                                                  "note": "x"}).status_code == 404
    assert dist.post(f"/ops/{PERIOD}/note", data={"csrf": csrf_of(dist.get("/ops").text), "uscc": C,
                                                  "note": "打过电话，周五前报"}).status_code == 303
    assert "打过电话" in dist.get(f"/ops?period={PERIOD}").text
    # staff reset an enterprise's password (must be changed at the next sign-in), admins disable accounts
    staff = clients["staff1"]
    r = staff.post(f"/admin/users/{A}/reset", data={"csrf": csrf_of(staff.get("/admin/users").text),
                                                     "password": "temporary pass 1"})
    assert r.status_code == 303
    assert staff.post("/admin/users/admin1/reset", data={"csrf": csrf_of(staff.get("/admin/users").text),
                                                         "password": "temporary pass 1"}).status_code == 400
    assert staff.post("/admin/users/leader1/disable", data={"csrf": csrf_of(staff.get("/admin/users").text)}
                      ).status_code == 403
    again = client_factory()
    assert login(again, A, "temporary pass 1").status_code == 303
    assert again.get(f"/q/{PERIOD}").headers["location"].startswith("/password")
    adm = clients["admin1"]
    assert adm.post("/admin/users/leader1/disable", data={"csrf": csrf_of(adm.get("/admin/users").text)}
                    ).status_code == 303
    assert leader.get("/ops").status_code == 303  # its session ended
    actions = {a for (a,) in _rows(store, "SELECT action FROM audit_log")}
    assert {"login", "password_reset", "user_disable", "followup_note", "forbidden", "activate"} <= actions


def test_reminders_go_through_the_outbox_once(portal):
    client_factory, store, settings, ids, codes = portal
    _enterprise(portal, A, email="a@example.com")
    _enterprise(portal, C, email="c@example.com")
    b = _enterprise(portal, B, email="b@example.com")
    csrf = csrf_of(b.get(f"/q/{PERIOD}").text)
    assert b.post(f"/q/{PERIOD}", data=good_form(csrf, B)).status_code == 303
    add_user(store, username="staff1", role="staff", password=STAFF_PW)
    s = client_factory()
    login(s, "staff1", STAFF_PW)
    r = s.post(f"/ops/{PERIOD}/remind", data={"csrf": csrf_of(s.get("/ops").text)})
    assert r.status_code == 200 and 'id="notice"' in r.text
    outbox = list((settings.data_dir / "outbox").glob("*.eml"))
    assert len(outbox) == 2
    body = "".join(p.read_text() for p in outbox)
    assert "a@example.com" in body and "c@example.com" in body and "b@example.com" not in body
    s.post(f"/ops/{PERIOD}/remind", data={"csrf": csrf_of(s.get("/ops").text)})
    assert len(list((settings.data_dir / "outbox").glob("*.eml"))) == 2
    assert _rows(store, "SELECT count(*) FROM notification_message WHERE status = 'sent'") == [(2,)]
    page = s.get(f"/ops?period={PERIOD}").text
    assert "<strong>1 / 3</strong>" in page


def test_feedback_after_release_day(portal):
    client_factory, store, settings, ids, codes = portal
    import pandas as pd

    released = str(pd.Period(PERIOD, "M") - 2)
    store.upsert(m.SeriesValue, [
        dict(series_key="pmi/headline", period=released, vintage=dt.date(2020, 1, 1), raw=51.3, sa=51.7,
             computed_at=dt.datetime(2020, 1, 1)),
        dict(series_key="pmi/production/industry/39", period=released, vintage=dt.date(2020, 1, 1), raw=47.2, sa=None,
             computed_at=dt.datetime(2020, 1, 1))])
    store.upsert(m.SurveyResponse, [dict(enterprise_id=ids[A], period=released, question="production", answer=-1,
                                         revision=1, submitted_at=dt.datetime(2020, 1, 1))])
    c = _enterprise(portal)
    page = c.get("/feedback")
    assert page.status_code == 200
    row = re.search(rf"<tr><td>{released}</td>(.*?)</tr>", page.text, re.S).group(1)
    assert "51.7" in row and "↓ / 47.2" in row


def test_cli_users_and_invite(store, tmp_path):
    from click.testing import CliRunner

    from monitor.cli import cli

    register(store)
    cfg = tmp_path / "imon.toml"
    cfg.write_text(f'data_dir = "{tmp_path}"\n[store]\nurl = "{store.engine.url.render_as_string(False)}"\n')
    run = CliRunner()

    def imon(*args):
        return run.invoke(cli, ["--config", str(cfg), *args], catch_exceptions=False)

    assert imon("users", "add", "boss", "--role", "leader", "--password", STAFF_PW).exit_code == 0
    assert imon("users", "add", "dist1", "--role", "district", "--district", "440103",
                "--password", STAFF_PW).exit_code == 0
    from monitor.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["--config", str(cfg), "users", "add", "boss", "--role", "staff", "--password", STAFF_PW])
    assert exc.value.code == 2
    listed = imon("users", "list").output
    assert "boss" in listed and "440103" in listed
    assert imon("users", "disable", "boss").exit_code == 0
    assert "False" in next(line for line in imon("users", "list").output.splitlines() if "boss" in line)
    out = imon("portal", "invite", "--period", PERIOD, "--district", "440103")
    codes = [line.split(",")[4] for line in out.output.splitlines()[1:]]
    assert out.exit_code == 0 and len(codes) == 2 and all(re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", x)
                                                          for x in codes)
    assert imon("portal", "close", "--period", PERIOD).output.startswith(f"round {PERIOD} closed")
    with pytest.raises(SystemExit) as exc:
        main(["--config", str(cfg), "portal", "invite", "--period", "2026-13"])
    assert exc.value.code == 2


def test_form_and_workbook_share_the_item_rules(tmp_path):
    """The same bad figures give the same rules whether they come in a workbook or through the portal."""
    from collectors.survey import read_survey_form, read_survey_workbook
    from collectors.survey_template import write_survey_workbook

    figures = {"output_value": "abc", "sales_value": "-5", "capacity_utilisation": "180",
               "electricity_kwh": "1" * 400}
    book = write_survey_workbook(tmp_path / "w.xlsx", uscc=A, name="x", period=PERIOD, answers={"production": 1},
                                 operations=figures, submitted_at=dt.date.today())
    from_book = read_survey_workbook(book)
    from_form = read_survey_form(A, PERIOD, {"production": "1"}, figures, [], submitted=dt.date.today(),
                                 name="portal/x", sha256="0" * 64)
    rules = lambda col: sorted((i.field, i.rule) for i in col.issues)  # noqa: E731
    assert rules(from_book) == rules(from_form) == sorted([
        ("output_value", "non_numeric"), ("sales_value", "negative_value"), ("capacity_utilisation", "out_of_range"),
        ("electricity_kwh", "non_numeric")])
    assert from_form.tables["survey_response"]["answer"].tolist() == [1]


def test_demo_logins_sign_in(store, tmp_path):
    from monitor.web.demo import DEMO_PASSWORD, demo_logins

    register(store)
    settings = settings_for(tmp_path)
    logins = demo_logins(store, settings)
    assert len(demo_logins(store, settings)) == len(logins) == 6  # a second run reuses the accounts
    app = create_app(settings, store)
    for entry in logins:
        c = TestClient(app, follow_redirects=False)
        if "activation" in entry.role:
            r = _activate(c, entry.secret)
        else:
            assert entry.secret == DEMO_PASSWORD
            r = login(c, entry.username, entry.secret)
        assert r.status_code == 303, entry


def test_imon_serve_answers_on_loopback(store, tmp_path):
    import os
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = tmp_path / "imon.toml"
    cfg.write_text(f'data_dir = "{tmp_path}"\n[store]\nurl = "{store.engine.url.render_as_string(False)}"\n')
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(cfg), "serve", "--port", str(port)],
                            env=dict(os.environ), stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(200):
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail("imon serve did not answer")
        assert r.status_code == 200 and "imon_pre=" in r.headers["set-cookie"]
        assert "httponly" in r.headers["set-cookie"].lower() and "samesite=lax" in r.headers["set-cookie"].lower()
        assert "secure" not in r.headers["set-cookie"].lower()  # plain HTTP on loopback
        # behind the (trusted, loopback) TLS proxy the cookies are Secure
        r = httpx.get(f"http://127.0.0.1:{port}/login", headers={"X-Forwarded-Proto": "https"}, timeout=5)
        assert "secure" in r.headers["set-cookie"].lower()
        assert "server" not in r.headers
    finally:
        proc.terminate()
        proc.wait(20)


def test_times_shown_on_the_portal_are_in_the_bureaus_zone_and_labelled(portal, monkeypatch):
    """Issue 13: timestamps appeared in two time zones without labels.  A server on UTC stores its own clock;
    the receipt, the submissions list and the audit log show the bureau's time (publish.timezone) with 北京时间."""
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        c = _enterprise(portal)
        page = c.get(f"/q/{PERIOD}")
        r = c.post(f"/q/{PERIOD}", data=good_form(csrf_of(page.text), A))
        assert r.status_code == 303
        receipt = c.get(r.headers["location"]).text
        _, store, *_ = portal
        stored = _rows(store, "SELECT submitted_at FROM portal_submission")[0][0]
        stored = dt.datetime.fromisoformat(str(stored)) if not isinstance(stored, dt.datetime) else stored
        beijing = (stored + dt.timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")
        assert f"{beijing} 北京时间" in receipt
        page = c.get(f"/q/{PERIOD}?lang=en")
        assert f"{beijing} CST" in page.text
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_show_time_converts_and_labels():
    import time

    from monitor.timeshow import bureau_zone, show_time

    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        shanghai = bureau_zone()
        naive = dt.datetime(2026, 12, 7, 8, 50)
        assert show_time(naive, shanghai) == "2026-12-07 16:50 北京时间"  # the server's clock (UTC here)
        assert show_time(naive, shanghai, "en") == "2026-12-07 16:50 CST"
        assert show_time(naive, shanghai, naive="zone") == "2026-12-07 08:50 北京时间"  # stored in the zone
        assert show_time(naive, bureau_zone(name="Europe/Berlin"), "en") == "2026-12-07 09:50 CET"
        assert show_time(None, shanghai) == "" and show_time(float("nan"), shanghai) == ""
    finally:
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()
