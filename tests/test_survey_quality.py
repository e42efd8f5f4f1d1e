"""The survey quality queries: low-n flags and bounds, read from the stored values (both back-ends)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from monitor.results import write_series
from monitor.store.survey_quality import latest_cells, low_n_cells, out_of_bounds


def _put(store, rows, vintage):
    with store.begin() as conn:
        write_series(conn, pd.DataFrame(rows), vintage=vintage)


def test_low_n_cells_are_flagged_from_the_stored_counts(store):
    _put(store, [
        {"series_key": "pmi/headline", "period": "2026-10", "raw": 50.1, "se": 0.6, "n": 1100},
        {"series_key": "pmi/headline/district/440104", "period": "2026-10", "raw": 47.0, "se": 4.0, "n": 9},
        {"series_key": "pmi/new_orders/district/440104", "period": "2026-10", "raw": 45.0, "se": 5.0, "n": 9},
        {"series_key": "pmi/headline/district/440112", "period": "2026-10", "raw": 51.0, "se": 1.2, "n": 280},
        {"series_key": "electricity/total/city", "period": "2026-10", "raw": 1e9},
    ], dt.date(2026, 11, 1))
    # a later compute: the district grew past the threshold in November, October unchanged
    _put(store, [{"series_key": "pmi/headline/district/440104", "period": "2026-11", "raw": 48.0, "n": 31}],
         dt.date(2026, 12, 1))
    cells = low_n_cells(store, 30).set_index(["series_key", "period"])
    assert "electricity/total/city" not in cells.index.get_level_values(0)
    assert cells.loc[("pmi/headline/district/440104", "2026-10"), "low_n"]
    assert cells.loc[("pmi/new_orders/district/440104", "2026-10"), "low_n"]
    assert not cells.loc[("pmi/headline/district/440104", "2026-11"), "low_n"]
    assert not cells.loc[("pmi/headline", "2026-10"), "low_n"]
    one = low_n_cells(store, 30, period="2026-10", prefix="pmi/headline")
    assert set(one["series_key"]) == {"pmi/headline", "pmi/headline/district/440104", "pmi/headline/district/440112"}
    assert one.loc[one["low_n"], "series_key"].tolist() == ["pmi/headline/district/440104"]


def test_out_of_bounds_reads_the_latest_vintage(store):
    _put(store, [{"series_key": "pmi/new_orders/district/440104", "period": "2026-09", "raw": 3.4, "sa": -13.3}],
         dt.date(2026, 10, 1))
    assert len(out_of_bounds(store)) == 1
    with store.begin() as conn:
        write_series(conn, pd.DataFrame([{"series_key": "pmi/new_orders/district/440104", "period": "2026-09",
                                          "sa": 2.1}]), vintage=dt.date(2026, 10, 2), columns=("sa",))
    assert out_of_bounds(store).empty
    latest = latest_cells(store)
    assert latest.loc[0, "sa"] == 2.1 and latest.loc[0, "raw"] == 3.4
