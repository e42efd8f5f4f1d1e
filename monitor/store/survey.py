"""Store queries of the enterprise register and the survey: who is in the sample, who answered, what.

Reads only; every function takes the :class:`~monitor.store.Store` and returns a frame (driver values: parse the
columns you need) or a scalar.  Periods are ``YYYY-MM`` text.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from . import models as m
from .core import Store

__all__ = ["enterprise_records", "survey_answers", "survey_problems", "respondents", "answered_enterprises",
           "answers_by_question", "stored_count",
           "survey_month_span", "sample_panel", "panel_register", "first_returns"]

_ENTERPRISE_COLUMNS = frozenset(m.Enterprise.__table__.columns.keys())


def _name_column(lang: str) -> str:
    return "name_zh" if lang == "zh" else "name_en"


def enterprise_records(store: Store, columns: Sequence[str], *, rename: dict[str, str] | None = None) -> pd.DataFrame:
    """The columns ``columns`` of every enterprise of the register (``rename`` maps column -> output name).

    Raises
    ------
    ValueError
        A column the ``enterprise`` table does not have.
    """
    unknown = [c for c in columns if c not in _ENTERPRISE_COLUMNS]
    if unknown:
        raise ValueError(f"enterprise has no column {unknown}; it has {sorted(_ENTERPRISE_COLUMNS)}")
    names = rename or {}
    select = ", ".join(f"{c} AS {names[c]}" if c in names else c for c in columns)
    return store.read_records(f"SELECT {select} FROM enterprise")


def survey_answers(store: Store, first: str, last: str) -> pd.DataFrame:
    """``enterprise_id, period, question, answer`` of the months ``first``..``last``."""
    return store.read_records(
        "SELECT enterprise_id, period, question, answer FROM survey_response WHERE period >= :a AND period <= :b",
        a=first, b=last)


def survey_problems(store: Store, first: str, last: str | None = None) -> pd.DataFrame:
    """``enterprise_id, period, problem`` ticks from ``first`` (to ``last``, default the end)."""
    if last is None:
        return store.read_records("SELECT enterprise_id, period, problem FROM survey_problem WHERE period >= :p",
                                  p=first)
    return store.read_records(
        "SELECT enterprise_id, period, problem FROM survey_problem WHERE period >= :a AND period <= :b",
        a=first, b=last)


def respondents(store: Store, first: str) -> pd.DataFrame:
    """Distinct ``enterprise_id, period`` that answered, from ``first`` on."""
    return store.read_records("SELECT DISTINCT enterprise_id, period FROM survey_response WHERE period >= :p",
                              p=first)


def answered_enterprises(store: Store, period: str) -> pd.DataFrame:
    """Distinct ``enterprise_id`` that answered the survey of ``period``."""
    return store.read_records("SELECT DISTINCT enterprise_id FROM survey_response WHERE period = :p", p=period)


def answers_by_question(store: Store, period: str) -> pd.DataFrame:
    """Distinct ``question, enterprise_id`` pairs answered for ``period`` (a skipped question has no row)."""
    return store.read_records("SELECT DISTINCT question, enterprise_id FROM survey_response WHERE period = :p",
                              p=period)


def stored_count(store: Store, series_key: str, period: str) -> int | None:
    """The respondent count ``n`` of the latest vintage of one stored value (None when not computed)."""
    frame = store.read_records(
        "SELECT n FROM series_value WHERE series_key = :k AND period = :p ORDER BY vintage DESC LIMIT 1",
        k=series_key, p=period)
    return None if frame.empty or pd.isna(frame["n"].iloc[0]) else int(frame["n"].iloc[0])


def survey_month_span(store: Store) -> tuple[str | None, str | None]:
    """The first and last surveyed months (None, None when nobody has answered yet)."""
    frame = store.read_records("SELECT MIN(period) AS a, MAX(period) AS b FROM survey_response")
    if frame.empty:
        return None, None
    return frame["a"].iloc[0], frame["b"].iloc[0]


def sample_panel(store: Store, period: str, *, lang: str = "zh") -> pd.DataFrame:
    """Enterprises in the sample for ``period`` with district, division and size names, by credit code."""
    name = _name_column(lang)
    return store.read_records(
        f"SELECT e.id AS enterprise_id, e.uscc, e.name_zh AS name, e.district_code, d.{name} AS district, "
        f"e.industry_code, i.{name} AS industry, e.size_class, s.{name} AS size, s.rank AS size_rank "
        "FROM enterprise e JOIN district d ON d.code = e.district_code JOIN industry i ON i.code = e.industry_code "
        "JOIN size_class s ON s.code = e.size_class "
        "WHERE e.panel_start <= :p AND (e.panel_end IS NULL OR e.panel_end >= :p) ORDER BY e.uscc", p=period)


def panel_register(store: Store, *, lang: str = "zh") -> pd.DataFrame:
    """Every enterprise with its panel months and district, division and size names."""
    name = _name_column(lang)
    return store.read_records(
        f"SELECT e.id, e.panel_start, e.panel_end, d.{name} AS district, i.code AS industry_code, "
        f"i.{name} AS industry, s.{name} AS size, s.rank AS size_rank "
        "FROM enterprise e JOIN district d ON d.code = e.district_code "
        "JOIN industry i ON i.code = e.industry_code JOIN size_class s ON s.code = e.size_class")


def first_returns(store: Store) -> pd.DataFrame:
    """``period, enterprise_id, first_submitted``: when each enterprise first answered each month."""
    return store.read_records(
        "SELECT period, enterprise_id, MIN(submitted_at) AS first_submitted FROM survey_response "
        "GROUP BY period, enterprise_id")
