"""Store queries of the early warning: alert episodes and the notification log (reads only)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from .core import Store

__all__ = ["alert_events", "notification_log"]


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

