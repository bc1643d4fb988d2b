"""Close-out test data: the review world, with initiatives set directly in the state a test needs
(delivered, evaluated) and their convention signed on a chosen day."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.conventions.models import Convention, ConventionKind, ConventionTemplate
from app.db.base import utcnow
from app.db.session import unit_of_work
from app.initiatives.models import Initiative, InitiativeState
from app.notifications.models import Notification
from tests.conventions.conftest import add_member
from tests.review.conftest import World, actor, world

__all__ = ["World", "actor", "add_member", "world"]

S = InitiativeState


def delivered(world: World, **kwargs: Any) -> Initiative:
    """A delivered initiative (state set directly), its agent assigned."""
    initiative = world.initiative(S.DELIVERED, **kwargs)
    with unit_of_work(world.database) as db:
        db.get_one(Initiative, initiative.id).assigned_agent_person_id = world.agent.person_id
    return world.reload(initiative.id)


def sign_convention(
    world: World,
    initiative_id: int,
    *,
    signed_at: dt.datetime | None = None,
    months: int = 36,
    kind: str = ConventionKind.CONVENTION,
) -> Convention:
    """A convention signed at ``signed_at`` (written directly: its text does not matter here)."""
    with unit_of_work(world.database) as db:
        template = db.scalar(select(ConventionTemplate).where(ConventionTemplate.fund_id == world.fund_id))
        if template is None:
            template = ConventionTemplate(
                territory_id=world.territory_id, fund_id=world.fund_id, version=1, title="Convention fifty-fifty"
            )
            db.add(template)
            db.flush()
        moment = signed_at or utcnow()
        convention = Convention(
            territory_id=world.territory_id,
            initiative_id=initiative_id,
            template_id=template.id,
            kind=kind,
            number=f"2026-{initiative_id:03d}",
            text="Texte",
            text_sha256="0" * 64,
            upkeep_by="Les porteur·ses",
            upkeep_months=months,
            proposed_at=moment - dt.timedelta(days=5),
            proposed_by_person_id=world.agent.person_id,
            signed_at=moment,
        )
        db.add(convention)
        db.flush()
        db.expunge(convention)
        return convention


def notifications(world: World, person_id: int | None, kind: str = "evaluation") -> list[Notification]:
    with unit_of_work(world.database) as db:
        rows = list(
            db.scalars(
                select(Notification)
                .where(Notification.person_id == person_id, Notification.kind == kind)
                .order_by(Notification.id)
            )
        )
        for row in rows:
            db.expunge(row)
        return rows


def audit_count(world: World, action: str) -> int:
    with unit_of_work(world.database) as db:
        return db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)) or 0


def count(world: World, model: type[Any], **where: Any) -> int:
    with unit_of_work(world.database) as db:
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return db.scalar(query) or 0
