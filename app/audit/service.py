"""Writing audit entries; called by services inside the transaction that makes the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.core.actor import Actor


def record(
    db: Session,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: str | int,
    *,
    territory_id: int | None,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        territory_id=territory_id,
        actor_person_id=actor.person_id,
        actor_label=actor.label,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        reason=reason,
        data=data or {},
    )
    db.add(entry)
    db.flush()
    return entry
