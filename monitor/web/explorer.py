"""The series explorer (issue 19): find any stored series by its Chinese or English name or its key, see it raw
and adjusted with standard errors as published on any past vintage, its seasonal-adjustment diagnostics, and
download it as CSV or XLSX (formula-safe).  A district official finds only their district's series and the city's
(and the breakdowns by industry, size and sector, which are city totals)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..alerts.texts import series_label
from ..api import AnalystStore
from ..store import dashboard as q
from .dashcommon import DASH_ROLES, refuse, render
from .dashdata import can_see_key, series_frame
from .downloads import csv_bytes, xlsx_bytes

__all__ = ["routes", "search_keys", "parse_as_of"]

MAX_HITS = 200
_KEY = re.compile(r"^[A-Za-z0-9_./-]{1,160}$")
_COLUMNS = ("period", "raw", "sa", "value", "se", "n", "vintage")


def _labels(portal: Any) -> dict[str, tuple[str, str]]:
    """Every stored key with its Chinese and English names (cached a few minutes)."""
    from .dashcommon import cache as _cache

    def make() -> dict[str, tuple[str, str]]:
        with portal.store.engine.connect() as conn:
            keys = q.series_keys(conn)
        return {k: (series_label(k, "zh"), series_label(k, "en")) for k in keys}

    return _cache(portal).get(("series_labels",), make)


def search_keys(labels: dict[str, tuple[str, str]], text: str, allowed: Callable[[str], bool]) -> list[str]:
    """Keys whose key, Chinese or English name contains every word of ``text`` (case-insensitive)."""
    words = [w.lower() for w in text.split() if w]
    hits = []
    for key, (zh, en) in labels.items():
        if not allowed(key):
            continue
        hay = f"{key} {zh} {en}".lower()
        if all(w in hay for w in words):
            hits.append(key)
    return hits


def parse_as_of(value: str | None) -> dt.datetime | None:
    """``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM[:SS]`` (UTC, as the vintages) as a timestamp; None when empty.

    Raises
    ------
    ValueError
        Anything else.
    """
    if not value:
        return None
    value = value.strip().replace("T", " ")
    if len(value) == 10:
        return dt.datetime.fromisoformat(value) + dt.timedelta(days=1) - dt.timedelta(microseconds=1)
    return dt.datetime.fromisoformat(value)


def _vintage_shower(zone: Any, lang: str) -> Callable[[Any], str]:
    """A vintage (stored as naive UTC: it is a version's id, and ``as_of`` and the downloads keep it so) as users
    read times: in the bureau's zone and labelled, ``2026-01-05 16:00:00 北京时间``."""
    from ..timeshow import show_time

    return lambda v: show_time(v, zone, lang, "%Y-%m-%d %H:%M:%S", naive="utc")


def _key(portal: Any, request: Request, user: Any) -> str | None:
    key = request.query_params.get("key", "")
    if not _KEY.match(key) or not can_see_key(user, key):
        return None
    return key


def explorer(portal: Any, request: Request, form: Any, session: Any) -> Response:
    user = session[0]
    lang = portal.lang(request)
    text = request.query_params.get("q", "")[:100]
    labels = _labels(portal)
    key = request.query_params.get("key")
    context: dict[str, Any] = {"q": text, "hits": [], "key": None, "frame": None, "error": None}
    if text:
        hits = search_keys(labels, text, lambda k: can_see_key(user, k))
        context["hits"] = [(k, labels[k][0 if lang == "zh" else 1]) for k in hits[:MAX_HITS]]
        context["too_many"] = len(hits) > MAX_HITS
    if key:
        if not _KEY.match(key) or not can_see_key(user, key) or key not in labels:
            return refuse(portal, request, user)
        as_of_text = request.query_params.get("as_of", "")[:19]
        try:
            as_of = parse_as_of(as_of_text)
        except ValueError:
            as_of, context["error"] = None, f"as_of {as_of_text!r}: YYYY-MM-DD"
        frame = series_frame(portal.store, key, as_of=as_of)
        with portal.store.engine.connect() as conn:
            vintages = q.vintage_dates(conn, key)
        api = AnalystStore(portal.store, portal.settings)
        diag = api.adjustments(key, latest=False)
        shown = _vintage_shower(portal.zone, lang)
        table = frame.tail(120).iloc[::-1]
        table = table.assign(vintage=[shown(v) for v in table["vintage"]])
        diagnostics = diag.drop(columns=[c for c in ("factors",) if c in diag.columns]).tail(12)
        if "vintage" in diagnostics:
            diagnostics = diagnostics.assign(vintage=[shown(v) for v in diagnostics["vintage"]])
        context.update(key=key, label=labels[key][0 if lang == "zh" else 1], frame=table,
                       vintages=[(str(v)[:19], shown(v)) for v in vintages[:60]], as_of=as_of_text,
                       diagnostics=diagnostics.to_dict("records"))
    return render(portal, request, "dash_series.j2", session, **context)


def download(portal: Any, request: Request, form: Any, session: Any) -> Response:
    user = session[0]
    key = _key(portal, request, user)
    fmt = request.path_params["fmt"]
    if key is None or fmt not in ("csv", "xlsx"):
        return refuse(portal, request, user)
    try:
        as_of = parse_as_of(request.query_params.get("as_of", "")[:19])
    except ValueError:
        return portal.error(request, 400, "not_found", user)
    frame = series_frame(portal.store, key, as_of=as_of)
    if frame.empty:
        return refuse(portal, request, user)
    rows = [[r[c] for c in _COLUMNS] for r in frame.to_dict("records")]
    header = ["period", "raw", "sa", "value", "se", "n", "vintage_utc"]  # the version's id, as as_of takes it
    lang = portal.lang(request)
    name = key.replace("/", "_")
    title = series_label(key, lang)
    rows = [[title, key, *r] for r in rows]
    header = ["series", "key", *header]
    if fmt == "csv":
        body, media = csv_bytes(header, rows), "text/csv; charset=utf-8"
    else:
        body = xlsx_bytes(name, header, rows)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


def series_chart(portal: Any, request: Request, form: Any, session: Any) -> Response:
    """A series' chart (SVG for the page, PNG for the chat-robot link)."""
    from .charts import png_chart, svg_chart
    from .dashcommon import SVG_CSP as _SVG_CSP

    user = session[0]
    key = _key(portal, request, user)
    fmt = request.path_params["fmt"]
    if key is None or fmt not in ("svg", "png"):
        return refuse(portal, request, user)
    lang = portal.lang(request)
    frame = series_frame(portal.store, key).tail(60)
    if frame.empty:
        return refuse(portal, request, user)
    rows = [{"period": r["period"], "value": r["value"], "raw": r["raw"],
             "lower_95": None if r["se"] is None or r["se"] != r["se"] else r["value"] - 1.96 * r["se"],
             "upper_95": None if r["se"] is None or r["se"] != r["se"] else r["value"] + 1.96 * r["se"]}
            for r in frame.to_dict("records")]
    data = {"kind": "line", "title": series_label(key, lang), "rows": rows,
            "reference": 50.0 if key.startswith("pmi/") else None}
    if fmt == "png":
        return Response(png_chart(data, lang), media_type="image/png")
    return Response(svg_chart(data, lang), media_type="image/svg+xml", headers={"Content-Security-Policy": _SVG_CSP})


def routes(route: Callable[..., Route]) -> list[Route]:
    return [
        route("/dash/series", explorer, roles=DASH_ROLES),
        route("/dash/series/download.{fmt}", download, roles=DASH_ROLES),
        route("/dash/series/chart.{fmt}", series_chart, roles=DASH_ROLES),
    ]
