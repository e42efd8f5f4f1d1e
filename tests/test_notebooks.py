"""The analyst notebooks (``notebooks/*.ipynb``) run top to bottom against a small demo store.

The store is built once per session in a temporary folder (four years, 80 enterprises; the city's PMI
components adjusted and reviewed, forecasts, two nowcast origins, target odds for the city, an alert
scan), and the notebooks find it through ``IMON_DATABASE_URL``, as an analyst's would.  A notebook
fails the test on any error.  The notebooks are stored without outputs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pandas as pd
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
#: The city series the notebook store adjusts (the headline's five components, the headline, electricity).
ADJUSTED = ("pmi/production", "pmi/new_orders", "pmi/raw_materials_inventory", "pmi/employment",
            "pmi/supplier_delivery_time", "pmi/headline", "electricity/total/city")


def build_notebook_store(folder: Path) -> str:
    """Build the notebooks' demo store in ``folder``; returns its URL."""
    from sqlalchemy import text

    from monitor.adjust import adjust_series
    from monitor.adjust_review import review_year
    from monitor.alerts import run_scan
    from monitor.alerts.transport import OutboxTransport
    from monitor.compute import compute_range
    from monitor.demo.generator import generate_demo
    from monitor.demo.load import load_demo
    from monitor.forecasts import forecast_series
    from monitor.nowcasts import nowcast_target, target_odds
    from monitor.settings import load_settings
    from monitor.store import Store

    first, last = pd.Period("2017-01", "M"), pd.Period("2020-12", "M")
    url = f"sqlite:///{folder / 'imon.sqlite'}"
    settings = load_settings(environ={}, overrides={
        "data_dir": str(folder), "adjust.processes": "1", "compute.breakdowns": "city,district,size",
        "forecast.series": "pmi/headline,electricity/total/city", "nowcast.maxiter": "100",
        "odds.simulations": "500"})
    with Store.open(url) as store:
        load_demo(store, generate_demo(seed=5, enterprises=80, start=first, end=last))
        report = compute_range(store, settings, first, last, vintage=dt.date(2021, 1, 5))
        assert not report.failed, report.failed
        assert not adjust_series(store, settings, pattern=list(ADJUSTED), vintage=dt.date(2021, 1, 6)).failed
        review_year(store, settings, 2020, pattern=list(ADJUSTED), vintage=dt.date(2021, 1, 8))
        forecast_series(store, settings, last)
        for origin in (last - 1, last):
            nowcast_target(store, settings, origin)
        with store.begin() as conn:  # the city's targets only: keeps the odds quick
            conn.execute(text("DELETE FROM target WHERE region <> '440100'"))
        target_odds(store, settings, last)
        run_scan(store, settings, send=False, transport=OutboxTransport(folder / "outbox"))
    return url


@pytest.fixture(scope="session")
def notebook_store(tmp_path_factory):
    return build_notebook_store(tmp_path_factory.mktemp("notebooks"))


def test_notebooks_are_stored_without_outputs():
    assert len(NOTEBOOKS) == 4
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for cell in cells:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, f"{path.name}: strip the outputs"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, notebook_store, monkeypatch, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("IMON_DATABASE_URL", notebook_store)
    monkeypatch.chdir(tmp_path)  # no imon.toml of the developer's is read
    env = {**os.environ, "IMON_DATABASE_URL": notebook_store, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=False,
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute(env=env)
