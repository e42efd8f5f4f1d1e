"""Immutable vintages (issue 13 item 5): a vintage is a run, a final edition re-renders byte-identical after late
corrections and a recompute the same day, a vintage a final edition read cannot be changed, as_of takes a timestamp,
and rerender reports the release time stored with the edition."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.compute import compute_range
from monitor.demo.load import load_demo
from monitor.exceptions import StoreError
from monitor.publish import publish, rerender
from monitor.results import read_series, write_series
from monitor.settings import load_settings
from monitor.store import Store
from monitor.store import models as m

TZ = ZoneInfo("Asia/Shanghai")
AFTER = dt.datetime(2020, 11, 20, 10, 0, tzinfo=TZ)


@pytest.fixture(scope="module")
def vstore(small_demo, tmp_path_factory):
    folder = tmp_path_factory.mktemp("vintages")
    store = Store.open(f"sqlite:///{folder / 'store.sqlite'}")
    load_demo(store, small_demo)
    settings = load_settings(environ={}, overrides={"data_dir": str(folder)})
    compute_range(store, settings, pd.Period("2020-08", "M"), pd.Period("2020-09", "M"), families=("survey",))
    yield store, settings, folder
    store.close()


def _late_corrections(store: Store, period: str) -> None:
    """Late corrected returns: every answer of ``period`` becomes "higher" (the next compute run sees them)."""
    t = m.SurveyResponse.__table__
    with store.begin() as conn:
        conn.execute(t.update().where(t.c.period == period).values(answer=1))


def test_final_edition_rerenders_identical_after_late_corrections_and_recompute(vstore):
    store, settings, folder = vstore
    first = compute_range(store, settings, pd.Period("2020-09", "M"), pd.Period("2020-09", "M"), families=("survey",))
    final = publish(store, settings, "pmi", "2020-09", formats="html", final=True, now=AFTER, out_dir=folder / "f")
    before = final.files[0].read_bytes()
    _late_corrections(store, "2020-09")
    again = compute_range(store, settings, pd.Period("2020-09", "M"), pd.Period("2020-09", "M"), families=("survey",))
    assert again.vintage > first.vintage and again.vintage.date() == first.vintage.date()  # the same day: two runs
    assert again.total > 0
    latest = read_series(store, "pmi/headline").loc["2020-09"]
    assert latest["vintage"] == again.vintage
    redo = rerender(store, settings, final.publication_id, out_dir=folder / "r")
    assert redo.matches and redo.files[0].read_bytes() == before
    # as_of takes a timestamp: between the two runs the first run's values are seen
    between = first.vintage + (again.vintage - first.vintage) / 2
    old = read_series(store, "pmi/headline", as_of=between.isoformat()).loc["2020-09"]
    assert old["vintage"] <= first.vintage and old["raw"] != latest["raw"]


def test_a_vintage_read_by_a_final_edition_cannot_change(vstore):
    store, settings, folder = vstore
    final = publish(store, settings, "pmi", "2020-08", formats="html", final=True, now=AFTER, out_dir=folder / "l")
    used = read_series(store, "pmi/headline").loc["2020-08", "vintage"]
    with store.begin() as conn, pytest.raises(StoreError, match="read by final publication"):
        write_series(conn, pd.DataFrame({"series_key": ["pmi/headline"], "period": ["2020-08"], "raw": [12.3]}),
                     vintage=used, columns=("raw",))
    assert read_series(store, "pmi/headline").loc["2020-08", "raw"] != 12.3
    assert rerender(store, settings, final.publication_id, out_dir=folder / "l2").matches


def test_rerender_reports_the_stored_release_time(vstore):
    store, settings, folder = vstore
    final = publish(store, settings, "pmi", "2020-09", lang="en", formats="html", final=True, now=AFTER,
                    out_dir=folder / "t")
    stored_line = "15 October 2020, 09:30"
    assert stored_line in final.files[0].read_text(encoding="utf-8")
    # the office moves its release day afterwards: the edition keeps the time it was released under
    moved = settings.with_overrides(publish__release_day=20)
    redo = rerender(store, moved, final.publication_id, out_dir=folder / "t2")
    assert redo.matches and redo.release_at.strftime("%Y-%m-%d %H:%M") == "2020-10-15 09:30"
    config = folder / "moved.toml"
    config.write_text(f'data_dir = "{folder}"\n[store]\nurl = "sqlite:///{folder / "store.sqlite"}"\n'
                      '[publish]\nrelease_day = 20\n', encoding="utf-8")
    out = CliRunner().invoke(cli, ["--config", str(config), "publish", "rerender", str(final.publication_id),
                                   "--out", str(folder / "t3")])
    assert out.exit_code == 0, out.output
    assert "release time (as stored with the edition): 2020-10-15 09:30 Asia/Shanghai" in out.output


def test_upgrading_a_store_keeps_its_day_vintages(tmp_path):
    """Migration 0008 turns each day's vintage into its midnight (a copy by CAST would have made it 2026)."""
    from sqlalchemy import create_engine, text

    from monitor.store.migrate import upgrade

    engine = create_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    upgrade(engine, "0007")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO series_value (series_key, period, vintage, raw, computed_at) VALUES "
                          "('pmi/headline', '2020-08', '2020-09-01', 50.1, '2020-09-01 00:00:00.000000'), "
                          "('pmi/headline', '2020-08', '2020-10-01', 50.3, '2020-10-01 00:00:00.000000')"))
    upgrade(engine)
    engine.dispose()
    store = Store.open(f"sqlite:///{tmp_path / 'old.sqlite'}")
    try:
        frame = read_series(store, "pmi/headline")
        assert frame.loc["2020-08", "vintage"] == dt.datetime(2020, 10, 1) and frame.loc["2020-08", "raw"] == 50.3
        assert read_series(store, "pmi/headline", as_of="2020-09-30").loc["2020-08", "raw"] == 50.1
    finally:
        store.close()
