"""The Parquet archive of daily electricity readings: the scale-out path's copy of ``electricity_reading``.

A city's readings fit the relational store; a province's or a country's (hundreds of millions of meter days a
year) are kept as Parquet files instead, partitioned by month and region (hive layout)::

    <root>/month=2017-01/region=440106/part-0.parquet     enterprise_id int64, day timestamp[ms], kwh double

and read with ``dask.dataframe.read_parquet`` (:mod:`monitor.engine.electricity`), only the month partitions a
computation needs.  Writing a month and region replaces that partition whole (``delete_matching``), so writing
the same readings twice changes nothing.  :func:`export_readings` copies the store's readings into the
archive (all of them, or the months from a given one), the way a bureau moving to the Dask engine migrates.

``imon collect`` keeps the archive current file by file (:mod:`monitor.ingest.archive`) with the functions
below the export: :func:`feed_enterprises` and :func:`enterprise_readings` read, inside the file's transaction,
the enterprise-day sums the file may have changed; :func:`stage_partitions` writes each touched (month,
region) partition's new content -- the old file's rows with those keys replaced -- to a temporary file under
``<root>/_pending/<token>/`` (ignored by every reader: not a ``month=`` folder, and Parquet readers skip
``_`` names), and :func:`publish_partitions` moves them into place with :func:`os.replace` (atomic on one file
system) once the store has committed.  Each partition is one file, ``part-0.parquet``.  The token folder
holds a journal naming the partitions: one left behind by a crash between the commit and the moves is
repaired by :func:`recover_pending`, which rebuilds those partitions from the store (the store is the
reference; the archive its copy).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from ..settings import Settings
from .core import Store, raw_query

__all__ = ["ARCHIVE_COLUMNS", "PENDING", "all_readings", "archive_dir", "archive_lock", "archive_months", "discard_partitions",
           "enterprise_readings", "export_readings", "feed_enterprises", "has_readings", "publish_partitions",
           "recover_pending", "stage_partitions", "write_readings"]

#: Columns of every archive file (the partition keys ``month`` and ``region`` are folder names).
ARCHIVE_COLUMNS = ("enterprise_id", "day", "kwh")
#: Folder of the archive holding staged partitions and their journals until they are published.
PENDING = "_pending"
_PART = "part-0.parquet"
_JOURNAL = "journal.json"
_IN_CLAUSE = 500  # ids per IN (...) list


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


#: Rows per Parquet row group of a partition written by :func:`write_readings` (a partition of up to this many
#: rows is one row group).  Without a minimum the dataset writer cuts a row group for every region met in each
#: batch of its input (about 1,000 rows in a national feed of 31 regions): twice the CPU to read the files back
#: and a fifth more bytes (``benchmarks/README.md``, issue 20).
_ROW_GROUP = 1_000_000


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
                     existing_data_behavior="delete_matching", min_rows_per_group=_ROW_GROUP,
                     max_rows_per_group=_ROW_GROUP)
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
    return sum(write_readings(_month_readings(store, text), root) for text in months["m"].astype(str))


def last_store_month(store: Store) -> str | None:
    """The last month with a reading in the store (``YYYY-MM``), None without readings."""
    frame = store.read_records("SELECT MAX(day) AS d FROM electricity_reading")
    value = frame["d"].iloc[0] if len(frame) else None
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    return f"{day.year:04d}-{day.month:02d}"


def archive_dir(settings: Settings) -> Path:
    """The archive folder: ``electricity.archive``, or ``<data_dir>/archive/electricity``."""
    text = settings["electricity.archive"]
    return Path(text).expanduser().resolve() if text else settings.data_dir / "archive" / "electricity"



# ------------------------------------------------------------------------------ file by file, from imon collect
def _sql_day(conn: Connection, day: dt.date) -> Any:
    return day.isoformat() if conn.dialect.name == "sqlite" else day


def _frame(rows: list[tuple], names: list[str]) -> pd.DataFrame:
    return pd.DataFrame.from_records(rows, columns=names)


def feed_enterprises(conn: Connection, accounts: list[str]) -> list[int]:
    """The enterprises of utility ``accounts`` (those mapped in ``electricity_account``), sorted."""
    found: set[int] = set()
    for i in range(0, len(accounts), _IN_CLAUSE):
        part = accounts[i:i + _IN_CLAUSE]
        names = ", ".join(f":a{j}" for j in range(len(part)))
        rows, _ = raw_query(conn, f"SELECT DISTINCT enterprise_id FROM electricity_account WHERE account_no IN ({names})",
                            {f"a{j}": a for j, a in enumerate(part)})
        found.update(int(r[0]) for r in rows)
    return sorted(found)


def enterprise_readings(conn: Connection, enterprises: list[int], first: dt.date, last: dt.date) -> pd.DataFrame:
    """The stored enterprise-day sums of ``enterprises`` from ``first`` to ``last`` with their region.

    Read through ``conn``, so inside a file's transaction they include what the file has just merged.

    Returns
    -------
    pandas.DataFrame
        ``enterprise_id``, ``day`` (``datetime64``), ``kwh``, ``region`` (the enterprise's district code as text).
    """
    frames = []
    for i in range(0, len(enterprises), _IN_CLAUSE):
        part = enterprises[i:i + _IN_CLAUSE]
        rows, names = raw_query(conn, (
            "SELECT r.enterprise_id, r.day, r.kwh, e.district_code AS region FROM electricity_reading r "
            "JOIN enterprise e ON e.id = r.enterprise_id WHERE r.enterprise_id IN ("
            + ", ".join(str(int(e)) for e in part) + ") AND r.day >= :lo AND r.day <= :hi"),
            {"lo": _sql_day(conn, first), "hi": _sql_day(conn, last)})
        frames.append(_frame(rows, names))
    return _typed(pd.concat(frames, ignore_index=True) if frames else _frame([], ["enterprise_id", "day", "kwh",
                                                                                   "region"]))


def all_readings(conn: Connection) -> pd.DataFrame:
    """Every stored enterprise-day sum with its region (the first fill of an empty archive), read through
    ``conn``."""
    rows, names = raw_query(conn, "SELECT r.enterprise_id, r.day, r.kwh, e.district_code AS region "
                            "FROM electricity_reading r JOIN enterprise e ON e.id = r.enterprise_id", {})
    return _typed(_frame(rows, names))


def _month_readings(store: Store, month: str, region: str | None = None) -> pd.DataFrame:
    """The store's enterprise-day readings of ``month`` (``YYYY-MM``), with each enterprise's district as
    ``region``; only ``region``'s when given."""
    sqlite = store.dialect == "sqlite"
    start = pd.Period(month, "M")
    lo, hi = start.start_time.date(), (start + 1).start_time.date()
    return store.read_records(
        "SELECT r.enterprise_id, r.day, r.kwh, e.district_code AS region FROM electricity_reading r "
        "JOIN enterprise e ON e.id = r.enterprise_id WHERE r.day >= :lo AND r.day < :hi"
        + (" AND e.district_code = :region" if region is not None else ""),
        lo=lo.isoformat() if sqlite else lo, hi=hi.isoformat() if sqlite else hi,
        **({"region": region} if region is not None else {}))


def _partition_readings(store: Store, month: str, region: str) -> pd.DataFrame:
    """One (month, region) partition's readings as the store holds them (for :func:`recover_pending`)."""
    return _typed(_month_readings(store, month, region))


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({
        "enterprise_id": frame["enterprise_id"].to_numpy(np.int64),
        "day": pd.to_datetime(frame["day"]).to_numpy().astype("datetime64[ms]"),
        "kwh": pd.to_numeric(frame["kwh"]).to_numpy(float),
        "region": frame["region"].astype(str).to_numpy(object),
    })
    return out


def _partition_table(readings: pd.DataFrame) -> Any:
    """The Parquet table of one partition: sorted by enterprise and day (the store's key order)."""
    pa, _ = _pyarrow()
    readings = readings.sort_values(["enterprise_id", "day"], kind="stable")
    return pa.table({"enterprise_id": pa.array(readings["enterprise_id"].to_numpy(np.int64)),
                     "day": pa.array(readings["day"].to_numpy().astype("datetime64[ms]"), type=pa.timestamp("ms")),
                     "kwh": pa.array(readings["kwh"].to_numpy(float))})


def _day_keys(frame: pd.DataFrame) -> np.ndarray:
    """One int64 per (enterprise, day) row of ``frame``."""
    return frame["enterprise_id"].to_numpy(np.int64) * 100_000 + frame["day"].to_numpy().astype(
        "datetime64[D]").astype(np.int64)


def _read_partition(folder: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    files = sorted(str(f) for f in folder.glob("*.parquet")) if folder.is_dir() else []
    if not files:
        return pd.DataFrame({"enterprise_id": pd.Series(dtype=np.int64), "day": pd.Series(dtype="datetime64[ms]"),
                             "kwh": pd.Series(dtype=float)})
    frame = pq.read_table(files, columns=list(ARCHIVE_COLUMNS), use_threads=False).to_pandas()
    frame["day"] = frame["day"].to_numpy().astype("datetime64[ms]")
    return frame


@contextmanager
def archive_lock(root: Path) -> Iterator[None]:
    """Hold the archive's lock file (``<root>/_lock``): one writer at a time stages and publishes partitions."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "_lock", "a+b") as handle:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: the store's write lock orders the writers
            yield
            return
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def stage_partitions(readings: pd.DataFrame, root: Path, *, whole: bool = False) -> Path:
    """Write the new content of every (month, region) partition ``readings`` touch to a pending folder.

    Each partition's new file holds its current rows with the (enterprise, day) keys of ``readings`` replaced
    by theirs (``whole``: ``readings`` are the partition's whole content, as in a first export).  Nothing a
    reader sees changes until :func:`publish_partitions`.

    Parameters
    ----------
    readings
        ``enterprise_id``, ``day``, ``kwh``, ``region`` (:func:`enterprise_readings`).
    root
        The archive folder.
    whole
        The readings replace the partitions' content instead of being merged into it.

    Returns
    -------
    pathlib.Path
        The pending folder (its journal names the partitions).
    """
    pending = root / PENDING / uuid.uuid4().hex
    pending.mkdir(parents=True)
    month = np.datetime_as_string(readings["day"].to_numpy().astype("datetime64[M]"), unit="M")
    partitions: list[list[str]] = []
    (pending / _JOURNAL).write_text(json.dumps({"partitions": partitions, "complete": False}))
    import pyarrow.parquet as pq

    def write(m: str, region: str, frame: pd.DataFrame) -> None:
        target = pending / f"month={m}" / f"region={region}"
        target.mkdir(parents=True)
        pq.write_table(_partition_table(frame), target / _PART)
        partitions.append([str(m), str(region)])

    columns = list(ARCHIVE_COLUMNS)
    for m in sorted(set(month)):
        new = readings[month == m]
        by_region = {str(r): g[columns] for r, g in new.groupby(new["region"].to_numpy(), sort=True)}
        if whole:
            for region, frame in by_region.items():
                write(str(m), region, frame)
            continue
        # Every enterprise of the file keeps its whole month in one partition, that of its district now: its
        # days not re-sent move along from wherever they were (an enterprise moved to another district), so the
        # archive's sums never count a reading twice nor split an enterprise-month between partitions.
        region_of = pd.Series(new["region"].astype(str).to_numpy(), index=new["enterprise_id"].to_numpy(np.int64))
        region_of = region_of[~region_of.index.duplicated(keep="last")]
        new_keys = _day_keys(new)
        content: dict[str, list[pd.DataFrame]] = {r: [f] for r, f in by_region.items()}
        changed = set(by_region)
        for folder in sorted((root / f"month={m}").glob("region=*")):
            region = folder.name[len("region="):]
            old = _read_partition(folder)
            if not len(old):
                continue
            ours = np.isin(old["enterprise_id"].to_numpy(np.int64), region_of.index.to_numpy())
            content.setdefault(region, []).append(old[~ours])
            if not ours.any():
                continue
            carried = old[ours & ~np.isin(_day_keys(old), new_keys)]
            destination = region_of.reindex(carried["enterprise_id"].to_numpy(np.int64)).to_numpy()
            for target, frame in carried.groupby(destination, sort=True):
                content.setdefault(str(target), []).append(frame)
                changed.add(str(target))
            changed.add(region)
        for region in sorted(changed):
            write(str(m), region, pd.concat(content.get(region, []), ignore_index=True)
                  if content.get(region) else new.iloc[:0][columns])
    with open(pending / _JOURNAL, "w") as out:  # the partitions listed before anything is published
        json.dump({"partitions": partitions, "complete": True}, out)
        out.flush()
        os.fsync(out.fileno())
    return pending


def publish_partitions(pending: Path, root: Path) -> int:
    """Move the staged partitions into the archive (one :func:`os.replace` each), then drop ``pending``.

    A partition's other files (several parts of a bulk :func:`write_readings`) are removed after its new file
    is in place.  Returns the partitions published.
    """
    journal = json.loads((pending / _JOURNAL).read_text())
    for m, region in journal["partitions"]:
        folder = root / f"month={m}" / f"region={region}"
        folder.mkdir(parents=True, exist_ok=True)
        os.replace(pending / f"month={m}" / f"region={region}" / _PART, folder / _PART)
        for other in folder.glob("*.parquet"):
            if other.name != _PART:
                other.unlink()
    shutil.rmtree(pending)
    return len(journal["partitions"])


def discard_partitions(pending: Path) -> None:
    """Drop a pending folder that will not be published (the file's transaction rolled back)."""
    shutil.rmtree(pending, ignore_errors=True)


def recover_pending(store: Store, root: Path) -> int:
    """Repair what a crash between a file's commit and the publication of its partitions left behind.

    Every partition named by a pending folder's journal is rebuilt from the store (whether the file's
    transaction committed or not, the store holds the truth), then the folder is dropped.  Call under
    :func:`archive_lock`.  Returns the partitions rebuilt.
    """
    base = root / PENDING
    if not base.is_dir():
        return 0
    rebuilt = 0
    for pending in sorted(p for p in base.iterdir() if p.is_dir()):
        try:
            partitions = json.loads((pending / _JOURNAL).read_text())["partitions"]
        except (OSError, ValueError):  # staged but never journalled: nothing was published
            partitions = []
        for m, region in partitions:
            readings = _partition_readings(store, m, region)
            if len(readings):
                fresh = stage_partitions(readings, root, whole=True)
                publish_partitions(fresh, root)
            else:
                shutil.rmtree(root / f"month={m}" / f"region={region}", ignore_errors=True)
            rebuilt += 1
        shutil.rmtree(pending, ignore_errors=True)
    return rebuilt
