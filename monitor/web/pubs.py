"""Publications on the dashboard (issue 19): the list, a preview, downloads (HTML, PDF, DOCX), ``publish check``,
making a draft final and publishing corrections with a note.

Leaders and staff read; only staff (and administrators) check, finalise and correct.  Finalising runs the check
on the draft first and refuses unless it passes; :func:`monitor.publish.publish` refuses before the release time.
Every action goes to the audit log.  The preview is the publication's own HTML, served in a sandbox (no script,
no fetching) under its own Content-Security-Policy.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..exceptions import MonitorError
from ..publish import check_publication, publish
from ..store import dashboard as q
from .accounts import log_action
from .dash_texts import dtext
from .dashcommon import refuse, render

__all__ = ["routes"]

READERS = ("leader", "staff", "admin")
STAFF = ("staff", "admin")
MEDIA = {"html": "text/html; charset=utf-8", "pdf": "application/pdf",
         "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
_PREVIEW_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:"
MAX_NOTE = 500


def _row(portal: Any, request: Request) -> Any:
    try:
        pid = int(request.path_params["pub_id"])
    except ValueError:
        return None
    with portal.store.engine.connect() as conn:
        return q.publication(conn, pid)


def _files(row: Any) -> dict[str, Path]:
    return {Path(f).suffix.lstrip("."): Path(f) for f in json.loads(row.files or "[]")}


def pubs_page(portal: Any, request: Request, form: Any, session: Any, *, status: int = 200,
              notice: str | None = None, findings: list[str] | None = None, error: str | None = None) -> Response:
    user = session[0]
    with portal.store.engine.connect() as conn:
        rows = q.publications(conn)
    items = [{"row": r, "formats": sorted(f for f, p in _files(r).items() if p.is_file())} for r in rows[:200]]
    return render(portal, request, "dash_pubs.j2", session, status=status, items=items, notice=notice,
                  findings=findings, error=error, can_act=user.role in STAFF)


def preview(portal: Any, request: Request, form: Any, session: Any) -> Response:
    user = session[0]
    row = _row(portal, request)
    path = _files(row).get("html") if row is not None else None
    if path is None or not path.is_file():
        return refuse(portal, request, user)
    return Response(path.read_bytes(), media_type=MEDIA["html"],
                    headers={"Content-Security-Policy": _PREVIEW_CSP, "X-Frame-Options": "DENY"})


def download(portal: Any, request: Request, form: Any, session: Any) -> Response:
    user = session[0]
    row = _row(portal, request)
    fmt = request.path_params["fmt"]
    path = _files(row).get(fmt) if row is not None and fmt in MEDIA else None
    if path is None or not path.is_file():
        return refuse(portal, request, user)
    with portal.store.begin() as conn:
        log_action(conn, user, "publication_download", ip=portal.ip(request), target=f"publication:{row.id}",
                   detail=fmt)
    headers = {"Content-Disposition": f'attachment; filename="{path.name}"'}
    if fmt == "html":
        headers["Content-Security-Policy"] = _PREVIEW_CSP
    return Response(path.read_bytes(), media_type=MEDIA[fmt], headers=headers)


def _check(portal: Any, row: Any) -> tuple[bool, list[str], int]:
    report = check_publication(portal.store, portal.settings, row.kind, row.period, lang=row.lang,
                               publication_id=row.id)
    return report.ok, [f.line() for f in report.findings], sum(report.counted.values())


def run_check(portal: Any, request: Request, form: Any, session: Any) -> Response:
    user = session[0]
    lang = portal.lang(request)
    row = _row(portal, request)
    if row is None:
        return refuse(portal, request, user)
    try:
        ok, lines, counted = _check(portal, row)
    except MonitorError as exc:
        return pubs_page(portal, request, form, session, status=400, error=dtext(lang, "refused", why=str(exc)))
    with portal.store.begin() as conn:
        log_action(conn, user, "publication_check", ip=portal.ip(request), target=f"publication:{row.id}",
                   detail="ok" if ok else f"{len(lines)} findings")
    notice = dtext(lang, "check_ok", n=counted) if ok else dtext(lang, "check_failed", n=len(lines))
    return pubs_page(portal, request, form, session, notice=notice, findings=lines)


def finalise(portal: Any, request: Request, form: Any, session: Any) -> Response:
    """Make a draft final: only when its check passes, and (checked by ``publish``) after the release time."""
    user = session[0]
    lang = portal.lang(request)
    row = _row(portal, request)
    if row is None:
        return refuse(portal, request, user)
    try:
        if row.final:
            raise MonitorError(f"{row.kind} {row.period} ({row.lang}) edition {row.version} is final already; "
                               "publish a correction instead")
        ok, lines, _ = _check(portal, row)
        if not ok:
            with portal.store.begin() as conn:
                log_action(conn, user, "publication_finalise_refused", ip=portal.ip(request),
                           target=f"publication:{row.id}", detail=f"check: {len(lines)} findings")
            return pubs_page(portal, request, form, session, status=409, error=dtext(lang, "check_first"),
                             findings=lines)
        result = publish(portal.store, portal.settings, row.kind, row.period, lang=row.lang, final=True)
    except MonitorError as exc:
        with portal.store.begin() as conn:
            log_action(conn, user, "publication_finalise_refused", ip=portal.ip(request),
                       target=f"publication:{row.id}", detail=str(exc)[:300])
        return pubs_page(portal, request, form, session, status=409, error=dtext(lang, "refused", why=str(exc)))
    with portal.store.begin() as conn:
        log_action(conn, user, "publication_finalise", ip=portal.ip(request), target=f"publication:{result.publication_id}",
                   detail=f"{row.kind} {row.period} {row.lang} v{result.version}")
    return RedirectResponse("/dash/pubs?msg=done", status_code=303)


def correct(portal: Any, request: Request, form: Any, session: Any) -> Response:
    user = session[0]
    lang = portal.lang(request)
    row = _row(portal, request)
    note = str(form.get("note", "")).strip()
    if row is None:
        return refuse(portal, request, user)
    if not note or len(note) > MAX_NOTE:
        return pubs_page(portal, request, form, session, status=400, error=dtext(lang, "enter_reason"))
    try:
        result = publish(portal.store, portal.settings, row.kind, row.period, lang=row.lang, correct=note)
    except MonitorError as exc:
        return pubs_page(portal, request, form, session, status=409, error=dtext(lang, "refused", why=str(exc)))
    with portal.store.begin() as conn:
        log_action(conn, user, "publication_correct", ip=portal.ip(request), target=f"publication:{result.publication_id}",
                   detail=f"{row.kind} {row.period} {row.lang} v{result.version}: {note}")
    return RedirectResponse("/dash/pubs?msg=done", status_code=303)


def routes(route: Callable[..., Route]) -> list[Route]:
    return [
        route("/dash/pubs", pubs_page, roles=READERS),
        route("/dash/pubs/{pub_id}/preview", preview, roles=READERS),
        route("/dash/pubs/{pub_id}/file.{fmt}", download, roles=READERS),
        route("/dash/pubs/{pub_id}/check", run_check, ("POST",), roles=STAFF),
        route("/dash/pubs/{pub_id}/finalise", finalise, ("POST",), roles=STAFF),
        route("/dash/pubs/{pub_id}/correct", correct, ("POST",), roles=STAFF),
    ]
