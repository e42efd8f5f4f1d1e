"""Opening Excel workbooks with clear errors (truncated, encrypted, not xlsx at all), within limits.

Every workbook is checked before openpyxl sees it (:func:`collectors.limits.check_workbook`: the uncompressed size
from the zip directory, each member's CRC), opened read-only (rows are streamed, not loaded), and read through
:func:`sheet_rows`, which ignores the sheet's ``<dimension>`` tag (a stale tag made openpyxl stop early, silently)
and stops at the row and column limits.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

from .exceptions import CollectorError
from .limits import DEFAULT_LIMITS, Limits, check_workbook, refuse

__all__ = ["open_workbook", "sheet_names", "sheet_rows", "XLSX_MAX_ROWS"]

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: Rows of an Excel sheet (a sheet claiming more was not written by Excel).
XLSX_MAX_ROWS = 1_048_576


def _loosest() -> Limits:
    return Limits(max(v.max_rows for v in DEFAULT_LIMITS.values()), max(v.max_columns for v in DEFAULT_LIMITS.values()),
                  max(v.max_bytes for v in DEFAULT_LIMITS.values()))


def sheet_names(path: Path, limits: Limits | None = None) -> list[str]:
    """Sheet names of an xlsx file, read from its zip directory without loading the workbook.

    Raises
    ------
    CollectorError
        As :func:`open_workbook` for files that are not readable workbooks or are over ``limits.max_bytes``.
    """
    path = Path(path)
    _check_container(path)
    check_workbook(path, limits or _loosest(), crc=False)
    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo("xl/workbook.xml")
            if info.file_size > 8 * 2**20:
                raise CollectorError(f"{path.name}: refused, its workbook part is {info.file_size:,} bytes; "
                                     "a workbook's sheet list is a few KB: the file is not a genuine workbook")
            xml = zf.read(info).decode("utf-8")
    except CollectorError:
        raise
    except (zipfile.BadZipFile, KeyError, OSError, UnicodeDecodeError, ValueError, EOFError, RuntimeError) as exc:
        raise CollectorError(
            f"{path.name}: not a readable .xlsx workbook ({type(exc).__name__}); the file may be truncated "
            "or not a workbook: ask for it to be saved and sent again"
        ) from None
    return [unescape(n) for n in re.findall(r'<(?:\w+:)?sheet\b[^>]*?\bname="([^"]*)"', xml)]


def _check_container(path: Path) -> None:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise CollectorError(f"{path.name}: cannot read the file ({exc.strerror})") from None
    if size == 0:
        raise CollectorError(f"{path.name}: the file is empty (0 bytes); ask for it to be sent again")
    with path.open("rb") as fh:
        magic = fh.read(8)
    if magic == _OLE_MAGIC:
        raise CollectorError(
            f"{path.name}: the workbook is password-protected or in the old .xls format; "
            "save it in Excel as .xlsx without a password and send it again"
        )


def open_workbook(path: Path, *, read_only: bool = True, limits: Limits | None = None) -> Any:
    """Open an xlsx workbook for reading (values, not formulas), after the size and checksum checks.

    Raises
    ------
    CollectorError
        Empty, truncated, damaged (a member failing its CRC), over the size limit, password-protected or legacy
        ``.xls`` files, each with the fix.
    """
    from openpyxl import load_workbook

    path = Path(path)
    _check_container(path)
    check_workbook(path, limits or _loosest())
    try:
        return load_workbook(path, read_only=read_only, data_only=True)
    except (zipfile.BadZipFile, KeyError, EOFError, OSError) as exc:
        raise CollectorError(
            f"{path.name}: not a readable .xlsx workbook ({type(exc).__name__}: {exc}); the file may be truncated "
            "or not a workbook: ask for it to be saved and sent again"
        ) from None
    except Exception as exc:  # openpyxl raises a variety of errors on malformed XML
        raise CollectorError(
            f"{path.name}: the workbook is damaged ({type(exc).__name__}: {exc}); open and re-save it in Excel"
        ) from None


def sheet_rows(ws: Any, path: Path, limits: Limits) -> Iterator[tuple[Any, ...]]:
    """The rows of a sheet as value tuples (trailing empty cells dropped), streamed, whatever its ``<dimension>``.

    Raises
    ------
    CollectorError
        A sheet with more than ``limits.max_rows`` rows (or than Excel's 1,048,576) or a row with a value beyond
        ``limits.max_columns``.
    """
    if hasattr(ws, "reset_dimensions"):
        ws.reset_dimensions()  # the <dimension> tag may be stale: read every row the sheet holds
    max_rows = min(limits.max_rows, XLSX_MAX_ROWS)
    for n, row in enumerate(ws.iter_rows(values_only=True), start=1):
        if n > max_rows:
            raise refuse(path, Limits(max_rows, limits.max_columns, limits.max_bytes, limits.setting), "rows",
                         f"sheet {ws.title!r} has more than {max_rows:,} rows")
        end = len(row)
        while end and row[end - 1] is None:
            end -= 1
        if end > limits.max_columns:
            raise refuse(path, limits, "columns", f"sheet {ws.title!r} row {n} has a value in column {end:,}")
        yield tuple(row[:end])
