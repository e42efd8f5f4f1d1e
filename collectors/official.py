"""Official statistics tables: data-terminal (Wind-style) exports, the NBS database export, tidy CSV.

Layouts
-------
Wind-style export (GBK or UTF-8 CSV, or the same in xlsx)::

    国家,中国
    指标名称,中国:全社会用电量:当月值[,更多指标...]
    频率,月
    单位,万千瓦时
    指标ID,S5100021
    ...metadata rows...
    2025/3/31,8.28238733116E7          <- newest first, one column per indicator
    2025/1/31,#N/A                     <- a missing month (often January: Spring Festival)
    ,
    数据来源：Wind,                    <- footer

NBS database export (data.stats.gov.cn): ``Database：Monthly`` / ``Month：...``
lines, a header ``Indicators,Aug 2023,Jul 2023,...``, one row per indicator,
and a ``Data Sources：...`` footer.

Tidy CSV (the bureau's own): ``series,region,period,value[,unit]``.

The indicator name is mapped to a series key and a region code: the leading
parts name the region (``中国``, ``湖北``, ``广州``, ``广州:黄埔区``), the rest
the indicator (:data:`SERIES_NAMES`).  An unknown indicator is kept under
``external/<indicator ID>`` with a warning, so nothing is lost.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .base import Collected, Issue, decode_bytes, file_sha256
from .exceptions import CollectorError
from .limits import Limits, check_text_size, guarded, limits_for, refuse

__all__ = ["read_official_table", "parse_period", "SERIES_NAMES", "REGION_NAMES", "looks_official"]

#: Indicator names (after the region parts) -> series keys.
SERIES_NAMES: dict[str, str] = {
    "全社会用电量:当月值": "electricity/total",
    "用电量:当月值": "electricity/total",
    "工业用电量:当月值": "electricity/industry",
    "工业增加值:可比价:规模以上工业企业:当月同比": "iva/yoy",
    "工业增加值:可比价:规模以上工业企业:累计同比": "iva/ytd_yoy",
    "规模以上工业增加值:当月同比": "iva/yoy",
    "规模以上工业增加值:累计同比": "iva/ytd_yoy",
    "规模以上工业总产值:累计同比": "output/ytd_yoy",
    "工业投资:累计同比": "investment/industrial/ytd_yoy",
    "技术改造投资:累计同比": "investment/tech_transformation/ytd_yoy",
    "制造业PMI": "nbs/pmi/headline",
}

#: NBS English indicator names -> series keys (national, region 100000).
NBS_NAMES: dict[str, str] = {
    "Manufacturing Purchasing Managers' Index (%)": "nbs/pmi/headline",
    "Manufacturing Purchasing Managers'' Index (%)": "nbs/pmi/headline",  # as the export spells it
    "Production index(%)": "nbs/pmi/production",
    "New orders index(%)": "nbs/pmi/new_orders",
    "New export orders index(%)": "nbs/pmi/new_export_orders",
    "In hand Orders Index (%)": "nbs/pmi/backlog_orders",
    "Finished goods inventory index(%)": "nbs/pmi/finished_goods_inventory",
    "Purchasing volume index(%)": "nbs/pmi/purchase_quantity",
    "Import index(%)": "nbs/pmi/imports",
    "Producer prices index(%)": "nbs/pmi/output_prices",
    "Main raw material purchase price index(%)": "nbs/pmi/input_prices",
    "Raw materials inventory index(%)": "nbs/pmi/raw_materials_inventory",
    "Employment index(%)": "nbs/pmi/employment",
    "Supplier delivery time index(%)": "nbs/pmi/supplier_delivery_time",
    "Expected Production and business activities Index(%)": "nbs/pmi/expectations",
}

#: Region names -> administrative codes (nation, provinces used here, Guangzhou and its districts).
REGION_NAMES: dict[str, str] = {
    "中国": "100000", "全国": "100000", "广东": "440000", "湖北": "420000", "北京": "110000", "上海": "310000",
    "广州": "440100", "广州市": "440100",
    "荔湾区": "440103", "越秀区": "440104", "海珠区": "440105", "天河区": "440106", "白云区": "440111",
    "黄埔区": "440112", "番禺区": "440113", "花都区": "440114", "南沙区": "440115", "从化区": "440117",
    "增城区": "440118",
}

_WIND_KEYS = {"国家", "指标名称", "频率", "单位", "指标ID", "时间区间", "来源", "更新时间", "地区"}
_MISSING = {"", "#N/A", "N/A", "NA", "--", "-", "…", "nan", "NaN"}
_EN_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}


def parse_period(text: str) -> str | None:
    """Month of a date cell: ``2006/3/31``, ``2006-03``, ``2006年3月``, ``Aug 2023``, ``June 2020`` -> ``YYYY-MM``."""
    t = str(text).strip()
    m = re.match(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})(?:\s*[-/.月]\s*(\d{1,2})?\s*日?)?\s*月?$", t)
    if m and 1 <= int(m.group(2)) <= 12:
        return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"
    m = re.match(r"^(\d{4})(\d{2})(\d{2})?$", t)
    if m and 1 <= int(m.group(2)) <= 12:
        return f"{m.group(1)}-{m.group(2)}"
    m = re.match(r"^([A-Za-z]{3})[a-z]*\.?\s*(\d{4})$", t)
    if m and m.group(1).lower() in _EN_MONTHS:
        return f"{m.group(2)}-{_EN_MONTHS[m.group(1).lower()]:02d}"
    return None


def _series_and_region(name: str) -> tuple[str | None, str | None]:
    parts = [p.strip() for p in re.split(r"[:：]", name) if p.strip()]
    region = None
    while parts and parts[0] in REGION_NAMES:
        region = REGION_NAMES[parts.pop(0)]
    return SERIES_NAMES.get(":".join(parts)), region


def _rows_from(path: Path, encoding: str | None, limits: Limits) -> tuple[list[list[str]], str]:
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        from ._xlsx import open_workbook, sheet_rows

        wb = open_workbook(path, limits=limits)
        try:
            ws = wb.worksheets[0]
            rows = [["" if v is None else v.strftime("%Y-%m-%d") if hasattr(v, "strftime") else str(v) for v in r]
                    for r in sheet_rows(ws, path, limits)]
        finally:
            wb.close()
        return rows, "xlsx"
    check_text_size(path, limits)
    text, enc = decode_bytes(path.read_bytes(), path, encoding)
    rows = []
    for r in csv.reader(io.StringIO(text)):
        rows.append(r)
        if len(rows) > limits.max_rows:
            raise refuse(path, limits, "rows", f"more than {limits.max_rows:,} lines")
        if len(r) > limits.max_columns:
            raise refuse(path, limits, "columns", f"line {len(rows)} has {len(r):,} columns")
    return rows, enc


#: Official months accepted: from the founding of the statistics (1949) to the month the file is read.
FIRST_PERIOD = "1949-01"


def _value(cell: str) -> float:
    """A cell as a finite number; ValueError for text, ``inf`` or ``nan``."""
    value = float(cell.replace(",", ""))
    if not math.isfinite(value):
        raise ValueError(cell)
    return value


def _in_window(period: str) -> bool:
    today = dt.date.today()
    return FIRST_PERIOD <= period[:7] <= f"{today.year:04d}-{today.month:02d}"


def looks_official(first_lines: list[str]) -> bool:
    """True when the first lines look like one of the official layouts."""
    if not first_lines:
        return False
    head = first_lines[0].split(",")[0].strip().lstrip("\ufeff")
    return (head in _WIND_KEYS or head.lower().startswith("database")
            or head.startswith("数据库") or first_lines[0].lower().startswith("series,region,period,value"))


@guarded
def read_official_table(path: Path, *, encoding: str | None = None, limits: Limits | None = None) -> Collected:
    """Read an official statistics table into ``official_statistic`` rows.

    Returns
    -------
    Collected
        ``tables["official_statistic"]`` with ``series, region, period, value,
        unit, source_row``; missing cells are skipped (a warning notes a missing
        January, which Chinese statistics often omit or combine with February).

    Raises
    ------
    CollectorError
        The file is empty, has only a header, or is none of the known layouts.
    """
    path = Path(path)
    rows, enc = _rows_from(path, encoding, limits or limits_for("official"))
    rows = [[c.strip() for c in r] for r in rows]
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        raise CollectorError(f"{path.name}: the file is empty; export the table again")
    result = Collected("official", path, file_sha256(path), meta={"encoding": enc})
    first = rows[0][0].lstrip("\ufeff") if rows[0] else ""
    if first in _WIND_KEYS:
        frame = _read_wind(path, rows, result)
    elif first.lower().startswith("database") or first.startswith("数据库"):
        frame = _read_nbs(path, rows, result)
    elif [c.lower() for c in rows[0][:4]] == ["series", "region", "period", "value"]:
        frame = _read_tidy(path, rows, result)
    else:
        raise CollectorError(
            f"{path.name}: not a known official-table layout (first cell {first!r}); expected a data-terminal export "
            "starting with 指标名称/国家, an NBS export starting with 'Database', or a CSV with columns "
            "series,region,period,value"
        )
    if frame.empty:
        raise CollectorError(f"{path.name}: the table has a header but no values; export it again with data")
    result.tables["official_statistic"] = frame
    return result


def _read_wind(path: Path, rows: list[list[str]], result: Collected) -> pd.DataFrame:
    meta: dict[str, list[str]] = {}
    i = 0
    while i < len(rows) and rows[i] and rows[i][0] in _WIND_KEYS:
        meta[rows[i][0]] = rows[i][1:]
        i += 1
    names = meta.get("指标名称")
    if not names:
        raise CollectorError(f"{path.name}: data-terminal export without an 指标名称 row; export it with the header rows")
    units = meta.get("单位", [])
    ids = meta.get("指标ID", [])
    frequency = (meta.get("频率") or ["月"])[0]
    if frequency not in ("月", "M", "monthly", "Monthly"):
        raise CollectorError(f"{path.name}: frequency {frequency!r} is not monthly; export the monthly series")
    columns = []
    for j, name in enumerate(names):
        if not name:
            continue
        series, region = _series_and_region(name)
        region = region or "100000"
        if series is None:
            series = f"external/{ids[j] if j < len(ids) and ids[j] else re.sub(r'[^0-9A-Za-z]+', '_', name)}"
            result.issues.append(Issue(path.name, "unknown_indicator", f"indicator {name!r} is not in the series "
                                       f"map; stored as {series!r} (add it to collectors.official.SERIES_NAMES)",
                                       "warning", row=2, field=name))
        columns.append((j + 1, series, region, units[j] if j < len(units) else None, name))
    out = []
    seen_missing = set()
    for r in range(i, len(rows)):
        row = rows[r]
        if not row or not row[0]:
            continue
        if row[0].startswith("数据来源") or row[0].lower().startswith("data source"):
            break
        period = parse_period(row[0])
        if period is None:
            result.issues.append(Issue(path.name, "bad_date", f"date {row[0]!r} is not a month", row=r + 1,
                                       field="date", value=row[0]))
            continue
        if not _in_window(period):
            result.issues.append(Issue(path.name, "period_outside_window", f"month {period} is outside "
                                       f"{FIRST_PERIOD} to this month", row=r + 1, field="date", value=row[0]))
            continue
        for col, series, region, unit, name in columns:
            cell = row[col] if col < len(row) else ""
            if cell in _MISSING:
                if period.endswith("-01") and (series, period) not in seen_missing:
                    seen_missing.add((series, period))
                    result.issues.append(Issue(path.name, "january_missing",
                                               f"{name}: {period} is missing; February may hold January-February "
                                               "combined (Spring Festival practice)", "warning", row=r + 1,
                                               field=name))
                continue
            try:
                value = _value(cell)
            except ValueError:
                result.issues.append(Issue(path.name, "non_numeric", f"{name}: value {cell!r} for {period} is "
                                           "not a finite number", row=r + 1, field=name, value=cell))
                continue
            out.append((series, region, period, value, unit, r + 1))
    return _frame(out, path, result)


def _read_nbs(path: Path, rows: list[list[str]], result: Collected) -> pd.DataFrame:
    header_at = next((k for k, r in enumerate(rows) if r and r[0].lower() in ("indicators", "指标")), None)
    if header_at is None:
        raise CollectorError(f"{path.name}: NBS export without an 'Indicators' header row; export it again")
    header = rows[header_at]
    periods = [p if p is not None and _in_window(p) else None for p in (parse_period(h) for h in header[1:])]
    out = []
    for r in range(header_at + 1, len(rows)):
        row = rows[r]
        if not row or not row[0] or row[0].lower().startswith("data source") or row[0].startswith("数据来源"):
            continue
        series = NBS_NAMES.get(row[0])
        if series is None:
            series = "external/nbs/" + re.sub(r"[^0-9A-Za-z]+", "_", row[0]).strip("_").lower()
            result.issues.append(Issue(path.name, "unknown_indicator", f"indicator {row[0]!r} is not in the NBS "
                                       f"map; stored as {series!r}", "warning", row=r + 1, field=row[0]))
        for col, period in enumerate(periods, start=1):
            cell = row[col] if col < len(row) else ""
            if period is None or cell in _MISSING:
                continue
            try:
                out.append((series, "100000", period, _value(cell), "%", r + 1))
            except ValueError:
                result.issues.append(Issue(path.name, "non_numeric", f"{row[0]}: value {cell!r} for {period} is "
                                           "not a finite number", row=r + 1, field=row[0], value=cell))
    return _frame(out, path, result)


def _read_tidy(path: Path, rows: list[list[str]], result: Collected) -> pd.DataFrame:
    header = [c.lower() for c in rows[0]]
    out = []
    for r in range(1, len(rows)):
        rec = dict(zip(header, rows[r]))
        if not any(rows[r]):
            continue
        period = rec.get("period", "")
        norm = parse_period(period) or (period if re.fullmatch(r"\d{4}", period) else None)
        if norm is None:
            result.issues.append(Issue(path.name, "bad_period", f"period {period!r} is not YYYY-MM or YYYY",
                                       row=r + 1, field="period", value=period))
            continue
        if not _in_window(norm if len(norm) == 7 else norm + "-01"):
            result.issues.append(Issue(path.name, "period_outside_window", f"period {norm} is outside "
                                       f"{FIRST_PERIOD[:4]} to this month", row=r + 1, field="period", value=period))
            continue
        value = rec.get("value", "")
        if value in _MISSING:
            continue
        if not rec.get("series") or not rec.get("region"):
            result.issues.append(Issue(path.name, "missing_key", "the row has no series or no region", row=r + 1,
                                       field="series", value=rec.get("series")))
            continue
        try:
            out.append((rec["series"], rec["region"], norm, _value(value), rec.get("unit") or None, r + 1))
        except ValueError:
            result.issues.append(Issue(path.name, "non_numeric", f"value {value!r} is not a finite number",
                                       row=r + 1, field="value", value=value))
    return _frame(out, path, result)


def _frame(out: list[tuple[Any, ...]], path: Path, result: Collected) -> pd.DataFrame:
    frame = pd.DataFrame(out, columns=["series", "region", "period", "value", "unit", "source_row"])
    dup = frame.duplicated(["series", "region", "period"], keep=False)
    if dup.any():
        clash = frame[dup].groupby(["series", "region", "period"])["value"].nunique()
        bad = set(clash[clash > 1].index)
        for rec in frame[dup].itertuples():
            if (rec.series, rec.region, rec.period) in bad:
                result.issues.append(Issue(path.name, "duplicate_conflict",
                                           f"{rec.series} {rec.region} {rec.period} appears more than once with "
                                           "different values", row=int(rec.source_row), value=str(rec.value)))
        keys = frame.set_index(["series", "region", "period"]).index
        frame = frame[~keys.isin(list(bad))].drop_duplicates(["series", "region", "period"])
    frame["value"] = frame["value"].astype(float)
    frame["source_row"] = frame["source_row"].astype(np.int64)
    return frame.reset_index(drop=True)
