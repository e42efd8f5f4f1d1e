"""The feed's staging: a file without repeated keys (PostgreSQL's copy-and-merge path) and one that repeats keys
(folded per key, checked again) count and store the same, on every back-end."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from collectors.uscc import make_uscc
from monitor.ingest import collect_paths
from monitor.settings import load_settings
from monitor.store import models as m

E1 = make_uscc("440112", "MA5ABC12")
E2 = make_uscc("440114", "87654321")


@pytest.fixture
def settings(tmp_path):
    return load_settings(environ={}, overrides={"data_dir": str(tmp_path / "var"), "ingest.chunk_rows": "1000"})


@pytest.fixture
def registered(store, tmp_path, settings):
    store.upsert(m.Enterprise, [
        dict(uscc=u, name_zh="企业", district_code="440112", industry_code="39", size_class="large",
             sample_weight=1.0, panel_start="2016-01", panel_end=None) for u in (E1, E2)])
    acc = tmp_path / "accounts.csv"
    acc.write_text(f"account_no,uscc\nA1,{E1}\nA2,{E1}\n\"B,1\",{E2}\n", "utf-8")
    (out,) = collect_paths(store, settings, [acc])
    assert out.status == "loaded"
    return store


def _feed(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path.write_text("account_no,date,kwh\n" + "".join(f"{a},{d},{k}\n" for a, d, k in rows), "utf-8")
    return path


def _readings(store) -> set[tuple[str, str, float, int]]:
    frame = store.read_frame(select(m.ElectricityAccountReading.account_no, m.ElectricityAccountReading.day,
                                    m.ElectricityAccountReading.kwh, m.ElectricityAccountReading.source_row))
    return {(a, str(d), float(k), int(r)) for a, d, k, r in frame.itertuples(index=False)}


def test_unique_keys_go_straight_in_and_repeated_keys_are_folded(registered, settings, tmp_path):
    store = registered
    plain = _feed(tmp_path / "plain.csv", [
        ("A1", "2017-01-05", "100.5"), ("A2", "2017-01-05", "0.1"), ('"B,1"', "2017-01-05", "1e-3"),
        ("ZZ", "2017-01-05", "5"), ("A1", "2017-01-06", "110"),
    ])
    (first,) = collect_paths(store, settings, [plain])
    assert (first.rows_read, first.rows_new, first.rows_rejected) == (5, 4, 1)
    assert [i.rule for i in first.issues] == ["unknown_account"]
    assert _readings(store) == {("A1", "2017-01-05", 100.5, 2), ("A2", "2017-01-05", 0.1, 3),
                                ("B,1", "2017-01-05", 0.001, 4), ("A1", "2017-01-06", 110.0, 6)}
    repeated = _feed(tmp_path / "repeated.csv", [
        ("A1", "2017-01-07", "120"), ("A1", "2017-01-07", "120"),  # the same twice: one reading
        ("A2", "2017-01-07", "7"), ("A2", "2017-01-07", "8"),  # different kWh: both rejected
        ("ZZ", "2017-01-07", "5"), ("ZZ", "2017-01-07", "6"),  # an unknown account's conflict: a conflict
        ("ZZ", "2017-01-08", "5"),  # unknown account
        ("A1", "2017-01-05", "101"),  # changes a stored reading
    ])
    (second,) = collect_paths(store, settings, [repeated])
    assert (second.rows_read, second.rows_rejected, second.rows_new) == (8, 5, 2)
    rules = sorted(i.rule for i in second.issues)
    assert rules == ["duplicate_conflict"] * 4 + ["revised_readings", "unknown_account"]
    assert ("A1", "2017-01-07", 120.0, 2) in _readings(store) and ("A1", "2017-01-05", 101.0, 9) in _readings(store)
    sums = store.read_frame(select(m.ElectricityReading.day, m.ElectricityReading.kwh))
    assert {(str(d), float(k)) for d, k in sums.itertuples(index=False) if str(d) == "2017-01-05"} == {
        ("2017-01-05", 101.0 + 0.1), ("2017-01-05", 0.001)}
