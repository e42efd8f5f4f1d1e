"""Shared fixtures: stores on every back-end, demo builds, a pinned environment."""

from __future__ import annotations

import os
import re
import uuid

import pandas as pd
import pytest
import sqlalchemy
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from monitor.demo.generator import generate_demo
from monitor.store import Store

PG_ENV = "IMON_TEST_DATABASE_URL"


def pytest_report_header(config):
    import numpy
    import statsmodels

    pg = os.environ.get(PG_ENV)
    return [
        f"pandas {pd.__version__}, numpy {numpy.__version__}, statsmodels {statsmodels.__version__}, "
        f"SQLAlchemy {sqlalchemy.__version__}",
        f"PostgreSQL tests: {'on (' + re.sub(r':[^:@/]*@', ':***@', pg) + ')' if pg else 'skipped, ' + PG_ENV + ' unset'}",
    ]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    """No test sees the developer's own configuration."""
    for name in ("IMON_CONFIG", "IMON_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def _worker_database(admin_url: str, worker: str) -> str:
    """A PostgreSQL database of this xdist worker's own (created once), emptied for each test."""
    url = make_url(admin_url)
    name = f"{url.database}_{worker}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    target = url.set(database=name)
    engine = create_engine(target, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
    return target.render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request, tmp_path, worker_id):
    """URL of an empty database: a SQLite file, and PostgreSQL when IMON_TEST_DATABASE_URL is set."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    admin = os.environ.get(PG_ENV)
    if not admin:
        pytest.skip(f"{PG_ENV} is not set (.ci/run sets it)")
    return _worker_database(admin, worker_id if worker_id != "master" else f"m{uuid.uuid4().hex[:6]}")


@pytest.fixture
def store(store_url):
    """A freshly migrated store; checks that no pooled connection is left checked out."""
    s = Store.open(store_url)
    yield s
    status = s.engine.pool.status()
    s.close()
    if "Current Checked out connections" in status:
        assert "Current Checked out connections: 0" in status, status


@pytest.fixture(scope="session")
def full_demo():
    """The default demo build (1,200 enterprises, 2012-01..2026-10), generated once per worker."""
    return generate_demo(seed=2017, enterprises=1200, start=pd.Period("2012-01", "M"), end=pd.Period("2026-10", "M"))


@pytest.fixture(scope="session")
def small_demo():
    """A small build for store round trips."""
    return generate_demo(seed=11, enterprises=60, start=pd.Period("2019-06", "M"), end=pd.Period("2020-09", "M"))


@pytest.fixture(scope="session")
def medium_demo():
    """A build long enough for year-on-year rates and electricity baselines."""
    return generate_demo(seed=13, enterprises=80, start=pd.Period("2017-07", "M"), end=pd.Period("2020-09", "M"))


@pytest.fixture(scope="module")
def client():
    """A ``distributed.LocalCluster`` of 2 worker processes (one thread each) and its client, per test module."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()
