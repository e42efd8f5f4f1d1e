"""``imon collect`` writes the utility feed into the Parquet archive too (issue 20): the archive stays the
store's copy file by file (first fill, corrections, the same file again), a bad file leaves it untouched, a
crash between the store's commit and the archive's renames is repaired from the store, and the Dask engine
computes from the collected archive what the local engine computes from the store.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from collectors.uscc import make_uscc
from monitor.ingest import collect_paths
from monitor.settings import load_settings
from monitor.store import archive as store_archive
from monitor.store import models as m

distributed = pytest.importorskip("distributed")
pq = pytest.importorskip("pyarrow.parquet")

E1 = make_uscc("440112", "MA5ABC12")
E3 = make_uscc("440114", "87654321")


def _settings(tmp_path: Path, **more: str):
    return load_settings(environ={}, overrides={"data_dir": str(tmp_path / "var"), "ingest.chunk_rows": "1000",
                                                "electricity.archive": str(tmp_path / "archive"), **more})


def _feed(path: Path, rows: list[tuple[str, str, float]]) -> Path:
    text = "户号,日期,用电量(kWh)\n" + "".join(f"{a},{d},{k}\n" for a, d, k in rows)
    path.write_bytes(text.encode("gbk"))
    return path


def _archived(root: Path) -> pd.DataFrame:
    """The whole archive: enterprise_id, day (YYYY-MM-DD), kwh, region, month, sorted."""
    frames = []
    for f in sorted(root.glob("month=*/region=*/*.parquet")):
        t = pq.read_table(f).to_pandas()
        frames.append(t.assign(region=f.parent.name[7:], month=f.parent.parent.name[6:]))
    if not frames:
        return pd.DataFrame(columns=["enterprise_id", "day", "kwh", "region", "month"])
    out = pd.concat(frames, ignore_index=True)
    out["day"] = pd.to_datetime(out["day"]).dt.strftime("%Y-%m-%d")
    return out.sort_values(["enterprise_id", "day"]).reset_index(drop=True)[
        ["enterprise_id", "day", "kwh", "region", "month"]]


def _stored(store) -> pd.DataFrame:
    """The store's enterprise-day sums in the archive's layout."""
    frame = store.read_frame(select(m.ElectricityReading.enterprise_id, m.ElectricityReading.day,
                                    m.ElectricityReading.kwh, m.Enterprise.district_code.label("region"))
                             .join(m.Enterprise, m.Enterprise.id == m.ElectricityReading.enterprise_id))
    frame["day"] = pd.to_datetime(frame["day"]).dt.strftime("%Y-%m-%d")
    frame["month"] = frame["day"].str[:7]
    return frame.sort_values(["enterprise_id", "day"]).reset_index(drop=True)[
        ["enterprise_id", "day", "kwh", "region", "month"]]


def _same(archive: pd.DataFrame, stored: pd.DataFrame) -> None:
    assert len(archive) == len(stored)
    assert (archive[["enterprise_id", "day", "region", "month"]].astype(str).to_numpy()
            == stored[["enterprise_id", "day", "region", "month"]].astype(str).to_numpy()).all()
    assert (archive["kwh"].to_numpy(float) == stored["kwh"].to_numpy(float)).all()


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def bureau(store, tmp_path):
    """Two registered enterprises in two districts, their three accounts mapped."""
    store.upsert(m.Enterprise, [
        dict(uscc=E1, name_zh="广州甲电子有限公司", district_code="440112", industry_code="39", size_class="large",
             sample_weight=1.2, panel_start="2016-01", panel_end=None),
        dict(uscc=E3, name_zh="广州丙汽车有限公司", district_code="440114", industry_code="36", size_class="medium",
             sample_weight=3.0, panel_start="2016-06", panel_end=None),
    ])
    ids = dict(store.read_frame(select(m.Enterprise.uscc, m.Enterprise.id)).itertuples(index=False))
    acc = tmp_path / "accounts.csv"
    acc.write_text(f"account_no,uscc,meter_name\nA1,{E1},主变\nA2,{E1},二号变\nB1,{E3},\n", "utf-8-sig")
    return store, ids, acc


def test_collected_feeds_keep_the_archive_a_copy_of_the_store(bureau, tmp_path):
    store, ids, acc = bureau
    settings = _settings(tmp_path)
    root = tmp_path / "archive"
    days = pd.date_range("2017-01-20", "2017-02-10").strftime("%Y-%m-%d")
    jan = _feed(tmp_path / "jan.csv", [(a, d, 100.0 + i) for i, d in enumerate(days) for a in ("A1", "A2", "B1")]
                + [("ZZ", "2017-01-25", 5.0)])  # an unknown account: rejected, not archived
    outcomes = collect_paths(store, settings, [acc, jan])
    assert [o.status for o in outcomes] == ["loaded", "loaded"]
    _same(_archived(root), _stored(store))  # the first file fills the archive with the store's readings
    assert sorted(p.name for p in root.glob("month=*")) == ["month=2017-01", "month=2017-02"]
    assert sorted(p.name for p in root.glob("month=2017-01/region=*")) == ["region=440112", "region=440114"]
    assert not (root / store_archive.PENDING).exists() or not any((root / store_archive.PENDING).iterdir())

    # a later file adds days and corrects one account on one day; the other readings are kept
    feb = _feed(tmp_path / "feb.csv", [("A1", "2017-02-11", 7.0), ("A2", "2017-01-25", 1.5), ("B1", "2017-02-12", 3.0)])
    (out,) = collect_paths(store, settings, [feb])
    assert out.status == "loaded" and out.rows_new == 3
    archived = _archived(root)
    _same(archived, _stored(store))
    e1 = archived[(archived["enterprise_id"] == ids[E1]) & (archived["day"] == "2017-01-25")]
    assert e1["kwh"].tolist() == [105.0 + 1.5]  # A1's 105 plus A2's corrected 1.5
    assert len(list(root.glob("month=*/region=*/*.parquet"))) == 4  # one file per partition

    # the same file again changes nothing in the archive
    before = _snapshot(root)
    (again,) = collect_paths(store, settings, [feb], force=True)
    assert again.status == "unchanged"
    assert {k: v for k, v in _snapshot(root).items() if k.endswith(".parquet")} == {
        k: v for k, v in before.items() if k.endswith(".parquet")}


def test_an_enterprise_moved_to_another_district_is_archived_once(bureau, tmp_path):
    """Re-sent days of an enterprise whose district changed take its month to the new district's partition: no
    reading is counted twice and no enterprise-month is split (before, the days stayed under both districts)."""
    store, ids, acc = bureau
    settings = _settings(tmp_path)
    root = tmp_path / "archive"
    days = pd.date_range("2017-01-20", "2017-01-31").strftime("%Y-%m-%d")
    collect_paths(store, settings, [acc, _feed(tmp_path / "jan.csv", [(a, d, 10.0) for d in days
                                                                     for a in ("A1", "B1")])])
    with store.begin() as conn:  # the register moves E1 from 440112 to 440114
        conn.execute(m.Enterprise.__table__.update().where(m.Enterprise.id == ids[E1]).values(district_code="440114"))
    (out,) = collect_paths(store, settings, [_feed(tmp_path / "fix.csv", [("A1", d, 11.0) for d in days[5:]])])
    assert out.status == "loaded"
    archived = _archived(root)
    assert not archived.duplicated(["enterprise_id", "day"]).any()
    # the enterprise's whole month moved with it (never split between two partitions): the archive is the
    # store's copy under the register as it is now
    _same(archived, _stored(store))
    assert set(archived[archived["enterprise_id"] == ids[E1]]["region"]) == {"440114"}
    assert set(archived[archived["enterprise_id"] == ids[E3]]["region"]) == {"440114"}


def test_a_bad_file_leaves_the_archive_untouched(bureau, tmp_path, monkeypatch):
    store, _, acc = bureau
    settings = _settings(tmp_path)
    root = tmp_path / "archive"
    collect_paths(store, settings, [acc, _feed(tmp_path / "jan.csv", [("A1", "2017-01-05", 10.0),
                                                                       ("B1", "2017-01-06", 20.0)])])
    before = _snapshot(root)

    # interrupted midway (after its first chunk was staged): neither the store nor the archive change
    big = _feed(tmp_path / "big.csv", [("A1", d, 1.0) for d in pd.date_range("2017-01-01", periods=1500)
                                       .strftime("%Y-%m-%d")])

    def interrupt(message: str) -> None:
        if "1,000 rows" in message:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        collect_paths(store, settings, [big], progress=interrupt)
    assert _snapshot(root) == before

    # a failure after the archive's partitions were staged, before the store's commit: rolled back, and the
    # staged partitions dropped
    import monitor.ingest.files as files

    def refuse(*args, **kwargs):
        raise RuntimeError("the store refused the file")

    monkeypatch.setattr(files, "write_issues", refuse)
    (out,) = collect_paths(store, settings, [_feed(tmp_path / "feb.csv", [("A1", "2017-02-01", 3.0)])])
    monkeypatch.undo()
    assert out.status == "failed" and "refused" in out.message
    assert _snapshot(root) == before
    _same(_archived(root), _stored(store))

    # a file over the feed's row limit is refused midway
    small = _settings(tmp_path, **{"ingest.feed_max_rows": "100"})
    (out,) = collect_paths(store, small, [big])
    assert out.status == "failed"
    assert _snapshot(root) == before

    # a dry run writes nothing either
    collect_paths(store, settings, [_feed(tmp_path / "mar.csv", [("A1", "2017-03-01", 3.0)])], dry_run=True)
    assert _snapshot(root) == before


def test_a_crash_between_commit_and_publish_is_repaired_from_the_store(bureau, tmp_path, monkeypatch):
    store, ids, acc = bureau
    settings = _settings(tmp_path)
    root = tmp_path / "archive"
    collect_paths(store, settings, [acc, _feed(tmp_path / "jan.csv", [("A1", "2017-01-05", 10.0)])])

    def crash(pending: Path, root: Path) -> int:  # the process dies after the commit, before the renames
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store_archive, "publish_partitions", crash)
    (out,) = collect_paths(store, settings, [_feed(tmp_path / "fix.csv", [("A1", "2017-01-05", 12.0),
                                                                           ("B1", "2017-02-01", 4.0)])])
    monkeypatch.undo()
    assert out.status == "loaded"  # in the store
    assert any((root / store_archive.PENDING).iterdir())  # the journal is left behind
    assert _archived(root)["kwh"].tolist() == [10.0]  # the archive is behind the store
    # the next collect repairs the archive from the store first
    collect_paths(store, settings, [_feed(tmp_path / "mar.csv", [("B1", "2017-03-01", 5.0)])])
    assert not any((root / store_archive.PENDING).iterdir())
    _same(_archived(root), _stored(store))

    # ... and so does the compute stage's sync
    from monitor.engine.electricity import sync_archive

    monkeypatch.setattr(store_archive, "publish_partitions", crash)
    collect_paths(store, settings, [_feed(tmp_path / "apr.csv", [("A1", "2017-01-05", 13.0)])])
    monkeypatch.undo()
    assert any((root / store_archive.PENDING).iterdir())
    sync_archive(store, root)
    assert not any((root / store_archive.PENDING).iterdir())
    _same(_archived(root), _stored(store))


def test_without_an_archive_setting_nothing_is_archived(bureau, tmp_path):
    store, _, acc = bureau
    settings = load_settings(environ={}, overrides={"data_dir": str(tmp_path / "var")})
    collect_paths(store, settings, [acc, _feed(tmp_path / "jan.csv", [("A1", "2017-01-05", 10.0)])])
    assert not (tmp_path / "var" / "archive").exists() and not (tmp_path / "archive").exists()


# ------------------------------------------------------------------------- collect, then compute on Dask
def test_collect_then_dask_compute_equals_the_local_compute(medium_demo, tmp_path, client):
    from monitor.compute_monitoring import monitoring_series, monthly_meter
    from monitor.demo.inbox import _write_electricity
    from monitor.demo.load import load_demo
    from monitor.engine.electricity import archive_meter
    from monitor.store import Store

    store = Store.open(f"sqlite:///{tmp_path / 'store.sqlite'}")
    try:
        load_demo(store, medium_demo, until="2020-09")
        folder = tmp_path / "inbox"
        folder.mkdir()
        acc, feed = _write_electricity(medium_demo, "2020-09", folder)
        dask = _settings(tmp_path, **{"compute.engine": "dask", "dask.address": client.scheduler.address})
        outcomes = collect_paths(store, dask, [acc, feed])
        assert [o.status for o in outcomes] == ["loaded", "loaded"] and outcomes[1].rows_new > 1000
        root = tmp_path / "archive"
        # a correction of some accounts' August and September days, collected file by file
        lines = feed.read_bytes().decode("gbk").splitlines()[1:40]
        fix = _feed(tmp_path / "fix.csv", [(a, d.replace("2020/09", "2020/08"), float(k) * 1.5)
                                           for a, d, k in (line.split(",") for line in lines)])
        (fixed,) = collect_paths(store, dask, [fix])
        assert fixed.rows_new > 0
        _same(_archived(root), _stored(store))

        first = dt.date(2019, 9, 1)
        local_meter = monthly_meter(store, first).sort_values(["enterprise_id", "period"]).reset_index(drop=True)
        dask_meter = archive_meter(root, first, client=client)
        assert (dask_meter[["enterprise_id", "period", "days", "days_x"]].astype(str).to_numpy()
                == local_meter[["enterprise_id", "period", "days", "days_x"]].astype(str).to_numpy()).all()
        np.testing.assert_allclose(dask_meter[["kwh", "kwh_x"]].to_numpy(float),
                                   local_meter[["kwh", "kwh_x"]].to_numpy(float), rtol=1e-12, atol=0)

        months = [str(p) for p in pd.period_range("2019-11", "2020-09", freq="M")]
        local = monitoring_series(store, _settings(tmp_path, **{"electricity.archive": ""}), months)
        on_dask = monitoring_series(store, dask, months)
        assert any(k.startswith("electricity/yoy/") for k in local["series_key"])
        assert list(on_dask["series_key"]) == list(local["series_key"])
        np.testing.assert_allclose(on_dask["raw"].to_numpy(float), local["raw"].to_numpy(float), rtol=1e-9,
                                   atol=1e-9)
    finally:
        store.close()
