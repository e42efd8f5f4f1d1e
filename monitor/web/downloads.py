"""CSV and XLSX downloads of the dashboard's tables, formula-safe: text that a spreadsheet would run as a formula
(``=HYPERLINK(...)``, ``+cmd|...``, ``@SUM``) gets Excel's ``'`` text mark.

The neutralisation is the shared helper of issue 16 (:func:`collectors.cells.neutralise`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

from collectors.cells import neutralise

__all__ = ["neutralise", "csv_bytes", "xlsx_bytes"]

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
