"""Electricity at scale: the Parquet archive aggregated with dask.dataframe, the indicators by the same pandas
functions as the single-machine path.

The readings (hundreds of millions of meter days) never leave the workers.  Each partition (whole
month-and-region folders of the archive, about 32 MB of Parquet) is summed per enterprise and month by
:func:`monitor.engine.meter.read_meter` (the sums of :func:`monitor.indicators.meter_rows`, the very sums the
store's query makes on the single-machine path, in a module light to import on a worker); an
enterprise-month never spans two partitions, so no second pass is needed.  What comes back is the
enterprise-month table (:data:`~monitor.indicators.electricity.METER_COLUMNS`), which
:func:`monitor.indicators.electricity_indicators` turns into totals, growth rates, baselines and the
stopped / semi-stopped inference exactly as it does from the store's sums.  For registers too large for one
machine's firm x month arrays, :func:`firm_status` runs that function on the workers too, per enterprise
shard: an enterprise's baseline and ratio depend on its own history only.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..indicators.electricity import METER_COLUMNS, electricity_indicators, festival_ordinals
from ..settings import Settings
from ..store import Store
from ..store.archive import (
    PENDING,
    archive_dir,
    archive_lock,
    archive_months,
    export_readings,
    has_readings,
    last_store_month,
    recover_pending,
)
from .meter import METER_META, read_meter

__all__ = ["archive_chunks", "archive_dir", "archive_meter", "firm_status", "meter_frame", "sync_archive"]



def sync_archive(store: Store, root: Path) -> int:
    """Bring the archive up to the store: re-export the store's months from the archive's last month on
    (all of them into an empty archive).  Returns the rows written (0 when the archive is current or the
    store has no readings).  Partitions a collect left half-published (a crash between its commit and its
    renames) are rebuilt from the store first (:func:`monitor.store.archive.recover_pending`).  Holds the
    archive's lock, so a collect publishing its partitions meanwhile waits."""
    last_store = last_store_month(store)
    if last_store is None and not (root / PENDING).is_dir():
        return 0
    with archive_lock(root):
        recover_pending(store, root)
        months = archive_months(root)
        if last_store is None or (months and months[-1] > last_store):
            return 0
        return export_readings(store, root, first=months[-1] if months else None)


def archive_chunks(root: Path, first_month: str | None = None, last_month: str | None = None, *,
                   regions: list[str] | None = None, target_bytes: int = 32 << 20,
                   min_partitions: int = 16) -> list[list[str]]:
    """The archive's files for ``first_month``..``last_month`` packed into partitions of about ``target_bytes``
    (smaller for a small archive, so that there are at least ``min_partitions`` when it has that many folders).

    A (month, region) folder is never split between partitions, so every enterprise-month lies in one
    partition and the partitions' sums need no second pass.
    """
    folders: list[tuple[list[str], int]] = []
    for month in archive_months(root):
        if (first_month and month < first_month) or (last_month and month > last_month):
            continue
        for folder in sorted((root / f"month={month}").iterdir()):
            if not folder.name.startswith("region=") or (regions and folder.name[7:] not in regions):
                continue
            files = sorted(str(f) for f in folder.glob("*.parquet"))
            folders.append((files, sum(Path(f).stat().st_size for f in files)))
    total = sum(size for _, size in folders)
    target = max(1, min(target_bytes, total // max(1, min_partitions)))
    chunks: list[list[str]] = []
    current: list[str] = []
    size = 0
    for files, bytes_ in folders:
        if current and size + bytes_ > target:
            chunks.append(current)
            current, size = [], 0
        current += files
        size += bytes_
    if current:
        chunks.append(current)
    return chunks


def meter_frame(root: Path, first_month: str | None = None, last_month: str | None = None,
                window: tuple[int, int] | None = (-7, 15), *, regions: list[str] | None = None,
                target_bytes: int = 32 << 20) -> Any:
    """The lazy enterprise-month sums of the archive: a ``dask.dataframe`` of :data:`METER_COLUMNS` rows.

    One partition per ~``target_bytes`` of Parquet (whole month-and-region folders, :func:`archive_chunks`),
    each read and summed by :func:`monitor.engine.meter.read_meter` on a worker (the sums of
    :func:`monitor.indicators.meter_rows`, from a module that imports no more than pandas and pyarrow); only
    the months (and regions) asked for are read.

    Parameters
    ----------
    root
        The archive folder.
    first_month, last_month
        ``YYYY-MM`` bounds.
    window
        Days around each Spring Festival left out of ``kwh_x`` / ``days_x``.
    regions
        Only these regions.
    target_bytes
        Parquet bytes per partition.
    """
    import dask
    import dask.dataframe as dd

    chunks = archive_chunks(root, first_month, last_month, regions=regions, target_bytes=target_bytes)
    if not chunks:
        return dd.from_pandas(METER_META.copy(), npartitions=1)
    # Without Dask's conversion of text columns to Arrow strings: it would add a task per partition whose
    # function lives in dask.dataframe, which every worker then imports (0.65 s of CPU per worker process, a
    # fixed cost that more workers do not shrink; benchmarks/README.md).  ``period`` comes out of the workers
    # as pandas makes it (``str``, Arrow-backed, with pandas 3), as on the single-machine path.
    with dask.config.set({"dataframe.convert-string": False}):
        return dd.from_map(read_meter, chunks, festival=festival_ordinals(window), meta=METER_META,
                           enforce_metadata=False)


def archive_meter(root: Path, first_day: dt.date, *, client: Any | None = None,
                  window: tuple[int, int] | None = (-7, 15)) -> pd.DataFrame:
    """The enterprise-month sums from ``first_day``'s month on, computed on ``client``'s cluster (or Dask's
    default scheduler), sorted by enterprise and month: the frame :func:`monitor.compute_monitoring.monthly_meter`
    returns from the store."""
    lazy = meter_frame(root, f"{first_day.year:04d}-{first_day.month:02d}", None, window)
    out = client.compute(lazy).result() if client is not None else lazy.compute()
    out = out.sort_values(["enterprise_id", "period"], kind="stable").reset_index(drop=True)
    out["days"] = out["days"].astype(np.int64)
    out["days_x"] = out["days_x"].astype(np.int64)
    return out[list(METER_COLUMNS)]


def _shard_firms(meter: pd.DataFrame, enterprises: pd.DataFrame, months: list[str], stop: float,
                 semi: float) -> pd.DataFrame:
    ids = meter["enterprise_id"].unique()
    ent = enterprises[enterprises["id"].isin(ids)]
    firms = electricity_indicators(meter, ent, months, stop_threshold=stop, semi_threshold=semi,
                                   breakdowns=("city",)).firms
    firms["period"] = firms["period"].astype(str)
    firms["inferred_status"] = firms["inferred_status"].astype(object)
    return firms


def firm_status(meter: Any, enterprises: pd.DataFrame, months: list[str], *, stop_threshold: float = 0.10,
                semi_threshold: float = 0.50, shards: int | None = None) -> Any:
    """Each enterprise's baseline, ratio and inferred status per month, computed on the workers.

    ``meter`` (a dask frame of enterprise-month sums, :func:`meter_frame`, or those sums gathered as a pandas
    frame) is shuffled into ``shards``
    partitions by enterprise, and :func:`~monitor.indicators.electricity_indicators` runs on each: the same
    function, the same ``firms`` rows (``period`` as ``YYYY-MM`` text) as on one machine.  Returns a lazy
    dask frame.
    """
    meta = pd.DataFrame({"enterprise_id": pd.Series(dtype=np.int64), "period": pd.Series(dtype=object),
                         "kwh": pd.Series(dtype=float), "days": pd.Series(dtype=np.int64),
                         "kwh_per_day": pd.Series(dtype=float), "baseline": pd.Series(dtype=float),
                         "ratio": pd.Series(dtype=float), "inferred_status": pd.Series(dtype=object)})
    if isinstance(meter, pd.DataFrame):  # sums already gathered: sent to the workers, not read again
        import dask.dataframe as dd

        meter = dd.from_pandas(meter, npartitions=max(1, shards or 4), sort=False)
    by_firm = meter.shuffle("enterprise_id", npartitions=shards or meter.npartitions)
    return by_firm.map_partitions(_shard_firms, enterprises, months, stop_threshold, semi_threshold, meta=meta)


def store_or_archive_meter(store: Store, settings: Settings, first_day: dt.date) -> pd.DataFrame | None:
    """With ``compute.engine = dask``: the enterprise-month sums from the archive (synchronised from the store
    first), computed on the cluster; None otherwise or when neither holds readings (the store's query then
    runs)."""
    if settings["compute.engine"] != "dask":
        return None
    root = archive_dir(settings)
    sync_archive(store, root)
    if not has_readings(root):
        return None
    from . import open_engine

    with open_engine(settings) as engine:
        return archive_meter(root, first_day, client=getattr(engine, "client", None))
