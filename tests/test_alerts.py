"""Early-warning rules: validation, evaluation and the lifecycle over sequences of evaluations (both back-ends)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import select

from monitor.alerts import add_silence, end_silence, list_events, run_scan
from monitor.alerts.evaluate import Finding
from monitor.alerts.lifecycle import apply_findings
from monitor.alerts.rules import Rule, load_rules, validate_settings
from monitor.alerts.transport import OutboxTransport
from monitor.exceptions import ConfigError
from monitor.results import write_series
from monitor.settings import load_settings
from monitor.store import Store
from monitor.store import models as m

DISTRICTS = ("440106", "440112", "440114")

CONFIG = """
data_dir = "{data_dir}"
[alerts]
repeat_interval = "0s"

[[alerts.rules]]
name = "district_pmi_low"
kind = "level"
severity = "warning"
recipients = "district"
series = "pmi/headline/district/*"
below = 50.0
months = 2

[[alerts.rules]]
name = "electricity_drop_for"
kind = "level"
severity = "critical"
recipients = "district"
for = "1mo"
series = "electricity/yoy/district/*"
below = -10.0

[[alerts.rules]]
name = "odds"
kind = "target_odds"
recipients = "leaders"
below = 0.5

[alerts.recipients]
district-440106 = ["tianhe@example.org", "tianhe2@example.org"]
district-440112 = ["huangpu@example.org"]
district-440114 = ["huadu@example.org"]
leaders = ["leaders@example.org"]
"""


def _settings(tmp_path: Path, text: str = CONFIG, **env: str):
    cfg = tmp_path / "imon.toml"
    cfg.write_text(text.format(data_dir=tmp_path.as_posix()), "utf-8")
    return load_settings(cfg, environ=env)


def _write(store: Store, key: str, values: dict[str, float], vintage: dt.date) -> None:
    rows = pd.DataFrame({"series_key": key, "period": list(values), "raw": list(values.values())})
    with store.begin() as conn:
        write_series(conn, rows, vintage=vintage)


def _months(last: str, n: int) -> list[str]:
    end = pd.Period(last, "M")
    return [str(end - i) for i in range(n - 1, -1, -1)]


# ------------------------------------------------------------------------------------------------ validation
@pytest.mark.parametrize(("rule", "message"), [
    ('name = "x"\nkind = "levels"\nrecipients = "leaders"', r"rule 'x': kind = 'levels' is unknown"),
    ('name = "x"\nkind = "level"\nseries = "pmi/headline"\nbelow = 50', r"rule 'x': recipients is missing"),
    ('name = "x"\nkind = "level"\nrecipients = "leaders"\nseries = "a"\nbelow = 1\nthreshold = 3',
     r"unknown key\(s\) threshold for kind 'level'"),
    ('name = "x"\nkind = "level"\nrecipients = "leaders"\nseries = "a"\nbelow = 1\nfor = "2 weeks"',
     r"rule 'x': for = '2 weeks' is invalid"),
    ('name = "x"\nkind = "level"\nrecipients = "mayor"\nseries = "a"\nbelow = 1',
     r"recipients = 'mayor', which is not a group"),
    ('name = "x"\nkind = "level"\nrecipients = "leaders"\nseries = "a"', r"exactly one of below = X or above = X"),
    ('name = "x"\nkind = "power"\nrecipients = "leaders"\nbelow = 1.5', r"below = 1.5 is invalid"),
    ('name = "x"\nkind = "level"\nrecipients = "leaders"\nseries = "a"\nbelow = 1\nseverity = "fatal"',
     r"severity = 'fatal' is unknown"),
])
def test_bad_rules_are_refused_naming_file_rule_and_fix(tmp_path, rule, message):
    text = f"[[alerts.rules]]\n{rule}\n[alerts.recipients]\nleaders = [\"a@example.org\"]\n"
    with pytest.raises(ConfigError, match=message) as info:
        validate_settings(_settings(tmp_path, text))
    assert str(tmp_path / "imon.toml") in str(info.value)


def test_default_rules_and_recipients_without_a_file():
    settings = load_settings(None, environ={})
    rules = load_rules(settings)
    kinds = {r.kind for r in rules}
    assert kinds == {"level", "change", "power", "no_response", "target_path", "target_odds", "response_rate",
                     "leading_turn"}
    assert all(isinstance(r, Rule) for r in rules)


def test_smtp_password_comes_from_the_environment_and_is_masked(tmp_path):
    settings = _settings(tmp_path, IMON_SMTP_PASSWORD="s3cret")
    assert settings["smtp.password"] == "s3cret"
    shown = dict((k, v) for k, v, _ in settings.display())
    assert shown["smtp.password"] == '"***"'


# ------------------------------------------------------------------------------------------------ lifecycle
def test_fire_repeat_nothing_then_resolve_after_a_revision(store, tmp_path):
    settings = _settings(tmp_path)
    outbox = OutboxTransport(tmp_path / "outbox")
    day1, day2 = dt.date(2020, 10, 10), dt.date(2020, 10, 20)
    for d in DISTRICTS:
        low = d == "440112"
        _write(store, f"pmi/headline/district/{d}", dict(zip(_months("2020-09", 4),
                                                             [52, 51, 48, 47] if low else [52, 51, 52, 53],
                                                             strict=True)), day1)
    first = run_scan(store, settings, transport=outbox, today=dt.date(2020, 10, 30))
    assert not first.failed, first.failed
    firing = list_events(store)
    assert firing[["rule", "subject", "state"]].values.tolist() == [
        ["district_pmi_low", "pmi/headline/district/440112", "firing"]]
    assert sorted(first.queued.queued) == ["district-440112", "leaders"]
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 2
    msg = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert msg["To"] == "huangpu@example.org"
    assert "黄埔区" in msg["Subject"] and "1 条预警" in msg["Subject"]
    assert "黄埔区 制造业PMI 为 47.0，低于阈值 50.0，已连续 2 个月" in msg.get_body(("plain",)).get_content()

    # the same data again: nothing changes, nothing is sent
    again = run_scan(store, settings, transport=outbox, today=dt.date(2020, 10, 30))
    assert again.changes == 0 and again.queued.queued == {} and not again.delivery.sent
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 2

    # the month is revised: the condition clears, a resolved notice goes out once
    _write(store, "pmi/headline/district/440112", {"2020-09": 50.5}, day2)
    cleared = run_scan(store, settings, transport=outbox, today=dt.date(2020, 10, 30))
    assert dict(cleared.transitions["district_pmi_low"]) == {"resolved": 1}
    assert list_events(store).empty
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 4
    resolved = email.message_from_bytes(files[2].read_bytes(), policy=email.policy.default)
    assert "1 条解除" in resolved["Subject"] and "已解除" in resolved.get_body(("plain",)).get_content()
    assert run_scan(store, settings, transport=outbox).queued.queued == {}
    with store.engine.connect() as conn:
        log = conn.execute(select(m.Notification.status)).scalars().all()
    assert log == ["sent"] * 4


def test_for_keeps_an_alert_pending_until_it_held_long_enough(store, tmp_path):
    settings = _settings(tmp_path)
    outbox = OutboxTransport(tmp_path / "outbox")
    key = "electricity/yoy/district/440114"
    _write(store, key, {"2020-07": 3.0, "2020-08": -12.0}, dt.date(2020, 9, 5))
    run_scan(store, settings, transport=outbox)
    assert list_events(store)[["rule", "state"]].values.tolist() == [["electricity_drop_for", "pending"]]
    assert not list((tmp_path / "outbox").glob("*.eml"))  # pending is not notified
    _write(store, key, {"2020-09": -15.0}, dt.date(2020, 10, 5))
    report = run_scan(store, settings, transport=outbox)
    assert dict(report.transitions["electricity_drop_for"]) == {"fired": 1}
    assert sorted(report.queued.queued) == ["district-440114", "leaders"]


def test_silence_holds_notices_back_until_it_ends(store, tmp_path):
    settings = _settings(tmp_path)
    outbox = OutboxTransport(tmp_path / "outbox")
    _write(store, "pmi/headline/district/440106", {"2020-08": 45.0, "2020-09": 44.0}, dt.date(2020, 10, 1))
    sid = add_silence(store, reason="known shutdown", expires_at=dt.datetime.now() + dt.timedelta(days=1),
                      region="440106")
    report = run_scan(store, settings, transport=outbox)
    assert report.queued.silenced == 1 and report.queued.queued == {}
    assert end_silence(store, sid)
    report = run_scan(store, settings, transport=outbox)
    assert sorted(report.queued.queued) == ["district-440106", "leaders"]
    msg = email.message_from_bytes(sorted((tmp_path / "outbox").glob("*-district-440106.eml"))[0].read_bytes(),
                                   policy=email.policy.default)
    assert msg["To"] == "tianhe@example.org, tianhe2@example.org"
    with pytest.raises(ConfigError, match="at least one of --rule"):
        add_silence(store, reason="x", expires_at=dt.datetime.now() + dt.timedelta(days=1))


def test_target_odds_rule_is_quiet_without_rows_and_fires_with_them(store, tmp_path):
    settings = _settings(tmp_path)
    outbox = OutboxTransport(tmp_path / "outbox")
    assert "odds" in run_scan(store, settings, transport=outbox).findings
    assert list_events(store).empty
    row = dict(year=2020, indicator="iva/ytd_yoy", region="440100", comparison=">=", target=6.5, ytd=4.0,
               required=8.0, expected=5.1, lower_80=4.0, upper_80=6.2, probability=0.2, method="sim",
               simulations=1000, created_at=dt.datetime(2020, 10, 1))
    store.upsert(m.TargetOdds, [dict(row, origin="2020-08")])
    report = run_scan(store, settings, transport=outbox)
    assert report.findings["odds"] == 1 and report.queued.queued == {"leaders": 1}
    text = email.message_from_bytes(next((tmp_path / "outbox").glob("*.eml")).read_bytes(),
                                    policy=email.policy.default).get_body(("plain",)).get_content()
    assert "完成 2020 年目标" in text and "20%" in text


def test_a_failing_rule_is_recorded_and_the_others_go_on(store, tmp_path, monkeypatch):
    from monitor.alerts import evaluate

    settings = _settings(tmp_path)
    _write(store, "pmi/headline/district/440106", {"2020-08": 45.0, "2020-09": 44.0}, dt.date(2020, 10, 1))

    def boom(rule, ctx):
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(evaluate.EVALUATORS, "target_odds", boom)
    report = run_scan(store, settings, transport=OutboxTransport(tmp_path / "outbox"))
    assert report.failed == {"odds": "RuntimeError: disk on fire"}
    assert report.findings["district_pmi_low"] == 1


# ------------------------------------------------------------------------------------------------ state machine
@pytest.fixture(scope="module")
def sm_store(tmp_path_factory):
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('sm') / 's.sqlite'}")
    yield store
    store.close()


@hsettings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.booleans()), min_size=1, max_size=12), st.integers(0, 2))
def test_lifecycle_over_sequences_of_evaluations(sm_store, steps, for_months):
    """Any sequence of (month step, condition) verdicts keeps the lifecycle's invariants."""
    import uuid

    store = sm_store
    rule = Rule(f"r{uuid.uuid4().hex[:10]}", "level", "warning", "leaders", for_months=for_months)
    period = pd.Period("2020-01", "M")
    for step, active in steps:
        period += step
        finding = Finding("pmi/headline", "440100", str(period), active, 1.0 if active else 2.0, {})
        with store.begin() as conn:
            apply_findings(conn, rule, [finding])
        with store.begin() as conn:  # the same verdict again changes nothing
            assert sum(apply_findings(conn, rule, [finding]).values()) == 0
        events = list_events(store, states=None, rule=rule.name)
        open_ = events[events["state"].isin(["pending", "firing"])]
        assert len(open_) <= 1
        if active:
            assert len(open_) == 1
            ev = open_.iloc[0]
            months_held = (period - pd.Period(ev["started_period"], "M")).n
            assert ev["state"] == ("firing" if months_held >= rule.for_months else "pending")
        else:
            assert open_.empty
        assert set(events["state"]) <= {"pending", "firing", "resolved", "inactive"}
        # only what fired resolves; an episode that never fired ends inactive (nobody was told)
        assert events.loc[events["state"] == "inactive", "fired_at"].isna().all()
        assert events.loc[events["state"] == "resolved", "fired_at"].notna().all()


def test_alerts_history_shows_plain_timestamps(tmp_path, capsys):
    """SQLite hands timestamps back as text with ``.000000``: the history prints ``YYYY-MM-DD HH:MM:SS``."""
    import re

    from monitor.cli import main

    url = f"sqlite:///{(tmp_path / 'h.sqlite').as_posix()}"
    text = CONFIG.replace('data_dir = "{data_dir}"', 'data_dir = "{data_dir}"\n[store]\nurl = "' + url + '"')
    settings = _settings(tmp_path, text)
    store = Store.open(url)
    try:
        _write(store, "pmi/headline/district/440112", dict(zip(_months("2020-09", 2), [48, 47], strict=True)),
               dt.date(2020, 10, 5))
        assert run_scan(store, settings).delivery.sent
    finally:
        store.close()
    main(["--config", str(tmp_path / "imon.toml"), "alerts", "history"])
    out = capsys.readouterr().out
    assert ".000000" not in out
    stamps = re.findall(r"\d{4}-\d\d-\d\d[ T][\d:.]+", out)
    assert stamps and all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", s) for s in stamps), out


def test_district_digest_names_rules_in_chinese_and_its_chart_caption_fits_the_chart():
    """Issue 13: the digest without series charted alert counts under a trend caption, named rules by their
    English ids in a Chinese e-mail and let the level and subject columns wrap one character per line."""
    from monitor.alerts.render import Digest, DigestItem, render_digest

    items = [DigestItem(1, "firing", "enterprise_stopped", "power", "critical", "91440101MA5XXXXX1X", "440106",
                        "2026-11", 0.05, None),
             DigestItem(2, "firing", "target_behind_path", "target_path", "warning", "iva/ytd_yoy", "440106",
                        "2026-11", 3.2, None)]
    msg = render_digest(Digest("district-440106", ("a@demo.invalid",), items), sender="imon@demo.invalid")
    html_part = msg.get_payload()[1]
    body = html_part.get_payload()[0].get_content() if html_part.is_multipart() else html_part.get_content()
    assert "enterprise_stopped" not in body and "target_behind_path" not in body
    assert "企业停产" in body and "累计增速落后目标进度" in body
    assert "图：本次预警数量（按规则）" in body and "相关指标近期走势" not in body
    assert body.count("white-space:nowrap") >= 2 * len(items)
    assert "enterprise_stopped" not in msg.get_body(preferencelist=("plain",)).get_content()


def test_alert_email_flags_a_district_figure_from_few_respondents(store, tmp_path):
    """Issue 13: a district PMI from a handful of firms was e-mailed like any other; it carries the release's
    low-n flag (compute.min_respondents) with its count, and a well-sampled one does not."""
    settings = _settings(tmp_path)
    minimum = int(settings["compute.min_respondents"])
    outbox = OutboxTransport(tmp_path / "outbox")
    for d, n in (("440112", 12), ("440106", 150)):
        rows = pd.DataFrame({"series_key": f"pmi/headline/district/{d}", "period": _months("2020-09", 4),
                             "raw": [52.0, 51.0, 48.0, 47.0], "n": [n] * 4})
        with store.begin() as conn:
            write_series(conn, rows, vintage=dt.date(2020, 10, 10))
    done = run_scan(store, settings, transport=outbox, today=dt.date(2020, 10, 30))
    assert not done.failed, done.failed
    bodies = {}
    for f in sorted((tmp_path / "outbox").glob("*.eml")):
        msg = email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
        bodies[msg["To"]] = msg.get_body(("plain",)).get_content()
    huangpu, tianhe = bodies["huangpu@example.org"], bodies["tianhe@example.org, tianhe2@example.org"]
    assert f"样本不足：12家企业应答，少于{minimum}家" in huangpu
    assert "样本不足" not in tianhe
    summary = bodies["leaders@example.org"]
    assert summary.count("样本不足") == 1 and "黄埔区" in summary
