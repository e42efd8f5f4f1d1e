"""Benchmark: ingest generated daily electricity readings, against a bare baseline over the same rows.

Run::

    .venv/bin/python benchmarks/bench_ingest.py [--rows 10000000] [--postgres URL]

For each back-end it prints rows/s of ``imon collect`` on a utility export (CSV
parsed in chunks, validated, staged, upserted per account, summed per
enterprise, all in one transaction) and of the bare baseline: the same rows,
already in memory, written into a keyed table of the same shape in one
transaction (``executemany`` on SQLite, ``COPY`` on PostgreSQL).  The ratio is
baseline time / our time (1.0 = as fast as the bare write; the issue's aim is
>= 0.5).  PostgreSQL runs when ``--postgres`` or ``IMON_TEST_DATABASE_URL`` names
a database (it is emptied).
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import pandas as pd
from sqlalchemy import create_engine, text

from collectors.uscc import make_uscc
from monitor.ingest import collect_paths
from monitor.settings import load_settings
from monitor.store import Store
from monitor.store import models as m


def make_feed(folder: Path, rows: int, accounts: int) -> tuple[Path, Path, pd.DataFrame, pd.DataFrame]:
    days = rows // accounts
    rng = np.random.default_rng(1)
    account = np.repeat(np.array([f"03{i:08d}" for i in range(accounts)], dtype=object), days)
    day = np.tile(pd.date_range("2015-01-01", periods=days).strftime("%Y-%m-%d").to_numpy(dtype=object), accounts)
    kwh = np.round(rng.gamma(2.0, 500.0, accounts * days), 1)
    frame = pd.DataFrame({"户号": account, "日期": day, "用电量(kWh)": kwh})
    feed = folder / "utility_export.csv"
    frame.to_csv(feed, index=False, encoding="utf-8")
    firms = accounts // 2
    acc = folder / "accounts.csv"
    pd.DataFrame({"account_no": [f"03{i:08d}" for i in range(accounts)],
                  "uscc": [make_uscc("440112", f"{i // 2:08d}") for i in range(accounts)]}).to_csv(acc, index=False)
    firms_frame = pd.DataFrame({"uscc": [make_uscc("440112", f"{i:08d}") for i in range(firms)]})
    return feed, acc, frame.set_axis(["account_no", "day", "kwh"], axis=1), firms_frame


def register(store: Store, usccs: pd.DataFrame) -> None:
    rows = usccs.assign(name_zh="基准企业", district_code="440112", industry_code="39", size_class="small",
                        sample_weight=1.0, panel_start="2015-01")
    with store.begin() as conn:
        store.bulk_insert(m.Enterprise, rows, conn=conn)


def baseline(url: str, frame: pd.DataFrame) -> float:
    engine = create_engine(url)
    values = list(zip(frame["account_no"].tolist(), frame["day"].tolist(), frame["kwh"].tolist()))
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_baseline")
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("CREATE TABLE bench_baseline (account_no TEXT, day DATE, kwh REAL, "
                                 "PRIMARY KEY (account_no, day)) WITHOUT ROWID")
        else:
            conn.exec_driver_sql("CREATE TABLE bench_baseline (account_no VARCHAR(40), day DATE, "
                                 "kwh DOUBLE PRECISION, PRIMARY KEY (account_no, day))")
    t0 = time.perf_counter()
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("INSERT INTO bench_baseline VALUES (?, ?, ?)", values)
        else:
            raw = conn.connection.driver_connection
            with raw.cursor() as cur, cur.copy("COPY bench_baseline (account_no, day, kwh) FROM STDIN") as copy:
                for start in range(0, len(values), 200_000):
                    buf = io.StringIO()
                    for a, d, k in values[start:start + 200_000]:
                        buf.write(f"{a}\t{d}\t{k!r}\n")
                    copy.write(buf.getvalue())
    elapsed = time.perf_counter() - t0
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE bench_baseline")
    engine.dispose()
    return elapsed


def ours(store: Store, folder: Path, feed: Path, acc: Path) -> float:
    settings = load_settings(environ={}, overrides={"data_dir": str(folder / "var")})
    collect_paths(store, settings, [acc])
    t0 = time.perf_counter()
    (out,) = collect_paths(store, settings, [feed])
    elapsed = time.perf_counter() - t0
    assert out.status == "loaded" and out.rows_rejected == 0, out
    return elapsed


def reset_postgres(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--accounts", type=int, default=10_000)
    ap.add_argument("--postgres", default=os.environ.get("IMON_TEST_DATABASE_URL"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        feed, acc, frame, firms = make_feed(folder, args.rows, args.accounts)
        n = len(frame)
        print(f"generated {n:,} readings of {args.accounts:,} accounts ({feed.stat().st_size / 1e6:,.0f} MB CSV) "
              f"in {time.perf_counter() - t0:.0f} s")
        targets = [("SQLite", f"sqlite:///{folder / 'bench.sqlite'}")]
        if args.postgres:
            targets.append(("PostgreSQL", args.postgres))
        for label, url in targets:
            if label == "PostgreSQL":
                reset_postgres(url)
            store = Store.open(url)
            register(store, firms)
            t_ours = ours(store, folder, feed, acc)
            store.close()
            t_base = baseline(url, frame)
            print(f"{label}: imon collect {t_ours:.1f} s = {n / t_ours:,.0f} rows/s; bare baseline {t_base:.1f} s = "
                  f"{n / t_base:,.0f} rows/s; ratio {t_base / t_ours:.2f}")
            if label == "PostgreSQL":
                reset_postgres(url)


if __name__ == "__main__":
    main()
