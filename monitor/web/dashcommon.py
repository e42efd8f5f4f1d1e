"""Helpers shared by the dashboard's page modules (issue 19): rendering with the portal's base template and the
dashboard's catalogue, the audited out-of-scope answer, region scoping of URLs and a small time-limited cache."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..reference import CITY_CODE
from .accounts import User, log_action
from .dash_texts import dtext
from .dashdata import DISTRICT_CODES, allowed_regions

__all__ = ["DASH_ROLES", "CHARTS", "SVG_CSP", "render", "refuse", "region_of", "cache"]

DASH_ROLES = ("leader", "staff", "admin", "district")
CHARTS = ("headline", "fan", "electricity", "districts")
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'"
_CACHE_SECONDS = 300.0


def render(portal: Any, request: Request, template: str, session: Any, *, status: int = 200,
           **context: Any) -> Response:
    """Render a dashboard page with the portal's base template and both catalogues (``t`` and ``d``)."""
    lang = portal.lang(request)
    user, row = session
    from ..alerts.texts import SEVERITY

    return portal.render(request, template, status=status, user=user, csrf=row.csrf,
                         d=lambda key, **kw: dtext(lang, key, **kw), dash_nav=_nav(user),
                         severity=lambda s: SEVERITY[lang].get(s, s), **context)


def _nav(user: User) -> list[tuple[str, str]]:
    first = ("/dash", "overview") if user.role != "district" else (f"/dash/d/{user.district_code}", "dashboard")
    items = [first, ("/dash/series", "explorer"), ("/dash/warnings", "warnings")]
    if user.role != "district":
        items.append(("/dash/pubs", "publications"))
    return items


def refuse(portal: Any, request: Request, user: User, *, status: int = 404) -> Response:
    """Out of scope: audited, and 404 (or 403) without saying more."""
    with portal.store.begin() as conn:
        log_action(conn, user, "forbidden", ip=portal.ip(request), target=request.url.path)
    return portal.error(request, status, "not_found" if status == 404 else "forbidden", user)


def region_of(portal: Any, request: Request, user: User, code: str) -> str | None:
    """The region code of a URL (``city`` or a district code) if the user may see it, else None."""
    code = CITY_CODE if code in ("city", CITY_CODE) else code
    if code != CITY_CODE and code not in DISTRICT_CODES:
        return None
    return code if code in allowed_regions(user) else None


class _Cache:
    """Charts and page data kept for a few minutes (they change once a month)."""

    def __init__(self, seconds: float = _CACHE_SECONDS) -> None:
        self.seconds = seconds
        self._data: dict[tuple[Any, ...], tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        now = time.monotonic()
        with self._lock:
            hit = self._data.get(key)
        if hit is not None and now - hit[0] < self.seconds:
            return hit[1]
        value = make()
        with self._lock:
            if len(self._data) > 500:
                self._data.clear()
            self._data[key] = (now, value)
        return value


def cache(portal: Any) -> _Cache:
    """The portal's dashboard cache (made on first use; ``cache(portal).seconds = 0`` turns it off)."""
    found = getattr(portal, "dash_cache", None)
    if found is None:
        found = portal.dash_cache = _Cache()
    return found
