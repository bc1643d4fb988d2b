"""Whether content is hidden by a moderator, in SQL and in Python.

Imported by the permissions of the domains whose content can be hidden (initiatives, photos):
it depends on the moderation models only, so that those permissions never import services.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from app.moderation.models import HiddenContent


def hidden_clause(subject_type: str, public_id: ColumnElement[Any] | Any) -> ColumnElement[bool]:
    """True for the rows whose ``public_id`` column names content hidden by a moderator."""
    return exists().where(HiddenContent.subject_type == subject_type, HiddenContent.subject_id == public_id)


def is_hidden(db: Session, subject_type: str, public_id: str) -> bool:
    # No autoflush: permission checks run in the middle of services, with half-built rows pending.
    with db.no_autoflush:
        return bool(db.scalar(select(hidden_clause(subject_type, public_id))))


def hidden_among(db: Session, subject_type: str, public_ids: list[str]) -> set[str]:
    """Which of these pieces of content are hidden, in one query."""
    if not public_ids:
        return set()
    with db.no_autoflush:
        return set(
            db.scalars(
                select(HiddenContent.subject_id).where(
                    HiddenContent.subject_type == subject_type, HiddenContent.subject_id.in_(public_ids)
                )
            )
        )
