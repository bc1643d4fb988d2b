"""Agent tasks: what the app would e-mail to a person without e-mail becomes a call or a letter.

``create_task`` is called by other domains (notifications) and by agents by hand; agents then
mark each task done with its outcome, or cancel it with a reason. Every change is audited.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from app.accounts.models import Person, Role
from app.agent_tasks.models import AgentTask
from app.audit import service as audit
from app.core.actor import SYSTEM, Actor
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.db.base import utcnow
from app.web.i18n import N_, _


class Channel(enum.StrEnum):
    PHONE = "phone"
    LETTER = "letter"
    OTHER = "other"


class Status(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


CHANNEL_LABELS = {
    Channel.PHONE: N_("appel téléphonique"),
    Channel.LETTER: N_("courrier"),
    Channel.OTHER: N_("autre (visite, rendez-vous en mairie)"),
}
STATUS_LABELS = {Status.OPEN: N_("à faire"), Status.DONE: N_("fait"), Status.CANCELLED: N_("annulé")}


def can_work_tasks(actor: Actor, territory_id: int) -> bool:
    return actor.territory_id == territory_id and actor.has_any_role(Role.AGENT, Role.EXECUTIVE, Role.ADMIN)


def can_close(actor: Actor, task: AgentTask) -> bool:
    return task.status == Status.OPEN and can_work_tasks(actor, task.territory_id)


def _require(actor: Actor, territory_id: int) -> None:
    if actor is not SYSTEM and not can_work_tasks(actor, territory_id):
        raise Forbidden(_("Les tâches sont réservées aux agent·es de la commune."))


class TaskInput(BaseModel):
    model_config = ConfigDict(extra="ignore")

    channel: Channel
    subject: str = Field(min_length=1, max_length=300)
    body: str = Field(default="", max_length=10_000)


class OutcomeInput(BaseModel):
    model_config = ConfigDict(extra="ignore")

    outcome: str = Field(min_length=1, max_length=2000)


class CancelInput(BaseModel):
    model_config = ConfigDict(extra="ignore")

    reason: str = Field(min_length=1, max_length=500)


def default_channel(person: Person) -> Channel:
    if person.preferred_contact in (Channel.PHONE, Channel.LETTER):
        return Channel(person.preferred_contact)
    if person.phone:
        return Channel.PHONE
    return Channel.LETTER


def create_task(
    db: Session,
    *,
    territory_id: int,
    person_id: int | None,
    channel: str | None,
    subject: str,
    body: str = "",
    actor: Actor = SYSTEM,
) -> AgentTask:
    """Queues a call or a letter for agents. ``channel`` None means the person's preferred one."""
    _require(actor, territory_id)
    person: Person | None = None
    if person_id is not None:
        person = db.scalar(select(Person).where(Person.id == person_id, Person.territory_id == territory_id))
        if person is None:
            raise NotFound(_("Ce contact n'existe pas."))
    if channel is None:
        resolved = default_channel(person) if person is not None else Channel.OTHER
    else:
        try:
            resolved = Channel(channel)
        except ValueError:
            raise Invalid(_("Choisissez une des valeurs proposées."), field="channel") from None
    subject = " ".join(subject.split())[:300]
    if not subject:
        raise Invalid(_("Ce champ est obligatoire."), field="subject")
    task = AgentTask(
        territory_id=territory_id,
        person_id=person_id,
        channel=resolved.value,
        subject=subject,
        body=body[:10_000],
        status=Status.OPEN.value,
        outcome="",
    )
    db.add(task)
    db.flush()
    audit.record(
        db, actor, "task.create", "agent_task", task.public_id, territory_id=territory_id,
        data={"person_id": person_id, "channel": resolved.value, "subject": subject},
    )  # fmt: skip
    return task


def get_task(db: Session, actor: Actor, territory_id: int, public_id: str) -> AgentTask:
    _require(actor, territory_id)
    task = db.scalar(select(AgentTask).where(AgentTask.public_id == public_id, AgentTask.territory_id == territory_id))
    if task is None:
        raise NotFound(_("Cette tâche n'existe pas."))
    return task


def complete_task(db: Session, actor: Actor, territory_id: int, public_id: str, outcome: str) -> AgentTask:
    task = get_task(db, actor, territory_id, public_id)
    if task.status != Status.OPEN:
        raise Conflict(_("Cette tâche est déjà close."))
    outcome = outcome.strip()
    if not outcome:
        raise Invalid(_("Ce champ est obligatoire."), field="outcome")
    task.status = Status.DONE.value
    task.done_at = utcnow()
    task.done_by_person_id = actor.person_id
    task.outcome = outcome[:2000]
    db.flush()
    audit.record(
        db, actor, "task.done", "agent_task", task.public_id, territory_id=territory_id, data={"outcome": task.outcome}
    )
    return task


def cancel_task(db: Session, actor: Actor, territory_id: int, public_id: str, reason: str) -> AgentTask:
    task = get_task(db, actor, territory_id, public_id)
    if task.status != Status.OPEN:
        raise Conflict(_("Cette tâche est déjà close."))
    reason = reason.strip()
    if not reason:
        raise Invalid(_("Ce champ est obligatoire."), field="reason")
    task.status = Status.CANCELLED.value
    task.done_at = utcnow()
    task.done_by_person_id = actor.person_id
    task.outcome = reason[:2000]
    db.flush()
    audit.record(db, actor, "task.cancel", "agent_task", task.public_id, territory_id=territory_id, reason=reason)
    return task


@dataclass(frozen=True)
class TaskRow:
    """A task with what an agent needs to do it: who, how to reach them, who closed it."""

    task: AgentTask
    person_public_id: str | None
    person_name: str
    phone: str
    postal_address: str
    is_contact: bool
    done_by: str


def _rows(
    db: Session,
    territory_id: int,
    *,
    statuses: tuple[Status, ...] | None,
    person_id: int | None = None,
    task_id: int | None = None,
) -> list[TaskRow]:
    closer = aliased(Person)
    stmt = (
        select(AgentTask, Person, closer.display_name)
        .outerjoin(Person, Person.id == AgentTask.person_id)
        .outerjoin(closer, closer.id == AgentTask.done_by_person_id)
        .where(AgentTask.territory_id == territory_id)
    )
    if statuses is not None:
        stmt = stmt.where(AgentTask.status.in_([s.value for s in statuses]))
    if person_id is not None:
        stmt = stmt.where(AgentTask.person_id == person_id)
    if task_id is not None:
        stmt = stmt.where(AgentTask.id == task_id)
    if statuses == (Status.OPEN,):
        stmt = stmt.order_by(AgentTask.created_at, AgentTask.id)  # oldest first
    else:
        stmt = stmt.order_by(AgentTask.created_at.desc(), AgentTask.id.desc()).limit(50)
    return [
        TaskRow(
            task=task,
            person_public_id=person.public_id if person is not None else None,
            person_name=person.display_name if person is not None else "",
            phone=(person.phone or "") if person is not None else "",
            postal_address=(person.postal_address or "") if person is not None else "",
            is_contact=person is not None and person.kind == "contact",
            done_by=done_by or "",
        )
        for task, person, done_by in db.execute(stmt).all()
    ]


def open_tasks(db: Session, actor: Actor, territory_id: int) -> list[TaskRow]:
    _require(actor, territory_id)
    return _rows(db, territory_id, statuses=(Status.OPEN,))


def recent_closed_tasks(db: Session, actor: Actor, territory_id: int) -> list[TaskRow]:
    _require(actor, territory_id)
    return _rows(db, territory_id, statuses=(Status.DONE, Status.CANCELLED))


def tasks_for_person(db: Session, actor: Actor, territory_id: int, person_id: int) -> list[TaskRow]:
    _require(actor, territory_id)
    return _rows(db, territory_id, statuses=None, person_id=person_id)


def task_row(db: Session, actor: Actor, territory_id: int, public_id: str) -> TaskRow:
    task = get_task(db, actor, territory_id, public_id)
    return _rows(db, territory_id, statuses=None, task_id=task.id)[0]
