"""Work-day test data: the review world (agent, executive, promoter, fund) with signed initiatives,
work days planned through the service, residents and registers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from app.accounts.models import Account, AgeBracket
from app.audit.models import AuditEntry
from app.core.actor import Actor
from app.db.session import unit_of_work
from app.funds.service import territory_today
from app.initiatives.models import Initiative, InitiativeState
from app.ledger.models import RealisationLine, RealisationSource
from app.workdays import service as workdays
from app.workdays.forms import RowInput, WorkDayInput
from app.workdays.models import WorkDay, WorkDayParticipant
from tests.factories import Factory
from tests.review.conftest import World, actor, world

__all__ = ["World", "world"]

S = InitiativeState
HX = {"HX-Request": "true"}


def signed(world: World, **kwargs: Any) -> Initiative:
    """An initiative whose convention is signed, with the residents' volunteer-hours line (pledged)."""
    return world.initiative(S.CONVENTION_SIGNED, **kwargs)


def today(world: World) -> dt.date:
    with unit_of_work(world.database) as db:
        return territory_today(db, world.territory_id)


def work_day_input(day: dt.date, **values: Any) -> WorkDayInput:
    data = {"day": day.isoformat(), "starts_at": "9:00", "ends_at": "12:30", "place": "Rue Lavoisier", **values}
    return WorkDayInput.model_validate(data)


def plan(world: World, initiative: Initiative, day: dt.date | None = None, who: Actor | None = None,
         **values: Any) -> WorkDay:  # fmt: skip
    """A work day planned by the agent (today by default: sign-ups and the register both open)."""
    with unit_of_work(world.database) as db:
        row = workdays.plan(
            db, who or world.agent_actor, world.territory_id, initiative.public_id,
            work_day_input(day or today(world), **values),
        )  # fmt: skip
        db.flush()
        db.expunge(row)
        return row


def resident(factory: Factory, email: str, name: str, age: AgeBracket = AgeBracket.ADULT) -> Account:
    return factory.account(email, display_name=name, age_bracket=age)


def sign_up(world: World, account: Account, initiative: Initiative, work_day: WorkDay) -> WorkDayParticipant:
    with unit_of_work(world.database) as db:
        row = workdays.sign_up(db, actor(account), world.territory_id, initiative.public_id, work_day.public_id)
        db.flush()
        db.expunge(row)
        return row


def participants(world: World, work_day: WorkDay) -> list[WorkDayParticipant]:
    with unit_of_work(world.database) as db:
        rows = list(
            db.scalars(
                select(WorkDayParticipant)
                .where(WorkDayParticipant.work_day_id == work_day.id)
                .order_by(WorkDayParticipant.id)
            )
        )
        for r in rows:
            db.expunge(r)
        return rows


def row(participant: WorkDayParticipant | None, *, key: str = "", name: str = "", minor: bool = False,
        came: bool = True, safety: bool = True, insurance: bool = True, parental: bool = False,
        hours: str = "3:30", remove: bool = False) -> RowInput:  # fmt: skip
    """A register row as typed: a participant's, or a walk-in's (``participant`` None, ``key`` new-<n>)."""
    return RowInput(
        key=f"p-{participant.public_id}" if participant is not None else key or "new-0",
        participant=participant.public_id if participant is not None else None,
        name=name,
        is_minor=minor,
        came=came,
        safety_briefing=safety,
        insurance_ack=insurance,
        parental_permission=parental,
        hours=hours,
        remove=remove,
    )


def enter(world: World, who: Actor, initiative: Initiative, work_day: WorkDay, rows: list[RowInput]) -> None:
    with unit_of_work(world.database) as db:
        workdays.enter_register(db, who, world.territory_id, initiative.public_id, work_day.public_id, rows)


def check(world: World, who: Actor, initiative: Initiative, work_day: WorkDay) -> workdays.CheckResult:
    with unit_of_work(world.database) as db:
        return workdays.check_register(db, who, world.territory_id, initiative.public_id, work_day.public_id)


def reload(world: World, work_day: WorkDay) -> WorkDay:
    with unit_of_work(world.database) as db:
        row = db.get_one(WorkDay, work_day.id)
        db.expunge(row)
        return row


def realisations(world: World, initiative: Initiative) -> list[RealisationLine]:
    with unit_of_work(world.database) as db:
        rows = list(
            db.scalars(
                select(RealisationLine)
                .where(
                    RealisationLine.initiative_id == initiative.id,
                    RealisationLine.source == RealisationSource.WORK_DAY,
                )
                .order_by(RealisationLine.id)
            )
        )
        for r in rows:
            db.expunge(r)
        return rows


def audit_count(world: World, action: str) -> int:
    with unit_of_work(world.database) as db:
        return db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)) or 0
