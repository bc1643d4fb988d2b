"""Declared interests and withdrawals ("déport") of town staff, against conflicts of interest.

A member of staff declares their interests (in a beneficiary, in an initiative, or in words)
on their own page, and may withdraw from one initiative for good. A withdrawal, or an active
interest in an initiative or in its beneficiary, makes them "conflicted": the review service
then refuses to let them review it, decide on it or sign for the town
(``conflict_exists`` is part of ``app.review.service.involvement_of``). Every change is audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, exists, false, or_, select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.core.actor import Actor
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.db.base import utcnow
from app.initiatives.models import Beneficiary, Initiative, InitiativeState
from app.review import permissions as perm
from app.review.models import InterestDeclaration, InterestKind
from app.web.forms import clean_text
from app.web.i18n import N_, _

DESCRIPTION_MAX_LENGTH = 2000
KIND_LABELS = {InterestKind.INTEREST: N_("intérêt déclaré"), InterestKind.WITHDRAWAL: N_("déport")}


def conflict_exists(person_id: Any, initiative_id: Any, beneficiary_id: Any) -> ColumnElement[bool]:
    """SQL: the person withdrew from the initiative, or declared an active interest in it or in
    its beneficiary. The ids are values or columns (``Initiative.id`` in the queue's query)."""
    if person_id is None:
        return false()
    related = [InterestDeclaration.initiative_id == initiative_id]
    if beneficiary_id is not None:
        related.append(InterestDeclaration.beneficiary_id == beneficiary_id)
    return exists().where(
        InterestDeclaration.person_id == person_id,
        InterestDeclaration.ended_at.is_(None),
        or_(*related),
    )


def can_declare(actor: Actor | None) -> bool:
    return actor is not None and actor.person_id is not None and perm.is_staff(actor)


def _require_staff(actor: Actor) -> tuple[int, int]:
    """The actor's person and territory ids; Forbidden unless they are staff."""
    if not can_declare(actor) or actor.person_id is None or actor.territory_id is None:
        raise Forbidden(_("Cette page est réservée au personnel de la commune."))
    return actor.person_id, actor.territory_id


def _description(text: str, *, required: bool) -> str:
    value = clean_text(text or "")
    if required and not value:
        raise Invalid(_("Ce champ est obligatoire."), field="description")
    if len(value) > DESCRIPTION_MAX_LENGTH:
        raise Invalid(_("Saisissez au plus %(n)s caractères.") % {"n": DESCRIPTION_MAX_LENGTH}, field="description")
    return value


def declare_interest(
    db: Session,
    actor: Actor,
    description: str,
    beneficiary_public_id: str = "",
    initiative_public_id: str = "",
) -> InterestDeclaration:
    """Records an interest of the actor, possibly tied to a beneficiary or an initiative."""
    person_id, territory_id = _require_staff(actor)
    text = _description(description, required=True)
    beneficiary_id = None
    if beneficiary_public_id:
        beneficiary_id = db.scalar(
            select(Beneficiary.id).where(
                Beneficiary.public_id == beneficiary_public_id, Beneficiary.territory_id == territory_id
            )
        )
        if beneficiary_id is None:
            raise Invalid(_("Choisissez une des valeurs proposées."), field="beneficiary")
    initiative_id = None
    if initiative_public_id:
        initiative_id = db.scalar(
            select(Initiative.id).where(
                Initiative.public_id == initiative_public_id, Initiative.territory_id == territory_id
            )
        )
        if initiative_id is None:
            raise Invalid(_("Choisissez une des valeurs proposées."), field="initiative")
    declaration = InterestDeclaration(
        territory_id=territory_id,
        person_id=person_id,
        kind=InterestKind.INTEREST,
        description=text,
        beneficiary_id=beneficiary_id,
        initiative_id=initiative_id,
    )
    db.add(declaration)
    db.flush()
    audit.record(
        db,
        actor,
        "interest.declare",
        "interest_declaration",
        declaration.public_id,
        territory_id=territory_id,
        data={"beneficiary": beneficiary_public_id or None, "initiative": initiative_public_id or None},
    )
    return declaration


def declare_withdrawal(db: Session, actor: Actor, initiative: Initiative, reason: str = "") -> InterestDeclaration:
    """The actor steps aside from this initiative for good; if it was assigned to them, it no longer is."""
    person_id, _territory_id = _require_staff(actor)
    if initiative.territory_id != actor.territory_id:
        raise NotFound(_("Cette initiative n'existe pas."))
    text = _description(reason, required=False)
    already = db.scalar(
        select(InterestDeclaration.id).where(
            InterestDeclaration.person_id == person_id,
            InterestDeclaration.initiative_id == initiative.id,
            InterestDeclaration.kind == InterestKind.WITHDRAWAL,
        )
    )
    if already is not None:
        raise Conflict(_("Vous vous êtes déjà déporté·e de cette initiative."))
    declaration = InterestDeclaration(
        territory_id=initiative.territory_id,
        person_id=person_id,
        kind=InterestKind.WITHDRAWAL,
        description=text,
        initiative_id=initiative.id,
    )
    db.add(declaration)
    unassigned = initiative.assigned_agent_person_id == person_id
    if unassigned:
        initiative.assigned_agent_person_id = None
    db.flush()
    audit.record(
        db,
        actor,
        "interest.withdraw",
        "initiative",
        initiative.public_id,
        territory_id=initiative.territory_id,
        reason=text,
        data={"declaration": declaration.public_id, "unassigned": unassigned},
    )
    return declaration


def withdraw_from(db: Session, actor: Actor, initiative_public_id: str, reason: str = "") -> InterestDeclaration:
    """A withdrawal chosen from a list (the actor's page): an unknown initiative is a form error."""
    _require_staff(actor)
    initiative = None
    if initiative_public_id:
        initiative = db.scalar(
            select(Initiative).where(
                Initiative.public_id == initiative_public_id, Initiative.territory_id == actor.territory_id
            )
        )
    if initiative is None:
        raise Invalid(_("Choisissez une des valeurs proposées."), field="initiative")
    return declare_withdrawal(db, actor, initiative, reason)


def end_interest(db: Session, actor: Actor, public_id: str) -> InterestDeclaration:
    """The actor's interest has ended (a withdrawal never ends)."""
    person_id, territory_id = _require_staff(actor)
    declaration = db.scalar(
        select(InterestDeclaration).where(
            InterestDeclaration.public_id == public_id,
            InterestDeclaration.person_id == person_id,
            InterestDeclaration.territory_id == territory_id,
        )
    )
    if declaration is None:
        raise NotFound(_("Cette déclaration n'existe pas."))
    if declaration.kind == InterestKind.WITHDRAWAL:
        raise Conflict(_("Un déport est définitif : il ne peut pas être levé."))
    if declaration.ended_at is not None:
        raise Conflict(_("Cette déclaration est déjà close."))
    declaration.ended_at = utcnow()
    db.flush()
    audit.record(
        db,
        actor,
        "interest.end",
        "interest_declaration",
        declaration.public_id,
        territory_id=declaration.territory_id,
    )
    return declaration


# ---------------------------------------------------------------- what the page shows


@dataclass(frozen=True)
class DeclarationView:
    public_id: str
    kind: str
    kind_label: str
    description: str
    beneficiary_name: str
    initiative_title: str
    initiative_public_id: str
    declared_at: dt.datetime
    ended_at: dt.datetime | None
    can_end: bool


@dataclass(frozen=True)
class InterestsPage:
    declarations: list[DeclarationView]
    beneficiaries: list[tuple[str, str]]
    initiatives: list[tuple[str, str]]


def interests_page(db: Session, actor: Actor) -> InterestsPage:
    """The actor's declarations, newest first, and the choices of the declaration form."""
    person_id, territory_id = _require_staff(actor)
    rows = db.execute(
        select(InterestDeclaration, Beneficiary.name, Initiative.title, Initiative.public_id)
        .outerjoin(Beneficiary, Beneficiary.id == InterestDeclaration.beneficiary_id)
        .outerjoin(Initiative, Initiative.id == InterestDeclaration.initiative_id)
        .where(InterestDeclaration.person_id == person_id, InterestDeclaration.territory_id == territory_id)
        .order_by(InterestDeclaration.declared_at.desc(), InterestDeclaration.id.desc())
    )
    declarations = [
        DeclarationView(
            public_id=d.public_id,
            kind=d.kind,
            kind_label=_(KIND_LABELS[InterestKind(d.kind)]),
            description=d.description,
            beneficiary_name=beneficiary or "",
            initiative_title=title or "",
            initiative_public_id=initiative_public_id or "",
            declared_at=d.declared_at,
            ended_at=d.ended_at,
            can_end=d.kind == InterestKind.INTEREST and d.ended_at is None,
        )
        for d, beneficiary, title, initiative_public_id in rows
    ]
    beneficiaries = db.execute(
        select(Beneficiary.public_id, Beneficiary.name)
        .where(Beneficiary.territory_id == territory_id)
        .order_by(Beneficiary.name, Beneficiary.id)
    )
    initiatives = db.execute(
        select(Initiative.public_id, Initiative.title)
        .where(Initiative.territory_id == territory_id, Initiative.state != InitiativeState.DRAFT)
        .order_by(Initiative.title, Initiative.id)
    )
    return InterestsPage(
        declarations=declarations,
        beneficiaries=[(p, n) for p, n in beneficiaries],
        initiatives=[(p, t) for p, t in initiatives],
    )
