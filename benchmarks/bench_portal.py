"""Benchmark: the survey portal under the deadline rush (issue 18).  Not a timed test.

Run::

    .venv/bin/python benchmarks/bench_portal.py [--enterprises 1200] [--clients 50] [--workers 2]
                                                [--backend sqlite|postgresql|both] [--postgres URL]

For each back-end it builds a store with ``--enterprises`` sample enterprises (a year of figures each) and one
portal account per enterprise, starts the portal as production runs it (``uvicorn --workers N`` on loopback,
the ``monitor.web.asgi`` factory), and lets ``--clients`` concurrent clients play every enterprise's last-hour
visit: sign-in page, sign in, questionnaire, submit (the full workbook-path validation and ingest), receipt.
It prints p50/p95/p99 response times per step and overall, the throughput and the errors, then checks the
store: exactly one submission per enterprise, exactly the answers and figures each client sent, provenance
``portal`` on every answer.  PostgreSQL runs when ``--postgres`` or ``IMON_TEST_DATABASE_URL`` names a database
(its schema is dropped and rebuilt).  Goal: p95 < 300 ms on 2 cores, no error, nothing lost or duplicated.
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import httpx
import numpy as np
import pandas as pd
from sqlalchemy import create_engine, text

from collectors.uscc import make_uscc
from monitor.ingest.common import now
from monitor.store import Store
from monitor.store import models as m
from monitor.store import portal as q
from monitor.web.security import hash_password

QUESTIONS = ("production", "new_orders", "new_export_orders", "backlog_orders", "finished_goods_inventory",
             "purchase_quantity", "imports", "input_prices", "output_prices", "raw_materials_inventory",
             "employment", "supplier_delivery_time", "expectations")
PASSWORD = "bench password 1"
DISTRICTS = ("440103", "440104", "440105", "440106", "440111", "440112", "440113", "440114", "440115", "440117",
             "440118")


def build_store(url: str, n: int) -> tuple[Store, dict[str, int]]:
    store = Store.open(url)
    period = now().strftime("%Y-%m")
    codes = [make_uscc(DISTRICTS[i % 11], f"B{i:07d}") for i in range(n)]
    store.upsert(m.Enterprise, [dict(uscc=u, name_zh=f"基准企业{i}", district_code=DISTRICTS[i % 11],
                                     industry_code=("39", "36", "26", "18")[i % 4], size_class="medium",
                                     sample_weight=1.0, panel_start="2020-01") for i, u in enumerate(codes)])
    ids = dict(store.read_frame(text("SELECT uscc, id FROM enterprise")).itertuples(index=False))
    cur = pd.Period(period, "M")
    with store.begin() as conn:
        store.bulk_insert(m.EnterpriseMonth, pd.DataFrame(
            [dict(enterprise_id=ids[u], period=str(cur - k), output_value=100.0, electricity_kwh=10_000.0,
                  production_status="normal", revision=1, submitted_at=pd.Timestamp("2020-01-01"))
             for u in codes for k in range(1, 13)]), conn=conn)
        stamp = now()
        hashed = hash_password(PASSWORD)  # one hash (its own salt) for every account: the bench signs in, not hashes
        for u in codes:
            q.create_user(conn, username=u, role="enterprise", password_hash=hashed, now=stamp,
                          enterprise_id=ids[u])
        q.open_round(conn, period, stamp)
    return store, ids


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of the server's worker processes (Linux /proc): load-independent cost."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return float("nan")
    for child in [str(pid), *children]:
        try:
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, folder: Path, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    config = folder / "imon.toml"
    config.write_text(f'data_dir = "{folder}"\n[store]\nurl = "{url}"\n[survey]\ndeadline_day = 31\n'
                      f'[web]\nsecret_key = "bench-{"k" * 40}"\n', "utf-8")
    env = dict(os.environ, IMON_CONFIG=str(config), OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "monitor.web.asgi:app_factory",
                             "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
                             "--log-level", "warning", "--no-access-log"], env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("the portal did not start")


def visit(base: str, uscc: str, period: str, rng: np.random.Generator, timings: list, errors: list,
          sent: dict, attempted: set) -> None:
    answers = {qc: int(rng.integers(-1, 2)) for qc in QUESTIONS}
    output = round(float(rng.uniform(80, 125)), 1)
    with httpx.Client(base_url=base, timeout=300, follow_redirects=False) as c:
        def step(name: str, method: str, path: str, expect: int, **kw: object) -> httpx.Response | None:
            t0 = time.perf_counter()
            try:
                r = c.request(method, path, **kw)
            except httpx.HTTPError as exc:
                errors.append((uscc, name, repr(exc)))
                return None
            timings.append((name, time.perf_counter() - t0))
            if r.status_code != expect:
                errors.append((uscc, name, r.status_code))
                return None
            return r

        page = step("login page", "GET", "/login", 200)
        if page is None:
            return
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        if step("sign in", "POST", "/login", 303, data={"csrf": csrf, "username": uscc, "password": PASSWORD}) is None:
            return
        form = step("questionnaire", "GET", f"/q/{period}", 200)
        if form is None:
            return
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
        data = {"csrf": csrf, "uscc": uscc, "seq": "0", "action": "submit", "f_output_value": str(output),
                "f_electricity_kwh": "10000", "f_production_status": "normal", "p": ["tight_funding"],
                **{f"q_{k}": str(v) for k, v in answers.items()}}
        attempted.add(uscc)
        done = step("submit", "POST", f"/q/{period}", 303, data=data)
        if done is None:
            return
        sent[uscc] = (answers, output)  # acknowledged: the receipt number was given
        step("receipt", "GET", done.headers["location"], 200)


def run_backend(name: str, url: str, n: int, clients: int, workers: int, folder: Path) -> None:
    print(f"\n== {name}: {n} enterprises, {clients} concurrent clients, {workers} server workers")
    t0 = time.perf_counter()
    store, ids = build_store(url, n)
    print(f"store built in {time.perf_counter() - t0:.1f} s")
    proc, base = start_server(url, folder, workers)
    period = now().strftime("%Y-%m")
    todo: queue.Queue[tuple[int, str]] = queue.Queue()
    for i, u in enumerate(sorted(ids)):
        todo.put((i, u))
    timings: list = []
    errors: list = []
    sent: dict = {}
    attempted: set = set()

    def worker() -> None:
        while True:
            try:
                i, u = todo.get_nowait()
            except queue.Empty:
                return
            visit(base, u, period, np.random.default_rng([2026, i]), timings, errors, sent, attempted)

    cpu0 = server_cpu_seconds(proc.pid)
    load0 = os.getloadavg()[0]
    try:
        t0 = time.perf_counter()
        threads = [threading.Thread(target=worker) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        cpu = server_cpu_seconds(proc.pid) - cpu0
        load1 = os.getloadavg()[0]
    finally:
        proc.terminate()
        proc.wait(30)
    frame = pd.DataFrame(timings, columns=["step", "seconds"])
    print(f"{len(frame)} requests in {wall:.1f} s ({len(frame) / wall:.0f} requests/s, "
          f"{n / wall * 3600:,.0f} submissions/hour); errors: {len(errors)}")
    print(f"server CPU {cpu:.1f} s = {1000 * cpu / max(len(frame), 1):.1f} ms per request, "
          f"{1000 * cpu / max(n, 1):.0f} ms per enterprise visit; machine load average {load0:.1f} -> {load1:.1f} "
          f"on {os.cpu_count()} cores")
    rows = []
    for step_name, g in list(frame.groupby("step", sort=False)) + [("all", frame)]:
        s = g["seconds"] * 1000
        rows.append(f"  {step_name:<14} n={len(s):>5}  p50 {s.quantile(.5):7.1f} ms  p95 {s.quantile(.95):7.1f} ms  "
                    f"p99 {s.quantile(.99):7.1f} ms  max {s.max():7.1f} ms")
    print("\n".join(rows))
    for e in errors[:10]:
        print("  error:", e)
    # the store afterwards: one submission each, exactly the answers sent, provenance portal
    with store.engine.connect() as conn:
        subs = conn.execute(text("SELECT enterprise_id, count(*) FROM portal_submission GROUP BY enterprise_id")).all()
        got = conn.execute(text(
            "SELECT e.uscc, r.question, r.answer, s.kind FROM survey_response r JOIN enterprise e ON e.id = "
            "r.enterprise_id JOIN ingest_source s ON s.id = r.source_id WHERE r.period = :p"), {"p": period}).all()
        ops = dict(conn.execute(text("SELECT e.uscc, m.output_value FROM enterprise_month m JOIN enterprise e ON "
                                     "e.id = m.enterprise_id WHERE m.period = :p"), {"p": period}).all())
    stored: dict[str, dict[str, int]] = {}
    kinds = set()
    for uscc, question, answer, kind in got:
        stored.setdefault(uscc, {})[question] = int(answer)
        kinds.add(kind)
    lost = [u for u in sent if u not in stored]
    wrong = [u for u in sent if u in stored and (stored[u] != sent[u][0] or ops.get(u) != sent[u][1])]
    dup = [e for e, c in subs if c != 1]
    unacknowledged = [u for u in stored if u not in sent]
    print(f"store check: {len(sent)} submissions acknowledged, {len(subs)} stored (of {n} enterprises); "
          f"{len(lost)} acknowledged but lost, {len(dup)} duplicated, {len(wrong)} stored with other answers than "
          f"sent, {len(unacknowledged)} stored whose client gave up waiting ({len(attempted)} submits sent), "
          f"{n - len(attempted)} visits failed before submitting; provenance {sorted(kinds)}")
    store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--enterprises", type=int, default=1200)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--postgres", default=os.environ.get("IMON_TEST_DATABASE_URL"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.backend in ("sqlite", "both"):
            (folder / "sqlite").mkdir()
            run_backend("SQLite (WAL)", f"sqlite:///{folder / 'sqlite' / 'bench.sqlite'}", args.enterprises,
                        args.clients, args.workers, folder / "sqlite")
        if args.backend in ("postgresql", "both"):
            if not args.postgres:
                print("\nPostgreSQL skipped: pass --postgres URL or set IMON_TEST_DATABASE_URL")
                return
            engine = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            engine.dispose()
            (folder / "pg").mkdir()
            run_backend("PostgreSQL", args.postgres, args.enterprises, args.clients, args.workers, folder / "pg")


if __name__ == "__main__":
    main()
