"""``imon demo --scale province``: a province's 21 cities and a national-size electricity feed, on Dask.

What it builds under ``<data_dir>/province/`` (generated, never committed; rebuilt when its parameters change):

* ``register/`` -- the enterprises of 21 city panels (Guangdong's prefecture-level cities, each panel drawn by
  :func:`monitor.demo.generator.generate_demo` with its own seed; ids offset per city) and the users of the
  synthetic feed, one Parquet file per city or feed region;
* ``survey/city=<code>/`` -- the cities' survey answers (for the survey index engine at province scale);
* ``archive/cities/`` and ``archive/national/`` -- Parquet archives of daily readings partitioned by month and
  region (:mod:`monitor.store.archive`): the cities' plants, and ``feed_users`` industrial users spread over 31
  provincial regions (weekly rhythm, Spring Festival dip, seasonality, stoppages);
* ``imon.sqlite`` -- a store holding only the aggregates: the electricity indicators of the province by city
  and of the country by region (totals, growth, contributions) and the counts of users inferred stopped and
  semi-stopped, computed from the archives with dask.dataframe on the configured engine (``dask.address``, or
  a local cluster) by the same functions as the city's single-machine path.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..calendar import spring_festival_dates
from ..settings import Settings
from .generator import generate_demo

__all__ = ["CITIES", "REGIONS", "ProvinceParams", "ProvinceRun", "build_province", "national_feed", "province_params",
           "run_province"]

log = logging.getLogger(__name__)
Progress = Callable[[str], None]

#: Guangdong's 21 prefecture-level cities: (code, Chinese name, English name).
CITIES: tuple[tuple[str, str, str], ...] = (
    ("4401", "广州", "Guangzhou"), ("4402", "韶关", "Shaoguan"), ("4403", "深圳", "Shenzhen"),
    ("4404", "珠海", "Zhuhai"), ("4405", "汕头", "Shantou"), ("4406", "佛山", "Foshan"),
    ("4407", "江门", "Jiangmen"), ("4408", "湛江", "Zhanjiang"), ("4409", "茂名", "Maoming"),
    ("4412", "肇庆", "Zhaoqing"), ("4413", "惠州", "Huizhou"), ("4414", "梅州", "Meizhou"),
    ("4415", "汕尾", "Shanwei"), ("4416", "河源", "Heyuan"), ("4417", "阳江", "Yangjiang"),
    ("4418", "清远", "Qingyuan"), ("4419", "东莞", "Dongguan"), ("4420", "中山", "Zhongshan"),
    ("4451", "潮州", "Chaozhou"), ("4452", "揭阳", "Jieyang"), ("4453", "云浮", "Yunfu"),
)
#: The 31 provincial regions of the synthetic national feed (GB/T 2260 two-digit codes).
REGIONS: tuple[str, ...] = ("11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36",
                            "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62",
                            "63", "64", "65")
_CITY_ID_STEP = 10_000_000
_FEED_FIRST_ID = 1_000_000_000


@dataclass(frozen=True)
class ProvinceParams:
    """What a province build is made of (its fingerprint decides whether it is rebuilt)."""

    seed: int
    enterprises: int  # per city
    start: str
    end: str
    feed_users: int
    cities: int = len(CITIES)  # the first ``cities`` of :data:`CITIES` (tests use a few)
    version: int = 1

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()


@dataclass
class ProvinceRun:
    """What :func:`run_province` did."""

    params: ProvinceParams
    root: Path
    built: bool = False
    readings: dict[str, int] = field(default_factory=dict)  # archive -> rows
    written: dict[str, int] = field(default_factory=dict)  # family -> values stored
    seconds: dict[str, float] = field(default_factory=dict)
    workers: int = 0
    store_url: str = ""


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)


def _city_panels(params: ProvinceParams, root: Path, progress: Progress | None) -> int:
    """Generate the 21 city panels: register and survey answers as Parquet, readings into the cities' archive."""
    from ..store.archive import write_readings

    rows = 0
    for i, (code, _zh, en) in enumerate(CITIES[:params.cities]):
        if progress:
            progress(f"province: city {i + 1}/{params.cities} {en}")
        data = generate_demo(seed=params.seed + i, enterprises=params.enterprises, start=pd.Period(params.start, "M"),
                             end=pd.Period(params.end, "M"))
        offset = (i + 1) * _CITY_ID_STEP
        ent = data.enterprises[["id", "district_code", "industry_code", "size_class", "sample_weight"]].copy()
        ent["id"] = ent["id"].astype(np.int64) + offset
        ent["district_code"] = code  # the breakdown of the province is the city
        _write_parquet(ent.assign(region=code), root / "register" / f"city-{code}.parquet")
        answers = data.responses[["enterprise_id", "period", "question", "answer"]].copy()
        answers["enterprise_id"] = answers["enterprise_id"].astype(np.int64) + offset
        _write_parquet(answers, root / "survey" / f"city={code}" / "part-0.parquet")
        readings = data.electricity.assign(enterprise_id=data.electricity["enterprise_id"].astype(np.int64) + offset,
                                           region=code)
        rows += write_readings(readings, root / "archive" / "cities")
    return rows


def national_feed(archive: Path, register: Path, *, users: int, start: str, end: str, seed: int,
                  progress: Progress | None = None) -> int:
    """A synthetic national feed: ``users`` industrial users' daily kWh from ``start`` to ``end``.

    Users are spread over the 31 provincial :data:`REGIONS` with a division and a size class (the register,
    written to ``register`` as Parquet); each draws a log-normal level with a weekly rhythm (weekends at 55 %
    except the quarter that runs continuously), a Spring Festival dip (25 % within 10 days of 正月初一), a
    summer peak, a slow national trend, 1 % stopped (5 % of normal) and 3 % semi-stopped (35 %) each month,
    and 10 % daily noise.  Written month by month (memory stays at one month) into the archive ``archive``.
    Returns the readings written (users x days).
    """
    from ..store.archive import write_readings

    rng = np.random.default_rng(np.random.SeedSequence([seed, 20]))
    n = users
    ids = _FEED_FIRST_ID + np.arange(n, dtype=np.int64)
    region = np.array(REGIONS)[rng.integers(0, len(REGIONS), n)]
    division = rng.integers(13, 44, n)
    size = np.array(["large", "medium", "small"])[rng.choice(3, n, p=[0.1, 0.3, 0.6])]
    _write_parquet(pd.DataFrame({"id": ids, "district_code": region, "industry_code": division.astype(str),
                                 "size_class": size, "sample_weight": 1.0, "region": region}), register)
    level = np.exp(rng.normal(8.0, 1.2, n))  # kWh a day
    continuous = rng.random(n) < 0.25  # process industries run through weekends and the festival
    festivals = spring_festival_dates().to_numpy().astype("datetime64[D]")
    rows = 0
    trend = 1.0
    for k, month in enumerate(pd.period_range(start, end, freq="M")):
        if progress and k % 6 == 0:
            progress(f"national feed {month} ({n:,} users)")
        days = pd.date_range(month.start_time, month.end_time.normalize(), freq="D").to_numpy().astype("datetime64[D]")
        trend *= 1.0 + rng.normal(0.004, 0.01)
        season = 1.0 + 0.08 * np.cos(2 * np.pi * (month.month - 7) / 12)
        weekday = (days.astype(np.int64) + 3) % 7  # 0 = Monday
        weekend = np.where(continuous[:, None], 1.0, np.where(weekday[None, :] >= 5, 0.55, 1.0))
        gap = np.min(np.abs((days[:, None] - festivals[None, :]).astype(np.int64)), axis=1)
        fest = np.where(continuous[:, None], 1.0, np.where(gap[None, :] <= 10, 0.25, 1.0))
        stopped = rng.random(n) < 0.01
        semi = ~stopped & (rng.random(n) < 0.03)
        status = np.where(stopped, 0.05, np.where(semi, 0.35, 1.0))
        kwh = (level[:, None] * trend * season * weekend * fest * status[:, None]
               * rng.lognormal(0.0, 0.1, (n, len(days))))
        frame = pd.DataFrame({"enterprise_id": np.repeat(ids, len(days)), "day": np.tile(days, n),
                              "kwh": np.round(kwh.ravel(), 1), "region": np.repeat(region, len(days))})
        rows += write_readings(frame, archive)
    return rows


def build_province(params: ProvinceParams, root: Path, *, rebuild: bool = False,
                   progress: Progress | None = None) -> tuple[bool, dict[str, int]]:
    """Generate the province's files under ``root`` unless they hold this very build; ``(built, rows)``."""
    stamp = root / "build.json"
    if not rebuild and stamp.is_file():
        saved = json.loads(stamp.read_text("utf-8"))
        if saved.get("fingerprint") == params.fingerprint():
            return False, {k: int(v) for k, v in saved.get("rows", {}).items()}
    for name in ("register", "survey", "archive"):
        shutil.rmtree(root / name, ignore_errors=True)
    feed = national_feed(root / "archive" / "national", root / "register" / "feed.parquet", users=params.feed_users,
                         start=params.start, end=params.end, seed=params.seed,
                         progress=(lambda text: progress(f"province: {text}")) if progress else None)
    rows = {"cities": _city_panels(params, root, progress), "national": feed}
    stamp.write_text(json.dumps({"fingerprint": params.fingerprint(), "params": asdict(params), "rows": rows},
                                indent=1), "utf-8")
    return True, rows


def _indicators(client: object, archive: Path, register: pd.DataFrame, months: list[str], settings: Settings,
                prefix: str) -> pd.DataFrame:
    """The electricity and inferred-status rows of one archive (keys under ``prefix``), computed on Dask."""
    from ..engine.electricity import archive_meter, firm_status, meter_frame
    from ..indicators import electricity_indicators, monitoring_rows, production_status_indicators

    first = pd.Period(months[0], "M") - 36
    stop, semi = settings["monitoring.stop_threshold"], settings["monitoring.semi_threshold"]
    meter = archive_meter(archive, first.start_time.date(), client=client)
    elec = electricity_indicators(meter, register, months, stop_threshold=stop, semi_threshold=semi,
                                  breakdowns=("city", "district", "size", "industry"))
    # the workers read the sums again rather than receive them in the task graph
    firms = firm_status(meter_frame(archive, str(first)), register, months, stop_threshold=stop,
                        semi_threshold=semi)
    firms = client.compute(firms).result()  # type: ignore[attr-defined]
    no_reports = pd.DataFrame({"enterprise_id": pd.Series(dtype=np.int64), "period": pd.Series(dtype=object),
                               "production_status": pd.Series(dtype=object)})
    status = production_status_indicators(no_reports, register, firms, months=months, stop_threshold=stop,
                                          semi_threshold=semi)
    status = status[status["measure"].str.startswith("inferred_")]
    rows = monitoring_rows(elec.series, status)
    rows["series_key"] = prefix + "/" + rows["series_key"].str.replace("/district/", "/region/", regex=False)
    return rows[rows["period"].isin(months)]


def run_province(settings: Settings, params: ProvinceParams, *, rebuild: bool = False,
                 progress: Progress | None = None) -> ProvinceRun:
    """Build (or reuse) the province files and compute their indicators on Dask into ``<root>/imon.sqlite``."""
    from ..engine.dask import DaskEngine
    from ..results import write_series
    from ..store import Store

    root = settings.data_dir / "province"
    run = ProvinceRun(params, root)
    t0 = time.perf_counter()
    run.built, run.readings = build_province(params, root, rebuild=rebuild, progress=progress)
    run.seconds["generate"] = time.perf_counter() - t0
    registers = {p.stem: pd.read_parquet(p) for p in sorted((root / "register").glob("*.parquet"))}
    cities = pd.concat([f for k, f in registers.items() if k.startswith("city-")], ignore_index=True)
    months = [str(p) for p in pd.period_range(pd.Period(params.end, "M") - 11, params.end, freq="M")]
    engine = DaskEngine.from_settings(settings)
    try:
        run.workers = engine.workers
        t1 = time.perf_counter()
        if progress:
            progress(f"province: indicators on Dask ({run.workers} workers)")
        rows = pd.concat([
            _indicators(engine.client, root / "archive" / "cities", cities, months, settings, "province"),
            _indicators(engine.client, root / "archive" / "national", registers["feed"], months, settings,
                        "national"),
        ], ignore_index=True)
        run.seconds["indicators"] = time.perf_counter() - t1
    finally:
        engine.close()
    run.store_url = f"sqlite:///{root / 'imon.sqlite'}"
    with Store.open(run.store_url) as store, store.begin() as conn:
        written = write_series(conn, rows.assign(se=float("nan")), columns=("raw", "se", "n"))
    run.written = {"series values": int(written)}  # new or changed (a re-run of the same build: 0)
    run.seconds["total"] = time.perf_counter() - t0
    return run


def province_params(settings: Settings, *, enterprises: int | None, start: str | None, end: str | None,
                    feed_users: int, today: dt.date | None = None) -> ProvinceParams:
    """The build's parameters: ``enterprises`` per city (default 200), months ``start``..``end`` (default the
    three years to the last complete month), ``feed_users`` users in the national feed."""
    today = today or dt.date.today()
    last = str(pd.Period(today, "M") - 1) if not end else str(pd.Period(end, "M"))
    first = str(pd.Period(last, "M") - 47) if not start else str(pd.Period(start, "M"))
    return ProvinceParams(seed=int(settings["demo.seed"]), enterprises=enterprises or 200, start=first, end=last,
                          feed_users=feed_users)
