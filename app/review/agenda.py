"""The council's agenda: an initiative "awaiting the council sitting" until its deliberation.

A subsidy to a legal person cannot be delegated to the mayor (art. L2311-7 CGCT): the council
deliberates, and any other initiative may also be brought before it. While it waits, the
initiative stays "in review" and has one live ``CouncilAgendaItem`` that points at a sitting
to come. The mayor convenes the council and sets its agenda (art. L2121-10 CGCT): only the
executive, not tied to the initiative, schedules it, moves it to another sitting (a written
reason) or takes it off; the agents and the promoters see where it stands, and the promoters are
told. The decision (``app.review.service.decide``) closes the item: it is deleted, and the audit
keeps its whole history (schedule, postponements, closing).

Each step is one function, one audit entry, in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.config import Settings
from app.core.actor import Actor
from app.core.errors import Conflict, Forbidden, Invalid
from app.db.base import utcnow
from app.initiatives.models import Decision, Initiative
from app.initiatives.models import InitiativeState as S
from app.review import permissions as perm
from app.review import service as review
from app.review.models import CouncilAgendaItem
from app.territories.models import CouncilSitting
from app.web.forms import clean_text
from app.web.i18n import _, date

REASON_MAX_LENGTH = 2000
# An initiative is placed on the agenda while in review. Its item outlives a pause or a request
# for changes (the executive postpones it or takes it off) and is closed by the decision.
LIVE_STATES = frozenset({S.IN_REVIEW, S.CHANGES_REQUESTED, S.ON_HOLD})


class AgendaInput(BaseModel):
    """The scheduling, postponing and withdrawing forms (the service checks what each needs)."""

    model_config = ConfigDict(extra="ignore")

    sitting: str = Field(default="", max_length=40)
    reason: str = Field(default="", max_length=REASON_MAX_LENGTH)


@dataclass(frozen=True)
class AgendaMarker:
    """Where an initiative stands: "awaiting the council sitting of <date>"."""

    sitting_public_id: str
    sitting_on: dt.date
    sitting_title: str
    note: str  # the reason of the last postponement
    past: bool  # the sitting is over and the decision is not recorded yet


@dataclass(frozen=True)
class AgendaPanel:
    """What the agenda partial shows a viewer on one initiative."""

    marker: AgendaMarker | None
    needs_deliberation: bool
    can_schedule: bool  # the executive, on an initiative in review that is on no agenda
    can_change: bool  # the executive, on an initiative that is on an agenda
    sittings: list[tuple[str, str]]  # the sittings to come (public id, label) for the forms

    @property
    def shown(self) -> bool:
        return self.marker is not None or self.needs_deliberation or self.can_schedule


# ---------------------------------------------------------------- reading


def _today(db: Session, territory_id: int) -> dt.date:
    return review.local_date(utcnow(), review.territory_timezone(db, territory_id))


def _marker(item: CouncilAgendaItem, sitting: CouncilSitting, today: dt.date) -> AgendaMarker:
    return AgendaMarker(
        sitting_public_id=sitting.public_id,
        sitting_on=sitting.sitting_date,
        sitting_title=sitting.title,
        note=item.note,
        past=sitting.sitting_date < today,
    )


def _live_item(db: Session, initiative: Initiative) -> tuple[CouncilAgendaItem, CouncilSitting] | None:
    row = db.execute(
        select(CouncilAgendaItem, CouncilSitting)
        .join(CouncilSitting, CouncilSitting.id == CouncilAgendaItem.sitting_id)
        .where(
            CouncilAgendaItem.initiative_id == initiative.id,
            CouncilAgendaItem.territory_id == initiative.territory_id,
        )
    ).one_or_none()
    return (row[0], row[1]) if row is not None else None


def markers(db: Session, territory_id: int, initiative_ids: list[int]) -> dict[int, AgendaMarker]:
    """The markers of these initiatives (the queue's rows), by initiative id, in one query."""
    if not initiative_ids:
        return {}
    today = _today(db, territory_id)
    rows = db.execute(
        select(CouncilAgendaItem, CouncilSitting)
        .join(CouncilSitting, CouncilSitting.id == CouncilAgendaItem.sitting_id)
        .join(Initiative, Initiative.id == CouncilAgendaItem.initiative_id)
        .where(
            CouncilAgendaItem.territory_id == territory_id,
            CouncilAgendaItem.initiative_id.in_(initiative_ids),
            Initiative.state.in_([s.value for s in LIVE_STATES]),
        )
    )
    return {item.initiative_id: _marker(item, sitting, today) for item, sitting in rows}


def sittings_to_come(db: Session, territory_id: int) -> list[tuple[str, str]]:
    """The territory's sittings dated today or later, soonest first, labelled for a select."""
    rows = db.execute(
        select(CouncilSitting.public_id, CouncilSitting.sitting_date, CouncilSitting.title)
        .where(CouncilSitting.territory_id == territory_id, CouncilSitting.sitting_date >= _today(db, territory_id))
        .order_by(CouncilSitting.sitting_date, CouncilSitting.id)
        .limit(24)
    )
    return [(public_id, f"{date(day)} — {title}") for public_id, day, title in rows]


def panel(db: Session, viewer: Actor, initiative: Initiative) -> AgendaPanel:
    """The initiative's place on the council's agenda, for anyone who may see the initiative
    (NotFound otherwise), with the forms for the executive who may change it."""
    involvement = review.visible_involvement(db, viewer, initiative)
    found = _live_item(db, initiative) if initiative.state in LIVE_STATES else None
    marker = _marker(*found, _today(db, initiative.territory_id)) if found else None
    manager = perm.can_decide(viewer, involvement) and initiative.state in LIVE_STATES
    can_schedule = manager and marker is None and initiative.state == S.IN_REVIEW
    can_change = manager and marker is not None
    return AgendaPanel(
        marker=marker,
        needs_deliberation=review.needs_deliberation(review.active_lines(db, initiative)),
        can_schedule=can_schedule,
        can_change=can_change,
        sittings=sittings_to_come(db, initiative.territory_id) if can_schedule or can_change else [],
    )


# ---------------------------------------------------------------- the executive's steps


def _executive(db: Session, actor: Actor, initiative: Initiative) -> None:
    involvement = review.visible_involvement(db, actor, initiative)
    if not perm.can_decide(actor, involvement):
        if involvement.conflicted and perm.is_staff(actor):
            raise Forbidden(
                _("Vous êtes porteur·se ou lié·e à cette initiative : vous ne pouvez pas l'inscrire au conseil.")
            )
        raise Forbidden(_("Seul l'exécutif de la commune fixe l'ordre du jour du conseil."))
    review.lock_initiative(db, initiative)


def _sitting_to_come(db: Session, initiative: Initiative, public_id: str) -> CouncilSitting:
    if not public_id:
        raise Invalid(_("Choisissez une séance du conseil."), field="sitting")
    sitting = db.scalar(
        select(CouncilSitting).where(
            CouncilSitting.public_id == public_id, CouncilSitting.territory_id == initiative.territory_id
        )
    )
    if sitting is None:
        raise Invalid(_("Choisissez une séance du conseil de la liste."), field="sitting")
    if sitting.sitting_date < _today(db, initiative.territory_id):
        raise Invalid(_("Cette séance est passée : choisissez une séance à venir."), field="sitting")
    return sitting


def _reason(text: str, *, required: bool) -> str:
    value = clean_text(text or "")
    if required and not value:
        raise Invalid(_("Ce champ est obligatoire."), field="reason")
    if len(value) > REASON_MAX_LENGTH:
        raise Invalid(_("Saisissez au plus %(n)s caractères.") % {"n": REASON_MAX_LENGTH}, field="reason")
    return value


def _record(
    db: Session, actor: Actor, action: str, initiative: Initiative, item: CouncilAgendaItem, *, reason: str = "",
    **data: object,
) -> None:  # fmt: skip
    audit.record(
        db, actor, f"council_agenda.{action}", "initiative", initiative.public_id,
        territory_id=initiative.territory_id, reason=reason, data={"agenda_item": item.public_id, **data},
    )  # fmt: skip


def _sitting_data(sitting: CouncilSitting, prefix: str = "") -> dict[str, str]:
    return {f"{prefix}sitting": sitting.public_id, f"{prefix}sitting_date": sitting.sitting_date.isoformat()}


def schedule(
    db: Session, executive: Actor, initiative: Initiative, sitting_public_id: str, *, settings: Settings | None = None
) -> CouncilAgendaItem:
    """Places an initiative in review on the agenda of a sitting to come; the promoters are told.
    Asking again for the same sitting changes nothing."""
    _executive(db, executive, initiative)
    if initiative.state != S.IN_REVIEW:
        raise Conflict(_("Seule une initiative en instruction peut être inscrite à l'ordre du jour du conseil."))
    sitting = _sitting_to_come(db, initiative, sitting_public_id)
    found = _live_item(db, initiative)
    if found is not None:
        item, current = found
        if current.id == sitting.id:
            return item
        raise Conflict(
            _("L'initiative est déjà inscrite à la séance du %(date)s : reportez-la plutôt.")
            % {"date": date(current.sitting_date)}
        )
    item = CouncilAgendaItem(
        territory_id=initiative.territory_id,
        sitting_id=sitting.id,
        initiative_id=initiative.id,
        scheduled_by_person_id=executive.person_id,
    )
    db.add(item)
    db.flush()
    _record(db, executive, "schedule", initiative, item, **_sitting_data(sitting))
    review.tell_promoters(
        db,
        executive,
        initiative,
        _("« %(title)s » sera examinée par le conseil municipal") % {"title": initiative.title},
        _(
            "Votre initiative est inscrite à l'ordre du jour de la séance du conseil municipal du %(date)s. "
            "Elle reste en instruction : la décision sera prise par délibération du conseil."
        )
        % {"date": date(sitting.sitting_date)},
        settings,
    )
    return item


def _current(db: Session, initiative: Initiative) -> tuple[CouncilAgendaItem, CouncilSitting]:
    found = _live_item(db, initiative) if initiative.state in LIVE_STATES else None
    if found is None:
        raise Conflict(_("Cette initiative n'est inscrite à aucune séance du conseil."))
    return found


def postpone(
    db: Session, executive: Actor, initiative: Initiative, sitting_public_id: str, reason: str, *,
    settings: Settings | None = None,
) -> CouncilAgendaItem:  # fmt: skip
    """Moves the initiative to another sitting to come, with a written reason; the promoters are told."""
    text = _reason(reason, required=True)
    _executive(db, executive, initiative)
    item, current = _current(db, initiative)
    sitting = _sitting_to_come(db, initiative, sitting_public_id)
    if sitting.id == current.id:
        raise Invalid(_("Choisissez une autre séance que celle prévue."), field="sitting")
    item.sitting_id = sitting.id
    item.note = text
    db.flush()
    _record(
        db, executive, "postpone", initiative, item, reason=text,
        **_sitting_data(current, "from_"), **_sitting_data(sitting, "to_"),
    )  # fmt: skip
    review.tell_promoters(
        db,
        executive,
        initiative,
        _("L'examen de « %(title)s » par le conseil municipal est reporté") % {"title": initiative.title},
        _("Votre initiative sera examinée à la séance du conseil municipal du %(date)s. Motif : %(reason)s")
        % {"date": date(sitting.sitting_date), "reason": text},
        settings,
    )
    return item


def take_off(
    db: Session, executive: Actor, initiative: Initiative, reason: str = "", *, settings: Settings | None = None
) -> None:
    """Takes the initiative off the council's agenda (it stays in review); the promoters are told."""
    text = _reason(reason, required=False)
    _executive(db, executive, initiative)
    item, current = _current(db, initiative)
    _record(db, executive, "take_off", initiative, item, reason=text, **_sitting_data(current))
    db.delete(item)
    db.flush()
    review.tell_promoters(
        db,
        executive,
        initiative,
        _("« %(title)s » est retirée de l'ordre du jour du conseil municipal") % {"title": initiative.title},
        text or _("Votre initiative reste en instruction ; la commune vous dira la suite."),
        settings,
    )


def close(db: Session, actor: Actor, initiative: Initiative, decision: Decision) -> None:
    """The decision is recorded: the initiative no longer awaits the sitting (called by ``decide``)."""
    found = _live_item(db, initiative)
    if found is None:
        return
    item, sitting = found
    _record(
        db, actor, "close", initiative, item, **_sitting_data(sitting),
        decision=decision.public_id, act_kind=decision.act_kind, decided_in_sitting=decision.sitting_id == sitting.id,
    )  # fmt: skip
    db.delete(item)
    db.flush()
