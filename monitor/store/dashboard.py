"""The officials' dashboard's queries (issue 19): the dispatch list of stopped and semi-stopped enterprises, alert
episodes with their acknowledgements, publications by id, and the chat-robot outbox.  Every function takes an open
connection; the caller owns the transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection, Row

from . import models as m

__all__ = ["dispatch_list", "latest_status_period", "alert_events", "alert_event", "acknowledgements",
           "publication", "publications", "queue_robot_message", "queued_robot_messages", "robot_attempt",
           "robot_messages", "responses_by_district", "series_latest", "series_vintages", "vintage_dates", "series_keys", "panel_by_district",
           "answered_by_district", "forecast_rows"]

_E, _EM = m.Enterprise.__table__, m.EnterpriseMonth.__table__
_EV, _L = m.AlertEvent.__table__, m.AuditLog.__table__
_PUB = m.Publication.__table__
_RM, _N = m.RobotMessage.__table__, m.Notification.__table__
_SR = m.SurveyResponse.__table__
_SV = m.SeriesValue.__table__


# ------------------------------------------------------------------------------------------ series
def series_latest(conn: Connection, keys: Iterable[str], *, since: str,
                  as_of: dt.datetime | None = None) -> list[Row]:
    """``(series_key, period, raw, sa, se, n, vintage)`` of the latest vintage (at or before ``as_of``) of each
    month from ``since`` on, for exact keys."""
    keys = list(keys)
    cond = [_SV.c.series_key.in_(keys), _SV.c.period >= since]
    if as_of is not None:
        cond.append(_SV.c.vintage <= as_of)
    latest = (select(_SV.c.series_key, _SV.c.period, func.max(_SV.c.vintage).label("vintage"))
              .where(and_(*cond)).group_by(_SV.c.series_key, _SV.c.period).subquery())
    return list(conn.execute(
        select(_SV.c.series_key, _SV.c.period, _SV.c.raw, _SV.c.sa, _SV.c.se, _SV.c.n, _SV.c.vintage)
        .select_from(_SV.join(latest, and_(_SV.c.series_key == latest.c.series_key,
                                           _SV.c.period == latest.c.period, _SV.c.vintage == latest.c.vintage)))
        .order_by(_SV.c.series_key, _SV.c.period)).all())


def series_vintages(conn: Connection, key: str) -> list[Row]:
    """Every stored vintage of one series: ``(period, vintage, raw, sa, se, n)``."""
    return list(conn.execute(select(_SV.c.period, _SV.c.vintage, _SV.c.raw, _SV.c.sa, _SV.c.se, _SV.c.n)
                             .where(_SV.c.series_key == key).order_by(_SV.c.vintage, _SV.c.period)).all())


def vintage_dates(conn: Connection, key: str) -> list[Any]:
    """The distinct vintages of one series, newest first."""
    return list(conn.execute(select(func.distinct(_SV.c.vintage)).where(_SV.c.series_key == key)
                             .order_by(_SV.c.vintage.desc())).scalars().all())


def series_keys(conn: Connection) -> list[str]:
    """Every stored series key, sorted."""
    return list(conn.execute(select(func.distinct(_SV.c.series_key)).order_by(_SV.c.series_key)).scalars().all())


# ------------------------------------------------------------------------------------------ dispatch list
def latest_status_period(conn: Connection) -> str | None:
    """The newest month with any enterprise's production status."""
    return conn.execute(select(func.max(_EM.c.period)).where(_EM.c.production_status.is_not(None))).scalar()


def dispatch_list(conn: Connection, period: str, district: str | None = None) -> list[Row]:
    """Stopped and semi-stopped sample enterprises of ``period`` (one district, or all), by district and code."""
    query = (select(_E.c.uscc, _E.c.name_zh, _E.c.name_en, _E.c.district_code, _E.c.industry_code,
                    _E.c.contact_name, _E.c.contact_phone, _EM.c.production_status)
             .select_from(_EM.join(_E, _E.c.id == _EM.c.enterprise_id))
             .where(and_(_EM.c.period == period, _EM.c.production_status.in_(("stopped", "semi_stopped"))))
             .order_by(_E.c.district_code, _E.c.uscc))
    if district:
        query = query.where(_E.c.district_code == district)
    return list(conn.execute(query).all())


def panel_by_district(conn: Connection, period: str) -> dict[str, int]:
    """Enterprises in the sample of ``period`` (panel_start <= period <= panel_end), by district code (the same
    rule as :func:`monitor.survey_admin.panel_for_period`)."""
    rows = conn.execute(select(_E.c.district_code, func.count())
                        .where(and_(_E.c.panel_start <= period,
                                    (_E.c.panel_end.is_(None)) | (_E.c.panel_end >= period)))
                        .group_by(_E.c.district_code)).all()
    return {str(r[0]): int(r[1]) for r in rows}


def answered_by_district(conn: Connection, periods: Iterable[str]) -> dict[str, dict[str, int]]:
    """Sample enterprises of each month with any survey answer for it: ``{period: {district code: n}}``."""
    periods = list(periods)
    rows = conn.execute(select(_SR.c.period, _E.c.district_code, func.count(func.distinct(_SR.c.enterprise_id)))
                        .select_from(_SR.join(_E, _E.c.id == _SR.c.enterprise_id))
                        .where(and_(_SR.c.period.in_(periods), _E.c.panel_start <= _SR.c.period,
                                    (_E.c.panel_end.is_(None)) | (_E.c.panel_end >= _SR.c.period)))
                        .group_by(_SR.c.period, _E.c.district_code)).all()
    out: dict[str, dict[str, int]] = {p: {} for p in periods}
    for period, district, n in rows:
        out[str(period)][str(district)] = int(n)
    return out


def forecast_rows(conn: Connection, keys: Iterable[str]) -> list[Row]:
    """Every stored forecast of these series: ``series_key, origin, period, model, mean, lower/upper 80/95``."""
    t = m.Forecast.__table__
    return list(conn.execute(select(t.c.series_key, t.c.origin, t.c.period, t.c.model, t.c.mean, t.c.lower_80,
                                    t.c.upper_80, t.c.lower_95, t.c.upper_95)
                             .where(t.c.series_key.in_(list(keys)))
                             .order_by(t.c.series_key, t.c.origin, t.c.model, t.c.period)).all())


def responses_by_district(conn: Connection, period: str) -> dict[str, int]:
    """Enterprises with any survey answer for ``period``, by district code."""
    rows = conn.execute(select(_E.c.district_code, func.count(func.distinct(_SR.c.enterprise_id)))
                        .select_from(_SR.join(_E, _E.c.id == _SR.c.enterprise_id))
                        .where(_SR.c.period == period).group_by(_E.c.district_code)).all()
    return {str(r[0]): int(r[1]) for r in rows}


# ------------------------------------------------------------------------------------------ alerts
def alert_events(conn: Connection, *, states: Iterable[str] | None = None, regions: Iterable[str] | None = None,
                 limit: int = 300) -> list[Row]:
    """Alert episodes, newest first; ``regions`` keeps those of these region codes (None: all)."""
    query = select(_EV).order_by(_EV.c.id.desc()).limit(limit)
    if states is not None:
        query = query.where(_EV.c.state.in_(list(states)))
    if regions is not None:
        query = query.where(_EV.c.region.in_(list(regions)))
    return list(conn.execute(query).all())


def alert_event(conn: Connection, event_id: int) -> Row | None:
    """One alert episode."""
    return conn.execute(select(_EV).where(_EV.c.id == event_id)).first()


def acknowledgements(conn: Connection, event_ids: Iterable[int]) -> dict[int, list[Row]]:
    """The audit log's ``alert_ack`` entries of these episodes (target ``alert:<id>``), oldest first."""
    targets = {f"alert:{i}": int(i) for i in event_ids}
    if not targets:
        return {}
    out: dict[int, list[Row]] = {}
    rows = conn.execute(select(_L.c.at, _L.c.username, _L.c.target, _L.c.detail)
                        .where(and_(_L.c.action == "alert_ack", _L.c.target.in_(list(targets))))
                        .order_by(_L.c.id)).all()
    for r in rows:
        out.setdefault(targets[r.target], []).append(r)
    return out


# ------------------------------------------------------------------------------------------ publications
def publication(conn: Connection, publication_id: int) -> Row | None:
    """One publication row (without its recorded inputs)."""
    cols = [c for c in _PUB.c if c.name not in ("inputs",)]
    return conn.execute(select(*cols).where(_PUB.c.id == publication_id)).first()


def publications(conn: Connection) -> list[Row]:
    """Every publication row (without inputs), newest period first."""
    cols = [c for c in _PUB.c if c.name not in ("inputs",)]
    return list(conn.execute(select(*cols).order_by(_PUB.c.period.desc(), _PUB.c.kind, _PUB.c.lang,
                                                    _PUB.c.version.desc())).all())


# ------------------------------------------------------------------------------------------ robot outbox
def queue_robot_message(conn: Connection, *, dedup_key: str, recipient_group: str, robot: str, kind: str,
                        title: str, payload: str, now: dt.datetime) -> int | None:
    """Queue one robot message unless ``dedup_key`` is queued already; its id (None when it was)."""
    if conn.execute(select(_RM.c.id).where(_RM.c.dedup_key == dedup_key)).scalar() is not None:
        return None
    return int(conn.execute(_RM.insert().values(
        dedup_key=dedup_key, recipient_group=recipient_group, robot=robot, kind=kind, title=title,
        payload=payload, status="queued", attempts=0, created_at=now).returning(_RM.c.id)).scalar_one())


def queued_robot_messages(conn: Connection) -> list[Row]:
    """Robot messages still to send, oldest first."""
    return list(conn.execute(select(_RM).where(_RM.c.status == "queued").order_by(_RM.c.id)).all())


def robot_attempt(conn: Connection, message_id: int, *, robot: str, channel: str, status: str,
                  at: dt.datetime, error: str | None) -> None:
    """Log one attempt (a ``notification`` row) and move the message: ``sent``, ``unknown`` or still ``queued``.

    ``unknown`` is a message whose request may have reached the robot (a timeout after sending): it is never
    sent again by itself; the failures list shows it for a person to check the group.
    """
    conn.execute(_N.insert().values(message_id=None, alert_event_id=None, recipient=robot[:200], channel=channel,
                                    status="sent" if status == "sent" else "failed", attempted_at=at,
                                    error=error))
    changes: dict[str, Any] = {"attempts": _RM.c.attempts + 1, "last_error": error, "last_attempt_at": at}
    if status in ("sent", "unknown", "failed"):
        changes["status"] = status
    if status == "sent":
        changes["sent_at"] = at
    conn.execute(_RM.update().where(_RM.c.id == message_id).values(**changes))


def robot_messages(conn: Connection, *, status: Iterable[str] | None = None, limit: int = 200) -> list[Row]:
    """Robot messages, newest first (the failures list: ``status=("failed", "unknown", "queued")``)."""
    query = select(_RM).order_by(_RM.c.id.desc()).limit(limit)
    if status is not None:
        query = query.where(_RM.c.status.in_(list(status)))
    return list(conn.execute(query).all())
