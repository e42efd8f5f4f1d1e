"""Opening Excel workbooks with clear errors (truncated, encrypted, not xlsx at all)."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from .exceptions import CollectorError

__all__ = ["open_workbook", "sheet_names"]

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def sheet_names(path: Path) -> list[str]:
    """Sheet names of an xlsx file, read from its zip directory without loading the workbook.

    Raises
    ------
    CollectorError
        As :func:`open_workbook` for files that are not readable workbooks.
    """
    import re

    _check_container(Path(path))
    try:
        with zipfile.ZipFile(path) as zf:
            xml = zf.read("xl/workbook.xml").decode("utf-8")
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise CollectorError(
            f"{Path(path).name}: not a readable .xlsx workbook ({type(exc).__name__}); the file may be truncated "
            "or not a workbook: ask for it to be saved and sent again"
        ) from None
    from html import unescape

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


def open_workbook(path: Path, *, read_only: bool = True) -> Any:
    """Open an xlsx workbook for reading (values, not formulas).

    Raises
    ------
    CollectorError
        Empty, truncated, password-protected or legacy ``.xls`` files, each with the fix.
    """
    from openpyxl import load_workbook

    path = Path(path)
    _check_container(path)
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
