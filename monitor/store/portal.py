"""The web portal's queries: accounts, sessions, activation codes, audit log, rounds, drafts, submissions,
follow-ups and the respondent's feedback series (issue 18).  Every function takes an open connection; the
caller owns the transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection, Row

from . import models as m

__all__ = [
    "create_user", "set_email", "user_by_name", "user_by_id", "list_users", "set_active", "set_password", "login_failed",
    "login_succeeded", "create_session", "session_user", "touch_session", "delete_session",
    "delete_expired_sessions", "delete_user_sessions",
    "add_activation_codes", "activation_by_hash", "use_activation", "enterprise_user", "audit", "audit_entries",
    "round_of", "newest_open_round", "open_round", "close_round", "draft_of", "save_draft", "delete_draft", "submissions_of",
    "add_submission", "enterprise_by_id", "enterprise_by_uscc", "sample_enterprises", "add_followup",
    "followups_of", "enterprise_emails", "series_values", "answers_over_time", "submitted_pairs", "current_answers",
]

_U, _S, _A, _L = (m.AppUser.__table__, m.WebSession.__table__, m.ActivationCode.__table__,
                  m.AuditLog.__table__)
_R, _D, _P, _F = (m.SurveyRound.__table__, m.PortalDraft.__table__, m.PortalSubmission.__table__,
                  m.SurveyFollowup.__table__)
_E = m.Enterprise.__table__


# --------------------------------------------------------------------------------------------- accounts
def create_user(conn: Connection, *, username: str, role: str, password_hash: str | None, now: dt.datetime,
                display_name: str | None = None, email: str | None = None, enterprise_id: int | None = None,
                district_code: str | None = None, must_change_password: bool = False) -> int:
    """Insert an account; returns its id (the unique username is enforced by the database)."""
    return int(conn.execute(_U.insert().values(
        username=username, role=role, password_hash=password_hash, display_name=display_name, email=email,
        enterprise_id=enterprise_id, district_code=district_code, active=True,
        must_change_password=must_change_password, failed_logins=0, created_at=now).returning(_U.c.id)).scalar_one())


def user_by_name(conn: Connection, username: str) -> Row | None:
    """The account named ``username`` (exact match), or None."""
    return conn.execute(select(_U).where(_U.c.username == username)).first()


def user_by_id(conn: Connection, user_id: int) -> Row | None:
    """The account with this id, or None."""
    return conn.execute(select(_U).where(_U.c.id == user_id)).first()


def enterprise_user(conn: Connection, enterprise_id: int) -> Row | None:
    """The (first) account of an enterprise, or None."""
    return conn.execute(select(_U).where(_U.c.enterprise_id == enterprise_id).order_by(_U.c.id)).first()


def list_users(conn: Connection) -> list[Row]:
    """Every account with its enterprise's credit code, by role and name."""
    return list(conn.execute(select(_U, _E.c.uscc).select_from(_U.outerjoin(_E, _E.c.id == _U.c.enterprise_id))
                             .order_by(_U.c.role, _U.c.username)).all())


def set_active(conn: Connection, user_id: int, active: bool) -> None:
    """Enable or disable an account (disabling also ends its sessions)."""
    conn.execute(_U.update().where(_U.c.id == user_id).values(active=active))
    if not active:
        delete_user_sessions(conn, user_id)


def set_email(conn: Connection, user_id: int, email: str | None) -> None:
    """Store the account's e-mail address (for reminders)."""
    conn.execute(_U.update().where(_U.c.id == user_id).values(email=email))


def set_password(conn: Connection, user_id: int, password_hash: str, *, must_change: bool) -> None:
    """Store a new password hash, clear the lock-out and end the account's sessions."""
    conn.execute(_U.update().where(_U.c.id == user_id).values(
        password_hash=password_hash, must_change_password=must_change, failed_logins=0, locked_until=None))
    delete_user_sessions(conn, user_id)


def login_failed(conn: Connection, user_id: int, *, max_attempts: int, lock_for: dt.timedelta,
                 now: dt.datetime) -> dt.datetime | None:
    """Count a wrong password (atomically); lock the account at ``max_attempts``.  Returns the lock's end."""
    conn.execute(_U.update().where(_U.c.id == user_id).values(failed_logins=_U.c.failed_logins + 1))
    failed = conn.execute(select(_U.c.failed_logins).where(_U.c.id == user_id)).scalar_one()
    if failed >= max_attempts:
        until = now + lock_for
        conn.execute(_U.update().where(_U.c.id == user_id).values(locked_until=until, failed_logins=0))
        return until
    return None


def login_succeeded(conn: Connection, user_id: int, now: dt.datetime) -> None:
    """Reset the failure count and note the login time."""
    conn.execute(_U.update().where(_U.c.id == user_id).values(failed_logins=0, locked_until=None,
                                                              last_login_at=now))


# --------------------------------------------------------------------------------------------- sessions
def create_session(conn: Connection, *, sid_hash: str, user_id: int, csrf: str, now: dt.datetime,
                   expires: dt.datetime) -> None:
    """Record a new signed-in browser."""
    conn.execute(_S.insert().values(id=sid_hash, user_id=user_id, csrf=csrf, created_at=now, last_seen_at=now,
                                    expires_at=expires))


def session_user(conn: Connection, sid_hash: str) -> Row | None:
    """The session with its (active) account's fields, or None."""
    return conn.execute(
        select(_S.c.id.label("sid"), _S.c.csrf, _S.c.expires_at, _S.c.last_seen_at, _U)
        .select_from(_S.join(_U, _U.c.id == _S.c.user_id)).where(_S.c.id == sid_hash, _U.c.active.is_(True))
    ).first()


def touch_session(conn: Connection, sid_hash: str, now: dt.datetime, expires: dt.datetime) -> None:
    """Slide the idle expiry of a session forward."""
    conn.execute(_S.update().where(_S.c.id == sid_hash).values(last_seen_at=now, expires_at=expires))


def delete_session(conn: Connection, sid_hash: str) -> None:
    """Sign a browser out."""
    conn.execute(_S.delete().where(_S.c.id == sid_hash))


def delete_expired_sessions(conn: Connection, now: dt.datetime) -> int:
    """Forget sessions past their expiry; returns how many."""
    return conn.execute(_S.delete().where(_S.c.expires_at < now)).rowcount


def delete_user_sessions(conn: Connection, user_id: int) -> None:
    """Sign every browser of an account out."""
    conn.execute(_S.delete().where(_S.c.user_id == user_id))


# --------------------------------------------------------------------------------------------- activation
def add_activation_codes(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert activation codes (``code_hash, enterprise_id, period, created_at, expires_at``)."""
    if rows:
        conn.execute(_A.insert(), rows)


def activation_by_hash(conn: Connection, code_hash: str) -> Row | None:
    """The activation code with this hash, with the enterprise's credit code and name, or None."""
    return conn.execute(select(_A, _E.c.uscc, _E.c.name_zh).select_from(_A.join(_E, _E.c.id == _A.c.enterprise_id))
                        .where(_A.c.code_hash == code_hash)).first()


def use_activation(conn: Connection, code_id: int, now: dt.datetime) -> bool:
    """Mark a code used; False when another request used it first."""
    return conn.execute(_A.update().where(_A.c.id == code_id, _A.c.used_at.is_(None)).values(used_at=now)
                        ).rowcount == 1


# --------------------------------------------------------------------------------------------- audit
def audit(conn: Connection, *, at: dt.datetime, action: str, user_id: int | None = None,
          username: str | None = None, role: str | None = None, ip: str | None = None, target: str | None = None,
          detail: str | None = None) -> None:
    """Append one audit entry (the caller never passes a password, token or session id)."""
    conn.execute(_L.insert().values(at=at, action=action, user_id=user_id, username=username, role=role, ip=ip,
                                    target=None if target is None else target[:200], detail=detail))


def audit_entries(conn: Connection, *, limit: int = 200, action: str | None = None) -> list[Row]:
    """The latest audit entries, newest first."""
    query = select(_L).order_by(_L.c.id.desc()).limit(limit)
    if action:
        query = query.where(_L.c.action == action)
    return list(conn.execute(query).all())


# --------------------------------------------------------------------------------------------- rounds
def round_of(conn: Connection, period: str) -> Row | None:
    """The portal round of a month, or None when it was never opened."""
    return conn.execute(select(_R).where(_R.c.period == period)).first()


def newest_open_round(conn: Connection) -> str | None:
    """The month of the newest open round (None when no round is open)."""
    row = conn.execute(select(_R.c.period).where(_R.c.status == "open").order_by(_R.c.period.desc())).first()
    return None if row is None else str(row[0])


def open_round(conn: Connection, period: str, now: dt.datetime) -> None:
    """Open a month's round (no-op when it exists)."""
    if round_of(conn, period) is None:
        conn.execute(_R.insert().values(period=period, status="open", opened_at=now))


def close_round(conn: Connection, period: str, by: str, now: dt.datetime) -> bool:
    """Close an open round; False when it was not open."""
    return conn.execute(_R.update().where(_R.c.period == period, _R.c.status == "open").values(
        status="closed", closed_at=now, closed_by=by)).rowcount == 1


# --------------------------------------------------------------------------------------------- drafts, submissions
def draft_of(conn: Connection, enterprise_id: int, period: str) -> Row | None:
    """The saved draft of an enterprise-month, or None."""
    return conn.execute(select(_D).where(_D.c.enterprise_id == enterprise_id, _D.c.period == period)).first()


def save_draft(conn: Connection, enterprise_id: int, period: str, data: str, user_id: int,
               now: dt.datetime) -> None:
    """Insert or replace the draft of an enterprise-month."""
    changed = conn.execute(_D.update().where(_D.c.enterprise_id == enterprise_id, _D.c.period == period).values(
        data=data, updated_at=now, updated_by=user_id)).rowcount
    if not changed:
        conn.execute(_D.insert().values(enterprise_id=enterprise_id, period=period, data=data, updated_at=now,
                                        updated_by=user_id))


def delete_draft(conn: Connection, enterprise_id: int, period: str) -> None:
    """Drop the draft once submitted."""
    conn.execute(_D.delete().where(_D.c.enterprise_id == enterprise_id, _D.c.period == period))


def submissions_of(conn: Connection, enterprise_id: int, period: str | None = None) -> list[Row]:
    """An enterprise's portal submissions (of one month, or all), oldest first, with the user's name."""
    query = (select(_P, _U.c.username).select_from(_P.join(_U, _U.c.id == _P.c.user_id))
             .where(_P.c.enterprise_id == enterprise_id).order_by(_P.c.period, _P.c.seq))
    if period is not None:
        query = query.where(_P.c.period == period)
    return list(conn.execute(query).all())


def add_submission(conn: Connection, **values: Any) -> int:
    """Insert a submission row; the unique (enterprise, period, seq) refuses a concurrent twin."""
    return int(conn.execute(_P.insert().values(**values).returning(_P.c.id)).scalar_one())


def submitted_pairs(conn: Connection, period: str) -> set[int]:
    """Enterprises with a portal submission for ``period``."""
    return set(conn.execute(select(_P.c.enterprise_id).where(_P.c.period == period).distinct()).scalars())


# --------------------------------------------------------------------------------------------- enterprises
def enterprise_by_id(conn: Connection, enterprise_id: int) -> Row | None:
    """An enterprise of the register, or None."""
    return conn.execute(select(_E).where(_E.c.id == enterprise_id)).first()


def enterprise_by_uscc(conn: Connection, uscc: str) -> Row | None:
    """An enterprise by credit code, or None."""
    return conn.execute(select(_E).where(_E.c.uscc == uscc)).first()


def sample_enterprises(conn: Connection, period: str, district: str | None = None) -> list[Row]:
    """Enterprises in the sample of ``period`` (optionally of one district), by credit code."""
    query = select(_E.c.id, _E.c.uscc, _E.c.name_zh, _E.c.district_code, _E.c.contact_name, _E.c.contact_phone
                   ).where(_E.c.panel_start <= period, (_E.c.panel_end.is_(None)) | (_E.c.panel_end >= period)
                           ).order_by(_E.c.uscc)
    if district:
        query = query.where(_E.c.district_code == district)
    return list(conn.execute(query).all())


def enterprise_emails(conn: Connection, enterprise_ids: Iterable[int]) -> dict[int, list[str]]:
    """The e-mail addresses of each enterprise's active accounts."""
    ids = sorted(set(enterprise_ids))
    out: dict[int, list[str]] = {}
    for start in range(0, len(ids), 500):
        for eid, email in conn.execute(select(_U.c.enterprise_id, _U.c.email).where(
                _U.c.enterprise_id.in_(ids[start:start + 500]), _U.c.active.is_(True), _U.c.email.is_not(None))):
            if email:
                out.setdefault(int(eid), []).append(email)
    return out


# --------------------------------------------------------------------------------------------- follow-ups
def add_followup(conn: Connection, *, enterprise_id: int, period: str, user_id: int | None, channel: str,
                 note: str, now: dt.datetime) -> None:
    """Note a phone call or reminder."""
    conn.execute(_F.insert().values(enterprise_id=enterprise_id, period=period, user_id=user_id, channel=channel,
                                    note=note, at=now))


def followups_of(conn: Connection, period: str) -> dict[int, list[Row]]:
    """The follow-up notes of a month by enterprise, oldest first, with the staff member's name."""
    out: dict[int, list[Row]] = {}
    for row in conn.execute(select(_F, _U.c.username).select_from(_F.outerjoin(_U, _U.c.id == _F.c.user_id))
                            .where(_F.c.period == period).order_by(_F.c.id)):
        out.setdefault(int(row.enterprise_id), []).append(row)
    return out


# --------------------------------------------------------------------------------------------- feedback
def series_values(conn: Connection, keys: Iterable[str], *, since: str) -> dict[str, dict[str, float | None]]:
    """The latest vintage of each series from ``since`` on: ``{key: {period: raw}}``."""
    t = m.SeriesValue.__table__
    keys = list(keys)
    latest = (select(t.c.series_key, t.c.period, func.max(t.c.vintage).label("vintage"))
              .where(t.c.series_key.in_(keys), t.c.period >= since).group_by(t.c.series_key, t.c.period).subquery())
    rows = conn.execute(select(t.c.series_key, t.c.period, t.c.raw, t.c.sa).select_from(t.join(latest, and_(
        t.c.series_key == latest.c.series_key, t.c.period == latest.c.period, t.c.vintage == latest.c.vintage))))
    out: dict[str, dict[str, float | None]] = {k: {} for k in keys}
    for key, period, raw, sa in rows:
        out[key][period] = sa if sa is not None else raw
    return out


def answers_over_time(conn: Connection, enterprise_id: int, *, since: str) -> dict[str, dict[str, int]]:
    """An enterprise's current answers from ``since`` on: ``{period: {question: answer}}``."""
    t = m.SurveyResponse.__table__
    out: dict[str, dict[str, int]] = {}
    for period, question, answer in conn.execute(select(t.c.period, t.c.question, t.c.answer).where(
            t.c.enterprise_id == enterprise_id, t.c.period >= since)):
        out.setdefault(period, {})[question] = int(answer)
    return out


def current_answers(conn: Connection, enterprise_id: int, period: str) -> Mapping[str, Any]:
    """What the store holds for an enterprise-month: answers, figures, problems and their provenance."""
    r, o, p = m.SurveyResponse.__table__, m.EnterpriseMonth.__table__, m.SurveyProblem.__table__
    answers = {q: (int(a), rev, src) for q, a, rev, src in conn.execute(select(
        r.c.question, r.c.answer, r.c.revision, r.c.source_id).where(r.c.enterprise_id == enterprise_id,
                                                                     r.c.period == period))}
    ops = conn.execute(select(o).where(o.c.enterprise_id == enterprise_id, o.c.period == period)).first()
    ticks = set(conn.execute(select(p.c.problem).where(p.c.enterprise_id == enterprise_id, p.c.period == period)
                             ).scalars())
    return {"answers": answers, "operations": ops, "problems": ticks}
