"""Store queries of the early warning: alert episodes, silences, the digests queued and their delivery log.

The functions taking a ``Connection`` work in the caller's transaction (an alert scan moves episodes and queues
digests in one); those taking a ``Store`` open their own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Connection, Row

from . import models as m
from .core import Store

__all__ = ["alert_events", "notification_log", "open_episodes", "episode_id", "add_episode", "update_episode",
           "episodes_by_id", "episodes_to_notify", "episode_list", "add_silence", "end_silence", "silence_rows",
           "unsent_digests", "digest_items", "withdraw_digests", "digest_queued", "queue_digest", "queued_digests",
           "delivered_recipients", "record_attempt", "queued_digest_ids"]

_EV = m.AlertEvent.__table__
_SIL = m.AlertSilence.__table__
_MSG = m.NotificationMessage.__table__
_ITEM = m.NotificationItem.__table__
_LOG = m.Notification.__table__


def alert_events(store: Store, *, states: Sequence[str] | None = None, rule: str | None = None,
                 region: str | None = None) -> pd.DataFrame:
    """Alert episodes (in some states, of a rule, of a region), newest first."""
    where: list[str] = []
    params: dict[str, Any] = {}
    if states:
        where.append("state IN (" + ", ".join(f":s{i}" for i in range(len(states))) + ")")
        params.update({f"s{i}": s for i, s in enumerate(states)})
    if rule:
        where.append("rule = :r")
        params["r"] = rule
    if region:
        where.append("region = :g")
        params["g"] = region
    sql = ("SELECT id, rule, subject, region, severity, state, value, message, started_period, last_period, "
           "resolved_period, fired_at, resolved_at, recipients FROM alert_event" +
           (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC")
    return store.read_records(sql, **params)


def notification_log(store: Store, *, last: int) -> pd.DataFrame:
    """The ``last`` digests queued or sent (``id, grp, status, attempts, created_at, sent_at, error, subject``)."""
    return store.read_records(
        "SELECT m.id, m.recipient_group AS grp, m.status, m.attempts, m.created_at, m.sent_at, "
        "m.last_error AS error, m.subject FROM notification_message m ORDER BY m.id DESC LIMIT :n", n=last)



# --------------------------------------------------------------------------------------------- episodes
def open_episodes(conn: Connection, rule: str, states: Sequence[str]) -> list[dict[str, Any]]:
    """The episodes of ``rule`` in ``states`` (all columns)."""
    rows = conn.execute(select(_EV).where(and_(_EV.c.rule == rule, _EV.c.state.in_(list(states))))).mappings()
    return [dict(r) for r in rows]


def episode_id(conn: Connection, fingerprint: str, started_period: str) -> int | None:
    """The id of the episode of ``fingerprint`` that started in ``started_period`` (None when there is none)."""
    found = conn.execute(select(_EV.c.id).where(and_(_EV.c.fingerprint == fingerprint,
                                                     _EV.c.started_period == started_period))).scalar()
    return None if found is None else int(found)


def add_episode(conn: Connection, values: dict[str, Any]) -> None:
    """Insert an episode (``values``: the ``alert_event`` columns)."""
    conn.execute(_EV.insert().values(**values))


def update_episode(conn: Connection, event_id: int, **changes: Any) -> None:
    """Change columns of one episode."""
    conn.execute(_EV.update().where(_EV.c.id == event_id).values(**changes))


def episodes_by_id(conn: Connection, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """``{id: episode}`` (all columns) of the episodes among ``ids`` that exist."""
    wanted = list(ids)
    if not wanted:
        return {}
    return {int(r["id"]): dict(r) for r in conn.execute(select(_EV).where(_EV.c.id.in_(wanted))).mappings()}


def episodes_to_notify(conn: Connection) -> list[dict[str, Any]]:
    """The firing episodes and the resolved ones whose firing was notified, by id."""
    rows = conn.execute(select(_EV).where(or_(
        _EV.c.state == "firing", and_(_EV.c.state == "resolved", _EV.c.notified_state == "firing"),
    )).order_by(_EV.c.id)).mappings().all()
    return [dict(r) for r in rows]


def episode_list(store: Store, *, states: Sequence[str] | None = None, rule: str | None = None,
                 region: str | None = None, limit: int | None = None) -> pd.DataFrame:
    """Alert episodes (``id, rule, subject, region, severity, state, value, started_period, last_period, fired_at,
    resolved_at, notified_state, fingerprint``), newest first."""
    query = select(_EV.c.id, _EV.c.rule, _EV.c.subject, _EV.c.region, _EV.c.severity, _EV.c.state, _EV.c.value,
                   _EV.c.started_period, _EV.c.last_period, _EV.c.fired_at, _EV.c.resolved_at,
                   _EV.c.notified_state, _EV.c.fingerprint).order_by(_EV.c.id.desc())
    if states:
        query = query.where(_EV.c.state.in_(list(states)))
    if rule:
        query = query.where(_EV.c.rule == rule)
    if region:
        query = query.where(_EV.c.region == region)
    if limit:
        query = query.limit(limit)
    return store.read_frame(query)


# --------------------------------------------------------------------------------------------- silences
def add_silence(store: Store, **values: Any) -> int:
    """Record a silence (``values``: the ``alert_silence`` columns) and return its id."""
    with store.begin() as conn:
        return int(conn.execute(_SIL.insert().values(**values).returning(_SIL.c.id)).scalar_one())


def end_silence(store: Store, silence_id: int, now: dt.datetime) -> bool:
    """End a silence active at ``now``; False when there is no such silence."""
    with store.begin() as conn:
        result = conn.execute(update(_SIL).where(and_(_SIL.c.id == silence_id, _SIL.c.ended_at.is_(None),
                                                      _SIL.c.expires_at > now)).values(ended_at=now))
        return bool(result.rowcount)


def silence_rows(conn: Connection, now: dt.datetime, *, include_past: bool = False) -> list[dict[str, Any]]:
    """The silences in force at ``now`` (all of them with ``include_past``), by id, all columns."""
    query = select(_SIL).order_by(_SIL.c.id)
    if not include_past:
        query = query.where(and_(_SIL.c.expires_at > now, or_(_SIL.c.ended_at.is_(None), _SIL.c.ended_at > now)))
    return [dict(r) for r in conn.execute(query).mappings()]


# --------------------------------------------------------------------------------------------- digests
def unsent_digests(conn: Connection, group: str) -> list[int]:
    """The ids of the group's digests still queued that nobody has received."""
    delivered = select(_LOG.c.message_id).where(_LOG.c.status == "sent", _LOG.c.message_id.is_not(None))
    return [int(i) for i in conn.execute(select(_MSG.c.id).where(
        _MSG.c.recipient_group == group, _MSG.c.status == "queued", _MSG.c.id.not_in(delivered))).scalars()]


def digest_items(conn: Connection, message_ids: Sequence[int]) -> list[tuple[int, str]]:
    """``(alert_event_id, kind)`` of the notices in the digests ``message_ids``, by digest."""
    return [(int(e), str(k)) for e, k in conn.execute(
        select(_ITEM.c.alert_event_id, _ITEM.c.kind).where(_ITEM.c.message_id.in_(list(message_ids)))
        .order_by(_ITEM.c.message_id))]


def withdraw_digests(conn: Connection, message_ids: Sequence[int]) -> None:
    """Delete queued digests with their notices and delivery attempts."""
    ids = list(message_ids)
    conn.execute(_LOG.delete().where(_LOG.c.message_id.in_(ids)))
    conn.execute(_ITEM.delete().where(_ITEM.c.message_id.in_(ids)))
    conn.execute(_MSG.delete().where(_MSG.c.id.in_(ids)))


def digest_queued(conn: Connection, dedup_key: str) -> bool:
    """Whether a digest with ``dedup_key`` was queued already."""
    return conn.execute(select(_MSG.c.id).where(_MSG.c.dedup_key == dedup_key)).scalar() is not None


def queue_digest(conn: Connection, message: dict[str, Any], items: Iterable[tuple[int, str]]) -> int:
    """Queue a digest (``message``: the ``notification_message`` columns) with its notices
    (``(alert_event_id, kind)``); return its id."""
    mid = int(conn.execute(_MSG.insert().values(**message).returning(_MSG.c.id)).scalar_one())
    rows = [{"message_id": mid, "alert_event_id": e, "kind": k} for e, k in items]
    if rows:
        conn.execute(_ITEM.insert(), rows)
    return mid


def queued_digests(store: Store) -> list[Row[Any]]:
    """The queued digests (``id, recipient_group, recipients, mime, attempts``), oldest first."""
    with store.engine.connect() as conn:
        return list(conn.execute(select(_MSG.c.id, _MSG.c.recipient_group, _MSG.c.recipients, _MSG.c.mime,
                                        _MSG.c.attempts).where(_MSG.c.status == "queued").order_by(_MSG.c.id)))


def queued_digest_ids(store: Store) -> list[int]:
    """The ids of the digests still queued."""
    with store.engine.connect() as conn:
        return [int(i) for i in conn.execute(select(_MSG.c.id).where(_MSG.c.status == "queued")).scalars()]


def delivered_recipients(store: Store, message_ids: Sequence[int]) -> dict[int, set[str]]:
    """Recipients who already have each message (its ``sent`` attempt rows)."""
    out: dict[int, set[str]] = {}
    with store.engine.connect() as conn:
        for start in range(0, len(message_ids), 500):
            rows = conn.execute(select(_LOG.c.message_id, _LOG.c.recipient).where(
                _LOG.c.message_id.in_(list(message_ids[start:start + 500])), _LOG.c.status == "sent")).all()
            for mid, recipients in rows:
                out.setdefault(int(mid), set()).update(a for a in str(recipients).split(",") if a)
    return out


def record_attempt(store: Store, message_id: int, *, channel: str, accepted: Sequence[str], owed: Sequence[str],
                   started: dt.datetime, error: str | None) -> None:
    """Record one delivery attempt of a digest in one transaction: a ``sent`` row for the recipients who accepted
    it, a ``failed`` row for those still owed it; the digest is ``sent`` once nobody is owed it."""
    with store.begin() as conn:
        if accepted:
            conn.execute(_LOG.insert().values(message_id=message_id, alert_event_id=None, recipient=",".join(accepted),
                                              channel=channel, status="sent", attempted_at=started, error=None))
        if owed:
            conn.execute(_LOG.insert().values(message_id=message_id, alert_event_id=None, recipient=",".join(owed),
                                              channel=channel, status="failed", attempted_at=started, error=error))
        changes: dict[str, Any] = {"attempts": _MSG.c.attempts + 1, "last_error": error if owed else None}
        if not owed:
            changes.update(status="sent", sent_at=started)
        conn.execute(_MSG.update().where(_MSG.c.id == message_id).values(**changes))
