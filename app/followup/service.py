"""The work after the convention is signed: started (signed -> in progress), delivered with the
promoters' short report (in progress -> delivered), and the follow-up panel of the initiative page.

Abandoning is the review's (``app.review.service.abandon``); evaluating is not done here. Every step
goes through the workflow (an illegal one is a 409 and changes nothing), ``review.move`` (audit
entry and timeline) and tells the other side.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.display import public_name
from app.accounts.models import Person
from app.config import Settings
from app.core.actor import Actor
from app.core.errors import Conflict, Invalid
from app.followup import milestones, proofs
from app.followup import permissions as fperm
from app.followup.models import DeliveryReport
from app.initiatives import workflow
from app.initiatives.models import Initiative
from app.initiatives.models import InitiativeState as S
from app.initiatives.workflow import Action
from app.ledger import realisations
from app.privacy.export import register_section
from app.review import permissions as review_perm
from app.review import service as review
from app.review.permissions import Involvement
from app.web.forms import clean_text
from app.web.i18n import _

REPORT_MAX_LENGTH = 5000


def _people(db: Session, initiative: Initiative) -> list[int]:
    """The promoters and the agent in charge: the two sides of the follow-up."""
    people = review.promoter_ids(db, initiative)
    if initiative.assigned_agent_person_id is not None:
        people.append(initiative.assigned_agent_person_id)
    return list(dict.fromkeys(people))


def start_work(db: Session, actor: Actor, initiative: Initiative, *, settings: Settings | None = None) -> Initiative:
    """The convention is signed, the work starts: by a promoter or the town's staff."""
    capacity = review.acting_capacity(db, actor, initiative, Action.START_WORK)
    target = workflow.target_state(initiative.state, Action.START_WORK, capacity)
    review.move(db, actor, initiative, target, Action.START_WORK, settings=settings)
    review.tell(
        db,
        actor,
        initiative,
        _people(db, initiative),
        _("Les travaux de « %(title)s » commencent") % {"title": initiative.title},
        _(
            "L'initiative est en cours de réalisation. Suivez ses étapes, ce qui est livré et les justificatifs "
            "sur sa page."
        ),
        settings,
    )
    return initiative


def _report_text(value: str, field: str, *, required: bool) -> str:
    text = clean_text(value or "")
    if required and not text:
        raise Invalid(_("Dites en quelques lignes ce qui a été fait."), field=field)
    if len(text) > REPORT_MAX_LENGTH:
        raise Invalid(_("Saisissez au plus %(n)s caractères.") % {"n": REPORT_MAX_LENGTH}, field=field)
    return text


def deliver(
    db: Session,
    actor: Actor,
    initiative: Initiative,
    what_was_done: str,
    what_changed: str = "",
    *,
    settings: Settings | None = None,
) -> DeliveryReport:
    """The work is delivered, with the promoters' short report (a promoter, or the town's staff for them)."""
    done = _report_text(what_was_done, "what_was_done", required=True)
    changed = _report_text(what_changed, "what_changed", required=False)
    capacity = review.acting_capacity(db, actor, initiative, Action.DELIVER)
    target = workflow.target_state(initiative.state, Action.DELIVER, capacity)
    if db.scalar(select(DeliveryReport.id).where(DeliveryReport.initiative_id == initiative.id)) is not None:
        raise Conflict(_("Le bilan de réalisation est déjà enregistré."))
    report = DeliveryReport(
        territory_id=initiative.territory_id,
        initiative_id=initiative.id,
        what_was_done=done,
        what_changed=changed,
        written_by_person_id=actor.person_id,
    )
    db.add(report)
    db.flush()
    review.move(db, actor, initiative, target, Action.DELIVER, data={"report": report.public_id}, settings=settings)
    review.tell(
        db,
        actor,
        initiative,
        _people(db, initiative),
        _("« %(title)s » est réalisée") % {"title": initiative.title},
        done,
        settings,
    )
    return report


# ---------------------------------------------------------------- the initiative page's follow-up panel


@dataclass(frozen=True)
class ReportView:
    what_was_done: str
    what_changed: str
    written_by: str
    written_at: dt.datetime


@dataclass(frozen=True)
class FollowupPanel:
    initiative_public_id: str
    state: str
    can_start: bool
    can_deliver: bool
    report: ReportView | None
    milestones: list[milestones.MilestoneRow]
    side_choices: list[tuple[str, str]]
    commitment_choices: list[tuple[str, str]]
    # For the promoters and the town's staff only (None for everyone else).
    realisations: realisations.RealisationsView | None
    proofs: proofs.ProofsPanel | None
    is_party: bool

    @property
    def can_add_milestone(self) -> bool:
        return bool(self.side_choices)

    @property
    def overdue_count(self) -> int:
        return sum(1 for m in self.milestones if m.overdue)


def _involvement(db: Session, actor: Actor | None, initiative: Initiative) -> Involvement:
    if actor is None or actor.territory_id != initiative.territory_id:
        return Involvement()
    return review.involvement_of(db, actor, initiative)


def _can(actor: Actor | None, initiative: Initiative, involvement: Involvement, action: Action) -> bool:
    if actor is None or actor.territory_id != initiative.territory_id:
        return False
    capacities = review_perm.workflow_actors(actor, involvement)
    return any(action in workflow.allowed_actions(initiative.state, c) for c in capacities)


def report_view(db: Session, initiative: Initiative) -> ReportView | None:
    found = db.execute(
        select(DeliveryReport, Person)
        .outerjoin(Person, Person.id == DeliveryReport.written_by_person_id)
        .where(DeliveryReport.initiative_id == initiative.id, DeliveryReport.territory_id == initiative.territory_id)
    ).first()
    if found is None:
        return None
    report, person = found
    return ReportView(
        what_was_done=report.what_was_done,
        what_changed=report.what_changed,
        written_by=public_name(person) if person is not None else "",
        written_at=report.created_at,
    )


def panel(db: Session, actor: Actor | None, initiative: Initiative) -> FollowupPanel | None:
    """The follow-up of an initiative already known to be visible to the viewer, from its signature
    on (None before). Milestones and the delivery report are for everyone who sees the initiative;
    what was delivered and the proofs only for the promoters and the town's staff."""
    if initiative.state not in fperm.SHOWN_STATES:
        return None
    involvement = _involvement(db, actor, initiative)
    party = fperm.is_party(actor, initiative, involvement)
    sides = [s for s, _label in milestones.side_choices(actor, initiative, involvement)]
    proofs_panel = proofs.proofs_panel(db, actor, initiative, involvement=involvement) if party else None
    return FollowupPanel(
        initiative_public_id=initiative.public_id,
        state=initiative.state,
        can_start=_can(actor, initiative, involvement, Action.START_WORK),
        can_deliver=_can(actor, initiative, involvement, Action.DELIVER),
        report=report_view(db, initiative) if initiative.state != S.CONVENTION_SIGNED else None,
        milestones=milestones.milestone_rows(db, actor, initiative, involvement),
        side_choices=milestones.side_choices(actor, initiative, involvement),
        commitment_choices=milestones.commitment_choices(db, initiative, sides),
        realisations=realisations.realisations_view(
            db, actor, initiative, proofs.proof_links(proofs_panel, db, initiative), involvement=involvement
        )
        if party
        else None,
        proofs=proofs_panel,
        is_party=party,
    )


# ---------------------------------------------------------------- personal data


@register_section("delivery_reports")
def _delivery_reports(db: Session, person: Person) -> list[dict[str, Any]]:
    """The delivery reports the person wrote (their own words about the projects they carried)."""
    rows = db.execute(
        select(DeliveryReport, Initiative.public_id, Initiative.title)
        .join(Initiative, Initiative.id == DeliveryReport.initiative_id)
        .where(DeliveryReport.written_by_person_id == person.id, DeliveryReport.territory_id == person.territory_id)
        .order_by(DeliveryReport.id)
    )
    return [
        {
            "initiative": public_id,
            "initiative_title": title,
            "what_was_done": report.what_was_done,
            "what_changed": report.what_changed,
            "created_at": report.created_at.isoformat(),
        }
        for report, public_id, title in rows
    ]
