"""Plain-text tables for the terminal, aligned for Chinese (wide) characters."""

from __future__ import annotations

import unicodedata

import pandas as pd

__all__ = ["display_width", "table_lines", "escape_control", "first_failure"]

_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
_CONTROL.update({ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t", 0x2028: "\\u2028", 0x2029: "\\u2029",
                 0x85: "\\x85"})


def escape_control(text: object) -> str:
    """``text`` with control characters (newlines, carriage returns, escape sequences, ...) written as ``\\n``,
    ``\\x1b`` and so on: a name from outside (a file name, a register entry) cannot forge a log or terminal line."""
    return str(text).translate(_CONTROL)


def display_width(text: str) -> int:
    """Columns a string takes on a terminal: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def table_lines(frame: pd.DataFrame, headers: list[str], *, indent: str = "  ") -> list[str]:
    """Rows of ``frame`` under ``headers``: first column left-aligned, the others right-aligned."""
    cells = [headers] + [[str(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    widths = [max(display_width(r[i]) for r in cells) for i in range(len(headers))]
    out = []
    for r in cells:
        parts = [r[0] + " " * (widths[0] - display_width(r[0]))]
        parts += [" " * (widths[i] - display_width(r[i])) + r[i] for i in range(1, len(r))]
        out.append(indent + "  ".join(parts))
    return out


def frame_lines(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    """``columns`` of ``frame`` as aligned text lines, missing cells blank; ``["  (none)"]`` for an empty frame."""
    if frame.empty:
        return ["  (none)"]
    shown = frame[columns].astype(object).where(frame[columns].notna(), "")
    return table_lines(shown.astype(str), columns)


def first_failure(failed: dict[str, str], width: int = 200) -> str:
    """``"; first failure KEY: MESSAGE"`` (the message cut to ``width``) for a batch report's summary, or ``""``."""
    if not failed:
        return ""
    key, message = next(iter(failed.items()))
    return f"; first failure {key}: {message[:width]}"
