"""Cells the platform writes for people to open in Excel or Word: text from data is never a live formula.

A spreadsheet treats a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in CSV, one that starts with a tab or
carriage return before them) as a formula: an enterprise name ``=HYPERLINK("http://...")`` or ``+cmd|' /C calc'!A0``
in the register would run on the desk of whoever opens the workbook.  :func:`neutralise` puts a ``'`` in front of
such text (Excel's own "text, not formula" mark), so it shows as written and is never evaluated.
"""

from __future__ import annotations

import re

__all__ = ["neutralise", "FORMULA_STARTS"]

#: Leading characters that make a spreadsheet cell a formula (or hide one after them).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d[\d,]*)?(\.\d+)?([eE][+-]?\d+)?%?$")


def neutralise(value: object, *, numeric_start_ok: bool = False) -> object:
    """``value`` made inert for a spreadsheet cell.

    Parameters
    ----------
    value
        Anything written to a cell; only strings are changed (numbers, dates and None pass as they are).
    numeric_start_ok
        Leave text whose ``+``/``-`` is followed by a digit (``-0.5 个百分点``), for Word tables, where a formula
        cannot run and such text is common; spreadsheets (CSV, XLSX) use the strict default.

    Returns
    -------
    object
        The value, with ``'`` in front when it is text that would start a formula.  A plain number written as
        text (``-1.5``, ``+3%``) is left alone: a spreadsheet reads it as the number it is.
    """
    if not isinstance(value, str) or not value or not value.startswith(FORMULA_STARTS):
        return value
    if _PLAIN_NUMBER.match(value) and any(c.isdigit() for c in value):
        return value
    if numeric_start_ok and value[0] in "+-" and len(value) > 1 and (value[1].isdigit() or value[1] == "."):
        return value
    return "'" + value
