"""The store contract, run on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, select, text
from sqlalchemy import inspect as sa_inspect

from monitor import reference as ref
from monitor.demo.load import TRUTH_PREFIX, demo_status, load_demo
from monitor.exceptions import ConfigError, DemoError, StoreRevisionError, StoreUnreachableError
from monitor.store import Store
from monitor.store import models as m
from monitor.store.migrate import current_revision, head_revision


def test_new_store_is_migrated_to_head_and_matches_models(store):
    assert current_revision(store.engine) == head_revision()
    with store.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), m.metadata)
    assert diffs == []


def test_reference_data_is_loaded_and_idempotent(store):
    assert store.count(m.District) == 11
    assert store.count(m.Industry) == 31
    assert store.count(m.Question) == 13
    assert store.count(m.SizeClass) == 4
    assert store.ensure_reference() == 0
    names = dict(store.read_frame(select(m.District.code, m.District.name_zh)).itertuples(index=False))
    assert names["440112"] == "黄埔区" and names["440118"] == "增城区"
    weights = store.read_frame(select(m.Question.code, m.Question.headline_weight))
    assert weights["headline_weight"].sum() == pytest.approx(1.0)
    autos = store.read_frame(select(m.IndustryKeySector.industry_code).where(m.IndustryKeySector.sector_code == "autos"))
    assert autos["industry_code"].tolist() == ["36"]


def _enterprise(uscc: str, **extra):
    row = dict(uscc=uscc, name_zh="广州测试有限公司", district_code="440106", industry_code="39",
               size_class="small", sample_weight=3.5, panel_start="2017-01")
    row.update(extra)
    return row


def test_upsert_is_idempotent_on_natural_keys(store):
    rows = [_enterprise("91440106MA5AAAAA1X"), _enterprise("91440106MA5AAAAB2Y", size_class="large")]
    assert store.upsert(m.Enterprise, rows) == 2
    assert store.upsert(m.Enterprise, rows) == 0  # same data again: nothing changes
    rows[1]["sample_weight"] = 1.25
    assert store.upsert(m.Enterprise, rows) == 1  # only the changed row is touched
    frame = store.read_frame(select(m.Enterprise.uscc, m.Enterprise.sample_weight).order_by(m.Enterprise.uscc))
    assert frame["sample_weight"].tolist() == [3.5, 1.25]
    assert store.count(m.Enterprise) == 2


def test_upsert_of_observations_keeps_one_row_per_key(store):
    store.upsert(m.Enterprise, [_enterprise("91440106MA5AAAAA1X")])
    eid = store.read_frame(select(m.Enterprise.id))["id"].iloc[0]
    t = dt.datetime(2017, 1, 22, 10, 30)
    frame = pd.DataFrame({"enterprise_id": eid, "period": "2017-01", "question": [q.code for q in ref.QUESTIONS],
                          "answer": [1, 0, -1] * 4 + [1], "revision": 1, "submitted_at": t})
    assert store.upsert(m.SurveyResponse, frame) == 13
    assert store.upsert(m.SurveyResponse, frame) == 0
    frame.loc[0, "answer"] = -1
    assert store.upsert(m.SurveyResponse, frame) == 1
    got = store.read_frame(select(m.SurveyResponse).order_by(m.SurveyResponse.question))
    assert len(got) == 13
    assert got.set_index("question").loc["production", "answer"] == -1
    assert got["submitted_at"].iloc[0] == t


def test_check_constraints_reject_bad_rows_and_roll_back(store):
    store.upsert(m.Enterprise, [_enterprise("91440106MA5AAAAA1X")])
    eid = store.read_frame(select(m.Enterprise.id))["id"].iloc[0]
    good = {"enterprise_id": eid, "period": "2017-01", "question": "production", "answer": 1,
            "revision": 1, "submitted_at": dt.datetime(2017, 1, 20)}
    bad = dict(good, question="new_orders", answer=2)
    with pytest.raises(Exception, match="(?i)check|constraint"):
        with store.begin() as conn:
            store.upsert(m.SurveyResponse, [good], conn=conn)
            store.upsert(m.SurveyResponse, [bad], conn=conn)
    assert store.count(m.SurveyResponse) == 0  # the good row went with the failed transaction


def test_foreign_keys_are_enforced(store):
    with pytest.raises(Exception, match="(?i)foreign key"):
        store.upsert(m.Enterprise, [_enterprise("91440106MA5AAAAA1X", district_code="999999")])


def test_bulk_insert_round_trips_dates_and_timestamps(store):
    store.upsert(m.Enterprise, [_enterprise("91440106MA5AAAAA1X")])
    eid = int(store.read_frame(select(m.Enterprise.id))["id"].iloc[0])
    days = pd.date_range("2020-01-20", periods=5)
    frame = pd.DataFrame({"enterprise_id": eid, "day": days, "kwh": [1.5, 0.0, 2.25, 1e6, 3.0]})
    with store.begin() as conn:
        assert store.bulk_insert(m.ElectricityReading, frame, conn=conn) == 5
    back = store.read_frame(select(m.ElectricityReading.day, m.ElectricityReading.kwh).order_by(m.ElectricityReading.day))
    assert [d for d in back["day"]] == [d.date() for d in days]
    assert back["kwh"].tolist() == [1.5, 0.0, 2.25, 1e6, 3.0]
    stamp = pd.Timestamp("2020-01-22 09:15:30.250000")
    hist = pd.DataFrame({"enterprise_id": [eid], "period": ["2020-01"], "question": ["production"], "revision": [1],
                         "answer": [0], "submitted_at": [stamp], "superseded_at": [stamp + pd.Timedelta(days=2)]})
    with store.begin() as conn:
        store.bulk_insert(m.SurveyResponseHistory, hist, conn=conn)
    got = store.read_frame(select(m.SurveyResponseHistory.submitted_at, m.SurveyResponseHistory.superseded_at))
    assert got["submitted_at"].iloc[0] == stamp.to_pydatetime()
    assert got["superseded_at"].iloc[0] == (stamp + pd.Timedelta(days=2)).to_pydatetime()


def test_demo_build_loads_whole_and_refuses_foreign_data(store, small_demo):
    counts = load_demo(store, small_demo)
    assert counts["survey_response"] == len(small_demo.responses) == store.count(m.SurveyResponse)
    assert counts["electricity_reading"] == len(small_demo.electricity) == store.count(m.ElectricityReading)
    state, params = demo_status(store)
    assert state == "demo" and params == small_demo.params.as_dict()
    truth = store.read_frame(text("SELECT COUNT(*) AS n FROM series_value WHERE series_key LIKE :p"),
                             p=TRUTH_PREFIX + "%")
    assert truth["n"].iloc[0] == 14 * len(small_demo.cycle)
    # Loading again replaces, never duplicates.
    load_demo(store, small_demo)
    assert store.count(m.SurveyResponse) == len(small_demo.responses)
    # Files collected into the demo store belong to it; a store with data the demo did not write is left alone.
    with store.begin() as conn:
        conn.execute(m.IngestSource.__table__.insert().values(
            kind="survey", path="x.xlsx", sha256="0" * 64, received_at=dt.datetime(2020, 1, 1),
            rows_accepted=0, rows_rejected=0, status="loaded"))
    assert demo_status(store)[0] == "demo"
    with store.begin() as conn:
        conn.execute(m.IngestSource.__table__.update().where(m.IngestSource.kind == "demo").values(kind="archive"))
    assert demo_status(store)[0] == "foreign"
    with pytest.raises(DemoError, match="did not write"):
        load_demo(store, small_demo)
    assert store.count(m.SurveyResponse) == len(small_demo.responses)


def test_a_database_with_other_tables_is_not_taken_over(tmp_path):
    url = f"sqlite:///{tmp_path / 'other.sqlite'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE payroll (id INTEGER PRIMARY KEY)")
    engine.dispose()
    with pytest.raises(StoreRevisionError, match="not an industry-monitor store"):
        Store.open(url)


def test_unknown_revision_asks_for_upgrade(tmp_path):
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    Store.open(url).close()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0000'")
    engine.dispose()
    with pytest.raises(StoreRevisionError, match="imon db upgrade"):
        Store.open(url)


def test_unreachable_and_malformed_urls_fail_clearly():
    with pytest.raises(StoreUnreachableError, match="cannot reach the store .*:\\*\\*\\*@"):
        Store.open("postgresql+psycopg://someone:secret@127.0.0.1:1/nothing")
    with pytest.raises(ConfigError, match="not a database URL"):
        Store.open("not a url")
    with pytest.raises(ConfigError, match="driver that is not installed"):
        Store.open("postgresql+nosuchdriver://x@localhost/db")


def test_apscheduler_job_table_is_ignored_by_migrations_and_status(store_url, tmp_path, capsys):
    """``imon schedule`` keeps APScheduler's ``apscheduler_jobs`` in the store's database: upgrading past it, the
    models-vs-migrations comparison (through the migrations' env.py, as ``alembic check`` does) and ``imon db
    status`` are not affected by it."""
    from alembic import command
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    from monitor.cli import main
    from monitor.store.migrate import alembic_config, upgrade

    engine = create_engine(store_url)
    try:
        upgrade(engine, "0004")  # an older store on which a scheduler already ran
        jobstore = SQLAlchemyJobStore(engine=engine)
        jobstore.start(None, "default")  # creates apscheduler_jobs
        assert upgrade(engine) == ("0004", head_revision())
        with engine.connect() as conn:
            command.check(alembic_config(conn))  # raises when autogenerate finds a difference
            names = set(sa_inspect(conn).get_table_names())
        assert "apscheduler_jobs" in names
    finally:
        engine.dispose()
    Store.open(store_url).close()  # the store opens at head with the extra table
    cfg = tmp_path / "imon.toml"
    cfg.write_text(f'data_dir = "{tmp_path.as_posix()}"\n[store]\nurl = "{store_url}"\n', "utf-8")
    main(["--config", str(cfg), "db", "upgrade"])
    main(["--config", str(cfg), "db", "status"])
    out = capsys.readouterr().out
    assert f"schema revision: {head_revision()}" in out and "  apscheduler_jobs" not in out


def test_demo_rebuild_empties_every_table_referencing_the_old_build(store, small_demo, monkeypatch):
    """A rebuild after the inbox was collected (electricity accounts) and alerts were sent (digests, their items
    and attempts) deletes children before parents in its one transaction; silences and the scheduler lock stay."""
    from monitor.demo import load as demo_load

    load_demo(store, small_demo)
    now = dt.datetime(2020, 10, 5, 8, 0)
    with store.begin() as conn:
        eid, source = conn.execute(select(m.Enterprise.id, m.Enterprise.source_id).limit(1)).one()
        conn.execute(m.ElectricityAccount.__table__.insert().values(account_no="A1", enterprise_id=eid,
                                                                    source_id=source))
        conn.execute(m.ElectricityAccountReading.__table__.insert().values(account_no="A1", day=now.date(), kwh=1.0))
        event = conn.execute(m.AlertEvent.__table__.insert().values(
            rule="r", subject=f"enterprise/{eid}", severity="warning", state="firing", started_period="2020-09",
            fingerprint="f" * 16)).inserted_primary_key[0]
        msg = conn.execute(m.NotificationMessage.__table__.insert().values(
            dedup_key="k", recipient_group="leaders", recipients="a@b.c", subject="s", language="zh",
            message_id="<x@y>", mime="x", status="sent", attempts=1, created_at=now)).inserted_primary_key[0]
        conn.execute(m.NotificationItem.__table__.insert().values(message_id=msg, alert_event_id=event, kind="firing"))
        conn.execute(m.Notification.__table__.insert().values(message_id=msg, alert_event_id=event, recipient="a@b.c",
                                                              channel="smtp", status="sent", attempted_at=now))
        conn.execute(m.AlertSilence.__table__.insert().values(reason="maintenance", created_at=now,
                                                              expires_at=now + dt.timedelta(days=9)))
        conn.execute(m.SchedulerLock.__table__.insert().values(name="scheduler", owner="h:1:x", acquired_at=now,
                                                               heartbeat_at=now, expires_at=now))
    # a failure inside the rebuild is one clear error and leaves the previous build whole
    monkeypatch.setattr(demo_load, "data_tables", lambda: ["enterprise"])  # parent before children
    with pytest.raises(DemoError, match=r"could not be written into .*nothing was changed") as info:
        load_demo(store, small_demo)
    assert "\n" not in str(info.value) and "IntegrityError" in str(info.value)
    assert store.count(m.ElectricityAccount) == 1 and store.count(m.NotificationItem) == 1
    monkeypatch.undo()
    counts = load_demo(store, small_demo)
    assert counts["survey_response"] == store.count(m.SurveyResponse) == len(small_demo.responses)
    for model in (m.ElectricityAccount, m.ElectricityAccountReading, m.AlertEvent, m.NotificationMessage,
                  m.NotificationItem, m.Notification):
        assert store.count(model) == 0, model.__tablename__
    assert store.count(m.AlertSilence) == 1 and store.count(m.SchedulerLock) == 1
    assert store.count(m.District) == 11
    assert demo_status(store)[0] == "demo"


def test_electricity_reading_has_no_foreign_keys_and_the_account_map_keeps_its_own(store):
    """Migration 0013: the enterprise-day sums carry no per-row foreign-key checks; the account map, through which
    the ingest joins every reading, still refuses an unknown enterprise."""
    inspector = sa_inspect(store.engine)
    assert inspector.get_foreign_keys("electricity_reading") == []
    assert inspector.get_foreign_keys("electricity_account_reading") == []
    assert {fk["referred_table"] for fk in inspector.get_foreign_keys("electricity_account")} == {
        "enterprise", "ingest_source"}
    with pytest.raises(Exception, match="(?i)foreign key"):
        with store.begin() as conn:
            conn.execute(m.ElectricityAccount.__table__.insert().values(account_no="X1", enterprise_id=999999))
