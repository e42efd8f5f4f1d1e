"""Staff survey operations: live progress by district and industry, the missing enterprises with contacts,
reminder e-mails through the notification outbox (never twice), phone follow-up notes, closing the round."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

import pandas as pd

from ..ingest import survey_window
from ..periods import now as _now
from ..settings import Settings
from ..store import Store
from ..store import alerts as alerts_q
from ..store import portal as q
from ..store.survey import answered_enterprises
from ..survey_admin import panel_for_period
from .accounts import User, log_action
from .texts import text

__all__ = ["Progress", "progress", "queue_reminders", "add_note", "close_round", "MAX_NOTE"]

MAX_NOTE = 1000


@dataclass
class Progress:
    """One month's response: by district and industry, and the enterprises still missing."""

    period: str
    sample: int
    responded: int
    by_district: pd.DataFrame
    by_industry: pd.DataFrame
    missing: pd.DataFrame
    status: str


def progress(store: Store, period: str, *, lang: str = "zh", district: str | None = None) -> Progress:
    """Live progress (an enterprise has answered when the store holds any answer of it for the month)."""
    panel = panel_for_period(store, pd.Period(period, "M"), lang=lang)
    if district:
        panel = panel[panel["district_code"] == district]
    answered = answered_enterprises(store, period)
    panel = panel.assign(responded=panel["enterprise_id"].isin(set(answered["enterprise_id"])))

    def by(col: str) -> pd.DataFrame:
        g = panel.groupby(col).agg(sample=("enterprise_id", "count"), responded=("responded", "sum"))
        g["rate"] = (g["responded"] / g["sample"]).round(3)
        return g.reset_index().sort_values(col)

    missing = panel.loc[~panel["responded"], ["enterprise_id", "uscc", "name", "district", "industry"]]
    with store.engine.connect() as conn:
        contacts = {int(r.id): (r.contact_name, r.contact_phone) for r in q.sample_enterprises(conn, period, district)}
        notes = q.followups_of(conn, period)
        emails = q.enterprise_emails(conn, missing["enterprise_id"].astype(int).tolist())
        rnd = q.round_of(conn, period)
    missing = missing.assign(
        contact=[contacts.get(int(e), (None, None))[0] for e in missing["enterprise_id"]],
        phone=[contacts.get(int(e), (None, None))[1] for e in missing["enterprise_id"]],
        email=[", ".join(emails.get(int(e), [])) for e in missing["enterprise_id"]],
        notes=[[(n.at, n.username, n.channel, n.note) for n in notes.get(int(e), [])] for e in missing["enterprise_id"]],
    ).reset_index(drop=True)
    return Progress(period, len(panel), int(panel["responded"].sum()), by("district"), by("industry"), missing,
                    "none" if rnd is None else rnd.status)


def _reminder(settings: Settings, *, name: str, uscc: str, period: str, deadline: dt.date,
              recipients: list[str], now: dt.datetime) -> EmailMessage:
    lang = settings["language"]
    city = settings["publish.city_zh"] if lang == "zh" else settings["publish.city_en"]
    issuer = settings["publish.issuer_zh"] if lang == "zh" else settings["publish.issuer_en"]
    msg = EmailMessage()
    msg["Subject"] = text(lang, "reminder_subject", city=city, deadline=deadline, period=period)
    msg["From"] = formataddr(("imon", settings["smtp.sender"]))
    msg["To"] = ", ".join(recipients)
    msg["Message-ID"] = make_msgid(domain=settings["smtp.sender"].split("@")[-1] or "imon.invalid")
    msg["Date"] = format_datetime(now.astimezone())  # the server's clock with its true offset
    # The enterprise's name is untrusted text: a plain-text body, no HTML, no header built from it.
    msg.set_content(text(lang, "reminder_body", name=name, period=period, deadline=deadline,
                         url=settings["web.base_url"], issuer=issuer))
    return msg


def queue_reminders(store: Store, settings: Settings, period: str, *, by: User | None, ip: str | None,
                    district: str | None = None, deliver_now: bool = True) -> tuple[int, int]:
    """Queue one reminder per missing enterprise with an e-mail address (never a second one for the same month:
    the outbox's ``dedup_key``), then deliver the queue.  Returns (queued now, sent now)."""
    prog = progress(store, period, district=district)
    _, deadline, _ = survey_window(period, deadline_day=settings["survey.deadline_day"],
                                   close_days=settings["survey.close_days"])
    now = _now()
    queued = 0
    with store.begin() as conn:
        for rec in prog.missing.itertuples():
            recipients = [a.strip() for a in rec.email.split(",") if a.strip()]
            if not recipients:
                continue
            dedup = hashlib.sha256(f"portal-reminder|{period}|{rec.uscc}".encode()).hexdigest()
            if alerts_q.digest_queued(conn, dedup):
                continue
            msg = _reminder(settings, name=rec.name, uscc=rec.uscc, period=period, deadline=deadline,
                            recipients=recipients, now=now)
            alerts_q.queue_digest(conn, dict(
                dedup_key=dedup, recipient_group=f"enterprise:{rec.uscc}", recipients=",".join(recipients),
                subject=str(msg["Subject"]), language=settings["language"], message_id=str(msg["Message-ID"]),
                mime=msg.as_string(), status="queued", attempts=0, created_at=now), [])
            q.add_followup(conn, enterprise_id=int(rec.enterprise_id), period=period,
                           user_id=by.id if by else None, channel="email", note="reminder e-mail queued", now=now)
            queued += 1
        log_action(conn, by, "reminders", ip=ip, target=period, detail=f"queued={queued}"
                   + (f" district={district}" if district else ""))
    sent = 0
    if deliver_now:
        from ..alerts import deliver

        sent = len(deliver(store, settings).sent)
    return queued, sent


def add_note(store: Store, user: User, period: str, uscc: str, note: str, *, ip: str | None) -> bool:
    """Note a phone follow-up; False when the enterprise is not in the user's scope (a district official's)."""
    with store.begin() as conn:
        ent = q.enterprise_by_uscc(conn, uscc)
        if ent is None or (user.role == "district" and ent.district_code != user.district_code):
            return False
        q.add_followup(conn, enterprise_id=int(ent.id), period=period, user_id=user.id, channel="phone",
                       note=note.strip()[:MAX_NOTE], now=_now())
        log_action(conn, user, "followup_note", ip=ip, target=f"{uscc}/{period}")
    return True


def close_round(store: Store, period: str, *, by: User | None, ip: str | None) -> bool:
    """Close a month's portal round (opening it first if it never was); False when it was already closed."""
    now = _now()
    with store.begin() as conn:
        q.open_round(conn, period, now)
        done = q.close_round(conn, period, by.username if by else "cli", now)
        log_action(conn, by, "round_close", ip=ip, target=period, detail=None if done else "already closed")
    return done
