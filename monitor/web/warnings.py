"""Warnings on the dashboard (issue 19): firing, pending and resolved episodes with their history, silences with a
reason and an expiry, acknowledgements, and the chat-robot messages that did not arrive.

Staff (and administrators) act on every warning; a district official sees the city-wide warnings and their own
district's, and silences or acknowledges only their district's; leaders read.  Every action goes to the audit log
(``alert_ack``, ``alert_silence``, ``alert_silence_end``); an acknowledgement *is* its audit entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..alerts import active_silences, add_silence, end_silence
from ..alerts.texts import region_name
from ..exceptions import ConfigError
from ..periods import now as _now
from ..reference import CITY_CODE
from ..store import dashboard as q
from .accounts import User, log_action
from .dash_texts import dtext
from .dashcommon import DASH_ROLES, refuse, render

__all__ = ["routes", "may_act", "visible_regions"]

MAX_REASON = 500
_ACTORS = ("staff", "admin", "district")


def visible_regions(user: User) -> list[str | None] | None:
    """Regions of the warnings a user sees (None: all)."""
    if user.role == "district":
        return [CITY_CODE, user.district_code]
    return None


def may_act(user: User, region: str | None) -> bool:
    """Whether the user may silence or acknowledge a warning of ``region``."""
    if user.role in ("staff", "admin"):
        return True
    return user.role == "district" and region is not None and region == user.district_code


def _rows(portal: Any, user: User, states: tuple[str, ...] | None, limit: int = 300) -> list[dict[str, Any]]:
    regions = visible_regions(user)
    with portal.store.engine.connect() as conn:
        events = q.alert_events(conn, states=states, regions=[r for r in regions if r] if regions else None,
                                limit=limit)
        if regions is not None:  # city-wide warnings may be stored without a region
            events += [e for e in q.alert_events(conn, states=states, limit=limit) if e.region is None]
        acks = q.acknowledgements(conn, [e.id for e in events])
    out = []
    for e in sorted(events, key=lambda e: -e.id):
        out.append({**dict(e._mapping), "acks": acks.get(e.id, []), "can_act": may_act(user, e.region)})
    return out


def warnings_page(portal: Any, request: Request, form: Any, session: Any, *, status: int = 200,
                  notice: str | None = None, error: str | None = None) -> Response:
    user = session[0]
    lang = portal.lang(request)
    active = _rows(portal, user, ("firing", "pending"))
    history = _rows(portal, user, ("resolved", "inactive"), limit=200)
    with portal.store.engine.connect() as conn:
        silences = active_silences(conn, now=_now())
        robots = q.robot_messages(conn, status=("failed", "unknown", "queued"), limit=50) \
            if user.role in ("staff", "admin") else []
    if user.role == "district":
        silences = [s for s in silences if s.region == user.district_code]
    rules = sorted({r["rule"] for r in active + history})
    return render(portal, request, "dash_warnings.j2", session, status=status, active=active, history=history,
                  silences=silences, robots=robots, rules=rules, notice=notice, error=error,
                  can_silence=user.role in _ACTORS, region_name=lambda c: region_name(c, lang),
                  own_district=user.district_code if user.role == "district" else None,
                  districts=[(c, region_name(c, lang)) for c in _district_codes()])


def _district_codes() -> list[str]:
    from .dashdata import DISTRICT_CODES

    return list(DISTRICT_CODES)


def acknowledge(portal: Any, request: Request, form: Any, session: Any) -> Response:
    user = session[0]
    try:
        event_id = int(request.path_params["event_id"])
    except ValueError:
        return refuse(portal, request, user)
    with portal.store.engine.connect() as conn:
        event = q.alert_event(conn, event_id)
    if event is None or not may_act(user, event.region) or (
            user.role == "district" and event.region not in (user.district_code,)):
        return refuse(portal, request, user, status=404 if event is None or user.role == "district" else 403)
    note = str(form.get("note", ""))[:MAX_REASON].strip()
    with portal.store.begin() as conn:
        log_action(conn, user, "alert_ack", ip=portal.ip(request), target=f"alert:{event_id}",
                   detail=f"{event.rule} {event.subject} {event.state}" + (f": {note}" if note else ""))
    return RedirectResponse("/dash/warnings?msg=done", status_code=303)


def silence(portal: Any, request: Request, form: Any, session: Any) -> Response:
    user = session[0]
    lang = portal.lang(request)
    rule = str(form.get("rule", "")).strip()[:80] or None
    subject = str(form.get("subject", "")).strip()[:160] or None
    region = str(form.get("region", "")).strip()[:6] or None
    reason = str(form.get("reason", ""))
    if user.role == "district":
        if region not in (None, user.district_code):
            return refuse(portal, request, user, status=403)
        region = user.district_code  # a district official silences only their own district
    if region is not None and region not in _district_codes() and region != CITY_CODE:
        return warnings_page(portal, request, form, session, status=400, error=f"region {region!r}")
    if not reason.strip() or len(reason) > MAX_REASON:
        return warnings_page(portal, request, form, session, status=400, error=dtext(lang, "enter_reason"))
    try:
        hours = float(str(form.get("hours", "")))
    except ValueError:
        hours = -1
    if not 1 <= hours <= 720:
        return warnings_page(portal, request, form, session, status=400, error=dtext(lang, "bad_hours"))
    now = _now()
    try:
        sid = add_silence(portal.store, reason=reason, expires_at=now + dt.timedelta(hours=hours), rule=rule,
                          subject=subject, region=region, created_by=user.username, now=now)
    except ConfigError as exc:
        return warnings_page(portal, request, form, session, status=400, error=str(exc))
    with portal.store.begin() as conn:
        log_action(conn, user, "alert_silence", ip=portal.ip(request), target=f"silence:{sid}",
                   detail=f"rule={rule or '*'} subject={subject or '*'} region={region or '*'} hours={hours:g}: "
                          f"{reason.strip()}")
    return RedirectResponse("/dash/warnings?msg=done", status_code=303)


def silence_end(portal: Any, request: Request, form: Any, session: Any) -> Response:
    user = session[0]
    try:
        sid = int(request.path_params["silence_id"])
    except ValueError:
        return refuse(portal, request, user)
    with portal.store.engine.connect() as conn:
        found = [s for s in active_silences(conn, now=_now()) if s.id == sid]
    if not found or (user.role == "district" and found[0].region != user.district_code):
        return refuse(portal, request, user)
    end_silence(portal.store, sid)
    with portal.store.begin() as conn:
        log_action(conn, user, "alert_silence_end", ip=portal.ip(request), target=f"silence:{sid}")
    return RedirectResponse("/dash/warnings?msg=done", status_code=303)


def routes(route: Callable[..., Route]) -> list[Route]:
    return [
        route("/dash/warnings", warnings_page, roles=DASH_ROLES),
        route("/dash/warnings/{event_id}/ack", acknowledge, ("POST",), roles=_ACTORS),
        route("/dash/warnings/silence", silence, ("POST",), roles=_ACTORS),
        route("/dash/warnings/silence/{silence_id}/end", silence_end, ("POST",), roles=_ACTORS),
    ]
