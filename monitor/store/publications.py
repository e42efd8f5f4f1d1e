"""Store queries of the publications and of their audit (``imon publish check``).

Reads, and the one write of a publication's record (:func:`record_publication`).  The publication builders call the readers through
:meth:`monitor.publish.sources.Inputs.call`, which records their rows for a re-render; the audit
(:mod:`monitor.publish.check`) reads the values a publication claims to print, at the vintage it recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from . import models as m
from .core import Store
from .vintages import as_vintage, lock_vintages

__all__ = ["target_odds_as_of", "series_values_at", "official_values", "forecast_values", "stored_odds",
           "latest_official_period", "city_targets", "year_targets", "latest_target_odds", "forecasts_between",
           "forecasts_from", "nowcasts_from", "official_value", "official_source_kinds", "stopped_enterprises",
           "stopped_enterprises_brief", "production_status_of", "publication_list", "final_inputs",
           "status_counts", "alerts_started", "targets_of_year", "publication_editions", "publication_record",
           "record_publication"]


def target_odds_as_of(store: Store, *, year: int, origin: str) -> list[dict[str, Any]]:
    """For each target (indicator, region) of ``year``: the odds from the latest origin at or before ``origin``."""
    frame = store.read_records(
        "SELECT o.indicator, o.region, o.origin, o.probability, o.expected, o.lower_80, o.upper_80, o.required "
        "FROM target_odds o WHERE o.year = :y AND o.origin = (SELECT max(i.origin) FROM target_odds i WHERE "
        "i.year = o.year AND i.indicator = o.indicator AND i.region = o.region AND i.origin <= :o) "
        "ORDER BY o.region, o.indicator", y=year, o=origin)
    return frame.to_dict("records")


def stored_odds(store: Store, *, year: int, indicator: str, region: str, origin: str) -> float | None:
    """The stored probability of one target at exactly ``origin`` (None when not stored)."""
    frame = store.read_records("SELECT probability FROM target_odds WHERE year = :y AND indicator = :i AND "
                               "region = :r AND origin = :o", y=year, i=indicator, r=region, o=origin)
    return None if frame.empty or frame.iloc[0, 0] is None else float(frame.iloc[0, 0])


def series_values_at(store: Store, items: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """``{(key, period, vintage): {raw, sa, se, n}}`` for exact (series key, period, vintage) triples."""
    wanted = sorted(set(items))
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    keys = sorted({k for k, _, _ in wanted})
    pick = {(k, p, as_vintage(v)): (k, p, v) for k, p, v in wanted if v}
    for i in range(0, len(keys), 400):
        chunk = keys[i:i + 400]
        marks = ", ".join(f":k{j}" for j in range(len(chunk)))
        frame = store.read_records(f"SELECT series_key, period, vintage, raw, sa, se, n FROM series_value "
                                   f"WHERE series_key IN ({marks})", **{f"k{j}": k for j, k in enumerate(chunk)})
        for r in frame.to_dict("records"):
            tag = pick.get((r["series_key"], r["period"], as_vintage(r["vintage"])))
            if tag is not None:
                out[tag] = {c: r[c] for c in ("raw", "sa", "se", "n")}
    return out


def official_values(store: Store, items: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str, str], float]:
    """``{(series, region, period): value}`` of the official statistics among ``items``."""
    wanted = set(items)
    series = sorted({s for s, _, _ in wanted})
    out: dict[tuple[str, str, str], float] = {}
    if not series:
        return out
    marks = ", ".join(f":s{j}" for j in range(len(series)))
    frame = store.read_records(f"SELECT series, region, period, value FROM official_statistic WHERE series IN ({marks})",
                               **{f"s{j}": s for j, s in enumerate(series)})
    for r in frame.to_dict("records"):
        tag = (r["series"], r["region"], r["period"])
        if tag in wanted and r["value"] is not None:
            out[tag] = float(r["value"])
    return out


def forecast_values(store: Store, *, key: str, origin: str) -> list[dict[str, Any]]:
    """Forecast rows of ``key`` from ``origin`` (all models)."""
    return store.read_records("SELECT period, model, mean, lower_80, upper_80, lower_95, upper_95 FROM forecast "
                              "WHERE series_key = :k AND origin = :o ORDER BY period, model", k=key, o=origin
                              ).to_dict("records")


def latest_official_period(store: Store, *, series: str, region: str, until: str) -> list[dict[str, Any]]:
    """``[{"period": ...}]``: the latest month (at or before ``until``) with an official figure of ``series``."""
    frame = store.read_records("SELECT max(period) AS period FROM official_statistic WHERE series = :s AND "
                               "region = :r AND length(period) = 7 AND period <= :u", s=series, r=region, u=until)
    return frame.to_dict("records")


# ------------------------------------------------------------------ readers of the publication builders
# Called through :meth:`monitor.publish.sources.Inputs.call`: the keyword names are part of the recorded
# query tags (``name|{params}``) that a re-render replays, so they keep the short names the builders used.
def city_targets(store: Store, *, y: int, r: str) -> list[dict[str, Any]]:
    """``indicator, comparison, value`` of the targets of year ``y`` for region ``r``."""
    return store.read_records("SELECT indicator, comparison, value FROM target WHERE year = :y AND region = :r "
                              "ORDER BY indicator", y=y, r=r).to_dict("records")


def year_targets(store: Store, *, y: int) -> list[dict[str, Any]]:
    """``indicator, region, comparison, value`` of every target of year ``y``."""
    return store.read_records("SELECT indicator, region, comparison, value FROM target WHERE year = :y "
                              "ORDER BY region, indicator", y=y).to_dict("records")


def latest_target_odds(store: Store, *, y: int, o: str) -> list[dict[str, Any]]:
    """The odds of year ``y``'s targets from the latest origin at or before ``o``."""
    return store.read_records(
        "SELECT indicator, region, probability, expected, lower_80, upper_80, required FROM target_odds "
        "WHERE year = :y AND origin = (SELECT max(origin) FROM target_odds WHERE year = :y AND origin <= :o) "
        "ORDER BY region, indicator", y=y, o=o).to_dict("records")


def forecasts_between(store: Store, *, a: str, b: str) -> list[dict[str, Any]]:
    """``series_key, origin, period, mean`` of the forecasts for the months ``a``..``b``."""
    return store.read_records("SELECT series_key, origin, period, mean FROM forecast WHERE period >= :a AND "
                              "period <= :b ORDER BY series_key, period, origin", a=a, b=b).to_dict("records")


def forecasts_from(store: Store, *, o: str) -> list[dict[str, Any]]:
    """Every forecast row from origin ``o`` (all series and models)."""
    return store.read_records("SELECT series_key, period, model, mean, lower_80, upper_80, lower_95, upper_95 "
                              "FROM forecast WHERE origin = :o ORDER BY series_key, period, model", o=o
                              ).to_dict("records")


def nowcasts_from(store: Store, *, o: str, r: str) -> list[dict[str, Any]]:
    """The nowcasts made at origin ``o`` for region ``r``."""
    return store.read_records("SELECT series_key, region, period, model, mean, lower_80, upper_80, previous, news "
                              "FROM nowcast WHERE origin = :o AND region = :r ORDER BY series_key, period", o=o, r=r
                              ).to_dict("records")


def official_value(store: Store, *, s: str, r: str, p: str) -> list[dict[str, Any]]:
    """``[{"value": ...}]``: the official figure of series ``s``, region ``r``, period ``p`` (empty if none)."""
    return store.read_records("SELECT value FROM official_statistic WHERE series = :s AND region = :r "
                              "AND period = :p", s=s, r=r, p=p).to_dict("records")


def official_source_kinds(store: Store, *, a: str, b: str) -> list[dict[str, Any]]:
    """``kind`` of the ingest sources of the official statistics of regions ``a`` and ``b``."""
    return store.read_records("SELECT DISTINCT s.kind FROM official_statistic o JOIN ingest_source s "
                              "ON s.id = o.source_id WHERE o.region IN (:a, :b) ORDER BY s.kind", a=a, b=b
                              ).to_dict("records")


def stopped_enterprises(store: Store, *, p: str) -> list[dict[str, Any]]:
    """The stopped and semi-stopped enterprises of month ``p`` with their contacts (the dispatch list)."""
    return store.read_records(
        "SELECT e.uscc, e.name_zh, e.name_en, e.district_code, e.industry_code, m.production_status, "
        "m.capacity_utilisation, e.contact_name, e.contact_phone FROM enterprise_month m JOIN enterprise e ON e.id = m.enterprise_id "
        "WHERE m.period = :p AND m.production_status IN ('stopped', 'semi_stopped') "
        "ORDER BY m.production_status DESC, e.district_code, e.uscc", p=p).to_dict("records")


def stopped_enterprises_brief(store: Store, *, p: str) -> list[dict[str, Any]]:
    """The stopped and semi-stopped enterprises of month ``p`` (names and district only)."""
    return store.read_records(
        "SELECT e.uscc, e.name_zh, e.name_en, e.district_code, m.production_status FROM enterprise_month m "
        "JOIN enterprise e ON e.id = m.enterprise_id WHERE m.period = :p AND m.production_status IN ('stopped', "
        "'semi_stopped') ORDER BY e.district_code, e.uscc", p=p).to_dict("records")


def production_status_of(store: Store, *, p: str) -> list[dict[str, Any]]:
    """``uscc, status`` of every enterprise reporting in month ``p``."""
    return store.read_records(
        "SELECT e.uscc, m.production_status AS status FROM enterprise_month m JOIN enterprise e ON "
        "e.id = m.enterprise_id WHERE m.period = :p ORDER BY e.uscc", p=p).to_dict("records")


def publication_list(store: Store) -> Any:
    """Every stored publication (``id, kind, period, lang, version, final, checksum, published_at, release_at,
    note``), by kind, period, language and newest edition first."""
    return store.read_records(
        "SELECT id, kind, period, lang, version, final, checksum, published_at, release_at, note "
        "FROM publication ORDER BY kind, period, lang, version DESC")


def final_inputs(store: Store, *, kind: str, period: str) -> Any:
    """``version, inputs`` of the final editions of a publication that recorded their inputs, newest first."""
    return store.read_records(
        "SELECT version, inputs FROM publication WHERE kind = :k AND period = :p AND final = :t "
        "AND inputs IS NOT NULL ORDER BY version DESC", k=kind, p=period, t=True)
def status_counts(store: Store, *, first: str, last: str) -> list[dict[str, Any]]:
    """Stopped and semi-stopped sample enterprises per month ``first``..``last``, and those reporting."""
    return store.read_records(
        "SELECT period, SUM(CASE WHEN production_status = 'stopped' THEN 1 ELSE 0 END) AS stopped, "
        "SUM(CASE WHEN production_status = 'semi_stopped' THEN 1 ELSE 0 END) AS semi_stopped, COUNT(*) AS reporting "
        "FROM enterprise_month WHERE period >= :a AND period <= :b GROUP BY period ORDER BY period",
        a=first, b=last).to_dict("records")


def alerts_started(store: Store, *, first: str, last: str) -> list[dict[str, Any]]:
    """Alerts whose condition started in ``first``..``last``, counted by rule and severity."""
    return store.read_records(
        "SELECT rule, severity, COUNT(*) AS n, COUNT(DISTINCT region) AS regions FROM alert_event WHERE "
        "started_period >= :a AND started_period <= :b GROUP BY rule, severity ORDER BY COUNT(*) DESC, rule, severity",
        a=first, b=last).to_dict("records")


def targets_of_year(store: Store, *, year: int) -> list[dict[str, Any]]:
    """Every target of ``year`` (the city first, then the districts), with its unit."""
    return store.read_records(
        "SELECT indicator, region, comparison, value, unit FROM target WHERE year = :y "
        "ORDER BY CASE WHEN region = '440100' THEN 0 ELSE 1 END, region, indicator", y=year).to_dict("records")


def publication_editions(store: Store, *, kind: str, period: str, lang: str) -> list[dict[str, Any]]:
    """Every stored edition of a publication (draft 0, finals 1, 2, ...), all columns, by version."""
    t = m.Publication.__table__
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(t).where(t.c.kind == kind, t.c.period == period,
                                                              t.c.lang == lang).order_by(t.c.version)).mappings()]


def publication_record(store: Store, publication_id: int) -> dict[str, Any] | None:
    """One stored publication, all columns (None when there is no such id)."""
    t = m.Publication.__table__
    with store.engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.id == publication_id)).mappings().first()
    return None if row is None else dict(row)


def record_publication(store: Store, row: dict[str, Any], *, series: dict[str, Any] | None = None) -> int:
    """Record an edition (``row``: the ``publication`` columns) and return its id, in one transaction: a draft
    (version 0) replaces the earlier draft; ``series`` (``{key: vintage}``, a final edition's) locks the vintages
    it read (:func:`monitor.store.vintages.lock_vintages`)."""
    t = m.Publication.__table__
    with store.begin() as conn:
        if row["version"] == 0:
            conn.execute(t.delete().where(t.c.kind == row["kind"], t.c.period == row["period"],
                                          t.c.lang == row["lang"], t.c.version == 0))
        pub_id = int(conn.execute(t.insert().values(**row).returning(t.c.id)).scalar_one())
        if series is not None:
            lock_vintages(conn, pub_id, series)
    return pub_id
