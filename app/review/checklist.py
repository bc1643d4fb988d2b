"""The review checklist: the points an initiative is checked against before the decision.

Each fund has its list of points (``FundChecklistItem``); the default fund gets the usual ones
on first use. An initiative's own list (``ReviewItem``) is copied from its fund's the first time
an agent works on it, and agents may add points. A point may ask for the opinion of a town
service (the agent following it up is told, with a due date); it is then done (with the opinion)
or waived with a written reason. The executive cannot approve while a point is open (decline
stays possible): ``guard_decision`` is called by ``app.review.service.decide``.

Every change is one function here, with one audit entry, in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, exists, func, not_, or_, select
from sqlalchemy.orm import Session

from app.accounts.models import Account, Person, Role, RoleGrant
from app.audit import service as audit
from app.config import Settings
from app.core.actor import Actor
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.db.base import utcnow
from app.funds.models import Fund
from app.initiatives.models import Beneficiary, Initiative, InitiativeMember
from app.initiatives.models import InitiativeState as S
from app.review import interests
from app.review import permissions as perm
from app.review import service as review
from app.review.models import FundChecklistItem, ItemState, ReviewItem
from app.review.notifications import KIND, ensure_kind
from app.web.forms import clean_text
from app.web.i18n import N_, _

LABEL_MAX_LENGTH = 200
TEXT_MAX_LENGTH = 5000
# The states in which the checklist is worked on; it is frozen once the decision is taken.
EDITABLE_STATES = frozenset({S.SUBMITTED, S.IN_REVIEW, S.CHANGES_REQUESTED, S.ON_HOLD})
# The usual points for a fifty-fifty project (data, in the town's language, like the fund's name).
DEFAULT_ITEMS = (
    "Accord du propriétaire du terrain",
    "Occupation du domaine public",
    "Déclaration préalable d'urbanisme",
    "Périmètre de protection du patrimoine (avis de l'architecte des Bâtiments de France)",
    "Normes de sécurité des aires et équipements de jeux",
    "Assurance (responsabilité civile du porteur ou de la porteuse de projet)",
)
STATE_LABELS = {ItemState.OPEN: N_("à traiter"), ItemState.DONE: N_("fait"), ItemState.WAIVED: N_("sans objet")}


class OpinionRequestInput(BaseModel):
    """The form asking a town service for its opinion on a point."""

    model_config = ConfigDict(extra="ignore")

    service_name: str = Field(min_length=1, max_length=LABEL_MAX_LENGTH)
    assignee: str = Field(min_length=1, max_length=40)
    due_on: dt.date


def state_label(state: str) -> str:
    return _(STATE_LABELS[ItemState(state)])


# ---------------------------------------------------------------- the fund's points


def _is_default_fund(db: Session, fund_id: int) -> bool:
    from app.funds.service import DEFAULT_FUND_NAME

    return db.scalar(select(Fund.name).where(Fund.id == fund_id)) == DEFAULT_FUND_NAME


def seed_fund_checklist(db: Session, fund: Fund) -> list[FundChecklistItem]:
    """Gives a fund the usual points, unless it already has some."""
    existing = list(
        db.scalars(
            select(FundChecklistItem).where(FundChecklistItem.fund_id == fund.id).order_by(FundChecklistItem.position)
        )
    )
    if existing:
        return existing
    items = [
        FundChecklistItem(territory_id=fund.territory_id, fund_id=fund.id, label=label, position=position)
        for position, label in enumerate(DEFAULT_ITEMS, start=1)
    ]
    db.add_all(items)
    db.flush()
    return items


def fund_labels(db: Session, initiative: Initiative) -> list[str]:
    """The points of the initiative's fund (the usual ones for the default fund not yet seeded)."""
    if initiative.fund_id is None:
        return []
    labels = list(
        db.scalars(
            select(FundChecklistItem.label)
            .where(FundChecklistItem.fund_id == initiative.fund_id)
            .order_by(FundChecklistItem.position, FundChecklistItem.id)
        )
    )
    if not labels and _is_default_fund(db, initiative.fund_id):
        return list(DEFAULT_ITEMS)
    return labels


def _has_items(db: Session, initiative: Initiative) -> bool:
    return bool(db.scalar(select(exists().where(ReviewItem.initiative_id == initiative.id))))


def _ensure_items(db: Session, actor: Actor, initiative: Initiative) -> None:
    """Copies the fund's points onto the initiative, the first time someone works on its checklist."""
    if _has_items(db, initiative):
        return
    if initiative.fund_id is not None and _is_default_fund(db, initiative.fund_id):
        fund = db.get_one(Fund, initiative.fund_id)
        seed_fund_checklist(db, fund)
    labels = fund_labels(db, initiative)
    for position, label in enumerate(labels, start=1):
        db.add(
            ReviewItem(
                territory_id=initiative.territory_id,
                initiative_id=initiative.id,
                label=label,
                position=position,
                state=ItemState.OPEN,
                created_by_person_id=actor.person_id,
            )
        )
    db.flush()


# ---------------------------------------------------------------- the guard on the decision


def open_labels(db: Session, initiative: Initiative) -> list[str]:
    """The points still open (the fund's points, if the initiative's list was never started)."""
    if not _has_items(db, initiative):
        return fund_labels(db, initiative)
    return list(
        db.scalars(
            select(ReviewItem.label)
            .where(ReviewItem.initiative_id == initiative.id, ReviewItem.state == ItemState.OPEN)
            .order_by(ReviewItem.position, ReviewItem.id)
        )
    )


def guard_decision(db: Session, initiative: Initiative, outcome: str) -> None:
    """An approval waits until every point is done or waived; a decline does not."""
    if outcome != "approve":
        return
    labels = open_labels(db, initiative)
    if labels:
        raise Conflict(_("Des points de l'instruction restent ouverts : %(items)s.") % {"items": " ; ".join(labels)})


# ---------------------------------------------------------------- checks


def _reviewer(db: Session, actor: Actor, initiative: Initiative) -> None:
    """NotFound for who may not see the checklist (residents), Forbidden for conflicted staff."""
    involvement = review.visible_involvement(db, actor, initiative)
    if not perm.is_staff(actor):
        raise NotFound(_("Cette page n'existe pas."))
    if not perm.can_review(actor, involvement):
        raise Forbidden(_("Vous êtes porteur·se ou lié·e à cette initiative : vous ne pouvez pas l'instruire."))


def _editable(db: Session, actor: Actor, initiative: Initiative) -> None:
    _reviewer(db, actor, initiative)
    review.lock_initiative(db, initiative)
    if initiative.state not in EDITABLE_STATES:
        raise Conflict(_("La décision est prise : les points de l'instruction ne peuvent plus changer."))
    _ensure_items(db, actor, initiative)


def _item(db: Session, initiative: Initiative, public_id: str) -> ReviewItem:
    item = db.scalar(
        select(ReviewItem).where(
            ReviewItem.public_id == public_id,
            ReviewItem.initiative_id == initiative.id,
            ReviewItem.territory_id == initiative.territory_id,
        )
    )
    if item is None:
        raise NotFound(_("Ce point de l'instruction n'existe pas."))
    return item


def _text(value: str, field: str, limit: int, *, required: bool) -> str:
    text = clean_text(value or "")
    if required and not text:
        raise Invalid(_("Ce champ est obligatoire."), field=field)
    if len(text) > limit:
        raise Invalid(_("Saisissez au plus %(n)s caractères.") % {"n": limit}, field=field)
    return text


def _record(db: Session, actor: Actor, action: str, item: ReviewItem, initiative: Initiative, **kw: object) -> None:
    reason = str(kw.pop("reason", ""))
    audit.record(
        db,
        actor,
        f"review_item.{action}",
        "review_item",
        item.public_id,
        territory_id=initiative.territory_id,
        reason=reason,
        data={"initiative": initiative.public_id, "label": item.label, **kw},
    )


# ---------------------------------------------------------------- the agents' steps


def start(db: Session, agent: Actor, initiative: Initiative) -> None:
    """Copies the fund's points onto the initiative (also done by every other step)."""
    _editable(db, agent, initiative)


def add_item(db: Session, agent: Actor, initiative: Initiative, label: str) -> ReviewItem:
    text = _text(label, "label", LABEL_MAX_LENGTH, required=True)
    _editable(db, agent, initiative)
    last = db.scalar(select(func.max(ReviewItem.position)).where(ReviewItem.initiative_id == initiative.id))
    item = ReviewItem(
        territory_id=initiative.territory_id,
        initiative_id=initiative.id,
        label=text,
        position=(last or 0) + 1,
        state=ItemState.OPEN,
        created_by_person_id=agent.person_id,
    )
    db.add(item)
    db.flush()
    _record(db, agent, "add", item, initiative)
    return item


def _assignee_query(initiative: Initiative) -> Select[int, str, str]:
    """The territory's agents who are not tied to the initiative (nor withdrew from it)."""
    member = exists().where(InitiativeMember.initiative_id == initiative.id, InitiativeMember.person_id == Person.id)
    beneficiary = exists().where(Beneficiary.id == initiative.beneficiary_id, Beneficiary.person_id == Person.id)
    declared = interests.conflict_exists(Person.id, initiative.id, initiative.beneficiary_id)
    return (
        select(Person.id, Person.public_id, Person.display_name)
        .join(Account, Account.person_id == Person.id)
        .join(RoleGrant, RoleGrant.account_id == Account.id)
        .where(
            Person.territory_id == initiative.territory_id,
            Person.anonymised_at.is_(None),
            Account.disabled_at.is_(None),
            RoleGrant.role == Role.AGENT.value,
            RoleGrant.revoked_at.is_(None),
            not_(or_(member, beneficiary, declared)),
        )
        .distinct()
        .order_by(Person.display_name, Person.id)
    )


def assignee_choices(db: Session, initiative: Initiative) -> list[tuple[str, str]]:
    return [(public_id, name) for _id, public_id, name in db.execute(_assignee_query(initiative))]


def request_opinion(
    db: Session,
    agent: Actor,
    initiative: Initiative,
    item_public_id: str,
    service_name: str,
    assignee_public_id: str,
    due_on: dt.date | None,
    *,
    settings: Settings | None = None,
) -> ReviewItem:
    """Asks a town service for its opinion on the point; the agent following it up is told."""
    service = _text(service_name, "service_name", LABEL_MAX_LENGTH, required=True)
    _editable(db, agent, initiative)
    item = _item(db, initiative, item_public_id)
    if item.state != ItemState.OPEN:
        raise Conflict(_("Ce point est déjà traité."))
    assignees = {public_id: pid for pid, public_id, _name in db.execute(_assignee_query(initiative))}
    if assignee_public_id not in assignees:
        raise Invalid(_("Choisissez une des valeurs proposées."), field="assignee")
    if due_on is None:
        raise Invalid(_("Ce champ est obligatoire."), field="due_on")
    if due_on < review.local_date(utcnow(), review.territory_timezone(db, initiative.territory_id)):
        raise Invalid(_("La date d'échéance ne peut pas être dans le passé."), field="due_on")
    assignee_id = assignees[assignee_public_id]
    item.service_name = service
    item.assignee_person_id = assignee_id
    item.due_on = due_on
    item.requested_at = utcnow()
    item.requested_by_person_id = agent.person_id
    db.flush()
    _record(
        db, agent, "request_opinion", item, initiative,
        service_name=service, assignee_person_id=assignee_id, due_on=due_on.isoformat(),
    )  # fmt: skip
    _tell_assignee(db, item, initiative, assignee_id, settings)
    return item


def _tell_assignee(
    db: Session, item: ReviewItem, initiative: Initiative, person_id: int, settings: Settings | None
) -> None:
    ensure_kind()
    from app.notifications.service import notify

    due = item.due_on.strftime("%d/%m/%Y") if item.due_on else ""
    notify(
        db,
        territory_id=initiative.territory_id,
        person_id=person_id,
        kind=KIND,
        subject=_("Avis à recueillir pour « %(title)s »") % {"title": initiative.title},
        body=_("Point « %(label)s » : avis du service %(service)s attendu pour le %(due)s.")
        % {"label": item.label, "service": item.service_name, "due": due},
        link=f"/initiatives/{initiative.public_id}/points-de-controle",
        settings=settings,
    )


def complete_item(db: Session, agent: Actor, initiative: Initiative, item_public_id: str, opinion: str) -> ReviewItem:
    """The point is done; when a service's opinion was asked, it is recorded here."""
    text = _text(opinion, "opinion", TEXT_MAX_LENGTH, required=False)
    _editable(db, agent, initiative)
    item = _item(db, initiative, item_public_id)
    if item.state != ItemState.OPEN:
        raise Conflict(_("Ce point est déjà traité."))
    if item.requested_at is not None and not text:
        raise Invalid(_("Saisissez l'avis du service consulté."), field="opinion")
    item.state = ItemState.DONE
    item.opinion = text
    item.done_at = utcnow()
    item.done_by_person_id = agent.person_id
    db.flush()
    _record(db, agent, "done", item, initiative, with_opinion=bool(text))
    return item


def waive_item(db: Session, agent: Actor, initiative: Initiative, item_public_id: str, reason: str) -> ReviewItem:
    """The point does not apply to this initiative: a written reason is required."""
    text = _text(reason, "reason", TEXT_MAX_LENGTH, required=True)
    _editable(db, agent, initiative)
    item = _item(db, initiative, item_public_id)
    if item.state != ItemState.OPEN:
        raise Conflict(_("Ce point est déjà traité."))
    item.state = ItemState.WAIVED
    item.waiver_reason = text
    item.done_at = utcnow()
    item.done_by_person_id = agent.person_id
    db.flush()
    _record(db, agent, "waive", item, initiative, reason=text)
    return item


def reopen_item(db: Session, agent: Actor, initiative: Initiative, item_public_id: str) -> ReviewItem:
    """A point done or waived by mistake is open again (its opinion is kept)."""
    _editable(db, agent, initiative)
    item = _item(db, initiative, item_public_id)
    if item.state == ItemState.OPEN:
        raise Conflict(_("Ce point est déjà à traiter."))
    previous = item.state
    item.state = ItemState.OPEN
    item.waiver_reason = ""
    item.done_at = None
    item.done_by_person_id = None
    db.flush()
    _record(db, agent, "reopen", item, initiative, previous=previous)
    return item


# ---------------------------------------------------------------- what the pages show


@dataclass(frozen=True)
class ItemView:
    public_id: str
    label: str
    state: str
    state_label: str
    waiver_reason: str
    service_name: str
    assignee_name: str
    assigned_to_me: bool
    due_on: dt.date | None
    overdue: bool
    requested: bool
    opinion: str
    done_at: dt.datetime | None
    done_by_name: str


@dataclass(frozen=True)
class ChecklistView:
    initiative_public_id: str
    items: list[ItemView]
    proposed: list[str]  # the fund's points, before the initiative's own list is started
    open_count: int
    can_edit: bool
    assignees: list[tuple[str, str]]


def checklist_view(db: Session, viewer: Actor, initiative: Initiative) -> ChecklistView:
    """The initiative's points with the names the page shows (two queries and the agents' list)."""
    _reviewer(db, viewer, initiative)
    rows = list(
        db.scalars(
            select(ReviewItem)
            .where(ReviewItem.initiative_id == initiative.id, ReviewItem.territory_id == initiative.territory_id)
            .order_by(ReviewItem.position, ReviewItem.id)
        )
    )
    ids = {pid for r in rows for pid in (r.assignee_person_id, r.done_by_person_id) if pid is not None}
    names: dict[int, str] = {}
    if ids:
        names = {
            pid: name for pid, name in db.execute(select(Person.id, Person.display_name).where(Person.id.in_(ids)))
        }
    today = review.local_date(utcnow(), review.territory_timezone(db, initiative.territory_id))
    items = [
        ItemView(
            public_id=r.public_id,
            label=r.label,
            state=r.state,
            state_label=state_label(r.state),
            waiver_reason=r.waiver_reason,
            service_name=r.service_name,
            assignee_name=names.get(r.assignee_person_id, "") if r.assignee_person_id else "",
            assigned_to_me=r.assignee_person_id is not None and r.assignee_person_id == viewer.person_id,
            due_on=r.due_on,
            overdue=r.state == ItemState.OPEN and r.due_on is not None and r.due_on < today,
            requested=r.requested_at is not None,
            opinion=r.opinion,
            done_at=r.done_at,
            done_by_name=names.get(r.done_by_person_id, "") if r.done_by_person_id else "",
        )
        for r in rows
    ]
    editable = initiative.state in EDITABLE_STATES
    proposed = [] if rows else fund_labels(db, initiative)
    return ChecklistView(
        initiative_public_id=initiative.public_id,
        items=items,
        proposed=proposed,
        open_count=sum(1 for i in items if i.state == ItemState.OPEN) + len(proposed),
        can_edit=editable,
        assignees=assignee_choices(db, initiative) if editable and rows else [],
    )


def panel(db: Session, viewer: Actor | None, initiative: Initiative) -> ChecklistView | None:
    """The checklist for the workspace page, or None when the viewer may not work on it."""
    if viewer is None or not perm.is_staff(viewer) or viewer.territory_id != initiative.territory_id:
        return None
    try:
        return checklist_view(db, viewer, initiative)
    except (Forbidden, NotFound):
        return None
