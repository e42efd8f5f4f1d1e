"""The Chinese working calendar."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from monitor.calendar import daily_calendar, spring_festival_dates
from monitor.demo.survey import festival_share


def test_spring_festival_dates_match_known_years():
    sf = spring_festival_dates()
    assert [str(sf[y].date()) for y in (2015, 2020, 2023, 2024)] == ["2015-02-19", "2020-01-25", "2023-01-22",
                                                                        "2024-02-10"]


def test_holidays_and_make_up_working_days_from_the_state_council_table():
    cal = daily_calendar("2020-01-18", "2020-02-05").set_index("day")
    assert cal.loc["2020-01-24":"2020-02-02", "holiday"].all()  # extended for COVID-19
    assert bool(cal.loc["2020-01-19", "workday"])  # a Sunday worked to make up
    assert not bool(cal.loc["2020-01-25", "workday"])
    assert cal.loc["2020-01-25", "sf_offset"] == 0 and cal.loc["2020-01-18", "sf_offset"] == -7
    assert (cal["rule"] == "table").all()


def test_years_outside_the_table_fall_back_to_fixed_rules():
    cal = daily_calendar("2028-01-20", "2028-02-05").set_index("day")
    assert (cal["rule"] == "statutory-rule").all()
    sf = spring_festival_dates()[2028]
    assert bool(cal.loc[sf, "holiday"])


def test_festival_share_sums_to_one_per_festival():
    months = pd.period_range("2011-01", "2025-12", freq="M")
    share = pd.Series(festival_share(months, spring_festival_dates()), index=months)
    by_year = share.groupby(share.index.year).sum()
    np.testing.assert_allclose(by_year.loc[2012:2024], 1.0, atol=1e-12)
    assert share["2015-02"] == pytest.approx(17 / 22)  # 19 February: window 12 Feb - 5 Mar
    assert share["2020-01"] == pytest.approx(14 / 22)  # 25 January: window 18 Jan - 8 Feb
