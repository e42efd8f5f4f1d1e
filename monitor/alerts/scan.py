"""One early-warning scan: evaluate every rule, move the episodes, queue the digests, deliver what is queued."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from ..exceptions import LockBusy, MonitorError
from ..settings import Settings, parse_duration
from ..store import Store
from ..store.locks import exclusive
from .digest import QueueReport, queue_notifications
from .evaluate import EvalContext, evaluate_rule
from .lifecycle import apply_findings
from .robots import RobotReport, deliver_robots
from .rules import load_recipients, load_rules, validate_settings
from .transport import DeliveryReport, Transport, deliver

__all__ = ["SCAN_LOCK", "ScanLockedError", "ScanReport", "run_scan"]

log = logging.getLogger(__name__)

#: The database lock (:mod:`monitor.store.locks`) held by a scan: one scan at a time per store.
SCAN_LOCK = "alerts_scan"
#: How long a scan started by the scheduler or the pipeline waits for a running one (seconds).
DEFAULT_WAIT = 600.0


class ScanLockedError(LockBusy):
    """Another alert scan is running on the store (see :data:`SCAN_LOCK`)."""


@dataclass
class ScanReport:
    """What a scan did: transitions per rule, failures per rule, digests queued, messages delivered."""

    transitions: dict[str, Counter[str]] = field(default_factory=dict)
    findings: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    queued: QueueReport = field(default_factory=QueueReport)
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    robots: RobotReport = field(default_factory=RobotReport)
    seconds: float = 0.0

    @property
    def changes(self) -> int:
        return sum(sum(c.values()) for c in self.transitions.values())

    def summary(self) -> str:
        """One line for logs and the job history."""
        moved = Counter[str]()
        for c in self.transitions.values():
            moved.update(c)
        parts = [f"{len(self.findings)} rules evaluated", ", ".join(f"{k} {v}" for k, v in sorted(moved.items()))
                 or "no state changes", f"{len(self.queued.queued)} digests queued",
                 f"{len(self.delivery.sent)} sent"]
        if self.delivery.failed:
            parts.append(f"{len(self.delivery.failed)} still queued")
        if self.robots.sent or self.robots.failed or self.robots.unknown:
            parts.append(f"robots: {len(self.robots.sent)} sent, {len(self.robots.failed)} failed or queued, "
                         f"{len(self.robots.unknown)} to check")
        if self.failed:
            parts.append("failed: " + "; ".join(f"{k}: {v}" for k, v in self.failed.items()))
        return ", ".join(p for p in parts if p)


def run_scan(store: Store, settings: Settings, *, period: pd.Period | None = None, today: dt.date | None = None,
             kinds: tuple[str, ...] | None = None, transport: Transport | None = None, send: bool = True,
             now: dt.datetime | None = None, sleep: Callable[[float], None] = time.sleep,
             wait: float = DEFAULT_WAIT) -> ScanReport:
    """Evaluate the rules (optionally only some kinds), update the alerts and send the digests owed.

    Parameters
    ----------
    store, settings
        Where the data and alert state live; the effective settings (rules, recipients, transport).
    period
        Judge data up to this month (default: all data).
    today
        Reference date for survey closing (tests pin it).
    kinds
        Only rules of these kinds (``("response_rate",)`` at survey close); default all.
    transport
        Override the transport of ``alerts.transport`` (tests pass their own).
    send
        Deliver the queued messages (False only queues them).
    wait
        Seconds to wait for a scan already running on the store (the scheduler's, or a manual one) to finish.

    One rule failing to evaluate is logged and reported; the others go on.  Scans of one store never overlap: each
    holds the database lock :data:`SCAN_LOCK` (renewed while it runs, expiring ``schedule.lock_ttl`` after a crash).

    Raises
    ------
    ScanLockedError
        Another scan still runs after ``wait`` seconds.
    """
    validate_settings(settings)
    ttl = dt.timedelta(seconds=max(parse_duration(settings["schedule.lock_ttl"]), 3))

    def waiting(holder: dict[str, object]) -> None:
        log.info("another alert scan (%s) is running on this store; waiting up to %.0f s for it", holder["owner"],
                 wait, extra={"lock": SCAN_LOCK, "holder": str(holder["owner"])})

    try:
        with exclusive(store, SCAN_LOCK, ttl, wait=wait, on_wait=waiting):
            return _scan(store, settings, period=period, today=today, kinds=kinds, transport=transport, send=send,
                         now=now, sleep=sleep)
    except LockBusy as busy:
        h = busy.holder
        waited = f" and did not finish within {wait:.0f} s" if wait >= 1 else ""
        raise ScanLockedError(
            f"another alert scan ({h['owner']}) is running on this store (since {h['acquired_at']}){waited}; retry "
            "when it has finished, or let the scan wait for it (`imon alerts scan --wait 600`); if it crashed, its "
            f"lock expires at {h['expires_at']} (schedule.lock_ttl)", name=busy.name, holder=h) from None


def _scan(store: Store, settings: Settings, *, period: pd.Period | None, today: dt.date | None,
          kinds: tuple[str, ...] | None, transport: Transport | None, send: bool, now: dt.datetime | None,
          sleep: Callable[[float], None]) -> ScanReport:
    t0 = time.perf_counter()
    rules = load_rules(settings)
    groups = load_recipients(settings)
    ctx = EvalContext(store, settings, period, today or dt.date.today())
    report = ScanReport()
    for rule in rules:
        if kinds is not None and rule.kind not in kinds:
            continue
        try:
            findings = evaluate_rule(rule, ctx)
            with store.begin() as conn:
                report.transitions[rule.name] = apply_findings(conn, rule, findings, now=now)
            report.findings[rule.name] = sum(f.active for f in findings)
        except MonitorError as exc:
            report.failed[rule.name] = str(exc)
            log.warning("alert rule %s failed: %s", rule.name, exc, extra={"rule": rule.name})
        except Exception as exc:  # one rule never stops the others
            report.failed[rule.name] = f"{type(exc).__name__}: {exc}"
            log.exception("alert rule %s failed", rule.name, extra={"rule": rule.name})
        else:
            log.info("alert rule evaluated", extra={"rule": rule.name, "active": report.findings[rule.name],
                                                    **dict(report.transitions[rule.name])})
    report.queued = queue_notifications(store, settings, rules, groups, now=now)
    if send:
        report.delivery = deliver(store, settings, transport, sleep=sleep)
        report.robots = deliver_robots(store, settings, sleep=sleep)
    report.seconds = time.perf_counter() - t0
    log.info("alert scan: %s", report.summary())
    return report
