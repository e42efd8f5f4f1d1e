"""Regenerate ``spring_festival_1949_2050.csv``: Chinese lunar festivals by Gregorian year.

Run from the repository root with the generator-only dependency installed::

    pip install "lunardate==0.3.0"
    python forecasting/data/make_spring_festival.py

The runtime (:mod:`forecasting.calendar`) reads the CSV only; it never imports
``lunardate``.  Columns: ``year``, ``spring_festival`` (lunar 1/1, 春节),
``dragon_boat`` (lunar 5/5, 端午节) and ``mid_autumn`` (lunar 8/15, 中秋节),
all ISO dates in China Standard Time.  Festivals fall on the regular (not the
leap) lunar month.  The tests check the Spring Festival column against the
dates bundled with R ``seasonal`` (``tests/data/cny/``).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

FIRST, LAST = 1949, 2050
FESTIVALS = {"spring_festival": (1, 1), "dragon_boat": (5, 5), "mid_autumn": (8, 15)}


def rows() -> list[dict[str, str]]:
    """One row per Gregorian year with the three festival dates."""
    from lunardate import LunarDate

    out = []
    for year in range(FIRST, LAST + 1):
        row = {"year": str(year)}
        for name, (month, day) in FESTIVALS.items():
            row[name] = LunarDate(year, month, day, False).to_solar_date().isoformat()
        out.append(row)
    return out


def main(path: Path | None = None) -> Path:
    """Write the CSV (default: beside this script) and return its path."""
    target = path or Path(__file__).with_name(f"spring_festival_{FIRST}_{LAST}.csv")
    with target.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["year", *FESTIVALS], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows())
    return target


if __name__ == "__main__":
    print(main(Path(sys.argv[1]) if len(sys.argv) > 1 else None))
