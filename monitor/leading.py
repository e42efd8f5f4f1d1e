"""The composite leading indicator of the city and each district, stored as ``cli/...`` series (issue 15).

Thin over :func:`forecasting.leading.composite_leading_indicator` (pure, OECD method).  For each region with
``leading.min_months`` published months of the reference (``leading.reference``, official value added growth)
the components (``leading.components``: new orders, new export orders, purchase quantity, finished-goods
inventory, electricity; the district's own series for a district) are read as known at the origin month (the
reference as published by ``origin - nowcast.official_lag``), selected by their cross-correlation with the
reference, de-trended and smoothed by the double HP filter, normalised and averaged.  Stored (a new vintage
where values changed) under:

``cli/city``, ``cli/district/<code>``
    the amplitude-adjusted indicator (100 = trend);
``cli/reference/city``, ``cli/reference/district/<code>``
    the reference's growth cycle on the same scale (100 + cycle);
``cli/lead/city``, ``cli/lead/district/<code>``
    at the origin month: the lead in months (strongest cross-correlation of the two).

The latest turning point (Bry-Boschan, ``leading.confirm`` months of data after it) is read from the stored
indicator by :func:`leading_signal`, which the operation report, the API and the alert rule kind
``leading_turn`` share.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass, field

import pandas as pd

from .forecasts import series_history
from .periods import month_text
from .reference import CITY_CODE, region_series_key
from .settings import Settings
from .store import Store
from .textout import first_failure

__all__ = ["LeadingReport", "build_leading", "leading_key", "leading_signal"]

log = logging.getLogger(__name__)


@dataclass
class LeadingReport:
    """What :func:`build_leading` did."""

    origin: str
    stored: dict[str, str] = field(default_factory=dict)  # region -> "lead N months, components"
    skipped: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> str:
        text = (f"leading indicators from {self.origin}: {len(self.stored)} region(s) stored, {len(self.skipped)} "
                f"skipped, {len(self.failed)} failed in {self.seconds:.1f} s")
        if CITY_CODE in self.stored:
            text += f"; city: {self.stored[CITY_CODE]}"
        elif CITY_CODE in self.skipped:
            text += f"; city skipped: {self.skipped[CITY_CODE][:200]}"
        text += first_failure(self.failed)
        return text


def leading_key(region: str, part: str = "") -> str:
    """``cli/city``, ``cli/district/440103``; with ``part`` (``reference``, ``lead``): ``cli/<part>/...``."""
    where = "city" if region == CITY_CODE else f"district/{region}"
    return f"cli/{part + '/' if part else ''}{where}"


def build_leading(store: Store, settings: Settings, origin: pd.Period) -> LeadingReport:
    """Build and store the composite leading indicator of each region with enough data, as known at ``origin``."""
    from forecasting import ForecastingError
    from forecasting.leading import composite_leading_indicator

    from .results import write_series
    from .store.forecast_queries import official_history, official_series_names

    t0 = time.perf_counter()
    report = LeadingReport(month_text(origin))
    reference = settings["leading.reference"]
    known = origin - settings["nowcast.official_lag"]
    names = official_series_names(store)
    regions = sorted(names.loc[names["series"] == reference, "region"], key=lambda r: (r != CITY_CODE, r))
    rows = []
    for region in regions:
        ref = official_history(store, reference, region, known)
        if len(ref) < settings["leading.min_months"]:
            report.skipped[region] = (f"needs {settings['leading.min_months']} published months of {reference}; "
                                      f"has {len(ref)}")
            continue
        comps = {}
        for key in [k.strip() for k in settings["leading.components"].split(",") if k.strip()]:
            s = series_history(store, region_series_key(key, region), origin)
            if len(s) >= settings["leading.min_months"]:
                comps[key] = s
        if not comps:
            report.skipped[region] = "no component with enough history"
            continue
        ref = ref.reindex(pd.period_range(ref.index[0], ref.index[-1], freq="M")).interpolate(limit_area="inside")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = composite_leading_indicator(pd.DataFrame(comps), ref, min_lead=settings["leading.min_lead"],
                                                  max_lead=12, min_corr=settings["leading.min_corr"])
        except ForecastingError as exc:
            report.skipped[region] = str(exc)
            continue
        except Exception as exc:  # one region failing does not stop the others
            report.failed[region] = f"{type(exc).__name__}: {exc}"
            log.warning("leading indicator %s from %s failed: %s", region, origin, exc)
            continue
        cli = res.cli.loc[:origin]
        rows += [(leading_key(region), str(p), float(v)) for p, v in cli.items()]
        rows += [(leading_key(region, "reference"), str(p), 100.0 + float(v))
                 for p, v in res.reference_cycle.dropna().items()]
        rows.append((leading_key(region, "lead"), str(origin), float(res.lead)))
        kept = ", ".join(res.components.index[res.components["selected"]])
        report.stored[region] = f"lead {res.lead} months (r = {res.correlation:.2f}; {kept})"
    if rows:
        frame = pd.DataFrame(rows, columns=["series_key", "period", "raw"])
        with store.begin() as conn:
            write_series(conn, frame, columns=("raw",))
    report.seconds = time.perf_counter() - t0
    return report


def leading_signal(cli: pd.Series, *, confirm: int = 3) -> dict[str, object]:
    """The latest turning point of a stored indicator (:func:`forecasting.leading.latest_signal`)."""
    from forecasting.leading import latest_signal

    s = cli.dropna()
    if len(s) < 24:
        return {"kind": None, "period": None, "months_ago": None, "phase": ""}
    return latest_signal(s, confirm=confirm)
