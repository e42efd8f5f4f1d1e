"""The power utility's feed: daily consumption per account, and the account-to-enterprise map.

Feed layout (CSV in GBK or UTF-8, or xlsx), one row per account and day::

    户号,日期,用电量(kWh)          or   account_no,date,kwh
    0300123456,2017-01-05,1234.5

Header names are matched case-insensitively against :data:`ACCOUNT_ALIASES`,
:data:`DATE_ALIASES` and :data:`KWH_ALIASES`; dates may mix ``2017-01-05``,
``2017/1/5``, ``20170105`` and ``2017.01.05``.  Files of tens of millions of
rows are read in chunks (:func:`iter_electricity`), so memory stays flat.

Row rules (hard: the row is rejected): an account number is present; the date
parses and falls in the feed window (from :data:`FEED_FIRST_DAY` to the day the
file is read: a reading cannot be from the future); kWh is a finite number, not
negative and not above :data:`MAX_DAILY_KWH` (more than any plant draws in a
day).  Duplicates within the file are resolved by the ingesting side over the
whole file (the same account and day with different values rejects both).
Excel serial day numbers are read as dates in xlsx files only (in a CSV a
number is not a date).

Every rejected row is counted (``FeedChunk.rejected``, ``FeedChunk.counts``);
at most :data:`MAX_ISSUES_PER_RULE` of them per rule and chunk become
:class:`Issue` objects, so a file of millions of bad rows costs no more memory
than a good one.

Account map layout: ``account_no,uscc[,meter_name][,valid_from]`` (户号,统一社会信用代码,...).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .base import Collected, Issue, decode_bytes, detect_encoding, file_sha256
from .exceptions import CollectorError, InvalidCodeError
from .limits import Limits, check_text_size, guarded, guarded_iter, limits_for, refuse
from .uscc import validate_uscc

__all__ = [
    "ACCOUNT_ALIASES", "DATE_ALIASES", "KWH_ALIASES", "FeedChunk", "electricity_header", "iter_electricity",
    "read_account_map", "parse_days", "FEED_FIRST_DAY", "MAX_DAILY_KWH", "MAX_ISSUES_PER_RULE",
]

#: The earliest day a feed may report (older readings are typing errors such as 1900-01-01).
FEED_FIRST_DAY = dt.date(2000, 1, 1)
#: More than any single plant draws in a day (about 4 GW around the clock); a larger value is a typing or export
#: error, and summing such values overflows.
MAX_DAILY_KWH = 1e8
#: Issues kept per rule and chunk (every rejected row is still counted).
MAX_ISSUES_PER_RULE = 1000

ACCOUNT_ALIASES = ("户号", "用户编号", "电表户号", "用电户号", "account", "account_no", "account number")
DATE_ALIASES = ("日期", "抄表日期", "用电日期", "date", "day")
KWH_ALIASES = ("用电量", "用电量(kwh)", "用电量（kwh）", "电量", "电量(kwh)", "kwh", "consumption")
USCC_ALIASES = ("统一社会信用代码", "信用代码", "uscc", "credit code")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S")


def _norm(name: str) -> str:
    return str(name).strip().lstrip("\ufeff").lower().replace(" ", "")


def _find(header: list[str], aliases: tuple[str, ...]) -> int | None:
    wanted = {_norm(a) for a in aliases}
    for i, h in enumerate(header):
        if _norm(h) in wanted:
            return i
    return None


def electricity_header(header: list[str]) -> tuple[int, int, int] | None:
    """Positions of the account, date and kWh columns, or None when the header is not a feed's."""
    idx = (_find(header, ACCOUNT_ALIASES), _find(header, DATE_ALIASES), _find(header, KWH_ALIASES))
    return None if None in idx else idx  # type: ignore[return-value]


def parse_days(values: pd.Series, *, serial: bool = False) -> pd.Series:
    """Parse day strings in any of the accepted formats (mixed in one column); NaT where none fits.

    ``serial`` also reads Excel serial day numbers (``45000`` = 2023-03-15), for xlsx cells only.  A day that
    pandas cannot represent (``3026/12/06``) is NaT, never an exception.
    """
    text = values.astype(object)
    out = _ns(pd.to_datetime(text, format=_DATE_FORMATS[0], errors="coerce"))  # the common case, in one pass
    todo = out.isna()
    if todo.any():  # only the cells the common format missed are looked at again
        missed = text[todo]
        todo.loc[missed.index] = missed.notna() & (missed.astype(str).str.strip() != "")
    for fmt in _DATE_FORMATS[1:]:
        if not todo.any():
            break
        parsed = _ns(pd.to_datetime(text[todo].astype(str).str.strip(), format=fmt, errors="coerce"))
        hit = parsed.notna()
        out.loc[parsed.index[hit]] = parsed[hit].dt.normalize()
        todo.loc[parsed.index[hit]] = False
    if serial and todo.any():  # Excel serial day numbers (xlsx exports)
        number = pd.to_numeric(text[todo], errors="coerce")
        ok = number.between(20000, 80000) & (number == number.round())
        out.loc[number.index[ok]] = pd.Timestamp("1899-12-30") + pd.to_timedelta(number[ok], unit="D")
    return out.astype("datetime64[ns]")


def _ns(parsed: pd.Series) -> pd.Series:
    """Parsed days as nanosecond timestamps; a day pandas cannot hold that way (year 3026, 1200) becomes NaT."""
    parsed = pd.Series(parsed)
    if len(parsed) and parsed.dtype != "datetime64[ns]":
        years = parsed.dt.year
        parsed = parsed.where((years > 1677) & (years < 2262))
    return parsed.astype("datetime64[ns]")


@dataclass
class FeedChunk:
    """One validated chunk of a feed: good rows and the issues of the others.

    ``rejected`` counts every rejected row and ``counts`` the rejected rows per rule, exactly; ``issues`` holds at
    most :data:`MAX_ISSUES_PER_RULE` of them per rule; ``lines`` is every line of the chunk, blank ones included.
    """

    rows: pd.DataFrame  # account_no (str), day (datetime64), kwh (float), source_row (int)
    issues: list[Issue]
    rejected: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    lines: int = 0


def _plain_numbers(text: pd.Series) -> np.ndarray | None:
    """kWh as floats when every cell is a plain, finite, non-negative decimal number (the usual file), converted by
    Arrow's string-to-double cast in one call (correctly rounded, as pandas' parser is); None when any cell is
    something else, which then goes through :func:`pandas.to_numeric` cell by cell as before."""
    try:
        import pyarrow as pa  # an optional dependency (pandas' string columns use it when present)
        import pyarrow.compute as pc
    except ImportError:
        return None
    try:
        cast = pc.cast(pa.array(text.to_numpy(dtype=object), type=pa.string()), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None  # a cell that is not a plain number (or not text): the careful path decides its rule
    out = cast.to_numpy(zero_copy_only=False)
    if cast.null_count or not np.isfinite(out).all() or np.signbit(out).any():
        return None  # nan, inf, negatives and -0: the careful path, so each rule and value stays as it was
    return np.asarray(out, dtype=float)


def _numbers(text: pd.Series) -> pd.Series:
    """kWh as floats; only cells that do not parse at once are cleaned (spaces, thousands separators) and retried."""
    plain = _plain_numbers(text)
    if plain is not None:
        return pd.Series(plain, index=text.index)
    out = pd.to_numeric(text, errors="coerce")
    retry = out.isna() & text.notna()
    if retry.any():
        cleaned = text[retry].astype(str).str.strip().str.replace(",", "", regex=False)
        out.loc[retry] = pd.to_numeric(cleaned, errors="coerce")
    return out.astype(float)


_EDGE_SPACE = re.compile(r"\x00\s|\s\x00")


def _edge_space(account: pd.Series) -> bool:
    """Whether an account starts or ends with white space (what ``re``'s ``\\s`` matches): one search over the
    joined values instead of one per row (a NUL inside a value can only make it answer yes, and then the values
    are stripped one by one, as before)."""
    try:
        joined = "\x00".join(account.tolist())
    except TypeError:  # not all text
        return bool(account.str.contains(r"^\s|\s$", regex=True, na=False).any())
    return _EDGE_SPACE.search(f"\x00{joined}\x00") is not None


def _validate(path: Path, raw: pd.DataFrame, first_row: int, *, serial: bool = False,
              today: dt.date | None = None) -> FeedChunk:
    raw = raw.reset_index(drop=True)
    source_row = np.arange(first_row, first_row + len(raw), dtype=np.int64)
    account = raw["account_no"].astype(object)
    if _edge_space(account):
        account = account.str.strip()
    day = parse_days(raw["day"], serial=serial)
    kwh = _numbers(raw["kwh"])
    last = pd.Timestamp(today or dt.date.today())
    absent = account.isna()
    empty = absent | (account == "")
    blank = pd.Series(False, index=raw.index)  # an empty line: not a reading, not an error
    if empty.any():  # only lines without an account can be empty
        cells = raw[empty]
        blank.loc[cells.index] = (cells["day"].astype(str).str.strip() == "") & (
            cells["kwh"].astype(str).str.strip() == "")
    # each rejected row is counted under exactly one rule: the first that fails, in this order
    no_account = (empty | account.isin(["nan", "None"])) & ~blank
    taken = blank | no_account
    bad_day = day.isna() & ~taken
    taken |= bad_day
    outside = ((day < pd.Timestamp(FEED_FIRST_DAY)) | (day > last)) & ~taken
    taken |= outside
    bad_kwh = kwh.isna() & ~taken
    taken |= bad_kwh
    infinite = ~np.isfinite(kwh.fillna(0.0)) & ~taken
    taken |= infinite
    negative = (kwh < 0) & ~taken
    taken |= negative
    huge = (kwh > MAX_DAILY_KWH) & ~taken
    taken |= huge
    issues: list[Issue] = []
    counts: dict[str, int] = {}
    checks: tuple[tuple[pd.Series, str, str, Callable[[int], str]], ...] = (
        (no_account, "missing_account", "account_no", lambda i: "no account number"),
        (bad_day, "bad_date", "day", lambda i: f"date {raw['day'].iloc[i]!r} is not a day (use YYYY-MM-DD)"),
        (outside, "date_outside_window", "day",
         lambda i: f"date {raw['day'].iloc[i]!r} is outside the feed window ({FEED_FIRST_DAY} to {last.date()})"),
        (bad_kwh, "non_numeric_kwh", "kwh", lambda i: f"kWh {raw['kwh'].iloc[i]!r} is not a number"),
        (infinite, "non_finite_kwh", "kwh", lambda i: f"kWh {raw['kwh'].iloc[i]!r} is not a finite number"),
        (negative, "negative_kwh", "kwh", lambda i: f"kWh {kwh.iloc[i]} is negative"),
        (huge, "implausible_kwh", "kwh", lambda i: f"kWh {kwh.iloc[i]:g} in one day is more than any plant draws "
         f"(limit {MAX_DAILY_KWH:g}); check the unit and the decimal point"),
    )
    for mask, rule, column, text_of in checks:
        hits = np.flatnonzero(mask.to_numpy())
        if not len(hits):
            continue
        counts[rule] = len(hits)
        for i in hits[:MAX_ISSUES_PER_RULE]:
            value = raw[column].iloc[i]
            issues.append(Issue(path.name, rule, text_of(i), row=int(source_row[i]),
                                field="date" if column == "day" else column,
                                value=None if value is None else str(value)))
    keep = ~taken
    rows = pd.DataFrame({"account_no": account[keep].to_numpy(dtype=object), "day": day[keep].to_numpy(),
                         "kwh": kwh[keep].to_numpy(dtype=float), "source_row": source_row[keep.to_numpy()]})
    return FeedChunk(rows, issues, rejected=sum(counts.values()), counts=counts, lines=len(raw))


@guarded_iter
def iter_electricity(path: Path, *, chunksize: int = 500_000, encoding: str | None = None,
                     limits: Limits | None = None, today: dt.date | None = None) -> Iterator[FeedChunk]:
    """Read a utility feed in validated chunks.

    Parameters
    ----------
    path
        CSV (GBK or UTF-8, detected) or xlsx.
    chunksize
        Rows per chunk.
    encoding
        Force an encoding instead of detecting it.
    limits
        Rows, columns and bytes the file may hold (default :data:`collectors.limits.DEFAULT_LIMITS`).
    today
        Last day of the feed window (default: today).

    Raises
    ------
    CollectorError
        Empty file, header-only file, a header without account/date/kWh columns, a file over a limit, or one
        that cannot be read at all (the only exception that leaves this function).
    """
    path = Path(path)
    limits = limits or limits_for("electricity")
    if path.stat().st_size == 0:
        raise CollectorError(f"{path.name}: the file is empty (0 bytes); ask the utility to export it again")
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        yield from _iter_xlsx(path, min(chunksize, 100_000), limits, today)
        return
    check_text_size(path, limits)
    with path.open("rb") as fh:
        sample = fh.read(1 << 16)
    enc = encoding or detect_encoding(sample)
    header_line = sample.split(b"\n", 1)[0]
    header = next(csv.reader([decode_bytes(header_line, path, enc)[0]]))
    idx = electricity_header(header)
    if idx is None:
        raise CollectorError(
            f"{path.name}: header {header!r} lacks an account, date or kWh column; expected e.g. "
            "户号,日期,用电量 or account_no,date,kwh"
        )
    names = {idx[0]: "account_no", idx[1]: "day", idx[2]: "kwh"}
    try:
        reader = pd.read_csv(path, encoding=enc, usecols=list(idx), dtype=object, keep_default_na=False,
                             chunksize=chunksize, skip_blank_lines=False, encoding_errors="strict",
                             skipinitialspace=True)
        first = 2
        any_rows = False
        for chunk in reader:
            if first - 1 + len(chunk) > limits.max_rows:
                raise refuse(path, limits, "rows", f"more than {limits.max_rows:,} lines")
            chunk = chunk.rename(columns={chunk.columns[k]: names[i] for k, i in enumerate(sorted(idx))})
            checked = _validate(path, chunk, first, today=today)
            any_rows = any_rows or len(checked.rows) + checked.rejected > 0
            yield checked
            first += len(chunk)
    except UnicodeDecodeError as exc:
        raise CollectorError(
            f"{path.name}: not valid {enc} text past the first lines ({exc.reason}); the file mixes encodings: "
            "export it again in one encoding (UTF-8 or GBK)"
        ) from None
    except pd.errors.ParserError as exc:
        raise CollectorError(f"{path.name}: malformed CSV ({exc}); check the quoting and the column count") from None
    if not any_rows:
        raise CollectorError(f"{path.name}: the file has a header but no readings; export it again with data")


def _iter_xlsx(path: Path, chunksize: int, limits: Limits, today: dt.date | None) -> Iterator[FeedChunk]:
    from ._xlsx import open_workbook, sheet_rows

    wb = open_workbook(path, limits=limits)
    try:
        ws = wb.worksheets[0]
        rows = sheet_rows(ws, path, limits)
        header = ["" if v is None else str(v) for v in next(rows, ())]
        idx = electricity_header(header)
        if idx is None:
            raise CollectorError(f"{path.name}: header {header!r} lacks an account, date or kWh column; expected "
                                 "e.g. 户号,日期,用电量")
        buf: list[tuple[Any, ...]] = []
        first, any_rows = 2, False
        for r in rows:
            if r is None or all(v is None for v in r):
                continue
            buf.append(tuple(r[i] if i < len(r) else None for i in idx))
            if len(buf) >= chunksize:
                yield _validate(path, _xlsx_frame(buf), first, serial=True, today=today)
                first += len(buf)
                buf, any_rows = [], True
        if buf:
            yield _validate(path, _xlsx_frame(buf), first, serial=True, today=today)
            any_rows = True
        if not any_rows:
            raise CollectorError(f"{path.name}: the sheet has a header but no readings; export it again with data")
    finally:
        wb.close()


def _xlsx_frame(buf: list[tuple[Any, ...]]) -> pd.DataFrame:
    frame = pd.DataFrame(buf, columns=["account_no", "day", "kwh"], dtype=object)
    frame["day"] = frame["day"].map(lambda v: v.strftime("%Y-%m-%d") if hasattr(v, "strftime") else v)
    return frame.astype(str).replace({"None": ""})


@guarded
def read_account_map(path: Path, *, encoding: str | None = None, limits: Limits | None = None) -> Collected:
    """Read the account-to-enterprise map (several accounts may belong to one enterprise).

    Returns
    -------
    Collected
        ``tables["electricity_account"]`` with ``account_no, uscc, meter_name,
        valid_from, source_row``; rows with an invalid credit code or a missing
        account are rejected; an account mapped twice to different enterprises
        rejects both rows.
    """
    path = Path(path)
    limits = limits or limits_for("electricity_accounts")
    check_text_size(path, limits)
    text, enc = decode_bytes(path.read_bytes(), path, encoding)
    rows = list(csv.reader(io.StringIO(text)))
    if len(rows) > limits.max_rows:
        raise refuse(path, limits, "rows", f"{len(rows):,} lines")
    if not rows:
        raise CollectorError(f"{path.name}: the file is empty")
    header = rows[0]
    a, u = _find(header, ACCOUNT_ALIASES), _find(header, USCC_ALIASES)
    m, v = _find(header, ("meter_name", "电表名称", "表计名称")), _find(header, ("valid_from", "启用日期"))
    if a is None or u is None:
        raise CollectorError(f"{path.name}: header {header!r} lacks an account or credit-code column; expected "
                             "account_no,uscc[,meter_name][,valid_from]")
    result = Collected("electricity_accounts", path, file_sha256(path), meta={"encoding": enc})
    out = []
    for n, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        account = row[a].strip() if a < len(row) else ""
        if not account:
            result.issues.append(Issue(path.name, "missing_account", "no account number", row=n, field="account_no"))
            continue
        try:
            uscc = validate_uscc(row[u] if u < len(row) else "")
        except InvalidCodeError as exc:
            result.issues.append(Issue(path.name, "invalid_uscc", str(exc), row=n, field="uscc",
                                       value=row[u] if u < len(row) else None))
            continue
        valid_from = None
        if v is not None and v < len(row) and row[v].strip():
            parsed = parse_days(pd.Series([row[v]]))[0]
            if pd.isna(parsed):
                result.issues.append(Issue(path.name, "bad_date", f"valid_from {row[v]!r} is not a day", row=n,
                                           field="valid_from", value=row[v]))
                continue
            valid_from = parsed.date()
        meter = row[m].strip() if m is not None and m < len(row) else None
        out.append((account, uscc, meter or None, valid_from, n))
    if not out and not result.issues:
        raise CollectorError(f"{path.name}: the file has a header but no accounts")
    frame = pd.DataFrame(out, columns=["account_no", "uscc", "meter_name", "valid_from", "source_row"])
    clash = frame.groupby("account_no")["uscc"].nunique()
    bad = set(clash[clash > 1].index)
    for rec in frame[frame["account_no"].isin(bad)].itertuples():
        result.issues.append(Issue(path.name, "account_conflict", f"account {rec.account_no} is mapped to more "
                                   "than one enterprise", row=int(rec.source_row), field="uscc", value=rec.uscc))
    result.tables["electricity_account"] = frame[~frame["account_no"].isin(bad)].drop_duplicates("account_no")
    return result
