"""WeCom and DingTalk group robots against a real HTTP server on loopback: DingTalk's signature checked by the
server, a retry after HTTP 500, no second post after a timeout that did deliver, failures visible, queueing
idempotent, and the digest queue feeding the robots of a group."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from monitor.alerts.render import DigestItem
from monitor.alerts.robots import deliver_robots, dingtalk_sign, load_robots, queue_robots, robot_markdown
from monitor.exceptions import ConfigError
from monitor.settings import load_settings
from monitor.store import dashboard as q

SECRET = "SEC0123456789abcdef"
NOW = dt.datetime(2026, 12, 7, 9, 0)


class RobotServer:
    """A fake robot endpoint: records every body it receives; ``plan`` says how to answer each request."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.plan: list[str] = []  # "ok", "500", "slow" (answers after the client's timeout), "badsign"
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                action = outer.plan.pop(0) if outer.plan else "ok"
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                if self.path.startswith("/robot/send"):  # DingTalk: verify the signature like the real service
                    ts, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
                    mac = hmac.new(SECRET.encode(), f"{ts}\n{SECRET}".encode(), hashlib.sha256).digest()
                    fresh = ts.isdigit() and abs(int(ts) - time.time() * 1000) < 3_600_000
                    if not (fresh and hmac.compare_digest(sign, base64.b64encode(mac).decode())):
                        return self._answer(200, {"errcode": 310000, "errmsg": "sign not match"})
                if action == "500":
                    return self._answer(500, {"errcode": -1})
                outer.received.append(json.loads(body))
                if action == "slow":
                    time.sleep(1.5)
                self._answer(200, {"errcode": 0, "errmsg": "ok"})

            def _answer(self, status: int, data: dict) -> None:
                raw = json.dumps(data).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except OSError:
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    srv = RobotServer()
    yield srv
    srv.close()


def _settings(tmp_path, server, *, secret_env="IMON_TEST_DT_SECRET", retries=3):
    cfg = tmp_path / "imon.toml"
    cfg.write_text(f"""
data_dir = "{tmp_path}"
[smtp]
retries = {retries}
backoff = 0.01
[alerts.recipients]
leaders = ["leaders@example.org"]
[[alerts.robots]]
name = "leaders-wecom"
kind = "wecom"
group = "leaders"
webhook = "{server.url}/cgi-bin/webhook/send?key=abc"
[[alerts.robots]]
name = "leaders-dingtalk"
kind = "dingtalk"
group = "leaders"
webhook = "{server.url}/robot/send?access_token=tok"
secret_env = "{secret_env}"
""", encoding="utf-8")
    return load_settings(cfg)


def _items():
    return [DigestItem(1, "firing", "pmi_below_50", "level", "warning", "pmi/headline", None, "2026-11", 48.2,
                       json.dumps({"series": "pmi/headline", "threshold": 50})),
            DigestItem(2, "firing", "stopped", "level", "critical", "<script>x</script>[a](http://evil)", "440103",
                       "2026-11", 0.12, None)]


def _queue(store, settings, env):
    robots = load_robots(settings, {"leaders": ("x@example.org",)}, environ=env)
    with store.begin() as conn:
        return queue_robots(conn, settings, robots, "leaders", _items(), dedup="d1", now=NOW, chart_key="pmi/headline"), robots


def _statuses(store):
    with store.engine.connect() as conn:
        return {r.robot: (r.status, r.attempts) for r in q.robot_messages(conn)}


def test_signed_dingtalk_and_wecom_delivered_once(store, tmp_path, server):
    settings = _settings(tmp_path, server)
    env = {"IMON_TEST_DT_SECRET": SECRET}
    ids, robots = _queue(store, settings, env)
    assert len(ids) == 2
    with store.begin() as conn:  # queueing the same digest again is a no-op
        assert queue_robots(conn, settings, robots, "leaders", _items(), dedup="d1", now=NOW) == []
    report = deliver_robots(store, settings, robots, sleep=lambda s: None)
    assert sorted(report.sent) == sorted(ids) and not report.failed
    assert _statuses(store) == {"leaders-wecom": ("sent", 1), "leaders-dingtalk": ("sent", 1)}
    kinds = sorted(b["msgtype"] for b in server.received)
    assert kinds == ["markdown", "markdown"] and len(server.received) == 2
    wecom = next(b for b in server.received if "content" in b["markdown"])["markdown"]["content"]
    assert "/dash/warnings" in wecom and "/dash/series/chart.png?key=pmi/headline" in wecom
    assert "<script>" not in wecom and "\uff1cscript\uff1e" in wecom and "[a](http" not in wecom
    # a second run sends nothing
    assert deliver_robots(store, settings, robots, sleep=lambda s: None).attempts == 0
    assert len(server.received) == 2


def test_wrong_signature_fails_visibly_without_retry(store, tmp_path, server):
    settings = _settings(tmp_path, server)
    ids, robots = _queue(store, settings, {"IMON_TEST_DT_SECRET": "SECwrong"})
    report = deliver_robots(store, settings, robots, sleep=lambda s: None)
    ding = [i for i in ids if i not in report.sent]
    assert len(report.sent) == 1 and list(report.failed) == ding
    assert "310000" in report.failed[ding[0]] and "signing secret" in report.failed[ding[0]]
    assert _statuses(store)["leaders-dingtalk"] == ("failed", 1)
    with store.engine.connect() as conn:
        failures = q.robot_messages(conn, status=("failed", "unknown", "queued"))
    assert [r.robot for r in failures] == ["leaders-dingtalk"] and "SECwrong" not in (failures[0].last_error or "")


def test_retry_after_500(store, tmp_path, server):
    settings = _settings(tmp_path, server)
    _, robots = _queue(store, settings, {"IMON_TEST_DT_SECRET": SECRET})
    server.plan = ["500", "ok", "500", "500", "ok"]
    slept: list[float] = []
    report = deliver_robots(store, settings, robots, sleep=slept.append)
    assert len(report.sent) == 2 and not report.failed
    assert sorted(v[1] for v in _statuses(store).values()) == [2, 3]
    assert len(server.received) == 2 and slept == [0.01, 0.01, 0.02]


def test_all_attempts_500_stays_queued_for_next_run(store, tmp_path, server):
    settings = _settings(tmp_path, server, retries=2)
    _, robots = _queue(store, settings, {"IMON_TEST_DT_SECRET": SECRET})
    server.plan = ["500"] * 4
    report = deliver_robots(store, settings, robots, sleep=lambda s: None)
    assert not report.sent and len(report.failed) == 2
    assert {v[0] for v in _statuses(store).values()} == {"queued"}
    report = deliver_robots(store, settings, robots, sleep=lambda s: None)
    assert len(report.sent) == 2 and len(server.received) == 2


def test_timeout_that_delivered_is_not_sent_again(store, tmp_path, server):
    settings = _settings(tmp_path, server)
    _, robots = _queue(store, settings, {"IMON_TEST_DT_SECRET": SECRET})
    server.plan = ["slow", "ok"]
    report = deliver_robots(store, settings, robots, sleep=lambda s: None, timeout=0.5)
    assert len(report.unknown) == 1 and len(report.sent) == 1
    assert "may have been posted" in next(iter(report.unknown.values()))
    time.sleep(1.2)  # the slow answer finishes
    again = deliver_robots(store, settings, robots, sleep=lambda s: None, timeout=0.5)
    assert again.attempts == 0
    assert len(server.received) == 2  # each message arrived exactly once
    assert sorted(s for s, _ in _statuses(store).values()) == ["sent", "unknown"]


def test_connection_refused_is_retried(store, tmp_path, server):
    settings = _settings(tmp_path, server, retries=2)
    _, robots = _queue(store, settings, {"IMON_TEST_DT_SECRET": SECRET})
    server.close()
    report = deliver_robots(store, settings, robots, sleep=lambda s: None, timeout=0.5)
    assert len(report.failed) == 2 and all("cannot connect" in e for e in report.failed.values())
    assert {v for v in _statuses(store).values()} == {("queued", 2)}


def test_config_errors_name_the_fix(tmp_path, server):
    settings = _settings(tmp_path, server)
    with pytest.raises(ConfigError, match="IMON_TEST_DT_SECRET"):
        load_robots(settings, {"leaders": ("x@example.org",)}, environ={})
    with pytest.raises(ConfigError, match="not a group"):
        load_robots(settings, {"others": ("x@example.org",)}, environ={"IMON_TEST_DT_SECRET": SECRET})


def test_dingtalk_signature_known_value():
    # the documented algorithm: base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\n{secret}"))
    expected = base64.b64encode(hmac.new(b"SECabc", b"1700000000000\nSECabc", hashlib.sha256).digest()).decode()
    assert dingtalk_sign("SECabc", 1700000000000) == expected


def test_markdown_is_chinese_by_default_and_inert():
    title, text = robot_markdown(_items(), group="leaders", lang="zh", base_url="http://dash.example")
    assert "预警" in title and "市领导" in title and text.count("\n- ") == 2
    assert "<script>" not in text and "[a](http" not in text and "\\[a\\]\\(http" in text


def test_digest_queue_feeds_the_groups_robots_once(store, tmp_path, server, monkeypatch):
    from monitor.alerts.digest import queue_notifications
    from monitor.store import models as m

    monkeypatch.setenv("IMON_TEST_DT_SECRET", SECRET)
    settings = _settings(tmp_path, server)
    with store.begin() as conn:
        conn.execute(m.AlertEvent.__table__.insert().values(
            id=1, rule="pmi_below_50", subject="pmi/headline", region=None, severity="warning", state="firing",
            value=48.2, started_period="2026-11", last_period="2026-11", fingerprint="f1", recipients="leaders",
            labels=json.dumps({"series": "pmi/headline"}), created_at=NOW, updated_at=NOW))
    groups = {"leaders": ("leaders@example.org",)}
    report = queue_notifications(store, settings, (), groups, now=NOW)
    assert report.queued == {"leaders": 1}
    assert queue_notifications(store, settings, (), groups, now=NOW).queued == {}  # notified: nothing more
    with store.engine.connect() as conn:
        queued = q.robot_messages(conn)
    assert sorted((r.robot, r.kind, r.status) for r in queued) == [("leaders-dingtalk", "dingtalk", "queued"),
                                                                   ("leaders-wecom", "wecom", "queued")]
    texts = [json.loads(r.payload)["markdown"] for r in queued]
    assert all("pmi/headline" in (t.get("content") or t.get("text")) for t in texts)
    assert all("/dash/warnings" in (t.get("content") or t.get("text")) for t in texts)
    assert len(deliver_robots(store, settings, sleep=lambda s: None).sent) == 2 and len(server.received) == 2


def test_robot_line_flags_a_figure_from_few_respondents():
    # issue 13: a district figure from fewer than compute.min_respondents firms says so wherever it goes
    items = _items()
    items[0].region, items[0].n, items[0].low_n_min = "440103", 12, 30
    _, text = robot_markdown(items, group="leaders", lang="zh", base_url="http://dash.example")
    flagged = [line for line in text.splitlines() if "样本不足" in line]
    assert len(flagged) == 1 and "12家企业应答" in flagged[0] and "少于30家" in flagged[0]
    _, text = robot_markdown(items, group="leaders", lang="en", base_url="http://dash.example")
    assert text.count("small sample: 12 respondents, fewer than 30") == 1
