"""Benchmark: the survey portal under the deadline rush (issue 18).  Not a timed test.

One command (both back-ends; PostgreSQL when ``--postgres`` or ``IMON_TEST_DATABASE_URL`` names a database,
created if missing, its schema dropped and rebuilt)::

    .venv/bin/python benchmarks/bench_portal.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/imon_portal_bench

The issue's load goal: **1,200 enterprises submitting within the last hour before the deadline, 50 concurrent
clients, on 2 cores: p95 < 300 ms, no error, nothing lost or duplicated, the store checked afterwards.**

The default ``--mode open`` models exactly that: an open-loop (arrival-rate) run.  Enterprises arrive as a
Poisson process at the issue's rate (``--enterprises`` per ``--window`` seconds, 1,200 per hour), each makes a
person's visit -- sign-in page, (typing) sign in, questionnaire, (filling it in) save a draft, (checking)
submit through the workbook path's validation and ingest, receipt -- with exponential think times between the
steps (``--think`` scales them; means 8, 60 and 20 s), and at most ``--clients`` visits are in progress at once
(50: a visit arriving when all 50 are busy waits, and that wait counts in its response time).  Response time is
measured from when a request was due (its arrival or the end of the think time), not from when it was sent,
so a client held back by a slow server is not hidden (no coordinated omission).  ``--duration`` plays that
many seconds of the hour at the issue's rate (default 900 s: ~300 visits, ~1,800 requests; ``--duration 3600``
plays the whole hour); ``--rate-scale K`` plays K times the rate (headroom).

``--mode closed`` is the earlier saturation run: ``--clients`` clients replay every enterprise's visit back to
back with no think time (measures the server's throughput, not the bureau's release-day load).

The server is started as production runs it: ``uvicorn --workers N`` (``--workers``, default one per core) with
the ``monitor.web.asgi`` factory on loopback; the clients run in this process.  Printed per back-end: p50, p95,
p99 and max per step and overall, throughput, the server's CPU time per request and per visit (user + system of
the server's processes: the load-independent cost), the machine's load average, errors, and the store check
(exactly one submission per acknowledged visit, exactly the answers and figures sent, provenance ``portal``).
The last line is PASS or FAIL against the goal (exit status 0 or 1).
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
from sqlalchemy.engine import make_url

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


#: Steps of a visit, and the mean think time (seconds) a person spends after each before the next request.
STEPS = ("login page", "sign in", "questionnaire", "draft", "submit", "receipt")
THINK = {"login page": 8.0, "questionnaire": 60.0, "draft": 20.0}
GOAL_P95_MS = 300.0


class Tally:
    """Thread-safe record of response times (seconds from due to answered), errors and what was acknowledged."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.timings: list[tuple[str, float, float]] = []  # step, from due, from sent
        self.errors: list[tuple[str, str, object]] = []
        self.sent: dict[str, tuple[dict[str, int], float]] = {}
        self.attempted: set[str] = set()
        self.waited: list[float] = []  # seconds a visit waited for a free client (all busy)

    def timing(self, step: str, due: float, sent: float, done: float) -> None:
        with self.lock:
            self.timings.append((step, done - due, done - sent))

    def error(self, uscc: str, step: str, what: object) -> None:
        with self.lock:
            self.errors.append((uscc, step, what))


def visit(base: str, uscc: str, period: str, rng: np.random.Generator, tally: Tally, *, due: float,
          think: float) -> None:
    """One enterprise's visit.  ``due``: when its first request is due (``time.perf_counter``); ``think``: scale
    of the think times (0: back to back, the closed loop, where a request is due when it is sent)."""
    answers = {qc: int(rng.integers(-1, 2)) for qc in QUESTIONS}
    output = round(float(rng.uniform(80, 125)), 1)
    pauses = {k: float(rng.exponential(v)) * think for k, v in THINK.items()}
    state = {"due": due}
    with httpx.Client(base_url=base, timeout=120, follow_redirects=False) as c:
        def step(name: str, method: str, path: str, expect: int, **kw: object) -> httpx.Response | None:
            wait = state["due"] - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            sent = time.perf_counter()
            due_at = state["due"] if think > 0 else sent
            try:
                r = c.request(method, path, **kw)  # type: ignore[arg-type]
            except httpx.HTTPError as exc:
                tally.error(uscc, name, repr(exc))
                return None
            done = time.perf_counter()
            tally.timing(name, due_at, sent, done)
            state["due"] = done + pauses.get(name, 0.0)
            if r.status_code != expect:
                tally.error(uscc, name, r.status_code)
                return None
            return r

        page = step("login page", "GET", "/login", 200)
        if page is None:
            return
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        if step("sign in", "POST", "/login", 303, data={"csrf": csrf, "username": uscc, "password": PASSWORD}) is None:
            return
        form = step("questionnaire", "GET", f"/q/{period}", 200)
        if form is None:
            return
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
        data = {"csrf": csrf, "uscc": uscc, "seq": "0", "f_output_value": str(output),
                "f_electricity_kwh": "10000", "f_production_status": "normal", "p": ["tight_funding"],
                **{f"q_{k}": str(v) for k, v in answers.items()}}
        if step("draft", "POST", f"/q/{period}", 200, data={**data, "action": "draft"}) is None:
            return
        with tally.lock:
            tally.attempted.add(uscc)
        done = step("submit", "POST", f"/q/{period}", 303, data={**data, "action": "submit"})
        if done is None:
            return
        with tally.lock:
            tally.sent[uscc] = (answers, output)  # acknowledged: the receipt number was given
        step("receipt", "GET", done.headers["location"], 200)


def arrivals(n: int, window: float, duration: float, scale: float, seed: int = 2026) -> list[float]:
    """Poisson arrival times (seconds from the start) at ``scale * n / window`` a second, up to ``duration`` and
    at most ``n`` visits (each enterprise submits once)."""
    rng = np.random.default_rng(seed)
    rate = scale * n / window
    times: list[float] = []
    t = 0.0
    while len(times) < n:
        t += float(rng.exponential(1 / rate))
        if t > duration:
            break
        times.append(t)
    return times


def _q(values: pd.Series, q: float) -> float:
    return float(values.quantile(q)) if len(values) else float("nan")


def run_backend(name: str, url: str, args: argparse.Namespace, folder: Path) -> bool:
    """Run one back-end; True when it meets the goal."""
    n, clients, workers = args.enterprises, args.clients, args.workers
    open_loop = args.mode == "open"
    t0 = time.perf_counter()
    warm = 2 * workers  # extra accounts whose visits warm every worker up first (a production server is warm)
    store, ids = build_store(url, n + warm)
    codes = sorted(ids)
    warm_codes, codes = codes[:warm], codes[warm:]
    if open_loop:
        starts = arrivals(n, args.window, args.duration, args.rate_scale)
        print(f"\n== {name}: open loop, {n:,} enterprises per {args.window / 60:.0f} min x {args.rate_scale:g} "
              f"= {3600 * args.rate_scale * n / args.window:,.0f} visits/hour, {len(starts)} visits in "
              f"{args.duration:.0f} s, at most {clients} at once, think x {args.think:g}; {workers} server workers")
    else:
        starts = [0.0] * n
        print(f"\n== {name}: closed loop (saturation), {n:,} visits back to back by {clients} clients; "
              f"{workers} server workers")
    print(f"store built in {time.perf_counter() - t0:.1f} s")
    proc, base = start_server(url, folder, workers)
    period = now().strftime("%Y-%m")
    warm_tally = Tally()
    warmers = [threading.Thread(target=visit, args=(base, u, period, np.random.default_rng([1, i]), warm_tally),
                                kwargs={"due": time.perf_counter(), "think": 0.0}) for i, u in enumerate(warm_codes)]
    for t in warmers:
        t.start()
    for t in warmers:
        t.join()
    if warm_tally.errors:
        print("warm-up errors:", warm_tally.errors[:3])
    tally = Tally()
    todo: queue.Queue[tuple[int, str, float]] = queue.Queue()
    cpu0 = server_cpu_seconds(proc.pid)
    load0 = os.getloadavg()
    begin = time.perf_counter()
    for i, at in enumerate(starts):
        todo.put((i, codes[i], begin + at))

    def client() -> None:
        while True:
            try:
                i, u, due = todo.get_nowait()
            except queue.Empty:
                return
            late = time.perf_counter() - due
            if open_loop and late > 0.05:
                with tally.lock:
                    tally.waited.append(late)
            visit(base, u, period, np.random.default_rng([2026, i]), tally, due=due,
                  think=args.think if open_loop else 0.0)

    try:
        threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - begin
        cpu = server_cpu_seconds(proc.pid) - cpu0
        load1 = os.getloadavg()
    finally:
        proc.terminate()
        proc.wait(30)
    frame = pd.DataFrame(tally.timings, columns=["step", "due", "sent"])
    requests = len(frame)
    print(f"{requests:,} requests in {wall:.0f} s ({requests / wall:.2f} requests/s, {len(tally.sent) / wall * 3600:,.0f} "
          f"submissions/hour); errors: {len(tally.errors)}; visits that waited for a free client: {len(tally.waited)}")
    print(f"server CPU {cpu:.1f} s = {1000 * cpu / max(requests, 1):.1f} ms per request, "
          f"{1000 * cpu / max(len(tally.attempted), 1):.0f} ms per visit; server busy {100 * cpu / wall / os.cpu_count():.1f} % "
          f"of {os.cpu_count()} cores; machine load average (1, 5, 15 min) {load0[0]:.1f}/{load0[1]:.1f}/{load0[2]:.1f} "
          f"-> {load1[0]:.1f}/{load1[1]:.1f}/{load1[2]:.1f}")
    for step_name, g in [*((s, frame[frame["step"] == s]) for s in STEPS), ("all", frame)]:
        d = g["due"] * 1000
        print(f"  {step_name:<14} n={len(d):>5}  p50 {_q(d, .5):7.1f} ms  p95 {_q(d, .95):7.1f} ms  "
              f"p99 {_q(d, .99):7.1f} ms  max {d.max() if len(d) else float('nan'):7.1f} ms")
    if open_loop:
        sent_ms = frame["sent"] * 1000
        print(f"  (from when sent: p95 {_q(sent_ms, .95):.1f} ms, p99 {_q(sent_ms, .99):.1f} ms)")
    for e in tally.errors[:10]:
        print("  error:", e)
    lost, dup, wrong = check_store(store, period, n, tally, warm_codes)
    store.close()
    p95 = _q(frame["due"] * 1000, .95)
    ok = p95 < GOAL_P95_MS and not tally.errors and not (lost or dup or wrong) and requests > 0
    busy = load0[0] > 1.5 * (os.cpu_count() or 1) or load1[0] > 1.5 * (os.cpu_count() or 1)
    print(f"{name}: p95 {p95:.1f} ms (goal < {GOAL_P95_MS:.0f} ms), {len(tally.errors)} errors, {lost} lost, "
          f"{dup} duplicated, {wrong} altered -> {'PASS' if ok else 'FAIL'}"
          + ("  [machine busy: load above 1.5 per core, figures are pessimistic]" if busy else ""))
    return ok


def check_store(store: Store, period: str, n: int, tally: Tally, warm: list[str]) -> tuple[int, int, int]:
    """One submission each, exactly the answers sent, provenance portal; returns (lost, duplicated, altered)."""
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
        if uscc in warm:
            continue
        stored.setdefault(uscc, {})[question] = int(answer)
        kinds.add(kind)
    sent = tally.sent
    lost = [u for u in sent if u not in stored]
    wrong = [u for u in sent if u in stored and (stored[u] != sent[u][0] or ops.get(u) != sent[u][1])]
    dup = [e for e, c in subs if c != 1]
    unacknowledged = [u for u in stored if u not in sent]
    print(f"store check: {len(sent)} submissions acknowledged, {len(stored)} stored (of {n} enterprises; "
          f"{len(warm)} warm-up visits not counted); "
          f"{len(lost)} acknowledged but lost, {len(dup)} duplicated, {len(wrong)} stored with other answers than "
          f"sent, {len(unacknowledged)} stored whose client gave up waiting ({len(tally.attempted)} submits sent); "
          f"provenance {sorted(kinds)}")
    return len(lost), len(dup), len(wrong)


def _postgres_ready(url: str) -> None:
    """Create the database if it does not exist, then drop and rebuild its public schema."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": target.database}).first() is None:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=("open", "closed"), default="open",
                    help="open: arrivals at the issue's rate (default); closed: back-to-back saturation run")
    ap.add_argument("--enterprises", type=int, default=1200, help="enterprises submitting in the window (1,200)")
    ap.add_argument("--window", type=float, default=3600.0, help="seconds they submit in (the last hour: 3600)")
    ap.add_argument("--duration", type=float, default=900.0, help="seconds of the window to play (open loop)")
    ap.add_argument("--rate-scale", type=float, default=1.0, help="times the issue's arrival rate (open loop)")
    ap.add_argument("--think", type=float, default=1.0, help="scale of the think times (open loop)")
    ap.add_argument("--clients", type=int, default=50, help="visits in progress at most (50)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="server workers (one per core)")
    ap.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--postgres", default=os.environ.get("IMON_TEST_DATABASE_URL"))
    args = ap.parse_args()
    print(f"Goal (issue 18): {args.enterprises:,} enterprises submitting within the last hour before the deadline, "
          f"at most {args.clients} at once, on 2 cores: p95 < {GOAL_P95_MS:.0f} ms, no error, nothing lost or "
          f"duplicated.  This machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}.")
    results: dict[str, bool] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.backend in ("sqlite", "both"):
            (folder / "sqlite").mkdir()
            results["SQLite (WAL)"] = run_backend("SQLite (WAL)", f"sqlite:///{folder / 'sqlite' / 'bench.sqlite'}",
                                                  args, folder / "sqlite")
        if args.backend in ("postgresql", "both"):
            if not args.postgres:
                print("\nPostgreSQL skipped: pass --postgres URL or set IMON_TEST_DATABASE_URL")
                results["PostgreSQL"] = False
            else:
                _postgres_ready(args.postgres)
                (folder / "pg").mkdir()
                results["PostgreSQL"] = run_backend("PostgreSQL", args.postgres, args, folder / "pg")
    print("\n" + "; ".join(f"{k}: {'PASS' if v else 'FAIL'}" for k, v in results.items())
          + f" -> overall {'PASS' if results and all(results.values()) else 'FAIL'}")
    sys.exit(0 if results and all(results.values()) else 1)


if __name__ == "__main__":
    main()
