"""Queueing e-mails: rendered now (in the recipient's locale), sent later by the worker."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.jobs.service import enqueue
from app.mail.models import OutboxEmail
from app.mail.rendering import render_email


def queue_email(
    db: Session,
    *,
    territory_id: int | None,
    person_id: int | None,
    to: str,
    template: str,
    context: dict[str, Any],
    locale: str | None = None,
    headers: dict[str, str] | None = None,
) -> OutboxEmail:
    """Renders ``templates/emails/<template>.txt`` (first line: subject) and queues it."""
    if any(c in to for c in "\r\n"):
        raise ValueError("line break in an e-mail address")
    # Without a known recipient language, the deployment's default locale is used.
    subject, text, html = render_email(template, context, locale or get_settings().default_locale)
    email = OutboxEmail(
        territory_id=territory_id,
        person_id=person_id,
        to_address=to,
        subject=subject,
        body_text=text,
        body_html=html,
        headers=headers or {},
    )
    db.add(email)
    db.flush()
    enqueue(db, "send_email", {"email_id": email.id})
    return email


def list_outbox(db: Session, territory_id: int, limit: int = 100) -> list[OutboxEmail]:
    """The territory's queued and sent e-mails, newest first (development outbox page)."""
    return list(
        db.scalars(
            select(OutboxEmail)
            .where(OutboxEmail.territory_id == territory_id)
            .order_by(OutboxEmail.created_at.desc(), OutboxEmail.id.desc())
            .limit(limit)
        )
    )
