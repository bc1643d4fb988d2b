"""Delivering queued e-mails: SMTP in production, ``.eml`` files in development, a list in tests.

The worker calls :func:`send_outbox_email` for each ``send_email`` job. Sending is idempotent on
our side: an e-mail whose ``sent_at`` is set is never sent again, and ``sent_at`` is written in the
same transaction that marks the job done.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db.base import utcnow
from app.mail.models import OutboxEmail

log = logging.getLogger("cailloux.mail")

# The memory backend's "mailbox", read by tests.
sent_messages: list[EmailMessage] = []

# Headers an outbox row may not set itself: they are ours.
RESERVED_HEADERS = frozenset({"from", "to", "subject", "date", "message-id", "content-type", "mime-version"})


def mask_address(address: str) -> str:
    """``habitante@loos.example`` -> ``h***@loos.example``, for logs."""
    local, at, domain = address.partition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


def build_message(email: OutboxEmail, settings: Settings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = email.to_address
    message["Subject"] = email.subject
    message["Date"] = format_datetime(email.created_at)
    domain = settings.mail_from.rpartition("@")[2].rstrip(">").strip() or "cailloux.localhost"
    message["Message-ID"] = make_msgid(idstring=f"outbox{email.id}", domain=domain)
    for name, value in (email.headers or {}).items():
        if name.lower() in RESERVED_HEADERS:
            continue
        # EmailMessage refuses CR/LF in header values: an injected header cannot get through.
        message[name] = str(value)
    message.set_content(email.body_text)
    if email.body_html:
        message.add_alternative(email.body_html, subtype="html")
    return message


def _send_smtp(message: EmailMessage, settings: Settings) -> None:
    if not settings.smtp_host:
        raise RuntimeError("CAILLOUX_SMTP_HOST is not set")
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            smtp.login(settings.smtp_username, password)
        smtp.send_message(message)


def _send_file(message: EmailMessage, email: OutboxEmail, settings: Settings) -> None:
    outbox = settings.var_dir / "outbox"
    outbox.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S")
    (outbox / f"{stamp}-{email.id}.eml").write_bytes(bytes(message))
    log.info("mail to %s: %s", mask_address(email.to_address), email.subject)


def deliver(email: OutboxEmail, settings: Settings) -> None:
    """Sends one e-mail through the configured backend (no database change)."""
    message = build_message(email, settings)
    if settings.mail_backend == "smtp":
        _send_smtp(message, settings)
    elif settings.mail_backend == "file":
        _send_file(message, email, settings)
    else:
        sent_messages.append(message)


def send_outbox_email(db: Session, email_id: int, settings: Settings) -> bool:
    """Sends the outbox e-mail ``email_id`` unless already sent; True if it was sent now."""
    query = select(OutboxEmail).where(OutboxEmail.id == email_id)
    if db.get_bind().dialect.name != "sqlite":
        query = query.with_for_update()
    email = db.scalar(query)
    if email is None:
        # Deleted since (territory removed, account erased): nothing left to send.
        log.info("outbox e-mail %s no longer exists", email_id)
        return False
    if email.sent_at is not None:
        return False
    deliver(email, settings)
    email.sent_at = utcnow()
    db.flush()
    return True
