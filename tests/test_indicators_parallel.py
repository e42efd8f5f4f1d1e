"""The survey index engine over a process pool: the one-process result to the last bit."""

from __future__ import annotations

import pandas as pd
import pytest

from monitor.demo.generator import generate_demo
from monitor.indicators import _parallel, diffusion_indices, problem_shares


@pytest.fixture(scope="module")
def demo():
    return generate_demo(seed=5, enterprises=300, start=pd.Period("2016-01", "M"), end=pd.Period("2019-12", "M"))


@pytest.fixture
def pooled(monkeypatch):
    monkeypatch.setattr(_parallel, "MIN_ROWS_PER_WORKER", 0)  # a pool even for a small panel


@pytest.mark.parametrize("weighting", ["unweighted", "size"])
def test_pooled_diffusion_indices_equal_one_process(demo, pooled, weighting):
    responses = demo.responses.sort_values("revision").drop_duplicates(["enterprise_id", "period", "question"],
                                                                       keep="last")
    responses = responses[["enterprise_id", "period", "question", "answer"]]
    breakdowns = ("city", "district", "size", "industry", "key_sector", "district+size")
    one = diffusion_indices(responses, demo.enterprises, weighting=weighting, breakdowns=breakdowns, workers=1)
    for workers in (2, 3):
        many = diffusion_indices(responses, demo.enterprises, weighting=weighting, breakdowns=breakdowns,
                                 workers=workers)
        pd.testing.assert_frame_equal(one, many, check_exact=True)
    months = ["2017-03", "2017-04", "2018-01", "2019-12"]  # chosen months, one without its month before
    one = diffusion_indices(responses, demo.enterprises, periods=months, weighting=weighting, workers=1)
    many = diffusion_indices(responses, demo.enterprises, periods=months, weighting=weighting, workers=2)
    pd.testing.assert_frame_equal(one, many, check_exact=True)


def test_pooled_problem_shares_equal_one_process(demo, pooled):
    responses = demo.responses[["enterprise_id", "period", "question", "answer"]].drop_duplicates(
        ["enterprise_id", "period", "question"])
    one = problem_shares(demo.problems, responses, demo.enterprises, workers=1)
    many = problem_shares(demo.problems, responses, demo.enterprises, workers=2)
    pd.testing.assert_frame_equal(one, many, check_exact=True)


def test_small_inputs_stay_in_one_process(demo):
    assert _parallel.month_batches(pd.PeriodIndex(["2017-01", "2017-02"], freq="M").asi8, 2, 1000) == [
        pytest.approx(pd.PeriodIndex(["2017-01", "2017-02"], freq="M").asi8)]
    assert len(_parallel.month_batches(pd.period_range("2010-01", periods=24, freq="M").asi8, 2, 10**7)) == 2


def test_month_batches_on_dask_workers_equal_one_process(demo, pooled):
    distributed = pytest.importorskip("distributed")
    from monitor.engine.dask import DaskEngine

    responses = demo.responses[["enterprise_id", "period", "question", "answer"]].drop_duplicates(
        ["enterprise_id", "period", "question"])
    one = diffusion_indices(responses, demo.enterprises, workers=1)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    client = distributed.Client(cluster)
    try:
        many = diffusion_indices(responses, demo.enterprises, engine=DaskEngine(client))
    finally:
        client.close()
        cluster.close()
    pd.testing.assert_frame_equal(one, many, check_exact=True)
