"""A new month of the feed written straight into the readings (the direct path) counts, flags and stores exactly
what the staged path does, and falls back to the staged path (reading the file again) where it does not apply."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

import collectors
from collectors.limits import limits_for
from collectors.uscc import make_uscc
from monitor.ingest import collect_paths
from monitor.ingest.common import new_source
from monitor.ingest.electricity import ingest_electricity
from monitor.settings import load_settings
from monitor.store import models as m

E1 = make_uscc("440112", "MA5ABC12")
E2 = make_uscc("440114", "87654321")
CHUNK = 4


@pytest.fixture
def registered(store, tmp_path):
    settings = load_settings(environ={}, overrides={"data_dir": str(tmp_path / "var")})
    store.upsert(m.Enterprise, [
        dict(uscc=u, name_zh="企业", district_code="440112", industry_code="39", size_class="large",
             sample_weight=1.0, panel_start="2016-01", panel_end=None) for u in (E1, E2)])
    acc = tmp_path / "accounts.csv"
    acc.write_text(f"account_no,uscc\nA1,{E1}\nA2,{E1}\nB1,{E2}\n", "utf-8")
    (out,) = collect_paths(store, settings, [acc])
    assert out.status == "loaded"
    return store


def _feed(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path.write_text("account_no,date,kwh\n" + "".join(f"{a},{d},{k}\n" for a, d, k in rows), "utf-8")
    return path


def _ingest(store, path: Path, *, restartable: bool, keep: bool = False):
    """Ingest ``path`` in a transaction (rolled back unless ``keep``); the result, what the store then holds, and
    how often the file was read."""
    stream = collectors.get("electricity").stream
    reads = []

    def chunks():
        reads.append(1)
        return stream(path, chunksize=CHUNK, limits=limits_for("electricity", None))

    with store.engine.connect() as conn:
        trans = conn.begin()
        source_id = new_source(conn, "electricity", path, f"{path.name}{restartable}")
        result = ingest_electricity(conn, chunks if restartable else chunks(), source_id, file_name=path.name)
        readings = sorted((a, str(d), float(k), int(r)) for a, d, k, r in conn.execute(select(
            m.ElectricityAccountReading.account_no, m.ElectricityAccountReading.day, m.ElectricityAccountReading.kwh,
            m.ElectricityAccountReading.source_row)).all())
        sums = sorted((int(e), str(d), round(float(k), 9)) for e, d, k in conn.execute(select(
            m.ElectricityReading.enterprise_id, m.ElectricityReading.day, m.ElectricityReading.kwh)).all())
        (trans.commit if keep else trans.rollback)()
    issues = [(i.rule, i.row, i.message, i.severity, i.field, i.value) for i in result.issues]
    return (result.read, result.rejected, result.changed, result.counts, issues, readings, sums), len(reads)


def _same_as_staged(store, path: Path, *, reads: int):
    staged, _ = _ingest(store, path, restartable=False)
    direct, n = _ingest(store, path, restartable=True)
    assert direct == staged
    assert n == reads, "the direct path was not taken" if reads == 1 else "the file was not read again"
    return direct


def test_a_new_month_goes_straight_in_with_the_staged_paths_results(registered, tmp_path):
    rows = [(a, f"2024-03-{d:02d}", f"{100 + d}.5") for a in ("A1", "A2", "B1") for d in range(1, 8)]
    read, rejected, changed, counts, issues, readings, sums = _same_as_staged(
        registered, _feed(tmp_path / "f.csv", rows), reads=1)
    assert (read, rejected, changed, counts, issues) == (21, 0, 21, {}, [])
    assert len(readings) == 21 and len(sums) == 14


def test_unknown_accounts_of_a_new_month_are_rejected_with_the_same_counts(registered, tmp_path):
    rows = [("A1", "2024-03-01", "10"), ("X9", "2024-03-01", "5"), ("A2", "2024-03-01", "11"),
            ("X9", "2024-03-02", "5"), ("B1", "2024-03-01", "3"), ("X9", "2024-03-01", "5"),  # same key, same kWh
            ("Y7", "2024-03-03", "1"), ("A1", "2024-03-02", "12"), ("Y7", "2024-03-03", "2"),  # different kWh
            ("A1", "2024-03-03", "-4"), ("B1", "2024-03-02", "4")]
    read, rejected, changed, counts, issues, readings, _ = _same_as_staged(
        registered, _feed(tmp_path / "f.csv", rows), reads=1)
    assert (read, rejected, changed) == (11, 6, 5)
    assert counts["unknown_account"] == 3 and counts["duplicate_conflict"] == 2
    assert [i[:2] for i in issues if i[0] == "duplicate_conflict"] == [("duplicate_conflict", 8),
                                                                        ("duplicate_conflict", 10)]


@pytest.mark.parametrize("kwh", ["10", "99"], ids=["same_kwh", "different_kwh"])
def test_a_key_repeated_across_chunks_falls_back_to_the_staged_path(registered, tmp_path, kwh):
    rows = [(a, f"2024-03-{d:02d}", "10") for a in ("A1", "B1") for d in range(1, 6)] + [("A1", "2024-03-02", kwh)]
    read, rejected, changed, *_ = _same_as_staged(registered, _feed(tmp_path / "f.csv", rows), reads=2)
    assert read == 11 and rejected == (0 if kwh == "10" else 2)


def test_a_key_repeated_within_a_chunk_falls_back_to_the_staged_path(registered, tmp_path):
    rows = [("A1", "2024-03-01", "10"), ("A1", "2024-03-01", "11"), ("B1", "2024-03-01", "1")]
    _same_as_staged(registered, _feed(tmp_path / "f.csv", rows), reads=2)


def test_a_corrected_file_and_a_late_account_take_the_staged_path(registered, tmp_path):
    first = [(a, f"2024-03-{d:02d}", "10") for a in ("A1", "B1") for d in range(1, 6)]
    _ingest(registered, _feed(tmp_path / "first.csv", first), restartable=True, keep=True)
    corrected = [(a, d, "12" if (a, d) == ("B1", "2024-03-04") else k) for a, d, k in first]
    *_, issues, _, _ = _same_as_staged(registered, _feed(tmp_path / "corrected.csv", corrected), reads=2)
    assert [i[0] for i in issues] == ["revised_readings"]
    # the first chunk is new (B1's enterprise has nothing stored on the 6th to the 9th); A2 joins A1's stored days
    late = [("B1", f"2024-03-{d:02d}", "10") for d in range(6, 10)] + [("A2", "2024-03-02", "7")]
    *_, sums = _same_as_staged(registered, _feed(tmp_path / "late.csv", late), reads=2)
    assert sums[1][2] == 17.0


@pytest.mark.parametrize("history_month, days, odd, line", [
    ("2024-02", range(1, 6), ("B1", 3), 9),  # history before the file's days
    ("2024-04", range(20, 26), ("A1", 24), 6),  # history after them (a late file)
])
def test_an_unusual_reading_of_a_new_month_is_flagged_like_the_staged_path(registered, tmp_path, history_month,
                                                                           days, odd, line):
    history = [(a, f"{history_month}-{d:02d}", "10") for a in ("A1", "B1") for d in range(1, 15)]
    _ingest(registered, _feed(tmp_path / "history.csv", history), restartable=True, keep=True)
    march = [(a, f"2024-03-{d:02d}", "5000" if (a, d) == odd else "11") for a in ("A1", "B1") for d in days]
    *_, issues, _, _ = _same_as_staged(registered, _feed(tmp_path / "mar.csv", march), reads=1)
    assert [(i[0], i[1]) for i in issues] == [("unusual_kwh", line)]


def test_a_file_with_many_rows_of_unknown_accounts_falls_back_with_the_same_counts(registered, tmp_path,
                                                                                  monkeypatch):
    monkeypatch.setattr("monitor.ingest.electricity._MAX_DIRECT_UNKNOWN", 2)
    rows = [(a, f"2024-03-{d:02d}", "10") for a in ("A1", "X1", "B1", "X2") for d in range(1, 4)]
    read, rejected, changed, counts, *_ = _same_as_staged(registered, _feed(tmp_path / "f.csv", rows), reads=2)
    assert (read, rejected, changed, counts) == (12, 6, 6, {"unknown_account": 6})


def _scrambled_month() -> list[tuple[str, str, str]]:
    """A month of three accounts (two of one enterprise), in no order, kWh with decimals."""
    rows = [(a, f"2024-03-{d:02d}", f"{100 + 7 * d + i}.{d % 10}") for i, a in enumerate(("A1", "A2", "B1"))
            for d in range(1, 11)]
    return [rows[(7 * i) % len(rows)] for i in range(len(rows))]  # 7 is prime to 30: a permutation


def _count_calls(monkeypatch, name: str) -> list[int]:
    """Count the calls of ``monitor.store.electricity.<name>`` (still called through)."""
    from monitor.store import electricity as store_electricity

    calls: list[int] = []
    real = getattr(store_electricity, name)

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(store_electricity, name, spy)
    return calls


def test_the_sums_folded_in_memory_equal_the_sums_summed_in_sql(registered, tmp_path, monkeypatch):
    feed = _feed(tmp_path / "f.csv", _scrambled_month())
    written = _count_calls(monkeypatch, "write_day_sums")
    in_memory, reads = _ingest(registered, feed, restartable=True)
    assert reads == 1 and written == [1], "the direct path did not write the sums folded in memory"
    monkeypatch.setattr("monitor.ingest.electricity._MAX_MEMORY_SUMS", 0)
    in_sql, reads = _ingest(registered, feed, restartable=True)
    assert reads == 1 and written == [1], "the sums were not summed in SQL"
    staged, _ = _ingest(registered, feed, restartable=False)
    assert in_memory == in_sql == staged
    sums = in_memory[-1]
    assert len(sums) == 20 and sums[0][1:] == ("2024-03-01", 100 + 7 + 0.1 + 100 + 7 + 1 + 0.1)


def test_more_enterprise_days_than_memory_holds_are_summed_in_sql_from_the_chunk_they_overflow(
        registered, tmp_path, monkeypatch):
    monkeypatch.setattr("monitor.ingest.electricity._MAX_MEMORY_SUMS", 5)  # overflows on the second chunk
    written = _count_calls(monkeypatch, "write_day_sums")
    direct = _same_as_staged(registered, _feed(tmp_path / "f.csv", _scrambled_month()), reads=1)
    assert written == [] and len(direct[-1]) == 20


def test_day_sums_fold_chunks_in_file_order():
    from monitor.ingest.electricity import _DaySums

    rng = np.random.default_rng(3)
    firms = rng.integers(1, 2**31 - 1, 40)
    frame = pd.DataFrame({"firm": rng.choice(firms, 5000), "day": np.datetime64("1900-01-01") + rng.integers(
        0, 130_000, 5000).astype("timedelta64[D]"), "kwh": rng.gamma(2.0, 500.0, 5000)})
    frame["day"] = frame["day"].where(rng.random(5000) > 0.8, np.datetime64("2024-03-01"))  # keys met again
    sums = _DaySums(limit=10_000)
    for start in range(0, len(frame), 700):
        part = frame.iloc[start:start + 700]
        assert sums.add(part["firm"].to_numpy(), part["day"].to_numpy(), part["kwh"].to_numpy())
    firm, day, kwh = sums.result()
    expect = frame.groupby(["firm", "day"], sort=True)["kwh"].sum()
    assert list(zip(firm.tolist(), day.tolist(), strict=True)) == [(f, d.date()) for f, d in expect.index]
    np.testing.assert_allclose(kwh, expect.to_numpy(), rtol=1e-12)
    assert not _DaySums(limit=10).add(frame["firm"].to_numpy(), frame["day"].to_numpy(), frame["kwh"].to_numpy())


def test_accounts_of_any_width_and_script_go_straight_in_verbatim(registered, tmp_path):
    settings = load_settings(environ={}, overrides={"data_dir": str(tmp_path / "var")})
    accounts = ["C", "账户二号", "C-000000001", "Ω7", "c"]
    acc = tmp_path / "more_accounts.csv"
    acc.write_text("account_no,uscc\n" + "".join(f"{a},{E2}\n" for a in accounts), "utf-8")
    (out,) = collect_paths(registered, settings, [acc])
    assert out.status == "loaded"
    rows = [(a, f"2024-03-{d:02d}", f"{i}.25") for i, a in enumerate(reversed(accounts)) for d in (2, 1)]
    *_, readings, sums = _same_as_staged(registered, _feed(tmp_path / "f.csv", rows), reads=1)
    assert sorted({r[0] for r in readings}) == sorted(accounts)
    assert [s[2] for s in sums] == [0.25 * 5 + 10, 0.25 * 5 + 10]


@pytest.mark.parametrize("variables", [999, 7, 4])
def test_multi_row_inserts_store_every_row_in_order_and_refuse_a_repeated_key(tmp_path, variables):
    """SQLite's rows go in as statements of many rows: all rows, exact values, whatever the build's limit on bound
    parameters (a remainder statement included), and a key met twice fails as a row-wise insert would."""
    import sqlite3

    from monitor.store.electricity import _SQLITE_ROWS_PER_STATEMENT, _sqlite_insert_rows

    con = sqlite3.connect(tmp_path / "t.sqlite")
    con.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, variables)
    con.execute("CREATE TABLE r (a TEXT NOT NULL, d TEXT NOT NULL, kwh REAL, src INT, PRIMARY KEY (a, d))")
    n = 2 * _SQLITE_ROWS_PER_STATEMENT + 13
    a = [f"账户{i:05d}" for i in range(n)]
    d = ["2026-11-01"] * n
    kwh = (np.random.default_rng(7).random(n) * 1e6).tolist()
    cur = con.cursor()
    _sqlite_insert_rows(cur, "INSERT INTO r (a, d, kwh, src)", "(?, ?, ?, 9)", [a, d, kwh])
    got = con.execute("SELECT a, d, kwh, src FROM r ORDER BY rowid").fetchall()
    assert got == [(x, y, z, 9) for x, y, z in zip(a, d, kwh, strict=True)]
    with pytest.raises(sqlite3.IntegrityError):
        _sqlite_insert_rows(cur, "INSERT INTO r (a, d, kwh, src)", "(?, ?, ?, 9)", [["new", a[5]], [d[0]] * 2, [1.0, 2.0]])
    con.rollback()
    con.close()
