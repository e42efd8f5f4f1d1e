"""Running the monthly survey: questionnaires out, who has answered, who to remind."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from collectors.survey_template import write_survey_workbook

from .exceptions import MonitorError
from .periods import month_text
from .store import Store
from .store import survey as survey_q

__all__ = ["panel_for_period", "write_templates", "SurveyStatus", "survey_status"]


class SurveyError(MonitorError, LookupError):
    """An enterprise or month the survey does not know."""


def panel_for_period(store: Store, period: pd.Period, *, lang: str = "zh") -> pd.DataFrame:
    """Enterprises in the sample for ``period`` with their district, division and size names."""
    return survey_q.sample_panel(store, month_text(period), lang=lang)


def write_templates(store: Store, period: pd.Period, out_dir: Path, *, enterprise: str | None = None) -> list[Path]:
    """Write a blank questionnaire for one enterprise (credit code) or every sample enterprise of ``period``.

    Raises
    ------
    SurveyError
        ``enterprise`` is not in the sample for ``period``, or the sample is empty.
    """
    panel = panel_for_period(store, period)
    if enterprise is not None:
        panel = panel[panel["uscc"] == enterprise.strip().upper()]
        if panel.empty:
            raise SurveyError(f"enterprise {enterprise!r} is not in the sample for {period}; check the credit code "
                              "(`imon survey status --period ...` lists the sample)")
    if panel.empty:
        raise SurveyError(f"no enterprise is in the sample for {period}; load the register or pick another month")
    out_dir.mkdir(parents=True, exist_ok=True)
    key = month_text(period)
    return [write_survey_workbook(out_dir / f"{key}_{r.uscc}.xlsx", uscc=r.uscc, name=r.name, period=key)
            for r in panel.itertuples()]


@dataclass
class SurveyStatus:
    """Response to one month's survey: rates by breakdown and the enterprises still missing."""

    period: str
    by_district: pd.DataFrame
    by_industry: pd.DataFrame
    by_size: pd.DataFrame
    missing: pd.DataFrame
    sample: int
    responded: int


def survey_status(store: Store, period: pd.Period, *, lang: str = "zh") -> SurveyStatus:
    """Response rates by district, division and size for ``period``, and who has not answered."""
    key = month_text(period)
    panel = panel_for_period(store, period, lang=lang)
    answered = survey_q.answered_enterprises(store, key)
    panel["responded"] = panel["enterprise_id"].isin(set(answered["enterprise_id"]))

    def by(col: str, order: str | None = None) -> pd.DataFrame:
        g = panel.groupby(col).agg(sample=("enterprise_id", "count"), responded=("responded", "sum"))
        g["rate"] = g["responded"] / g["sample"]
        if order:
            g = g.join(panel.groupby(col)[order].first()).sort_values(order).drop(columns=order)
        else:
            g = g.sort_values("sample", ascending=False)
        return g.reset_index()

    missing = panel.loc[~panel["responded"], ["uscc", "name", "district", "industry", "size"]].reset_index(drop=True)
    return SurveyStatus(key, by("district"), by("industry"), by("size", "size_rank"), missing, len(panel),
                        int(panel["responded"].sum()))
