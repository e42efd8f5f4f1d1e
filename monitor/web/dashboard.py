"""The officials' dashboard (issue 19): the city overview for leaders and staff, one page per district scoped to
the district official's own district (plus the city totals), their JSON and CSV, and the charts with their numbers.

Built on the portal's application (:mod:`monitor.web.app`): its sessions, roles, CSRF and audit log; the routes
are added by :func:`routes`, the series explorer, warnings and publications live in :mod:`.explorer`,
:mod:`.warnings` and :mod:`.pubs`.  A district official asking for another district's page, download, JSON or
chart gets 404 (nothing says whether that district has data) and the refusal is audited.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..reference import CITY_CODE
from . import explorer, pubs, warnings
from .dash_texts import STATUS_NAMES
from .dashcommon import CHARTS, DASH_ROLES, SVG_CSP, cache, refuse, region_of, render
from .dashdata import DISTRICT_CODES, chart_series, overview
from .downloads import csv_bytes

__all__ = ["routes"]


def _data(portal: Any, region: str, lang: str) -> dict[str, Any]:
    return cache(portal).get(("overview", region, lang),
                              lambda: overview(portal.store, portal.settings, region, lang))


# ---------------------------------------------------------------------------------------------- pages
def home(portal: Any, request: Request, form: Any, session: Any) -> Response:
    user = session[0]
    if user.role == "district":
        return RedirectResponse(f"/dash/d/{user.district_code}", status_code=303)
    return page(portal, request, CITY_CODE, session)


def district(portal: Any, request: Request, form: Any, session: Any) -> Response:
    user = session[0]
    region = region_of(portal, request, user, request.path_params["code"])
    if region is None or region == CITY_CODE:
        return refuse(portal, request, user)
    return page(portal, request, region, session)


def page(portal: Any, request: Request, region: str, session: Any) -> Response:
    lang = portal.lang(request)
    data = _data(portal, region, lang)
    slug = "city" if region == CITY_CODE else region
    has_fan = any(f["key"].startswith("pmi/headline") for f in data["forecasts"])
    charts = [c for c in CHARTS if (c != "districts" or region == CITY_CODE) and (c != "fan" or has_fan)]
    return render(portal, request, "dash_overview.j2", session, data=data, slug=slug, charts=charts,
                  status_name=lambda s: STATUS_NAMES.get(s, (s, s))[0 if lang == "zh" else 1],
                  district_links=[(c, n) for c, n in _district_names(lang)] if region == CITY_CODE else [])


def _district_names(lang: str) -> list[tuple[str, str]]:
    from ..alerts.texts import region_name

    return [(c, region_name(c, lang)) for c in DISTRICT_CODES]


def _page_region(portal: Any, request: Request, user: Any) -> str | None:
    """The region of a page's data: the city's page (every district's targets, warnings and dispatch list) is
    not a district official's; their own page carries the city totals."""
    region = region_of(portal, request, user, request.path_params["region"])
    if region == CITY_CODE and user.role == "district":
        return None
    return region


def data_json(portal: Any, request: Request, form: Any, session: Any) -> Response:
    user = session[0]
    region = _page_region(portal, request, user)
    if region is None:
        return refuse(portal, request, user)
    return JSONResponse(json.loads(json.dumps(_data(portal, region, portal.lang(request)), default=str)))


def data_csv(portal: Any, request: Request, form: Any, session: Any) -> Response:
    """The page's numbers as one long CSV: section, item, region, period, value and interval."""
    user = session[0]
    region = _page_region(portal, request, user)
    if region is None:
        return refuse(portal, request, user)
    lang = portal.lang(request)
    data = _data(portal, region, lang)
    p = data["period"]
    h = data["headline"]
    name = data["region_name"]
    rows: list[list[Any]] = [["headline", "pmi/headline", "PMI", name, p, h["value"], h["raw"], h["se"],
                              h["lower_95"], h["upper_95"]]]
    rows += [["index", f"pmi/{i['code']}", i["name"], name, p, i["value"], i["raw"], i["se"], None, None]
             for i in data["indices"]]
    rows += [["electricity", f"electricity/{k}", k, name, p, v["value"], v["raw"], None, None, None]
             for k, v in data["electricity"].items()]
    rows += [["status", f"status/{k}", k, name, p, v["value"], v["raw"], None, None, None]
             for k, v in data["status"].items()]
    for f in data["forecasts"]:
        rows += [["forecast", f["key"], f["model"], name, r["period"], r["mean"], None, None, r["lower_95"],
                  r["upper_95"]] for r in f["rows"]]
    rows += [["target", t["indicator"], t["name"], t["region_name"], t["origin"], t["expected"], t["ytd"], None,
              t["lower_80"], t["upper_80"]] for t in data["targets"]]
    rows += [["target_probability", t["indicator"], t["name"], t["region_name"], t["origin"], t["probability"],
              None, None, None, None] for t in data["targets"]]
    rows += [["dispatch", e["uscc"], e["name"], e["district"], data["dispatch_period"], e["status"], None, None,
              None, None] for e in data["dispatch"]]
    header = ["section", "code", "item", "region", "period", "value", "raw", "se", "lower", "upper"]
    slug = "city" if region == CITY_CODE else region
    return Response(csv_bytes(header, rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="dashboard_{slug}_{p}.csv"'})


def chart(portal: Any, request: Request, form: Any, session: Any) -> Response:
    user = session[0]
    region = region_of(portal, request, user, request.path_params["region"])
    name, fmt = request.path_params["name"], request.path_params["fmt"]
    if region is None or name not in CHARTS or fmt not in ("svg", "csv") or (
            name == "districts" and (region != CITY_CODE or user.role == "district")):
        return refuse(portal, request, user)
    lang = portal.lang(request)
    data = cache(portal).get(("chartdata", region, name, lang),
                              lambda: chart_series(portal.store, region, name, lang))
    if fmt == "csv":
        rows = data["rows"] + [dict(r, period=r["period"] + " (forecast)") for r in data.get("forecast", [])]
        header = sorted({k for r in rows for k in r}, key=lambda k: (k not in ("period", "label"), k))
        return Response(csv_bytes(header, [[r.get(k) for k in header] for r in rows]),
                        media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="chart_{name}_{region}.csv"'})
    from .charts import svg_chart

    svg = cache(portal).get(("svg", region, name, lang), lambda: svg_chart(data, lang))
    return Response(svg, media_type="image/svg+xml",
                    headers={"Content-Security-Policy": SVG_CSP, "Cache-Control": "private, max-age=300"})


def css(portal: Any, request: Request, form: Any, session: Any) -> Response:
    from pathlib import Path

    body = (Path(__file__).parent / "static" / "dash.css").read_bytes()
    return Response(body, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


def routes(portal: Any, route: Callable[..., Route]) -> list[Route]:
    """The dashboard's routes, wrapped by the portal's ``route`` (session, role and CSRF checks)."""
    return [
        route("/static/dash.css", css, login=False),
        route("/dash", home, roles=DASH_ROLES),
        route("/dash/d/{code}", district, roles=DASH_ROLES),
        route("/dash/data/{region}.json", data_json, roles=DASH_ROLES),
        route("/dash/data/{region}.csv", data_csv, roles=DASH_ROLES),
        route("/dash/chart/{region}/{name}.{fmt}", chart, roles=DASH_ROLES),
        *explorer.routes(route),
        *warnings.routes(route),
        *pubs.routes(route),
    ]
