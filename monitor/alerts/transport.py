"""Deliver queued digests: a file outbox or SMTP (STARTTLS or SSL), with retries and a log of every attempt.

A message is queued in ``notification_message`` before any attempt, so nothing is lost: a message that fails
every attempt of a run stays ``queued`` and goes out on the next run.  It is marked ``sent`` in the same step that
logs the successful attempt, so it is never sent twice after a success (a crash between the server's acceptance
and that commit is the one window where a duplicate is possible; the outbox transport closes it by writing each
message to a file named after its id, once).

Delivery is tracked per recipient: the server may accept some recipients of a message and refuse others.  Every
attempt logs who was accepted (a ``sent`` row of ``notification``) and who was refused (a ``failed`` row with the
server's reply); the message is ``sent`` only when every recipient has accepted it, and later attempts go to the
recipients still owed it, never again to those who have it.  A refusal with a 5xx reply (no such mailbox, relay
denied, a login refused) is permanent: it is not retried within the run and is reported as such; a 4xx reply or a
lost connection is retried with backoff.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ..settings import Settings
from ..store import Store
from ..store import alerts as q

__all__ = ["Transport", "OutboxTransport", "SmtpTransport", "SmtpError", "make_transport", "deliver",
           "DeliveryReport", "outbox_dir"]

log = logging.getLogger(__name__)


class Transport(Protocol):
    """Something that hands one message to the outside world, raising on failure."""

    channel: str

    def send(self, message_id: int, group: str, sender: str, recipients: list[str],
             data: bytes) -> dict[str, str] | None:
        """Deliver ``data`` (an RFC 5322 message) to ``recipients``; return the refused ones (address -> the
        server's reply starting with its code), or None/empty when all accepted it."""


def outbox_dir(settings: Settings) -> Path:
    """The outbox folder (``alerts.outbox_dir`` or ``<data_dir>/outbox``)."""
    configured = settings["alerts.outbox_dir"]
    return Path(configured).expanduser().resolve() if configured else settings.data_dir / "outbox"


class OutboxTransport:
    """Writes each message as ``<outbox>/<id>-<group>.eml`` (atomically; a file already there is not rewritten)."""

    channel = "outbox"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message_id: int, group: str, sender: str, recipients: list[str],
             data: bytes) -> dict[str, str] | None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"{message_id:06d}-{group}.eml"
        if target.exists():
            return None
        tmp = target.with_suffix(".eml.tmp")
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(target)
        return None


class SmtpTransport:
    """One SMTP connection per message: STARTTLS, SSL or plain (loopback relays), login when configured."""

    channel = "smtp"

    def __init__(self, host: str, port: int, *, security: str = "starttls", username: str = "", password: str = "",
                 timeout: float = 30.0) -> None:
        self.host, self.port, self.security = host, port, security
        self.username, self.password, self.timeout = username, password, timeout

    def send(self, message_id: int, group: str, sender: str, recipients: list[str],
             data: bytes) -> dict[str, str] | None:
        server = f"{self.host}:{self.port} ({self.security})"
        try:
            refused = self._send(sender, recipients, data)
        except smtplib.SMTPRecipientsRefused as exc:  # every recipient refused
            return {r: f"{code} {_text(reply)}" for r, (code, reply) in exc.recipients.items()}
        except smtplib.SMTPSenderRefused as exc:
            raise SmtpError(f"the SMTP server {server} refused the sender {exc.sender!r} ({exc.smtp_code} "
                            f"{_text(exc.smtp_error)}): check smtp.sender", retry=exc.smtp_code < 500) from None
        except smtplib.SMTPDataError as exc:
            raise SmtpError(f"the SMTP server {server} refused the message ({exc.smtp_code} "
                            f"{_text(exc.smtp_error)})", retry=exc.smtp_code < 500) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise SmtpError(f"the SMTP server {server} refused the login of {self.username!r} ({exc.smtp_code} "
                            f"{_text(exc.smtp_error)}): check smtp.username and the password in the environment "
                            "variable IMON_SMTP_PASSWORD", retry=False) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise SmtpError(f"the SMTP server {server} does not support {_text(exc)}: check smtp.security "
                            "(starttls on 587, ssl on 465) and smtp.username", retry=False) from None
        except ssl.SSLCertVerificationError as exc:
            raise SmtpError(f"the certificate of the SMTP server {server} could not be verified "
                            f"({exc.verify_message}): check smtp.host, or trust the server's CA "
                            "(SSL_CERT_FILE)", retry=False) from None
        except ssl.SSLError as exc:
            raise SmtpError(f"TLS with the SMTP server {server} failed ({exc.reason or exc}): check smtp.security "
                            "(starttls on 587, ssl on 465) and smtp.port", retry=False) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise SmtpError(f"the SMTP server {server}: {type(exc).__name__}: {_text(exc)}") from None
        return {r: f"{code} {_text(reply)}" for r, (code, reply) in refused.items()}

    def _send(self, sender: str, recipients: list[str], data: bytes) -> dict[str, tuple[int, bytes]]:
        context = ssl.create_default_context()
        if self.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            client.ehlo()
            if self.security == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if self.username:
                client.login(self.username, self.password)
            # sendmail returns the recipients the server refused while it accepted others: they are not sent
            return client.sendmail(sender, recipients, re.sub(rb"\r?\n", b"\r\n", data))  # SMTP wants CRLF
        finally:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()


class SmtpError(smtplib.SMTPException):
    """A delivery failure, said in one line that names the server and the setting to check.

    ``retry`` is False for failures that trying again cannot mend (login refused, certificate, TLS mode).
    """

    def __init__(self, message: str, *, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


def _text(value: object) -> str:
    """One line of an SMTP reply or exception (bytes decoded, line breaks folded)."""
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return " ".join(text.split())


def make_transport(settings: Settings) -> Transport:
    """The transport ``alerts.transport`` names.

    Raises
    ------
    ConfigError
        ``smtp`` without ``smtp.host``.
    """
    if settings["alerts.transport"] == "smtp":
        if not settings["smtp.host"]:
            from ..exceptions import ConfigError

            raise ConfigError("alerts.transport = smtp needs smtp.host (and smtp.port, smtp.security); set them in "
                              "the config file, or use alerts.transport = outbox")
        return SmtpTransport(settings["smtp.host"], settings["smtp.port"], security=settings["smtp.security"],
                             username=settings["smtp.username"], password=settings["smtp.password"],
                             timeout=settings["smtp.timeout"])
    return OutboxTransport(outbox_dir(settings))


@dataclass
class DeliveryReport:
    """What one delivery run did.

    ``sent``: messages every recipient now has; ``failed``: messages still owed to someone, with why;
    ``permanent``: those of them refused for good (5xx: a wrong address, a denied relay), not retried in the run;
    ``refused``: recipient -> the server's reply, for every refusal of the run.
    """

    sent: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    attempts: int = 0
    permanent: list[int] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)

    @property
    def pending(self) -> int:
        return len(self.failed)


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def deliver(store: Store, settings: Settings, transport: Transport | None = None, *,
            sleep: Callable[[float], None] = time.sleep) -> DeliveryReport:
    """Send every queued message, oldest first, retrying each ``smtp.retries`` times with doubling backoff.

    When a message fails every attempt the run stops there (the server is likely gone); it and the ones after
    it stay queued for the next run.  Every attempt is a row of ``notification``.
    """
    transport = transport or make_transport(settings)
    retries, backoff = settings["smtp.retries"], settings["smtp.backoff"]
    sender = settings["smtp.sender"]
    report = DeliveryReport()
    queued = q.queued_digests(store)
    delivered = q.delivered_recipients(store, [r.id for r in queued])
    for row in queued:
        owed = [a for a in row.recipients.split(",") if a and a not in delivered.get(row.id, set())]
        data = row.mime.encode("utf-8")
        error, permanent, tries = None, False, 0
        for attempt in range(retries):
            tries = attempt + 1
            permanent = False
            started = _now()
            refused: dict[str, str] = {}
            try:
                refused = dict(transport.send(row.id, row.recipient_group, sender, owed, data) or {})
                error = None
            except SmtpError as exc:
                error, permanent = str(exc), not exc.retry
            except (smtplib.SMTPException, OSError) as exc:
                error = f"{type(exc).__name__}: {_text(exc)}"
            accepted = [] if error else [a for a in owed if a not in refused]
            if refused:
                report.refused.update(refused)
                permanent = all(reply[:1] == "5" for reply in refused.values())
                error = "; ".join(f"{a} refused by the server ({reply})" for a, reply in refused.items())
                if permanent:
                    error = ("permanent failure: " + error + "; check these addresses in alerts.recipients (the "
                             "others received it)" if accepted else "permanent failure: " + error +
                             "; check these addresses in alerts.recipients")
            report.attempts += 1
            owed = [a for a in owed if a not in accepted]
            q.record_attempt(store, row.id, channel=transport.channel, accepted=accepted, owed=owed, started=started,
                             error=error)
            fields = {"message_id": row.id, "group": row.recipient_group, "channel": transport.channel,
                      "attempt": attempt + 1, "status": "failed" if owed else "sent", "accepted": len(accepted),
                      "refused": len(refused), "error": error if owed else None}
            log.info("notification attempt %s", " ".join(f"{k}={v}" for k, v in fields.items()), extra=fields)
            if not owed:
                report.sent.append(row.id)
                error = None
                break
            if permanent:  # trying again cannot help: the message stays queued (for those owed) until fixed
                break
            if attempt + 1 < retries:
                sleep(backoff * 2 ** attempt)
        if error is not None:
            report.failed[row.id] = error
            if permanent:
                report.permanent.append(row.id)
                log.warning("message %s to %s: %s; it stays queued for %s", row.id, row.recipient_group, error,
                            ", ".join(owed))
                if refused:
                    continue  # the server works and refused only some addresses: the next messages still go out
                break  # a login, TLS or sender refusal: every message would meet it
            log.warning("message %s to %s not sent after %s attempt(s) (%s); it stays queued for the next run",
                        row.id, row.recipient_group, tries, error)
            break
    if report.failed:
        for mid in q.queued_digest_ids(store):
            report.failed.setdefault(mid, "not attempted: an earlier message failed, the server is likely down")
    return report
