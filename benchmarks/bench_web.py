"""The officials' dashboard on the demo store: server time of the overview and of a district page (issue 19).

    .venv/bin/python benchmarks/bench_web.py [--requests 40] [--postgres URL [--no-copy]]

Runs the application in-process (Starlette's test client: no network, so the figure is the server's time) against
the demo store (``var/imon.sqlite``, as ``make demo`` or ``cp -r /work/demo-var var`` leaves it) and, with
``--postgres`` or ``IMON_TEST_DATABASE_URL``, against a PostgreSQL copy of the same store (the tables the
dashboard reads, copied row for row with COPY into a freshly migrated database).  A leader asks for the overview
and a district official for their district page, each ``--requests`` times, with the dashboard's cache switched
off (every request computes the page from the store) and then on (the usual case: the data change monthly).
Prints p50, p95 and max in milliseconds; the goal is p95 < 500 ms on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PW = "bench password 1"
TABLES = ("ingest_source", "enterprise", "enterprise_month", "survey_response", "series_value", "forecast", "target_odds",
          "alert_event", "alert_silence", "publication", "series_adjustment")


def _users(store) -> None:
    from monitor.web.accounts import add_user
    from monitor.web.exceptions import AccountError

    for name, role, district in (("bench-leader", "leader", None), ("bench-liwan", "district", "440103")):
        try:
            add_user(store, username=name, role=role, password=PW, district=district)
        except AccountError:
            pass  # made by an earlier run


def copy_to_postgres(sqlite_path: Path, url: str) -> float:
    """Copy the dashboard's tables from the SQLite demo store into a fresh PostgreSQL database; seconds taken."""
    import sqlite3

    import psycopg
    from sqlalchemy import create_engine, make_url, text

    from monitor.store import Store

    t0 = time.perf_counter()
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    Store.open(url).close()  # migrated and seeded (districts, industries, ...)
    src = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain) as pg:
        for table in TABLES:
            cols = [r[1] for r in src.execute(f"PRAGMA table_info({table})")]
            pg_cols = {r[0] for r in pg.execute("SELECT column_name FROM information_schema.columns WHERE "
                                                "table_name = %s", (table,))}
            cols = [c for c in cols if c in pg_cols]
            names = ", ".join(cols)
            with pg.cursor() as cur:
                with cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in src.execute(f"SELECT {names} FROM {table}"):
                        copy.write_row(row)
            if "id" in cols:
                pg.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"(SELECT coalesce(max(id), 1) FROM {table}))")
        pg.execute("ANALYZE")
    src.close()
    return time.perf_counter() - t0


def measure(url: str, settings, requests: int) -> dict[str, list[float]]:
    from starlette.testclient import TestClient

    from monitor.store import Store
    from monitor.web import create_app
    from monitor.web.dashcommon import cache
    from tests.web_helpers import login

    store = Store.open(url)
    _users(store)
    app = create_app(settings, store)
    out: dict[str, list[float]] = {}
    for who, path in (("bench-leader", "/dash"), ("bench-liwan", "/dash/d/440103")):
        client = TestClient(app, follow_redirects=False)
        assert login(client, who, PW).status_code == 303
        assert client.get(path).status_code == 200  # warm-up: imports, first connection
        for cached in (False, True):
            cache(app.state.portal).seconds = 300.0 if cached else 0.0
            times = []
            for _ in range(requests):
                t0 = time.perf_counter()
                r = client.get(path)
                times.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200, r.text[:200]
            out[f"{path} ({'cached' if cached else 'uncached'})"] = times
    store.close()
    return out


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("--postgres", default=os.environ.get("IMON_TEST_DATABASE_URL"))
    ap.add_argument("--no-copy", action="store_true", help="PostgreSQL already holds the copy of an earlier run")
    args = ap.parse_args()
    from monitor.settings import load_settings

    settings = load_settings(None).with_overrides(web__secret_key="bench-" + "k" * 40)
    sqlite_path = Path(settings.data_dir) / "imon.sqlite"
    if not sqlite_path.exists():
        sys.exit(f"{sqlite_path} is missing: run `make demo` (or copy a demo store there) first")
    targets = [("SQLite", f"sqlite:///{sqlite_path}")]
    if args.postgres:
        if not args.no_copy:
            print("copying the demo store into PostgreSQL ... ", end="", flush=True)
            print(f"{copy_to_postgres(sqlite_path, args.postgres):.0f} s")
        targets.append(("PostgreSQL", args.postgres))
    print(f"{'store':<11} {'page':<34} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, url in targets:
        for page, times in measure(url, settings, args.requests).items():
            print(f"{name:<11} {page:<34} {statistics.median(times):8.1f} {_p(times, 95):8.1f} {max(times):8.1f}")


if __name__ == "__main__":
    main()
