"""Warning emails through a real SMTP server (aiosmtpd on loopback): digests, Chinese text, the inline chart,
and a server that goes away mid-run (nothing lost, nothing sent twice)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
import ssl

import pandas as pd
import pytest
from sqlalchemy import select

from monitor.alerts import run_scan
from monitor.alerts.transport import SmtpTransport, deliver
from monitor.results import write_series
from monitor.settings import load_settings
from monitor.store import Store
from monitor.store import models as m

aiosmtpd = pytest.importorskip("aiosmtpd.controller")

CONFIG = """
data_dir = "{data_dir}"
[alerts]
transport = "smtp"
[smtp]
host = "127.0.0.1"
port = {port}
security = "none"
sender = "imon@bureau.example"
retries = 2
backoff = 0.0
timeout = 5
[[alerts.rules]]
name = "district_pmi_low"
kind = "level"
recipients = "district"
series = "pmi/headline/district/*"
below = 50.0
[alerts.recipients]
district-440106 = ["tianhe@example.org"]
district-440112 = ["huangpu@example.org"]
district-440114 = ["huadu@example.org"]
leaders = ["leaders@example.org", "mayor@example.org"]
"""


class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd calls it by this name
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    port = _free_port()
    inbox = Inbox()
    controller = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield controller, inbox, port
    try:
        controller.stop()
    except (AssertionError, RuntimeError):
        pass


def _store_with_alerts(tmp_path, port):
    cfg = tmp_path / "imon.toml"
    cfg.write_text(CONFIG.format(data_dir=tmp_path.as_posix(), port=port), "utf-8")
    settings = load_settings(cfg, environ={})
    store = Store.open(f"sqlite:///{tmp_path / 's.sqlite'}")
    rows = pd.DataFrame([{"series_key": f"pmi/headline/district/{d}", "period": p, "raw": v}
                         for d in ("440106", "440112", "440114")
                         for p, v in zip(("2020-07", "2020-08", "2020-09"), (52.0, 51.0, 47.5), strict=True)])
    with store.begin() as conn:
        write_series(conn, rows, vintage=dt.date(2020, 10, 5))
    return store, settings


def test_digests_arrive_with_recipients_chinese_text_and_the_inline_chart(tmp_path, smtp_server):
    _controller, inbox, port = smtp_server
    store, settings = _store_with_alerts(tmp_path, port)
    try:
        report = run_scan(store, settings)
        assert len(report.delivery.sent) == 4 and not report.delivery.failed
        by_rcpt = {tuple(r): msg for r, msg in inbox.messages}
        assert set(by_rcpt) == {("tianhe@example.org",), ("huangpu@example.org",), ("huadu@example.org",),
                                ("leaders@example.org", "mayor@example.org")}
        tianhe = by_rcpt[("tianhe@example.org",)]
        assert tianhe["Subject"] == "【工业经济预警】天河区：1 条预警，0 条解除（2020-09）"
        assert tianhe["From"] == "imon@bureau.example"
        plain = tianhe.get_body(("plain",)).get_content()
        assert "天河区 制造业PMI 为 47.5，低于阈值 50.0" in plain
        html = tianhe.get_body(("html",))
        assert "天河区" in html.get_content()
        images = [p for p in tianhe.walk() if p.get_content_type() == "image/png"]
        assert len(images) == 1 and images[0].get_content()[:8] == b"\x89PNG\r\n\x1a\n"
        cid = images[0]["Content-ID"].strip("<>")
        assert f"cid:{cid}" in html.get_content()
        leaders = by_rcpt[("leaders@example.org", "mayor@example.org")]
        assert "市领导" in leaders["Subject"] and "3 条预警" in leaders["Subject"]
        # nothing new: nothing sent
        assert run_scan(store, settings).delivery.sent == [] and len(inbox.messages) == 4
    finally:
        store.close()


def test_english_digests_with_the_language_setting(tmp_path, smtp_server):
    _controller, inbox, port = smtp_server
    store, settings = _store_with_alerts(tmp_path, port)
    try:
        run_scan(store, settings.with_overrides(language="en"))
        subjects = sorted(msg["Subject"] for _, msg in inbox.messages)
        assert "[Industry early warning] Tianhe: 1 firing, 0 resolved (2020-09)" in subjects
    finally:
        store.close()


def test_server_going_away_mid_run_loses_nothing_and_sends_nothing_twice(tmp_path, smtp_server):
    controller, inbox, port = smtp_server
    store, settings = _store_with_alerts(tmp_path, port)
    smtp = SmtpTransport("127.0.0.1", port, security="none", timeout=5)

    class StopAfterFirst:
        channel = "smtp"

        def __init__(self) -> None:
            self.sent = 0

        def send(self, *args):
            smtp.send(*args)
            self.sent += 1
            if self.sent == 1:
                controller.stop()  # the server goes away between two messages

    try:
        report = run_scan(store, settings, transport=StopAfterFirst())
        assert len(report.delivery.sent) == 1 and len(report.delivery.failed) == 3
        assert len(inbox.messages) == 1
        with store.engine.connect() as conn:
            statuses = conn.execute(select(m.NotificationMessage.status).order_by(m.NotificationMessage.id)).all()
            attempts = conn.execute(select(m.Notification.status)).scalars().all()
        assert [s for (s,) in statuses] == ["sent", "queued", "queued", "queued"]
        assert attempts == ["sent", "failed", "failed"]  # two tries of the second message, then the run stops
        # the server is back: the next run delivers the rest, none twice
        controller2 = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=port)
        controller2.start()
        try:
            again = deliver(store, settings, sleep=lambda s: None)
            assert len(again.sent) == 3 and not again.failed
            ids = [msg["Message-ID"] for _, msg in inbox.messages]
            assert len(ids) == 4 and len(set(ids)) == 4
            assert deliver(store, settings).sent == []
        finally:
            controller2.stop()
    finally:
        store.close()


# ------------------------------------------------------------------------------ per-recipient delivery (issue 16)
class Refusing(Inbox):
    """Refuses some recipients at RCPT TO with a given reply (550 permanent, 450 temporary)."""

    def __init__(self, refuse: dict[str, str]) -> None:
        super().__init__()
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # aiosmtpd's hook name
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"


def _leaders_message(report, store):
    with store.engine.connect() as conn:
        return conn.execute(select(m.NotificationMessage.id, m.NotificationMessage.status).where(
            m.NotificationMessage.recipient_group == "leaders")).one()


def test_a_refused_recipient_is_not_marked_sent_and_gets_it_later_alone(tmp_path):
    port = _free_port()
    inbox = Refusing({"mayor@example.org": "550 5.1.1 mailbox unavailable"})
    controller = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    store, settings = _store_with_alerts(tmp_path, port)
    try:
        report = run_scan(store, settings, sleep=lambda s: None)
        mid, status = _leaders_message(report, store)
        assert status == "queued" and mid in report.delivery.failed and mid not in report.delivery.sent
        assert report.delivery.failed[mid].startswith("permanent failure: mayor@example.org refused by the server "
                                                      "(550 5.1.1 mailbox unavailable)")
        assert mid in report.delivery.permanent and len(report.delivery.sent) == 3  # the others still went out
        got = [r for r, _ in inbox.messages]
        assert ["leaders@example.org"] in got and not any("mayor@example.org" in r for r in got)
        with store.engine.connect() as conn:
            rows = conn.execute(select(m.Notification.recipient, m.Notification.status, m.Notification.error)
                                .where(m.Notification.message_id == mid)).all()
        assert {(r, s) for r, s, _ in rows} == {("leaders@example.org", "sent"), ("mayor@example.org", "failed")}
        # the address is fixed on the server's side: the next run sends to the mayor only, never twice to the other
        inbox.refuse = {}
        again = deliver(store, settings, sleep=lambda s: None)
        assert again.sent == [mid] and not again.failed
        got = [r for r, _ in inbox.messages]
        assert got.count(["leaders@example.org"]) == 1 and got.count(["mayor@example.org"]) == 1
        assert _leaders_message(again, store)[1] == "sent"
    finally:
        store.close()
        controller.stop()


def test_a_temporary_refusal_is_retried_and_reported_as_not_yet_sent(tmp_path):
    port = _free_port()
    inbox = Refusing({"mayor@example.org": "450 4.2.1 try again later"})
    controller = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    store, settings = _store_with_alerts(tmp_path, port)
    try:
        report = run_scan(store, settings, sleep=lambda s: None)
        mid, status = _leaders_message(report, store)
        assert status == "queued" and mid not in report.delivery.permanent
        assert "permanent" not in report.delivery.failed[mid] and "450 4.2.1" in report.delivery.failed[mid]
        with store.engine.connect() as conn:
            attempts = conn.execute(select(m.NotificationMessage.attempts).where(
                m.NotificationMessage.id == mid)).scalar_one()
        assert attempts == settings["smtp.retries"] == 2
        assert sum(r == ["leaders@example.org"] for r, _ in inbox.messages) == 1
    finally:
        store.close()
        controller.stop()


def test_digests_queued_during_an_outage_are_coalesced_per_group(tmp_path):
    port = _free_port()  # nothing listens: the server is down
    store, settings = _store_with_alerts(tmp_path, port)
    settings = settings.with_overrides(**{"alerts.repeat_interval": "1d"})
    try:
        t0 = dt.datetime(2020, 10, 6, 7, 30)
        for day in range(3):  # three daily scans, each owing a repeat notice
            run_scan(store, settings, now=t0 + dt.timedelta(days=day), sleep=lambda s: None)
        with store.engine.connect() as conn:
            queued = conn.execute(select(m.NotificationMessage.recipient_group).where(
                m.NotificationMessage.status == "queued")).scalars().all()
            kinds = conn.execute(select(m.NotificationItem.kind)).scalars().all()
        assert sorted(queued) == sorted(set(queued)) and len(queued) == 4  # one per group, not one per scan
        assert set(kinds) == {"firing"}  # still the first notice of each alert
        inbox = Inbox()
        controller = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            done = deliver(store, settings, sleep=lambda s: None)
        finally:
            controller.stop()
        assert len(done.sent) == 4 and len(inbox.messages) == 4
    finally:
        store.close()


# ------------------------------------------------------------------------------ STARTTLS and SSL with login
trustme = pytest.importorskip("trustme")

USER, PASSWORD = "imon", "s3cret-pw"


def _authenticator(server, session, envelope, mechanism, auth_data):
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() and \
        auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    """A throwaway CA and a server certificate for 127.0.0.1 (trustme)."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    folder = tmp_path_factory.mktemp("tls")
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    return folder / "ca.pem", server_ctx


@pytest.fixture(params=["starttls", "ssl"])
def tls_server(request, tls_files):
    ca_file, server_ctx = tls_files
    port = _free_port()
    inbox = Inbox()
    if request.param == "starttls":  # login only after STARTTLS, and STARTTLS required
        controller = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=port, tls_context=server_ctx,
                                         require_starttls=True, authenticator=_authenticator, auth_required=True)
    else:  # implicit TLS from the first byte
        controller = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=port, ssl_context=server_ctx,
                                         authenticator=_authenticator, auth_required=True, auth_require_tls=False)
    controller.start()
    yield request.param, port, inbox, ca_file
    controller.stop()


def _tls_settings(tmp_path, port, security, password):
    text = CONFIG.format(data_dir=tmp_path.as_posix(), port=port).replace(
        'security = "none"', f'security = "{security}"\nusername = "{USER}"')
    cfg = tmp_path / "imon.toml"
    cfg.write_text(text, "utf-8")
    return load_settings(cfg, environ={"IMON_SMTP_PASSWORD": password}), cfg


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # implicit TLS is TLS
def test_starttls_and_ssl_with_login_deliver_and_a_wrong_password_says_what_to_fix(tmp_path, tls_server,
                                                                                   monkeypatch):
    security, port, inbox, ca_file = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))  # the client trusts the throwaway CA, as it would a private one
    store, _ = _store_with_alerts(tmp_path, port)
    try:
        bad, _cfg = _tls_settings(tmp_path, port, security, "wrong")
        report = run_scan(store, bad, sleep=lambda s: None)
        assert report.delivery.sent == [] and len(report.delivery.failed) == 4 and inbox.messages == []
        error = next(iter(report.delivery.failed.values()))
        assert error == (f"the SMTP server 127.0.0.1:{port} ({security}) refused the login of 'imon' (535 5.7.8 "
                         "Authentication credentials invalid): check smtp.username and the password in the "
                         "environment variable IMON_SMTP_PASSWORD")
        assert PASSWORD not in error and "wrong" not in error
        with store.engine.connect() as conn:
            statuses = conn.execute(select(m.NotificationMessage.status)).scalars().all()
            attempts = conn.execute(select(m.Notification.error)).scalars().all()
        assert statuses == ["queued"] * 4
        assert attempts == [error]  # a refused login is not retried: trying again cannot help
        good, _cfg = _tls_settings(tmp_path, port, security, PASSWORD)
        again = deliver(store, good, sleep=lambda s: None)
        assert len(again.sent) == 4 and not again.failed and len(inbox.messages) == 4
        assert deliver(store, good).sent == []
    finally:
        store.close()


def test_a_wrong_password_is_one_line_from_the_command_line(tmp_path, tls_files, monkeypatch, capsys):
    """The CLI: one line naming the server and the setting, no traceback, exit 1, messages kept."""
    from monitor.cli import main

    ca_file, server_ctx = tls_files
    port = _free_port()
    inbox = Inbox()
    controller = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=port, tls_context=server_ctx,
                                     require_starttls=True, authenticator=_authenticator, auth_required=True)
    controller.start()
    store, _ = _store_with_alerts(tmp_path, port)
    store.close()
    _settings, cfg = _tls_settings(tmp_path, port, "starttls", "wrong")
    text = cfg.read_text("utf-8").replace(f'data_dir = "{tmp_path.as_posix()}"',
                                          f'data_dir = "{tmp_path.as_posix()}"\n[store]\n'
                                          f'url = "sqlite:///{(tmp_path / "s.sqlite").as_posix()}"')
    cfg.write_text(text, "utf-8")
    monkeypatch.setenv("IMON_SMTP_PASSWORD", "wrong")
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    try:
        with pytest.raises(SystemExit) as exited:  # anything else would be a traceback
            main(["--config", str(cfg), "alerts", "scan"])
    finally:
        controller.stop()
    assert exited.value.code == 1
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("imon: error:")]
    assert len(errors) == 1 and inbox.messages == []
    assert f"127.0.0.1:{port} (starttls) refused the login of 'imon'" in errors[0]
    assert "IMON_SMTP_PASSWORD" in errors[0] and "4 message(s) stay queued" in errors[0]
