"""The Parquet archive of daily electricity readings: the scale-out path's copy of ``electricity_reading``.

A city's readings fit the relational store; a province's or a country's (hundreds of millions of meter days a
year) are kept as Parquet files instead, partitioned by month and region (hive layout)::

    <root>/month=2017-01/region=440106/part-0.parquet     enterprise_id int64, day timestamp[ms], kwh double

and read with ``dask.dataframe.read_parquet`` (:mod:`monitor.engine.electricity`), only the month partitions a
computation needs.  Writing a month and region replaces that partition whole (``delete_matching``), so writing
the same readings twice changes nothing.  :func:`export_readings` copies the store's readings into the
archive (all of them, or the months from a given one), the way a bureau moving to the Dask engine migrates.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .core import Store

__all__ = ["ARCHIVE_COLUMNS", "archive_months", "export_readings", "has_readings", "write_readings"]

#: Columns of every archive file (the partition keys ``month`` and ``region`` are folder names).
ARCHIVE_COLUMNS = ("enterprise_id", "day", "kwh")


def _pyarrow() -> Any:
    try:
        import pyarrow as pa
        import pyarrow.dataset as ds
    except ImportError:  # pragma: no cover - part of the dask extra
        from ..exceptions import ConfigError

        raise ConfigError("the Parquet archive needs pyarrow: pip install 'industry-monitor[dask]'") from None
    return pa, ds


def has_readings(root: Path) -> bool:
    """Whether ``root`` holds an archive (at least one ``month=`` partition)."""
    return root.is_dir() and any(p.name.startswith("month=") for p in root.iterdir())


def archive_months(root: Path) -> list[str]:
    """The months (``YYYY-MM``) the archive holds, sorted."""
    if not root.is_dir():
        return []
    return sorted(p.name.split("=", 1)[1] for p in root.iterdir() if p.name.startswith("month=") and p.is_dir())


def write_readings(readings: pd.DataFrame, root: Path) -> int:
    """Write daily readings into the archive, replacing the (month, region) partitions they cover.

    Parameters
    ----------
    readings
        ``enterprise_id``, ``day`` (dates), ``kwh`` and ``region`` (the enterprise's district code, or any
        region code of a provincial or national feed).
    root
        The archive folder (created when missing).

    Returns
    -------
    int
        Rows written.
    """
    pa, ds = _pyarrow()
    if readings.empty:
        return 0
    day = pd.to_datetime(readings["day"]).to_numpy().astype("datetime64[ms]")
    table = pa.table({
        "enterprise_id": pa.array(readings["enterprise_id"].to_numpy(np.int64)),
        "day": pa.array(day, type=pa.timestamp("ms")),
        "kwh": pa.array(pd.to_numeric(readings["kwh"]).to_numpy(float)),
        "month": pa.array(np.datetime_as_string(day.astype("datetime64[M]"), unit="M")),
        "region": pa.array(readings["region"].astype(str).to_numpy()),
    })
    root.mkdir(parents=True, exist_ok=True)
    ds.write_dataset(table, str(root), format="parquet", basename_template="part-{i}.parquet",
                     partitioning=ds.partitioning(pa.schema([("month", pa.string()), ("region", pa.string())]),
                                                  flavor="hive"),
                     existing_data_behavior="delete_matching", max_rows_per_group=1_000_000)
    return int(table.num_rows)


def export_readings(store: Store, root: Path, *, first: str | None = None) -> int:
    """Copy the store's daily readings (from month ``first``, default all) into the archive, month by month.

    Each month-and-region partition is replaced whole: running it again writes the same files.
    """
    sqlite = store.dialect == "sqlite"
    month = "substr(r.day, 1, 7)" if sqlite else "to_char(r.day, 'YYYY-MM')"
    months = store.read_records(f"SELECT DISTINCT {month} AS m FROM electricity_reading r"
                                + (f" WHERE {month} >= :f" if first else "") + " ORDER BY m",
                                **({"f": first} if first else {}))
    total = 0
    for text in months["m"].astype(str):
        start = pd.Period(text, "M")
        lo, hi = start.start_time.date(), (start + 1).start_time.date()
        frame = store.read_records(
            "SELECT r.enterprise_id, r.day, r.kwh, e.district_code AS region FROM electricity_reading r "
            "JOIN enterprise e ON e.id = r.enterprise_id WHERE r.day >= :lo AND r.day < :hi",
            lo=lo.isoformat() if sqlite else lo, hi=hi.isoformat() if sqlite else hi)
        total += write_readings(frame, root)
    return total


def last_store_month(store: Store) -> str | None:
    """The last month with a reading in the store (``YYYY-MM``), None without readings."""
    frame = store.read_records("SELECT MAX(day) AS d FROM electricity_reading")
    value = frame["d"].iloc[0] if len(frame) else None
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    return f"{day.year:04d}-{day.month:02d}"
