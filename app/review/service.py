"""Review and decision: the agents prepare, the executive decides.

Each public function is one step of the workflow (``app.initiatives.workflow``): it checks the
territory (404), the actor's capacity (403), the transition (409, nothing changed), then changes
the initiative, writes one audit entry and tells the promoters, all in the caller's transaction.

The decision deadline does not run while changes are requested or the initiative is on hold:
pausing stamps ``paused_since``; resuming adds the paused days (in the territory's calendar) to
``decision_due_on``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session, aliased

from app.accounts.display import public_name
from app.accounts.models import Person
from app.audit import service as audit
from app.config import Settings
from app.core.actor import SYSTEM, Actor
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.db.base import utcnow
from app.funds.models import Enforcement, Fund, FundEnvelope
from app.initiatives import workflow
from app.initiatives.models import (
    Beneficiary,
    Decision,
    DecisionAct,
    Initiative,
    InitiativeMember,
    ThreadMessage,
)
from app.initiatives.models import InitiativeState as S
from app.initiatives.permissions import ACTING_ROLES
from app.initiatives.workflow import Action
from app.ledger.models import CommitmentLine, LineKind, LineState, Side
from app.review import interests
from app.review import permissions as perm
from app.review.models import CouncilAgendaItem
from app.review.notifications import KIND, ensure_kind
from app.territories.context import TerritoryContext
from app.territories.models import CouncilSitting, Neighbourhood, Territory, Theme
from app.territories.service import local_today
from app.web.forms import clean_text
from app.web.i18n import _, money

if TYPE_CHECKING:
    from app.ledger.service import Balance

MESSAGE_MAX_LENGTH = 5000
REASON_MAX_LENGTH = 2000
QUEUE_STATES = tuple(sorted(perm.QUEUE_STATES, key=list(S).index))
# States in which the decision deadline can be missed.
DEADLINE_STATES = frozenset({S.SUBMITTED, S.IN_REVIEW})


class Outcome(enum.StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"


# ---------------------------------------------------------------- loading and checks


def involvement_of(db: Session, actor: Actor, initiative: Initiative) -> perm.Involvement:
    """Whether the actor acts for the initiative, or is tied to it in any way (one query)."""
    if actor.person_id is None:
        return perm.Involvement()
    acting = exists().where(
        InitiativeMember.initiative_id == initiative.id,
        InitiativeMember.person_id == actor.person_id,
        InitiativeMember.accepted_at.is_not(None),
        InitiativeMember.role.in_([r.value for r in ACTING_ROLES]),
    )
    tied = exists().where(
        InitiativeMember.initiative_id == initiative.id, InitiativeMember.person_id == actor.person_id
    )
    beneficiary = exists().where(Beneficiary.id == initiative.beneficiary_id, Beneficiary.person_id == actor.person_id)
    declared = interests.conflict_exists(actor.person_id, initiative.id, initiative.beneficiary_id)
    member, conflicted = db.execute(select(acting, or_(tied, beneficiary, declared))).one()
    return perm.Involvement(member=bool(member), conflicted=bool(member or conflicted))


def get_initiative(db: Session, actor: Actor, public_id: str) -> Initiative:
    """The initiative of the actor's territory, if the actor may see it; NotFound otherwise."""
    initiative = db.scalar(
        select(Initiative).where(Initiative.public_id == public_id, Initiative.territory_id == actor.territory_id)
    )
    if initiative is None or not perm.can_see(actor, initiative, involvement_of(db, actor, initiative)):
        raise NotFound(_("Cette initiative n'existe pas."))
    return initiative


def visible_involvement(db: Session, actor: Actor, initiative: Initiative) -> perm.Involvement:
    if initiative.territory_id != actor.territory_id:
        raise NotFound(_("Cette initiative n'existe pas."))
    involvement = involvement_of(db, actor, initiative)
    if not perm.can_see(actor, initiative, involvement):
        raise NotFound(_("Cette initiative n'existe pas."))
    return involvement


def lock_initiative(db: Session, initiative: Initiative) -> None:
    """Re-reads the initiative under a row lock (SQLite serialises writers with BEGIN IMMEDIATE)."""
    if db.get_bind().dialect.name != "sqlite":
        db.refresh(initiative, with_for_update=True)


def acting_capacity(db: Session, actor: Actor, initiative: Initiative, action: Action) -> workflow.Actor:
    involvement = visible_involvement(db, actor, initiative)
    capacity = perm.capacity_for(actor, involvement, action)
    if capacity is None:
        if involvement.conflicted and perm.is_staff(actor):
            raise Forbidden(_("Vous êtes porteur·se ou lié·e à cette initiative : vous ne pouvez pas l'instruire."))
        raise Forbidden(_("Votre rôle ne permet pas cette action."))
    lock_initiative(db, initiative)
    return capacity


def territory_timezone(db: Session, territory_id: int) -> ZoneInfo:
    name = db.scalar(select(Territory.timezone).where(Territory.id == territory_id))
    return ZoneInfo(name or "Europe/Paris")


def local_date(moment: dt.datetime, tz: ZoneInfo) -> dt.date:
    if moment.tzinfo is None:  # SQLite hands back naive UTC values
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(tz).date()


def move(
    db: Session,
    actor: Actor,
    initiative: Initiative,
    target: S,
    action: Action,
    *,
    reason: str = "",
    data: dict[str, Any] | None = None,
    settings: Settings | None = None,
) -> None:
    from app.follows.service import tell_state_change  # app.follows builds on the initiatives domain

    previous = initiative.state
    initiative.state = target
    initiative.state_changed_at = utcnow()
    audit.record(
        db,
        actor,
        f"initiative.{action.value}",
        "initiative",
        initiative.public_id,
        territory_id=initiative.territory_id,
        reason=reason,
        data={"from": previous, "to": target.value, **(data or {})},
    )
    db.flush()
    # Followers hear of the steps after the signature (the step itself tells the promoters).
    tell_state_change(db, actor, initiative, target, settings=settings)


def _pause(initiative: Initiative) -> None:
    if initiative.paused_since is None:
        initiative.paused_since = utcnow()


def _resume_deadline(db: Session, initiative: Initiative) -> int:
    """Adds the paused days to the deadline; returns them."""
    if initiative.paused_since is None:
        return 0
    tz = territory_timezone(db, initiative.territory_id)
    days = max(0, (local_date(utcnow(), tz) - local_date(initiative.paused_since, tz)).days)
    if initiative.decision_due_on is not None:
        initiative.decision_due_on += dt.timedelta(days=days)
    initiative.paused_since = None
    return days


# ---------------------------------------------------------------- telling people


def promoter_ids(db: Session, initiative: Initiative) -> list[int]:
    ids = list(
        db.scalars(
            select(InitiativeMember.person_id)
            .where(
                InitiativeMember.initiative_id == initiative.id,
                InitiativeMember.person_id.is_not(None),
                InitiativeMember.accepted_at.is_not(None),
                InitiativeMember.role.in_([r.value for r in ACTING_ROLES]),
            )
            .order_by(InitiativeMember.id)
        )
    )
    return [pid for pid in ids if pid is not None]


def tell(
    db: Session,
    actor: Actor,
    initiative: Initiative,
    person_ids: list[int],
    subject: str,
    body: str,
    settings: Settings | None,
) -> None:
    ensure_kind()
    from app.notifications.service import notify

    for person_id in person_ids:
        if person_id == actor.person_id:
            continue
        notify(
            db,
            territory_id=initiative.territory_id,
            person_id=person_id,
            kind=KIND,
            subject=subject,
            body=body,
            link=f"/initiatives/{initiative.public_id}",
            settings=settings,
        )


def tell_promoters(
    db: Session, actor: Actor, initiative: Initiative, subject: str, body: str, settings: Settings | None
) -> None:
    tell(db, actor, initiative, promoter_ids(db, initiative), subject, body, settings)


# ---------------------------------------------------------------- review steps


def assign_to_me(db: Session, agent: Actor, initiative: Initiative) -> Initiative:
    involvement = visible_involvement(db, agent, initiative)
    if not perm.can_review(agent, involvement):
        raise Forbidden(_("Vous ne pouvez pas instruire cette initiative."))
    lock_initiative(db, initiative)
    if initiative.state not in QUEUE_STATES:
        raise Conflict(
            _("Action impossible : l'initiative est « %(state)s ».") % {"state": workflow.state_label(initiative.state)}
        )
    previous = initiative.assigned_agent_person_id
    if previous == agent.person_id:
        return initiative
    initiative.assigned_agent_person_id = agent.person_id
    audit.record(
        db,
        agent,
        "initiative.assign",
        "initiative",
        initiative.public_id,
        territory_id=initiative.territory_id,
        data={"from_person_id": previous, "to_person_id": agent.person_id},
    )
    db.flush()
    return initiative


def start_review(db: Session, agent: Actor, initiative: Initiative, *, settings: Settings | None = None) -> Initiative:
    capacity = acting_capacity(db, agent, initiative, Action.START_REVIEW)
    target = workflow.target_state(initiative.state, Action.START_REVIEW, capacity)
    if initiative.assigned_agent_person_id is None:
        initiative.assigned_agent_person_id = agent.person_id
    move(db, agent, initiative, target, Action.START_REVIEW)
    tell_promoters(
        db,
        agent,
        initiative,
        _("Votre initiative « %(title)s » est en instruction") % {"title": initiative.title},
        _("Un·e agent·e de la commune étudie votre proposition. Vous pouvez échanger avec la commune sur sa page."),
        settings,
    )
    return initiative


def _required(text: str, field: str, limit: int) -> str:
    value = clean_text(text or "")
    if not value:
        raise Invalid(_("Ce champ est obligatoire."), field=field)
    if len(value) > limit:
        raise Invalid(_("Saisissez au plus %(n)s caractères.") % {"n": limit}, field=field)
    return value


def request_changes(
    db: Session, agent: Actor, initiative: Initiative, message: str, *, settings: Settings | None = None
) -> Initiative:
    """Asks the promoters for changes; the message goes into the thread and the deadline pauses."""
    body = _required(message, "message", MESSAGE_MAX_LENGTH)
    capacity = acting_capacity(db, agent, initiative, Action.REQUEST_CHANGES)
    target = workflow.target_state(initiative.state, Action.REQUEST_CHANGES, capacity)
    _pause(initiative)
    db.add(
        ThreadMessage(
            territory_id=initiative.territory_id,
            initiative_id=initiative.id,
            author_person_id=agent.person_id,
            body=body,
            staff_only=False,
        )
    )
    move(db, agent, initiative, target, Action.REQUEST_CHANGES, reason=body)
    tell_promoters(
        db,
        agent,
        initiative,
        _("Des modifications sont demandées pour « %(title)s »") % {"title": initiative.title},
        body,
        settings,
    )
    return initiative


def resubmit(db: Session, actor: Actor, initiative: Initiative, *, settings: Settings | None = None) -> Initiative:
    """The promoters (or an agent for them) send the initiative back after changes; the deadline resumes."""
    capacity = acting_capacity(db, actor, initiative, Action.RESUBMIT)
    target = workflow.target_state(initiative.state, Action.RESUBMIT, capacity)
    days = _resume_deadline(db, initiative)
    move(db, actor, initiative, target, Action.RESUBMIT, data={"paused_days": days})
    people = promoter_ids(db, initiative)
    if initiative.assigned_agent_person_id is not None:
        people.append(initiative.assigned_agent_person_id)
    tell(
        db,
        actor,
        initiative,
        people,
        _("L'initiative « %(title)s » est de nouveau en instruction") % {"title": initiative.title},
        _("Les modifications ont été envoyées à la commune."),
        settings,
    )
    return initiative


def put_on_hold(
    db: Session,
    agent: Actor,
    initiative: Initiative,
    reason: str,
    resume_on: dt.date | None,
    *,
    settings: Settings | None = None,
) -> Initiative:
    text = _required(reason, "reason", REASON_MAX_LENGTH)
    capacity = acting_capacity(db, agent, initiative, Action.PUT_ON_HOLD)
    if resume_on is not None and resume_on <= local_date(utcnow(), territory_timezone(db, initiative.territory_id)):
        raise Invalid(_("La date de reprise doit être dans le futur."), field="resume_on")
    target = workflow.target_state(initiative.state, Action.PUT_ON_HOLD, capacity)
    _pause(initiative)
    initiative.hold_reason = text
    initiative.resume_on = resume_on
    move(
        db,
        agent,
        initiative,
        target,
        Action.PUT_ON_HOLD,
        reason=text,
        data={"resume_on": resume_on.isoformat() if resume_on else None},
    )
    tell_promoters(
        db,
        agent,
        initiative,
        _("L'instruction de « %(title)s » est mise en pause") % {"title": initiative.title},
        text,
        settings,
    )
    return initiative


def abandon(
    db: Session, agent: Actor, initiative: Initiative, reason: str, *, settings: Settings | None = None
) -> Initiative:
    """An approved project will not be carried out: its envelope money goes back (to the waiting list first)."""
    from app.ledger import service as ledger

    text = _required(reason, "reason", REASON_MAX_LENGTH)
    capacity = acting_capacity(db, agent, initiative, Action.ABANDON)
    target = workflow.target_state(initiative.state, Action.ABANDON, capacity)
    envelope = ledger.envelope_for(db, initiative) if initiative.committed_envelope_id is not None else None
    released = ledger.release_envelope(db, initiative)
    move(db, agent, initiative, target, Action.ABANDON, reason=text, data={"released_cents": released})
    tell_promoters(
        db,
        agent,
        initiative,
        _("L'initiative « %(title)s » est abandonnée") % {"title": initiative.title},
        text,
        settings,
    )
    if envelope is not None and released:
        process_releases(db, envelope, settings=settings)
    return initiative


def resume(db: Session, agent: Actor, initiative: Initiative, *, settings: Settings | None = None) -> Initiative:
    capacity = acting_capacity(db, agent, initiative, Action.RESUME)
    target = workflow.target_state(initiative.state, Action.RESUME, capacity)
    days = _resume_deadline(db, initiative)
    initiative.hold_reason = ""
    initiative.resume_on = None
    move(db, agent, initiative, target, Action.RESUME, data={"paused_days": days})
    tell_promoters(
        db,
        agent,
        initiative,
        _("L'instruction de « %(title)s » reprend") % {"title": initiative.title},
        _("La commune reprend l'étude de votre proposition."),
        settings,
    )
    return initiative


# ---------------------------------------------------------------- the thread


@dataclass(frozen=True)
class ThreadEntry:
    public_id: str
    body: str
    staff_only: bool
    created_at: dt.datetime
    author_name: str
    is_mine: bool


def post_message(
    db: Session,
    actor: Actor,
    initiative: Initiative,
    body: str,
    staff_only: bool = False,
    *,
    settings: Settings | None = None,
) -> ThreadMessage:
    """A message of the shared thread, or a staff-only note (staff who are not tied to it)."""
    text = _required(body, "body", MESSAGE_MAX_LENGTH)
    involvement = visible_involvement(db, actor, initiative)
    if not perm.can_post(actor, involvement, staff_only=staff_only):
        raise Forbidden(_("Vous ne pouvez pas écrire ici."))
    message = ThreadMessage(
        territory_id=initiative.territory_id,
        initiative_id=initiative.id,
        author_person_id=actor.person_id,
        body=text,
        staff_only=staff_only,
    )
    db.add(message)
    db.flush()
    audit.record(
        db,
        actor,
        "initiative.message",
        "initiative",
        initiative.public_id,
        territory_id=initiative.territory_id,
        data={"message": message.public_id, "staff_only": staff_only},
    )
    if not staff_only:
        people = promoter_ids(db, initiative)
        if initiative.assigned_agent_person_id is not None:
            people.append(initiative.assigned_agent_person_id)
        tell(
            db,
            actor,
            initiative,
            people,
            _("Nouveau message sur « %(title)s »") % {"title": initiative.title},
            text,
            settings,
        )
    return message


def thread(db: Session, viewer: Actor, initiative: Initiative) -> list[ThreadEntry]:
    """The messages the viewer may read, oldest first, with their authors' names (one query)."""
    involvement = visible_involvement(db, viewer, initiative)
    staff_view = perm.can_read_staff_notes(viewer, involvement)
    query = (
        select(ThreadMessage, Person)
        .outerjoin(Person, Person.id == ThreadMessage.author_person_id)
        .where(ThreadMessage.initiative_id == initiative.id, ThreadMessage.territory_id == initiative.territory_id)
        .order_by(ThreadMessage.created_at, ThreadMessage.id)
    )
    if not staff_view:
        query = query.where(ThreadMessage.staff_only.is_(False))
    entries = []
    for message, person in db.execute(query):
        if person is None:
            name = _("compte supprimé")
        else:
            name = person.display_name if staff_view and person.anonymised_at is None else public_name(person)
        entries.append(
            ThreadEntry(
                public_id=message.public_id,
                body=message.body,
                staff_only=message.staff_only,
                created_at=message.created_at,
                author_name=name,
                is_mine=person is not None and person.id == viewer.person_id,
            )
        )
    return entries


# ---------------------------------------------------------------- the decision


def jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    return value


def active_lines(db: Session, initiative: Initiative) -> list[CommitmentLine]:
    return list(
        db.scalars(
            select(CommitmentLine)
            .where(CommitmentLine.initiative_id == initiative.id, CommitmentLine.state != LineState.CANCELLED)
            .order_by(CommitmentLine.id)
        )
    )


def _snapshot(balance: Balance, lines: list[CommitmentLine]) -> dict[str, Any]:
    return {
        "balance": jsonable(balance),
        "lines": [
            {
                "side": line.side,
                "kind": line.kind,
                "label": line.label,
                "quantity": line.quantity,
                "unit": line.unit,
                "unit_value_cents": line.unit_value_cents,
                "rate_id": line.rate_id,
                "value_cents": line.value_cents,
                "is_town_cash": line.is_town_cash,
            }
            for line in lines
        ],
    }


def needs_deliberation(lines: list[CommitmentLine]) -> bool:
    """A subsidy to a legal person cannot be delegated to the mayor (art. L2311-7 CGCT)."""
    return any(line.side == Side.TOWN and line.kind == LineKind.SUBSIDY for line in lines)


def broken_rules(balance: Balance) -> list[str]:
    broken = []
    if not balance.match_ok:
        broken.append("match")
    if not balance.cap_ok:
        broken.append("cap")
    return broken


def _sitting_id(db: Session, initiative: Initiative, sitting_public_id: str | None) -> int | None:
    if not sitting_public_id:
        return None
    sitting_id = db.scalar(
        select(CouncilSitting.id).where(
            CouncilSitting.public_id == sitting_public_id, CouncilSitting.territory_id == initiative.territory_id
        )
    )
    if sitting_id is None:
        raise Invalid(_("Choisissez une séance du conseil de la liste."), field="sitting")
    return sitting_id


def decide(
    db: Session,
    executive: Actor,
    initiative: Initiative,
    outcome: str,
    act_kind: str = DecisionAct.DECISION,
    act_reference: str = "",
    sitting_public_id: str | None = None,
    decided_on: dt.date | None = None,
    reason: str = "",
    override_reason: str = "",
    waiting_list: bool = False,
    *,
    settings: Settings | None = None,
) -> Decision:
    """The executive approves (committing the envelope, or joining its waiting list) or declines.

    Everything is checked before anything changes: a refused decision leaves no trace.
    """
    from app.ledger import service as ledger
    from app.review import agenda, checklist

    involvement = visible_involvement(db, executive, initiative)
    if not perm.can_decide(executive, involvement):
        if involvement.conflicted:
            raise Forbidden(_("Vous êtes porteur·se ou lié·e à cette initiative : vous ne pouvez pas en décider."))
        raise Forbidden(_("Seul l'exécutif de la commune décide."))
    lock_initiative(db, initiative)
    if outcome not in {o.value for o in Outcome}:
        raise Invalid(_("Choisissez une des valeurs proposées."), field="outcome")
    if act_kind not in {a.value for a in DecisionAct}:
        raise Invalid(_("Choisissez une des valeurs proposées."), field="act_kind")
    action = Action.APPROVE if outcome == Outcome.APPROVE else Action.DECLINE
    workflow.target_state(initiative.state, action, workflow.Actor.EXECUTIVE)
    checklist.guard_decision(db, initiative, outcome)
    reference = clean_text(act_reference or "")[:100]
    reason_text = clean_text(reason or "")[:MESSAGE_MAX_LENGTH]
    override_text = clean_text(override_reason or "")[:MESSAGE_MAX_LENGTH]
    tz = territory_timezone(db, initiative.territory_id)
    decided_on = decided_on or local_date(utcnow(), tz)
    if decided_on > local_date(utcnow(), tz):
        raise Invalid(_("La date de la décision ne peut pas être dans le futur."), field="decided_on")
    if act_kind == DecisionAct.DELIBERATION and not reference:
        raise Invalid(_("Indiquez le numéro de la délibération."), field="act_reference")
    sitting_id = _sitting_id(db, initiative, sitting_public_id)
    lines = active_lines(db, initiative)
    balance = ledger.balance(db, initiative)
    audit_data: dict[str, Any] = {"act_kind": act_kind, "act_reference": reference}
    if outcome == Outcome.DECLINE:
        if not reason_text:
            raise Invalid(_("Expliquez aux porteur·ses de projet pourquoi l'initiative est refusée."), field="reason")
        target = workflow.target_state(initiative.state, Action.DECLINE, workflow.Actor.EXECUTIVE)
        if initiative.committed_cents:
            ledger.release_envelope(db, initiative)
        initiative.decline_reason = reason_text
    else:
        broken = broken_rules(balance)
        if broken and balance.enforcement == Enforcement.BLOCK and not override_text:
            raise Invalid(
                _("Une règle du dispositif n'est pas respectée : une raison écrite est nécessaire pour passer outre."),
                field="override_reason",
            )
        if needs_deliberation(lines) and act_kind != DecisionAct.DELIBERATION:
            raise Invalid(
                _(
                    "Une subvention à une personne morale ne peut pas être déléguée au maire (art. L2311-7 du CGCT) : "
                    "l'acte doit être une délibération du conseil municipal."
                ),
                field="act_kind",
            )
        if broken:
            audit_data.update(broken=broken, enforcement=balance.enforcement, override_reason=override_text)
        amount = balance.town_cash_cents - initiative.committed_cents
        if amount <= 0 or ledger.commit_envelope(db, initiative, amount):
            action = Action.APPROVE
        elif waiting_list:
            action = Action.APPROVE_WAITING
        else:
            raise Conflict(_envelope_short(balance.envelope_left_cents))
        target = workflow.target_state(initiative.state, action, workflow.Actor.EXECUTIVE)
    decision = Decision(
        territory_id=initiative.territory_id,
        initiative_id=initiative.id,
        outcome=target.value,
        act_kind=act_kind,
        act_reference=reference,
        sitting_id=sitting_id,
        decided_on=decided_on,
        decided_by_person_id=executive.person_id,
        reason=reason_text,
        override_reason=override_text,
        snapshot=_snapshot(balance, lines),
    )
    db.add(decision)
    db.flush()
    agenda.close(db, executive, initiative, decision)  # no longer awaiting the council sitting
    initiative.decided_at = utcnow()
    audit_data["decision"] = decision.public_id
    move(db, executive, initiative, target, action, reason=override_text or reason_text, data=audit_data)
    tell_promoters(db, executive, initiative, *_decision_message(initiative, target, reason_text), settings)
    return decision


def _envelope_short(left_cents: int | None) -> str:
    if left_cents is None:
        return _(
            "Aucune enveloppe n'est ouverte pour ce dispositif et cet exercice : l'initiative ne peut pas être engagée."
        )
    return _("L'enveloppe du dispositif ne suffit pas : il reste %(left)s.") % {"left": money(max(0, left_cents))}


def _decision_message(initiative: Initiative, target: S, reason: str) -> tuple[str, str]:
    title = {"title": initiative.title}
    if target == S.APPROVED:
        return (
            _("Votre initiative « %(title)s » est acceptée") % title,
            _("La commune s'engage à vos côtés. La prochaine étape est la convention."),
        )
    if target == S.AWAITING_ENVELOPE:
        return (
            _("Votre initiative « %(title)s » est acceptée, en attente de crédits") % title,
            _(
                "L'enveloppe du dispositif est épuisée pour le moment : votre initiative passera dès que des "
                "crédits se libéreront, dans l'ordre d'arrivée."
            ),
        )
    return _("Votre initiative « %(title)s » n'est pas retenue") % title, reason


def process_releases(db: Session, envelope: FundEnvelope, *, settings: Settings | None = None) -> list[Initiative]:
    """Commits freed money to the initiatives waiting for this envelope, first come first served."""
    from app.ledger import service as ledger

    released: list[Initiative] = []
    for waiting in ledger.next_waiting(db, envelope):
        initiative = waiting.initiative
        lock_initiative(db, initiative)
        target = workflow.target_state(initiative.state, Action.ENVELOPE_RELEASED, workflow.Actor.SYSTEM)
        if not ledger.commit_envelope(db, initiative, max(0, waiting.amount_cents)):
            break  # first come, first served: the next ones wait behind this one
        system = dataclasses.replace(SYSTEM, territory_id=initiative.territory_id)
        move(db, system, initiative, target, Action.ENVELOPE_RELEASED, data={"amount_cents": waiting.amount_cents})
        tell_promoters(
            db,
            system,
            initiative,
            _("Des crédits se sont libérés pour « %(title)s »") % {"title": initiative.title},
            _("Votre initiative acceptée est maintenant financée. La prochaine étape est la convention."),
            settings,
        )
        released.append(initiative)
    return released


# ---------------------------------------------------------------- the agents' queue


@dataclass(frozen=True)
class QueueFilters:
    state: str = ""
    neighbourhood: str = ""  # public ids
    theme: str = ""
    fund: str = ""
    mine: bool = False
    # "Awaiting the council sitting" is not a state: the initiatives placed on a sitting's agenda.
    council: bool = False

    def query(self) -> dict[str, str]:
        values = {"state": self.state, "neighbourhood": self.neighbourhood, "theme": self.theme, "fund": self.fund}
        if self.mine:
            values["mine"] = "1"
        if self.council:
            values["council"] = "1"
        return {k: v for k, v in values.items() if v}


@dataclass(frozen=True)
class QueueRow:
    id: int
    public_id: str
    title: str
    state: str
    state_label: str
    neighbourhood: str
    theme: str
    fund: str
    assignee: str
    assigned_to_me: bool
    conflicted: bool
    submitted_at: dt.datetime | None
    waiting_days: int | None
    decision_due_on: dt.date | None
    paused: bool
    overdue: bool


@dataclass(frozen=True)
class QueueOptions:
    states: list[tuple[str, str]]
    neighbourhoods: list[tuple[str, str]]
    themes: list[tuple[str, str]]
    funds: list[tuple[str, str]]


def _queue_query(viewer: Actor, territory_id: int) -> Any:
    assignee = aliased(Person)
    member = exists().where(
        InitiativeMember.initiative_id == Initiative.id, InitiativeMember.person_id == viewer.person_id
    )
    declared = interests.conflict_exists(viewer.person_id, Initiative.id, Initiative.beneficiary_id)
    conflicted = or_(member, Beneficiary.person_id == viewer.person_id, declared)
    return (
        select(
            Initiative.id,
            Initiative.public_id,
            Initiative.title,
            Initiative.state,
            Initiative.submitted_at,
            Initiative.decision_due_on,
            Initiative.paused_since,
            Initiative.assigned_agent_person_id,
            Neighbourhood.name,
            Theme.name,
            Fund.name,
            assignee.display_name,
            conflicted.label("conflicted"),
        )
        .outerjoin(Neighbourhood, Neighbourhood.id == Initiative.neighbourhood_id)
        .outerjoin(Theme, Theme.id == Initiative.theme_id)
        .outerjoin(Fund, Fund.id == Initiative.fund_id)
        .outerjoin(assignee, assignee.id == Initiative.assigned_agent_person_id)
        .outerjoin(Beneficiary, Beneficiary.id == Initiative.beneficiary_id)
        .where(Initiative.territory_id == territory_id, Initiative.state.in_([s.value for s in QUEUE_STATES]))
    )


def _row(viewer: Actor, today: dt.date, tz: ZoneInfo, values: Any) -> QueueRow:
    (iid, public_id, title, state, submitted_at, due, paused_since, assignee_id) = values[:8]
    neighbourhood, theme, fund, assignee, conflicted = values[8:]
    paused = paused_since is not None or state in workflow.PAUSED_STATES
    return QueueRow(
        id=iid,
        public_id=public_id,
        title=title,
        state=state,
        state_label=workflow.state_label(state),
        neighbourhood=neighbourhood or "",
        theme=theme or "",
        fund=fund or "",
        assignee=assignee or "",
        assigned_to_me=assignee_id is not None and assignee_id == viewer.person_id,
        conflicted=bool(conflicted),
        submitted_at=submitted_at,
        waiting_days=(today - local_date(submitted_at, tz)).days if submitted_at else None,
        decision_due_on=due,
        paused=paused,
        overdue=due is not None and due < today and not paused and state in DEADLINE_STATES,
    )


def queue(db: Session, viewer: Actor, territory: TerritoryContext, filters: QueueFilters) -> list[QueueRow]:
    """The initiatives waiting for the town, oldest submission first, in one query."""
    query = _queue_query(viewer, territory.id)
    if filters.state in {s.value for s in QUEUE_STATES}:
        query = query.where(Initiative.state == filters.state)
    if filters.neighbourhood:
        query = query.where(Neighbourhood.public_id == filters.neighbourhood)
    if filters.theme:
        query = query.where(Theme.public_id == filters.theme)
    if filters.fund:
        query = query.where(Fund.public_id == filters.fund)
    if filters.mine:
        query = query.where(Initiative.assigned_agent_person_id == viewer.person_id)
    if filters.council:
        query = query.where(
            exists().where(
                CouncilAgendaItem.initiative_id == Initiative.id,
                CouncilAgendaItem.territory_id == territory.id,
            )
        )
    query = query.order_by(Initiative.submitted_at.is_(None), Initiative.submitted_at, Initiative.id)
    today = local_today(territory)
    tz = ZoneInfo(territory.timezone)
    return [_row(viewer, today, tz, values) for values in db.execute(query)]


def queue_row(db: Session, viewer: Actor, territory: TerritoryContext, initiative: Initiative) -> QueueRow:
    values = db.execute(_queue_query(viewer, territory.id).where(Initiative.id == initiative.id)).one_or_none()
    if values is None:
        raise NotFound(_("Cette initiative n'est plus dans la file d'instruction."))
    return _row(viewer, local_today(territory), ZoneInfo(territory.timezone), values)


def queue_options(db: Session, territory_id: int) -> QueueOptions:
    neighbourhoods = db.execute(
        select(Neighbourhood.public_id, Neighbourhood.name)
        .where(Neighbourhood.territory_id == territory_id)
        .order_by(Neighbourhood.position, Neighbourhood.name)
    )
    themes = db.execute(
        select(Theme.public_id, Theme.name)
        .where(Theme.territory_id == territory_id)
        .order_by(Theme.position, Theme.name)
    )
    funds = db.execute(select(Fund.public_id, Fund.name).where(Fund.territory_id == territory_id).order_by(Fund.name))
    return QueueOptions(
        states=[(s.value, workflow.state_label(s)) for s in QUEUE_STATES],
        neighbourhoods=[(p, n) for p, n in neighbourhoods],
        themes=[(p, n) for p, n in themes],
        funds=[(p, n) for p, n in funds],
    )


# ---------------------------------------------------------------- what the pages show


def review_panel(db: Session, viewer: Actor, initiative: Initiative) -> perm.ReviewPanel:
    """The actions offered to this viewer, knowing exactly how they stand towards the initiative."""
    return perm.panel(viewer, initiative, visible_involvement(db, viewer, initiative))


@dataclass(frozen=True)
class DecisionPage:
    initiative: Initiative
    balance: Balance
    envelope_left_cents: int | None
    needs_deliberation: bool
    broken: list[str]
    sittings: list[tuple[str, str]]


def decision_page(db: Session, executive: Actor, initiative: Initiative) -> DecisionPage:
    """What the executive needs on screen before deciding (the ledger's balance, the act's options)."""
    from app.ledger import service as ledger

    involvement = visible_involvement(db, executive, initiative)
    if not perm.can_decide(executive, involvement):
        raise Forbidden(_("Vous ne pouvez pas décider de cette initiative."))
    balance = ledger.balance(db, initiative)
    sittings = db.execute(
        select(CouncilSitting.public_id, CouncilSitting.sitting_date, CouncilSitting.title)
        .where(CouncilSitting.territory_id == initiative.territory_id)
        .order_by(CouncilSitting.sitting_date.desc())
        .limit(24)
    )
    return DecisionPage(
        initiative=initiative,
        balance=balance,
        envelope_left_cents=balance.envelope_left_cents,
        needs_deliberation=needs_deliberation(active_lines(db, initiative)),
        broken=broken_rules(balance),
        sittings=[(p, f"{d.isoformat()} — {t}") for p, d, t in sittings],
    )
