"""The official answer (agents draft it, the executive publishes it, then it never changes; the
reply of an authority it was transmitted to is added when it comes) and turning a petition into a
fifty-fifty initiative. The automatic statuses (threshold reached, answer overdue) live on the
petition, written by the counting job; the answer is only what the town authored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import Account
from app.audit import service as audit
from app.config import Settings
from app.core.actor import Actor
from app.core.errors import Conflict, Forbidden, Invalid
from app.db.base import utcnow
from app.initiatives.forms import InitiativeInput, InviteInput
from app.initiatives.models import Initiative, MemberRole
from app.jobs.registry import job_settings
from app.petitions import permissions as perm
from app.petitions import service
from app.petitions.counting import tell_signers
from app.petitions.forms import OUTCOME_LABELS, AnswerInput
from app.petitions.models import AnswerOutcome, Petition, PetitionAnswer, PetitionSignature
from app.web.i18n import _


def outcome_label(outcome: str | None) -> str:
    return _(OUTCOME_LABELS[AnswerOutcome(outcome)]) if outcome in OUTCOME_LABELS else ""


def answer_of(db: Session, petition: Petition) -> PetitionAnswer | None:
    return db.scalar(select(PetitionAnswer).where(PetitionAnswer.petition_id == petition.id))


def _frozen() -> Conflict:
    return Conflict(_("La réponse officielle est publiée : elle ne change plus."))


def save_draft(db: Session, actor: Actor, territory_id: int, public_id: str, data: AnswerInput) -> PetitionAnswer:
    """An agent writes (or rewrites) the answer's draft of a published petition."""
    petition = service.get_visible(db, actor, territory_id, public_id, for_update=True)
    answer = answer_of(db, petition)
    if answer is not None and answer.published_at is not None:
        raise _frozen()
    if not perm.is_public(petition):
        raise service._conflict(petition)
    if not perm.can_draft_answer(actor, petition, published=False):
        raise Forbidden(_("Seul·es les agent·es préparent la réponse officielle."))
    now = utcnow()
    if answer is None:
        answer = PetitionAnswer(territory_id=territory_id, petition_id=petition.id)
        db.add(answer)
    answer.outcome = data.outcome.value if data.outcome else None
    answer.text = data.text
    answer.authority = data.authority if data.outcome == AnswerOutcome.TRANSMITTED else ""
    answer.transmitted_on = data.transmitted_on if data.outcome == AnswerOutcome.TRANSMITTED else None
    answer.drafted_by_person_id = actor.person_id
    answer.updated_at = now
    db.flush()
    audit.record(
        db, actor, "petition.answer_draft", "petition", petition.public_id, territory_id=territory_id,
        data={"outcome": answer.outcome},
    )  # fmt: skip
    return answer


def publish(
    db: Session, actor: Actor, territory_id: int, public_id: str, *, settings: Settings | None = None
) -> PetitionAnswer:
    """The executive publishes the drafted answer; opted-in signers are told."""
    petition = service.get_visible(db, actor, territory_id, public_id, for_update=True)
    answer = answer_of(db, petition)
    if answer is None:
        raise Conflict(_("Aucune réponse n'est encore rédigée pour cette pétition."))
    if answer.published_at is not None:
        raise _frozen()
    if not perm.can_publish_answer(actor, petition, published=False):
        raise Forbidden(_("Seul l'exécutif (le maire ou son délégué) publie la réponse officielle."))
    if answer.outcome is None or not answer.text.strip():
        raise Invalid(_("Choisissez la suite donnée et écrivez la réponse avant de la publier."))
    if answer.outcome == AnswerOutcome.TRANSMITTED and (not answer.authority or answer.transmitted_on is None):
        raise Invalid(_("Indiquez à quelle autorité la demande a été transmise, et quand."), field="authority")
    answer.published_at = utcnow()
    answer.published_by_person_id = actor.person_id
    db.flush()
    audit.record(
        db, actor, "petition.answer_publish", "petition", petition.public_id, territory_id=territory_id,
        data={"outcome": answer.outcome},
    )  # fmt: skip
    tell_signers(
        db, petition,
        _("La commune a répondu à la pétition « %(title)s »") % {"title": petition.title},
        _("La réponse officielle est publiée : %(outcome)s.") % {"outcome": outcome_label(answer.outcome)},
        settings=settings or job_settings(),
    )  # fmt: skip
    return answer


def add_authority_reply(
    db: Session, actor: Actor, territory_id: int, public_id: str, reply_on: dt.date, text: str
) -> PetitionAnswer:
    """An agent adds the reply of the authority the request was transmitted to (once)."""
    petition = service.get_visible(db, actor, territory_id, public_id, for_update=True)
    answer = answer_of(db, petition)
    if answer is None or answer.published_at is None or answer.outcome != AnswerOutcome.TRANSMITTED:
        raise Conflict(_("Seule une réponse publiée qui transmet la demande à une autre autorité reçoit sa suite."))
    if answer.authority_reply_on is not None:
        raise Conflict(_("La réponse de l'autorité est déjà enregistrée."))
    if not perm.is_agent(actor, territory_id):
        raise Forbidden(_("Seul·es les agent·es enregistrent la réponse de l'autorité."))
    answer.authority_reply_on = reply_on
    answer.authority_reply = text
    db.flush()
    audit.record(
        db, actor, "petition.authority_reply", "petition", petition.public_id, territory_id=territory_id,
        data={"reply_on": reply_on.isoformat()},
    )  # fmt: skip
    return answer


@dataclass(frozen=True)
class AnswerView:
    outcome: str | None
    outcome_label: str
    text: str
    published_at: dt.datetime | None
    authority: str
    transmitted_on: dt.date | None
    authority_reply: str
    authority_reply_on: dt.date | None

    @property
    def published(self) -> bool:
        return self.published_at is not None


def answer_view(answer: PetitionAnswer | None) -> AnswerView | None:
    if answer is None:
        return None
    return AnswerView(
        outcome=answer.outcome,
        outcome_label=outcome_label(answer.outcome),
        text=answer.text,
        published_at=answer.published_at,
        authority=answer.authority,
        transmitted_on=answer.transmitted_on,
        authority_reply=answer.authority_reply,
        authority_reply_on=answer.authority_reply_on,
    )


# ---------------------------------------------------------------- petition -> initiative


def convert(
    db: Session, actor: Actor, territory_id: int, public_id: str, *, base_url: str, settings: Settings | None = None
) -> Initiative:
    """The author or an agent opens a fifty-fifty initiative draft pre-filled from the petition and
    linked to it (the actor is its first promoter); opted-in signers are invited to join."""
    from app.initiatives import service as initiatives

    petition = service.get_visible(db, actor, territory_id, public_id, for_update=True)
    if petition.converted_initiative_id is not None or not perm.is_public(petition):
        raise Conflict(_("Cette pétition ne peut plus devenir une initiative (ou l'est déjà devenue)."))
    if not perm.can_convert(actor, petition):
        raise Forbidden(_("Seul·es l'auteur·rice de la pétition et les agent·es peuvent en faire une initiative."))
    description = "\n\n".join(part for part in (petition.request, petition.body) if part.strip())
    data = InitiativeInput(
        title=petition.title,
        description=description[:20_000],
        general_interest=petition.request[:5_000],
        neighbourhood_id=petition.neighbourhood_id,
        theme_id=petition.theme_id,
    )
    initiative = initiatives.propose(db, actor, territory_id, data)
    petition.converted_initiative_id = initiative.id
    db.flush()
    audit.record(
        db, actor, "petition.convert", "petition", petition.public_id, territory_id=territory_id,
        data={"initiative": initiative.public_id},
    )  # fmt: skip
    _invite_signers(db, actor, petition, initiative, base_url=base_url)
    tell_signers(
        db, petition,
        _("La pétition « %(title)s » devient un projet") % {"title": petition.title},
        _("La pétition que vous avez signée devient une initiative fifty-fifty, que les habitant·es "
          "construisent avec la commune."),
        settings=settings or job_settings(),
    )  # fmt: skip
    return initiative


def _invite_signers(db: Session, actor: Actor, petition: Petition, initiative: Initiative, *, base_url: str) -> int:
    """Signers who asked "invite me if this becomes a project" get an invitation to join its team."""
    from app.initiatives import service as initiatives

    s = PetitionSignature
    rows = db.execute(
        select(s.email, Account.email)
        .outerjoin(Account, Account.person_id == s.person_id)
        .where(
            s.petition_id == petition.id,
            s.invite_if_project.is_(True),
            s.withdrawn_at.is_(None),
            s.invalidated_at.is_(None),
            s.erased_at.is_(None),
        )
        .order_by(s.id)
    ).all()
    invited = 0
    seen: set[str] = set()
    for guest_email, account_email in rows:
        address = account_email or guest_email
        if not address or address.lower() in seen:
            continue
        seen.add(address.lower())
        try:
            with db.begin_nested():
                data = InviteInput.model_validate({"email": address, "role": MemberRole.CO_PROMOTER.value})
                initiatives.invite(db, actor, petition.territory_id, initiative.public_id, data, base_url=base_url)
        except (Invalid, Conflict, ValidationError):
            continue
        invited += 1
    return invited
