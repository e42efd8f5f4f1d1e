"""Synthetic province and country figures for the demo's comparison columns (operation report, table 1).

The demo city has official statistics drawn from its own panel; a real bureau compares them with the province's
and the country's releases.  The demo has no such releases, so this module makes them up, and says so: the rows
are loaded with the demo's source (``ingest_source.kind = 'demo'``) and the publications print a note that the
province and country figures are synthetic.  Each is a damped copy of the city's series (a larger economy moves
less) around a steady long-run rate, with its own noise:

``province = 0.6 x city + 0.4 x 6.0 + e``, ``country = 0.35 x city + 0.65 x 5.5 + e`` (percent, ``e`` normal with
standard deviation 0.5 and 0.35 points), for every monthly series of :data:`COMPARED`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..reference import CITY_CODE

__all__ = ["draw_comparison", "COMPARED", "PROVINCE_CODE", "COUNTRY_CODE"]

PROVINCE_CODE = "440000"
COUNTRY_CODE = "100000"

#: The city's monthly series the comparison columns show.
COMPARED = ("iva/yoy", "iva/ytd_yoy", "output/ytd_yoy", "investment/industrial/ytd_yoy",
            "investment/tech_transformation/ytd_yoy")

_MIX = {PROVINCE_CODE: (0.6, 6.0, 0.5), COUNTRY_CODE: (0.35, 5.5, 0.35)}


def draw_comparison(official: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Province and country rows (``series, region, period, value``) for the city's monthly rows of ``official``."""
    city = official[(official["region"] == CITY_CODE) & official["series"].isin(COMPARED) &
                    (official["period"].str.len() == 7)].sort_values(["series", "period"])
    frames = []
    for region, (share, level, sd) in _MIX.items():
        value = share * city["value"].to_numpy(float) + (1 - share) * level + rng.normal(0, sd, len(city))
        frames.append(pd.DataFrame({"series": city["series"].to_numpy(), "region": region,
                                    "period": city["period"].to_numpy(), "value": np.round(value, 1)}))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["series", "region", "period",
                                                                                    "value"])
    if "unit" in official.columns:
        out["unit"] = "%"
    return out
