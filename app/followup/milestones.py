"""Milestones: dated steps of the work, on the residents', the town's or the partners' side.

The promoters write the residents' milestones, the town's staff every side, between the signature
and the evaluation. A milestone may point at the commitment it delivers. Moving its due date clears
its overdue flag, so that the daily job tells both sides again if the new date passes too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.core.actor import Actor
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.db.base import utcnow
from app.followup import permissions as fperm
from app.followup.models import Milestone
from app.initiatives.models import Initiative
from app.ledger.models import CommitmentLine, LineState, Side
from app.ledger.service import SIDE_LABELS
from app.review import service as review
from app.review.permissions import Involvement
from app.web.forms import clean_text
from app.web.i18n import N_, _

TITLE_MAX_LENGTH = 300
# Milestones far in the past or the future are typing errors (a year typed 2062 for 2026).
MAX_YEARS_AHEAD = 10

SIDE_NAMES: dict[str, str] = {
    Side.RESIDENTS: N_("habitant·es"),
    Side.TOWN: N_("commune"),
    Side.PARTNERS: N_("partenaires"),
}


@dataclass(frozen=True)
class MilestoneInput:
    side: str
    title: str
    due_on: dt.date
    commitment_line: str = ""  # a commitment line's public id, or empty


def today_for(db: Session, initiative: Initiative) -> dt.date:
    return review.local_date(utcnow(), review.territory_timezone(db, initiative.territory_id))


def _involvement(db: Session, actor: Actor, initiative: Initiative) -> Involvement:
    if actor.territory_id != initiative.territory_id:
        raise NotFound(_("Cette initiative n'existe pas."))
    return review.visible_involvement(db, actor, initiative)


def _check_side(actor: Actor, initiative: Initiative, involvement: Involvement, side: str) -> None:
    if side not in {s.value for s in Side}:
        raise Invalid(_("Choisissez une des valeurs proposées."), field="side")
    if not fperm.may_write_side(actor, initiative, involvement, side):
        raise Forbidden(_("Vous ne pouvez pas écrire les étapes de ce côté."))
    if not fperm.is_open(initiative):
        raise Conflict(_("Les étapes se préparent entre la signature de la convention et l'évaluation."))


def _clean(db: Session, initiative: Initiative, data: MilestoneInput) -> tuple[str, int | None]:
    title = clean_text(data.title or "")
    if not title:
        raise Invalid(_("Ce champ est obligatoire."), field="title")
    if "\x00" in title:
        raise Invalid(_("Ce texte contient un caractère interdit."), field="title")
    if len(title) > TITLE_MAX_LENGTH:
        raise Invalid(_("Saisissez au plus %(n)s caractères.") % {"n": TITLE_MAX_LENGTH}, field="title")
    today = today_for(db, initiative)
    if abs(data.due_on.year - today.year) > MAX_YEARS_AHEAD:
        raise Invalid(_("Vérifiez l'année de cette date."), field="due_on")
    line_id: int | None = None
    if data.commitment_line:
        line = db.scalar(
            select(CommitmentLine).where(
                CommitmentLine.public_id == data.commitment_line,
                CommitmentLine.initiative_id == initiative.id,
                CommitmentLine.territory_id == initiative.territory_id,
                CommitmentLine.state != LineState.CANCELLED,
            )
        )
        if line is None:
            raise Invalid(_("Choisissez un apport de la liste."), field="commitment_line")
        if line.side != data.side:
            raise Invalid(_("Cet apport n'est pas du même côté que l'étape."), field="commitment_line")
        line_id = line.id
    return title, line_id


def _milestone(db: Session, initiative: Initiative, public_id: str) -> Milestone:
    row = db.scalar(
        select(Milestone).where(
            Milestone.public_id == public_id,
            Milestone.initiative_id == initiative.id,
            Milestone.territory_id == initiative.territory_id,
        )
    )
    if row is None:
        raise NotFound(_("Cette étape n'existe pas."))
    return row


def get_milestone(db: Session, actor: Actor, initiative: Initiative, public_id: str) -> Milestone:
    _involvement(db, actor, initiative)
    return _milestone(db, initiative, public_id)


def _record(db: Session, actor: Actor, initiative: Initiative, action: str, row: Milestone, **data: object) -> None:
    audit.record(
        db, actor, f"milestone.{action}", "initiative", initiative.public_id, territory_id=initiative.territory_id,
        data={"milestone": row.public_id, "title": row.title, "side": row.side, "due_on": row.due_on.isoformat(),
              **data},
    )  # fmt: skip


def add_milestone(db: Session, actor: Actor, initiative: Initiative, data: MilestoneInput) -> Milestone:
    involvement = _involvement(db, actor, initiative)
    _check_side(actor, initiative, involvement, data.side)
    title, line_id = _clean(db, initiative, data)
    review.lock_initiative(db, initiative)
    _check_side(actor, initiative, involvement, data.side)
    row = Milestone(
        territory_id=initiative.territory_id,
        initiative_id=initiative.id,
        side=data.side,
        title=title,
        due_on=data.due_on,
        commitment_line_id=line_id,
        created_by_person_id=actor.person_id,
    )
    db.add(row)
    db.flush()
    _record(db, actor, initiative, "add", row)
    return row


def update_milestone(
    db: Session, actor: Actor, initiative: Initiative, public_id: str, data: MilestoneInput
) -> Milestone:
    involvement = _involvement(db, actor, initiative)
    row = _milestone(db, initiative, public_id)
    _check_side(actor, initiative, involvement, row.side)
    _check_side(actor, initiative, involvement, data.side)
    title, line_id = _clean(db, initiative, data)
    review.lock_initiative(db, initiative)
    if row.due_on != data.due_on:
        row.overdue_flagged_at = None  # a new date: the job tells both sides again if it passes
    previous = row.due_on
    row.side, row.title, row.due_on, row.commitment_line_id = data.side, title, data.due_on, line_id
    db.flush()
    _record(db, actor, initiative, "update", row, previous_due_on=previous.isoformat())
    return row


def mark_done(db: Session, actor: Actor, initiative: Initiative, public_id: str) -> Milestone:
    involvement = _involvement(db, actor, initiative)
    row = _milestone(db, initiative, public_id)
    _check_side(actor, initiative, involvement, row.side)
    review.lock_initiative(db, initiative)
    if row.done_on is not None:
        raise Conflict(_("Cette étape est déjà franchie."))
    row.done_on = today_for(db, initiative)
    row.done_by_person_id = actor.person_id
    db.flush()
    _record(db, actor, initiative, "done", row)
    return row


def reopen(db: Session, actor: Actor, initiative: Initiative, public_id: str) -> Milestone:
    """A milestone marked done by mistake goes back to the ones ahead."""
    involvement = _involvement(db, actor, initiative)
    row = _milestone(db, initiative, public_id)
    _check_side(actor, initiative, involvement, row.side)
    review.lock_initiative(db, initiative)
    if row.done_on is None:
        raise Conflict(_("Cette étape n'est pas encore franchie."))
    row.done_on = None
    row.done_by_person_id = None
    db.flush()
    _record(db, actor, initiative, "reopen", row)
    return row


def remove_milestone(db: Session, actor: Actor, initiative: Initiative, public_id: str) -> None:
    involvement = _involvement(db, actor, initiative)
    row = _milestone(db, initiative, public_id)
    _check_side(actor, initiative, involvement, row.side)
    review.lock_initiative(db, initiative)
    _record(db, actor, initiative, "remove", row)
    db.delete(row)
    db.flush()


# ---------------------------------------------------------------- what the page shows


@dataclass(frozen=True)
class MilestoneRow:
    public_id: str
    side: str
    side_label: str
    title: str
    due_on: dt.date
    done_on: dt.date | None
    overdue: bool
    commitment_label: str
    commitment_public_id: str
    can_edit: bool


def milestone_rows(
    db: Session, actor: Actor | None, initiative: Initiative, involvement: Involvement
) -> list[MilestoneRow]:
    """Every milestone in date order (the earliest first, done ones included), overdue ones marked."""
    today = today_for(db, initiative)
    rows = db.execute(
        select(Milestone, CommitmentLine.label, CommitmentLine.public_id)
        .outerjoin(CommitmentLine, CommitmentLine.id == Milestone.commitment_line_id)
        .where(Milestone.initiative_id == initiative.id, Milestone.territory_id == initiative.territory_id)
        .order_by(Milestone.due_on, Milestone.id)
    ).all()
    return [
        MilestoneRow(
            public_id=m.public_id,
            side=m.side,
            side_label=_(SIDE_NAMES[m.side]) if m.side in SIDE_NAMES else m.side,
            title=m.title,
            due_on=m.due_on,
            done_on=m.done_on,
            overdue=m.done_on is None and m.due_on < today,
            commitment_label=label or "",
            commitment_public_id=line_public_id or "",
            can_edit=fperm.can_write_side(actor, initiative, involvement, m.side),
        )
        for m, label, line_public_id in rows
    ]


def side_choices(actor: Actor | None, initiative: Initiative, involvement: Involvement) -> list[tuple[str, str]]:
    return [(s, _(SIDE_LABELS[s])) for s in fperm.writable_sides(actor, initiative, involvement)]


def commitment_choices(db: Session, initiative: Initiative, sides: list[str]) -> list[tuple[str, str]]:
    if not sides:
        return []
    lines = db.execute(
        select(CommitmentLine.public_id, CommitmentLine.side, CommitmentLine.label)
        .where(
            CommitmentLine.initiative_id == initiative.id,
            CommitmentLine.territory_id == initiative.territory_id,
            CommitmentLine.state != LineState.CANCELLED,
            CommitmentLine.side.in_(sides),
        )
        .order_by(CommitmentLine.id)
    )
    return [(public_id, f"{_(SIDE_NAMES[side])} — {label}") for public_id, side, label in lines]
