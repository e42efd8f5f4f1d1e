"""Chat-robot channels of the alert digests: WeCom (企业微信) and DingTalk (钉钉) group robots (issue 19).

Configured per recipient group in the config file, one table per robot::

    [[alerts.robots]]
    name = "leaders-wecom"
    kind = "wecom"                       # or "dingtalk"
    group = "leaders"                    # a group of [alerts.recipients]
    webhook_env = "IMON_ROBOT_LEADERS"   # environment variable holding the webhook URL (it contains the key)
    # webhook = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=..."   (or in the file itself)
    secret_env = "IMON_DINGTALK_SECRET"  # DingTalk only: the signing secret ("加签"), from the environment

Each digest queued for a group (:func:`monitor.alerts.digest.queue_notifications`) is also queued, in the same
transaction, as one markdown message per robot of that group (table ``robot_message``, deduplicated like the
e-mails), with a link to the dashboard's warnings page and the chart of the first series.  :func:`deliver_robots`
sends what is queued with the e-mail's retry and backoff settings:

- the robot answered ``errcode`` 0: ``sent``, never sent again;
- the connection failed before the request went out, an HTTP 5xx, or a rate limit: retried (the message stays
  ``queued`` for the next run when every attempt fails);
- the robot refused the message for good (bad key, bad signature, malformed): ``failed``, not retried;
- the request went out and no answer came (a timeout): ``unknown``.  The robot may have posted it; robots have
  no idempotency key, so it is never sent again by itself -- the warnings page lists it for a person to check.

DingTalk's signed webhook: ``timestamp`` (ms) and ``sign = base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}"))``
are added to the URL's query.  Untrusted text (subjects, rule titles) is made inert for markdown.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import http.client
import json
import logging
import os
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection

from ..exceptions import ConfigError
from ..settings import Settings
from ..store import Store
from ..store import dashboard as q
from .texts import SEVERITY, STATE, T, describe, region_name, rule_title

__all__ = ["Robot", "load_robots", "robot_markdown", "queue_robots", "deliver_robots", "RobotReport",
           "dingtalk_sign", "RobotError", "KINDS"]

log = logging.getLogger(__name__)
KINDS = ("wecom", "dingtalk")
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
#: The links under a robot message, by language.
LINKS = {"zh": {"more": "查看与处理", "chart": "走势图", "numbers": "数据"},
         "en": {"more": "Open the warnings", "chart": "Chart", "numbers": "Numbers"}}
_MAX_BYTES = {"wecom": 4000, "dingtalk": 18000}  # WeCom allows 4096 bytes of markdown, DingTalk 20000


@dataclass(frozen=True)
class Robot:
    """One group robot."""

    name: str
    kind: str
    group: str
    webhook: str
    secret: str = field(default="", repr=False)


class RobotError(Exception):
    """A delivery failure; ``outcome`` is ``retry``, ``failed`` (permanent) or ``unknown`` (may have arrived)."""

    def __init__(self, message: str, outcome: str) -> None:
        super().__init__(message)
        self.outcome = outcome


def load_robots(settings: Settings, groups: Mapping[str, Sequence[str]] | None = None,
                environ: Mapping[str, str] | None = None) -> tuple[Robot, ...]:
    """The robots of ``[[alerts.robots]]`` (none when the file has no such table).

    Raises
    ------
    ConfigError
        A robot without a valid name, kind, group or webhook, a webhook that is not http(s), or a DingTalk robot
        whose ``secret_env`` names an unset variable.
    """
    environ = os.environ if environ is None else environ
    raw = (getattr(settings, "structured", {}) or {}).get("alerts.robots", [])
    origin = str(getattr(settings, "config_path", None) or "settings")
    robots: list[Robot] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw, 1):
        where = f"{origin}: [[alerts.robots]] #{i}"
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where} must be a table with name, kind, group and webhook (or webhook_env)")
        name = str(entry.get("name", ""))
        if not _NAME.match(name) or name in seen:
            raise ConfigError(f"{where}: name {name!r} must be a unique word of letters, digits, _ or -")
        seen.add(name)
        kind = str(entry.get("kind", ""))
        if kind not in KINDS:
            raise ConfigError(f"{where} ({name}): kind {kind!r} must be one of {', '.join(KINDS)}")
        group = str(entry.get("group", ""))
        if groups is not None and group not in groups:
            raise ConfigError(f"{where} ({name}): group {group!r} is not a group of [alerts.recipients] "
                              f"({', '.join(sorted(groups))}); add it there first")
        webhook = str(entry.get("webhook", "") or "")
        if entry.get("webhook_env"):
            webhook = environ.get(str(entry["webhook_env"]), "")
            if not webhook:
                raise ConfigError(f"{where} ({name}): the environment variable {entry['webhook_env']} (webhook_env) "
                                  "is not set; export the robot's webhook URL in it")
        if urllib.parse.urlsplit(webhook).scheme not in ("http", "https") or not urllib.parse.urlsplit(webhook).netloc:
            raise ConfigError(f"{where} ({name}): webhook must be the robot's http(s) URL; got "
                              f"{_mask(webhook) or 'nothing'}")
        secret = ""
        if entry.get("secret_env"):
            secret = environ.get(str(entry["secret_env"]), "")
            if not secret:
                raise ConfigError(f"{where} ({name}): the environment variable {entry['secret_env']} (secret_env) "
                                  "is not set; export the DingTalk robot's signing secret (SEC...) in it")
        robots.append(Robot(name, kind, group, webhook, secret))
    return tuple(robots)


def _mask(url: str) -> str:
    """A webhook URL without its query (the key or access token)."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "***" if parts.query else "", ""))


_MD_SPECIAL = re.compile(r"([\\`*_\[\]()#!|~])")


def _inert(text: str) -> str:
    """Untrusted text made inert for markdown: one line, markdown characters escaped, ``<`` and ``>`` (tags: both
    robots render some HTML such as ``<font>``) replaced by their full-width forms."""
    one = " ".join(str(text).split()).replace("<", "\uff1c").replace(">", "\uff1e")
    return _MD_SPECIAL.sub(r"\\\1", one)


def robot_markdown(items: Sequence[Any], *, group: str, lang: str, base_url: str,
                   chart_key: str | None = None) -> tuple[str, str]:
    """``(title, markdown)`` of a digest for a group robot: counts, one line per alert, links to the dashboard."""
    t = T[lang]
    firing = [i for i in items if i.kind != "resolved"]
    resolved = [i for i in items if i.kind == "resolved"]
    period = max((i.period for i in items), default="")
    group_label = t["leaders"] if group == "leaders" else (
        region_name(group.removeprefix("district-"), lang) if group.startswith("district-") else group)
    title = t["subject"].format(group=group_label, firing=len(firing), resolved=len(resolved), period=period)
    lines = [f"### {_inert(title)}", ""]
    order = {"critical": 0, "warning": 1, "info": 2}
    for item in sorted(items, key=lambda i: (i.kind == "resolved", order.get(i.severity, 3), i.rule, i.subject)):
        head = rule_title(item.rule, item.rule_kind, lang, item.title_zh if lang == "zh" else item.title_en)
        sev = SEVERITY[lang].get(item.severity, item.severity)
        lines.append(f"- **{_inert(sev)}** {_inert(STATE[lang][item.kind])} · {_inert(head)} · "
                     f"{_inert(item.subject)} · {_inert(region_name(item.region, lang))} · {_inert(item.period)}: "
                     f"{_inert(describe(item.rule_kind, item.value, item.labels, lang))}"
                     + ("" if item.low_n_min is None
                        else _inert(t["low_n"].format(n=item.n, min=item.low_n_min))))
    base = base_url.rstrip("/")
    words = LINKS[lang]
    lines += ["", f"[{words['more']}]({base}/dash/warnings)"]
    if chart_key:
        quoted = urllib.parse.quote(chart_key, safe="/")
        lines.append(f"[{words['chart']}]({base}/dash/series/chart.png?key={quoted}) · "
                     f"[{words['numbers']}]({base}/dash/series/download.csv?key={quoted})")
    return title, "\n".join(lines)


def _payload(kind: str, title: str, text: str) -> str:
    limit = _MAX_BYTES[kind]
    if len(text.encode("utf-8")) > limit:
        text = text.encode("utf-8")[: limit - 8].decode("utf-8", "ignore").rsplit("\n", 1)[0] + "\n- ..."
    body = ({"msgtype": "markdown", "markdown": {"content": text}} if kind == "wecom"
            else {"msgtype": "markdown", "markdown": {"title": title[:60], "text": text}})
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def queue_robots(conn: Connection, settings: Settings, robots: Sequence[Robot], group: str, items: Sequence[Any],
                 *, dedup: str, now: dt.datetime, chart_key: str | None = None) -> list[int]:
    """Queue the digest ``items`` of ``group`` for each of its robots (inside the caller's transaction)."""
    ids = []
    for robot in robots:
        if robot.group != group:
            continue
        title, text = robot_markdown(items, group=group, lang=settings["language"],
                                     base_url=settings["web.base_url"], chart_key=chart_key)
        key = hashlib.sha256(f"{dedup}|robot|{robot.name}".encode()).hexdigest()
        mid = q.queue_robot_message(conn, dedup_key=key, recipient_group=group, robot=robot.name, kind=robot.kind,
                                    title=title, payload=_payload(robot.kind, title, text), now=now)
        if mid is not None:
            ids.append(mid)
    return ids


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature: base64 of HMAC-SHA256 over ``"{timestamp}\\n{secret}"`` keyed by the secret."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode("ascii")


def _post(robot: Robot, body: bytes, *, timeout: float, clock: Callable[[], float]) -> None:
    """POST one message; raises :class:`RobotError` saying whether to retry."""
    url = robot.webhook
    if robot.kind == "dingtalk" and robot.secret:
        ts = int(clock() * 1000)
        extra = urllib.parse.urlencode({"timestamp": ts, "sign": dingtalk_sign(robot.secret, ts)})
        url += ("&" if "?" in url else "?") + extra
    parts = urllib.parse.urlsplit(url)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = cls(parts.netloc, timeout=timeout)
    where = f"{robot.kind} robot {robot.name} ({_mask(robot.webhook)})"
    sent = False
    try:
        try:
            conn.connect()
        except OSError as exc:  # nothing went out: safe to try again
            raise RobotError(f"{where}: cannot connect ({type(exc).__name__}: {exc})", "retry") from None
        try:
            conn.request("POST", parts.path + (f"?{parts.query}" if parts.query else ""), body=body,
                         headers={"Content-Type": "application/json; charset=utf-8"})
            sent = True
            response = conn.getresponse()
            data = response.read(65536)
        except TimeoutError as exc:
            if sent:
                raise RobotError(f"{where}: no answer within {timeout:g} s after the message was sent; it may have "
                                 "been posted, so it is not sent again: check the group", "unknown") from None
            raise RobotError(f"{where}: timed out sending ({exc})", "retry") from None
        except (OSError, http.client.HTTPException) as exc:
            outcome = "unknown" if sent else "retry"
            raise RobotError(f"{where}: {type(exc).__name__}: {exc}" + (
                "; it may have been posted, so it is not sent again: check the group" if sent else ""),
                outcome) from None
    finally:
        conn.close()
    if response.status >= 500 or response.status == 429:
        raise RobotError(f"{where}: HTTP {response.status}", "retry")
    if response.status >= 400:
        raise RobotError(f"{where}: HTTP {response.status}: check the webhook URL", "failed")
    try:
        answer = json.loads(data.decode("utf-8"))
        code = int(answer.get("errcode", -1))
    except (ValueError, AttributeError, TypeError):
        raise RobotError(f"{where}: the answer is not the robot's JSON ({data[:80]!r})", "failed") from None
    if code == 0:
        return
    message = " ".join(str(answer.get("errmsg", "")).split())[:200]
    if code in (45009, 130101, -1):  # rate limited (WeCom 45009, DingTalk 130101) or system busy: try later
        raise RobotError(f"{where}: errcode {code} {message}", "retry")
    raise RobotError(f"{where}: errcode {code} {message}: check the webhook key"
                     + (" and the signing secret" if robot.kind == "dingtalk" else ""), "failed")


@dataclass
class RobotReport:
    """What one robot delivery run did."""

    sent: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    unknown: dict[int, str] = field(default_factory=dict)
    attempts: int = 0


def deliver_robots(store: Store, settings: Settings, robots: Sequence[Robot] | None = None, *,
                   sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time,
                   timeout: float | None = None) -> RobotReport:
    """Send every queued robot message, oldest first, retrying ``smtp.retries`` times with doubling backoff.

    Every attempt is a row of ``notification`` (channel ``wecom`` or ``dingtalk``).  A message whose robot is no
    longer configured stays queued (listed as failed).
    """
    if robots is None:
        from .rules import load_recipients

        robots = load_robots(settings, load_recipients(settings))
    by_name = {r.name: r for r in robots}
    retries, backoff = settings["smtp.retries"], settings["smtp.backoff"]
    timeout = settings["smtp.timeout"] if timeout is None else timeout
    report = RobotReport()
    with store.engine.connect() as conn:
        queued = q.queued_robot_messages(conn)
    for row in queued:
        robot = by_name.get(row.robot)
        if robot is None:
            report.failed[row.id] = f"robot {row.robot!r} is not configured in [[alerts.robots]]; it stays queued"
            continue
        body = row.payload.encode("utf-8")
        for attempt in range(retries):
            started = dt.datetime.now().replace(microsecond=0)
            outcome, error = "sent", None
            try:
                _post(robot, body, timeout=timeout, clock=clock)
            except RobotError as exc:
                outcome, error = exc.outcome, str(exc)
            report.attempts += 1
            final = outcome in ("sent", "failed", "unknown") or attempt + 1 == retries
            with store.begin() as conn:
                q.robot_attempt(conn, row.id, robot=robot.name, channel=robot.kind, at=started, error=error,
                                status=outcome if outcome != "retry" else "queued")
            log.info("robot attempt message_id=%s robot=%s attempt=%s status=%s", row.id, robot.name, attempt + 1,
                     outcome)
            if outcome == "sent":
                report.sent.append(row.id)
                break
            if final:
                target = report.unknown if outcome == "unknown" else report.failed
                target[row.id] = error or ""
                log.warning("robot message %s to %s not delivered (%s)", row.id, robot.name, error)
                break
            sleep(backoff * 2 ** attempt)
    return report
