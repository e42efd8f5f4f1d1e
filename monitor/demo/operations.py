"""Operating data of the demo panel: daily electricity, monthly reports, official statistics, targets.

Everything follows each firm's production *level*, which moves with its
latent production answer (``dlog L = 0.012 (z - mean z) + trend + noise``), so a firm that
answers "higher" does produce more, and its meter shows it:

- daily kWh = base load x level x calendar factor x status factor x noise, where
  the calendar factor has weekends, public holidays, the Spring Festival
  shutdown (continuous-process industries keep running) and make-up working days;
  a semi-stopped month runs at 30-45 %, a stopped one at 2-6 % (standby load);
- monthly output value = revenue/12 x level x output-price index x working-day
  share x status factor; finished-goods inventory, sales, costs, capacity
  utilisation and staff follow from it;
- official district statistics are computed from the panel's own output
  (matched-sample year-on-year growth at constant prices, as the statistics
  bureau would) plus publication noise; January alone is never published.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..reference import CITY_CODE
from .panel import Panel

__all__ = ["Operations", "draw_operations", "draw_official", "draw_targets", "draw_accounts", "PLAN_TARGETS"]

#: Process industries that run through weekends and the festival.
CONTINUOUS = {"22", "25", "26", "28", "30", "31", "32"}
#: Electricity intensity, kWh per 10k yuan of annual revenue.
INTENSITY = {"25": 900.0, "26": 700.0, "28": 900.0, "30": 1100.0, "31": 1500.0, "32": 1200.0, "22": 600.0,
             "29": 300.0, "17": 350.0, "33": 250.0, "36": 80.0, "39": 120.0, "27": 150.0}

#: The bureau's 2017 plan: annual targets for the city (indicator, comparison, value, unit).
PLAN_TARGETS: tuple[tuple[str, str, float, str], ...] = (
    ("iva/ytd_yoy", ">=", 6.5, "%"),
    ("output/ytd_yoy", ">=", 6.5, "%"),
    ("investment/industrial/ytd_yoy", ">=", 10.0, "%"),
    ("investment/tech_transformation/ytd_yoy", ">=", 20.0, "%"),
    ("energy_intensity/change", "<=", -4.0, "%"),
    ("advanced_manufacturing/share", ">=", 62.0, "%"),
    ("private_economy/share", ">=", 39.0, "%"),
    ("fibre_to_home/rate", ">=", 85.0, "%"),
)


@dataclass
class Operations:
    """What :func:`draw_operations` returns.

    Attributes
    ----------
    electricity : pandas.DataFrame
        ``enterprise_id, day, kwh`` for every active firm-day.
    monthly : pandas.DataFrame
        Rows of the ``enterprise_month`` table (reporting firms only).
    real_output : numpy.ndarray
        ``F x T`` output at constant prices (NaN outside the panel), reported or not.
    """

    electricity: pd.DataFrame
    monthly: pd.DataFrame
    real_output: np.ndarray


#: Mean monthly real growth of a firm's production level (with the cycle's, about 6.5 % a year in 2016:
#: Guangzhou's industrial value added grew 6.5 % that year).
TREND = 0.0053
#: The anchor: Guangzhou 2016, enterprises above designated size (100 million yuan): output value and value
#: added, both +6.5 %; technical-transformation investment +28.2 % (27 bn).
ANCHOR_YEAR = 2016
CITY_OUTPUT_2016 = 19_556.0
CITY_VALUE_ADDED_2016 = 4_878.0


def reference_month(months: pd.PeriodIndex) -> int:
    """Position of the frame's reference month (June of :data:`ANCHOR_YEAR`, clipped to the panel's months)."""
    return int(np.clip((pd.Period(f"{ANCHOR_YEAR}-06", "M") - months[0]).n, 0, len(months) - 1))


def price_levels(cycle: pd.DataFrame, months: pd.PeriodIndex) -> tuple[np.ndarray, np.ndarray]:
    """Output and input price levels (1 in the reference month) driven by the price diffusion indices.

    A price index moves with the share of firms reporting higher prices *relative to its usual level*: the
    indices' deviations from their mean over the panel's months (the NBS input-price index averages well
    above 50 while producer prices barely rose over 2012-2023).  Driving the level by ``DI - 50`` made input
    prices quadruple over the demo and the material costs 2.8 times the output value.
    """
    ref = reference_month(months)
    out = []
    for code, k in (("output_prices", 0.0008), ("input_prices", 0.0012)):
        di = cycle[code].to_numpy()
        level = np.exp(np.cumsum(k * (di - di.mean())))
        out.append(level / level[ref])
    return out[0], out[1]


def _calendar_factors(cal: pd.DataFrame, continuous: np.ndarray, saturday: np.ndarray,
                      shutdown: np.ndarray) -> np.ndarray:
    """Firm x day activity factors from the working calendar."""
    wd, sat = cal["workday"].to_numpy(), (cal["weekday"] == 5).to_numpy()
    hol = cal["holiday"].to_numpy()
    sf = cal["sf_offset"].to_numpy()
    f = np.where(wd, 1.0, np.where(hol, 0.3, np.where(sat, 1.0, 0.45)))[None, :].repeat(len(continuous), 0)
    f = np.where(~wd[None, :] & sat[None, :] & ~hol[None, :], saturday[:, None], f)
    in_shut = (sf >= -4) & (sf <= 8)
    ramp = (sf > 8) & (sf <= 15)
    f = np.where(in_shut[None, :], shutdown[:, None], f)
    f = np.where(ramp[None, :] & wd[None, :], 0.65, f)
    cont = np.where(wd, 1.0, 0.95)[None, :] * np.where(in_shut, 0.85, 1.0)[None, :]
    return np.where(continuous[:, None], cont, f)


def draw_operations(
    panel: Panel,
    cycle: pd.DataFrame,
    latent: dict[str, np.ndarray],
    status: np.ndarray,
    responded: np.ndarray,
    calendar: pd.DataFrame,
    festival: np.ndarray,
    rng: np.random.Generator,
) -> Operations:
    """Draw daily electricity and the monthly enterprise reports.

    Parameters
    ----------
    panel, cycle, status, responded, festival
        As produced by the panel, cycle and survey steps.
    latent
        Latent answer scores (``production``, ``finished_goods_inventory``, ``employment``).
    calendar
        :func:`monitor.calendar.daily_calendar` over the panel's days.
    rng
        Random generator.
    """
    ent = panel.enterprises
    F, T = (int(n) for n in panel.active.shape)
    months = panel.months
    active = panel.active
    division = ent["industry_code"].to_numpy()
    revenue = ent["revenue"].to_numpy(dtype=float)

    z = np.nan_to_num(np.clip(latent["production"], -3, 3))
    trend = rng.normal(TREND, 0.003, F)[:, None]
    # The answers move the level around the trend (a firm answering "higher" produces more); their long-run
    # mean does not add to the trend, which alone sets the growth rate.
    z_mean = z[active].mean() if active.any() else 0.0
    growth = np.where(active, 0.012 * (z - z_mean) + trend + rng.normal(0, 0.01, (F, T)), 0.0)
    level = np.exp(np.cumsum(growth, axis=1))
    # ``revenue`` is the firm's revenue in the frame's reference year (mid-2016, the anchor year; a firm joining
    # later: its first month), so the level is 1 there.
    ref = reference_month(months)
    anchor = np.clip(ref, ent["start_idx"].to_numpy(), ent["end_idx"].to_numpy())
    level /= np.take_along_axis(level, anchor[:, None], axis=1)
    p_out, p_in = price_levels(cycle, months)
    status_factor = np.where(status == 2, rng.uniform(0.02, 0.06, (F, T)),
                             np.where(status == 1, rng.uniform(0.30, 0.45, (F, T)), 1.0))

    continuous = np.isin(division, list(CONTINUOUS))
    saturday = rng.uniform(0.4, 0.95, F)
    shutdown = rng.uniform(0.08, 0.2, F)
    factors = _calendar_factors(calendar, continuous, saturday, shutdown)  # F x D
    day_month = calendar["day"].dt.to_period("M")
    month_pos = pd.Index(months).get_indexer(day_month)
    month_activity = np.zeros((F, T))
    np.add.at(month_activity.T, month_pos, factors.T)
    typical = month_activity.mean(axis=1, keepdims=True)
    days_share = month_activity / typical

    base_kwh = revenue * np.array([INTENSITY.get(d, 110.0) for d in division]) / 330.0
    # Daily electricity for active firm-days only.
    ids = ent["id"].to_numpy()
    fi_all, di_all, kwh_all = [], [], []
    for t in range(T):
        firms = np.flatnonzero(active[:, t])
        days = np.flatnonzero(month_pos == t)
        if len(firms) == 0 or len(days) == 0:
            continue
        scale = (base_kwh[firms] * level[firms, t] * status_factor[firms, t])[:, None]
        kwh = scale * factors[np.ix_(firms, days)] * np.exp(rng.normal(0, 0.06, (len(firms), len(days))))
        fi_all.append(np.repeat(ids[firms], len(days)))
        di_all.append(np.tile(days, len(firms)))
        kwh_all.append(kwh.ravel())
    day_values = calendar["day"].to_numpy()
    electricity = pd.DataFrame({
        "enterprise_id": np.concatenate(fi_all).astype(np.int64),
        "day": day_values[np.concatenate(di_all)],
        "kwh": np.round(np.concatenate(kwh_all), 1),
    })
    monthly_kwh = np.zeros((F, T))
    np.add.at(monthly_kwh, (np.searchsorted(ids, electricity["enterprise_id"].to_numpy()),
                            month_pos[np.concatenate(di_all)]), electricity["kwh"].to_numpy())

    real = revenue[:, None] / 12 * level * days_share * status_factor
    output = real * p_out[None, :]
    fgi_z = np.nan_to_num(np.clip(latent["finished_goods_inventory"], -3, 3))
    inventory = 0.5 * revenue[:, None] / 12 * np.exp(rng.normal(0, 0.3, F))[:, None] * level * p_out[None, :] \
        * np.exp(np.cumsum(np.where(active, 0.02 * fgi_z, 0.0), axis=1))
    prev_inv = np.concatenate([inventory[:, :1], inventory[:, :-1]], axis=1)
    sales = np.maximum(output - (inventory - prev_inv), 0.1 * output)
    # Cost structure (shares of output value at reference prices): energy from the meter (0.68 yuan/kWh),
    # materials what is left of 50-66 % after energy, labour 7-14 %, other 4-8 %: together 70-90 % of output,
    # as for Guangzhou's industry (costs of principal business about 85 % of revenue).
    energy_cost = monthly_kwh * 0.68 / 1e4
    energy_share = np.array([INTENSITY.get(d, 110.0) for d in division]) * 0.68 / 1e4
    share = np.clip(rng.uniform(0.50, 0.66, F) - energy_share, 0.2, None)[:, None]
    raw_cost = output * share * (p_in / p_out)[None, :]
    emp_z = np.nan_to_num(np.clip(latent["employment"], -3, 3))
    staff_index = np.exp(np.cumsum(np.where(active, 0.008 * emp_z, 0), 1))
    staff_index /= np.take_along_axis(staff_index, anchor[:, None], axis=1)
    wage = 1.07 ** ((np.array([m.ordinal for m in months]) - months[ref].ordinal) / 12)
    labour_cost = (revenue / 12 * rng.uniform(0.07, 0.14, F))[:, None] * staff_index \
        * (wage * (1 + 0.8 * festival))[None, :]
    other_cost = output * rng.uniform(0.04, 0.08, F)[:, None]
    run_max = np.fmax.accumulate(np.where(active, level, np.nan), axis=1)
    utilisation = np.clip(100 * level / (1.25 * run_max) * status_factor * days_share ** 0.3
                          + rng.normal(0, 2, (F, T)), 0, 110)

    reports = active & ((rng.random((F, T)) < 0.97) | responded)
    fi, ti = np.nonzero(reports)
    first = np.array([(m + 1).start_time for m in months], dtype="datetime64[ns]")
    submitted = first[ti] + rng.integers(0, 8, len(fi)).astype("timedelta64[D]") \
        + rng.integers(9 * 3600, 18 * 3600, len(fi)).astype("timedelta64[s]")
    status_names = np.array(["normal", "semi_stopped", "stopped"], dtype=object)
    monthly = pd.DataFrame({
        "enterprise_id": ids[fi],
        "period": np.array([str(m) for m in months], dtype=object)[ti],
        "output_value": np.round(output[fi, ti], 2),
        "electricity_kwh": np.round(monthly_kwh[fi, ti] * np.exp(rng.normal(0, 0.01, len(fi))), 0),
        "sales_value": np.round(sales[fi, ti], 2),
        "finished_goods_inventory": np.round(inventory[fi, ti], 2),
        "raw_material_cost": np.round(raw_cost[fi, ti], 2),
        "labour_cost": np.round(labour_cost[fi, ti], 2),
        "energy_cost": np.round(energy_cost[fi, ti], 2),
        "other_cost": np.round(other_cost[fi, ti], 2),
        "production_status": status_names[status[fi, ti]],
        "capacity_utilisation": np.round(utilisation[fi, ti], 1),
        "revision": np.ones(len(fi), dtype=np.int16),
        "submitted_at": submitted,
    })
    return Operations(electricity, monthly, np.where(active, real, np.nan))


def _matched_growth(real: np.ndarray, weights: np.ndarray, rows: np.ndarray, t: int, months_back: int = 12,
                    span: int = 1) -> float:
    """Year-on-year growth of the weighted sum over ``span`` months ending at t, matched firms only."""
    if t - span + 1 - months_back < 0:
        return float("nan")
    now = real[rows, t - span + 1 : t + 1]
    then = real[rows, t - span + 1 - months_back : t + 1 - months_back]
    ok = ~np.isnan(now).any(axis=1) & ~np.isnan(then).any(axis=1)
    if ok.sum() < 3:
        return float("nan")
    w = weights[rows][ok]
    return float((w @ now[ok].sum(axis=1)) / (w @ then[ok].sum(axis=1)) - 1)


def draw_official(panel: Panel, real: np.ndarray, cycle: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Official monthly and annual statistics per district and for the city.

    Series (``official_statistic.series``): ``iva/yoy`` (month, March-December),
    ``iva/ytd_yoy`` and ``output/ytd_yoy`` (year to date, February-December),
    ``investment/industrial/ytd_yoy``, ``investment/tech_transformation/ytd_yoy``
    (year to date), and for the city, yearly, ``energy_intensity/change``,
    ``advanced_manufacturing/share``, ``private_economy/share`` and ``fibre_to_home/rate`` (the share of
    households with fibre to the home), all in percent; and the city's levels
    ``output/ytd`` and ``iva/ytd`` (100 million yuan, year to date from February): the frame's totals
    estimated from the panel (calibrated on Guangzhou 2016, :data:`CITY_OUTPUT_2016`).
    """
    ent = panel.enterprises
    months = panel.months
    weights = (ent["sample_weight"] * ent["revenue"]).to_numpy(dtype=float)
    regions = {CITY_CODE: np.arange(len(ent))}
    for code, rows in ent.groupby("district_code").indices.items():
        regions[code] = rows
    rows_out = []
    offsets = {code: rng.normal(0, 1.2) for code in regions}
    offsets[CITY_CODE] = 0.0
    p_out, _ = price_levels(cycle, months)
    years = sorted({m.year for m in months})
    # City levels (100 million yuan, year to date): the Horvitz-Thompson estimate of the frame's totals from the
    # panel (design weight 1 / pi), value added at the division's value-added rate.
    from .panel import DEFAULT_VA_RATE, VA_RATE

    design = ent["sample_weight"].to_numpy(dtype=float)
    va_rate = np.array([VA_RATE.get(d, DEFAULT_VA_RATE) for d in ent["industry_code"]])
    nominal = np.nan_to_num(real) * p_out[None, :]
    city_output = design @ nominal / 1e4
    city_va = (design * va_rate) @ nominal / 1e4
    invest = {(c, y): (rng.normal(10, 7), rng.normal(18, 12)) for c in regions for y in years}
    levels = []
    for t, m in enumerate(months):
        if m.month >= 2 and t - m.month + 1 >= 0:
            span = slice(t - m.month + 1, t + 1)
            levels.append(("output/ytd", CITY_CODE, str(m), round(float(city_output[span].sum()), 1)))
            levels.append(("iva/ytd", CITY_CODE, str(m), round(float(city_va[span].sum()), 1)))
        if t < 12 or m.month == 1:
            continue
        for code, rows in regions.items():
            noise = 0.6 if code == CITY_CODE else 1.0
            if m.month >= 3:
                g = _matched_growth(real, weights, rows, t)
                if not np.isnan(g):
                    rows_out.append(("iva/yoy", code, str(m), round(100 * g * 0.95 + offsets[code] + rng.normal(0, noise), 1)))
            ytd = _matched_growth(real, weights, rows, t, span=m.month)
            if not np.isnan(ytd):
                iva = 100 * ytd * 0.95 + offsets[code] + rng.normal(0, noise / np.sqrt(m.month))
                rows_out.append(("iva/ytd_yoy", code, str(m), round(iva, 1)))
                price = p_out[t - m.month + 1 : t + 1].mean() / p_out[t - m.month + 1 - 12 : t + 1 - 12].mean()
                rows_out.append(("output/ytd_yoy", code, str(m), round(100 * ((1 + ytd) * price - 1) + offsets[code]
                                                                       + rng.normal(0, noise), 1)))
            ind, tech = invest[(code, m.year)]
            rows_out.append(("investment/industrial/ytd_yoy", code, str(m),
                             round(ind + rng.normal(0, 12 / np.sqrt(m.month)), 1)))
            rows_out.append(("investment/tech_transformation/ytd_yoy", code, str(m),
                             round(tech + rng.normal(0, 20 / np.sqrt(m.month)), 1)))
    for i, y in enumerate(years):
        if not any(m.year == y and m.month == 12 for m in months):
            continue
        rows_out.append(("energy_intensity/change", CITY_CODE, str(y), round(rng.normal(-4.2, 1.5), 1)))
        rows_out.append(("advanced_manufacturing/share", CITY_CODE, str(y), round(57.0 + 0.7 * i + rng.normal(0, 0.8), 1)))
        rows_out.append(("private_economy/share", CITY_CODE, str(y), round(36.5 + 0.3 * i + rng.normal(0, 0.6), 1)))
        # fibre-to-home rate (光纤入户率): its own generator per year, so the other draws stay as they were
        fibre = 78.0 + 1.6 * i + np.random.default_rng([y, 85]).normal(0, 0.7)
        rows_out.append(("fibre_to_home/rate", CITY_CODE, str(y), round(min(fibre, 99.0), 1)))
    frame = pd.DataFrame(rows_out, columns=["series", "region", "period", "value"]).assign(unit="%")
    frame = pd.concat([frame, pd.DataFrame(levels, columns=["series", "region", "period", "value"]).assign(unit="亿元")],
                      ignore_index=True)
    return frame.dropna(subset=["value"]).reset_index(drop=True)


def draw_targets(panel: Panel, rng: np.random.Generator) -> pd.DataFrame:
    """Annual targets from the 2017 plan, for the city and (growth and investment) for each district.

    The city's targets are the plan's, every year from 2017 (or the panel's first
    year) to its last; districts get the growth and investment targets shifted by
    a district-specific half-point step, as district plans are.
    """
    years = sorted({m.year for m in panel.months if m.year >= 2017})
    districts = sorted(panel.enterprises["district_code"].unique())
    shift = {d: 0.5 * int(rng.integers(-2, 4)) for d in districts}
    rows = []
    for y in years:
        for indicator, cmp, value, unit in PLAN_TARGETS:
            rows.append((y, indicator, CITY_CODE, cmp, value, unit))
            if indicator.endswith("ytd_yoy"):
                for d in districts:
                    rows.append((y, indicator, d, cmp, value + shift[d], unit))
    return pd.DataFrame(rows, columns=["year", "indicator", "region", "comparison", "value", "unit"])


def draw_accounts(panel: Panel, rng: np.random.Generator) -> pd.DataFrame:
    """The utility's accounts: one to three meters per enterprise, each with a share of its consumption.

    Returns
    -------
    pandas.DataFrame
        ``account_no, enterprise_id, uscc, meter_name, share`` (shares sum to 1 per enterprise).
    """
    ent = panel.enterprises
    counts = rng.choice([1, 2, 3], size=len(ent), p=[0.7, 0.22, 0.08])
    rows = []
    names = ["主变", "二号变", "三号变"]
    for eid, uscc, district, n in zip(ent["id"], ent["uscc"], ent["district_code"], counts):
        shares = rng.dirichlet(np.full(n, 4.0))
        for k in range(n):
            rows.append((f"03{district[-2:]}{int(eid):07d}{k}", int(eid), uscc, names[k], float(shares[k])))
    return pd.DataFrame(rows, columns=["account_no", "enterprise_id", "uscc", "meter_name", "share"])
