"""The power utility's feed: daily consumption per account, and the account-to-enterprise map.

Feed layout (CSV in GBK or UTF-8, or xlsx), one row per account and day::

    户号,日期,用电量(kWh)          or   account_no,date,kwh
    0300123456,2017-01-05,1234.5

Header names are matched case-insensitively against :data:`ACCOUNT_ALIASES`,
:data:`DATE_ALIASES` and :data:`KWH_ALIASES`; dates may mix ``2017-01-05``,
``2017/1/5``, ``20170105`` and ``2017.01.05``.  Files of tens of millions of
rows are read in chunks (:func:`iter_electricity`), so memory stays flat.

Row rules (hard: the row is rejected): an account number is present; the date
parses; kWh is a number and not negative.  Duplicates within the file are
resolved by the ingesting side over the whole file (the same account and day
with different values rejects both).

Account map layout: ``account_no,uscc[,meter_name][,valid_from]`` (户号,统一社会信用代码,...).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .base import Collected, Issue, decode_bytes, detect_encoding, file_sha256
from .exceptions import CollectorError, InvalidCodeError
from .uscc import validate_uscc

__all__ = [
    "ACCOUNT_ALIASES", "DATE_ALIASES", "KWH_ALIASES", "FeedChunk", "electricity_header", "iter_electricity",
    "read_account_map", "parse_days",
]

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


def parse_days(values: pd.Series) -> pd.Series:
    """Parse day strings in any of the accepted formats (mixed in one column); NaT where none fits."""
    text = values.astype(object)
    out = pd.to_datetime(text, format=_DATE_FORMATS[0], errors="coerce")  # the common case, in one pass
    todo = out.isna() & text.notna() & (text.astype(str).str.strip() != "")
    for fmt in _DATE_FORMATS[1:]:
        if not todo.any():
            break
        parsed = pd.to_datetime(text[todo].astype(str).str.strip(), format=fmt, errors="coerce")
        hit = parsed.notna()
        out.loc[parsed.index[hit]] = parsed[hit].dt.normalize()
        todo.loc[parsed.index[hit]] = False
    if todo.any():  # Excel serial day numbers (xlsx exports)
        serial = pd.to_numeric(text[todo], errors="coerce")
        ok = serial.between(20000, 80000)
        out.loc[serial.index[ok]] = pd.Timestamp("1899-12-30") + pd.to_timedelta(serial[ok], unit="D")
    return out.astype("datetime64[ns]")


@dataclass
class FeedChunk:
    """One validated chunk of a feed: good rows and the issues of the others."""

    rows: pd.DataFrame  # account_no (str), day (datetime64), kwh (float), source_row (int)
    issues: list[Issue]


def _numbers(text: pd.Series) -> pd.Series:
    """kWh as floats; only cells that do not parse at once are cleaned (spaces, thousands separators) and retried."""
    out = pd.to_numeric(text, errors="coerce")
    retry = out.isna() & text.notna()
    if retry.any():
        cleaned = text[retry].astype(str).str.strip().str.replace(",", "", regex=False)
        out.loc[retry] = pd.to_numeric(cleaned, errors="coerce")
    return out.astype(float)


def _validate(path: Path, raw: pd.DataFrame, first_row: int) -> FeedChunk:
    raw = raw.reset_index(drop=True)
    source_row = np.arange(first_row, first_row + len(raw), dtype=np.int64)
    account = raw["account_no"].astype(object)
    if account.str.contains(r"^\s|\s$", regex=True, na=False).any():
        account = account.str.strip()
    day = parse_days(raw["day"])
    kwh = _numbers(raw["kwh"])
    blank = (account.isna() | (account == "")) & (raw["day"].astype(str).str.strip() == "") & (
        raw["kwh"].astype(str).str.strip() == "")  # an empty line: not a reading, not an error
    no_account = (account.isna() | account.isin(["", "nan", "None"])) & ~blank
    bad_day = day.isna() & ~no_account & ~blank
    bad_kwh = kwh.isna() & ~no_account & ~bad_day & ~blank
    negative = (kwh < 0) & ~no_account & ~bad_day
    issues: list[Issue] = []
    for mask, rule, field, text_of in (
        (no_account, "missing_account", "account_no", lambda i: "no account number"),
        (bad_day, "bad_date", "day", lambda i: f"date {raw['day'].iloc[i]!r} is not a day (use YYYY-MM-DD)"),
        (bad_kwh, "non_numeric_kwh", "kwh", lambda i: f"kWh {raw['kwh'].iloc[i]!r} is not a number"),
        (negative, "negative_kwh", "kwh", lambda i: f"kWh {kwh.iloc[i]} is negative"),
    ):
        for i in np.flatnonzero(mask.to_numpy()):
            value = raw[field].iloc[i]
            issues.append(Issue(path.name, rule, text_of(i), row=int(source_row[i]),
                                field="date" if field == "day" else field, value=None if value is None else str(value)))
    keep = ~(blank | no_account | bad_day | bad_kwh | negative)
    rows = pd.DataFrame({"account_no": account[keep].to_numpy(dtype=object), "day": day[keep].to_numpy(),
                         "kwh": kwh[keep].to_numpy(dtype=float), "source_row": source_row[keep.to_numpy()]})
    return FeedChunk(rows, issues)


def iter_electricity(path: Path, *, chunksize: int = 500_000, encoding: str | None = None) -> Iterator[FeedChunk]:
    """Read a utility feed in validated chunks.

    Parameters
    ----------
    path
        CSV (GBK or UTF-8, detected) or xlsx.
    chunksize
        Rows per chunk.
    encoding
        Force an encoding instead of detecting it.

    Raises
    ------
    CollectorError
        Empty file, header-only file, or a header without account/date/kWh columns.
    """
    path = Path(path)
    if path.stat().st_size == 0:
        raise CollectorError(f"{path.name}: the file is empty (0 bytes); ask the utility to export it again")
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        yield from _iter_xlsx(path, chunksize)
        return
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
            chunk = chunk.rename(columns={chunk.columns[k]: names[i] for k, i in enumerate(sorted(idx))})
            checked = _validate(path, chunk, first)
            any_rows = any_rows or len(checked.rows) + len(checked.issues) > 0
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


def _iter_xlsx(path: Path, chunksize: int) -> Iterator[FeedChunk]:
    from ._xlsx import open_workbook

    wb = open_workbook(path)
    try:
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = ["" if v is None else str(v) for v in next(rows, ())]
        idx = electricity_header(header)
        if idx is None:
            raise CollectorError(f"{path.name}: header {header!r} lacks an account, date or kWh column; expected "
                                 "e.g. 户号,日期,用电量")
        buf: list[tuple] = []
        first, any_rows = 2, False
        for r in rows:
            if r is None or all(v is None for v in r):
                continue
            buf.append(tuple(r[i] if i < len(r) else None for i in idx))
            if len(buf) >= chunksize:
                yield _validate(path, _xlsx_frame(buf), first)
                first += len(buf)
                buf, any_rows = [], True
        if buf:
            yield _validate(path, _xlsx_frame(buf), first)
            any_rows = True
        if not any_rows:
            raise CollectorError(f"{path.name}: the sheet has a header but no readings; export it again with data")
    finally:
        wb.close()


def _xlsx_frame(buf: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(buf, columns=["account_no", "day", "kwh"], dtype=object)
    frame["day"] = frame["day"].map(lambda v: v.strftime("%Y-%m-%d") if hasattr(v, "strftime") else v)
    return frame.astype(str).replace({"None": ""})


def read_account_map(path: Path, *, encoding: str | None = None) -> Collected:
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
    text, enc = decode_bytes(path.read_bytes(), path, encoding)
    rows = list(csv.reader(io.StringIO(text)))
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
