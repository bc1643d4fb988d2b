"""Who may report content and who moderates it.

Anyone, signed in or not, reports what the public sees. The territory's staff (agents, the
executive, administrators: the people who answer for the town's pages) hide and restore it.
"""

from __future__ import annotations

from app.core.actor import Actor
from app.initiatives import permissions as perm
from app.moderation.subjects import Subject


def can_report(subject: Subject) -> bool:
    return subject.reportable


def can_moderate(actor: Actor | None, territory_id: int) -> bool:
    return perm.is_staff(actor, territory_id)


def can_hide(actor: Actor | None, subject: Subject) -> bool:
    return can_moderate(actor, subject.territory_id) and not subject.hidden


def can_restore(actor: Actor | None, subject: Subject) -> bool:
    return can_moderate(actor, subject.territory_id) and subject.hidden
