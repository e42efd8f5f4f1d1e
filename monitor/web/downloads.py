"""CSV and XLSX downloads of the dashboard's tables, formula-safe: text that a spreadsheet would run as a formula
(``=HYPERLINK(...)``, ``+cmd|...``, ``@SUM``) gets Excel's ``'`` text mark.

:func:`neutralise` is a local copy of the shared helper of issue 16 (``collectors.cells.neutralise``); it is
replaced by an import once that lands on main.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["neutralise", "csv_bytes", "xlsx_bytes"]

_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d[\d,]*)?(\.\d+)?([eE][+-]?\d+)?%?$")


def neutralise(value: object) -> object:
    """``value`` made inert for a spreadsheet cell (text that would start a formula gets a leading ``'``)."""
    if not isinstance(value, str) or not value or not value.startswith(_STARTS):
        return value
    if _PLAIN_NUMBER.match(value) and any(c.isdigit() for c in value):
        return value
    return "'" + value


def _cell(value: Any) -> Any:
    if value is None:
        return None
    try:
        import pandas as pd

        if value is pd.NA or (isinstance(value, float) and value != value):
            return None
        if isinstance(value, pd.Period):
            return str(value)
    except ImportError:  # pragma: no cover
        pass
    return neutralise(value) if isinstance(value, str) else value


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 CSV with a byte-order mark (Excel opens Chinese text correctly), every text cell neutralised."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow(["" if (c := _cell(v)) is None else c for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def xlsx_bytes(sheet: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """One-sheet XLSX; text cells are neutralised and stored as strings (never as formulas)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=re.sub(r"[\[\]:*?/\\]", "_", sheet)[:31] or "data")
    ws.append([neutralise(h) for h in header])
    for row in rows:
        cells = []
        for v in row:
            c = _cell(v)
            if hasattr(c, "isoformat") and not isinstance(c, str):
                c = str(c)
            cells.append(c)
        ws.append(cells)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
