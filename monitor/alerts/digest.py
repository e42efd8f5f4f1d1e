"""Decide what to notify and queue one digest per recipient group (Alertmanager-style grouping and repeat).

An episode is notified when it starts firing, again every ``alerts.repeat_interval`` while it keeps firing, and
once when it resolves (``alerts.send_resolved``) if its firing was notified.  Silenced episodes are held back
(a firing one goes out when the silence ends, if it still fires; a resolved one is dropped).  Routing: a rule's
``recipients`` group, or with ``"district"`` the group ``district-<code>`` of the subject's district (city-wide
subjects go to ``alerts.summary_group``).  The summary group also receives every notice of the run: the city
summary.  Queueing and marking the episodes as notified happen in one transaction, so a notice is queued once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy.engine import Connection

from ..reference import CITY_CODE
from ..results import read_series
from ..settings import Settings, parse_duration
from ..store import Store
from ..store import alerts as q
from .lifecycle import active_silences, is_silenced
from .render import Digest, DigestItem, render_digest
from .robots import load_robots, queue_robots
from .rules import DISTRICT_ROUTE, Rule

__all__ = ["QueueReport", "queue_notifications", "route"]

log = logging.getLogger(__name__)


@dataclass
class QueueReport:
    """Digests queued by one run: group -> number of notices; silenced episodes held back."""

    queued: dict[str, int] = field(default_factory=dict)
    coalesced: dict[str, int] = field(default_factory=dict)
    silenced: int = 0


def route(recipients: str, region: str | None, groups: dict[str, tuple[str, ...]], summary: str) -> str | None:
    """The recipient group of an alert."""
    if recipients != DISTRICT_ROUTE:
        return recipients
    if region and region != CITY_CODE and f"district-{region}" in groups:
        return f"district-{region}"
    if region and region != CITY_CODE:
        log.warning("no recipient group district-%s; the alert goes to the summary group %r only", region, summary)
    return summary or None


def _notices(conn: Connection, settings: Settings, now: dt.datetime) -> list[tuple[dict, str]]:
    repeat = dt.timedelta(seconds=parse_duration(settings["alerts.repeat_interval"]))
    out = []
    for r in q.episodes_to_notify(conn):
        if r["state"] == "firing":
            if r["notified_state"] != "firing":
                out.append((r, "firing"))
            elif r["last_notified_at"] is not None and repeat.total_seconds() > 0 \
                    and now - r["last_notified_at"] >= repeat:
                out.append((r, "repeat"))
        elif settings["alerts.send_resolved"]:
            out.append((r, "resolved"))
        else:
            q.update_episode(conn, r["id"], notified_state="resolved")
    return out


def _charts(store: Store, items: list[DigestItem], months: int) -> tuple[dict[str, pd.Series], dict[str, float]]:
    import json

    charts: dict[str, pd.Series] = {}
    thresholds: dict[str, float] = {}
    for item in items:
        labels = json.loads(item.labels or "{}")
        key = labels.get("series")
        if not key or key in charts or len(charts) >= 4 or labels.get("minus"):
            continue
        frame = read_series(store, key)
        if frame.empty:
            continue
        values = frame["sa"] if frame["sa"].notna().any() else frame["raw"]
        charts[key] = values.dropna().iloc[-months:]
        if labels.get("threshold") is not None:
            thresholds[key] = float(labels["threshold"])
    return charts, thresholds


def _flag_low_n(store: Store, items: list[DigestItem], minimum: int) -> None:
    """Give each item about a survey figure its respondents ``n`` and flag it when they are fewer than
    ``minimum`` (``compute.min_respondents``: the release's threshold), read through the one low-n query."""
    import json

    from ..store.survey_quality import low_n_cells

    cells: dict[tuple[str, str], tuple[int | None, bool]] = {}
    for item in items:
        key = json.loads(item.labels or "{}").get("series") or ""
        if not key.startswith("pmi/") or json.loads(item.labels or "{}").get("minus"):
            continue
        if (key, item.period) not in cells:
            found = low_n_cells(store, minimum, period=item.period, prefix=key)
            found = found[found["series_key"] == key]
            n = found["n"].iloc[-1] if len(found) else None
            cells[(key, item.period)] = (None if n is None or pd.isna(n) else int(n),
                                         bool(found["low_n"].iloc[-1]) if len(found) else False)
        n, low = cells[(key, item.period)]
        item.n = n
        item.low_n_min = minimum if low else None


def _item(ev: dict, kind: str, rule: Rule | None) -> DigestItem:
    return DigestItem(ev["id"], kind, ev["rule"], rule.kind if rule else "level", ev["severity"], ev["subject"],
                      ev["region"], ev["resolved_period"] or ev["last_period"] or ev["started_period"], ev["value"],
                      ev["labels"], rule.title_zh if rule else "", rule.title_en if rule else "")


def _coalesce(conn: Connection, group: str, items: list[DigestItem], by_name: dict[str, Rule],
              report: QueueReport) -> list[DigestItem]:
    """Fold the group's digests still queued and received by nobody into the new one (an outage must not pile
    up one digest per scan): their notices join this digest (a first notice stays a first notice) and they are
    withdrawn, so the group gets one message with the current state instead of several stale ones."""
    old = q.unsent_digests(conn, group)
    if not old:
        return items
    have = {i.event_id: i for i in items}
    first_kinds: dict[int, str] = {}
    for event_id, kind in q.digest_items(conn, old):
        first_kinds.setdefault(event_id, kind)
    missing = [e for e in first_kinds if e not in have]
    events = q.episodes_by_id(conn, missing)
    merged = []
    for item in items:
        if first_kinds.get(item.event_id) == "firing" and item.kind == "repeat":
            item = _item(q.episodes_by_id(conn, [item.event_id])[item.event_id], "firing", by_name.get(item.rule))
        merged.append(item)
    for event_id in missing:
        ev = events.get(event_id)
        if ev is not None:
            kind = first_kinds[event_id]
            if ev["state"] == "resolved" and kind != "resolved":
                kind = "resolved"
            merged.append(_item(ev, kind, by_name.get(ev["rule"])))
    q.withdraw_digests(conn, old)
    report.coalesced[group] = report.coalesced.get(group, 0) + len(old)
    log.info("digests %s to %s were still unsent: folded into this run's digest", old, group)
    return merged


def queue_notifications(store: Store, settings: Settings, rules: tuple[Rule, ...],
                        groups: dict[str, tuple[str, ...]], *, now: dt.datetime | None = None) -> QueueReport:
    """Queue the digests this run owes (one per recipient group) and mark their episodes as notified."""
    now = now or dt.datetime.now().replace(microsecond=0)
    by_name = {r.name: r for r in rules}
    summary = settings["alerts.summary_group"]
    report = QueueReport()
    robots = load_robots(settings, groups)
    with store.begin() as conn:
        silences = active_silences(conn, now=now)
        per_group: dict[str, list[DigestItem]] = defaultdict(list)
        marks: list[tuple[int, str]] = []
        for ev, kind in _notices(conn, settings, now):
            if is_silenced(silences, ev["rule"], ev["subject"], ev["region"]):
                report.silenced += 1
                if kind == "resolved":
                    q.update_episode(conn, ev["id"], notified_state="resolved")
                continue
            rule = by_name.get(ev["rule"])
            item = _item(ev, kind, rule)
            group = route(ev["recipients"] or (rule.recipients if rule else summary), ev["region"], groups, summary)
            targets = {g for g in (group, summary) if g and g in groups}
            for g in targets:
                per_group[g].append(item)
            marks.append((ev["id"], kind))
        for group, items in sorted(per_group.items()):
            items = _coalesce(conn, group, items, by_name, report)
            key_text = group + "|" + ";".join(f"{i.event_id}:{i.kind}" for i in sorted(
                items, key=lambda i: i.event_id)) + "|" + now.isoformat()
            dedup = hashlib.sha256(key_text.encode()).hexdigest()
            if q.digest_queued(conn, dedup):
                continue
            _flag_low_n(store, items, int(settings["compute.min_respondents"]))
            charts, thresholds = _charts(store, items, settings["alerts.chart_months"])
            digest = Digest(group, groups[group], items, settings["language"], charts, thresholds)
            msg = render_digest(digest, sender=settings["smtp.sender"], now=now)
            q.queue_digest(conn, dict(
                dedup_key=dedup, recipient_group=group, recipients=",".join(groups[group]),
                subject=str(msg["Subject"]), language=digest.language, message_id=str(msg["Message-ID"]),
                mime=msg.as_string(), status="queued", attempts=0, created_at=now),
                [(i.event_id, i.kind) for i in {i.event_id: i for i in items}.values()])
            queue_robots(conn, settings, robots, group, items, dedup=dedup, now=now,
                         chart_key=next(iter(charts), None))
            report.queued[group] = len(items)
        for event_id, kind in marks:
            q.update_episode(conn, event_id, notified_state="resolved" if kind == "resolved" else "firing",
                             last_notified_at=now)
    return report
