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


def _sums(store) -> set[tuple[int, str, float]]:
    frame = store.read_frame(select(m.ElectricityReading.enterprise_id, m.ElectricityReading.day,
                                    m.ElectricityReading.kwh))
    return {(int(e), str(d), float(k)) for e, d, k in frame.itertuples(index=False)}


def _ids(store) -> dict[str, int]:
    frame = store.read_frame(select(m.Enterprise.uscc, m.Enterprise.id))
    return {u: int(i) for u, i in frame.itertuples(index=False)}


def test_a_file_mixing_new_unchanged_and_changed_readings_counts_and_stores_each_right(registered, settings,
                                                                                        tmp_path):
    store = registered
    ids = _ids(store)
    first = _feed(tmp_path / "first.csv", [
        ("A1", "2017-01-05", "10"), ("A2", "2017-01-05", "1"), ('"B,1"', "2017-01-05", "5"),
        ("A1", "2017-01-06", "11"),
    ])
    (one,) = collect_paths(store, settings, [first])
    assert (one.rows_read, one.rows_new, one.rows_rejected) == (4, 4, 0)
    mixed = _feed(tmp_path / "mixed.csv", [
        ("A1", "2017-01-05", "10"),  # unchanged
        ("A2", "2017-01-05", "2"),  # changed
        ('"B,1"', "2017-01-06", "6"),  # new
        ("A2", "2017-01-06", "3"),  # new, for a day its enterprise already has
        ("A1", "2017-01-06", "11"),  # unchanged
    ])
    (two,) = collect_paths(store, settings, [mixed])
    assert (two.rows_read, two.rows_new, two.rows_rejected) == (5, 3, 0)
    revised = [i for i in two.issues if i.rule == "revised_readings"]
    assert len(revised) == 1 and revised[0].value == "1"
    assert _readings(store) == {("A1", "2017-01-05", 10.0, 2), ("A2", "2017-01-05", 2.0, 3),
                                ("B,1", "2017-01-05", 5.0, 4), ("A1", "2017-01-06", 11.0, 5),
                                ("B,1", "2017-01-06", 6.0, 4), ("A2", "2017-01-06", 3.0, 5)}
    assert _sums(store) == {(ids[E1], "2017-01-05", 12.0), (ids[E1], "2017-01-06", 14.0),
                            (ids[E2], "2017-01-05", 5.0), (ids[E2], "2017-01-06", 6.0)}
    (again,) = collect_paths(store, settings, [mixed], force=True)  # the same file again changes nothing
    assert (again.rows_new, again.status) == (0, "unchanged")


def test_a_new_month_with_repeated_keys_is_inserted_once_per_key_with_the_same_counts(registered, settings,
                                                                                      tmp_path):
    store = registered
    ids = _ids(store)
    (old,) = collect_paths(store, settings, [_feed(tmp_path / "jan.csv", [("A1", "2017-01-05", "1")])])
    assert old.rows_new == 1
    feb = _feed(tmp_path / "feb.csv", [
        ("A1", "2017-02-01", "120"), ("A1", "2017-02-01", "120"),  # the same twice: one reading
        ("A2", "2017-02-01", "7"), ("A2", "2017-02-01", "8"),  # different kWh: both rejected
        ("A2", "2017-02-02", "9"), ("ZZ", "2017-02-01", "5"),
    ])
    (out,) = collect_paths(store, settings, [feb])
    assert (out.rows_read, out.rows_new, out.rows_rejected) == (6, 2, 3)
    assert sorted(i.rule for i in out.issues) == ["duplicate_conflict"] * 2 + ["unknown_account"]
    assert _readings(store) == {("A1", "2017-01-05", 1.0, 2), ("A1", "2017-02-01", 120.0, 2),
                                ("A2", "2017-02-02", 9.0, 6)}
    assert _sums(store) == {(ids[E1], "2017-01-05", 1.0), (ids[E1], "2017-02-01", 120.0),
                            (ids[E1], "2017-02-02", 9.0)}
    # a first reading of A2 on a day its enterprise has A1's: summed with the stored one
    (more,) = collect_paths(store, settings, [_feed(tmp_path / "jan_a2.csv", [("A2", "2017-01-05", "3")])])
    assert more.rows_new == 1
    assert (ids[E1], "2017-01-05", 4.0) in _sums(store)


def test_the_sums_written_name_only_registered_enterprises_and_this_file(registered, settings, tmp_path):
    """``electricity_reading`` has no foreign keys: the ingest itself writes only ids it has joined."""
    store = registered
    feed = _feed(tmp_path / "feed.csv", [("A1", "2017-03-01", "4"), ("ZZ", "2017-03-01", "5"),
                                         ('"B,1"', "2017-03-02", "6"), ("QQ", "2017-03-02", "7")])
    (out,) = collect_paths(store, settings, [feed])
    assert (out.rows_new, out.rows_rejected) == (2, 2)
    frame = store.read_frame(select(m.ElectricityReading.enterprise_id, m.ElectricityReading.source_id))
    assert set(frame["enterprise_id"]) == set(_ids(store).values())
    assert set(frame["source_id"]) == {out.source_id}


def test_accounts_with_backslashes_and_tabs_are_stored_verbatim(store, tmp_path, settings):
    """PostgreSQL's staging is copied as text: a backslash (``K\\N`` would read as NULL unescaped) or a tab inside
    an account goes through escaped and comes back as it was."""
    store.upsert(m.Enterprise, [dict(uscc=E1, name_zh="企业", district_code="440112", industry_code="39",
                                     size_class="large", sample_weight=1.0, panel_start="2016-01", panel_end=None)])
    acc = tmp_path / "accounts.csv"
    acc.write_text(f"account_no,uscc\nK\\N,{E1}\n\"T\t1\",{E1}\nC\\\\2,{E1}\n", "utf-8")
    (mapped,) = collect_paths(store, settings, [acc])
    assert mapped.status == "loaded"
    (out,) = collect_paths(store, settings, [_feed(tmp_path / "feed.csv", [
        ("K\\N", "2017-01-05", "1.25"), ('"T\t1"', "2017-01-05", "2"), ("C\\\\2", "2017-01-05", "4")])])
    assert (out.rows_new, out.rows_rejected) == (3, 0)
    assert _readings(store) == {("K\\N", "2017-01-05", 1.25, 2), ("T\t1", "2017-01-05", 2.0, 3),
                                ("C\\\\2", "2017-01-05", 4.0, 4)}
    assert {k for _, _, k in _sums(store)} == {7.25}
