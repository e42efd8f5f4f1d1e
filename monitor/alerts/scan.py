"""One early-warning scan: evaluate every rule, move the episodes, queue the digests, deliver what is queued."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from ..exceptions import MonitorError
from ..settings import Settings
from ..store import Store
from .digest import QueueReport, queue_notifications
from .evaluate import EvalContext, evaluate_rule
from .lifecycle import apply_findings
from .rules import load_recipients, load_rules, validate_settings
from .transport import DeliveryReport, Transport, deliver

__all__ = ["ScanReport", "run_scan"]

log = logging.getLogger(__name__)


@dataclass
class ScanReport:
    """What a scan did: transitions per rule, failures per rule, digests queued, messages delivered."""

    transitions: dict[str, Counter[str]] = field(default_factory=dict)
    findings: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    queued: QueueReport = field(default_factory=QueueReport)
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
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
        if self.failed:
            parts.append("failed: " + "; ".join(f"{k}: {v}" for k, v in self.failed.items()))
        return ", ".join(p for p in parts if p)


def run_scan(store: Store, settings: Settings, *, period: pd.Period | None = None, today: dt.date | None = None,
             kinds: tuple[str, ...] | None = None, transport: Transport | None = None, send: bool = True,
             now: dt.datetime | None = None, sleep: Callable[[float], None] = time.sleep) -> ScanReport:
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

    One rule failing to evaluate is logged and reported; the others go on.
    """
    t0 = time.perf_counter()
    validate_settings(settings)
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
    report.seconds = time.perf_counter() - t0
    log.info("alert scan: %s", report.summary())
    return report
