"""The alert lifecycle per (rule, subject): pending -> firing -> resolved, and silences.

One ``alert_event`` row is one episode of a rule on a subject, identified by its fingerprint (a hash of rule
and subject) and the data month it started in (unique together, so a repeated evaluation cannot open a second
episode).  Transitions are driven by data months, not by the wall clock, so evaluating the same data again
changes nothing:

- the condition holds and no episode is open: a new episode, ``firing`` when ``for`` is 0, else ``pending``;
- it holds in a later month: ``pending`` becomes ``firing`` once it has held ``for`` months after its start;
- it does not hold in the episode's last month (a revision) or a later one: ``firing`` becomes ``resolved``,
  ``pending`` becomes ``inactive`` (it never fired, nobody hears of it);
- a verdict about a month older than the episode's last month is ignored.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection

from ..exceptions import ConfigError
from ..store import Store
from ..store import alerts as q
from .evaluate import Finding
from .rules import Rule

__all__ = ["fingerprint", "apply_findings", "ACTIVE_STATES", "Silence", "add_silence", "end_silence",
           "active_silences", "is_silenced", "list_events"]

ACTIVE_STATES = ("pending", "firing")


def fingerprint(rule: str, subject: str) -> str:
    """A stable 16-hex-digit identity of ``(rule, subject)``."""
    return hashlib.sha256(f"{rule}\x1f{subject}".encode()).hexdigest()[:16]


def _months_between(first: str, last: str) -> int:
    return (pd.Period(last, "M") - pd.Period(first, "M")).n


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def apply_findings(conn: Connection, rule: Rule, findings: list[Finding], *,
                   now: dt.datetime | None = None) -> Counter[str]:
    """Move the rule's episodes according to ``findings``; return the transitions made (``new_pending``, ...)."""
    now = now or _now()
    done: Counter[str] = Counter()
    open_ = {r["fingerprint"]: r for r in q.open_episodes(conn, rule.name, ACTIVE_STATES)}
    for f in findings:
        fp = fingerprint(rule.name, f.subject)
        ev = open_.get(fp)
        labels = json.dumps(f.labels, ensure_ascii=False, sort_keys=True, default=str)
        if f.active and ev is None:
            state = "firing" if rule.for_months == 0 else "pending"
            values = dict(rule=rule.name, subject=f.subject, region=f.region, severity=rule.severity, state=state,
                          value=f.value, started_period=f.period, last_period=f.period, labels=labels,
                          fingerprint=fp, recipients=rule.recipients, fired_at=now if state == "firing" else None,
                          resolved_at=None, resolved_period=None, created_at=now, updated_at=now)
            old = q.episode_id(conn, fp, f.period)
            if old is None:
                q.add_episode(conn, values)
            else:  # an episode of the same month closed by a revision and now true again: reopen it
                values.pop("created_at")
                q.update_episode(conn, old, **values)
            done[f"new_{state}"] += 1
        elif f.active and ev is not None:
            if f.period < ev["last_period"]:
                continue
            changes: dict[str, Any] = {}
            if f.period > ev["last_period"]:
                changes["last_period"] = f.period
            if ev["value"] != f.value or ev["labels"] != labels:
                changes.update(value=f.value, labels=labels)
            if ev["state"] == "pending" and _months_between(ev["started_period"], f.period) >= rule.for_months:
                changes.update(state="firing", fired_at=now)
                done["fired"] += 1
            if changes:
                changes["updated_at"] = now
                q.update_episode(conn, ev["id"], **changes)
        elif ev is not None and f.period >= ev["last_period"]:
            state = "resolved" if ev["state"] == "firing" else "inactive"
            q.update_episode(conn, ev["id"], state=state, resolved_at=now, resolved_period=f.period, value=f.value,
                             updated_at=now)
            done[state] += 1
    return done


# --------------------------------------------------------------------------------------------- silences
@dataclass(frozen=True)
class Silence:
    """An active or past silence (see :class:`monitor.store.models.AlertSilence`)."""

    id: int
    rule: str | None
    subject: str | None
    region: str | None
    reason: str
    created_by: str | None
    created_at: dt.datetime
    expires_at: dt.datetime
    ended_at: dt.datetime | None

    def matches(self, rule: str, subject: str, region: str | None) -> bool:
        """Whether an alert of ``rule`` on ``subject`` in ``region`` is covered."""
        return ((self.rule is None or fnmatch.fnmatchcase(rule, self.rule))
                and (self.subject is None or fnmatch.fnmatchcase(subject, self.subject))
                and (self.region is None or self.region == region))


def add_silence(store: Store, *, reason: str, expires_at: dt.datetime, rule: str | None = None,
                subject: str | None = None, region: str | None = None, created_by: str | None = None,
                now: dt.datetime | None = None) -> int:
    """Record a silence and return its id.

    Raises
    ------
    ConfigError
        No matcher (it would silence everything), an empty reason, or an expiry in the past.
    """
    now = now or _now()
    if not (rule or subject or region):
        raise ConfigError("a silence needs at least one of --rule, --subject or --region; it would silence everything")
    if not reason.strip():
        raise ConfigError("a silence needs a --reason (who asked and why), e.g. --reason '停产检修 per district'")
    if expires_at <= now:
        raise ConfigError(f"the silence would expire at {expires_at:%Y-%m-%d %H:%M}, which is not in the future; "
                          "give a later --until or a positive --for")
    return q.add_silence(store, rule=rule, subject=subject, region=region, reason=reason.strip(),
                         created_by=created_by, created_at=now, expires_at=expires_at, ended_at=None)


def end_silence(store: Store, silence_id: int, *, now: dt.datetime | None = None) -> bool:
    """End a silence now; False when there is no such active silence."""
    return q.end_silence(store, silence_id, now or _now())


def active_silences(conn: Connection, *, now: dt.datetime | None = None, include_past: bool = False) -> list[Silence]:
    """Silences in force at ``now`` (all of them with ``include_past``)."""
    return [Silence(**r) for r in q.silence_rows(conn, now or _now(), include_past=include_past)]


def is_silenced(silences: list[Silence], rule: str, subject: str, region: str | None) -> bool:
    """Whether any of ``silences`` covers the alert."""
    return any(s.matches(rule, subject, region) for s in silences)


def list_events(store: Store, *, states: tuple[str, ...] | None = ACTIVE_STATES, rule: str | None = None,
                region: str | None = None, limit: int | None = None) -> pd.DataFrame:
    """Alert episodes, newest first (``states=None`` for the whole history)."""
    return q.episode_list(store, states=states, rule=rule, region=region, limit=limit)
