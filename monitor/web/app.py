"""The web application (Starlette, server-rendered Jinja2 pages with autoescape, forms that work without
JavaScript).  :func:`create_app` builds it on the same store and settings as the CLI; ``imon serve`` runs it.

Security: sessions are random tokens in a signed, HttpOnly, SameSite=Lax cookie (Secure when the request came
over TLS, as the trusted reverse proxy says); the store keeps only their SHA-256.  Every POST carries a CSRF
token (the session's, or a signed double-submit cookie before sign-in) and is refused without it.  Failed
sign-ins are throttled per address and lock the account after ``web.lockout_attempts``.  Pages send a strict
Content-Security-Policy (no script at all), ``X-Frame-Options: DENY`` and ``nosniff``.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from collectors.survey_layout import ANSWER_SETS, OPERATION_FIELDS, PROBLEM_TEXTS, QUESTION_TEXTS, STATUS_OPTIONS

from ..periods import now as _now
from ..settings import Settings
from ..store import Store
from ..store import portal as q
from ..timeshow import bureau_zone, show_time
from . import accounts, dashboard, feedback, operations, questionnaire
from .accounts import ROLES, User, log_action, user_from_row
from .exceptions import AccountError, LoginError
from .questionnaire import FormData
from .security import Throttle, digest, new_token, secret_key, sign, sign_data, unsign, unsign_data
from .texts import LANGS, rule_text, text

__all__ = ["create_app", "Portal"]

log = logging.getLogger(__name__)

SESSION_COOKIE = "imon_session"
PRE_COOKIE = "imon_pre"
STASH_COOKIE = "imon_stash"
LANG_COOKIE = "imon_lang"
MAX_BODY = 64 * 1024
_STAFF = ("staff", "admin")
_OFFICIALS = ("staff", "admin", "leader", "district")
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class _Headers:
    """ASGI middleware: security headers on every response; refuses bodies over ``MAX_BODY``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > MAX_BODY:
            await PlainTextResponse("request too large", status_code=413)(scope, receive, send)
            return

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                for k, v in _HEADERS.items():
                    if k.lower().encode() not in names:
                        headers.append((k.lower().encode(), v.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, wrapped)


class Portal:
    """The application's state: settings, store, signing key, templates and the sign-in throttle."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.key = secret_key(settings)
        self.throttle = Throttle()
        # Requests are CPU-bound under the GIL (templates, Argon2, the ingest's pandas work), so a worker gains
        # nothing from running many at once; a small bound keeps the database pool and SQLite's single writer
        # from being swamped at the deadline rush (the rest wait their turn in order instead of timing out).
        self.slots = threading.BoundedSemaphore(2 if store.path is not None else 4)  # a SQLite file: 2
        self.env = Environment(loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
                               autoescape=select_autoescape(default=True, default_for_string=True),
                               trim_blocks=True, lstrip_blocks=True, auto_reload=False)  # compiled once
        self.css = (Path(__file__).parent / "static" / "portal.css").read_text("utf-8")
        self.zone = bureau_zone(settings)

        @pass_context
        def when(ctx: Any, value: Any, fmt: str = "%Y-%m-%d %H:%M", naive: str = "local") -> str:
            """``{{ t|when }}``: a stored time in the bureau's zone, labelled (北京时间 / CST)."""
            return show_time(value, self.zone, ctx.get("lang", "zh"), fmt, naive=naive)

        self.env.filters["when"] = when

    # ------------------------------------------------------------------ request helpers
    def lang(self, request: Request) -> str:
        wanted = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
        return wanted if wanted in LANGS else self.settings["language"]

    def ip(self, request: Request) -> str | None:
        return request.client.host if request.client else None

    def session(self, request: Request) -> tuple[User, Any] | None:
        token = unsign(self.key, request.cookies.get(SESSION_COOKIE))
        if token is None:
            return None
        now = _now()
        with self.store.engine.connect() as conn:
            row = q.session_user(conn, digest(token))
        if row is None or row.expires_at <= now:
            return None
        if (now - row.last_seen_at).total_seconds() > 60:
            with self.store.begin() as conn:
                q.touch_session(conn, row.sid, now, now + dt.timedelta(minutes=self.settings["web.session_minutes"]))
        return user_from_row(row), row

    def render(self, request: Request, template: str, *, status: int = 200, user: User | None = None,
               csrf: str | None = None, **context: Any) -> HTMLResponse:
        lang = self.lang(request)
        pre = None
        if csrf is None:
            pre = unsign(self.key, request.cookies.get(PRE_COOKIE)) or new_token()
            csrf = pre
        msg = request.query_params.get("msg")
        body = self.env.get_template(template).render(
            t=lambda key, **kw: text(lang, key, **kw), rule=lambda r, v=None, f="": rule_text(lang, r, v, f),
            bi=lambda s: _bilingual(s, lang),
            lang=lang, other_lang="en" if lang == "zh" else "zh", user=user, csrf=csrf, path=request.url.path,
            flash=text(lang, msg) if msg and msg.isidentifier() else None, **context)
        response = HTMLResponse(body, status_code=status)
        if pre is not None:
            self.cookie(request, response, PRE_COOKIE, sign(self.key, pre), max_age=3600)
        if request.query_params.get("lang") in LANGS:
            self.cookie(request, response, LANG_COOKIE, lang, max_age=365 * 86400, httponly=False)
        return response

    def cookie(self, request: Request, response: Response, name: str, value: str, *, max_age: int | None = None,
               httponly: bool = True) -> None:
        response.set_cookie(name, value, max_age=max_age, httponly=httponly, samesite="lax",
                            secure=request.url.scheme == "https", path="/")

    def check_csrf(self, request: Request, form: Any, session: tuple[User, Any] | None) -> bool:
        sent = str(form.get("csrf", "")) if form is not None else ""
        if session is not None:
            expected = session[1].csrf
        else:
            expected = unsign(self.key, request.cookies.get(PRE_COOKIE)) or ""
        import hmac

        return bool(sent) and bool(expected) and hmac.compare_digest(sent, expected)

    def error(self, request: Request, status: int, key: str, user: User | None = None) -> HTMLResponse:
        return self.render(request, "error.j2", status=status, user=user, message_key=key)

    def start_session(self, request: Request, user: User, response: Response) -> None:
        token, csrf, now = new_token(), new_token(), _now()
        with self.store.begin() as conn:
            q.delete_expired_sessions(conn, now)
            q.create_session(conn, sid_hash=digest(token), user_id=user.id, csrf=csrf, now=now,
                             expires=now + dt.timedelta(minutes=self.settings["web.session_minutes"]))
        self.cookie(request, response, SESSION_COOKIE, sign(self.key, token))

    def current_period(self) -> str:
        """The month the portal takes returns for: the newest open round, else last month."""
        with self.store.engine.connect() as conn:
            period = q.newest_open_round(conn)
        return period or str(pd.Period(_now().strftime("%Y-%m"), "M") - 1)


def _bilingual(wording: str, lang: str) -> str:
    """The Chinese or English half of a layout wording ("增加 Higher")."""
    zh, _, en = wording.strip().partition(" ")
    return zh if lang == "zh" or not en.strip() else en.strip()


Handler = Callable[[Portal, Request, Any, "tuple[User, Any] | None"], Response]


def _view(portal: Portal, handler: Handler, *, login: bool = True, roles: tuple[str, ...] | None = None
          ) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a synchronous handler: read the form, check session, role and CSRF, run it in the thread pool."""

    async def endpoint(request: Request) -> Response:
        form = None
        if request.method == "POST":
            try:
                form = await request.form(max_files=0, max_fields=200)
            except Exception:
                return PlainTextResponse("malformed form", status_code=400)

        def run() -> Response:
            session = portal.session(request)
            if login and session is None:
                if request.method == "POST" and form is not None and request.url.path.startswith("/q/"):
                    return _stash_and_login(portal, request, form)
                nxt = quote(request.url.path)
                return RedirectResponse(f"/login?next={nxt}", status_code=303)
            if request.method == "POST" and not portal.check_csrf(request, form, session):
                user = session[0] if session else None
                with portal.store.begin() as conn:
                    log_action(conn, user, "csrf_refused", ip=portal.ip(request), target=request.url.path)
                return portal.error(request, 403, "csrf", user)
            if session is not None:
                user = session[0]
                if roles is not None and user.role not in roles:
                    with portal.store.begin() as conn:
                        log_action(conn, user, "forbidden", ip=portal.ip(request), target=request.url.path)
                    return portal.error(request, 403, "forbidden", user)
                if user.must_change_password and request.url.path not in ("/password", "/logout"):
                    return RedirectResponse("/password?msg=pw_must_change", status_code=303)
            return handler(portal, request, form, session)

        def bounded() -> Response:
            with portal.slots:
                return run()

        return await run_in_threadpool(bounded)

    return endpoint


def _stash_and_login(portal: Portal, request: Request, form: Any) -> Response:
    """A form posted after the session ended: keep it in a signed cookie, restore it as a draft after sign-in."""
    data = FormData.from_form(form, form.getlist)
    stash = {"uscc": str(form.get("uscc", ""))[:18], "period": request.url.path.split("/")[2][:7],
             "form": data.to_json()}
    response = RedirectResponse(f"/login?next={quote(request.url.path)}&msg=session_expired", status_code=303)
    portal.cookie(request, response, STASH_COOKIE, sign_data(portal.key, stash, max_age=3600), max_age=3600)
    return response


def _safe_next(value: str | None) -> str:
    return value if value and value.startswith("/") and not value.startswith("//") and "\\" not in value else "/"


# ---------------------------------------------------------------------------------------------- sign-in
def home(portal: Portal, request: Request, form: Any, session: Any) -> Response:
    user = session[0]
    return RedirectResponse("/q" if user.role == "enterprise" else "/dash" if user.role in ("leader", "district")
                            else "/ops", status_code=303)


def login(portal: Portal, request: Request, form: Any, session: Any) -> Response:
    nxt = _safe_next(request.query_params.get("next"))
    if form is None:
        return portal.render(request, "login.j2", next=nxt)
    ip = portal.ip(request) or "?"
    username, password = str(form.get("username", ""))[:80], str(form.get("password", ""))[:200]
    if portal.throttle.blocked(ip):
        with portal.store.begin() as conn:
            log_action(conn, None, "login_throttled", ip=ip, username=username)
        return portal.render(request, "login.j2", status=429, next=nxt, error="throttled", username=username)
    try:
        user = accounts.authenticate(portal.store, portal.settings, username, password, ip=ip)
    except LoginError as exc:
        portal.throttle.failed(ip)
        until = show_time(exc.until, portal.zone, portal.lang(request), "%H:%M") \
            if isinstance(exc.until, dt.datetime) else ""
        return portal.render(request, "login.j2", status=401, next=nxt, error=exc.reason, until=until,
                             username=username)
    response = RedirectResponse(nxt if nxt != "/" else ("/q" if user.role == "enterprise" else "/dash" if user.role
                                                        in ("leader", "district") else "/ops"),
                                status_code=303)
    _restore_stash(portal, request, user, response)
    portal.start_session(request, user, response)
    return response


def _restore_stash(portal: Portal, request: Request, user: User, response: RedirectResponse) -> None:
    stash = unsign_data(portal.key, request.cookies.get(STASH_COOKIE))
    response.delete_cookie(STASH_COOKIE, path="/")
    if not stash or user.role != "enterprise":
        return
    with portal.store.engine.connect() as conn:
        ent = q.enterprise_by_id(conn, int(user.enterprise_id or 0))
    if ent is None or stash.get("uscc") != ent.uscc:
        return  # someone else's form: never written to this account
    period = str(stash.get("period", ""))
    questionnaire.save_draft(portal.store, user, period, FormData.from_json(str(stash.get("form", ""))),
                             ip=portal.ip(request))
    response.headers["location"] = f"/q/{period}?msg=draft_restored"


def logout(portal: Portal, request: Request, form: Any, session: Any) -> Response:
    user, row = session
    with portal.store.begin() as conn:
        q.delete_session(conn, row.sid)
        log_action(conn, user, "logout", ip=portal.ip(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def activate(portal: Portal, request: Request, form: Any, session: Any) -> Response:
    if form is None:
        return portal.render(request, "activate.j2")
    ip = portal.ip(request) or "?"
    if portal.throttle.blocked(ip):
        return portal.render(request, "activate.j2", status=429, error="throttled")
    email = str(form.get("email", "")).strip()[:200]
    if email and ("@" not in email or any(c in email for c in "\r\n,;<>\" ")):
        email = ""
    try:
        user = accounts.activate(portal.store, str(form.get("code", ""))[:40], str(form.get("password", ""))[:200],
                                 email=email or None, ip=ip)
    except LoginError as exc:
        if exc.reason == "bad_code":
            portal.throttle.failed(ip)
        return portal.render(request, "activate.j2", status=400, error=exc.reason)
    response = RedirectResponse("/q?msg=activated", status_code=303)
    portal.start_session(request, user, response)
    return response


def password(portal: Portal, request: Request, form: Any, session: Any) -> Response:
    user = session[0]
    if form is None:
        return portal.render(request, "password.j2", user=user, csrf=session[1].csrf)
    problem = accounts.change_password(portal.store, user, str(form.get("old", ""))[:200],
                                       str(form.get("new", ""))[:200], ip=portal.ip(request))
    if problem:
        return portal.render(request, "password.j2", status=400, user=user, csrf=session[1].csrf, error=problem)
    response = RedirectResponse("/login?msg=pw_changed", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# ---------------------------------------------------------------------------------------------- questionnaire
def _period_ok(period: str) -> bool:
    return len(period) == 7 and period[4] == "-" and period[:4].isdigit() and period[5:].isdigit() \
        and 1 <= int(period[5:]) <= 12


def q_redirect(portal: Portal, request: Request, form: Any, session: Any) -> Response:
    return RedirectResponse(f"/q/{portal.current_period()}", status_code=303)


def _form_context(portal: Portal, user: User, period: str, *, with_form: bool = False) -> dict[str, Any]:
    """What the questionnaire page shows, read on one connection (``with_form``: also the form to show, as
    ``loaded``: :func:`questionnaire.load_form`'s triple)."""
    with portal.store.engine.connect() as conn:
        ent = q.enterprise_by_id(conn, int(user.enterprise_id or 0))
        subs = q.submissions_of(conn, int(user.enterprise_id or 0), period)
        status = questionnaire.round_status(portal.store, portal.settings, period, conn=conn)
        form = (questionnaire.load_form(portal.store, int(user.enterprise_id or 0), period, conn=conn,
                                        submissions=subs) if with_form else None)
    return {"enterprise": ent, "period": period, "submissions": subs, "round": status, "loaded": form,
            "questions": QUESTION_TEXTS, "answer_sets": ANSWER_SETS, "figures": OPERATION_FIELDS,
            "statuses": STATUS_OPTIONS, "problems": PROBLEM_TEXTS}


def q_form(portal: Portal, request: Request, form: Any, session: Any) -> Response:
    user, row = session
    period = request.path_params["period"]
    if not _period_ok(period):
        return portal.error(request, 404, "not_found", user)
    ctx = _form_context(portal, user, period, with_form=form is None)
    if form is None:
        data, origin, seq = ctx.pop("loaded")
        return portal.render(request, "questionnaire.j2", user=user, csrf=row.csrf, data=data, origin=origin,
                             seq=seq, errors={}, warnings=[], **ctx)
    if str(form.get("uscc", "")) != ctx["enterprise"].uscc:
        # A form naming another enterprise (an edited hidden field): refused, logged as this user only.
        with portal.store.begin() as conn:
            log_action(conn, user, "forbidden", ip=portal.ip(request), target=request.url.path,
                       detail="form for another enterprise")
        return portal.error(request, 403, "forbidden", user)
    data = FormData.from_form(form, form.getlist)
    try:
        seq = int(str(form.get("seq", "0")))
    except ValueError:
        seq = 0
    action = form.get("action")
    ip = portal.ip(request)
    if action == "draft":
        problems = questionnaire.save_draft(portal.store, user, period, data, ip=ip)
        return portal.render(request, "questionnaire.j2", user=user, csrf=row.csrf, data=data, origin="draft",
                             seq=seq, errors=_by_field(problems), warnings=[], saved_at=_now(), **ctx)
    outcome = questionnaire.submit(portal.store, portal.settings, user, period, data, expected_seq=seq, ip=ip)
    if outcome.status == "submitted":
        return RedirectResponse(f"/receipt/{outcome.submission_id}?msg=submitted", status_code=303)
    ctx = _form_context(portal, user, period)
    status = {"invalid": 400, "confirm": 200, "conflict": 409, "closed": 403}[outcome.status]
    return portal.render(request, "questionnaire.j2", status=status, user=user, csrf=row.csrf, data=data,
                         origin="posted", seq=outcome.seq if outcome.status == "conflict" else seq,
                         errors=_by_field(outcome.errors), warnings=outcome.warnings, outcome=outcome.status,
                         n_errors=len(outcome.errors), **ctx)


def _by_field(issues: list[questionnaire.FieldIssue]) -> dict[str, list[questionnaire.FieldIssue]]:
    out: dict[str, list[questionnaire.FieldIssue]] = {}
    for i in issues:
        out.setdefault(i.field, []).append(i)
    return out


def receipt(portal: Portal, request: Request, form: Any, session: Any) -> Response:
    user = session[0]
    raw = request.path_params["sid"]
    pdf = raw.endswith(".pdf")
    try:
        sid = int(raw[:-4] if pdf else raw)
    except ValueError:
        return portal.error(request, 404, "not_found", user)
    data = questionnaire.receipt_data(portal.store, user, sid)
    if data is None:
        return portal.error(request, 404, "not_found", user)
    page = portal.render(request, "receipt.j2", user=user, csrf=session[1].csrf, pdf=pdf, css=portal.css,
                         questions=QUESTION_TEXTS, answer_sets=ANSWER_SETS, figures=OPERATION_FIELDS,
                         statuses=STATUS_OPTIONS, problems=PROBLEM_TEXTS, **data)
    if not pdf:
        return page
    from .receipt import html_to_pdf

    name = f"receipt-{data['receipt_no']}.pdf"
    return Response(html_to_pdf(bytes(page.body).decode("utf-8")), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def feedback_page(portal: Portal, request: Request, form: Any, session: Any) -> Response:
    user = session[0]
    fb = feedback.feedback(portal.store, portal.settings, int(user.enterprise_id or 0))
    return portal.render(request, "feedback.j2", user=user, csrf=session[1].csrf, fb=fb,
                         questions=[qt for qt in QUESTION_TEXTS if qt.code in feedback.FEEDBACK_QUESTIONS])


# ---------------------------------------------------------------------------------------------- staff
def ops(portal: Portal, request: Request, form: Any, session: Any) -> Response:
    user, row = session
    period = request.query_params.get("period") or portal.current_period()
    if not _period_ok(period):
        return portal.error(request, 404, "not_found", user)
    district = user.district_code if user.role == "district" else None
    prog = operations.progress(portal.store, period, lang=portal.lang(request), district=district)
    return portal.render(request, "ops.j2", user=user, csrf=row.csrf, prog=prog, period=period,
                         can_act=user.role in _STAFF, can_note=user.role in ("staff", "admin", "district"))


def ops_note(portal: Portal, request: Request, form: Any, session: Any) -> Response:
    user = session[0]
    period = request.path_params["period"]
    note = str(form.get("note", ""))
    if not _period_ok(period) or not note.strip() or len(note) > operations.MAX_NOTE:
        return portal.error(request, 400, "too_long_field", user)
    if not operations.add_note(portal.store, user, period, str(form.get("uscc", ""))[:18], note,
                               ip=portal.ip(request)):
        return portal.error(request, 404, "not_found", user)
    return RedirectResponse(f"/ops?period={period}&msg=note_saved", status_code=303)


def ops_remind(portal: Portal, request: Request, form: Any, session: Any) -> Response:
    user, row = session
    period = request.path_params["period"]
    if not _period_ok(period):
        return portal.error(request, 404, "not_found", user)
    queued, sent = operations.queue_reminders(portal.store, portal.settings, period, by=user, ip=portal.ip(request))
    prog = operations.progress(portal.store, period, lang=portal.lang(request))
    return portal.render(request, "ops.j2", user=user, csrf=row.csrf, prog=prog, period=period, can_act=True,
                         can_note=True, notice=text(portal.lang(request), "reminders_queued", n=queued, sent=sent))


def ops_close(portal: Portal, request: Request, form: Any, session: Any) -> Response:
    user = session[0]
    period = request.path_params["period"]
    if not _period_ok(period):
        return portal.error(request, 404, "not_found", user)
    operations.close_round(portal.store, period, by=user, ip=portal.ip(request))
    return RedirectResponse(f"/ops?period={period}&msg=done", status_code=303)


def users_page(portal: Portal, request: Request, form: Any, session: Any) -> Response:
    user, row = session
    error = None
    if form is not None:
        if user.role != "admin":
            return portal.error(request, 403, "forbidden", user)
        try:
            accounts.add_user(portal.store, username=str(form.get("username", ""))[:80],
                              role=str(form.get("role", "")), password=str(form.get("password", ""))[:200],
                              district=str(form.get("district", "")) or None, email=str(form.get("email", ""))[:200],
                              display_name=str(form.get("display_name", ""))[:120] or None, by=user,
                              ip=portal.ip(request), must_change_password=True)
            return RedirectResponse("/admin/users?msg=done", status_code=303)
        except AccountError as exc:
            error = str(exc)
    frame = accounts.list_users(portal.store)
    return portal.render(request, "users.j2", status=400 if error else 200, user=user, csrf=row.csrf,
                         users=frame.to_dict("records"), roles=ROLES, error=error)


def user_action(portal: Portal, request: Request, form: Any, session: Any) -> Response:
    user = session[0]
    name, action = request.path_params["username"], request.path_params["action"]
    try:
        if action in ("disable", "enable"):
            if user.role != "admin":
                return portal.error(request, 403, "forbidden", user)
            accounts.set_user_active(portal.store, name, action == "enable", by=user, ip=portal.ip(request))
        elif action == "reset":
            accounts.reset_password(portal.store, name, str(form.get("password", ""))[:200], by=user,
                                    ip=portal.ip(request))
        else:
            return portal.error(request, 404, "not_found", user)
    except AccountError as exc:
        frame = accounts.list_users(portal.store)
        return portal.render(request, "users.j2", status=400, user=user, csrf=session[1].csrf,
                             users=frame.to_dict("records"), roles=ROLES, error=str(exc))
    return RedirectResponse("/admin/users?msg=done", status_code=303)


def audit_page(portal: Portal, request: Request, form: Any, session: Any) -> Response:
    user, row = session
    action = request.query_params.get("action") or None
    with portal.store.engine.connect() as conn:
        entries = q.audit_entries(conn, limit=300, action=action)
    return portal.render(request, "audit.j2", user=user, csrf=row.csrf, entries=entries)


def css(portal: Portal, request: Request, form: Any, session: Any) -> Response:
    return Response(portal.css, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


def health(portal: Portal, request: Request, form: Any, session: Any) -> Response:
    return PlainTextResponse("ok")


def create_app(settings: Settings, store: Store | None = None) -> Starlette:
    """The portal on the store of ``settings`` (opened, and migrated if new, when ``store`` is not given)."""
    if store is None:
        from ..store import open_store

        store = open_store(settings)
    portal = Portal(settings, store)

    def route(path: str, handler: Handler, methods: tuple[str, ...] = ("GET",), **kw: Any) -> Route:
        return Route(path, _view(portal, handler, **kw), methods=list(methods))

    routes = [
        route("/", home),
        route("/login", login, ("GET", "POST"), login=False),
        route("/activate", activate, ("GET", "POST"), login=False),
        route("/logout", logout, ("POST",)),
        route("/password", password, ("GET", "POST")),
        route("/q", q_redirect, roles=("enterprise",)),
        route("/q/{period}", q_form, ("GET", "POST"), roles=("enterprise",)),
        route("/receipt/{sid}", receipt, roles=("enterprise",)),
        route("/feedback", feedback_page, roles=("enterprise",)),
        route("/ops", ops, roles=_OFFICIALS),
        route("/ops/{period}/note", ops_note, ("POST",), roles=("staff", "admin", "district")),
        route("/ops/{period}/remind", ops_remind, ("POST",), roles=_STAFF),
        route("/ops/{period}/close", ops_close, ("POST",), roles=_STAFF),
        route("/admin/users", users_page, ("GET", "POST"), roles=_STAFF),
        route("/admin/users/{username}/{action}", user_action, ("POST",), roles=_STAFF),
        route("/admin/audit", audit_page, roles=("admin",)),
        route("/static/portal.css", css, login=False),
        route("/healthz", health, login=False),
    ]
    routes += dashboard.routes(portal, route)  # the officials' dashboard (issue 19)
    app = Starlette(routes=routes)
    app.state.portal = portal
    app.add_middleware(_Headers)
    return app
