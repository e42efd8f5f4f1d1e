"""Accounts, sign-in, lock-out, activation codes and the audit log: library functions the portal and the CLI call.

Roles: ``enterprise`` (its own questionnaire only; the user name is its credit code), ``staff`` (survey
operations, password resets), ``district`` (one district's progress, read-only but for follow-up notes),
``leader`` (the whole city, read-only) and ``admin`` (accounts and everything staff do).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from collectors.exceptions import InvalidCodeError
from collectors.uscc import validate_uscc

from ..periods import now as _now
from ..reference import DISTRICTS
from ..settings import Settings
from ..store import Store
from ..store import portal as q
from .exceptions import AccountError, InviteError, LoginError
from .security import activation_code, check_password_rules, digest, hash_password, normalise_code, verify_password

__all__ = ["ROLES", "User", "add_user", "list_users", "set_user_active", "reset_password", "change_password",
           "authenticate", "Invitation", "invite", "activate", "log_action", "user_from_row"]

ROLES = ("enterprise", "staff", "district", "leader", "admin")
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{2,79}$")


@dataclass(frozen=True)
class User:
    """A signed-in account as the portal sees it."""

    id: int
    username: str
    role: str
    enterprise_id: int | None
    district_code: str | None
    display_name: str | None
    email: str | None
    must_change_password: bool = False


def user_from_row(row: Any) -> User:
    """A :class:`User` from an ``app_user`` row."""
    return User(int(row.id), row.username, row.role, row.enterprise_id, row.district_code, row.display_name,
                row.email, bool(row.must_change_password))


def log_action(conn: Connection, user: User | None, action: str, *, ip: str | None, target: str | None = None,
               detail: str | None = None, username: str | None = None, at: dt.datetime | None = None) -> None:
    """One audit entry: who (the user, or the name tried), when, from where, what.  Never pass a secret."""
    q.audit(conn, at=at or _now(), action=action, user_id=user.id if user else None,
            username=user.username if user else (username[:80] if username else None),
            role=user.role if user else None, ip=ip, target=target, detail=detail)


def _district(code: str | None) -> str | None:
    if code is None or code == "":
        return None
    if code not in {d.code for d in DISTRICTS}:
        raise AccountError(f"district {code!r} is not one of the city's districts "
                           f"({', '.join(d.code for d in DISTRICTS)})")
    return code


def add_user(store: Store, *, username: str, role: str, password: str | None, district: str | None = None,
             uscc: str | None = None, display_name: str | None = None, email: str | None = None,
             by: User | None = None, ip: str | None = None, must_change_password: bool = False) -> User:
    """Create an account.

    Raises
    ------
    AccountError
        Unknown role, a malformed or taken user name, a district official without a district, an enterprise
        account without a known credit code, or a password that breaks the rules.
    """
    if role not in ROLES:
        raise AccountError(f"role {role!r} is not one of {', '.join(ROLES)}")
    district = _district(district)
    if role == "district" and district is None:
        raise AccountError("a district official needs --district (the district code, e.g. 440103)")
    enterprise_id = None
    with store.begin() as conn:
        if role == "enterprise":
            try:
                code = validate_uscc(uscc or username)
            except InvalidCodeError as exc:
                raise AccountError(f"enterprise account: {exc}") from None
            ent = q.enterprise_by_uscc(conn, code)
            if ent is None:
                raise AccountError(f"credit code {code} is not in the enterprise register; register it first")
            enterprise_id, username = int(ent.id), code
        elif not _USERNAME.match(username or ""):
            raise AccountError(f"user name {username!r} must be 3-80 letters, digits or . _ @ - (starting with a "
                               "letter or digit)")
        if password is not None:
            rule = check_password_rules(password, username)
            if rule:
                raise AccountError(f"password refused ({_RULE_TEXT[rule]}); choose another")
        try:
            uid = q.create_user(conn, username=username, role=role,
                                password_hash=hash_password(password) if password else None, now=_now(),
                                display_name=display_name, email=email or None, enterprise_id=enterprise_id,
                                district_code=district, must_change_password=must_change_password)
        except IntegrityError:
            raise AccountError(f"user name {username!r} is taken; pick another or reset that account's "
                               "password") from None
        user = user_from_row(q.user_by_id(conn, uid))
        log_action(conn, by, "user_add", ip=ip, target=username, detail=f"role={role}"
                   + (f" district={district}" if district else ""))
    return user


_RULE_TEXT = {"pw_short": "at least 10 characters", "pw_long": "at most 128 characters",
              "pw_username": "not the user name"}


def list_users(store: Store) -> pd.DataFrame:
    """Every account: user name, role, enterprise, district, active, locked until, last login."""
    with store.engine.connect() as conn:
        rows = q.list_users(conn)
    return pd.DataFrame([{"username": r.username, "role": r.role, "uscc": r.uscc, "district": r.district_code,
                          "email": r.email, "active": bool(r.active), "locked_until": r.locked_until,
                          "last_login": r.last_login_at} for r in rows],
                        columns=["username", "role", "uscc", "district", "email", "active", "locked_until",
                                 "last_login"])


def _require(conn: Connection, username: str) -> Any:
    row = q.user_by_name(conn, username)
    if row is None:
        raise AccountError(f"no account named {username!r}; `imon users list` shows them")
    return row


def set_user_active(store: Store, username: str, active: bool, *, by: User | None = None,
                    ip: str | None = None) -> None:
    """Disable (ending its sessions) or re-enable an account."""
    with store.begin() as conn:
        row = _require(conn, username)
        q.set_active(conn, int(row.id), active)
        log_action(conn, by, "user_enable" if active else "user_disable", ip=ip, target=username)


def reset_password(store: Store, username: str, password: str, *, by: User | None = None, ip: str | None = None,
                   scope_district: str | None = None) -> None:
    """Staff set a temporary password; the user must choose a new one at the next sign-in.

    ``scope_district`` limits a reset to the enterprises of one district.
    """
    with store.begin() as conn:
        row = _require(conn, username)
        if by is not None and by.role == "staff" and row.role in ("admin", "staff"):
            raise AccountError("staff may reset enterprise, district and leader accounts; ask an administrator")
        rule = check_password_rules(password, username)
        if rule:
            raise AccountError(f"password refused ({_RULE_TEXT[rule]}); choose another")
        q.set_password(conn, int(row.id), hash_password(password), must_change=True)
        log_action(conn, by, "password_reset", ip=ip, target=username)


def change_password(store: Store, user: User, old: str, new: str, *, ip: str | None = None) -> str | None:
    """The user's own change; returns a catalogue key of the broken rule, or None when done."""
    with store.begin() as conn:
        row = q.user_by_id(conn, user.id)
        if row is None or not verify_password(row.password_hash, old):
            return "pw_wrong_old"
        rule = check_password_rules(new, user.username)
        if rule:
            return rule
        if new == old:
            return "pw_same"
        q.set_password(conn, user.id, hash_password(new), must_change=False)
        log_action(conn, user, "password_change", ip=ip, target=user.username)
    return None


def authenticate(store: Store, settings: Settings, username: str, password: str, *, ip: str | None) -> User:
    """Check a sign-in; counts failures and locks the account after ``web.lockout_attempts`` in a row.

    Raises
    ------
    LoginError
        ``bad_login`` (unknown name or wrong password: the same answer for both), ``locked`` (with the lock's
        end) or ``disabled``.
    """
    now = _now()
    username = (username or "").strip()[:80]
    refusal: LoginError | None = None
    with store.begin() as conn:  # the failure count and the audit entry are committed, then the error raised
        row = q.user_by_name(conn, username)
        if row is None and len(username) == 18:
            row = q.user_by_name(conn, username.upper())
        if row is None:
            verify_password(None, password)
            log_action(conn, None, "login_failed", ip=ip, username=username, detail="unknown user")
            refusal = LoginError("bad_login", "wrong user name or password")
        elif not row.active:
            log_action(conn, user_from_row(row), "login_refused", ip=ip, detail="account disabled")
            refusal = LoginError("disabled", "this account is disabled; ask the bureau")
        elif row.locked_until is not None and row.locked_until > now:
            log_action(conn, user_from_row(row), "login_refused", ip=ip,
                       detail=f"locked until {row.locked_until:%H:%M}")
            refusal = LoginError("locked", f"too many wrong passwords: locked until {row.locked_until:%H:%M}",
                                 until=row.locked_until)
        elif not verify_password(row.password_hash, password):
            user = user_from_row(row)
            until = q.login_failed(conn, user.id, max_attempts=settings["web.lockout_attempts"],
                                   lock_for=dt.timedelta(minutes=settings["web.lockout_minutes"]), now=now)
            log_action(conn, user, "login_failed", ip=ip, detail="wrong password" + (
                f"; locked until {until:%Y-%m-%d %H:%M}" if until else ""))
            refusal = (LoginError("locked", f"too many wrong passwords: locked until {until:%H:%M}", until=until)
                       if until is not None else LoginError("bad_login", "wrong user name or password"))
        else:
            user = user_from_row(row)
            q.login_succeeded(conn, user.id, now)
            log_action(conn, user, "login", ip=ip)
    if refusal is not None:
        raise refusal
    return user


@dataclass(frozen=True)
class Invitation:
    """One enterprise's activation code for the survey letter (shown once: the store keeps only its digest)."""

    uscc: str
    name: str
    district: str
    contact: str | None
    code: str
    expires: dt.datetime


def invite(store: Store, settings: Settings, period: str, *, district: str | None = None,
           by: User | None = None, ip: str | None = None, only_new: bool = False) -> list[Invitation]:
    """Activation codes for the enterprises in the sample of ``period`` (one district or all); opens the round.

    ``only_new`` skips enterprises that already have an account.  Codes from earlier invitations stay valid
    until they expire or are used.

    Raises
    ------
    InviteError
        A malformed month, an unknown district, or no enterprise in that sample.
    """
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period or ""):
        raise InviteError(f"--period {period!r} is not a month YYYY-MM")
    try:
        district = _district(district)
    except AccountError as exc:
        raise InviteError(str(exc)) from None
    now = _now()
    expires = now + dt.timedelta(days=settings["web.activation_days"])
    out: list[Invitation] = []
    with store.begin() as conn:
        sample = q.sample_enterprises(conn, period, district)
        if not sample:
            raise InviteError(f"no enterprise is in the sample for {period}"
                              + (f" in district {district}" if district else "")
                              + "; load the register or pick another month")
        q.open_round(conn, period, now)
        rows = []
        for ent in sample:
            if only_new and q.enterprise_user(conn, int(ent.id)) is not None:
                continue
            code = activation_code()
            rows.append({"code_hash": digest(code), "enterprise_id": int(ent.id), "period": period,
                         "created_at": now, "expires_at": expires})
            out.append(Invitation(ent.uscc, ent.name_zh, ent.district_code, ent.contact_name, code, expires))
        q.add_activation_codes(conn, rows)
        log_action(conn, by, "invite", ip=ip, target=period, detail=f"{len(rows)} codes"
                   + (f" district={district}" if district else ""))
    return out


def activate(store: Store, code: str, password: str, *, email: str | None, ip: str | None) -> User:
    """An enterprise's first sign-in: a valid unused code creates (or re-keys) its account.

    Raises
    ------
    LoginError
        ``bad_code`` (unknown, used or expired code) or a password rule key.
    """
    now = _now()
    with store.begin() as conn:
        row = q.activation_by_hash(conn, digest(normalise_code(code or "")))
        if row is None or row.used_at is not None or row.expires_at < now:
            bad = "unknown code" if row is None else "used code" if row.used_at else "expired code"
            row = None
        if row is None:
            log_action(conn, None, "activation_failed", ip=ip, detail=bad)
    if row is None:
        raise LoginError("bad_code", "the activation code is unknown, used or expired; ask the bureau for a new one")
    with store.begin() as conn:
        rule = check_password_rules(password, row.uscc)
        if rule:
            raise LoginError(rule, f"password refused ({_RULE_TEXT.get(rule, rule)})")
        if not q.use_activation(conn, int(row.id), now):
            raise LoginError("bad_code", "the activation code was used a moment ago")
        existing = q.enterprise_user(conn, int(row.enterprise_id))
        if existing is None:
            uid = q.create_user(conn, username=row.uscc, role="enterprise", password_hash=hash_password(password),
                                now=now, display_name=row.name_zh, email=(email or None),
                                enterprise_id=int(row.enterprise_id))
        else:
            uid = int(existing.id)
            q.set_password(conn, uid, hash_password(password), must_change=False)
            q.set_active(conn, uid, True)
        user = user_from_row(q.user_by_id(conn, uid))
        if email:
            q.set_email(conn, uid, email[:200])
        q.login_succeeded(conn, uid, now)
        log_action(conn, user, "activate", ip=ip, target=row.uscc, detail=f"period={row.period}")
    return user
