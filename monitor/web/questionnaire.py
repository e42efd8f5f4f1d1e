"""The enterprise's monthly questionnaire on the portal: drafts, submission, correction, receipt data.

A submission goes through the workbook path's own rules: the form is read by
:func:`collectors.survey.read_survey_form` (the item rules of a workbook row) and written by
:func:`monitor.ingest.survey.ingest_survey` (register, sample, survey window, late return, the soft checks, and
corrections that move the replaced answers to ``survey_response_history``) inside one transaction.  Any hard
error, or a soft warning without a confirmed reason, rolls that transaction back: nothing is half-written.  The
provenance row (``ingest_source`` of kind ``portal``) names the user and the time; ``portal_submission`` keeps
the form as submitted and the reasons given.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from collectors.base import Issue
from collectors.survey import read_survey_form
from collectors.survey_layout import OPERATION_FIELDS, PROBLEM_TEXTS, QUESTION_TEXTS

from ..ingest import SurveyFile, finish_source, ingest_survey, new_source, survey_window, write_issues
from ..periods import now as _now
from ..settings import Settings
from ..store import Store
from ..store import portal as q
from .accounts import User, log_action

__all__ = ["FormData", "FieldIssue", "Outcome", "QUESTION_CODES", "FIGURE_CODES", "PROBLEM_CODES", "MAX_FIGURE",
           "MAX_REASON", "load_form", "save_draft", "submit", "round_status", "RoundStatus", "receipt_data"]

QUESTION_CODES = tuple(qt.code for qt in QUESTION_TEXTS)
FIGURE_CODES = tuple(code for code, *_ in OPERATION_FIELDS)
PROBLEM_CODES = tuple(code for code, _ in PROBLEM_TEXTS)
MAX_FIGURE = 20
MAX_REASON = 500


@dataclass
class FormData:
    """The questionnaire's fields as typed (text), the problems ticked and the reasons for soft warnings."""

    answers: dict[str, str] = field(default_factory=dict)
    figures: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_form(cls, form: Mapping[str, Any], getlist: Any = None) -> FormData:
        """Read the posted fields (``q_<code>``, ``f_<code>``, ``p`` (several), ``reason__<rule>__<field>``)."""
        answers = {c: str(form.get(f"q_{c}", "") or "").strip() for c in QUESTION_CODES}
        figures = {c: str(form.get(f"f_{c}", "") or "").strip() for c in FIGURE_CODES}
        ticked = list(getlist("p")) if getlist else list(form.get("p", []) or [])
        reasons = {k[len("reason__"):]: str(v).strip() for k, v in form.items()
                   if k.startswith("reason__") and str(v).strip()}
        return cls({k: v for k, v in answers.items() if v}, {k: v for k, v in figures.items() if v},
                   [str(t) for t in ticked], reasons)

    def to_json(self) -> str:
        return json.dumps({"answers": self.answers, "figures": self.figures, "problems": self.problems,
                           "reasons": self.reasons}, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> FormData:
        data = json.loads(text) if text else {}
        return cls(dict(data.get("answers", {})), dict(data.get("figures", {})), list(data.get("problems", [])),
                   dict(data.get("reasons", {})))


@dataclass(frozen=True)
class FieldIssue:
    """A hard error or soft warning about one field (``field`` is a question, figure or problem code)."""

    field: str
    rule: str
    severity: str
    message: str
    value: str | None = None

    @property
    def key(self) -> str:
        """``rule__field``: names the reason field that confirms a warning."""
        return f"{self.rule}__{self.field}"


@dataclass
class Outcome:
    """What a submission did: ``submitted``, ``invalid`` (hard errors), ``confirm`` (soft warnings to confirm),
    ``conflict`` (another window submitted first) or ``closed`` (round closed or window over)."""

    status: str
    errors: list[FieldIssue] = field(default_factory=list)
    warnings: list[FieldIssue] = field(default_factory=list)
    submission_id: int | None = None
    seq: int = 0

    def errors_by_field(self) -> dict[str, list[FieldIssue]]:
        out: dict[str, list[FieldIssue]] = {}
        for e in self.errors:
            out.setdefault(e.field, []).append(e)
        return out


@dataclass(frozen=True)
class RoundStatus:
    """Whether the portal takes returns for a month now, and the dates that decide it."""

    period: str
    open: bool
    reason: str | None  # None, "closed", "not_begun", "window_over"
    first: dt.date
    deadline: dt.date
    close: dt.date


def round_status(store: Store, settings: Settings, period: str, *, today: dt.date | None = None,
                 conn: Connection | None = None) -> RoundStatus:
    """Open when staff have not closed the round and today is inside the survey window (the ingest rule);
    ``conn`` reads on a connection the caller holds (one checkout per request)."""
    today = today or _now().date()
    first, deadline, close = survey_window(period, deadline_day=settings["survey.deadline_day"],
                                           close_days=settings["survey.close_days"])
    if conn is not None:
        row = q.round_of(conn, period)
    else:
        with store.engine.connect() as own:
            row = q.round_of(own, period)
    reason = ("closed" if row is not None and row.status == "closed" else "not_begun" if today < first
              else "window_over" if today > close else None)
    return RoundStatus(period, reason is None, reason, first, deadline, close)


def load_form(store: Store, enterprise_id: int, period: str, *, conn: Connection | None = None,
              submissions: list[Any] | None = None) -> tuple[FormData, str, int]:
    """The form to show: the draft, else the last submission, else empty; with its origin and the number of
    submissions so far (the form carries it so that a second window's submission is recognised).  ``conn`` and
    ``submissions`` (already read by the caller) save a checkout and a query."""
    if conn is None:
        with store.engine.connect() as own:
            return load_form(store, enterprise_id, period, conn=own, submissions=submissions)
    draft = q.draft_of(conn, enterprise_id, period)
    subs = submissions if submissions is not None else q.submissions_of(conn, enterprise_id, period)
    if draft is not None:
        return FormData.from_json(draft.data), "draft", len(subs)
    if subs:
        return FormData.from_json(subs[-1].data), "submitted", len(subs)
    return FormData(), "new", 0


def save_draft(store: Store, user: User, period: str, form: FormData, *, ip: str | None) -> list[FieldIssue]:
    """Save the form as it is (even with errors, which are returned for display); an over-long field is cut."""
    form = _clip(form)
    with store.begin() as conn:
        q.save_draft(conn, int(user.enterprise_id or 0), period, form.to_json(), user.id, _now())
        log_action(conn, user, "draft_save", ip=ip, target=f"{user.username}/{period}")
    return _too_long(form)


def _clip(form: FormData) -> FormData:
    return FormData({k: v[:40] for k, v in form.answers.items()}, {k: v[:MAX_FIGURE * 5] for k, v in
                                                                   form.figures.items()},
                    [p[:40] for p in form.problems[:len(PROBLEM_CODES) + 5]],
                    {k[:80]: v[:MAX_REASON * 2] for k, v in form.reasons.items()})


def _too_long(form: FormData) -> list[FieldIssue]:
    out = [FieldIssue(code, "too_long", "error", f"{code}: {len(v)} characters, at most {MAX_FIGURE}", v[:30])
           for code, v in form.figures.items() if len(v) > MAX_FIGURE]
    out += [FieldIssue(key.split("__", 1)[-1], "reason_too_long", "error",
                       f"reason: {len(v)} characters, at most {MAX_REASON}", None)
            for key, v in form.reasons.items() if len(v) > MAX_REASON]
    return out


class _Stop(Exception):
    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome


def _key(issue: Issue) -> str:
    return f"{issue.rule}__{issue.field or 'form'}"


def _field_issue(issue: Issue) -> FieldIssue:
    return FieldIssue(issue.field or "form", issue.rule, issue.severity, issue.message,
                      None if issue.value is None else str(issue.value)[:60])


def submit(store: Store, settings: Settings, user: User, period: str, form: FormData, *, expected_seq: int,
           ip: str | None, now: dt.datetime | None = None) -> Outcome:
    """Submit (``expected_seq`` 0) or correct (``expected_seq`` = submissions seen) an enterprise's questionnaire.

    Returns an :class:`Outcome`; nothing is written unless its status is ``submitted``.
    """
    if user.role != "enterprise" or user.enterprise_id is None:
        raise PermissionError("only an enterprise account submits a questionnaire")
    now = now or _now()
    too_long = _too_long(form)
    if too_long:
        return Outcome("invalid", errors=too_long)
    eid = int(user.enterprise_id)
    with store.engine.connect() as conn:  # one checkout for both reads
        status = round_status(store, settings, period, today=now.date(), conn=conn)
        ent = q.enterprise_by_id(conn, eid) if status.reason != "closed" else None
    if status.reason == "closed":
        return Outcome("closed")
    if ent is None:
        raise PermissionError(f"enterprise {eid} of account {user.username} is no longer in the register")
    seq = expected_seq + 1
    name = f"portal/{user.username}/{period}/{seq}"
    token = secrets.token_hex(8)
    sha = hashlib.sha256(f"{name}|{now.isoformat()}|{token}".encode()).hexdigest()
    collected = read_survey_form(ent.uscc, period, form.answers, form.figures, form.problems, submitted=now.date(),
                                 name=name, sha256=sha)
    errors = [_field_issue(i) for i in collected.issues if i.severity == "error"]
    if errors:
        return Outcome("invalid", errors=errors)
    try:
        with store.begin() as conn:
            # The provenance row first: on SQLite this write takes the store's write lock, so the count below
            # and the writes after it are serialised with any other window's submission.
            source_id = new_source(conn, "portal", Path(name), sha, note=f"web portal, user {user.username}")
            done = len(q.submissions_of(conn, eid, period))
            if done != expected_seq:
                raise _Stop(Outcome("conflict", seq=done))
            sf = SurveyFile(collected, source_id)
            ingest_survey(conn, [sf], deadline_day=settings["survey.deadline_day"],
                          close_days=settings["survey.close_days"], received=now)
            issues = list(collected.issues) + sf.issues
            hard = [_field_issue(i) for i in issues if i.severity == "error"]
            if hard:
                raise _Stop(Outcome("closed" if any(e.rule in ("outside_survey_window", "future_period")
                                                    for e in hard) else "invalid", errors=hard))
            warnings = [_field_issue(i) for i in issues if i.severity == "warning"]
            unconfirmed = [w for w in warnings if len(form.reasons.get(w.key, "").strip()) < 2]
            if unconfirmed:
                raise _Stop(Outcome("confirm", warnings=warnings))
            reasons = [{"rule": w.rule, "field": w.field, "message": w.message, "reason": form.reasons[w.key]}
                       for w in warnings]
            issues = [dataclasses.replace(i, message=f"{i.message}; confirmed by {user.username}: "
                                          f"{form.reasons[_key(i)]}") if i.severity == "warning" else i
                      for i in issues]
            write_issues(conn, source_id, issues)
            read = sum(len(t) for t in collected.tables.values())
            finish_source(conn, source_id, accepted=read, rejected=0)
            sid = q.add_submission(conn, enterprise_id=eid, period=period, seq=seq, source_id=source_id,
                                   user_id=user.id, submitted_at=now, ip=ip, data=form.to_json(),
                                   reasons=json.dumps(reasons, ensure_ascii=False) if reasons else None)
            q.delete_draft(conn, eid, period)
            log_action(conn, user, "submit" if seq == 1 else "correct", ip=ip, at=now,
                       target=f"{ent.uscc}/{period}", detail=f"seq={seq} source={source_id} changed={sf.changed}"
                       + (f" confirmed={','.join(w.key for w in warnings)}" if warnings else ""))
    except _Stop as stop:
        return stop.outcome
    except IntegrityError:  # PostgreSQL: another window inserted the same (enterprise, period, seq) first
        return Outcome("conflict", seq=seq)
    return Outcome("submitted", warnings=warnings, submission_id=sid, seq=seq)


def receipt_data(store: Store, user: User, submission_id: int) -> dict[str, Any] | None:
    """What a receipt shows: the submission, the enterprise and what the store holds now; None when the
    submission is not this enterprise's (the caller answers 404)."""
    with store.engine.connect() as conn:
        if user.enterprise_id is None:
            return None
        subs = [s for s in q.submissions_of(conn, int(user.enterprise_id)) if int(s.id) == submission_id]
        if not subs:
            return None
        sub = subs[0]
        ent = q.enterprise_by_id(conn, int(user.enterprise_id))
        if ent is None:
            return None
        stored = q.current_answers(conn, int(user.enterprise_id), sub.period)
    form = FormData.from_json(sub.data)
    return {"submission": sub, "enterprise": ent, "form": form, "stored": stored,
            "reasons": json.loads(sub.reasons) if sub.reasons else [],
            "receipt_no": f"{sub.period.replace('-', '')}-{ent.uscc[-6:]}-{sub.seq:02d}"}
